"""A record log (JSONL lines, Parquet record files, a whole-file sink's staged papers) merged into
papers exactly as the database sinks merge it, in Python: the same batch plan
(`matching.plan`), the same column rules (`rules.merged`, `rules.absorbed`), the same sightings
and the same observation rule (`metrics`). So a JSONL file and a database written by one run
hold the same papers, sightings and history, and a bibliography lists a paper once.

Rows are kept as the rules' Python statement reads them (decoded JSON, ISO text dates and
times); `papers()`, `sightings()` and `observations()` convert them for `harvester.store`.
"""

from __future__ import annotations

import bisect
import datetime as dt
import functools
from collections.abc import Iterable, Iterator, Sequence
from typing import Any

import msgspec

from harvester.schema import Paper
from harvester.store import Observation, Sighting, Store

from . import matching, rules
from .metrics import observation

# (observed_at, seq, upvotes, comments, github_stars): a series sorts by time, then seq
Point = tuple[str, int, Any, Any, Any]
_FROM_LEAD = rules.AT["from_lead"]


class RecordLog:
    """Records merged in the order they were written; `add` takes one batch at a time."""

    def __init__(self) -> None:
        self.rows: dict[str, dict[str, Any]] = {}
        self.titles: dict[str, set[str]] = {}  # title_key -> keys of the rows that have it
        self.seen: dict[tuple[str, str, str], list[Any]] = {}  # -> [listing_date, first, last]
        self.series: dict[tuple[str, str], list[Point]] = {}  # (key, source) -> points
        self._builder = rules.RowBuilder()

    def add(self, papers: Sequence[Paper], leads: Sequence[int | None] | None = None) -> None:
        """Merge a batch. `leads`: the papers' own ``from_lead`` (merged rows written out with
        it, as Parquet paper files are), where a record's is not what its source implies."""
        built = [self._builder.row(p, "") for p in papers]
        for row, bits in zip(built, leads or (), strict=False):
            if bits is not None:
                row[_FROM_LEAD] = bits
        wanted = {row[rules.AT["title_key"]] for row in built}
        stored = (
            (tkey, key, r["arxiv_id"], r["content_hash"], r["harvested_at"])
            for tkey in wanted
            for key in self.titles.get(tkey, ())
            for r in (self.rows[key],)
        )
        by_title, held = matching.index_stored(stored)
        for step in matching.plan(built, by_title):
            if isinstance(step, matching.Absorb):
                self._absorb(step)
                matching.forget(step, held)
                continue
            full, refresh = matching.split_changes(step, built, held)
            for i in full:
                self._merge(_decoded(built[i]), papers[i])
            for i in refresh:
                self._sight(_decoded(built[i]))

    # -- what a sink's statements do ---------------------------------------------------------

    def _merge(self, new: dict[str, Any], paper: Paper) -> None:
        key = new["key"]
        old = self.rows.get(key)
        row = new if old is None else rules.merged(old, new)
        if old is not None and old["title_key"] != row["title_key"]:
            self.titles[old["title_key"]].discard(key)
        self.rows[key] = row
        self.titles.setdefault(row["title_key"], set()).add(key)
        self._sight(new)
        point = observation(paper, key, new["harvested_at"])
        if point is not None and point[1] is not None:
            self._observe(point)

    def _sight(self, row: dict[str, Any]) -> None:
        source, ref, at = row["source"], row["source_ref"], row["harvested_at"]
        if source is None or ref is None:
            return  # the sinks' sightings need both (every finalised record has them)
        known = self.seen.get((row["key"], source, ref))
        if known is None:
            self.seen[(row["key"], source, ref)] = [row["listing_date"], at, at]
        elif at is not None and known[1] is not None and (at < known[1] or at > known[2]):
            known[1], known[2] = min(known[1], at), max(known[2], at)

    def _observe(self, point: tuple[Any, ...]) -> None:
        key, source, at, *values = point
        points = self.series.setdefault((key, source), [])
        same_time = [p for p in points if p[0] == at]
        if any(list(p[2:]) == values for p in same_time):
            return  # stored at that time already: a replay
        before = [p for p in points if p[0] <= at]
        if before and list(before[-1][2:]) == values:
            return  # nothing changed since the point before it
        seq = max((p[1] for p in same_time), default=-1) + 1
        bisect.insort(points, (at, seq, *values))

    def _absorb(self, step: matching.Absorb) -> None:
        gone = self.rows.pop(step.title_row_key)
        self.titles[gone["title_key"]].discard(step.title_row_key)
        kept = self.rows.get(step.arxiv_row_key)
        if kept is None:  # re-keyed in place
            row = dict(gone, key=step.arxiv_row_key, arxiv_id=step.arxiv_id, content_hash=None)
        else:
            row = rules.absorbed(kept, gone)
        self.rows[step.arxiv_row_key] = row
        self.titles.setdefault(row["title_key"], set()).add(step.arxiv_row_key)
        self._move_history(step.title_row_key, step.arxiv_row_key)

    def _move_history(self, old: str, new: str) -> None:
        """Sightings and points go with the row; what the arXiv row has already wins."""
        for key, source, ref in [k for k in self.seen if k[0] == old]:
            moved = self.seen.pop((key, source, ref))
            self.seen.setdefault((new, source, ref), moved)
        for key, source in [k for k in self.series if k[0] == old]:
            target = self.series.setdefault((new, source), [])
            taken = {p[:2] for p in target}
            for point in self.series.pop((key, source)):
                if point[:2] not in taken:
                    bisect.insort(target, point)

    # -- read back ---------------------------------------------------------------------------

    def papers(self) -> list[Paper]:
        return [to_paper(self.rows[key]) for key in sorted(self.rows)]

    def sightings(self) -> list[Sighting]:
        return [
            Sighting(key, source, ref, _date(day), _time(first), _time(last))
            for (key, source, ref), (day, first, last) in sorted(self.seen.items())
        ]

    def observations(self, key: str | None = None) -> list[Observation]:
        found = []
        for (k, source), points in sorted(self.series.items()):
            if key is None or k == key:
                found += [Observation(k, source, _stamp(t), n, *rest) for t, n, *rest in points]
        return found


class RecordLogStore(Store):
    """A store that is a log of records: `batches()` in the order they were written, replayed
    once (on first use) through `RecordLog` (`fill`)."""

    def batches(self) -> Iterator[Sequence[Paper]]:
        raise NotImplementedError

    def fill(self, log: RecordLog) -> None:
        for batch in self.batches():
            log.add(batch)

    @functools.cached_property
    def log(self) -> RecordLog:
        log = RecordLog()
        self.fill(log)
        return log

    def papers(self) -> list[Paper]:
        return self.log.papers()

    def paper(self, key: str) -> Paper | None:
        row = self.log.rows.get(key)
        return None if row is None else to_paper(row)

    def sightings(self) -> list[Sighting]:
        return self.log.sightings()

    def observations(self, key: str | None = None) -> list[Observation]:
        return self.log.observations(key)


def replay(batches: Iterable[Sequence[Paper]]) -> RecordLog:
    log = RecordLog()
    for batch in batches:
        log.add(batch)
    return log


def merged_papers(papers: Sequence[Paper]) -> list[Paper]:
    """Records (in the order written) as one paper each, as a database would hold them."""
    return replay([papers]).papers()


def to_paper(row: dict[str, Any]) -> Paper:
    return rules.paper_from_row(row)  # what a database row holds


def _decoded(values: list[Any]) -> dict[str, Any]:
    row = dict(zip(rules.COLUMNS, values, strict=True))
    for name in rules.JSON_COLUMNS:
        if row[name] is not None:
            row[name] = msgspec.json.decode(row[name])
    return row


def _date(text: str | None) -> dt.date | None:
    return None if text is None else dt.date.fromisoformat(text)


def _stamp(text: str) -> dt.datetime:
    """An observation's time: always recorded."""
    value = _time(text)
    assert value is not None
    return value


def _time(text: str | None) -> dt.datetime | None:
    if text is None:
        return None
    value = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
    return value if value.tzinfo else value.replace(tzinfo=dt.UTC)
