"""What a plugin implements: `Source` (yields papers) and `Sink` (writes them), and what the run
gives each of them: a context, and for a source its `Target`s.

A plugin module registers its classes through the hooks in `harvester.hookspecs`. Options are
typed `msgspec.Struct` classes that forbid unknown fields; the run converts every config table
into them while it is built, so a misspelt or out-of-range option is an error naming the file
and the key before anything runs. Cross-field checks go in the Options' `__post_init__`
(raise `ValueError` with the problem).
"""

from __future__ import annotations

import datetime as dt
import enum
import logging
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

import msgspec

from .outcomes import Declared, Part
from .schema import Paper, Rejected

if TYPE_CHECKING:
    from .checks.spec import SinkCheck, SourceCheck
    from .fetch.client import Fetcher, Response
    from .fetch.settings import FetchSettings


class SourceOptions(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """Options every source accepts. Subclass it to add a source's own options."""

    inputs: list[str] = []  # files or URLs; the positional arguments of `harvester parse`


class SinkOptions(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """Options every sink accepts. Subclass it to add a sink's own options."""


# -- contexts ----------------------------------------------------------------------------------


@dataclass
class PluginContext:
    """What the run gives every plugin: its label, where relative paths start, a logger."""

    label: str = ""
    base_dir: Path = field(default_factory=Path.cwd)
    log: logging.Logger = field(default_factory=lambda: logging.getLogger("harvester"))

    def resolve(self, path: str | Path) -> Path:
        """A path from a config or option, relative to the config's `base_dir`."""
        p = Path(path).expanduser()
        return p if p.is_absolute() else self.base_dir / p


@dataclass
class SourceContext(PluginContext):
    """A source's own context: its fetch settings (the run's `[fetch]` merged with the source's
    `fetch = {...}`, once, when the config loaded) and the run's one shared HTTP client."""

    fetch_settings: FetchSettings | None = None
    client: Callable[[], Fetcher] | None = None  # the run's shared client, created on first use

    @property
    def fetcher(self) -> Fetcher:
        """The run's one HTTP client (built on first use; offline runs never build one)."""
        if self.client is None:  # a context built by hand (tests): a client of its own
            from .fetch.runclient import SharedClient

            self.client = SharedClient(self.fetch_settings)
        return self.client()

    def get(self, url: str, *, headers: dict[str, str] | None = None) -> Response:
        """GET `url` with this source's fetch settings; raises `FetchError` (or `Deferred`)."""
        return self.fetcher.get(url, headers=headers, settings=self.fetch_settings)


@dataclass
class SinkContext(PluginContext):
    """A sink's context. `incremental`: the run keeps state (`[run] state`), so outputs that
    accumulate across runs (append) are the natural default."""

    incremental: bool = False


# -- sources ------------------------------------------------------------------------------------


@dataclass(eq=False)
class Target:
    """One unit of work of a source (a file, a page, an API listing), as the run tracks it.

    Set by the source in `targets()`: `id` (a path as given or a URL: what the state, the
    summary and records' `source_ref` name), `fingerprint` (changes when the input changes; a
    target done in an earlier run is read again when it differs), `date` (the day it lists, or
    the latest of its days: targets dated within `refresh_days` are read again, and an answer
    the upstream dates earlier is `stale`) and `data` (anything the source wants back in
    `fetch`/`read`). Set by the run: `memo` (what the source remembered about it last time,
    e.g. its ETag) and `fetched` (what `fetch()` returned).

    While reading, a source says what the upstream promised, and the run names the target's
    outcome from it (`harvester.outcomes`): `declare()` a total, a part's total, the day the
    upstream answered for, whether an empty answer is plausible; `mark_empty()` with the
    evidence that there is nothing; `cut_short()` when the answer ended early;
    `mark_unchanged()` for an HTTP 304.
    """

    id: str
    fingerprint: str | None = None
    date: Any = None  # datetime.date | None
    data: Any = None
    memo: dict[str, str] = field(default_factory=dict)
    fetched: Any = None
    declared: Declared = field(default_factory=Declared)
    unchanged: bool = False
    remembered: dict[str, str] | None = None
    entries: int = 0  # entries the run has counted so far (where a declared part begins)

    def __str__(self) -> str:
        return self.id

    @property
    def empty(self) -> str | None:
        """The evidence `mark_empty` gave (None: none)."""
        return self.declared.empty

    def remember(self, **values: str) -> None:
        """Keep small strings about this target for the next run (saved with the run state).
        Calling it replaces the whole memo; not calling it keeps the old one."""
        if self.remembered is None:
            self.remembered = {}
        self.remembered.update(values)

    def declare(
        self,
        *,
        total: int | None = None,
        part: str | None = None,
        day: dt.date | None = None,
        empty_plausible: bool | None = None,
    ) -> None:
        """Say what the upstream promises for this target, as soon as it is known (before or
        while yielding its entries):

        * `total`: the entries the upstream says the target has (a page's "N results", an
          API's total). With `part`, the total of the part that begins now (a section of a
          page: the entries yielded from now until the next part are counted for it); parts'
          totals add up to the target's.
        * `day`: the day the upstream says it answered for (a page's own date). An answer for
          a day before the target's `date` is `stale`.
        * `empty_plausible`: whether an empty answer is plausible that day (False: the
          upstream always lists something then, so no entries is `incomplete`).

        The run compares: fewer entries than declared is `incomplete`, more is `failed`."""
        d = self.declared
        if total is not None:
            if total < 0:
                raise ValueError(f"a declared total cannot be negative: {total}")
            d.total = (d.total or 0) + total if part is not None else total
            if part is not None:
                d.parts.append(Part(part, total, self.entries))
        if day is not None:
            d.day = day
        if empty_plausible is not None:
            d.empty_plausible = empty_plausible

    def mark_empty(self, why: str) -> None:
        """Say that the upstream lists nothing for this target, with the evidence (an empty
        API answer, a page of another day, a day off in the source's calendar): with no
        entries, the target ends `empty` (published, done) instead of `incomplete`."""
        self.declared.empty = why

    def cut_short(self, why: str, *, resume: bool = False) -> None:
        """Say that the answer ended before its end (a page limit reached, a listing cut): the
        target ends `incomplete` with `why`. `resume`: what was read is whole and usable, and
        the next run continues where this one stopped, from what the target `remember`ed (a
        resumption token): with `publish_incomplete`, its papers are published now and the
        target is read again next run rather than marked done."""
        self.declared.cut_short = why
        self.declared.resume = resume

    def mark_unchanged(self) -> None:
        """Report that the target has not changed since the last run (e.g. HTTP 304): it keeps
        its done entry and memo; nothing is written for it (outcome `skipped`)."""
        self.unchanged = True


class Source:
    """A source of paper entries.

    The run calls `targets()` once, then for each target `fetch(target)` (possibly on a worker
    thread, ahead of time, for several targets at once) and `read(target)` (in order, on the
    run's thread). `read` yields a `Paper` (built with `harvester.normalise`) per entry, or a
    `Rejected` (reason and location) for an entry it cannot turn into a paper, so that nothing
    is silently dropped. Raising a `TargetError` (`InputError`, `FetchError`) fails that one
    target: none of the papers it yielded is published (they go to the rejects with the
    reason); the run reports it and goes on. A target's papers reach the sinks only once it
    ends `complete` or `empty` (see `Target.declare` and `harvester.outcomes`).
    """

    name: ClassVar[str]
    Options: ClassVar[type[SourceOptions]] = SourceOptions
    # False: the core cleans every text field and type-checks every paper against the schema.
    # True: the source builds papers only through harvester.normalise; the core then runs only
    # a cheap check per paper (types, clean text) and falls back to the full one when it fails.
    trusted: ClassVar[bool] = False
    # True for listing pages: a target yielding far fewer papers than its recent history is
    # held back and reported instead of being written as the new truth.
    guard_counts: ClassVar[bool] = False
    # True when what an `incomplete` target read is usable (a hand-made copy of part of a
    # page): its papers are published; False: they are not, and the target is read again.
    publish_incomplete: ClassVar[bool] = False
    # What `harvester check` needs: the fixtures and options (`harvester.checks.SourceCheck`).
    check: ClassVar[SourceCheck | None] = None

    def __init__(self, options: SourceOptions, context: SourceContext):
        self.options = options
        self.context = context

    def targets(self) -> Iterable[Target | str]:
        """The units of work, in order (a plain string stands for `Target(string)`).
        Default: one target per `inputs` entry."""
        return [Target(given) for given in self.options.inputs]

    def fetch(self, target: Target) -> Any:
        """Optional I/O ahead of `read` (download the page); the result is `target.fetched`.
        Runs on a worker thread: touch only `target` and thread-safe things (the fetcher)."""
        return None

    def read(self, target: Target) -> Iterator[Paper | Rejected]:
        raise NotImplementedError


# -- sinks --------------------------------------------------------------------------------------


class Outcome(enum.StrEnum):
    """How a run ends for a sink (`Sink.close`)."""

    DONE = "done"  # publish: the output now holds this run's records
    SUSPEND = "suspend"  # stopped, resumable: keep what was committed, drop the rest
    ABANDON = "abandon"  # failed or read nothing: leave the previous output as it was


class Sink:
    """A writer of papers. The run drives exactly this lifecycle:

    * `open(resume)`: start. `resume` is None for a new run, or the checkpoint the last
      `commit()` of an interrupted run returned: cut the output back to it and go on from there.
    * `write(papers)`: a batch of finalised papers (any number of times between commits).
    * `commit() -> checkpoint`: make everything written so far durable; return a JSON-able
      checkpoint (None when there is nothing to cut back to, e.g. idempotent upserts). The run
      saves it in its state only after every sink committed.
    * `close(outcome)`: `Outcome.DONE` publishes; `SUSPEND` keeps what was committed for a
      later `open(resume=...)` and drops the rest; `ABANDON` leaves the previous output as it
      was, as far as the sink can (at least: nothing uncommitted survives).

    Raise `harvester.SinkError` naming the output and the problem.

    `concurrent_writers`: whether processes on several machines may write the same output at
    once, each job's records landing once (idempotent upserts into a shared server, like the
    `postgres` sink). `harvester worker` accepts only such sinks.

    `merges`: whether a paper written again is merged into the one stored (upserts by key),
    not stored twice. A sink that neither `replaces` nor merges appends: the run refuses to
    write into one that already holds papers while its state is new (it would write them
    again), using `holds_at_least`.
    """

    name: ClassVar[str]
    Options: ClassVar[type[SinkOptions]] = SinkOptions
    concurrent_writers: ClassVar[bool] = False
    # What `harvester check` needs: options and a reader (`harvester.checks.SinkCheck`).
    check: ClassVar[SinkCheck | None] = None
    merges: ClassVar[bool] = False

    def __init__(self, options: SinkOptions, context: SinkContext):
        self.options = options
        self.context = context

    @property
    def replaces(self) -> bool:
        """True when publishing makes the output hold exactly this run's papers (a file
        rewritten whole), False when it adds to what it held (appends, upserts). A run without
        state in which a target was not published (failed, deferred, ...) would shrink a
        replaced output, so such a sink is closed with `ABANDON` then, keeping its previous
        output, while adding sinks publish what was read."""
        return False

    def holds_at_least(self, count: int) -> bool | None:
        """Whether the output already holds `count` papers or more, asked before `open` (a
        missing output holds none); None when the sink cannot tell cheaply. The run compares
        it with what its state says was written: a store that holds fewer papers than one
        target wrote was replaced, moved or emptied since (a warning says how to rebuild it)."""
        return None

    def open(self, resume: Any = None) -> None:
        pass

    def write(self, papers: Sequence[Paper]) -> None:
        raise NotImplementedError

    def commit(self) -> Any:
        return None

    def close(self, outcome: Outcome) -> None:
        pass


@dataclass
class StatusSection:
    """A part of `harvester status CONFIG` a plugin adds (the `status_section` hook): its name,
    its data (for `--json`) and its text lines."""

    name: str
    data: dict[str, Any]
    lines: list[str] = field(default_factory=list)


__all__ = [
    "Outcome",
    "Paper",
    "PluginContext",
    "Rejected",
    "Sink",
    "SinkContext",
    "SinkOptions",
    "Source",
    "SourceContext",
    "SourceOptions",
    "StatusSection",
    "Target",
]
