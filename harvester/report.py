"""What a run did: one outcome per target, per-source counts, the run's summary text and its
JSON form (`--summary-json`), and the exit status derived from the outcomes."""

from __future__ import annotations

import datetime as dt
import logging
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from .errors import EXIT_OK, EXIT_PARTIAL
from .outcomes import OK_OUTCOMES, TargetOutcome

log = logging.getLogger("harvester")
DETAILS_SHOWN = 20  # per source, in the summary text; --summary-json lists every target


@dataclass
class TargetReport:
    """How one target ended. Counts are of this run's reading (0 when it was not read)."""

    target: str
    outcome: TargetOutcome
    reason: str | None = None
    entries: int = 0  # entries read: papers + rejected
    papers: int = 0  # papers read
    rejected: int = 0
    published: bool = False  # its papers reached the outputs
    declared: int | None = None  # the entries the upstream declared (None: it declares none)
    day: dt.date | None = None  # the day it lists (the target's date)
    until: dt.datetime | None = None  # deferred: not before

    def log(self, label: str) -> None:
        """One log line: complete and empty at INFO (-v), failed as an error, others warn."""
        why = f": {self.reason}" if self.reason else ""
        if self.outcome in (TargetOutcome.COMPLETE, TargetOutcome.EMPTY):
            log.info(
                "%s: %s: %s, %d papers of %d entries%s",
                label, self.target, self.outcome, self.papers, self.entries, why,
            )  # fmt: skip
        elif self.outcome is TargetOutcome.FAILED:
            log.error("%s: %s: failed%s", label, self.target, why)
        else:
            log.warning("%s: %s: %s%s", label, self.target, self.outcome, why)

    def as_dict(self) -> dict[str, Any]:
        found: dict[str, Any] = {"target": self.target, "outcome": str(self.outcome)}
        if self.outcome is not TargetOutcome.SKIPPED:
            found.update(
                entries=self.entries,
                papers=self.papers,
                rejected=self.rejected,
                published=self.published,
                declared=self.declared,
            )
        found["day"] = self.day.isoformat() if isinstance(self.day, dt.date) else None
        if self.until is not None:
            found["until"] = self.until.isoformat()
        found["reason"] = self.reason
        return found


@dataclass
class SourceReport:
    label: str
    plugin: str
    planned: int = 0  # targets planned (after expanding inputs)
    outcomes: list[TargetReport] = field(default_factory=list)  # one per target that ended
    entries: int = 0  # entries read: papers + rejected
    written: int = 0  # papers published to the sinks
    rejected: int = 0
    unpublished: int = 0  # papers read from targets that were not published
    error: str | None = None  # the source could not run at all

    def add(self, report: TargetReport) -> None:
        self.outcomes.append(report)

    def with_outcome(self, *outcomes: TargetOutcome) -> list[TargetReport]:
        return [r for r in self.outcomes if r.outcome in outcomes]

    def counts(self) -> Counter[str]:
        return Counter(str(r.outcome) for r in self.outcomes)

    # Views by outcome (target, detail), for messages and the workers.
    @property
    def failed(self) -> list[tuple[str, str]]:
        return [(r.target, r.reason or "") for r in self.with_outcome(TargetOutcome.FAILED)]

    @property
    def empty(self) -> list[tuple[str, str]]:
        return [(r.target, r.reason or "") for r in self.with_outcome(TargetOutcome.EMPTY)]

    @property
    def deferred(self) -> list[tuple[str, dt.datetime]]:
        found = self.with_outcome(TargetOutcome.DEFERRED)
        return [(r.target, r.until) for r in found if r.until is not None]

    @property
    def skipped(self) -> int:
        return len(self.with_outcome(TargetOutcome.SKIPPED))

    @property
    def ok(self) -> bool:
        return self.error is None and all(r.outcome in OK_OUTCOMES for r in self.outcomes)

    @property
    def done(self) -> int:
        """Targets this run has finished with, whatever the outcome (for progress)."""
        return len(self.outcomes)

    def as_dict(self) -> dict[str, Any]:
        return {
            "label": self.label,
            "plugin": self.plugin,
            "planned": self.planned,
            "outcomes": dict(sorted(self.counts().items())),
            "entries": self.entries,
            "written": self.written,
            "rejected": self.rejected,
            "unpublished": self.unpublished,
            "error": self.error,
            "targets": [r.as_dict() for r in self.outcomes],
        }


@dataclass
class RunReport:
    harvested_at: dt.datetime | None = None
    sources: list[SourceReport] = field(default_factory=list)
    outputs: dict[str, str] = field(default_factory=dict)  # sink label -> where it wrote
    published: bool = False  # the outputs hold this run's records (False: left as they were)
    kept: list[str] = field(default_factory=list)  # replacing outputs left as they were
    fetch: dict[str, Any] | None = None
    seconds: float = 0.0
    stopped: str | None = None  # why the run stopped early (signal, time limit)
    resume_hint: str | None = None

    @property
    def exit_status(self) -> int:
        """0 when every target ended complete, empty or skipped and the run was not stopped;
        3 (partial) otherwise. Output and usage errors end a run before it reports."""
        ok = all(s.ok for s in self.sources) and not self.stopped
        return EXIT_OK if ok else EXIT_PARTIAL

    def as_dict(self) -> dict[str, Any]:
        return {
            "status": "ok" if self.exit_status == EXIT_OK else "partial",
            "harvested_at": self.harvested_at.isoformat() if self.harvested_at else None,
            "seconds": round(self.seconds, 3),
            "stopped": self.stopped,
            "resume": self.resume_hint,
            "published": self.published,
            "outputs": self.outputs,
            "kept": self.kept,
            "sources": [s.as_dict() for s in self.sources],
            "fetch": self.fetch,
        }


def format_summary(report: RunReport) -> str:
    """The summary a run prints on stderr: per source, its targets counted by outcome, then
    one line per target that did not end complete or skipped."""
    lines = []
    for s in report.sources:
        lines.append(_source_line(s))
        lines.extend(_source_details(s))
    if report.fetch:
        shown = [f"{k}={v}" for k, v in report.fetch.items() if not isinstance(v, list | dict)]
        lines.append("fetch: " + ", ".join(shown))
    if report.outputs:
        verb = "written to" if report.published else "left as they were (nothing new written)"
        lines.append(
            f"outputs {verb}: " + ", ".join(f"{k} -> {v}" for k, v in report.outputs.items())
        )
    if report.kept:
        lines.append(
            "left as they were, so that they do not lose the targets that were not published: "
            + ", ".join(report.kept)
        )
    if report.stopped:
        lines.append(f"stopped early ({report.stopped}): {report.resume_hint}")
    status = "ok" if report.exit_status == EXIT_OK else "PARTIAL"
    lines.append(f"status: {status} in {report.seconds:.1f}s")
    return "\n".join(lines)


def _source_line(s: SourceReport) -> str:
    counts = s.counts()
    by_outcome = ", ".join(f"{counts[o]} {o}" for o in TargetOutcome if counts[o])
    line = f"{s.label}: {s.planned} target{_s(s.planned)}" + (f" ({by_outcome})" if counts else "")
    line += f"; {s.written:,} papers written, {s.rejected:,} rejected"
    if s.unpublished:
        line += f", {s.unpublished:,} read but not published"
    return line


def _source_details(s: SourceReport) -> list[str]:
    lines = [f"  error: {s.error}"] if s.error else []
    shown = [r for r in s.outcomes if r.outcome not in (TargetOutcome.COMPLETE, "skipped")]
    for r in shown[:DETAILS_SHOWN]:
        detail = r.reason or ""
        if r.until is not None:
            detail = f"until {r.until.isoformat()}" + (f": {detail}" if detail else "")
        lines.append(f"  {r.outcome}: {r.target}" + (f": {detail}" if detail else ""))
    if len(shown) > DETAILS_SHOWN:
        lines.append(f"  ... and {len(shown) - DETAILS_SHOWN} more (--summary-json lists all)")
    return lines


def _s(n: int) -> str:
    return "" if n == 1 else "s"
