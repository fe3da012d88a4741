"""The merge rules of `harvester_plugins.store.rules` in SQLite's dialect, and the statements
that carry out a batch plan (`store.matching`): upserts, absorbs, sightings, observations."""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from typing import Any

from harvester_plugins.store import matching
from harvester_plugins.store.metrics import OBSERVATION_COLUMNS
from harvester_plugins.store.rules import (
    AT,
    COLUMNS,
    Absorb,
    Upsert,
    render_absorb_set,
    render_upsert_set,
)

_EMPTY = "({v} IS NULL OR {v} IN ('[]', '{{{{}}}}'))"  # formatted twice

UPSERT_SQL = {
    Upsert.NEWER_NON_NULL: "coalesce({new}, {old})",
    Upsert.NEWER_NON_EMPTY: f"CASE WHEN {_EMPTY.format(v='{new}')} THEN {{old}} ELSE {{new}} END",
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
}
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
}

# A record identical to the last one merged (same content_hash) changes nothing: skipped.
UPSERT = (
    f"INSERT INTO papers ({', '.join(COLUMNS)}) VALUES ({', '.join('?' * len(COLUMNS))}) "
    f"ON CONFLICT (key) DO UPDATE SET {render_upsert_set(UPSERT_SQL, 'papers', 'excluded')} "
    "WHERE papers.content_hash IS NOT excluded.content_hash"
)
ABSORB = (
    f"UPDATE papers SET {render_absorb_set(ABSORB_SQL, 'papers', 'gone')} "
    "FROM (SELECT * FROM papers WHERE key = ?) AS gone WHERE papers.key = ?"
)
# Also all a re-read of unchanged content writes: the sighting's times (a small row).
SIGHTING = (
    "INSERT INTO sightings VALUES (?1, ?2, ?3, ?4, ?5, ?5) ON CONFLICT DO UPDATE SET "
    "first_harvested_at = min(first_harvested_at, excluded.first_harvested_at), "
    "last_harvested_at = max(last_harvested_at, excluded.last_harvested_at) "
    "WHERE excluded.first_harvested_at < first_harvested_at "
    "OR excluded.last_harvested_at > last_harvested_at"
)
# A point only when it differs from the one just before it in time (by observed_at, then seq)
# and those values are not stored at that time already (a resumed run replays its batches with
# the same harvested_at); other values at a stored time get the next seq: nothing is dropped.
_SAME_AT = "upvotes IS ?4 AND comments IS ?5 AND github_stars IS ?6"
OBSERVE = (
    f"INSERT INTO observations ({', '.join(OBSERVATION_COLUMNS)}) "
    "SELECT ?1, ?2, ?3, coalesce((SELECT max(seq) + 1 FROM observations WHERE key = ?1 "
    "AND source = ?2 AND observed_at = ?3), 0), ?4, ?5, ?6 WHERE NOT EXISTS (SELECT 1 FROM "
    f"observations WHERE key = ?1 AND source = ?2 AND observed_at = ?3 AND {_SAME_AT}) "
    "AND NOT EXISTS (SELECT 1 FROM (SELECT upvotes, comments, github_stars FROM observations "
    "WHERE key = ?1 AND source = ?2 AND observed_at <= ?3 ORDER BY observed_at DESC, seq DESC "
    f"LIMIT 1) WHERE {_SAME_AT})"
)

_SIGHTING_AT = [AT[c] for c in ("key", "source", "source_ref", "listing_date", "harvested_at")]


def sighting_rows(rows: Sequence[list[Any]]) -> list[tuple[Any, ...]]:
    return [tuple(row[i] for i in _SIGHTING_AT) for row in rows]


def stored_by_title(
    db: sqlite3.Connection, title_keys: str
) -> tuple[matching.TitleIndex, matching.Versions]:
    """The stored rows of these title keys (a JSON list): what the title matching needs, and
    what each holds (`matching.split_changes`). One query per batch: a row whose title changed
    is not found, so it is merged in full (always correct; the skip only saves work)."""
    cursor = db.execute(
        "SELECT title_key, key, arxiv_id, content_hash, harvested_at FROM papers "
        "WHERE title_key IN (SELECT value FROM json_each(?))",
        (title_keys,),
    )
    return matching.index_stored(cursor)


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
