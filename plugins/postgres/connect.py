"""Connection settings of the `postgres` sink: `harvester.pgconn` (a ``postgresql://`` URL, or
libpq's standard ``PG*`` environment variables for whatever the URL leaves out, and
``~/.pgpass``), with failures as `SinkError`.

Passwords never leave `harvester.pgconn`: what messages, logs and summaries name is
`describe()`, the URL without its password (and without any other secret parameter).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from harvester import pgconn
from harvester.errors import SinkError
from harvester.pgconn import describe, redact, settings

if TYPE_CHECKING:  # psycopg is imported when a connection is made
    import psycopg

__all__ = ["connect", "describe", "redact", "settings"]


def connect(url: str | None, *, lock_timeout: float, application: str) -> psycopg.Connection:
    """A connection (transactions explicit: autocommit off) or a `SinkError` naming the
    database without its password."""
    return pgconn.connect(url, error=SinkError, application=application, lock_timeout=lock_timeout)
