"""How a target ends: one named outcome, judged by the core from what was read and what the
upstream declared.

A source declares what its upstream promises on the `Target` while it reads (see
`Target.declare`, `Target.mark_empty`, `Target.cut_short`); the run counts what was read, and
`judge` names the outcome. The vocabulary is fixed and documented (README, "Target outcomes"):

    complete    read, and as many entries as the upstream declared where it declares a count
    empty       the upstream says there is nothing, with the evidence
    incomplete  fewer entries than declared, an answer cut short, a listing far below its
                history, or most entries rejected: with got and expected
    stale       the upstream's own day for its answer is older than the day asked for
    deferred    not attempted, or stopped, because the site asked us to wait (until when)
    stopped     interrupted by a signal or the run's time limit; the next run does it
    failed      with the reason
    skipped     done by an earlier run (or unchanged since it: HTTP 304)

Only `complete` and `empty` targets are published, and `incomplete` ones of a source whose
partial data is usable (`Source.publish_incomplete`). Pure: no I/O, no run state.
"""

from __future__ import annotations

import datetime as dt
import enum
from dataclasses import dataclass, field


class TargetOutcome(enum.StrEnum):
    COMPLETE = "complete"
    EMPTY = "empty"
    INCOMPLETE = "incomplete"
    STALE = "stale"
    DEFERRED = "deferred"
    STOPPED = "stopped"
    FAILED = "failed"
    SKIPPED = "skipped"


# Outcomes after which a target is done: a later run skips it (unless it changed or is recent).
DONE_OUTCOMES = frozenset({TargetOutcome.COMPLETE, TargetOutcome.EMPTY})
# Outcomes that make a run "ok" (exit status 0); any other is partial (exit status 3).
OK_OUTCOMES = DONE_OUTCOMES | {TargetOutcome.SKIPPED}
# Outcomes of a target cut off before its end that a later run reads whole: its rejects are
# written then, not now (they would be written twice).
CUT_OFF = frozenset({TargetOutcome.STOPPED, TargetOutcome.DEFERRED})


@dataclass
class Part:
    """A declared part of a target (a section of a page): its name, the entries the upstream
    declared for it, and the run's entry count when it began."""

    name: str
    total: int
    start: int
    got: int = 0


@dataclass
class Declared:
    """What the upstream promised for one target, as its source declared it while reading."""

    total: int | None = None  # entries the upstream says the target has (sum of parts' too)
    parts: list[Part] = field(default_factory=list)
    day: dt.date | None = None  # the day the upstream says it answered for
    empty: str | None = None  # the upstream says there is nothing: the evidence
    empty_plausible: bool | None = None  # whether an empty answer is plausible that day
    cut_short: str | None = None  # the answer ended before its end: why
    resume: bool = False  # cut short, the next run continues where this one stopped (its memo)


@dataclass(frozen=True)
class Verdict:
    outcome: TargetOutcome
    reason: str | None = None
    expected: int | None = None  # the declared total (None: the upstream declared none)


def judge(
    declared: Declared,
    *,
    entries: int,
    rejected: int,
    asked_day: dt.date | None,
    held_back: str | None = None,
) -> Verdict:
    """The outcome of a target read to its end (no failure, deferral or stop): `entries`
    counted by the run (papers + rejects), `asked_day` the target's day, `held_back` why the
    suspicious-output guard held it (None: not held)."""
    total = declared.total
    if declared.day is not None and asked_day is not None and declared.day < asked_day:
        return Verdict(
            TargetOutcome.STALE,
            f"the upstream answered for {declared.day}, older than {asked_day} asked for",
            total,
        )
    if entries == 0 and declared.empty is not None:
        return Verdict(TargetOutcome.EMPTY, declared.empty, total)
    if declared.cut_short is not None:
        return Verdict(TargetOutcome.INCOMPLETE, f"cut short: {declared.cut_short}", total)
    short = _short_parts(declared)
    if total is not None and entries < total:
        where = f" ({short})" if short else ""
        return Verdict(
            TargetOutcome.INCOMPLETE, f"got {entries} of {total} declared entries{where}", total
        )
    if short:
        return Verdict(TargetOutcome.INCOMPLETE, short, total)
    if total is not None and entries > total:
        return Verdict(
            TargetOutcome.FAILED,
            f"read {entries} entries, more than the {total} the upstream declared",
            total,
        )
    if entries == 0 and total == 0:
        return Verdict(TargetOutcome.EMPTY, "the upstream declared no entries", total)
    if entries == 0 and declared.empty_plausible:
        return Verdict(TargetOutcome.EMPTY, "no entries, plausible on this day", total)
    if held_back is not None and total is None:  # a declared total outranks the history
        return Verdict(TargetOutcome.INCOMPLETE, f"held back: {held_back}", total)
    if entries == 0:
        why = (
            "no entries where the upstream always lists some"
            if declared.empty_plausible is False
            else "no entries, and nothing says the upstream has none"
        )
        return Verdict(TargetOutcome.INCOMPLETE, why, total)
    if rejected * 2 > entries:
        return Verdict(
            TargetOutcome.INCOMPLETE, f"{rejected} of {entries} entries were rejected", total
        )
    return Verdict(TargetOutcome.COMPLETE, None, total)


def _short_parts(declared: Declared) -> str | None:
    """Parts that got fewer entries than declared, named (None: none short)."""
    short = [f"{p.name}: got {p.got} of {p.total}" for p in declared.parts if p.got < p.total]
    return "; ".join(short) or None


def close_parts(declared: Declared, entries: int) -> None:
    """Count each declared part's entries, from where it began to where the next began (the
    last to `entries`, the target's final count)."""
    parts = declared.parts
    ends = [p.start for p in parts[1:]] + [entries] if parts else []
    for part, end in zip(parts, ends, strict=True):
        part.got = end - part.start
