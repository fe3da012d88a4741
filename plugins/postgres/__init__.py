"""The `postgres` sink (psycopg 3): the SQLite sink's records, merge rules, provenance and metric
history in a PostgreSQL database, for many writers at once.

Config::

    [sinks.db]
    plugin = "postgres"
    url = "postgresql://harvester@db.example/papers"   # optional: PG* variables fill the rest

Options: ``url`` (a libpq URL or ``key=value`` string; what it leaves out comes from the
standard ``PG*`` environment variables and ``~/.pgpass``; better keep the password there),
``lock_timeout`` (seconds, 60), ``text_search`` (the text-search configuration, ``english``).
Messages, logs and the options' repr name the database without its password; the checkpoint
is None (nothing about the connection is ever saved in the run state).

Layout (store schema 2.0, ``meta.schema_version``): the tables and view of the SQLite sink
(``papers``, ``sightings``, ``observations``, ``latest_observations``, ``meta``) with
PostgreSQL types (``jsonb`` authors/extra, ``date``, ``timestamptz``, ``boolean``), plus
``papers.search``: a generated ``tsvector`` (title weighted A, abstract B) with a GIN index::

    SELECT key, title FROM papers WHERE search @@ websearch_to_tsquery('english', 'sparse moe')

Merge rules: `harvester_plugins.store.rules` and `harvester_plugins.store.matching`, the same
statement the SQLite sink renders; the deep merge of ``extra`` is
``harvester_merge_extra(jsonb, jsonb)``. Loading: each batch is COPYed into a temporary table
and merged with one ``INSERT ... ON CONFLICT`` per plan step. Concurrency: see
`harvester_plugins.postgres.sink`.
"""

from __future__ import annotations

from importlib.util import find_spec

from harvester.errors import PluginError
from harvester.hookspecs import hookimpl

if find_spec("psycopg") is None:  # an optional dependency (imported when a sink connects)
    raise PluginError("the postgres sink needs psycopg 3: pip install 'paper-harvester[postgres]'")

from .read import PostgresStore
from .schema import DB_SCHEMA_VERSION
from .sink import PostgresSink, PostgresSinkOptions

__all__ = [
    "DB_SCHEMA_VERSION",
    "PostgresSink",
    "PostgresSinkOptions",
    "PostgresStore",
]


@hookimpl
def register_stores(register) -> None:
    register(PostgresStore)


@hookimpl
def register_sinks(register) -> None:
    register(PostgresSink)
