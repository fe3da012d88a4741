"""Reading the tables the database sinks write (``papers``, ``sightings``, ``observations``) back
as `harvester.store` gives them: one set of queries for both dialects. A dialect connects and
says its placeholder (`PARAM`), how to run a query (`_query`) and which columns a table has
(`_columns`); values come back as its driver gives them (JSON as text or decoded, dates and
times as ISO text or objects) and are converted here, the same for both.

Databases of older layouts are read as they are: columns added later are skipped, observations
without ``seq`` read as ``seq`` 0, and one without sightings or observations (schema 1, not yet
migrated by a sink) has none and says it keeps no history.
"""

from __future__ import annotations

import datetime as dt
from typing import Any, ClassVar

import msgspec

from harvester.schema import FIELDS, Paper
from harvester.store import Observation, Sighting, Store, StoreError

from .metrics import METRICS
from .rules import paper_from_row

SIGHTING_COLUMNS = (
    "key",
    "source",
    "source_ref",
    "listing_date",
    "first_harvested_at",
    "last_harvested_at",
)


class DatabaseStore(Store):
    PARAM: ClassVar[str]  # the driver's placeholder: "?" or "%s"

    def _query(self, sql: str, params: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
        raise NotImplementedError

    def _columns(self, table: str) -> list[str]:
        """The table's columns; [] when there is no such table."""
        raise NotImplementedError

    def _check(self) -> None:
        """At open: a harvester database has a `papers` table; history needs `observations`."""
        self._paper_columns = [f for f in FIELDS if f in set(self._columns("papers"))]
        if "key" not in self._paper_columns:
            raise StoreError(f"{self.describe()}: not a harvester database (no papers table)")
        observed = set(self._columns("observations"))
        self.keeps_history = bool(observed)
        self._seq = "seq" if "seq" in observed else "0"
        self._has_sightings = bool(self._columns("sightings"))

    def papers(self) -> list[Paper]:
        return self._papers("")

    def paper(self, key: str) -> Paper | None:
        found = self._papers(f"WHERE key = {self.PARAM}", (key,))
        return found[0] if found else None

    def _papers(self, where: str, params: tuple[Any, ...] = ()) -> list[Paper]:
        names = self._paper_columns
        rows = self._query(f"SELECT {', '.join(names)} FROM papers {where} ORDER BY key", params)
        papers = []
        for values in rows:
            data = dict(zip(names, values, strict=True))
            try:
                papers.append(paper_from_row(data))
            except msgspec.ValidationError as exc:
                raise StoreError(f"{self.describe()}: papers row {data['key']!r}: {exc}") from None
        return papers

    def sightings(self) -> list[Sighting]:
        if not self._has_sightings:
            return []
        rows = self._query(
            f"SELECT {', '.join(SIGHTING_COLUMNS)} FROM sightings ORDER BY key, source, source_ref"
        )
        return [
            Sighting(key, source, ref, as_date(day), as_time(first), as_time(last))
            for key, source, ref, day, first, last in rows
        ]

    def observations(self, key: str | None = None) -> list[Observation]:
        if not self.keeps_history:
            return []
        where, params = ("", ()) if key is None else (f"WHERE key = {self.PARAM}", (key,))
        then = ", seq" if self._seq == "seq" else ""  # a 2.0 layout has no seq: all 0
        rows = self._query(
            f"SELECT key, source, observed_at, {self._seq}, {', '.join(METRICS)} "
            f"FROM observations {where} ORDER BY key, source, observed_at{then}",
            params,
        )
        return [Observation(k, s, _observed(at), n, *rest) for k, s, at, n, *rest in rows]


def as_date(value: Any) -> dt.date | None:
    if value is None or type(value) is dt.date:
        return value
    return dt.date.fromisoformat(value)


def _observed(value: Any) -> dt.datetime:
    """An observation's time (a NOT NULL column)."""
    at = as_time(value)
    assert at is not None
    return at


def as_time(value: Any) -> dt.datetime | None:
    if value is None:
        return None
    if isinstance(value, str):
        value = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
    return value.astimezone(dt.UTC) if value.tzinfo else value.replace(tzinfo=dt.UTC)
