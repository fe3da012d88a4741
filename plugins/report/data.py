"""What the report shows, computed from any store (`harvester.store`) and a rejects file."""

from __future__ import annotations

import datetime as dt
import re
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from harvester.errors import InputError, UsageError
from harvester.jsonl import read_jsonl
from harvester.readback import open_store
from harvester.schema import Paper, Rejected
from harvester.store import Observation

# Upvote histogram bins: (label, lowest, highest or None).
UPVOTE_BINS = (
    ("0", 0, 0),
    ("1-4", 1, 4),
    ("5-9", 5, 9),
    ("10-19", 10, 19),
    ("20-49", 20, 49),
    ("50-99", 50, 99),
    ("100-199", 100, 199),
    ("200+", 200, None),
)


@dataclass
class Series:
    key: str
    title: str
    points: list[tuple[dt.datetime, int]]


@dataclass(frozen=True)
class Trend:
    """A paper's upvotes over its observations: the change from the first to the latest."""

    change: int
    points: int
    since: dt.datetime


@dataclass
class ReportData:
    source: str
    papers: int
    listed: list[Paper]  # every paper, by key
    trends: dict[str, Trend]  # paper key -> trend, for papers observed more than once
    per_day: list[tuple[str, int]]
    upvotes: list[tuple[str, int]]
    no_upvotes: int  # papers whose listing shows no upvote count
    organisations: list[tuple[str, int]]
    history: list[Series] | None  # None: the source keeps no history
    rejects: list[tuple[str, int]] | None  # None: no rejects file given
    rejects_total: int = 0
    notes: list[str] = field(default_factory=list)


def build(source: str, rejects: Path | None, *, top: int = 10, history_top: int = 5) -> ReportData:
    with open_store(source) as store:
        papers = store.papers()
        observations = store.observations() if store.keeps_history else None
        where = store.describe()
    days = Counter(p.listing_date.isoformat() for p in papers if p.listing_date)
    undated = sum(1 for p in papers if p.listing_date is None)
    per_day = sorted(days.items())
    if undated:
        per_day.append(("no date", undated))
    counted = Counter(p.organization for p in papers if p.organization)
    orgs = sorted(counted.items(), key=lambda item: (-item[1], item[0]))[:top]
    reasons, total = (None, 0) if rejects is None else reject_reasons(rejects, top)
    return ReportData(
        source=where,
        papers=len(papers),
        listed=papers,
        trends=upvote_trends(observations or []),
        per_day=per_day,
        upvotes=upvote_histogram(papers),
        no_upvotes=sum(1 for p in papers if p.upvotes is None),
        organisations=orgs,
        history=upvote_history(papers, observations, history_top),
        rejects=reasons,
        rejects_total=total,
    )


def upvote_histogram(papers: list[Paper]) -> list[tuple[str, int]]:
    counts = dict.fromkeys((label for label, _, _ in UPVOTE_BINS), 0)
    for paper in papers:
        if paper.upvotes is None:
            continue
        for label, low, high in UPVOTE_BINS:
            if paper.upvotes >= low and (high is None or paper.upvotes <= high):
                counts[label] += 1
                break
    return list(counts.items())


def upvote_history(
    papers: list[Paper], observations: list[Observation] | None, top: int
) -> list[Series] | None:
    """The upvotes over time of the `top` papers with the most upvotes (latest count)."""
    if observations is None:
        return None
    ranked = sorted(
        (p for p in papers if p.upvotes is not None), key=lambda p: (-(p.upvotes or 0), p.key)
    )[:top]
    by_key: dict[str, list[tuple[dt.datetime, int]]] = {p.key: [] for p in ranked}
    for seen in observations:
        if seen.key in by_key and seen.upvotes is not None:
            by_key[seen.key].append((seen.observed_at, seen.upvotes))
    return [Series(p.key, p.title, sorted(set(by_key[p.key]))) for p in ranked]


def upvote_trends(observations: list[Observation]) -> dict[str, Trend]:
    """Per paper observed more than once: its upvotes' change from first to latest point (every
    source's points together, in time order)."""
    by_key: dict[str, list[tuple[dt.datetime, int, int]]] = {}
    for seen in observations:
        if seen.upvotes is not None:
            by_key.setdefault(seen.key, []).append((seen.observed_at, seen.seq, seen.upvotes))
    trends = {}
    for key, points in by_key.items():
        if len(points) > 1:
            points.sort()
            trends[key] = Trend(points[-1][2] - points[0][2], len(points), points[0][0])
    return trends


_QUOTED = re.compile(r"'[^']*'|\"[^\"]*\"")
_NUMBER = re.compile(r"\d+")


def reason_group(reason: str) -> str:
    """Reasons that differ only in quoted values or numbers are one group."""
    return _NUMBER.sub("N", _QUOTED.sub("'…'", reason)).strip()


def reject_reasons(path: Path, top: int) -> tuple[list[tuple[str, int]], int]:
    try:
        rejects = [r for _, r in read_jsonl(path, Rejected)]
    except InputError as exc:
        raise UsageError(f"{exc} (expected the run's rejects JSONL)") from exc
    except OSError as exc:
        raise UsageError(f"{path}: cannot read: {exc}") from exc
    groups = Counter(reason_group(r.reason) for r in rejects).most_common()
    shown = groups[:top]
    rest = sum(n for _, n in groups[top:])
    if rest:
        shown.append((f"{len(groups) - top} other reasons", rest))
    return shown, len(rejects)
