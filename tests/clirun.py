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
import time
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


def start_server() -> None:
    """Start the fork server now, unless every command is spawned."""
    if not os.environ.get("HARVESTER_TEST_SPAWN"):
        _Server.get()


def _target(cmd: list[str]) -> tuple[str, str, list[str]] | None:
    """(mode, module or script, arguments) when `cmd` is a harvester command, else None."""
    if len(cmd) >= 3 and cmd[0] == sys.executable and cmd[1] == "-m" and cmd[2] in MODULES:
        return "module", cmd[2], cmd[3:]
    if cmd and cmd[0] == SCRIPT:
        return "script", SCRIPT, cmd[1:]
    return None


def _encoding(text: bool) -> str | None:
    return locale.getpreferredencoding(False) if text else None


def _decode(data: bytes, text: bool, encoding: str | None, errors: str | None):
    if not (text or encoding or errors):
        return data
    decoded = data.decode(encoding or _encoding(True), errors or "strict")
    return decoded.replace("\r\n", "\n").replace("\r", "\n")  # universal newlines, as subprocess


def _prepare(cmd, env) -> tuple[list[str], tuple[str, str, list[str]] | None, dict[str, str]]:
    """The command as strings, its harvester target (or None) and its whole environment."""
    cmd = [os.fspath(c) for c in cmd]
    return cmd, _target(cmd), dict(os.environ if env is None else env)


def _forkable(target, env: dict[str, str], kw: dict) -> bool:
    return (
        target is not None
        and not kw
        and not os.environ.get("HARVESTER_TEST_SPAWN")
        and _startup_env(env) == _startup_env(_Server.get().env)
    )


def would_fork(cmd, env=None) -> bool:
    """Whether `run` and `popen` fork `cmd` (given no other option) rather than spawn it."""
    _, target, env = _prepare(cmd, env)
    return _forkable(target, env, {})


def _request(target: tuple[str, str, list[str]], env: dict[str, str], cwd) -> dict:
    mode, name, args = target
    cwd = os.path.abspath(cwd or os.getcwd())
    return {"mode": mode, "target": name, "argv": args, "env": env, "cwd": cwd}


def run(cmd, *, env=None, cwd=None, input=None, timeout=None, check=False,
        capture_output=False, text=False, encoding=None, errors=None, **kw):  # fmt: skip
    """`subprocess.run(cmd, ...)`, a harvester command forked from the fork server."""
    cmd, target, env = _prepare(cmd, env)
    if not (capture_output and input is None and _forkable(target, env, kw)):
        return subprocess.run(
            cmd, env=env, cwd=cwd, input=input, timeout=timeout, check=check, text=text,
            capture_output=capture_output, encoding=encoding, errors=errors, **kw,
        )  # fmt: skip
    assert target is not None
    with (
        open(os.devnull, "rb") as stdin,
        tempfile.TemporaryFile() as stdout,  # files, not pipes: none can fill and stall it
        tempfile.TemporaryFile() as stderr,
    ):
        child = _Child(_request(target, env, cwd), [stdin, stdout, stderr])
        try:
            code: int | None = child.wait(timeout)
        except TimeoutError:
            child.kill_and_reap()
            code = None
        finally:
            child.close()
        stdout.seek(0)
        stderr.seek(0)
        out = _decode(stdout.read(), text, encoding, errors)
        err = _decode(stderr.read(), text, encoding, errors)
    if code is None:
        raise subprocess.TimeoutExpired(cmd, timeout, output=out, stderr=err)
    done = subprocess.CompletedProcess(cmd, code, out, err)
    if check:
        done.check_returncode()
    return done


class _Child:
    """One command in a child of the fork server: its pid, and its exit code when it ends."""

    def __init__(self, request: dict, files: list) -> None:
        self.conn = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        # The C method: pytest-recording's network guard refuses every `connect`, a local
        # socket file included, and this one reaches no network.
        _socket.socket.connect(self.conn, _Server.get().path)
        fds = array.array("i", [f if isinstance(f, int) else f.fileno() for f in files])
        self.conn.sendmsg(
            [json.dumps(request).encode() + b"\n"], [(socket.SOL_SOCKET, socket.SCM_RIGHTS, fds)]
        )
        self._read = b""
        self.pid = int(self._line(None))
        self.code: int | None = None

    def _line(self, timeout: float | None) -> str:
        """The server's next answer; TimeoutError after `timeout` seconds (0: do not wait)."""
        self.conn.settimeout(timeout)
        while b"\n" not in self._read:
            chunk = self.conn.recv(64)
            if not chunk:
                raise RuntimeError(f"the fork server went away (child {getattr(self, 'pid', '?')})")
            self._read += chunk
        line, self._read = self._read.split(b"\n", 1)
        return line.decode()

    def wait(self, timeout: float | None) -> int:
        if self.code is None:
            self.code = int(self._line(timeout))
        return self.code

    def poll(self) -> int | None:
        try:
            return self.wait(0)
        except (TimeoutError, BlockingIOError):
            return None

    def kill_and_reap(self) -> None:
        if self.poll() is None:
            os.kill(self.pid, signal.SIGKILL)
            self.wait(30)  # the server reaps it, then says so

    def close(self) -> None:
        self.conn.close()


class ForkedPopen:
    """What the tests use of `subprocess.Popen` (pid, poll, wait, send_signal, kill,
    terminate, communicate, returncode, stdout and stderr as pipes), for a forked child."""

    def __init__(self, cmd, request: dict, stdout, stderr, text: bool) -> None:
        self.args = cmd
        self.returncode: int | None = None
        self.stdout = self.stderr = None
        ends, theirs = [], []
        for name, how, fd in (("stdout", stdout, 1), ("stderr", stderr, 2)):
            if how == subprocess.PIPE:
                read, write = os.pipe()
                mode = "r" if text else "rb"
                pipe = open(read, mode, encoding=_encoding(text))  # noqa: SIM115 (kept, as Popen's)
                setattr(self, name, pipe)
                ends.append(write)
                theirs.append(write)
            elif how == subprocess.DEVNULL:
                null = os.open(os.devnull, os.O_WRONLY)
                ends.append(null)
                theirs.append(null)
            else:
                theirs.append(fd if how is None else how)
        with open(os.devnull, "rb") as stdin:
            try:
                self._child = _Child(request, [stdin, *theirs])
            finally:
                for fd in ends:
                    os.close(fd)  # the child holds its own copies: EOF comes when it ends
        self.pid = self._child.pid

    def poll(self) -> int | None:
        if self.returncode is None:
            self.returncode = self._child.poll()
        return self.returncode

    def wait(self, timeout: float | None = None) -> int:
        if self.returncode is None:
            try:
                self.returncode = self._child.wait(timeout)
            except TimeoutError:
                raise subprocess.TimeoutExpired(self.args, timeout) from None
        return self.returncode

    def send_signal(self, sig: int) -> None:
        if self.poll() is None:  # not a reaped pid, which the system may give to another
            os.kill(self.pid, sig)

    def kill(self) -> None:
        self.send_signal(signal.SIGKILL)

    def terminate(self) -> None:
        self.send_signal(signal.SIGTERM)

    def communicate(self, timeout: float | None = None):
        """Read both pipes to their end, then wait; as `subprocess.Popen.communicate`."""
        deadline = None if timeout is None else time.monotonic() + timeout
        got: dict[str, list] = {"stdout": [], "stderr": []}
        readers = [
            threading.Thread(target=lambda n=n: got[n].append(getattr(self, n).read()), daemon=True)
            for n in got
            if getattr(self, n) is not None
        ]
        for reader in readers:
            reader.start()
        for reader in readers:
            reader.join(None if deadline is None else max(0.0, deadline - time.monotonic()))
            if reader.is_alive():
                raise subprocess.TimeoutExpired(self.args, timeout)
        self.wait(None if deadline is None else max(0.0, deadline - time.monotonic()))
        for name in got:
            if getattr(self, name) is not None:
                getattr(self, name).close()
        return tuple(got[name][0] if got[name] else None for name in got)

    def __enter__(self) -> ForkedPopen:
        return self

    def __exit__(self, *exc) -> None:
        for stream in (self.stdout, self.stderr):
            if stream is not None:
                stream.close()
        self.wait()


def popen(cmd, *, stdout=None, stderr=None, text=False, env=None, cwd=None, **kw):
    """`subprocess.Popen(cmd, ...)`, a harvester command forked from the fork server."""
    cmd, target, env = _prepare(cmd, env)
    if not _forkable(target, env, kw):
        return subprocess.Popen(
            cmd, stdout=stdout, stderr=stderr, text=text, env=env, cwd=cwd, **kw
        )
    assert target is not None
    return ForkedPopen(cmd, _request(target, env, cwd), stdout, stderr, text)
