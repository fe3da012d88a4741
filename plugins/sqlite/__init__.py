"""The `sqlite` sink: papers upserted into an embedded SQLite database, with full-text search,
provenance and metric history. Options: ``path`` (required), ``fts`` (``"full"`` by default,
``"column"``, ``"none"`` or ``false``), ``busy_timeout`` (seconds, 60).

Layout (database schema 2.0, ``PRAGMA user_version = 2`` and ``meta.schema_version``):

* ``papers``: one column per `Paper` field (``authors``/``extra`` JSON text, dates and times ISO
  text, booleans 0/1) and the derived columns of `harvester_plugins.store.rules`
  (``title_key``, ``first_listing_date``, ``last_listing_date``, ``content_hash``,
  ``first_seen``, ``last_seen``). ``key`` is UNIQUE and what upserts match on; ``id INTEGER
  PRIMARY KEY`` is the stable rowid the FTS index refers to (VACUUM may renumber a plain rowid).
* ``sightings (key, source, source_ref, listing_date, first_harvested_at)``: every listing
  entry merged into a row, so a row says where its values came from.
* ``observations (key, source, observed_at, upvotes, comments, github_stars)`` and the view
  ``latest_observations``: the metric history (`harvester_plugins.store.metrics`).
* ``papers_fts``: FTS5 over ``title`` and ``abstract`` (external content = ``papers``, the
  chosen ``detail``), kept by triggers; absent with ``fts = false``. ``meta.fts`` records it.
* ``meta``: ``schema_version``, ``created_at``, ``fts``.

Merge and provenance rules: `harvester_plugins.store.rules` (what each column keeps) and
`harvester_plugins.store.matching` (rules 1-4: which row a record lands in), shared with the
``postgres`` sink.

Transactions and concurrency: the first ``write`` after a commit starts ``BEGIN IMMEDIATE`` (the
write lock is taken up front, so two writers never deadlock upgrading a read lock) and
``commit()`` commits: one transaction per checkpoint. Another process waits for the lock up to
``busy_timeout`` seconds, then the sink raises `SinkError`. ``close(SUSPEND | ABANDON)`` rolls
back what was not committed; earlier commits stay (idempotent upserts: a re-run repeats them
harmlessly). WAL mode, ``synchronous=NORMAL``. Batches are planned in ``write`` and their
statements run on a background thread (see `.sink`): a database error surfaces at the next
``write`` or at ``commit``.
"""

from __future__ import annotations

from harvester.hookspecs import hookimpl

from .read import SqliteStore
from .schema import DB_SCHEMA_MAJOR, DB_SCHEMA_VERSION
from .sink import SqliteSink, SqliteSinkOptions

__all__ = [
    "DB_SCHEMA_MAJOR",
    "DB_SCHEMA_VERSION",
    "SqliteSink",
    "SqliteSinkOptions",
    "SqliteStore",
]


@hookimpl
def register_stores(register) -> None:
    register(SqliteStore)


@hookimpl
def register_sinks(register) -> None:
    register(SqliteSink)
