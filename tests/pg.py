"""A real, throw-away PostgreSQL server for the tests (session-scoped), and a fresh database
per test. Import the fixtures into a test module: ``from tests.pg import pg_server, pg_url``.

The server is the Debian ``postgresql`` package's binaries (``apt-get install -y postgresql``),
found through ``pg_config --bindir`` or /usr/lib/postgresql/*/bin. It runs in a temporary
directory on a free port, password-authenticated over TCP (so tests see a password in the URL,
as users do). ``initdb`` refuses to run as root: as root it runs as the ``postgres`` user.
Without the binaries the tests skip, except under CI (``CI=true``), where that is a failure.
"""

from __future__ import annotations

import contextlib
import os
import pwd
import shutil
import subprocess
import tempfile
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.localserver import free_port

PASSWORD = "s3cret-pw-42"  # the tests check it never shows in messages or logs
MISSING = "PostgreSQL server binaries not installed (apt-get install -y postgresql)"


def find_bindir() -> Path | None:
    candidates = []
    if pg_config := shutil.which("pg_config"):
        out = subprocess.run([pg_config, "--bindir"], capture_output=True, text=True, check=False)
        candidates.append(Path(out.stdout.strip()))
    candidates += sorted(Path("/usr/lib/postgresql").glob("*/bin"), reverse=True)
    for bindir in candidates:
        if (bindir / "initdb").is_file() and (bindir / "pg_ctl").is_file():
            return bindir
    return None


@dataclass
class PgServer:
    host: str
    port: int
    user: str
    password: str
    pg_ctl: Callable[..., None] | None = None  # runs pg_ctl on the server's data directory

    def stop(self) -> None:
        """Stop the server at once (clients see their connections drop), keeping its data."""
        assert self.pg_ctl is not None
        self.pg_ctl("-m", "immediate", "-w", "stop")

    def start(self) -> None:
        """Start a stopped server again, on the same port with the same data."""
        assert self.pg_ctl is not None
        self.pg_ctl("-w", "start")

    def url(self, dbname: str = "postgres", *, password: bool = True) -> str:
        secret = f":{self.password}" if password else ""
        return f"postgresql://{self.user}{secret}@{self.host}:{self.port}/{dbname}"

    def create_database(self) -> str:
        import psycopg

        name = f"t_{uuid.uuid4().hex[:12]}"
        with psycopg.connect(self.url(), autocommit=True) as con:
            con.execute(f'CREATE DATABASE "{name}"')
        return name


DONE_JOBS = "SELECT count(*) FROM procrastinate_jobs WHERE status = 'succeeded'"


class Watch:
    """One connection kept for a test's repeated looks at the database while it waits (a new
    connection per look costs a server backend and a SCRAM exchange, ~15 ms of CPU, against
    0.3 ms for the query); in autocommit, so it holds no lock between looks, and opened again
    after the server went away."""

    def __init__(self, url: str) -> None:
        self.url = url
        self._con: Any = None

    def row(self, sql: str) -> tuple | None:
        """The query's first row; None when the server cannot be reached."""
        import psycopg

        try:
            if self._con is None:
                self._con = psycopg.connect(self.url, autocommit=True, connect_timeout=2)
            return self._con.execute(sql).fetchone()
        except psycopg.OperationalError:
            self.close()
            return None

    def done_jobs(self) -> int:
        """The queue's succeeded jobs (0 while the server cannot be reached)."""
        row = self.row(DONE_JOBS)
        return row[0] if row else 0

    def close(self) -> None:
        if self._con is not None:
            with contextlib.suppress(Exception):
                self._con.close()
            self._con = None

    def __enter__(self) -> Watch:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()


@contextmanager
def running_server() -> Iterator[PgServer]:
    """Start a throw-away server; `LookupError` when the binaries are not installed."""
    bindir = find_bindir()
    if bindir is None:
        raise LookupError(
            "PostgreSQL server binaries not installed (apt-get install -y postgresql)"
        )
    as_user: list[str] = []
    root = Path(tempfile.mkdtemp(prefix="harvester-pg-"))
    if os.geteuid() == 0:  # initdb refuses root: run the server as `postgres`
        as_user = ["runuser", "-u", "postgres", "--"]
        owner = pwd.getpwnam("postgres")
        os.chown(root, owner.pw_uid, owner.pw_gid)
    data, pwfile, port = root / "data", root / "pw", free_port()
    pwfile.write_text(PASSWORD + "\n")
    if as_user:
        os.chown(pwfile, owner.pw_uid, owner.pw_gid)

    def run(*cmd: str) -> None:
        subprocess.run([*as_user, *cmd], check=True, capture_output=True, timeout=120)

    run(
        str(bindir / "initdb"), "-D", str(data), "-U", "postgres", f"--pwfile={pwfile}",
        "--auth-local=trust", "--auth-host=scram-sha-256", "-E", "UTF8", "--no-sync",
    )  # fmt: skip
    options = f"-p {port} -k {root} -c listen_addresses=127.0.0.1 -c fsync=off"
    pg_ctl = [str(bindir / "pg_ctl"), "-D", str(data), "-o", options, "-l", str(root / "log")]

    def control(*args: str) -> None:
        run(*pg_ctl, *args)

    control("-w", "start")
    try:
        yield PgServer("127.0.0.1", port, "postgres", PASSWORD, control)
    finally:
        subprocess.run([*as_user, *pg_ctl, "-m", "immediate", "-w", "stop"],
                       capture_output=True, timeout=120)  # fmt: skip
        shutil.rmtree(root, ignore_errors=True)


@pytest.fixture(scope="session")
def pg_server() -> Iterator[PgServer]:
    if find_bindir() is None:
        if os.environ.get("CI") == "true":
            pytest.fail(f"{MISSING}: CI must run the PostgreSQL tests")
        pytest.skip(MISSING)
    with running_server() as server:
        yield server


@pytest.fixture
def pg_url(pg_server: PgServer) -> str:
    """The URL (with its password) of a new, empty database on the test server."""
    return pg_server.url(pg_server.create_database())
