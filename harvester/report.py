"""What a run did: per-source counts and outcomes, the run's summary text and its JSON form."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from .errors import EXIT_OK, EXIT_PARTIAL


@dataclass
class SourceReport:
    label: str
    plugin: str
    targets: int = 0  # planned (after expanding inputs)
    skipped: int = 0  # done in an earlier run (incremental state)
    read: int = 0  # read to the end (written, empty or held back counted separately)
    entries: int = 0  # entries yielded: papers + rejected
    written: int = 0  # papers handed to the sinks
    rejected: int = 0
    failed: list[tuple[str, str]] = field(default_factory=list)  # (target, reason)
    empty: list[tuple[str, str]] = field(default_factory=list)  # (target, why): legitimately
    unchanged: list[str] = field(default_factory=list)  # not modified since the last run
    deferred: list[tuple[str, dt.datetime]] = field(default_factory=list)  # (target, until)
    not_started: list[str] = field(default_factory=list)  # the run stopped before them
    error: str | None = None  # the source could not run at all

    @property
    def ok(self) -> bool:
        return not (self.error or self.failed or self.not_started or self.deferred)

    @property
    def done(self) -> int:
        """Targets this run has finished with, whatever the outcome (for progress)."""
        return (
            self.skipped
            + self.read
            + len(self.failed)
            + len(self.unchanged)
            + len(self.deferred)
            + len(self.not_started)
        )

    def as_dict(self) -> dict[str, Any]:
        return {
            "label": self.label,
            "plugin": self.plugin,
            "targets": self.targets,
            "skipped": self.skipped,
            "read": self.read,
            "entries": self.entries,
            "written": self.written,
            "rejected": self.rejected,
            "failed": [{"target": t, "reason": r} for t, r in self.failed],
            "empty": [{"target": t, "why": w} for t, w in self.empty],
            "unchanged": self.unchanged,
            "deferred": [{"target": t, "until": u.isoformat()} for t, u in self.deferred],
            "not_started": self.not_started,
            "error": self.error,
        }


@dataclass
class RunReport:
    harvested_at: dt.datetime | None = None
    sources: list[SourceReport] = field(default_factory=list)
    outputs: dict[str, str] = field(default_factory=dict)  # sink label -> where it wrote
    published: bool = False  # the outputs hold this run's records (False: left as they were)
    fetch: dict[str, Any] | None = None
    seconds: float = 0.0
    stopped: str | None = None  # why the run stopped early (signal, time limit)
    resume_hint: str | None = None

    @property
    def exit_status(self) -> int:
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
            "sources": [s.as_dict() for s in self.sources],
            "fetch": self.fetch,
        }


def format_summary(report: RunReport) -> str:
    """The summary a run prints on stderr."""
    lines = [f"{'source':<24} {'targets':>7} {'written':>8} {'rejected':>8} {'failed':>6}"]
    for s in report.sources:
        lines.append(
            f"{s.label:<24} {s.targets:>7} {s.written:>8} {s.rejected:>8} {len(s.failed):>6}"
        )
        lines.extend(_source_details(s))
    if report.fetch:
        shown = [f"{k}={v}" for k, v in report.fetch.items() if not isinstance(v, list | dict)]
        lines.append("fetch: " + ", ".join(shown))
    if report.outputs:
        verb = "written to" if report.published else "left as they were (nothing new written)"
        lines.append(
            f"outputs {verb}: " + ", ".join(f"{k} -> {v}" for k, v in report.outputs.items())
        )
    if report.stopped:
        lines.append(f"stopped early ({report.stopped}): {report.resume_hint}")
    status = "ok" if report.exit_status == EXIT_OK else "PARTIAL"
    lines.append(f"status: {status} in {report.seconds:.1f}s")
    return "\n".join(lines)


def _source_details(s: SourceReport) -> list[str]:
    lines = []
    if s.error:
        lines.append(f"  error: {s.error}")
    lines.extend(f"  failed: {t}: {reason}" for t, reason in s.failed)
    lines.extend(f"  empty: {t}: {why}" for t, why in s.empty)
    lines.extend(f"  deferred: {t}: until {u.isoformat()}" for t, u in s.deferred)
    if s.skipped or s.unchanged:
        lines.append(f"  skipped (done earlier): {s.skipped}, unchanged: {len(s.unchanged)}")
    if s.not_started:
        lines.append(f"  not started: {len(s.not_started)} target{_s(len(s.not_started))}")
    return lines


def _s(n: int) -> str:
    return "" if n == 1 else "s"
