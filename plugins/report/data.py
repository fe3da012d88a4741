"""What the report shows, computed from a harvest (JSONL or database) and its rejects file."""

from __future__ import annotations

import datetime as dt
import re
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from harvester.errors import InputError
from harvester.jsonl import read_jsonl
from harvester.schema import Paper, Rejected

from ..paper_sources import Observation, SourceFileError, read_observations, read_papers

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


@dataclass
class ReportData:
    source: str
    papers: int
    per_day: list[tuple[str, int]]
    upvotes: list[tuple[str, int]]
    no_upvotes: int  # papers whose listing shows no upvote count
    organisations: list[tuple[str, int]]
    history: list[Series] | None  # None: the source keeps no history
    rejects: list[tuple[str, int]] | None  # None: no rejects file given
    rejects_total: int = 0
    notes: list[str] = field(default_factory=list)


def build(source: Path, rejects: Path | None, *, top: int = 10, history_top: int = 5) -> ReportData:
    papers = read_papers(source)
    days = Counter(p.listing_date.isoformat() for p in papers if p.listing_date)
    undated = sum(1 for p in papers if p.listing_date is None)
    per_day = sorted(days.items())
    if undated:
        per_day.append(("no date", undated))
    orgs = Counter(p.organization for p in papers if p.organization).most_common(top)
    reasons, total = (None, 0) if rejects is None else reject_reasons(rejects, top)
    return ReportData(
        source=str(source),
        papers=len(papers),
        per_day=per_day,
        upvotes=upvote_histogram(papers),
        no_upvotes=sum(1 for p in papers if p.upvotes is None),
        organisations=orgs,
        history=upvote_history(papers, read_observations(source), history_top),
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


_QUOTED = re.compile(r"'[^']*'|\"[^\"]*\"")
_NUMBER = re.compile(r"\d+")


def reason_group(reason: str) -> str:
    """Reasons that differ only in quoted values or numbers are one group."""
    return _NUMBER.sub("N", _QUOTED.sub("'…'", reason)).strip()


def reject_reasons(path: Path, top: int) -> tuple[list[tuple[str, int]], int]:
    try:
        rejects = [r for _, r in read_jsonl(path, Rejected)]
    except InputError as exc:
        raise SourceFileError(f"{exc} (expected the run's rejects JSONL)") from exc
    except OSError as exc:
        raise SourceFileError(f"{path}: cannot read: {exc}") from exc
    groups = Counter(reason_group(r.reason) for r in rejects).most_common()
    shown = groups[:top]
    rest = sum(n for _, n in groups[top:])
    if rest:
        shown.append((f"{len(groups) - top} other reasons", rest))
    return shown, len(rejects)
