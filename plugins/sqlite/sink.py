"""The `sqlite` sink's lifecycle: open (create/migrate, FTS setting), write (plan and merge a
batch inside the open transaction), commit (one transaction per checkpoint), close."""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Sequence
from typing import Any, Literal

import msgspec
from harvester_plugins.store import matching
from harvester_plugins.store.metrics import observation
from harvester_plugins.store.rules import AT, RowBuilder, merge_extra_json, now_utc

from harvester.api import Outcome, Sink, SinkOptions
from harvester.checks import SinkCheck
from harvester.errors import SinkError
from harvester.schema import Paper

from ..check_readers import read_sqlite
from . import merge, schema

_KEY, _SEEN = AT["key"], AT["harvested_at"]
QUICK_CHECK_SECONDS = 2.0  # the bound on the check of an existing store at open


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
    check = SinkCheck(
        options={"path": "out/papers.db"},
        read_back=read_sqlite,
        expected="check/expected_records.jsonl",
        bad_options=[{"busy_timeout": 0}, {"fts": "partial"}],
    )
    merges = True  # upserts by key

    options: SqliteSinkOptions
    db: sqlite3.Connection | None = None

    def holds_at_least(self, count: int) -> bool | None:
        path = self.context.resolve(self.options.path)
        if not path.exists():
            return count <= 0
        try:
            db = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)
            try:
                if not db.execute("SELECT 1 FROM sqlite_master WHERE name = 'papers'").fetchone():
                    return count <= 0
                found = db.execute("SELECT count(*) FROM (SELECT 1 FROM papers LIMIT ?)",
                                   (count,)).fetchone()[0]  # fmt: skip
            finally:
                db.close()
        except sqlite3.Error:
            return None  # opening it will say what is wrong
        return found >= count

    def open(self, resume: Any = None) -> None:
        """`resume` needs no cutting back: commits are durable and upserts idempotent, and an
        interrupted run's uncommitted transaction was rolled back by SQLite."""
        self.path = self.context.resolve(self.options.path)
        self._rows = RowBuilder()
        self._json = msgspec.json.Encoder()
        self._fts_above: int | None = None  # see _defer_fts
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            existed = self.path.exists() and self.path.stat().st_size > 0
            self.db = sqlite3.connect(
                self.path, timeout=self.options.busy_timeout, isolation_level=None
            )  # isolation_level None: we BEGIN/COMMIT ourselves
            if existed:
                self._check_pages(self.db)
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
        db = self._db()
        try:
            if not db.in_transaction:
                db.execute("BEGIN IMMEDIATE")  # take the write lock now, not mid-batch
                self._defer_fts(db)
            self._write_batch(db, papers)
        except (sqlite3.Error, ValueError) as exc:
            raise self._error("cannot write", exc) from exc

    def commit(self) -> None:
        db = self._db()
        try:
            if db.in_transaction:
                self._index_deferred(db)
                db.execute("COMMIT")
        except sqlite3.Error as exc:
            raise self._error("cannot commit", exc) from exc
        return None  # nothing to cut back to: the upserts are idempotent

    def close(self, outcome: Outcome = Outcome.DONE) -> None:
        if self.db is None:
            return
        try:
            if outcome is Outcome.DONE:
                self.commit()
                self._optimize()
            elif self.db.in_transaction:
                self.db.execute("ROLLBACK")  # SUSPEND and ABANDON keep only what was committed
                self._fts_above = None
        except sqlite3.Error as exc:
            raise self._error("cannot close", exc) from exc
        finally:
            self._disconnect()

    def _optimize(self) -> None:
        """`PRAGMA optimize` (query statistics), when no other writer is in the way: it may
        need to upgrade a read to a write, which SQLite refuses at once (no busy wait) while
        another process writes. It only speeds later queries, so it is skipped then."""
        try:
            self.db.execute("PRAGMA optimize")
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) and "busy" not in str(exc):
                raise
            self.context.log.info("%s: PRAGMA optimize skipped: %s", self.path, exc)

    # -- one batch ---------------------------------------------------------------------------

    def _write_batch(self, db: sqlite3.Connection, papers: Sequence[Paper]) -> None:
        now = now_utc()
        rows = [self._rows.row(p, now) for p in papers]
        titles = self._json.encode(list({r[AT["title_key"]] for r in rows})).decode()
        by_title, held = merge.stored_by_title(db, titles)
        steps = matching.plan(rows, by_title)
        for step in steps:
            if isinstance(step, matching.Absorb):
                merge.absorb(db, step.title_row_key, step.arxiv_row_key, step.arxiv_id)
                matching.forget(step, held)
                continue
            full, refresh = matching.split_changes(step, rows, held)
            self._merge(db, [rows[i] for i in full], [papers[i] for i in full])
            if refresh:
                db.executemany(merge.SIGHTING, merge.sighting_rows([rows[i] for i in refresh]))

    def _merge(self, db: sqlite3.Connection, rows: list[list[Any]], papers: list[Paper]) -> None:
        """Upsert rows (distinct keys), record their sightings and observations."""
        if not rows:
            return
        db.executemany(merge.UPSERT, rows)
        db.executemany(merge.SIGHTING, merge.sighting_rows(rows))
        points = [
            observation(p, row[_KEY], row[_SEEN]) for p, row in zip(papers, rows, strict=True)
        ]
        db.executemany(merge.OBSERVE, [p for p in points if p is not None])

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

    def _check_pages(self, db: sqlite3.Connection) -> None:
        """`PRAGMA quick_check` of a store written before, for at most `QUICK_CHECK_SECONDS`
        (a larger database is not checked whole): a damaged one is refused, never written
        into."""
        deadline = time.monotonic() + QUICK_CHECK_SECONDS
        db.set_progress_handler(lambda: time.monotonic() > deadline, 10_000)
        try:
            problems = [row[0] for row in db.execute("PRAGMA quick_check(5)")]
        except sqlite3.OperationalError as exc:
            if "interrupted" not in str(exc):
                raise
            self.context.log.info("%s: quick_check stopped after %g s (a large database)",
                                  self.path, QUICK_CHECK_SECONDS)  # fmt: skip
            return
        except sqlite3.DatabaseError as exc:  # "database disk image is malformed"
            problems = [str(exc)]
        finally:
            db.set_progress_handler(None, 0)
        if problems != ["ok"]:
            raise SinkError(
                f"{self.path}: the database is damaged (quick_check: {'; '.join(problems)}); "
                "it is left as it is. Move it away and run `harvester run --refresh` to "
                "rebuild it from the sources (or restore a copy)"
            )

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
        if self.db is not None:
            db, self.db = self.db, None
            db.close()
