"""The framework's error tree, and the signals that are not errors.

An error's class says what failed, and so what the run does with it:

    HarvesterError
    ├── UsageError          the run cannot be built: nothing runs, no output is touched  (exit 2)
    │   ├── ConfigError     a config value or option is wrong: names file, key, problem
    │   ├── PluginError     a plugin cannot load or a name is unknown
    │   ├── LockedError     another run holds the state or an output
    │   └── StaleJournal    an interrupted run cannot be resumed (--discard-journal)
    ├── TargetError         one target (file, page) fails; the others go on            (exit 3)
    │   ├── InputError      input that cannot be understood: names file:line or the URL
    │   └── FetchError      a URL could not be fetched (subclasses say why)
    └── OutputError         an output cannot be written: the run stops                 (exit 1)
        ├── SinkError       a sink could not open, write or commit; previous output intact
        └── StateError      the run state could not be read or saved

Signals are not failures; they carry a decision from deep inside a source to the run:
`RejectEntry` (one entry becomes a reject), `Unchanged` (HTTP 304: nothing to read) and
`Deferred` (a host asked us to come back later: its targets wait for a later run).

Library code raises these; `harvester.cli` alone turns them into messages and exit statuses,
through `exit_status()`.
"""

from __future__ import annotations

import datetime as dt

EXIT_OK, EXIT_FATAL, EXIT_USAGE, EXIT_PARTIAL = 0, 1, 2, 3


class HarvesterError(Exception):
    """Base class of every error the framework raises on purpose."""

    exit_status = EXIT_FATAL


# -- usage: raised while a run is built, before any output is opened ---------------------------


class UsageError(HarvesterError):
    """The run cannot be built as asked; nothing ran."""

    exit_status = EXIT_USAGE


class ConfigError(UsageError):
    """A run config or option is wrong: names the file, the key and the problem."""

    def __init__(self, problem: str, *, file: str | None = None, key: str | None = None):
        self.problem, self.file, self.key = problem, file, key
        where = ": ".join(p for p in (file, key and f"[{key}]") if p)
        super().__init__(f"{where}: {problem}" if where else problem)


class PluginError(UsageError):
    """A plugin could not be loaded or registered, or a plugin name is unknown."""


class LockedError(UsageError):
    """Another run holds the lock on the run state or an output."""


class StaleJournal(UsageError):
    """The journal of an interrupted run cannot be resumed (its output is gone or changed);
    `harvester run --discard-journal` starts a new run instead."""


# -- target: fails one target, the run goes on --------------------------------------------------


class TargetError(HarvesterError):
    """One target (a file, a page) failed; entries it yielded before stay, others go on."""

    exit_status = EXIT_PARTIAL

    def __init__(self, location: str, problem: str):
        self.location, self.problem = location, problem
        super().__init__(f"{location}: {problem}" if location else problem)


class InputError(TargetError):
    """Input that cannot be understood. `location` is 'file:line' or a URL."""


class FetchError(TargetError):
    """A URL could not be fetched: `reason` says why, `status` is the last HTTP status if any.

    Subclasses in `harvester.fetch` say what failed (status, timeout, size, robots.txt, ...)."""

    def __init__(self, url: str, reason: str, *, status: int | None = None, attempts: int = 1):
        self.url, self.reason, self.status, self.attempts = url, reason, status, attempts
        super().__init__(url, reason)


# -- output: the run cannot keep its promises and stops -----------------------------------------


class OutputError(HarvesterError):
    """An output (a sink, the run state) cannot be written; the previous output is intact."""

    exit_status = EXIT_FATAL


class SinkError(OutputError):
    """A sink could not open, write or commit its output."""


class StateError(OutputError):
    """The run state could not be read, saved or resumed."""


# -- signals: not failures ----------------------------------------------------------------------


class Signal(Exception):
    """A decision carried from deep inside a source to the run; never a failure."""


class RejectEntry(Signal):
    """One entry cannot become a record; it is rejected (kept with the reason), others go on."""

    def __init__(self, reason: str, *, raw: str | None = None):
        self.reason, self.raw = reason, raw
        super().__init__(reason)


class Unchanged(Signal):
    """A target has not changed since the last run (HTTP 304): nothing to read, no failure."""


class Deferred(Signal):
    """A host asked us to wait longer than we sleep (`Retry-After`, an exhausted budget): the
    target and the host's remaining targets wait until `until` (UTC) and a later run."""

    def __init__(self, url: str, until: dt.datetime, reason: str):
        self.url, self.until, self.reason = url, until, reason
        super().__init__(f"{url}: deferred until {until.isoformat()}: {reason}")


def exit_status(exc: BaseException) -> int:
    """The CLI's exit status for an error that ended a command."""
    if isinstance(exc, HarvesterError):
        return exc.exit_status
    return EXIT_FATAL
