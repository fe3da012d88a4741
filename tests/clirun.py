"""`run`: `subprocess.run` for the tests' `harvester` commands, through the fork server
(tests/forkserver.py) where that gives the same process a fresh interpreter would.

A command goes to the fork server when it is `python -m harvester.cli`, `python -m harvester` or
the venv's `harvester` script, run with its output captured and no input, and its environment
agrees with the server's on everything an interpreter reads at start (`PYTHON*`, `LANG`,
`LC_*`). Anything else, and every command when `HARVESTER_TEST_SPAWN=1`, is spawned by
`subprocess.run` as given.
"""

from __future__ import annotations

import _socket
import array
import atexit
import json
import locale
import os
import signal
import socket
import subprocess
import sys
import tempfile
import threading
from pathlib import Path

SERVER_SCRIPT = Path(__file__).with_name("forkserver.py")
SCRIPT = str(Path(sys.executable).parent / "harvester")
MODULES = ("harvester.cli", "harvester")


def _startup_env(env: dict[str, str]) -> dict[str, str]:
    """The variables an interpreter reads when it starts."""
    return {
        k: v for k, v in env.items() if k.startswith(("PYTHON", "LC_")) or k in ("LANG", "LANGUAGE")
    }


class _Server:
    """One fork server per test process, started at the first command and stopped at exit."""

    _lock = threading.Lock()
    _instance: _Server | None = None

    def __init__(self) -> None:
        self.dir = tempfile.mkdtemp(prefix="harvester-fork-")
        self.path = os.path.join(self.dir, "s")
        self.env = dict(os.environ)
        self.proc = subprocess.Popen(
            [sys.executable, str(SERVER_SCRIPT), self.path],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            env=self.env,
        )
        assert self.proc.stdout is not None
        ready = self.proc.stdout.readline()
        if ready.strip() != b"ready":
            raise RuntimeError(f"the fork server did not start (it said {ready!r})")
        atexit.register(self.stop)

    @classmethod
    def get(cls) -> _Server:
        with cls._lock:
            if cls._instance is None or cls._instance.proc.poll() is not None:
                cls._instance = cls()
            return cls._instance

    def stop(self) -> None:
        self.proc.kill()
        self.proc.wait()
        for name in os.listdir(self.dir):
            os.unlink(os.path.join(self.dir, name))
        os.rmdir(self.dir)


def _target(cmd: list[str]) -> tuple[str, str, list[str]] | None:
    """(mode, module or script, arguments) when `cmd` is a harvester command, else None."""
    if len(cmd) >= 3 and cmd[0] == sys.executable and cmd[1] == "-m" and cmd[2] in MODULES:
        return "module", cmd[2], cmd[3:]
    if cmd and cmd[0] == SCRIPT:
        return "script", SCRIPT, cmd[1:]
    return None


def _decode(data: bytes, text: bool, encoding: str | None, errors: str | None):
    if not (text or encoding or errors):
        return data
    decoded = data.decode(encoding or locale.getpreferredencoding(False), errors or "strict")
    return decoded.replace("\r\n", "\n").replace("\r", "\n")  # universal newlines, as subprocess


def run(cmd, *, env=None, cwd=None, input=None, timeout=None, check=False,
        capture_output=False, text=False, encoding=None, errors=None, **kw):  # fmt: skip
    """`subprocess.run(cmd, ...)`, a harvester command forked from the fork server."""
    cmd = [os.fspath(c) for c in cmd]
    target = _target(cmd)
    env = dict(os.environ if env is None else env)
    forkable = (
        target is not None
        and capture_output
        and input is None
        and not kw
        and not os.environ.get("HARVESTER_TEST_SPAWN")
        and _startup_env(env) == _startup_env(_Server.get().env)
    )
    if not forkable:
        return subprocess.run(
            cmd, env=env, cwd=cwd, input=input, timeout=timeout, check=check, text=text,
            capture_output=capture_output, encoding=encoding, errors=errors, **kw,
        )  # fmt: skip
    assert target is not None
    request = {"mode": target[0], "target": target[1], "argv": target[2], "env": env}
    request["cwd"] = os.path.abspath(cwd or os.getcwd())
    code, out, err = _fork(request, timeout)
    out, err = _decode(out, text, encoding, errors), _decode(err, text, encoding, errors)
    if code is None:
        raise subprocess.TimeoutExpired(cmd, timeout, output=out, stderr=err)
    done = subprocess.CompletedProcess(cmd, code, out, err)
    if check:
        done.check_returncode()
    return done


def _fork(request: dict, timeout: float | None) -> tuple[int | None, bytes, bytes]:
    """Run one command in a child of the fork server: (exit code or None on timeout, stdout,
    stderr). Output goes to unlinked files, so no pipe can fill and stall the child."""
    with (
        open(os.devnull, "rb") as stdin,
        tempfile.TemporaryFile() as stdout,
        tempfile.TemporaryFile() as stderr,
        socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as conn,
    ):
        # The C method: pytest-recording's network guard refuses every `connect`, a local
        # socket file included, and this one reaches no network.
        _socket.socket.connect(conn, _Server.get().path)
        fds = array.array("i", [stdin.fileno(), stdout.fileno(), stderr.fileno()])
        conn.sendmsg(
            [json.dumps(request).encode() + b"\n"], [(socket.SOL_SOCKET, socket.SCM_RIGHTS, fds)]
        )
        answers = conn.makefile("r")
        pid = int(answers.readline())
        conn.settimeout(timeout)
        try:
            code: int | None = int(answers.readline())
        except TimeoutError:
            os.kill(pid, signal.SIGKILL)
            conn.settimeout(30)  # its exit reported: the server has reaped it
            while (chunk := conn.recv(64)) and not chunk.endswith(b"\n"):
                pass
            code = None
        stdout.seek(0)
        stderr.seek(0)
        return code, stdout.read(), stderr.read()
