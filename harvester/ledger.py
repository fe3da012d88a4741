"""The ledger: what the run state says of a config's targets (`harvester status CONFIG`).

Per source: the config's targets counted by their last outcome (`pending`: never attempted),
the last complete day, the gaps (targets whose last attempt did not end complete or empty, and
days up to today never attempted; a later run reads them again), and the host deferrals in
force. It reads the state
without changing it, from a directory or PostgreSQL alike, while a run may hold it.

Plugins add sections (the workers' queue) through the `status_section` hook.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from .errors import HarvesterError
from .plan import Plan
from .state import SourceState, State

PENDING = "pending"  # a target no run has attempted yet
GAPS_SHOWN = 30


@dataclass
class Gap:
    target: str
    day: dt.date | None  # None: the target lists no single day (a file, a search)
    outcome: str
    reason: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return {
            "target": self.target,
            "day": self.day.isoformat() if self.day else None,
            "outcome": self.outcome,
            "reason": self.reason,
        }


@dataclass
class SourceLedger:
    label: str
    counts: Counter[str] = field(default_factory=Counter)
    last_complete_day: dt.date | None = None
    gaps: list[Gap] = field(default_factory=list)
    error: str | None = None  # the source's targets could not be listed

    def as_dict(self) -> dict[str, Any]:
        day = self.last_complete_day
        return {
            "source": self.label,
            "targets": dict(sorted(self.counts.items())),
            "last_complete_day": day.isoformat() if day else None,
            "gaps": [g.as_dict() for g in self.gaps],
            "error": self.error,
        }


def last_outcome(saved: SourceState, target: str) -> tuple[str, str | None]:
    """(outcome, reason) of a target's last attempt: its done entry or its unfinished one,
    whichever is later; `pending` when neither exists."""
    done, unfinished = saved.done.get(target), saved.unfinished.get(target)
    if unfinished is not None and (done is None or unfinished.at >= done.done_at):
        return unfinished.outcome, unfinished.reason
    if done is not None:
        return done.outcome, None
    return PENDING, None


def source_ledger(label: str, targets: list[Any], saved: SourceState, today: dt.date):
    found = SourceLedger(label)
    for target in targets:
        target_id = getattr(target, "id", str(target))
        when = getattr(target, "date", None)
        day = when if isinstance(when, dt.date) else None
        outcome, reason = last_outcome(saved, target_id)
        found.counts[outcome] += 1
        if day is not None and day > today:
            continue  # not due yet
        if outcome == "complete" and day is not None:
            if found.last_complete_day is None or day > found.last_complete_day:
                found.last_complete_day = day
        elif outcome not in ("complete", "empty") and (day is not None or outcome != PENDING):
            found.gaps.append(Gap(target_id, day, outcome, reason))
    found.gaps.sort(key=lambda g: (g.day is None, g.day or dt.date.min, g.target))
    return found


def ledger(plan: Plan, state: State, today: dt.date) -> list[SourceLedger]:
    found = []
    for label, source in plan.sources:
        try:
            targets = list(source.targets())
        except HarvesterError as exc:
            found.append(SourceLedger(label, error=str(exc)))
            continue
        found.append(source_ledger(label, targets, state.source(label), today))
    return found


def deferrals(state: State, now: dt.datetime) -> dict[str, str]:
    return {h: u.isoformat() for h, u in sorted(state.deferrals.items()) if u > now}


def ledger_lines(sources: list[SourceLedger], deferred: dict[str, str]) -> list[str]:
    lines = []
    for s in sources:
        if s.error:
            lines.append(f"{s.label}: cannot list its targets: {s.error}")
            continue
        counts = ", ".join(f"{n} {o}" for o, n in sorted(s.counts.items()))
        lines.append(f"{s.label}: {sum(s.counts.values())} targets ({counts or 'none'})")
        if s.last_complete_day:
            lines.append(f"  last complete day: {s.last_complete_day}")
        if s.gaps:
            lines.append(f"  gaps: {len(s.gaps)} not complete (the next run reads them again)")
        for g in s.gaps[:GAPS_SHOWN]:
            why = f": {g.reason}" if g.reason else ""
            lines.append(f"    {g.day or '-'} {g.outcome}: {g.target}{why}")
        if len(s.gaps) > GAPS_SHOWN:
            lines.append(f"    ... and {len(s.gaps) - GAPS_SHOWN} more (--json lists all)")
    lines.extend(f"deferred: {host} until {until}" for host, until in deferred.items())
    return lines
