"""Reading a harvester PostgreSQL database back: papers as `Paper` records, a paper's series."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import msgspec
from harvester_plugins.store.metrics import OBSERVATION_COLUMNS
from harvester_plugins.store.rules import STORED_FIELDS, iso_utc

from harvester.errors import UsageError
from harvester.schema import Paper

from .connect import describe, redact, settings

if TYPE_CHECKING:
    import psycopg


def _psycopg():
    import psycopg  # when a database is read, not when the plugin loads

    return psycopg


def _connect(url: str) -> psycopg.Connection:
    try:
        return _psycopg().connect(**settings(url), autocommit=True)
    except _psycopg().Error as exc:
        raise UsageError(f"{describe(url)}: cannot connect: {redact(str(exc), url)}") from None


def read_papers(url: str) -> list[Paper]:
    """The papers stored in the database at `url`, as `Paper` records, ordered by key."""
    with _connect(url) as con:
        rows = con.execute(f"SELECT {', '.join(STORED_FIELDS)} FROM papers ORDER BY key").fetchall()
    papers = []
    for values in rows:
        data = dict(zip(STORED_FIELDS, values, strict=True))
        papers.append(msgspec.convert(data, Paper, from_attributes=False))
    return papers


def read_series(url: str, key: str) -> list[dict[str, Any]]:
    """The observations of the paper `key` (every source), by source and time; `UsageError`
    for a database without observations or a key with neither a row nor an observation."""
    with _connect(url) as con:
        try:
            rows = con.execute(
                f"SELECT {', '.join(OBSERVATION_COLUMNS)} FROM observations WHERE key = %s "
                "ORDER BY source, observed_at",
                (key,),
            ).fetchall()
            known = rows or con.execute("SELECT 1 FROM papers WHERE key = %s", (key,)).fetchone()
        except _psycopg().Error as exc:
            raise UsageError(
                f"{describe(url)}: not a harvester database with metric history ({exc})"
            ) from None
    if not known:
        raise UsageError(f"{describe(url)}: no paper with key {key!r}")
    series = [dict(zip(OBSERVATION_COLUMNS, row, strict=True)) for row in rows]
    for point in series:
        point["observed_at"] = iso_utc(point["observed_at"])
    return series
