"""The `sqlite` sink's lifecycle: open (create/migrate, FTS setting), write (plan and merge a
batch inside the open transaction), commit (one transaction per checkpoint), close."""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from typing import Any, Literal

import msgspec
from harvester_plugins.store import matching
from harvester_plugins.store.background import Background
from harvester_plugins.store.metrics import observation
from harvester_plugins.store.rules import AT, RowBuilder, merge_extra_json, now_utc

from harvester.api import Outcome, Sink, SinkOptions
from harvester.errors import SinkError
from harvester.schema import Paper

from . import merge, schema

_KEY, _SEEN = AT["key"], AT["harvested_at"]


class SqliteSinkOptions(SinkOptions, kw_only=True, forbid_unknown_fields=True):
    path: str
    # FTS5 detail of the title/abstract index; true = "full", false = no index. "full" is the
    # only level that answers phrase ("large language") and NEAR queries; see docs/sqlite.md.
    fts: bool | Literal["full", "column", "none"] = "full"
    busy_timeout: float = 60.0  # seconds to wait for another process's write lock

    def __post_init__(self) -> None:
        if self.busy_timeout <= 0:
            raise ValueError("busy_timeout must be > 0 (seconds)")

    @property
    def fts_level(self) -> str:
        if self.fts is True:
            return "full"
        return "off" if self.fts is False else self.fts


class SqliteSink(Sink):
    name = "sqlite"
    Options = SqliteSinkOptions

    options: SqliteSinkOptions
    db: sqlite3.Connection | None = None
    _writer: Background | None = None

    def open(self, resume: Any = None) -> None:
        """`resume` needs no cutting back: commits are durable and upserts idempotent, and an
        interrupted run's uncommitted transaction was rolled back by SQLite."""
        self.path = self.context.resolve(self.options.path)
        self._rows = RowBuilder()
        self._json = msgspec.json.Encoder()
        self._fts_above: int | None = None  # see _defer_fts
        self._writer: Background | None = None  # the open transaction's batches
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self.db = sqlite3.connect(  # isolation_level None: we BEGIN/COMMIT ourselves
                self.path,
                timeout=self.options.busy_timeout,
                isolation_level=None,
                check_same_thread=False,  # one thread at a time: see store.background
            )
            self.db.execute("PRAGMA page_size = 8192")
            self.db.execute("PRAGMA journal_mode = WAL")
            self.db.execute("PRAGMA synchronous = NORMAL")
            self.db.execute("PRAGMA cache_size = -65536")  # 64 MiB: the FTS merges like it
            self.db.create_function(  # the merge of `extra`: the rules' own Python statement
                "harvester_merge_extra", 2, merge_extra_json, deterministic=True
            )
            schema.ensure_schema(self.db, str(self.path))
            if schema.configure_fts(self.db, self.options.fts_level):
                self.context.log.info("%s: full-text index rebuilt", self.path)
        except (sqlite3.Error, OSError) as exc:
            self._disconnect()
            raise self._error("cannot open the SQLite database", exc) from exc
        except SinkError:
            self._disconnect()
            raise

    def write(self, papers: Sequence[Paper]) -> None:
        """Rows are built here (a bad paper fails this call); the merge runs on the sink's
        background thread (`store.background`): a database error surfaces at the next call."""
        db = self._db()
        try:
            if self._writer is None:  # the first write since a commit: take the lock now
                db.execute("BEGIN IMMEDIATE")
                self._defer_fts(db)
                self._writer = Background(self._write_batch, name=f"sqlite sink {self.path}")
            now = now_utc()
            rows = [self._rows.row(p, now) for p in papers]
            self._writer.submit((rows, papers))
        except (sqlite3.Error, ValueError) as exc:
            raise self._error("cannot write", exc) from exc

    def commit(self) -> None:
        db = self._db()
        try:
            self._finish_writes()
            if db.in_transaction:
                self._index_deferred(db)
                db.execute("COMMIT")
        except (sqlite3.Error, ValueError) as exc:
            raise self._error("cannot commit", exc) from exc
        return None  # nothing to cut back to: the upserts are idempotent

    def close(self, outcome: Outcome = Outcome.DONE) -> None:
        if self.db is None:
            return
        try:
            if outcome is Outcome.DONE:
                self.commit()
                self.db.execute("PRAGMA optimize")
            else:  # SUSPEND and ABANDON keep only what was committed
                if self._writer is not None:
                    writer, self._writer = self._writer, None
                    writer.stop(discard=True)
                if self.db.in_transaction:
                    self.db.execute("ROLLBACK")
                self._fts_above = None
        except sqlite3.Error as exc:
            raise self._error("cannot close", exc) from exc
        finally:
            self._disconnect()

    # -- one batch (on the background thread) ------------------------------------------------

    def _finish_writes(self) -> None:
        """Every batch written since the last commit applied; its first error raised."""
        if self._writer is not None:
            writer, self._writer = self._writer, None
            writer.stop()

    def _write_batch(self, batch: tuple[list[list[Any]], Sequence[Paper]]) -> None:
        rows, papers = batch
        db = self._db()
        titles = self._json.encode(list({r[AT["title_key"]] for r in rows})).decode()
        by_title, held = merge.stored_by_title(db, titles)
        steps = matching.plan(rows, by_title)
        for step in steps:
            if isinstance(step, matching.Absorb):
                merge.absorb(db, step.title_row_key, step.arxiv_row_key, step.arxiv_id)
                matching.forget(step, held)
                continue
            full, refresh = matching.split_changes(step, rows, held)
            if full:
                points = [observation(papers[i], rows[i][_KEY], rows[i][_SEEN]) for i in full]
                merge.merge_rows(db, [rows[i] for i in full], [p for p in points if p is not None])
            if refresh:
                merge.execute_rows(
                    db, merge.SIGHTING, merge.sighting_rows([rows[i] for i in refresh])
                )

    # FTS5 indexes best in big runs: rows a transaction inserts are indexed once, at its commit
    # (one INSERT ... SELECT), not per batch; until then the triggers leave them alone (see
    # schema.FTS_TRIGGERS). Per batch, the index's segment merges cost twice the indexing.

    def _defer_fts(self, db: sqlite3.Connection) -> None:
        self._fts_above = None
        if self.options.fts_level != "off":
            above = db.execute("SELECT coalesce(max(id), 0) FROM papers").fetchone()[0]
            db.execute("INSERT INTO meta VALUES ('fts_deferred_above', ?)", (above,))
            self._fts_above = above

    def _index_deferred(self, db: sqlite3.Connection) -> None:
        if self._fts_above is None:
            return
        db.execute(
            "INSERT INTO papers_fts (rowid, title, abstract) "
            "SELECT id, title, abstract FROM papers WHERE id > ?",
            (self._fts_above,),
        )
        db.execute("DELETE FROM meta WHERE name = 'fts_deferred_above'")
        self._fts_above = None

    # -- helpers -----------------------------------------------------------------------------

    def _error(self, what: str, exc: BaseException) -> SinkError:
        detail = str(exc)
        if "locked" in detail or "busy" in detail:
            detail += (
                f" (another process held the write lock for over {self.options.busy_timeout:g} s;"
                " raise busy_timeout or write less per commit)"
            )
        return SinkError(f"{self.path}: {what}: {detail}")

    def _db(self) -> sqlite3.Connection:
        if self.db is None:
            raise SinkError(f"sqlite sink {self.options.path}: used before open()")
        return self.db

    def _disconnect(self) -> None:
        if self._writer is not None:  # an error left batches queued: they are rolled back
            writer, self._writer = self._writer, None
            writer.stop(discard=True)
        if self.db is not None:
            db, self.db = self.db, None
            db.close()
