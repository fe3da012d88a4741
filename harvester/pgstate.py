"""The run state in PostgreSQL: `[run] state = "postgresql://user@host/db?name=NAME"`.

The same model as the directory store (`harvester.state`): a snapshot and the checkpoints
appended since, so a save costs one row however many targets are done, and the same resume
guarantee (a checkpoint is one committed transaction, made after the sinks committed)::

    harvester_state      (name PRIMARY KEY, generation, snapshot jsonb, saved_at)
    harvester_state_log  (id bigserial, name, change jsonb, saved_at)   one row per checkpoint

One database holds many states, one per `name`: the URL's ``?name=`` (a harvester parameter,
never passed to libpq), else the config file's stem (``hf-daily.toml`` -> ``hf-daily``), so a
fresh runner with the same config finds the same state.

Locks (advisory, keyed by the name): a run holds the state's lock for its session, exclusively;
a second run fails at once with `LockedError` naming the holder (its host and pid, from
``pg_stat_activity.application_name``). Jobs of `harvester worker` hold it shared: any number
of them at once, but never with a run. The server drops a session's locks when its client dies.
Folding the log into the snapshot takes a second lock exclusively, appends and loads take it
shared, so a fold never misses a checkpoint another process is committing.
"""

from __future__ import annotations

import contextlib
import logging
import os
import socket
from collections.abc import Iterator
from typing import Any

import msgspec

from .errors import LockedError, StateError
from .pgconn import connect, describe, psycopg_module, redact, split_name
from .state import COMPACT_AFTER, Checkpoint, State, apply, decode_state

log = logging.getLogger("harvester")
_decode_change = msgspec.json.Decoder(Checkpoint)
_encode = msgspec.json.Encoder()

SCHEMA = (
    "CREATE TABLE IF NOT EXISTS harvester_state (name text PRIMARY KEY, generation integer "
    "NOT NULL, snapshot jsonb NOT NULL, saved_at timestamptz NOT NULL DEFAULT now())",
    "CREATE TABLE IF NOT EXISTS harvester_state_log (id bigserial PRIMARY KEY, name text NOT "
    "NULL, change jsonb NOT NULL, saved_at timestamptz NOT NULL DEFAULT now())",
    "CREATE INDEX IF NOT EXISTS harvester_state_log_name ON harvester_state_log (name, id)",
)
_SCHEMA_LOCK = "harvester state schema"
# Who holds a run lock: pg_locks splits a bigint advisory key into classid (high) and objid.
_HOLDERS = (
    "SELECT a.application_name, a.client_addr::text, a.pid FROM pg_locks l "
    "JOIN pg_stat_activity a ON a.pid = l.pid WHERE l.locktype = 'advisory' AND l.granted "
    "AND l.pid <> pg_backend_pid() AND l.database = (SELECT oid FROM pg_database WHERE "
    "datname = current_database()) AND ((l.classid::bigint << 32) | l.objid::bigint) = "
    "(hashtextextended(%s, 0) & x'ffffffffffffffff'::bigint)"
)


class LostConnection(StateError):
    """The session holding the state's lock is gone (the server restarted or dropped it)."""


def application_name(role: str) -> str:
    """What pg_stat_activity shows for our sessions: who holds a lock, on which host."""
    return f"harvester {role} pid {os.getpid()} on {socket.gethostname()}"[:63]


class PostgresStateStore:
    """`harvester.state.Store` in a PostgreSQL database. Connects on first use."""

    def __init__(self, url: str, default_name: str):
        self.url, name = split_name(url)
        self.name = name or default_name
        self.where = f"{describe(self.url)} (state {self.name!r})"
        self._run_key = f"harvester state run {self.name}"
        self._fold_key = f"harvester state fold {self.name}"
        self._con: Any = None
        self._locked = False
        self._log_rows = 0

    # -- the connection ------------------------------------------------------------------------

    def _connection(self, role: str = "run"):
        """The store's session; `role` names it in pg_stat_activity (who holds the lock)."""
        if self._locked and self._con.closed:  # a new session would not hold the lock
            raise LostConnection(f"{self.where}: lost the connection holding the run's lock")
        if self._con is None or self._con.closed:
            self._con = connect(
                self.url, error=StateError, application=application_name(role), autocommit=True
            )
            with self._sql("cannot create the state tables"), self._con.transaction():
                self._con.execute("SELECT pg_advisory_xact_lock(hashtextextended(%s, 0))",
                                  (_SCHEMA_LOCK,))  # fmt: skip
                for statement in SCHEMA:
                    self._con.execute(statement)
        return self._con

    @contextlib.contextmanager
    def _sql(self, what: str) -> Iterator[None]:
        psycopg = psycopg_module()
        try:
            yield
        except psycopg.Error as exc:
            detail = redact(str(exc).strip(), self.url)
            raise StateError(f"{self.where}: {what}: {detail}") from None

    def close(self) -> None:
        if self._con is not None:
            con, self._con = self._con, None
            con.close()  # also releases a session lock still held

    # -- the run lock ----------------------------------------------------------------------------

    @contextlib.contextmanager
    def lock(self, *, shared: bool = False) -> Iterator[None]:
        con = self._connection("worker job" if shared else "run")
        kind = "_shared" if shared else ""
        with self._sql("cannot take the state's lock"):
            taken = con.execute(
                f"SELECT pg_try_advisory_lock{kind}(hashtextextended(%s, 0))", (self._run_key,)
            ).fetchone()[0]
        if not taken:
            holder = self._holder(con)
            self.close()
            raise LockedError(
                f"{self.where}: the run state is in use by {holder}; wait for it to finish"
            )
        self._locked = True
        try:
            yield
        finally:
            self._locked = False
            self._unlock(kind)
            self.close()

    def _unlock(self, kind: str) -> None:
        """Release the run lock in this session before closing it: the server notices a
        closed connection only later, and a peer asking meanwhile would find the lock held.
        A session that is gone took its locks with it."""
        con = self._con
        if con is None or con.closed:
            return
        try:
            if con.info.transaction_status != psycopg_module().pq.TransactionStatus.IDLE:
                con.rollback()  # an aborted transaction refuses every statement
            con.execute(
                f"SELECT pg_advisory_unlock{kind}(hashtextextended(%s, 0))", (self._run_key,)
            )
        except psycopg_module().Error:
            pass  # closing it next drops the lock on the server's side

    def _holder(self, con) -> str:
        with self._sql("cannot read the state's lock holder"):
            rows = con.execute(_HOLDERS, (self._run_key,)).fetchall()
        if not rows:
            return "another process"
        names = [f"{app or 'a client'} (server pid {pid}, from {addr or 'a local socket'})"
                 for app, addr, pid in rows]  # fmt: skip
        return "; ".join(names[:3]) + (f" and {len(names) - 3} more" if len(names) > 3 else "")

    # -- load and save ---------------------------------------------------------------------------

    def load(self, *, readonly: bool = False, salvage: bool = False) -> State:
        """The state; `salvage`: damaged checkpoint rows are deleted (named in a warning)
        instead of failing the load (`readonly` changes nothing here anyway)."""
        con = self._connection()
        with self._sql("cannot read the run state"), con.transaction():
            self._fold_lock(con, shared=True)
            return self._read(con, salvage=salvage)

    def _read(self, con, salvage: bool = False) -> State:
        row = con.execute(
            "SELECT snapshot::text FROM harvester_state WHERE name = %s", (self.name,)
        ).fetchone()
        state = decode_state(row[0], self.where, "delete its rows") if row else State()
        changes = con.execute(
            "SELECT id, change::text FROM harvester_state_log WHERE name = %s ORDER BY id",
            (self.name,),
        ).fetchall()
        damaged = []
        for row_id, text in changes:
            try:
                apply(state, _decode_change.decode(text))
            except msgspec.DecodeError as exc:
                if not salvage:
                    raise StateError(
                        f"{self.where}: checkpoint {row_id} is damaged ({exc}); `harvester run "
                        "--discard-journal` deletes the damaged checkpoints, keeps every other "
                        "and starts a new run (the targets they recorded are read again)"
                    ) from None
                damaged.append(row_id)
        if damaged:
            con.execute("DELETE FROM harvester_state_log WHERE id = ANY(%s)", (damaged,))
            log.warning("%s: deleted damaged checkpoint(s) %s", self.where,
                        ", ".join(map(str, damaged)))  # fmt: skip
        self._log_rows = len(changes) - len(damaged)
        return state

    def append(self, change: Checkpoint, state: State) -> None:
        """One row in one transaction; then a fold when the log has grown long (the fold reads
        the rows, this one included: `state` may not hold other processes' checkpoints)."""
        con = self._connection()
        with self._sql("cannot save the run state"), con.transaction():
            self._fold_lock(con, shared=True)
            con.execute(
                "INSERT INTO harvester_state_log (name, change) VALUES (%s, %s::jsonb)",
                (self.name, _encode.encode(change).decode()),
            )
        self._log_rows += 1
        if self._log_rows >= COMPACT_AFTER:
            self.compact(state)

    def compact(self, state: State) -> None:
        """Fold every saved checkpoint (other processes' included) into the snapshot."""
        con = self._connection()
        with self._sql("cannot fold the run state"), con.transaction():
            self._fold_lock(con, shared=False)
            folded = self._read(con)
            folded.generation += 1
            con.execute(
                "INSERT INTO harvester_state (name, generation, snapshot) VALUES "
                "(%s, %s, %s::jsonb) ON CONFLICT (name) DO UPDATE SET generation = "
                "excluded.generation, snapshot = excluded.snapshot, saved_at = now()",
                (self.name, folded.generation, _encode.encode(folded).decode()),
            )
            con.execute("DELETE FROM harvester_state_log WHERE name = %s", (self.name,))
        state.generation = folded.generation
        self._log_rows = 0

    def _fold_lock(self, con, *, shared: bool) -> None:
        kind = "_shared" if shared else ""
        con.execute(
            f"SELECT pg_advisory_xact_lock{kind}(hashtextextended(%s, 0))", (self._fold_key,)
        )
