"""From a source to finalised records: finalise(), iter_source() and the per-source report.

For each target of a source, every item it yields is finalised (cleaned, keyed, stamped,
checked against the limits); entries that fail become `Rejected` with the reason. A target that
fails (bad file, failed URL, plugin bug) is recorded in the report and the next one goes on.
`harvester.harvest` drives this into sinks; `harvester parse` prints it.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import msgspec

from .api import RunContext, Sink, Source
from .config import PluginSpec, RunConfig, convert
from .errors import ConfigError, HarvesterError, InputError, RejectEntry, Unchanged
from .normalise import arxiv_key, clean_text, title_key
from .plugins import Registry
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
    unchanged: list[str] = field(default_factory=list)  # not modified since the last run
    skipped: int = 0  # done in an earlier run (incremental state)
    not_started: list[str] = field(default_factory=list)  # the run stopped before them
    error: str | None = None  # the source could not run at all

    @property
    def ok(self) -> bool:
        return self.error is None and not self.failed and not self.not_started


@dataclass
class RunReport:
    sources: list[SourceReport] = field(default_factory=list)
    fetch: dict[str, Any] | None = None
    seconds: float = 0.0
    stopped: str | None = None  # why the run stopped early (signal, time limit)
    resume_hint: str | None = None

    @property
    def exit_status(self) -> int:
        return EXIT_OK if all(s.ok for s in self.sources) and not self.stopped else EXIT_PARTIAL

    def as_dict(self) -> dict[str, Any]:
        return {
            "status": "ok" if self.exit_status == EXIT_OK else "partial",
            "seconds": round(self.seconds, 3),
            "stopped": self.stopped,
            "resume": self.resume_hint,
            "sources": [
                {
                    "label": s.label,
                    "plugin": s.plugin,
                    "entries": s.entries,
                    "written": s.written,
                    "rejected": s.rejected,
                    "targets": s.targets,
                    "skipped": s.skipped,
                    "failed": [{"target": t, "reason": r} for t, r in s.failed],
                    "empty": s.empty,
                    "unchanged": s.unchanged,
                    "not_started": s.not_started,
                    "error": s.error,
                }
                for s in self.sources
            ],
            "fetch": self.fetch,
        }


_TEXT_FIELDS = ("title", "abstract", "organization", "submitted_by", "published_raw", "url")
# Limits on what comes from outside (characters; list lengths). Past one, the entry is rejected.
FIELD_LIMITS = {
    "title": 2_000,
    "abstract": 100_000,
    "organization": 500,
    "submitted_by": 500,
    "published_raw": 200,
    "url": 2_000,
}
MAX_AUTHORS, MAX_AUTHOR_CHARS, MAX_EXTRA_BYTES = 10_000, 500, 100_000


def finalise(paper: Paper, source: str, now: dt.datetime, *, trusted: bool) -> Paper:
    """Make a source's paper a valid record: clean (untrusted sources), key, stamp, check the
    limits and (untrusted sources) type-check it. Raises `RejectEntry` when it cannot be one."""
    if not isinstance(paper, Paper):
        raise RejectEntry(f"source yielded {type(paper).__name__}, not a Paper")
    if not trusted:
        for name in _TEXT_FIELDS:
            value = getattr(paper, name)
            if value is not None:
                setattr(paper, name, clean_text(str(value)))
        if isinstance(paper.authors, list):
            paper.authors = [a for a in map(clean_text, map(str, paper.authors)) if a]
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
    if not trusted:
        try:  # every field against the schema, now that the core's own fields are set
            paper = msgspec.convert(msgspec.to_builtins(paper), Paper)
        except msgspec.ValidationError as exc:
            raise RejectEntry(f"invalid record: {exc}") from None
    _check_limits(paper)
    return paper


class TargetPolicy:
    """What the run decides around each target; the default reads everything, keeps nothing."""

    def skip(self, source: Source, target: str) -> bool:
        return False

    def stop_reason(self) -> str | None:
        return None

    def hold_reason(self, source: Source, target: str, count: int) -> str | None:
        """Why a target's papers must not be written (suspicious output), or None."""
        return None

    def done(self, source: Source, target: str, records: int) -> None:
        pass


def _check_limits(paper: Paper) -> None:
    for name, limit in FIELD_LIMITS.items():
        value = getattr(paper, name)
        if value is not None and len(value) > limit:
            raise RejectEntry(f"{name} is {len(value)} characters, over the limit of {limit}")
    if len(paper.authors) > MAX_AUTHORS:
        raise RejectEntry(f"{len(paper.authors)} authors, over the limit of {MAX_AUTHORS}")
    if any(len(a) > MAX_AUTHOR_CHARS for a in paper.authors):
        raise RejectEntry(f"an author name is over {MAX_AUTHOR_CHARS} characters")
    if paper.extra and len(msgspec.json.encode(paper.extra)) > MAX_EXTRA_BYTES:
        raise RejectEntry(f"extra is over {MAX_EXTRA_BYTES} bytes")


def iter_source(
    source: Source,
    report: SourceReport,
    now: dt.datetime,
    policy: TargetPolicy | None = None,
    *,
    max_entries: int | None = None,
) -> Iterator[Paper | Rejected]:
    """Finalised papers and rejects of one source, target by target; failures go to `report`.

    A failing target (bad file, failed URL, plugin bug) is recorded and the next one goes on.
    For `guard_counts` sources a target's papers are held until it ends, so that a suspicious
    page can be withheld as a whole.
    """
    policy = policy or TargetPolicy()
    name, trusted, hold = source.name, source.trusted, source.guard_counts
    try:
        targets = list(source.targets())
    except HarvesterError as exc:
        report.error = str(exc)
        log.error("%s: %s", report.label, exc)
        return
    for target in targets:
        if policy.stop_reason() is not None:
            report.not_started.append(target)
            continue
        if policy.skip(source, target):
            report.skipped += 1
            continue
        report.targets += 1
        held: list[Paper | Rejected] = []
        papers = 0
        try:
            for entries, item in enumerate(source.read(target), 1):
                if max_entries is not None and entries > max_entries:
                    raise InputError(target, f"more than {max_entries} entries (run.max_entries)")
                report.entries += 1
                out = _finalised(item, name, now, trusted, target)
                if isinstance(out, Paper):
                    papers += 1
                else:
                    report.rejected += 1
                if hold:
                    held.append(out)
                else:
                    yield out
        except Unchanged:  # e.g. HTTP 304: its done entry and validators stay as they were
            report.unchanged.append(target)
            continue
        except HarvesterError as exc:
            report.failed.append((target, str(exc)))
            log.error("%s: %s", report.label, exc)
            continue
        except Exception as exc:  # a plugin bug must not stop the other targets and sources
            reason = f"{type(exc).__name__}: {exc} (bug in source plugin {name!r})"
            report.failed.append((target, reason))
            log.exception("%s: %s", report.label, reason)
            continue
        if hold:
            if (why := policy.hold_reason(source, target, papers)) is not None:
                report.failed.append((target, f"held back, not written: {why}"))
                log.error("%s: %s: held back: %s", report.label, target, why)
                continue
            yield from held
        report.written += papers
        if not papers and target in source.empty_targets:
            report.empty.append(target)
        policy.done(source, target, papers)


def _finalised(item: Any, name: str, now: dt.datetime, trusted: bool, target: str):
    if isinstance(item, Rejected):
        item.source = item.source or name
        item.rejected_at = now
        return item
    try:
        return finalise(item, name, now, trusted=trusted)
    except RejectEntry as exc:
        return Rejected(
            reason=exc.reason,
            source=name,
            source_ref=getattr(item, "source_ref", "") or str(target),
            raw=exc.raw or getattr(item, "title", None),
            rejected_at=now,
        )


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
