"""Reading a harvester SQLite database back: papers as `Paper` records, a paper's metric series.
Opened read-only: reading never creates, migrates or locks a database for writing."""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import msgspec
from harvester_plugins.store.metrics import OBSERVATION_COLUMNS
from harvester_plugins.store.rules import JSON_COLUMNS, STORED_FIELDS

from harvester.errors import UsageError
from harvester.schema import Paper


def connect_read_only(path: str | Path) -> sqlite3.Connection:
    """A read-only connection; `UsageError` when there is no such database file."""
    path = Path(path)
    if not path.is_file():
        raise UsageError(f"{path}: no such database")
    try:
        return sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)
    except sqlite3.Error as exc:
        raise UsageError(f"{path}: cannot open the database: {exc}") from exc


def read_papers(path: str | Path, where: str = "", params: Sequence[Any] = ()) -> list[Paper]:
    """The papers stored in the database at `path`, as `Paper` records, ordered by key."""
    con = connect_read_only(path)
    try:
        cursor = con.execute(
            f"SELECT {', '.join(STORED_FIELDS)} FROM papers {where} ORDER BY key", tuple(params)
        )
        papers = []
        for values in cursor:
            data = dict(zip(STORED_FIELDS, values, strict=True))
            for name in JSON_COLUMNS:
                data[name] = msgspec.json.decode(data[name])
            data["published_inferred"] = bool(data["published_inferred"])
            papers.append(msgspec.convert(data, Paper))
        return papers
    finally:
        con.close()


def read_series(path: str | Path, key: str) -> list[dict[str, Any]]:
    """The observations of the paper `key` (every source), by source and time.

    `UsageError` for a database without observations (not a harvester database, or schema 1
    not yet migrated) and for a key that has neither a row nor an observation."""
    con = connect_read_only(path)
    try:
        try:
            rows = con.execute(
                f"SELECT {', '.join(OBSERVATION_COLUMNS)} FROM observations WHERE key = ? "
                "ORDER BY source, observed_at",
                (key,),
            ).fetchall()
            known = rows or con.execute("SELECT 1 FROM papers WHERE key = ?", (key,)).fetchone()
        except sqlite3.Error as exc:
            raise UsageError(
                f"{path}: not a harvester database with metric history ({exc}); "
                "a schema-1 database gains it when the sqlite sink next opens it"
            ) from exc
        if not known:
            raise UsageError(f"{path}: no paper with key {key!r}")
        return [dict(zip(OBSERVATION_COLUMNS, row, strict=True)) for row in rows]
    finally:
        con.close()
