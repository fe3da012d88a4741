"""Where a job's rejects go: rows of ``harvester_rejects`` in the queue's database, so workers on
any machine keep them in one place (a local rejects file would be per machine, and locked by
one process at a time). A retried job's rejects land once: each row is keyed by a hash of what
it says (source, location, reason, raw text), not by when it was made.

It follows the run's rejects-output lifecycle (`open`, `write`, `commit`, `close`).
"""

from __future__ import annotations

import contextlib
import hashlib
from collections.abc import Iterator, Sequence
from typing import Any

from harvester.api import Outcome
from harvester.errors import SinkError
from harvester.pgconn import connect, describe, psycopg_module, redact
from harvester.schema import Rejected

SCHEMA = (
    "CREATE TABLE IF NOT EXISTS harvester_rejects (name text NOT NULL, id text NOT NULL, "
    "source text, source_ref text, reason text, raw text, rejected_at timestamptz, "
    "PRIMARY KEY (name, id))"
)


class DatabaseRejects:
    def __init__(self, url: str, name: str):
        self.url, self.name = url, name
        self.where = f"{describe(url)} (harvester_rejects of {name!r})"
        self._con: Any = None
        self._pending: list[Rejected] = []

    def open(self, resume: Any = None) -> None:
        """Connect (once: a worker's jobs share the connection until `disconnect`, or until
        it is found dead: a database restarted since the last job)."""
        self._pending = []
        if self._con is not None and not self._con.closed:
            try:
                self._con.execute("SELECT 1")
                return
            except psycopg_module().Error:
                self.disconnect()
        self._con = connect(self.url, error=SinkError, application="harvester rejects",
                            autocommit=True)  # fmt: skip
        with self._sql("cannot open"), self._con.transaction():
            self._con.execute("SELECT pg_advisory_xact_lock(hashtextextended(%s, 0))",
                              ("harvester rejects schema",))  # fmt: skip
            self._con.execute(SCHEMA)

    def write(self, rejects: Sequence[Rejected]) -> None:
        self._pending.extend(rejects)

    def commit(self) -> None:
        if not self._pending:
            return None
        rows = [(self.name, _identity(r), r.source, r.source_ref, r.reason, r.raw, r.rejected_at)
                for r in self._pending]  # fmt: skip
        with self._sql("cannot write"), self._con.transaction(), self._con.cursor() as cur:
            cur.executemany(
                "INSERT INTO harvester_rejects VALUES (%s, %s, %s, %s, %s, %s, %s) "
                "ON CONFLICT (name, id) DO NOTHING",
                rows,
            )
        self._pending = []
        return None  # nothing to cut back to: the inserts are idempotent

    def close(self, outcome: Outcome = Outcome.DONE) -> None:
        """DONE commits what is pending; otherwise it is dropped. The connection stays."""
        try:
            if outcome is Outcome.DONE and self._con is not None:
                self.commit()
        except SinkError:
            self.disconnect()
            raise
        self._pending = []

    def disconnect(self) -> None:
        if self._con is not None:
            con, self._con = self._con, None
            con.close()

    @contextlib.contextmanager
    def _sql(self, what: str) -> Iterator[None]:
        """Driver errors as a `SinkError` naming the table, never a password."""
        try:
            yield
        except psycopg_module().Error as exc:
            detail = redact(str(exc).strip(), self.url)
            raise SinkError(f"{self.where}: {what}: {detail}") from None


def _identity(reject: Rejected) -> str:
    text = "\x1f".join((reject.source, reject.source_ref, reject.reason, reject.raw or ""))
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()[:32]
