"""The SQLite database layout (schema 2.2), its migrations from 1, 2.0 and 2.1, and the FTS index.

The version is ``PRAGMA user_version`` (the major) and ``meta.schema_version``. A schema-1
database (harvester 0.2) is migrated in place, in one transaction, the first time a sink opens
it: new columns are added and back-filled, and its rows become the first sightings and
observations. A schema-2.0 database gains ``observations.seq`` the same way, and a 2.1 one the
columns of record schema 1.1 (``arxiv_version``, ``categories``, ``doi``) and ``from_lead``
(`store.rules`). The FTS setting in force is ``meta.fts``: opening with another setting drops
and rebuilds the index once, in one transaction, so the index never silently disagrees with it.
"""

from __future__ import annotations

import sqlite3

from harvester_plugins.store.metrics import LATEST_OBSERVATIONS, OBSERVATION_COLUMNS
from harvester_plugins.store.render import render_lead_backfill
from harvester_plugins.store.rules import COLUMNS, INT_COLUMNS, now_utc

from harvester.errors import SinkError

DB_SCHEMA_MAJOR = 2
DB_SCHEMA_VERSION = "2.2"
FTS_LEVELS = ("full", "column", "none")  # FTS5 `detail`; "off": no index at all

_TYPES = {c: "INTEGER" for c in INT_COLUMNS} | {"published_inferred": "INTEGER NOT NULL DEFAULT 0"}


def _column(name: str) -> str:
    return f"{name} TEXT NOT NULL UNIQUE" if name == "key" else f"{name} {_TYPES.get(name, 'TEXT')}"


# The FTS triggers keep the index right for anyone writing the table. While the sink holds a
# write transaction, meta row `fts_deferred_above` holds the highest id it has indexed: the
# triggers leave the rows it inserts above that alone and the sink indexes them with one
# INSERT ... SELECT after each batch (feeding FTS5 row by row is 3x slower).
DEFERRED_ABOVE = "(SELECT value FROM meta WHERE name = 'fts_deferred_above')"
_DEFERRED = DEFERRED_ABOVE
_FTS_ADD = (
    "INSERT INTO papers_fts (rowid, title, abstract) VALUES (new.id, new.title, new.abstract)"
)
_FTS_DEL = (
    "INSERT INTO papers_fts (papers_fts, rowid, title, abstract) "
    "VALUES ('delete', old.id, old.title, old.abstract)"
)
FTS_TRIGGERS = {
    "papers_fts_ai": f"AFTER INSERT ON papers WHEN {_DEFERRED} IS NULL BEGIN {_FTS_ADD}; END",
    "papers_fts_ad": (
        f"AFTER DELETE ON papers WHEN old.id <= coalesce({_DEFERRED}, old.id) BEGIN {_FTS_DEL}; END"
    ),
    # Only a real change re-indexes: re-running a harvest costs no FTS work.
    "papers_fts_au": (
        "AFTER UPDATE OF title, abstract ON papers "
        "WHEN (old.title IS NOT new.title OR old.abstract IS NOT new.abstract) "
        f"AND old.id <= coalesce({_DEFERRED}, old.id) BEGIN {_FTS_DEL}; {_FTS_ADD}; END"
    ),
}

# How FTS5 builds the index (settings stored with it, in papers_fts_config): it holds the
# terms of rows being indexed in memory up to `hashsize` bytes, then writes them out as one
# segment (1 MiB by default split a commit's bulk insert into many small segments, merged again
# at once), and merges segments when `automerge` of one level exist (4 by default; 8 halves the
# merging of a bulk load, and a query reads at most 8 segments per level).
FTS_TUNING = {"hashsize": 16 * 1024 * 1024, "automerge": 8}

_SIGHTINGS = (
    "CREATE TABLE sightings (key TEXT NOT NULL, source TEXT NOT NULL, source_ref TEXT NOT NULL, "
    "listing_date TEXT, first_harvested_at TEXT, last_harvested_at TEXT, "
    "PRIMARY KEY (key, source, source_ref)) "
    "WITHOUT ROWID"
)
_OBSERVATIONS = (
    "CREATE TABLE observations (key TEXT NOT NULL, source TEXT NOT NULL, observed_at TEXT NOT "
    "NULL, seq INTEGER NOT NULL DEFAULT 0, upvotes INTEGER, comments INTEGER, github_stars "
    "INTEGER, PRIMARY KEY (key, source, observed_at, seq)) WITHOUT ROWID"
)

CREATE = [
    "CREATE TABLE meta (name TEXT PRIMARY KEY, value NOT NULL)",
    f"CREATE TABLE papers (id INTEGER PRIMARY KEY, {', '.join(map(_column, COLUMNS))})",
    "CREATE INDEX papers_title_key ON papers (title_key)",
    "CREATE INDEX papers_arxiv_id ON papers (arxiv_id)",
    _SIGHTINGS,
    _OBSERVATIONS,
    LATEST_OBSERVATIONS,
]

_FROM_V1 = [
    "ALTER TABLE papers ADD COLUMN first_listing_date TEXT",
    "ALTER TABLE papers ADD COLUMN last_listing_date TEXT",
    "ALTER TABLE papers ADD COLUMN content_hash INTEGER",
    "UPDATE papers SET first_listing_date = listing_date, last_listing_date = listing_date",
    _SIGHTINGS,
    "INSERT INTO sightings SELECT key, source, source_ref, listing_date, harvested_at, "
    "harvested_at "
    "FROM papers WHERE source IS NOT NULL AND source_ref IS NOT NULL",
    _OBSERVATIONS,
    "INSERT INTO observations SELECT * FROM (SELECT key, source, harvested_at, 0, upvotes, "
    "comments, json_extract(extra, '$.hf.github_stars') AS stars FROM papers) "
    "WHERE source IS NOT NULL AND harvested_at IS NOT NULL "
    "AND coalesce(upvotes, comments, stars) IS NOT NULL",
    LATEST_OBSERVATIONS,
]
# 2.0 -> 2.1: observations gain `seq` in their primary key (a point per change, however close).
_FROM_2_0 = [
    "DROP VIEW latest_observations",
    "ALTER TABLE observations RENAME TO observations_2_0",
    _OBSERVATIONS,
    f"INSERT INTO observations ({', '.join(OBSERVATION_COLUMNS)}) SELECT key, source, "
    "observed_at, 0, upvotes, comments, github_stars FROM observations_2_0",
    "DROP TABLE observations_2_0",
    LATEST_OBSERVATIONS,
]
# 2.1 -> 2.2: the record fields schema 1.1 added, and which of a row's led fields came from the
# family that leads them (`rules.LEADS`): for a stored row, taken as its latest sighting's.
ADDED_IN_2_2 = ("arxiv_version", "categories", "doi", "from_lead")
_EMPTY = "({v} IS NULL OR {v} IN ('[]', '{{{{}}}}'))"  # as merge._EMPTY
LEAD_BACKFILL = (
    f"UPDATE papers SET from_lead = {render_lead_backfill(lambda v: _EMPTY.format(v=v))}"
)


def ensure_schema(db: sqlite3.Connection, where: str) -> None:
    """Create or migrate the layout; raise `SinkError` for a database that is not ours."""
    db.execute("BEGIN IMMEDIATE")  # decide under the write lock: another writer may be creating
    try:
        version = db.execute("PRAGMA user_version").fetchone()[0]
        tables = {r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type='table'")}
        if version == 0 and tables:
            raise SinkError(
                f"{where}: not a harvester database (it has tables {sorted(tables)} "
                "but no harvester schema version)"
            )
        if version not in (0, 1, DB_SCHEMA_MAJOR):
            raise SinkError(
                f"{where}: database schema major version {version} is not supported "
                f"(this harvester writes version {DB_SCHEMA_MAJOR}); use a new database file"
            )
        if version == 0:
            for stmt in CREATE:
                db.execute(stmt)
            db.execute("INSERT INTO meta VALUES ('created_at', ?), ('fts', 'off')", (now_utc(),))
            minor: str | None = DB_SCHEMA_VERSION
        elif version == 1:
            _migrate_from_v1(db)  # to the 2.1 layout
            minor = "2.1"
        else:
            minor = _minor_version(db)
        if minor == "2.0":
            for stmt in _FROM_2_0:
                db.execute(stmt)
        older_minor = minor in ("2.0", "2.1")
        if older_minor:
            _migrate_to_2_2(db)
        if version != DB_SCHEMA_MAJOR or older_minor:
            db.execute(
                "INSERT OR REPLACE INTO meta VALUES ('schema_version', ?)", (DB_SCHEMA_VERSION,)
            )
            db.execute(f"PRAGMA user_version = {DB_SCHEMA_MAJOR}")
        db.execute("COMMIT")
    except BaseException:
        if db.in_transaction:
            db.execute("ROLLBACK")
        raise


def _minor_version(db: sqlite3.Connection) -> str | None:
    row = db.execute("SELECT value FROM meta WHERE name = 'schema_version'").fetchone()
    return row[0] if row else None


def _migrate_to_2_2(db: sqlite3.Connection) -> None:
    have = {row[1] for row in db.execute("PRAGMA table_info(papers)")}
    for name in ADDED_IN_2_2:
        if name not in have:
            db.execute(f"ALTER TABLE papers ADD COLUMN {_column(name)}")
    db.execute(LEAD_BACKFILL)


def _migrate_from_v1(db: sqlite3.Connection) -> None:
    for stmt in _FROM_V1:
        db.execute(stmt)
    triggers = {r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type='trigger'")}
    # Schema 1 always had the full-detail index; `fts = false` had only dropped its triggers.
    fts = "full" if set(FTS_TRIGGERS) <= triggers else "stale"
    db.execute("INSERT OR REPLACE INTO meta VALUES ('fts', ?)", (fts,))


def fts_setting(db: sqlite3.Connection) -> str:
    row = db.execute("SELECT value FROM meta WHERE name = 'fts'").fetchone()
    return row[0] if row else "off"


def configure_fts(db: sqlite3.Connection, wanted: str) -> bool:
    """Make the index match `wanted` ("full", "column", "none" or "off"). Returns True when it
    had to be (re)built. One transaction: a reader sees the old index or the new one."""
    db.execute("BEGIN IMMEDIATE")
    try:
        if fts_setting(db) == wanted:
            if wanted != "off":
                _tune_fts(db)  # an index made before the tuning gets it once
            db.execute("COMMIT")
            return False
        for name in FTS_TRIGGERS:
            db.execute(f"DROP TRIGGER IF EXISTS {name}")
        db.execute("DROP TABLE IF EXISTS papers_fts")
        if wanted != "off":
            db.execute(  # content="papers" in double quotes: how sqlite-utils finds the index
                "CREATE VIRTUAL TABLE papers_fts USING fts5(title, abstract, "
                f"content=\"papers\", content_rowid='id', detail={wanted})"
            )
            _tune_fts(db)
            db.execute("INSERT INTO papers_fts (papers_fts) VALUES ('rebuild')")
            for name, body in FTS_TRIGGERS.items():
                db.execute(f"CREATE TRIGGER {name} {body}")
        db.execute("INSERT OR REPLACE INTO meta VALUES ('fts', ?)", (wanted,))
        db.execute("COMMIT")
        return True
    except BaseException:
        if db.in_transaction:
            db.execute("ROLLBACK")
        raise


def _tune_fts(db: sqlite3.Connection) -> None:
    stored = dict(db.execute("SELECT k, v FROM papers_fts_config"))
    for name, value in FTS_TUNING.items():
        if stored.get(name) != value:
            db.execute("INSERT INTO papers_fts (papers_fts, rank) VALUES (?, ?)", (name, value))
