"""PostgreSQL connection settings, shared by everything that talks to a server: the `postgres`
sink, the run state (`[run] state = "postgresql://..."`), the shared budget
(`[fetch] budget_store`) and the job queue.

A URL is a libpq URL or ``key=value`` string; whatever it leaves out comes from the standard
``PG*`` environment variables (``PGHOST``, ``PGPASSWORD``, ...) and ``~/.pgpass``. Passwords
never leave this module: what messages, logs, summaries and the state name is `describe()`, the
URL without its password (and without any other secret parameter). psycopg is imported only
when a function here is called: it is an optional dependency (``paper-harvester[postgres]``).
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote

from .errors import ConfigError, HarvesterError, UsageError

if TYPE_CHECKING:
    import psycopg

_SECRET = {"password", "sslpassword", "passfile", "sslkey"}
CONNECT_TIMEOUT = 10  # seconds (libpq's connect_timeout) when nothing else says
INSTALL = "pip install 'paper-harvester[postgres]'"


def is_postgres_url(text: str) -> bool:
    return text.startswith(("postgresql://", "postgres://"))


def psycopg_module():
    """psycopg, or a `UsageError` saying how to install it."""
    try:
        import psycopg
    except ImportError:
        raise UsageError(f"PostgreSQL needs psycopg 3: {INSTALL}") from None
    return psycopg


def settings(url: str | None) -> dict[str, Any]:
    """The parsed connection parameters of `url` ('' or None: the environment alone)."""
    psycopg = psycopg_module()
    from psycopg.conninfo import conninfo_to_dict

    try:
        return conninfo_to_dict(url or "")
    except psycopg.ProgrammingError as exc:
        # The message may quote the string: never echo it, a password could be in it.
        raise ConfigError("url: not a valid PostgreSQL connection URL") from exc


def describe(url: str | None) -> str:
    """What to call the database in messages: ``postgresql://user@host:port/db`` (never a
    password); parts the URL leaves to the environment are shown as libpq will resolve them."""
    params = settings(url)
    psycopg = psycopg_module()
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


def split_name(url: str) -> tuple[str, str | None]:
    """`url` without its harvester-only query parameter ``name``, and that name (or None).
    libpq rejects unknown parameters, so ``?name=`` must not reach it. The rest of the URL
    is kept as written (``postgresql://?name=x`` leaves ``postgresql://``: PG* variables)."""
    base, has_query, query = url.partition("?")
    if not has_query:
        return url, None
    pairs = [p for p in query.split("&") if p]
    names = [unquote(p.partition("=")[2]) for p in pairs if p.partition("=")[0] == "name"]
    rest = "&".join(p for p in pairs if p.partition("=")[0] != "name")
    return base + ("?" + rest if rest else ""), (names[-1] if names else None)


def connect(
    url: str | None,
    *,
    error: type[HarvesterError],
    application: str,
    lock_timeout: float | None = None,
    autocommit: bool = False,
) -> psycopg.Connection:
    """A connection, or `error` naming the database without its password. Connecting gives
    up after `CONNECT_TIMEOUT` seconds unless the URL (or PGCONNECT_TIMEOUT) says otherwise:
    libpq's default is to wait for ever on a server that does not answer."""
    psycopg = psycopg_module()
    params = settings(url)
    params.setdefault("application_name", application)
    if not os.environ.get("PGCONNECT_TIMEOUT"):
        params.setdefault("connect_timeout", CONNECT_TIMEOUT)
    try:
        con = psycopg.connect(**params, autocommit=autocommit)
        if lock_timeout is not None:
            con.execute(f"SET lock_timeout = {int(lock_timeout * 1000)}")
            if not autocommit:
                con.commit()
        return con
    except psycopg.Error as exc:
        raise error(f"{describe(url)}: cannot connect: {redact(str(exc), url)}") from None


def scalar(con: psycopg.Connection, query: str, params: Any = None) -> Any:
    """The first column of the one row `query` answers (a count, an exists, a setting)."""
    row = con.execute(query, params).fetchone()
    if row is None:
        raise RuntimeError(f"no row from a query that always answers one: {query[:60]}")
    return row[0]
