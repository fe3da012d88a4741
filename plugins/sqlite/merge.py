"""The merge rules of `harvester_plugins.store.rules` in SQLite's dialect, and the statements
that carry out a batch plan (`store.matching`): upserts, absorbs, sightings, observations."""

from __future__ import annotations

import functools
import json
import sqlite3
from collections.abc import Sequence
from itertools import chain
from operator import itemgetter
from typing import Any

from harvester_plugins.store.metrics import OBSERVATION_COLUMNS
from harvester_plugins.store.render import led_templates, render_absorb_set, render_upsert_set
from harvester_plugins.store.rules import (
    AT,
    COLUMNS,
    Absorb,
    Upsert,
)

_EMPTY = "({v} IS NULL OR {v} IN ('[]', '{{{{}}}}'))"  # formatted twice

_LED_UPSERT, _LED_ABSORB = led_templates(lambda v: _EMPTY.format(v=v))
UPSERT_SQL = {
    Upsert.NEWER_NON_NULL: "coalesce({new}, {old})",
    Upsert.MERGE_DEEP: (
        f"CASE WHEN {_EMPTY.format(v='{new}')} THEN {{old}} "
        f"WHEN {_EMPTY.format(v='{old}')} THEN {{new}} "
        "ELSE harvester_merge_extra({old}, {new}) END"
    ),
    Upsert.FOLLOWS_PUBLISHED: "CASE WHEN {new_published} IS NULL THEN {old} ELSE {new} END",
    Upsert.LATEST_SIGHTING: "{new}",
    Upsert.NEWER: "{new}",
    # SQLite's two-argument min()/max() are null if either is: fall back to the other.
    Upsert.EARLIEST: "coalesce(min({old}, {new}), {old}, {new})",
    Upsert.LATEST: "coalesce(max({old}, {new}), {old}, {new})",
} | _LED_UPSERT
ABSORB_SQL = {
    Absorb.FILL_GAP: f"CASE WHEN {_EMPTY.format(v='{kept}')} THEN {{gone}} ELSE {{kept}} END",
    Absorb.MERGE_UNDER: (
        f"CASE WHEN {_EMPTY.format(v='{kept}')} THEN {{gone}} "
        f"WHEN {_EMPTY.format(v='{gone}')} THEN {{kept}} "
        "ELSE harvester_merge_extra({gone}, {kept}) END"
    ),
    Absorb.FOLLOWS_PUBLISHED: "CASE WHEN {kept_published} IS NULL THEN {gone} ELSE {kept} END",
    Absorb.EARLIEST: "coalesce(min({kept}, {gone}), {kept}, {gone})",
    Absorb.LATEST: "coalesce(max({kept}, {gone}), {kept}, {gone})",
    Absorb.RESET: "NULL",
} | _LED_ABSORB

# The statements take many rows at once (`VALUES (...), (...)`, `{rows}` below): one call binds
# a whole chunk in C and SQLite then works through it without Python (and without the GIL, which
# lets the sink's background thread overlap with the run). Keys are distinct within a call (the
# plan's steps), so no row of a call depends on another of the same call. A chunk is padded with
# rows of nulls to one of a few sizes (`statements`), which every statement skips (`key IS NOT
# NULL`): preparing a statement of 1,000 rows takes SQLite up to 50 ms, and with as many
# statements as chunk sizes none would be reused from the connection's statement cache.

# A record identical to the last one merged (same content_hash) changes nothing: skipped.
# (`WHERE`: SQLite's parser needs one between a SELECT and ON CONFLICT.)
UPSERT = (
    f"WITH s ({', '.join(COLUMNS)}) AS (VALUES {{rows}}) "
    f"INSERT INTO papers ({', '.join(COLUMNS)}) SELECT * FROM s WHERE s.key IS NOT NULL "
    f"ON CONFLICT (key) DO UPDATE SET {render_upsert_set(UPSERT_SQL, 'papers', 'excluded')} "
    "WHERE papers.content_hash IS NOT excluded.content_hash"
)
ABSORB = (
    f"UPDATE papers SET {render_absorb_set(ABSORB_SQL, 'papers', 'gone')} "
    "FROM (SELECT * FROM papers WHERE key = ?) AS gone WHERE papers.key = ?"
)
# Also all a re-read of unchanged content writes: the sighting's times (a small row).
SIGHTING = (
    "WITH s (key, source, source_ref, listing_date, at) AS (VALUES {rows}) "
    "INSERT INTO sightings SELECT key, source, source_ref, listing_date, at, at FROM s "
    "WHERE key IS NOT NULL "
    "ON CONFLICT DO UPDATE SET "
    "first_harvested_at = min(first_harvested_at, excluded.first_harvested_at), "
    "last_harvested_at = max(last_harvested_at, excluded.last_harvested_at) "
    "WHERE excluded.first_harvested_at < first_harvested_at "
    "OR excluded.last_harvested_at > last_harvested_at"
)
# A point only when it differs from the one just before it in time (by observed_at, then seq)
# and those values are not stored at that time already (a resumed run replays its batches with
# the same harvested_at); other values at a stored time get the next seq: nothing is dropped.
_POINT = ("key", "source", "observed_at", "upvotes", "comments", "github_stars")  # no seq
_SAME_AS_S = " AND ".join(f"o.{m} IS s.{m}" for m in ("upvotes", "comments", "github_stars"))
_OF_S = "o.key = s.key AND o.source = s.source"
OBSERVE = (
    f"WITH s ({', '.join(_POINT)}) AS (VALUES {{rows}}) "
    f"INSERT INTO observations ({', '.join(OBSERVATION_COLUMNS)}) "
    "SELECT s.key, s.source, s.observed_at, coalesce((SELECT max(o.seq) + 1 FROM observations "
    f"AS o WHERE {_OF_S} AND o.observed_at = s.observed_at), 0), s.upvotes, s.comments, "
    "s.github_stars FROM s WHERE s.key IS NOT NULL AND NOT EXISTS (SELECT 1 FROM observations AS o "
    f"WHERE {_OF_S} AND o.observed_at = s.observed_at AND {_SAME_AS_S}) "
    "AND NOT EXISTS (SELECT 1 FROM (SELECT o.upvotes, o.comments, o.github_stars "
    f"FROM observations AS o WHERE {_OF_S} AND o.observed_at <= s.observed_at "
    f"ORDER BY o.observed_at DESC, o.seq DESC LIMIT 1) AS o WHERE {_SAME_AS_S})"
)

_sighting_of = itemgetter(
    *(AT[c] for c in ("key", "source", "source_ref", "listing_date", "harvested_at"))
)


@functools.lru_cache(maxsize=64)
def _statement(template: str, width: int, count: int) -> str:
    one = f"({', '.join('?' * width)})"
    return template.replace("{rows}", ", ".join([one] * count))


Statement = tuple[str, list[Any]]  # SQL and its parameters


def statements(template: str, rows: Sequence[Sequence[Any]], limit: int) -> list[Statement]:
    """`template` over `rows` (all of one width), in as few statements as SQLite's `limit` on
    bound values allows (`SQLITE_LIMIT_VARIABLE_NUMBER`), each padded with rows of nulls to
    the next power of two (or the largest chunk): a dozen statements per template at most."""
    if not rows:
        return []
    width = len(rows[0])
    chunk = max(1, min(1000, limit // width))
    out = []
    for start in range(0, len(rows), chunk):
        part = rows[start : start + chunk]
        size = min(chunk, 1 << (len(part) - 1).bit_length())
        flat = list(chain.from_iterable(part))
        flat += [None] * (width * (size - len(part)))
        out.append((_statement(template, width, size), flat))
    return out


def merge_statements(rows: Sequence[list[Any]], points: list[tuple], limit: int) -> list[Statement]:
    """Upsert rows (distinct keys), record their sightings and observations (`points`)."""
    return [
        *statements(UPSERT, rows, limit),
        *statements(SIGHTING, sighting_rows(rows), limit),
        *statements(OBSERVE, points, limit),
    ]


def sighting_rows(rows: Sequence[list[Any]]) -> list[tuple[Any, ...]]:
    return list(map(_sighting_of, rows))


def stored_rows(db: sqlite3.Connection, title_keys: list[str]) -> list[tuple]:
    """The stored rows of these title keys: (title_key, key, arxiv_id, content_hash,
    harvested_at), what the title matching and `matching.split_changes` need."""
    return db.execute(
        "SELECT title_key, key, arxiv_id, content_hash, harvested_at FROM papers "
        "WHERE title_key IN (SELECT value FROM json_each(?))",
        (json.dumps(title_keys),),
    ).fetchall()


def absorb(db: sqlite3.Connection, title_row: str, arxiv_row: str, arxiv_id: str) -> None:
    """Merge the title-keyed row into the arXiv-keyed one (rule 2), with its history."""
    exists = db.execute("SELECT 1 FROM papers WHERE key = ?", (arxiv_row,)).fetchone()
    if exists is None:  # re-key in place: same id, so the FTS index needs no change
        db.execute(
            "UPDATE papers SET key = ?, arxiv_id = ?, content_hash = NULL WHERE key = ?",
            (arxiv_row, arxiv_id, title_row),
        )
    else:
        db.execute(ABSORB, (title_row, arxiv_row))
        db.execute("DELETE FROM papers WHERE key = ?", (title_row,))
    for table in ("sightings", "observations"):
        # Points the arXiv row has already at the same time win (OR IGNORE), the rest move.
        db.execute(f"UPDATE OR IGNORE {table} SET key = ? WHERE key = ?", (arxiv_row, title_row))
        db.execute(f"DELETE FROM {table} WHERE key = ?", (title_row,))
