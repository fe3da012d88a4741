"""The `postgres` sink's lifecycle. One transaction per checkpoint, like the SQLite sink.

Concurrency: each writing transaction first takes one transaction-level advisory lock on the
store (`schema.STORE_LOCK`), so writers take turns per checkpoint. A deadlock is then impossible
by construction, the title matching of a batch sees every committed row (no two rows for one
paper from two writers racing), and no row is lost (every merge is an upsert). A writer waits
for the lock at most ``lock_timeout`` seconds, then the sink raises `SinkError`.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from harvester_plugins.check_readers import fresh_postgres, read_postgres
from harvester_plugins.store import matching
from harvester_plugins.store.background import Background
from harvester_plugins.store.metrics import github_stars
from harvester_plugins.store.rules import AT, RowBuilder, now_utc

from harvester.api import Outcome, Sink, SinkOptions
from harvester.checks import SinkCheck
from harvester.errors import SinkError
from harvester.pgconn import scalar
from harvester.schema import Paper

from . import merge, schema
from .connect import connect, describe, redact

if TYPE_CHECKING:
    import psycopg

_KEY, _TITLE_KEY = AT["key"], AT["title_key"]


def _psycopg():
    """psycopg, imported when a sink first meets the database: the plugin is loaded by every
    command, and importing psycopg costs ~0.1 s."""
    import psycopg

    return psycopg


_SIGHTING = [AT[c] for c in ("key", "source", "source_ref", "listing_date", "harvested_at")]


class PostgresSinkOptions(SinkOptions, kw_only=True, forbid_unknown_fields=True):
    url: str | None = None  # postgresql://...; what it leaves out comes from PG* variables
    lock_timeout: float = 60.0  # seconds to wait for another writer's turn
    text_search: str = "english"  # the text-search configuration of the `search` column

    def __post_init__(self) -> None:
        if self.lock_timeout <= 0:
            raise ValueError("lock_timeout must be > 0 (seconds)")
        if not re.fullmatch(r"[a-z_][a-z0-9_]*", self.text_search):
            raise ValueError("text_search must be a configuration name such as 'english'")

    def __repr__(self) -> str:  # never show a password, whatever prints the options
        return f"PostgresSinkOptions(url={describe(self.url)!r}, lock_timeout={self.lock_timeout})"


class PostgresSink(Sink):
    name = "postgres"
    Options = PostgresSinkOptions
    concurrent_writers = True  # writers take turns per transaction; every merge is an upsert
    # `harvester check postgres --option url=postgresql://...`: each scenario in a database of
    # its own, created on that server and dropped after
    check = SinkCheck(
        needs=["url"],
        read_back=read_postgres,
        fresh=fresh_postgres,
        expected="check/expected_records.jsonl",
        unwritable={"url": "postgresql://nobody:secret@127.0.0.1:1/none"},
        bad_options=[{"lock_timeout": 0}, {"text_search": "no such; config"}],
    )
    merges = True

    options: PostgresSinkOptions
    con: psycopg.Connection | None = None
    _writer: Background | None = None

    @property
    def database(self) -> str:
        """The database as messages name it: the URL without its password."""
        return describe(self.options.url)

    def holds_at_least(self, count: int) -> bool | None:
        try:
            con = connect(self.options.url, lock_timeout=self.options.lock_timeout,
                          application="harvester postgres sink")  # fmt: skip
        except SinkError:
            return None  # opening it will say what is wrong
        try:
            if not scalar(con, "SELECT to_regclass('papers') IS NOT NULL"):
                return count <= 0
            query = "SELECT count(*) FROM (SELECT 1 FROM papers LIMIT %s) s"
            return scalar(con, query, (count,)) >= count
        except _psycopg().Error:
            return None
        finally:
            con.close()

    def open(self, resume: Any = None) -> None:
        """`resume` needs no cutting back: commits are durable, upserts idempotent."""
        self._rows = RowBuilder()
        self._locked = False
        self._writer: Background | None = None  # the open transaction's batches
        self.con = connect(self.options.url, lock_timeout=self.options.lock_timeout,
                           application="harvester postgres sink")  # fmt: skip
        try:
            schema.ensure_schema(self.con, self.database, self.options.text_search)
            self.con.execute(merge.STAGE)
            self.con.commit()
        except _psycopg().Error as exc:
            self._disconnect()
            raise self._error("cannot open", exc) from None
        except SinkError:
            self._disconnect()
            raise

    def write(self, papers: Sequence[Paper]) -> None:
        """Rows are built here (a bad paper fails this call); the merge runs on the sink's
        background thread (`store.background`), so the server's work overlaps with the run's:
        a database error surfaces at the next call."""
        con = self._con()
        try:
            if self._writer is None:  # our turn: held until commit or rollback
                con.execute("SELECT pg_advisory_xact_lock(%s)", (schema.STORE_LOCK,))
                self._locked = True
                self._writer = Background(self._write_batch, name=f"postgres sink {self.database}")
            now = now_utc()
            rows = [self._rows.row(p, now) for p in papers]
            self._writer.submit((rows, papers))
        except _psycopg().Error as exc:
            raise self._error("cannot write", exc) from None
        except ValueError as exc:
            raise SinkError(f"{self.database}: cannot write: {exc}") from None

    def commit(self) -> None:
        try:
            if self._writer is not None:
                writer, self._writer = self._writer, None
                writer.stop()  # every batch applied, or its error raised
            self._con().commit()
            self._locked = False
        except _psycopg().Error as exc:
            raise self._error("cannot commit", exc) from None
        return None  # nothing to cut back to: the upserts are idempotent

    def close(self, outcome: Outcome = Outcome.DONE) -> None:
        if self.con is None:
            return
        try:
            if outcome is Outcome.DONE:
                self.commit()
            else:  # SUSPEND and ABANDON keep only what was committed
                self._drop_writes()
                self.con.rollback()
        except _psycopg().Error as exc:
            raise self._error("cannot close", exc) from None
        finally:
            self._disconnect()

    # -- one batch (on the background thread) ------------------------------------------------

    def _write_batch(self, batch: tuple[list[list[Any]], Sequence[Paper]]) -> None:
        rows, papers = batch
        con = self._con()
        by_title, held = merge.stored_by_title(con, list({r[_TITLE_KEY] for r in rows}))
        steps = matching.plan(rows, by_title)
        for step in steps:
            if isinstance(step, matching.Absorb):
                merge.absorb(con, step.title_row_key, step.arxiv_row_key, step.arxiv_id)
                matching.forget(step, held)
                continue
            full, refresh = matching.split_changes(step, rows, held)
            if full:
                merge.merge_rows(con, [(*rows[i], github_stars(papers[i])) for i in full])
            if refresh:
                con.execute(merge.REFRESH, [[rows[i][at] for i in refresh] for at in _SIGHTING])

    # -- helpers -----------------------------------------------------------------------------

    def _error(self, what: str, exc: BaseException) -> SinkError:
        detail = redact(str(exc).strip(), self.options.url)
        if isinstance(exc, _psycopg().errors.LockNotAvailable):
            detail += (
                f" (another writer held the store for over {self.options.lock_timeout:g} s;"
                " raise lock_timeout or write less per commit)"
            )
        return SinkError(f"{self.database}: {what}: {detail}")

    def _con(self) -> psycopg.Connection:
        if self.con is None:
            raise SinkError(f"postgres sink {self.database}: used before open()")
        return self.con

    def _drop_writes(self) -> None:
        if self._writer is not None:  # what is queued is rolled back: not applied
            writer, self._writer = self._writer, None
            writer.stop(discard=True)

    def _disconnect(self) -> None:
        self._drop_writes()
        if self.con is not None:
            con, self.con = self.con, None
            self._locked = False
            con.close()
