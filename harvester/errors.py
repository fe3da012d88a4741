"""The framework's error types. Library code raises these; only the CLI turns them into messages
and exit statuses (see harvester/cli.py)."""

from __future__ import annotations


class HarvesterError(Exception):
    """Base class of every error the framework raises on purpose."""


class ConfigError(HarvesterError):
    """A run config or option is wrong: names the file, the key and the problem."""

    def __init__(self, problem: str, *, file: str | None = None, key: str | None = None):
        self.problem, self.file, self.key = problem, file, key
        where = ": ".join(p for p in (file, key and f"[{key}]") if p)
        super().__init__(f"{where}: {problem}" if where else problem)


class InputError(HarvesterError):
    """Input that cannot be understood. `location` is 'file:line' or a URL."""

    def __init__(self, location: str, problem: str):
        self.location, self.problem = location, problem
        super().__init__(f"{location}: {problem}")


class RejectEntry(HarvesterError):
    """One entry cannot become a record; it is rejected (kept with the reason), others go on."""

    def __init__(self, reason: str, *, raw: str | None = None):
        self.reason, self.raw = reason, raw
        super().__init__(reason)


class Unchanged(HarvesterError):
    """A target has not changed since the last run (HTTP 304): nothing to read, no failure."""


class PluginError(HarvesterError):
    """A plugin could not be loaded or registered; the message names the plugin."""


class SinkError(HarvesterError):
    """A sink could not open, write or commit its output; previous output is left intact."""
