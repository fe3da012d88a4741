"""The merge rules of `harvester_plugins.store.rules` in PostgreSQL's dialect, and the
statements that carry out a batch plan: a batch is COPYed into a temporary table and merged
with one ``INSERT ... ON CONFLICT`` per plan step, then its sightings and observations."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from harvester_plugins.store import matching
from harvester_plugins.store.metrics import METRICS, OBSERVATION_COLUMNS
from harvester_plugins.store.render import led_templates, render_absorb_set, render_upsert_set
from harvester_plugins.store.rules import (
    COLUMNS,
    Absorb,
    Upsert,
    iso_utc,
)

from .schema import sql_type

if TYPE_CHECKING:  # psycopg is imported when a connection is made
    import psycopg

# `::text` makes one gap test serve every type: only JSON text can read '[]' or '{}'.
_EMPTY = "({v} IS NULL OR {v}::text IN ('[]', '{{{{}}}}'))"  # formatted twice

_LED_UPSERT, _LED_ABSORB = led_templates(lambda v: _EMPTY.format(v=v))
UPSERT_SQL = {
    Upsert.NEWER_NON_NULL: "coalesce({new}, {old})",
    Upsert.MERGE_DEEP: (
        f"CASE WHEN {_EMPTY.format(v='{new}')} THEN {{old}} WHEN {_EMPTY.format(v='{old}')} "
        "THEN {new} ELSE harvester_merge_extra({old}, {new}) END"
    ),
    Upsert.FOLLOWS_PUBLISHED: "CASE WHEN {new_published} IS NULL THEN {old} ELSE {new} END",
    Upsert.LATEST_SIGHTING: "{new}",
    Upsert.NEWER: "{new}",
    Upsert.EARLIEST: "least({old}, {new})",  # least/greatest ignore nulls
    Upsert.LATEST: "greatest({old}, {new})",
} | _LED_UPSERT
ABSORB_SQL = {
    Absorb.FILL_GAP: f"CASE WHEN {_EMPTY.format(v='{kept}')} THEN {{gone}} ELSE {{kept}} END",
    Absorb.MERGE_UNDER: (
        f"CASE WHEN {_EMPTY.format(v='{kept}')} THEN {{gone}} WHEN {_EMPTY.format(v='{gone}')} "
        "THEN {kept} ELSE harvester_merge_extra({gone}, {kept}) END"
    ),
    Absorb.FOLLOWS_PUBLISHED: "CASE WHEN {kept_published} IS NULL THEN {gone} ELSE {kept} END",
    Absorb.EARLIEST: "least({kept}, {gone})",
    Absorb.LATEST: "greatest({kept}, {gone})",
    Absorb.RESET: "NULL",
} | _LED_ABSORB

_COLS = ", ".join(COLUMNS)
STAGE = (
    "CREATE TEMP TABLE IF NOT EXISTS stage ("
    + ", ".join(f"{c} {sql_type(c).replace(' NOT NULL DEFAULT false', '')}" for c in COLUMNS)
    + ", github_stars integer)"
)
COPY = f"COPY stage ({_COLS}, github_stars) FROM STDIN"
# Sorted: rows are locked in key order (the store lock already serialises our writers; the
# order keeps other writers of the table from deadlocking with us).
UPSERT = (
    f"INSERT INTO papers AS p ({_COLS}) SELECT {_COLS} FROM stage ORDER BY key "
    f"ON CONFLICT (key) DO UPDATE SET {render_upsert_set(UPSERT_SQL, 'p', 'excluded')} "
    "WHERE p.content_hash IS DISTINCT FROM excluded.content_hash"
)
_SIGHTING_TIMES = (
    "ON CONFLICT (key, source, source_ref) DO UPDATE SET "
    "first_harvested_at = least(sightings.first_harvested_at, excluded.first_harvested_at), "
    "last_harvested_at = greatest(sightings.last_harvested_at, excluded.last_harvested_at) "
    "WHERE excluded.first_harvested_at < sightings.first_harvested_at "
    "OR excluded.last_harvested_at > sightings.last_harvested_at"
)
SIGHTINGS = (
    "INSERT INTO sightings SELECT key, source, source_ref, listing_date, harvested_at, "
    f"harvested_at FROM stage ORDER BY key, source, source_ref {_SIGHTING_TIMES}"
)
# Also all a re-read of unchanged content writes: the sighting's times (a small row).
REFRESH = (
    "INSERT INTO sightings SELECT k, s, r, d::date, h::timestamptz, h::timestamptz "
    "FROM unnest(%s::text[], %s::text[], %s::text[], %s::text[], %s::text[]) AS v(k, s, r, d, h) "
    f"ORDER BY k, s, r {_SIGHTING_TIMES}"
)
_SAME = " AND ".join(f"o.{m} IS NOT DISTINCT FROM s.{m}" for m in METRICS)
# As the SQLite dialect's OBSERVE: a point when the values differ from the one before it in time
# and are not stored at that time already; other values at a stored time get the next seq.
OBSERVE = (
    f"INSERT INTO observations ({', '.join(OBSERVATION_COLUMNS)}) "
    "SELECT s.key, s.source, s.harvested_at, coalesce((SELECT max(o.seq) + 1 FROM observations o "
    "WHERE o.key = s.key AND o.source = s.source AND o.observed_at = s.harvested_at), 0), "
    "s.upvotes, s.comments, s.github_stars FROM stage s WHERE s.harvested_at IS NOT NULL "
    "AND coalesce(s.upvotes, s.comments, s.github_stars) IS NOT NULL AND NOT EXISTS ("
    "SELECT 1 FROM observations o WHERE o.key = s.key AND o.source = s.source "
    f"AND o.observed_at = s.harvested_at AND {_SAME}) AND NOT EXISTS ("
    "SELECT 1 FROM (SELECT o.upvotes, o.comments, o.github_stars FROM observations o "
    "WHERE o.key = s.key AND o.source = s.source AND o.observed_at <= s.harvested_at "
    f"ORDER BY o.observed_at DESC, o.seq DESC LIMIT 1) AS o WHERE {_SAME}) "
    "ORDER BY s.key, s.source ON CONFLICT DO NOTHING"
)
ABSORB = (
    f"UPDATE papers SET {render_absorb_set(ABSORB_SQL, 'papers', 'gone')} "
    "FROM papers AS gone WHERE gone.key = %s AND papers.key = %s"
)


def stored_by_title(
    con: psycopg.Connection, title_keys: list[str]
) -> tuple[matching.TitleIndex, matching.Versions]:
    """As `harvester_plugins.sqlite.merge.stored_by_title`: one query per batch."""
    cursor = con.execute(
        "SELECT title_key, key, arxiv_id, content_hash, harvested_at FROM papers "
        "WHERE title_key = ANY(%s)",
        (title_keys,),
    )
    return matching.index_stored((t, k, a, d, iso_utc(seen)) for t, k, a, d, seen in cursor)


def merge_rows(con: psycopg.Connection, rows: list[tuple[Any, ...]]) -> None:
    """COPY rows (papers columns + github_stars; distinct keys) and merge them."""
    con.execute("TRUNCATE stage")
    with con.cursor() as cur, cur.copy(COPY) as copy:
        for row in rows:
            copy.write_row(row)
    con.execute(UPSERT)
    con.execute(SIGHTINGS)
    con.execute(OBSERVE)


def absorb(con: psycopg.Connection, title_row: str, arxiv_row: str, arxiv_id: str) -> None:
    """Merge the title-keyed row into the arXiv-keyed one (rule 2), with its history."""
    exists = con.execute("SELECT 1 FROM papers WHERE key = %s", (arxiv_row,)).fetchone()
    if exists is None:
        con.execute(
            "UPDATE papers SET key = %s, arxiv_id = %s, content_hash = NULL WHERE key = %s",
            (arxiv_row, arxiv_id, title_row),
        )
    else:
        con.execute(ABSORB, (title_row, arxiv_row))
        con.execute("DELETE FROM papers WHERE key = %s", (title_row,))
    for table, rest in (
        ("sightings", "source, source_ref, listing_date, first_harvested_at, last_harvested_at"),
        ("observations", ", ".join(OBSERVATION_COLUMNS[1:])),
    ):
        con.execute(  # columns named: a migrated table has them in another order
            f"INSERT INTO {table} (key, {rest}) SELECT %s, {rest} FROM {table} WHERE key = %s "
            "ON CONFLICT DO NOTHING",
            (arxiv_row, title_row),
        )
        con.execute(f"DELETE FROM {table} WHERE key = %s", (title_row,))
