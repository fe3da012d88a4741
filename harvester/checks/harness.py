"""Driving a plugin through the real run loop (`harvester.run.Run`), for the checks and the
pytest kit alike: build a source from a config table, run it with or without state, stop a run
after some targets, and keep what it published in an append log that outlives the run."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import msgspec

from ..api import Outcome, Sink, SinkContext, SinkOptions, Source, SourceContext, Target
from ..config import RunSettings, convert
from ..fetch.runclient import SharedClient
from ..fetch.settings import FetchSettings
from ..plan import Plan
from ..report import RunReport, SourceReport
from ..schema import Paper, Rejected

# Fetching in a check: no pause between requests, one at a time per host (so that what the
# check's server sees is in the order the source asked), short bounds.
CHECK_FETCH = FetchSettings(
    min_interval=0,
    per_host_concurrency=1,
    timeout=5,
    request_deadline=10,
    deadline=20,
    max_attempts=3,
    backoff_initial=0.05,
    backoff_max=0.5,
)
MAX_RUN_SECONDS = 120.0  # a check's run stops starting targets after this long


def make_source(
    source_class: type[Source],
    inputs: Iterable[str | Path],
    options: dict[str, Any] | None = None,
    *,
    base_dir: Path | None = None,
    fetch: FetchSettings | None = None,
) -> Source:
    """An instance of `source_class` with `options` (a config table) and `inputs`, converted as
    a run converts them (a bad option is a `ConfigError` naming it)."""
    raw = {**(options or {}), "inputs": [str(i) for i in inputs]}
    opts = convert(raw, source_class.Options, file="<check>", key=f"sources.{source_class.name}")
    context = SourceContext(
        label=source_class.name, base_dir=base_dir or Path.cwd(), fetch_settings=fetch
    )
    return source_class(opts, context)


def make_sink(
    sink_class: type[Sink], options: dict[str, Any], base_dir: Path, *, incremental: bool = False
) -> Sink:
    opts = convert(options, sink_class.Options, file="<check>", key=f"sinks.{sink_class.name}")
    context = SinkContext(label="check", base_dir=base_dir, incremental=incremental)
    return sink_class(opts, context)


class Collect(Sink):
    """Keeps what it is given: an in-memory sink (and rejects output) for one run."""

    name = "testkit-collect"

    def __init__(self) -> None:
        super().__init__(SinkOptions(), SinkContext())
        self.items: list[Any] = []

    def write(self, items: Sequence[Any]) -> None:
        self.items.extend(items)


class LogSink(Sink):
    """An append log that outlives runs (`log`, shared by each run's sink), as an appending
    output: what a run commits stays; an interrupted run's is cut back on resume; a run that
    abandons leaves the log as it found it. `opened` counts `open` calls."""

    name = "check-log"

    def __init__(self, log: list[Paper]) -> None:
        super().__init__(SinkOptions(), SinkContext(label="check"))
        self.log = log
        self.opened = 0
        self.pending: list[Paper] = []
        self.start = 0

    def open(self, resume: Any = None) -> None:
        self.opened += 1
        if resume is not None:
            del self.log[resume:]
        self.start, self.pending = len(self.log), []

    def write(self, papers: Sequence[Paper]) -> None:
        self.pending.extend(papers)

    def commit(self) -> int:
        self.log.extend(self.pending)
        self.pending = []
        return len(self.log)

    def close(self, outcome: Outcome) -> None:
        self.pending = []
        if outcome is Outcome.ABANDON:
            del self.log[self.start :]


@dataclass
class Harvested:
    """What one source produced through a run."""

    papers: list[Paper] = field(default_factory=list)
    rejected: list[Rejected] = field(default_factory=list)
    report: SourceReport | None = None
    run: RunReport | None = None


def execute(
    sources: list[tuple[str, Source]],
    sinks: list[tuple[str, Sink]],
    base_dir: Path,
    *,
    state: Path | None = None,
    refresh: bool = False,
    stop_after: int | None = None,
    rejects: Sink | None = None,
    keep: bool = True,
) -> RunReport:
    """One run of the real loop. `stop_after`: stop it (as a signal would) once that many
    targets ended; `keep=False` streams papers one by one rather than holding them."""
    from ..run import Run

    given = [s.context.client for _, s in sources if isinstance(s.context.client, SharedClient)]
    fetch = next((s.context.fetch_settings for _, s in sources), None)
    client = given[0] if given else SharedClient(fetch)
    for _, source in sources:
        source.context.client = client
    settings = RunSettings(
        state=str(state) if state is not None else None,
        checkpoint_seconds=0.001,  # commit after every target: a stop leaves each one saved
        max_run_seconds=MAX_RUN_SECONDS,
        batch_size=1000 if keep else 1,
        hold_papers=1_000_000 if keep else 1,
    )
    plan = Plan(settings, base_dir, sources, sinks, client, file=str(base_dir / "check.toml"))
    run: Run | None = None

    def progress(report: SourceReport) -> None:
        if stop_after is not None and run is not None and report.done >= stop_after:
            run.stopper.reason = f"stopped by the check after {stop_after} target(s)"

    run = Run(plan, refresh=refresh, rejects=rejects or Collect(), progress=progress)
    return run.execute()


def harvest(source: Source, *, keep: bool = True) -> Harvested:
    """Run `source` through the run loop (no state) and keep what it yields."""
    papers, rejects = Collect(), Collect()
    sinks: list[tuple[str, Sink]] = [("papers", papers)] if keep else []
    report = execute(
        [(source.name, source)],
        sinks,
        source.context.base_dir,
        rejects=rejects if keep else None,
        keep=keep,
    )
    return Harvested(papers.items, rejects.items, report.sources[0], report)


def read_raw(source: Source) -> list[Any]:
    """What `fetch` + `read()` yield for every target, before finalisation (errors propagate).
    `targets()` may give plain strings: each stands for `Target(string)`, as in a run."""
    items: list[Any] = []
    for given in source.targets():
        target = given if isinstance(given, Target) else Target(str(given))
        target.fetched = source.fetch(target)
        items.extend(source.read(target))
    return items


def target_ids(source: Source) -> list[str]:
    """The ids of a source's targets (plain strings as given)."""
    return [t.id if isinstance(t, Target) else str(t) for t in source.targets()]


def to_json(value: Any) -> Any:
    """`value` as the run state would save it (a checkpoint must survive that)."""
    return msgspec.json.decode(msgspec.json.encode(value))
