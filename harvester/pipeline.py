"""A harvest run: sources -> finalise -> sinks, with rejects kept and a per-source report.

The flow is deliberately plain: for each source, for each target, every item the source yields
is finalised (cleaned, keyed, stamped, checked) and batched to every sink; entries that fail are
written to the rejects file with the reason. A target that fails (bad file, failed URL) is
reported and the run goes on; a sink that fails stops the run and keeps the previous output.
"""

from __future__ import annotations

import datetime as dt
import logging
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import msgspec

from .api import RunContext, Sink, Source
from .config import PluginSpec, RunConfig, convert
from .errors import ConfigError, HarvesterError, RejectEntry, SinkError
from .normalise import arxiv_key, clean_text, title_key
from .plugins import Registry, load_plugins
from .schema import SCHEMA_VERSION, Paper, Rejected

log = logging.getLogger("harvester")

# Exit statuses (documented in the README).
EXIT_OK, EXIT_FATAL, EXIT_USAGE, EXIT_PARTIAL = 0, 1, 2, 3


@dataclass
class SourceReport:
    label: str
    plugin: str
    entries: int = 0  # entries read: papers + rejected
    written: int = 0
    rejected: int = 0
    targets: int = 0
    failed: list[tuple[str, str]] = field(default_factory=list)  # (target, reason)
    empty: list[str] = field(default_factory=list)  # targets legitimately without papers
    error: str | None = None  # the source could not run at all

    @property
    def ok(self) -> bool:
        return self.error is None and not self.failed


@dataclass
class RunReport:
    sources: list[SourceReport] = field(default_factory=list)
    fetch: dict[str, Any] | None = None
    seconds: float = 0.0
    stopped: str | None = None  # why the run stopped early (signal, time limit)

    @property
    def exit_status(self) -> int:
        return EXIT_OK if all(s.ok for s in self.sources) and not self.stopped else EXIT_PARTIAL

    def as_dict(self) -> dict[str, Any]:
        return {
            "status": "ok" if self.exit_status == EXIT_OK else "partial",
            "seconds": round(self.seconds, 3),
            "stopped": self.stopped,
            "sources": [
                {
                    "label": s.label,
                    "plugin": s.plugin,
                    "entries": s.entries,
                    "written": s.written,
                    "rejected": s.rejected,
                    "targets": s.targets,
                    "failed": [{"target": t, "reason": r} for t, r in s.failed],
                    "empty": s.empty,
                    "error": s.error,
                }
                for s in self.sources
            ],
            "fetch": self.fetch,
        }


_TEXT_FIELDS = ("title", "abstract", "organization", "submitted_by", "published_raw", "url")


def finalise(paper: Paper, source: str, now: dt.datetime, *, trusted: bool) -> Paper:
    """Make a source's paper a valid record: stamp, key, and (for untrusted sources) clean and
    type-check it. Raises `RejectEntry` when it cannot be one."""
    if not isinstance(paper, Paper):
        raise RejectEntry(f"source yielded {type(paper).__name__}, not a Paper")
    if not trusted:
        for name in _TEXT_FIELDS:
            value = getattr(paper, name)
            if value is not None:
                setattr(paper, name, clean_text(str(value)))
        paper.authors = [a for a in map(clean_text, paper.authors) if a]
        try:  # type check every field against the schema
            paper = msgspec.convert(msgspec.to_builtins(paper), Paper)
        except msgspec.ValidationError as exc:
            raise RejectEntry(f"invalid record: {exc}") from None
    if not paper.title:
        raise RejectEntry("empty title")
    if not paper.source_ref:
        raise RejectEntry("no source_ref (where the entry came from)")
    if paper.arxiv_id:
        paper.key = arxiv_key(paper.arxiv_id)
    elif not paper.key:
        paper.key = title_key(paper.title)
    paper.source = source
    paper.schema_version = SCHEMA_VERSION
    paper.harvested_at = now
    return paper


def iter_source(
    source: Source,
    report: SourceReport,
    now: dt.datetime,
    *,
    deadline: float | None = None,
    on_target_done: Callable[[str], None] | None = None,
) -> Iterator[Paper | Rejected]:
    """Finalised papers and rejects of one source, target by target; failures go to `report`."""
    trusted = source.trusted
    name = source.name
    try:
        targets = list(source.targets())
    except HarvesterError as exc:
        report.error = str(exc)
        log.error("%s: %s", report.label, exc)
        return
    for target in targets:
        if deadline is not None and time.monotonic() > deadline:
            report.failed.append((target, "not started: run time limit reached"))
            continue
        report.targets += 1
        before = report.entries
        try:
            for item in source.read(target):
                report.entries += 1
                if isinstance(item, Rejected):
                    item.source = item.source or name
                    item.rejected_at = now
                    report.rejected += 1
                    yield item
                    continue
                try:
                    paper = finalise(item, name, now, trusted=trusted)
                except RejectEntry as exc:
                    report.rejected += 1
                    yield Rejected(
                        reason=exc.reason,
                        source=name,
                        source_ref=getattr(item, "source_ref", "") or str(target),
                        raw=exc.raw or getattr(item, "title", None),
                        rejected_at=now,
                    )
                    continue
                report.written += 1
                yield paper
        except HarvesterError as exc:
            report.failed.append((target, str(exc)))
            log.error("%s: %s", report.label, exc)
            continue
        except Exception as exc:  # a plugin bug must not stop the other targets and sources
            reason = f"{type(exc).__name__}: {exc} (bug in source plugin {name!r})"
            report.failed.append((target, reason))
            log.exception("%s: %s", report.label, reason)
            continue
        if report.entries == before and target in getattr(source, "empty_targets", ()):
            report.empty.append(target)
        if on_target_done is not None:
            on_target_done(target)


def build_source(registry: Registry, spec: PluginSpec, context: RunContext, file: str) -> Source:
    cls = registry.source(spec.plugin)
    options = convert(spec.options, cls.Options, file=file, key=spec.key)
    return cls(options, context)


def build_sink(registry: Registry, spec: PluginSpec, context: RunContext, file: str) -> Sink:
    cls = registry.sink(spec.plugin)
    options = convert(spec.options, cls.Options, file=file, key=spec.key)
    return cls(options, context)


def make_context(config: RunConfig) -> RunContext:
    fetch_table = config.fetch

    def fetcher_factory():
        from .fetch import Fetcher, FetchSettings, merge_settings

        try:
            settings = merge_settings(FetchSettings(), fetch_table)
        except msgspec.ValidationError as exc:
            raise ConfigError(str(exc), file=config.file, key="fetch") from None
        return Fetcher(settings)

    return RunContext(base_dir=config.base_dir, log=log, fetcher_factory=fetcher_factory)


Progress = Callable[[str, SourceReport], None]


class Harvest:
    """One run of a config. `run()` returns the report; sink failures raise `SinkError`."""

    def __init__(self, config: RunConfig, *, progress: Progress | None = None):
        self.config = config
        self.progress = progress
        self.context = make_context(config)
        registry = load_plugins()
        file = config.file
        # Build everything first: a config error must stop the run before any output is touched.
        self.sources = [
            (spec, build_source(registry, spec, self.context, file)) for spec in config.sources
        ]
        self.sinks = [build_sink(registry, spec, self.context, file) for spec in config.sinks]

    def run(self) -> RunReport:
        from .jsonl import JsonlWriter

        started = time.monotonic()
        now = dt.datetime.now(dt.UTC).replace(microsecond=0)
        settings = self.config.run
        deadline = started + settings.max_run_seconds if settings.max_run_seconds else None
        report = RunReport()
        rejects = JsonlWriter(self.context.resolve(settings.rejects))
        opened: list[Any] = []
        ok = False
        try:
            for sink in [*self.sinks, rejects]:
                sink.open()
                opened.append(sink)
            batcher = _Batcher(self.sinks, rejects, settings)
            for spec, source in self.sources:
                source_report = SourceReport(label=spec.label, plugin=spec.plugin)
                report.sources.append(source_report)
                if self.progress:
                    self.progress("start", source_report)
                for item in iter_source(
                    source,
                    source_report,
                    now,
                    deadline=deadline,
                    on_target_done=lambda _t, r=source_report: self._target_done(batcher, r),
                ):
                    batcher.add(item)
                batcher.checkpoint()
                if self.progress:
                    self.progress("done", source_report)
            ok = True
        finally:
            for sink in reversed(opened):
                try:
                    sink.close(ok=ok)
                except Exception as exc:
                    if ok:
                        raise SinkError(f"closing {_sink_name(sink)}: {exc}") from exc
                    log.error("closing %s after a failure: %s", _sink_name(sink), exc)
            fetcher = self.context._fetcher
            if fetcher is not None:
                report.fetch = _fetch_stats(fetcher)
            self.context.close()
        report.seconds = time.monotonic() - started
        return report

    def _target_done(self, batcher: _Batcher, source_report: SourceReport) -> None:
        batcher.maybe_checkpoint()
        if self.progress:
            self.progress("target", source_report)


class _Batcher:
    """Hands papers to sinks in batches and commits them every `checkpoint_seconds`."""

    def __init__(self, sinks: list[Sink], rejects: Any, settings):
        self.sinks, self.rejects = sinks, rejects
        self.size = settings.batch_size
        self.interval = settings.checkpoint_seconds
        self.papers: list[Paper] = []
        self.rejected: list[Rejected] = []
        self.last_commit = time.monotonic()

    def add(self, item: Paper | Rejected) -> None:
        if isinstance(item, Paper):
            self.papers.append(item)
            if len(self.papers) >= self.size:
                self.flush()
        else:
            self.rejected.append(item)

    def flush(self) -> None:
        if self.papers:
            for sink in self.sinks:
                _guard(sink, "write", sink.write, self.papers)
            self.papers = []
        if self.rejected:
            _guard(self.rejects, "write", self.rejects.write, self.rejected)
            self.rejected = []

    def checkpoint(self) -> None:
        self.flush()
        for sink in [*self.sinks, self.rejects]:
            _guard(sink, "commit", sink.commit)
        self.last_commit = time.monotonic()

    def maybe_checkpoint(self) -> None:
        if time.monotonic() - self.last_commit >= self.interval:
            self.checkpoint()


def _sink_name(sink: Any) -> str:
    return getattr(sink, "name", None) or type(sink).__name__


def _guard(sink: Any, action: str, fn: Callable, *args) -> None:
    """Sink failures are fatal for the run: re-raise as SinkError naming the sink."""
    try:
        fn(*args)
    except SinkError:
        raise
    except OSError as exc:
        raise SinkError(f"{_sink_name(sink)}: {action} failed: {exc}") from exc


def _fetch_stats(fetcher: Any) -> dict[str, Any] | None:
    stats = getattr(fetcher, "stats", None)
    if stats is None:
        return None
    if hasattr(stats, "as_dict"):
        return stats.as_dict()
    return {k: v for k, v in vars(stats).items() if not k.startswith("_")}
