"""What a plugin implements: `Source` (yields papers) and `Sink` (writes them).

A plugin module registers its classes through the hooks in `harvester.hookspecs`. Options are
typed `msgspec.Struct` classes that forbid unknown fields, so a misspelt option is an error that
names the key, in a config file and on the command line alike.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

import msgspec

from .schema import Paper

if TYPE_CHECKING:
    from .fetch import Fetcher


class SourceOptions(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """Options every source accepts. Subclass it to add a source's own options."""

    inputs: list[str] = []  # files, globs or URLs; the positional arguments of `harvester parse`


class SinkOptions(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """Options every sink accepts. Subclass it to add a sink's own options."""


@dataclass
class RunContext:
    """What the run gives a plugin: where relative paths start, a logger, and the shared fetcher."""

    base_dir: Path = field(default_factory=Path.cwd)
    log: logging.Logger = field(default_factory=lambda: logging.getLogger("harvester"))
    fetcher_factory: Any = None  # () -> Fetcher, created lazily so offline runs never build one
    _fetcher: Fetcher | None = None
    # Per-target memos (validators such as ETag) from the last run, and the ones to keep.
    memos: dict[str, dict[str, str]] = field(default_factory=dict)
    new_memos: dict[str, dict[str, str]] = field(default_factory=dict)

    @property
    def fetcher(self) -> Fetcher:
        """The one HTTP client of the run; sources never build their own."""
        if self._fetcher is None:
            if self.fetcher_factory is None:
                from .fetch import Fetcher

                self._fetcher = Fetcher()
            else:
                self._fetcher = self.fetcher_factory()
        return self._fetcher

    def memo(self, target: str) -> dict[str, str]:
        """What this source remembered about `target` last time (e.g. its ETag); {} if nothing."""
        return self.memos.get(target, {})

    def remember(self, target: str, **values: str) -> None:
        """Keep small strings about `target` for the next run (saved with the run state)."""
        self.new_memos.setdefault(target, {}).update(values)

    def resolve(self, path: str | Path) -> Path:
        """A path from a config or option, relative to the config file's directory."""
        p = Path(path).expanduser()
        return p if p.is_absolute() else self.base_dir / p

    def fetch_summary(self) -> dict[str, Any] | None:
        """The fetcher's counters, or None when the run never needed one (offline sources)."""
        return self._fetcher.stats.summary() if self._fetcher is not None else None

    def close(self) -> None:
        if self._fetcher is not None:
            self._fetcher.close()
            self._fetcher = None


class Source:
    """A source of paper entries.

    The run calls `targets()` once, then `read(target)` for each target. `read` yields a `Paper`
    (built with the functions in `harvester.normalise`) per entry, or a `Rejected` (with the
    reason and location) for an entry it cannot turn into a paper, so that nothing is silently
    dropped. Raising `InputError` (or `FetchError`) fails that one target, after the entries
    already yielded; the run reports the target as failed and goes on with the others.
    """

    name: ClassVar[str]
    Options: ClassVar[type[SourceOptions]] = SourceOptions
    # False: the core cleans every text field and type-checks every paper against the schema.
    # A source that builds papers only through harvester.normalise (the built-ins, proven by the
    # plugin test kit) may set True and skip that cost on its hot path.
    trusted: ClassVar[bool] = False
    # True for listing pages: a target yielding far fewer papers than its recent history is
    # held back and reported instead of being written as the new truth.
    guard_counts: ClassVar[bool] = False

    def __init__(self, options: SourceOptions, context: RunContext):
        self.options = options
        self.context = context
        self.empty_targets: list[str] = []  # read fine, but legitimately list no papers

    def mark_empty(self, target: str, why: str) -> None:
        """Report `target` as empty (e.g. a day without a list), which is not a failure; the
        run lists it in the summary and the suspicious-output guard leaves it alone."""
        self.context.log.info("%s: empty: %s", target, why)
        self.empty_targets.append(target)

    def targets(self) -> Iterable[str]:
        """The units of work (files, URLs), in order. Default: the `inputs` option as given."""
        return list(self.options.inputs)

    def fingerprint(self, target: str) -> str | None:
        """A cheap token that changes when `target` changes (a file's size and mtime), or None.
        A target done in an earlier run is read again when its fingerprint differs."""
        return None

    def target_date(self, target: str) -> Any:
        """The date a target lists (a daily page's day), or None. Targets dated within the
        run's `refresh_days` are read again even when done, since their counts still change."""
        return None

    def read(self, target: str) -> Iterator[Any]:  # yields Paper | Rejected
        raise NotImplementedError


class Sink:
    """A writer of papers, with Scrapy's exporter lifecycle: open, write batches, close.

    `commit()` makes everything written so far durable (the run calls it at checkpoints and at
    the end). `close(ok=False)` abandons the run: the output of the previous good run stays.
    `suspend()` stops an interrupted run so that `open(resume=token)` can continue it.
    """

    name: ClassVar[str]
    Options: ClassVar[type[SinkOptions]] = SinkOptions

    def __init__(self, options: SinkOptions, context: RunContext):
        self.options = options
        self.context = context

    def open(self, resume: Any = None) -> None:
        """Start writing. `resume` is the `checkpoint_token()` of an interrupted run to continue:
        the sink cuts its output back to that checkpoint and appends from there."""

    def write(self, papers: Sequence[Paper]) -> None:
        raise NotImplementedError

    def commit(self) -> None:
        pass

    def checkpoint_token(self) -> Any:
        """JSON-able position of the last commit, saved in the run state (None: not needed,
        e.g. idempotent upserts)."""
        return None

    def suspend(self) -> None:
        """Stop without finishing: drop uncommitted work, keep what was committed for a resume.
        Default: the same as `close(ok=False)`."""
        self.close(ok=False)

    def close(self, ok: bool = True) -> None:
        pass


def parse_options(cls: type[msgspec.Struct], raw: dict[str, Any], *, strict: bool = True):
    """Build a plugin's options from a mapping; `strict=False` converts strings (CLI options).

    Raises `msgspec.ValidationError`, whose message names the offending key; callers wrap it
    into a `ConfigError` naming the file or the command-line flag.
    """
    return msgspec.convert(raw, cls, strict=strict)
