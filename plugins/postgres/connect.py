"""Connection settings of the `postgres` sink: a ``postgresql://`` URL, or libpq's standard
``PG*`` environment variables (``PGHOST``, ``PGPORT``, ``PGDATABASE``, ``PGUSER``,
``PGPASSWORD``, ...) for whatever the URL leaves out, and ``~/.pgpass``.

Passwords never leave this module: what messages, logs and summaries name is `describe()`,
the URL without its password (and without any other secret parameter).
"""

from __future__ import annotations

from typing import Any

import psycopg
from psycopg.conninfo import conninfo_to_dict

from harvester.errors import ConfigError, SinkError

_SECRET = {"password", "sslpassword", "passfile", "sslkey"}


def settings(url: str | None) -> dict[str, Any]:
    """The parsed connection parameters of `url` ('' or None: the environment alone)."""
    try:
        return conninfo_to_dict(url or "")
    except psycopg.ProgrammingError as exc:
        # The message may quote the string: never echo it, a password could be in it.
        raise ConfigError("url: not a valid PostgreSQL connection URL") from exc


def describe(url: str | None) -> str:
    """What to call the database in messages: ``postgresql://user@host:port/db`` (never a
    password); parts the URL leaves to the environment are shown as libpq will resolve them."""
    params = settings(url)
    # libpq's defaults, environment (PG*) included; only the keys shown below are read.
    defaults = {o.keyword.decode(): o.val for o in psycopg.pq.Conninfo.get_defaults()}
    resolved = {k: v.decode() for k, v in defaults.items() if v}
    resolved.update({k: str(v) for k, v in params.items() if v})
    user = resolved.get("user", "")
    host = resolved.get("host", "") or "localhost"
    port = resolved.get("port", "")
    where = f"{host}:{port}" if port else host
    dbname = resolved.get("dbname") or user  # libpq's default database is the user's
    return f"postgresql://{user + '@' if user else ''}{where}/{dbname}"


def redact(text: str, url: str | None) -> str:
    """`text` with any secret of `url` removed (driver messages can quote connection strings)."""
    for name, value in settings(url).items():
        if name in _SECRET and value:
            text = text.replace(str(value), "***")
    return text


def connect(url: str | None, *, lock_timeout: float, application: str) -> psycopg.Connection:
    """A connection (transactions explicit: autocommit off) or a `SinkError` naming the
    database without its password."""
    params = settings(url)
    params.setdefault("application_name", application)
    try:
        con = psycopg.connect(**params, autocommit=False)
        con.execute(f"SET lock_timeout = {int(lock_timeout * 1000)}")
        con.commit()
        return con
    except psycopg.Error as exc:
        raise SinkError(f"{describe(url)}: cannot connect: {redact(str(exc), url)}") from None
