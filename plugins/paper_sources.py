"""Reading a harvest back for the output commands (`harvester export`, `harvester report`):
a JSONL stream (one line per sighting of a paper) or a database of the sqlite sink (table
`papers`: one column per `Paper` field, `authors`/`extra` as JSON text; table `observations`
with the upvote history when the database has one).
"""

from __future__ import annotations

import datetime as dt
import sqlite3
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import msgspec

from harvester.errors import InputError, UsageError
from harvester.jsonl import read_jsonl
from harvester.schema import FIELDS, Paper

from .output_files import latest_by_key

SQLITE_MAGIC = b"SQLite format 3\x00"
_JSON_COLUMNS = ("authors", "extra")


class SourceFileError(UsageError):
    """A SOURCE given to an output command cannot be read."""


@dataclass(frozen=True)
class Observation:
    """One sighting of a paper's counts."""

    key: str
    observed_at: dt.datetime
    upvotes: int | None


def is_sqlite(path: Path) -> bool:
    with path.open("rb") as f:
        return f.read(len(SQLITE_MAGIC)) == SQLITE_MAGIC


def read_sightings(path: Path) -> list[Paper]:
    """Every record in SOURCE: each JSONL line, or each row of the database's `papers`."""
    try:
        if is_sqlite(path):
            return _sqlite_papers(path)
        return [paper for _, paper in read_jsonl(path, Paper)]
    except InputError as exc:
        raise SourceFileError(f"{exc} (expected JSONL of papers or a harvester database)") from exc
    except (OSError, sqlite3.Error) as exc:
        raise SourceFileError(f"{path}: cannot read: {exc}") from exc


def read_papers(path: Path) -> list[Paper]:
    """One paper per key (a JSONL stream's sightings merged, the last one winning), by key."""
    return sorted(latest_by_key(read_sightings(path)), key=lambda p: p.key)


def _connect(path: Path) -> sqlite3.Connection:
    return sqlite3.connect(f"file:{path}?mode=ro", uri=True)


def _sqlite_papers(path: Path) -> list[Paper]:
    con = _connect(path)
    try:
        columns = {row[1] for row in con.execute("PRAGMA table_info(papers)")}
        if not columns:
            raise SourceFileError(f"{path}: a SQLite database without a `papers` table")
        present = [f for f in FIELDS if f in columns]  # columns added later are ignored
        papers = []
        for values in con.execute(f"SELECT {', '.join(present)} FROM papers ORDER BY key"):
            data: dict[str, Any] = dict(zip(present, values, strict=True))
            for name in _JSON_COLUMNS:
                if data.get(name) is not None:
                    data[name] = msgspec.json.decode(data[name])
            data["published_inferred"] = bool(data.get("published_inferred"))
            data = {k: v for k, v in data.items() if v is not None or k != "extra"}
            try:
                papers.append(msgspec.convert(data, Paper))
            except msgspec.ValidationError as exc:
                raise SourceFileError(f"{path}: papers row {data.get('key')!r}: {exc}") from exc
        return papers
    finally:
        con.close()


def read_observations(path: Path) -> list[Observation] | None:
    """The upvote history: the database's `observations` table, or for a JSONL stream the
    repeated sightings of each key (`harvested_at`, `upvotes`). None: a database without one."""
    if not is_sqlite(path):
        return [
            Observation(p.key, p.harvested_at, p.upvotes)
            for p in read_sightings(path)
            if p.harvested_at is not None
        ]
    con = _connect(path)
    try:
        tables = {r[0] for r in con.execute("SELECT name FROM sqlite_master")}
        if "observations" not in tables:
            return None
        rows = con.execute(
            "SELECT key, observed_at, upvotes FROM observations ORDER BY observed_at, key"
        ).fetchall()
    except sqlite3.Error as exc:
        raise SourceFileError(f"{path}: cannot read its observations: {exc}") from exc
    finally:
        con.close()
    return [Observation(key, _timestamp(at), upvotes) for key, at, upvotes in rows]


def _timestamp(text: str) -> dt.datetime:
    value = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
    return value if value.tzinfo else value.replace(tzinfo=dt.UTC)
