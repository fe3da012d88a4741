"""The `sqlite` sink's lifecycle: open (create/migrate, FTS setting), write (plan and merge a
batch inside the open transaction), commit (one transaction per checkpoint), close.

A batch is planned where `write` is called: its rows built, matched against what the
transaction knows (`store.matching.Known`: rows looked up on a second, read-only connection as
committed before the transaction, plus the transaction's own changes) and turned into
statements, which the sink's background thread (`store.background`) runs on the writing
connection. SQLite works through them without the GIL, so the database's work overlaps with
the run reading the next batch."""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Sequence
from typing import Any, Literal

from harvester_plugins.check_readers import read_sqlite
from harvester_plugins.store import matching
from harvester_plugins.store.background import Background
from harvester_plugins.store.metrics import observation
from harvester_plugins.store.rules import AT, RowBuilder, merge_extra_json, now_utc

from harvester.api import Outcome, Sink, SinkOptions
from harvester.checks import SinkCheck
from harvester.errors import SinkError
from harvester.schema import Paper

from . import merge, schema

_KEY, _SEEN = AT["key"], AT["harvested_at"]
QUICK_CHECK_SECONDS = 2.0  # the bound on the check of an existing store at open


def _bind_plainly() -> None:
    """None and bool bound through registered adapters, to the values sqlite3 gives them
    anyway (NULL; 1 and 0). Without one, `sqlite3` looks each such value up as a protocol
    (`__adapt__`, `__conform__`) before binding it, raising and discarding an AttributeError
    every time: with a dozen null columns a row, 9 % of the sink's instructions. Registered
    for the process (the module has one registry), which changes no value any caller binds;
    an adapter the application registered itself for either type is left in place."""
    if (type(None), sqlite3.PrepareProtocol) not in sqlite3.adapters:
        sqlite3.register_adapter(type(None), set().discard)  # a C call returning None
    if (bool, sqlite3.PrepareProtocol) not in sqlite3.adapters:
        sqlite3.register_adapter(bool, int)


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
    reader: sqlite3.Connection | None = None  # read-only: what was committed
    _writer: Background | None = None

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
        _bind_plainly()
        self._rows = RowBuilder()
        self._fts_deferred = False  # the open transaction indexes its rows itself: _defer_fts
        self._writer: Background | None = None  # the open transaction's batches
        self._known = matching.Known()  # what the open transaction knows of stored rows
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            existed = self.path.exists() and self.path.stat().st_size > 0
            self.db = sqlite3.connect(  # isolation_level None: we BEGIN/COMMIT ourselves
                self.path,
                timeout=self.options.busy_timeout,
                isolation_level=None,
                check_same_thread=False,  # one thread at a time: see store.background
            )
            if existed:
                self._check_pages(self.db)
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
            self._limit = self.db.getlimit(sqlite3.SQLITE_LIMIT_VARIABLE_NUMBER)
            self.reader = sqlite3.connect(
                f"{self.path.resolve().as_uri()}?mode=ro",
                uri=True,
                timeout=self.options.busy_timeout,
                isolation_level=None,
            )
        except (sqlite3.Error, OSError) as exc:
            self._disconnect()
            raise self._error("cannot open the SQLite database", exc) from exc
        except SinkError:
            self._disconnect()
            raise

    def write(self, papers: Sequence[Paper]) -> None:
        """Plans the batch here (a bad paper fails this call); its statements run on the
        background thread: a database error surfaces at the next call."""
        db = self._db()
        try:
            if self._writer is None:  # the first write since a commit: take the lock now
                db.execute("BEGIN IMMEDIATE")
                self._defer_fts(db)
                self._known = matching.Known()  # others may have written since our commit
                self._writer = Background(self._run, name=f"sqlite sink {self.path}")
            self._writer.submit(self._plan(papers))
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
                self._optimize()
            else:  # SUSPEND and ABANDON keep only what was committed
                if self._writer is not None:
                    writer, self._writer = self._writer, None
                    writer.stop(discard=True)
                if self.db.in_transaction:
                    self.db.execute("ROLLBACK")
                self._fts_deferred = False
        except sqlite3.Error as exc:
            raise self._error("cannot close", exc) from exc
        finally:
            self._disconnect()

    def _optimize(self) -> None:
        """`PRAGMA optimize` (query statistics), when no other writer is in the way: it may
        need to upgrade a read to a write, which SQLite refuses at once (no busy wait) while
        another process writes. It only speeds later queries, so it is skipped then."""
        assert self.db is not None  # open
        try:
            self.db.execute("PRAGMA optimize")
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) and "busy" not in str(exc):
                raise
            self.context.log.info("%s: PRAGMA optimize skipped: %s", self.path, exc)

    # -- one batch: planned here, run on the background thread -------------------------------

    def _finish_writes(self) -> None:
        """Every batch written since the last commit applied; its first error raised."""
        if self._writer is not None:
            writer, self._writer = self._writer, None
            writer.stop()

    def _plan(self, papers: Sequence[Paper]) -> list[Any]:
        """The batch as what the background thread runs: absorbs and statements."""
        now = now_utc()
        rows = [self._rows.row(p, now) for p in papers]
        known = self._known
        if titles := known.unknown_titles(rows):
            known.learn(titles, merge.stored_rows(self._read(), titles))
        work: list[Any] = []
        for step, full, refresh in known.plan(rows):
            if isinstance(step, matching.Absorb):
                work.append(step)
                continue
            if full:
                seen = [observation(papers[i], rows[i][_KEY], rows[i][_SEEN]) for i in full]
                merged = [rows[i] for i in full]
                points = [p for p in seen if p is not None]
                work += merge.merge_statements(merged, points, self._limit)
            if refresh:
                sightings = merge.sighting_rows([rows[i] for i in refresh])
                work += merge.statements(merge.SIGHTING, sightings, self._limit)
        return work

    def _run(self, work: list[Any]) -> None:
        db = self._db()
        for item in work:
            if isinstance(item, matching.Absorb):
                merge.absorb(db, item.title_row_key, item.arxiv_row_key, item.arxiv_id)
            else:
                db.execute(*item)
        self._index_new(db)

    # FTS5 indexes best in bulk: the rows a transaction inserts are indexed by one INSERT ...
    # SELECT after each batch (row by row, through the triggers, costs 3x); FTS5 holds their
    # terms in memory until its hashsize (schema.FTS_TUNING) or the commit, so the segments it
    # writes stay few. Rows inserted and not yet indexed are left alone by the triggers: meta
    # row `fts_deferred_above` holds the highest id indexed (see schema.FTS_TRIGGERS).

    def _defer_fts(self, db: sqlite3.Connection) -> None:
        self._fts_deferred = self.options.fts_level != "off"
        if self._fts_deferred:
            db.execute(
                "INSERT INTO meta SELECT 'fts_deferred_above', coalesce(max(id), 0) FROM papers"
            )

    def _index_new(self, db: sqlite3.Connection) -> None:
        """Index the rows inserted since the last call; from now on the triggers keep them.
        Two statements, the id kept in SQL: each statement the background thread runs waits
        for the GIL once more."""
        if not self._fts_deferred:
            return
        db.execute(
            "INSERT INTO papers_fts (rowid, title, abstract) "
            f"SELECT id, title, abstract FROM papers WHERE id > {schema.DEFERRED_ABOVE}"
        )
        db.execute(
            "UPDATE meta SET value = (SELECT coalesce(max(id), 0) FROM papers) "
            "WHERE name = 'fts_deferred_above'"
        )

    def _index_deferred(self, db: sqlite3.Connection) -> None:
        if not self._fts_deferred:
            return
        self._index_new(db)
        db.execute("DELETE FROM meta WHERE name = 'fts_deferred_above'")
        self._fts_deferred = False

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

    def _read(self) -> sqlite3.Connection:
        if self.reader is None:
            raise SinkError(f"sqlite sink {self.options.path}: used before open()")
        return self.reader

    def _disconnect(self) -> None:
        if self._writer is not None:  # an error left batches queued: they are rolled back
            writer, self._writer = self._writer, None
            writer.stop(discard=True)
        for name in ("reader", "db"):
            con = getattr(self, name)
            if con is not None:
                setattr(self, name, None)
                con.close()
