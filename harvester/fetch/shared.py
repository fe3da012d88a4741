"""One politeness budget for many processes: `[fetch] budget_store`.

    [fetch]
    budget_store = "postgresql://harvester@db/papers"   # processes on any machine
    budget_store = "sqlite:///budget.db"                 # processes on this machine

A site's budget is per caller, not per process: three shards pacing themselves at 20/min each
against a site allowing 20/min in total get most requests refused. A `SharedLimiter` keeps each
budget key's `Bucket` (booked starts, advertised limits, quota, pause) as one row of
``harvester_budget``; a booking locks that row (PostgreSQL ``SELECT ... FOR UPDATE``, SQLite
``BEGIN IMMEDIATE``), applies the in-process rules (`limiter.book`, `take_advice`, `hold`) and
writes it back in one transaction. So every process books the next free start in turn: the
same sliding log, Retry-After pause and learned quota as in one process.

Times in the row are the store's clock (PostgreSQL's ``clock_timestamp()``, so machines whose
clocks differ agree; SQLite: this machine's wall clock); each call converts them to and from
`time.monotonic()`, read right after the store's clock (so the caller's clock must be the real
one, `SystemClock`), within a fraction of a millisecond.

Why not pyrate-limiter's PostgresBucket/SQLiteBucket: measured (4 processes, 20 per 2 s, in
docs/scaling.md) it keeps a fixed rate, but it admits only "now" (no booked future start to
sleep until, so waiting processes poll, and its ``LOCK TABLE ... NOWAIT`` turns contention into
refusals), its rates are fixed per bucket object (ours change as a server advertises them and
robots.txt asks), it keeps one table per key, and it has no shared pause or quota.
"""

from __future__ import annotations

import contextlib
import sqlite3
import threading
import time
from collections import deque
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import msgspec

from ..errors import HarvesterError, StateError, UsageError
from ..pgconn import connect, describe, is_postgres_url, psycopg_module, redact
from .advertised import ServerAdvice
from .budgets import Rate
from .limiter import Bucket, Reservation, book, hold, take_advice

_NEVER = float("-inf")


class BudgetStoreError(StateError):
    """The budget store cannot be read or written: the run cannot book requests politely and
    stops (a `StateError`: exit 1, like a run state that cannot be saved)."""


class _Row(msgspec.Struct, array_like=True):
    """A `Bucket` as stored (JSON has no -inf: None)."""

    starts: list[float]
    learned: list[tuple[int, float]]
    quota_left: int | None
    quota_reset: float | None
    paused_until: float | None
    pause_reason: str
    booked: int


def _dump(bucket: Bucket) -> str:
    def finite(x: float) -> float | None:
        return None if x == _NEVER else x

    row = _Row(
        list(bucket.starts), [(r.limit, r.window) for r in bucket.learned], bucket.quota_left,
        finite(bucket.quota_reset), finite(bucket.paused_until), bucket.pause_reason,
        bucket.booked,
    )  # fmt: skip
    return msgspec.json.encode(row).decode()


def _load(text: str | None) -> Bucket:
    if not text:
        return Bucket()
    row = msgspec.json.decode(text, type=_Row)
    return Bucket(
        starts=deque(row.starts),
        learned=tuple(Rate(limit, window) for limit, window in row.learned),
        quota_left=row.quota_left,
        quota_reset=_NEVER if row.quota_reset is None else row.quota_reset,
        paused_until=_NEVER if row.paused_until is None else row.paused_until,
        pause_reason=row.pause_reason,
        booked=row.booked,
    )


def _shift(bucket: Bucket, by: float) -> Bucket:
    """The bucket with every time moved by `by` seconds (store clock <-> caller's clock)."""
    bucket.starts = deque(t + by for t in bucket.starts)
    bucket.quota_reset += by
    bucket.paused_until += by
    return bucket


class SharedLimiter:
    """`harvester.fetch.limiter.Limiter` over a `_Store` (PostgreSQL or SQLite)."""

    def __init__(self, store: _Store):
        self.store = store
        self.where = store.where

    def reserve(
        self, key: str, rates: Sequence[Rate], interval: float, *, now: float, max_cooldown: float
    ) -> Reservation:
        with self.store.bucket(key) as (bucket, clock):
            # read at once after the store's clock (not the caller's `now`, taken before the
            # row lock was granted): store time = monotonic time + offset
            local = time.monotonic()
            offset = clock - local
            now = max(now, local)
            booked = book(
                _shift(bucket, -offset), rates, interval, now=now, max_cooldown=max_cooldown
            )
            _shift(bucket, offset)
        return booked

    def learn(self, key: str, advice: ServerAdvice, ticket: int, *, now: float) -> None:
        with self.store.bucket(key) as (bucket, clock):
            take_advice(bucket, advice, ticket, now=clock)

    def pause(self, key: str, until: float, reason: str) -> None:
        with self.store.bucket(key) as (bucket, clock):
            hold(bucket, until - time.monotonic() + clock, reason)

    def close(self) -> None:
        self.store.close()


class _Store:
    """Where the rows live: `bucket(key)` yields (the key's bucket, the store's clock now) with
    the row locked, and saves the bucket when the block ends without an exception."""

    where: str

    def bucket(self, key: str) -> contextlib.AbstractContextManager[tuple[Bucket, float]]:
        raise NotImplementedError

    def close(self) -> None:
        raise NotImplementedError


class PostgresBudget(_Store):
    SCHEMA = (
        "CREATE TABLE IF NOT EXISTS harvester_budget (key text PRIMARY KEY, bucket jsonb, "
        "updated_at timestamptz NOT NULL DEFAULT now())"
    )

    def __init__(self, url: str):
        self.url, self.where = url, describe(url)
        self._lock = threading.Lock()  # one connection, shared by the fetcher's threads
        self._con: Any = None

    @contextlib.contextmanager
    def bucket(self, key: str) -> Iterator[tuple[Bucket, float]]:
        psycopg = psycopg_module()
        with self._lock:
            try:
                con, text, clock = self._locked_row(key)
                try:
                    bucket = _load(text)
                    yield bucket, clock
                    con.execute("UPDATE harvester_budget SET bucket = %s::jsonb, updated_at = "
                                "now() WHERE key = %s", (_dump(bucket), key))  # fmt: skip
                    con.execute("COMMIT")
                except BaseException:
                    if not con.closed:
                        con.execute("ROLLBACK")
                    raise
            except psycopg.Error as exc:
                self._drop_connection()  # the lock is held: never `close()` here
                detail = redact(str(exc).strip(), self.url)
                raise BudgetStoreError(f"budget store {self.where}: {detail}") from None

    def _locked_row(self, key: str) -> tuple[Any, str | None, float]:
        """(the connection, the key's row, the store's clock), the row locked in a transaction
        left open. A connection that died since its last use (the server restarted) is
        replaced once: nothing was booked on it."""
        reused = self._con is not None and not self._con.closed
        try:
            return self._lock_row(self._connection(), key)
        except psycopg_module().OperationalError:
            self._drop_connection()
            if not reused:
                raise
        return self._lock_row(self._connection(), key)

    @staticmethod
    def _lock_row(con: Any, key: str) -> tuple[Any, str | None, float]:
        con.execute("BEGIN")
        con.execute("INSERT INTO harvester_budget (key) VALUES (%s) ON CONFLICT DO NOTHING", (key,))
        text = con.execute(
            "SELECT bucket::text FROM harvester_budget WHERE key = %s FOR UPDATE", (key,)
        ).fetchone()[0]
        # read after the row lock: another process may have held it a while
        clock = con.execute("SELECT extract(epoch FROM clock_timestamp())::float8").fetchone()[0]
        return con, text, clock

    def _connection(self):
        if self._con is None or self._con.closed:
            try:
                con = connect(self.url, error=HarvesterError, application="harvester budget",
                              autocommit=True)  # fmt: skip
            except HarvesterError as exc:
                raise BudgetStoreError(f"budget store {exc}") from None
            with con.transaction():  # concurrent CREATEs race: one at a time
                con.execute("SELECT pg_advisory_xact_lock(hashtextextended(%s, 0))",
                            ("harvester budget schema",))  # fmt: skip
                con.execute(self.SCHEMA)
            self._con = con
        return self._con

    def _drop_connection(self) -> None:
        if self._con is not None:
            con, self._con = self._con, None
            con.close()

    def close(self) -> None:
        with self._lock:
            self._drop_connection()


class SqliteBudget(_Store):
    SCHEMA = "CREATE TABLE IF NOT EXISTS harvester_budget (key TEXT PRIMARY KEY, bucket TEXT)"

    def __init__(self, path: Path):
        self.path, self.where = path, f"sqlite:///{path}"
        self._lock = threading.Lock()
        self._con: sqlite3.Connection | None = None

    @contextlib.contextmanager
    def bucket(self, key: str) -> Iterator[tuple[Bucket, float]]:
        with self._lock:
            try:
                con = self._connection()
                con.execute("BEGIN IMMEDIATE")  # the write lock: processes take turns
                try:
                    row = con.execute(
                        "SELECT bucket FROM harvester_budget WHERE key = ?", (key,)
                    ).fetchone()
                    bucket = _load(row[0] if row else None)
                    yield bucket, time.time()
                    con.execute("INSERT OR REPLACE INTO harvester_budget VALUES (?, ?)",
                                (key, _dump(bucket)))  # fmt: skip
                    con.execute("COMMIT")
                except BaseException:
                    con.execute("ROLLBACK")
                    raise
            except sqlite3.Error as exc:
                self.close()
                raise BudgetStoreError(f"budget store {self.where}: {exc}") from None

    def _connection(self) -> sqlite3.Connection:
        if self._con is None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            con = sqlite3.connect(self.path, timeout=60, isolation_level=None,
                                  check_same_thread=False)  # fmt: skip
            con.execute("PRAGMA journal_mode = WAL")
            con.execute(self.SCHEMA)
            self._con = con
        return self._con

    def close(self) -> None:
        if self._con is not None:
            con, self._con = self._con, None
            con.close()


def open_budget(spec: str, base_dir: Path) -> SharedLimiter:
    """The shared limiter `[fetch] budget_store = spec` names (a relative SQLite path is
    relative to `base_dir`, like every path in a config)."""
    if is_postgres_url(spec):
        return SharedLimiter(PostgresBudget(spec))
    if spec.startswith("sqlite:///"):
        path = Path(spec.removeprefix("sqlite:///")).expanduser()
        return SharedLimiter(SqliteBudget(path if path.is_absolute() else base_dir / path))
    raise UsageError(f"budget_store {spec!r}: expected postgresql://... or sqlite:///PATH")
