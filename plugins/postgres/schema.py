"""The PostgreSQL layout: the same tables, columns and view as the SQLite sink (store schema 2.2),
in PostgreSQL types, with full-text search as a generated ``tsvector`` and a GIN index. A
schema-2.0 database gains ``observations.seq`` when a sink first opens it, a 2.1 one the
columns of record schema 1.1 and ``from_lead`` (as the SQLite sink's)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from harvester_plugins.store.metrics import LATEST_OBSERVATIONS
from harvester_plugins.store.render import render_lead_backfill
from harvester_plugins.store.rules import (
    COLUMNS,
    DATE_COLUMNS,
    INT_COLUMNS,
    JSON_COLUMNS,
    TIME_COLUMNS,
)

from harvester.errors import SinkError

if TYPE_CHECKING:  # psycopg is imported when a connection is made
    import psycopg

DB_SCHEMA_MAJOR = 2
DB_SCHEMA_VERSION = "2.2"
# 2.0 -> 2.1: observations gain `seq` in their primary key (a point per change, however close).
_FROM_2_0 = [
    "DROP VIEW latest_observations",
    "ALTER TABLE observations ADD COLUMN seq integer NOT NULL DEFAULT 0",
    "ALTER TABLE observations DROP CONSTRAINT observations_pkey",
    "ALTER TABLE observations ADD PRIMARY KEY (key, source, observed_at, seq)",
    LATEST_OBSERVATIONS,
    "UPDATE meta SET value = '2.1' WHERE name = 'schema_version'",
]
# 2.1 -> 2.2: as the SQLite sink's (plugins/sqlite/schema.py).
ADDED_IN_2_2 = ("arxiv_version", "categories", "doi", "from_lead")
_EMPTY = "({v} IS NULL OR {v}::text IN ('[]', '{{{{}}}}'))"  # as merge._EMPTY
# One lock for the whole store: schema creation, and each writing transaction (see sink.py).
STORE_LOCK = 0x68617276_65737472  # "harvestr"

_TYPES = (
    {c: "jsonb" for c in JSON_COLUMNS}
    | {c: "integer" for c in INT_COLUMNS}
    | {c: "date" for c in DATE_COLUMNS}
    | {c: "timestamptz" for c in TIME_COLUMNS}
    | {"content_hash": "bigint", "published_inferred": "boolean NOT NULL DEFAULT false"}
)


def sql_type(column: str) -> str:
    return _TYPES.get(column, "text")


def _papers(text_search: str) -> str:
    columns = ", ".join(
        f"{c} text NOT NULL UNIQUE" if c == "key" else f"{c} {sql_type(c)}" for c in COLUMNS
    )
    # Title words weigh more than abstract words in ts_rank.
    search = (
        f"setweight(to_tsvector('{text_search}', coalesce(title, '')), 'A') || "
        f"setweight(to_tsvector('{text_search}', coalesce(abstract, '')), 'B')"
    )
    return (
        "CREATE TABLE papers (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, "
        f"{columns}, search tsvector GENERATED ALWAYS AS ({search}) STORED)"
    )


# `harvester_plugins.store.rules.merge_extra` (the rules say MERGE_DEEP), in PL/pgSQL.
MERGE_EXTRA_FUNCTION = """
CREATE FUNCTION harvester_merge_extra(old jsonb, new jsonb) RETURNS jsonb
LANGUAGE plpgsql IMMUTABLE AS $$
DECLARE
    result jsonb;
    item record;
BEGIN
    IF new IS NULL OR jsonb_typeof(new) = 'null' THEN
        RETURN old;
    END IF;
    IF jsonb_typeof(new) <> 'object' OR old IS NULL OR jsonb_typeof(old) <> 'object' THEN
        RETURN new;
    END IF;
    result := old;
    FOR item IN SELECT key, value FROM jsonb_each(new) LOOP
        IF jsonb_typeof(item.value) = 'null' THEN
            IF NOT result ? item.key THEN  -- a null never erases
                result := result || jsonb_build_object(item.key, item.value);
            END IF;
        ELSE
            result := jsonb_set(result, ARRAY[item.key],
                                harvester_merge_extra(result -> item.key, item.value));
        END IF;
    END LOOP;
    RETURN result;
END
$$"""


def create_statements(text_search: str) -> list[str]:
    return [
        "CREATE TABLE meta (name text PRIMARY KEY, value text NOT NULL)",
        _papers(text_search),
        "CREATE INDEX papers_title_key ON papers (title_key)",
        "CREATE INDEX papers_arxiv_id ON papers (arxiv_id)",
        "CREATE INDEX papers_search ON papers USING gin (search)",
        "CREATE TABLE sightings (key text NOT NULL, source text NOT NULL, source_ref text NOT "
        "NULL, listing_date date, first_harvested_at timestamptz, last_harvested_at timestamptz, "
        "PRIMARY KEY (key, source, source_ref))",
        "CREATE TABLE observations (key text NOT NULL, source text NOT NULL, observed_at "
        "timestamptz NOT NULL, seq integer NOT NULL DEFAULT 0, upvotes integer, comments "
        "integer, github_stars integer, PRIMARY KEY (key, source, observed_at, seq))",
        LATEST_OBSERVATIONS,
        MERGE_EXTRA_FUNCTION,
    ]


def ensure_schema(con: psycopg.Connection, where: str, text_search: str) -> None:
    """Create the layout (once, under the store lock) or check its version."""
    with con.transaction():
        exists = _tables(con)
        if exists == (False, False):  # decide again under the lock: another writer may create it
            con.execute("SELECT pg_advisory_xact_lock(%s)", (STORE_LOCK,))
            exists = _tables(con)
        if exists == (False, False):
            for stmt in create_statements(text_search):
                con.execute(stmt)
            con.execute(
                "INSERT INTO meta VALUES ('schema_version', %s), ('text_search', %s), "
                "('created_at', now()::text)",
                (DB_SCHEMA_VERSION, text_search),
            )
            return
        if not exists[0]:
            raise SinkError(f"{where}: not a harvester database (a table papers but no meta)")
        meta: dict[str, str] = dict(con.execute("SELECT name, value FROM meta").fetchall())
        version = meta.get("schema_version", "unknown")
        if version.split(".")[0] != str(DB_SCHEMA_MAJOR):
            raise SinkError(
                f"{where}: database schema version {version} is not supported "
                f"(this harvester writes {DB_SCHEMA_VERSION}); use another database"
            )
        if version in ("2.0", "2.1"):
            _migrate_to_2_2(con, version)
        if meta.get("text_search") != text_search:
            _rebuild_search(con, text_search)


def _migrate_to_2_2(con: psycopg.Connection, version: str) -> None:
    con.execute("SELECT pg_advisory_xact_lock(%s)", (STORE_LOCK,))
    found = con.execute("SELECT value FROM meta WHERE name = 'schema_version'").fetchone()
    version = found[0] if found else version  # another writer may have migrated it meanwhile
    if version == "2.0":
        for stmt in _FROM_2_0:
            con.execute(stmt)
    if version in ("2.0", "2.1"):
        for name in ADDED_IN_2_2:
            con.execute(f"ALTER TABLE papers ADD COLUMN IF NOT EXISTS {name} {sql_type(name)}")
        backfill = render_lead_backfill(lambda v: _EMPTY.format(v=v))
        con.execute(f"UPDATE papers SET from_lead = {backfill}")
        con.execute(
            "UPDATE meta SET value = %s WHERE name = 'schema_version'", (DB_SCHEMA_VERSION,)
        )


def _tables(con: psycopg.Connection) -> tuple[bool, bool]:
    """Whether meta and papers exist, read from pg_class with this statement's snapshot
    (to_regclass() may answer from a catalog cache that predates the lock just taken)."""
    found = con.execute(
        "SELECT 'meta' = ANY(names), 'papers' = ANY(names) FROM (SELECT array_agg(tablename) "
        "AS names FROM pg_tables WHERE schemaname = current_schema()) AS t"
    ).fetchone()
    assert found is not None  # an aggregate always answers one row
    return bool(found[0]), bool(found[1])


def _rebuild_search(con: psycopg.Connection, text_search: str) -> None:
    """Another text-search configuration: the generated column and its index, rebuilt once."""
    expression = _papers(text_search).split("search tsvector ", 1)[1][:-1]
    con.execute("ALTER TABLE papers DROP COLUMN search")
    con.execute(f"ALTER TABLE papers ADD COLUMN search tsvector {expression}")
    con.execute("CREATE INDEX papers_search ON papers USING gin (search)")
    con.execute("UPDATE meta SET value = %s WHERE name = 'text_search'", (text_search,))
