"""A fork server for the tests' `harvester` commands: a process that has imported harvester, its
built-in plugins and their libraries once, and forks a child for each command it is sent.

Why: the suite runs ~400 commands, and a fresh interpreter spends ~0.25 s of CPU importing
before each does ~0.05 s of work. A forked child is still a real process of its own (own pid,
files, environment, working directory, exit status, signals); what it skips is the
interpreter's start and the imports. Those stay covered by the commands that are always spawned
(the README's and packaging commands, the plugin venv's, scripts run with `-c`, the benchmark)
and by `tests/test_forkserver.py`, which runs the same commands both ways and compares them.

Run as `python forkserver.py SOCKET`; `tests/clirun.py` starts it, sends requests and reads the
exit statuses. A request is one JSON message with three file descriptors (stdin, stdout, stderr)
passed along (SCM_RIGHTS); the server answers with the child's pid, then with its exit code (as
`subprocess` reports it: negative for a signal) when it is reaped. The server is single-threaded,
so that a fork copies no other thread's half-held lock, and it ends when its parent does.
"""

from __future__ import annotations

import array
import atexit
import contextlib
import io
import json
import os
import runpy
import selectors
import signal
import socket
import sys
import traceback

# What a command imports anyway, beside the plugins (preload() reads those from the entry
# points); a module missing here is imported by the child as usual.
PRELOAD = [
    "harvester.cli",
    "harvester.build",
    "harvester.config",
    "harvester.run",
    "harvester.report",
    "harvester.status",
    "harvester.parse",
    "harvester.validate",
    "harvester.readback",
    "harvester.schema",
    "harvester.fetch.runclient",
    "harvester.authoring",
    "httpx",
    "msgspec",
    "sqlite3",
    "psycopg",
]

MAX_FDS = 3
_REPLACED: list = []


def preload() -> None:
    import importlib

    from harvester.entrypoints import entry_points

    plugins = [ep.value.partition(":")[0] for ep in entry_points(("harvester",))["harvester"]]
    for name in [*PRELOAD, *plugins]:
        with contextlib.suppress(ImportError):  # not installed: a child imports what it needs
            importlib.import_module(name)


def receive(conn: socket.socket) -> tuple[dict, list[int]]:
    """One request: its JSON and the descriptors sent with it."""
    fds = array.array("i")
    data = b""
    while not data.endswith(b"\n"):
        msg, anc, _flags, _addr = conn.recvmsg(65536, socket.CMSG_SPACE(MAX_FDS * fds.itemsize))
        if not msg:
            raise EOFError("the client closed before its request was whole")
        data += msg
        for level, kind, payload in anc:
            if level == socket.SOL_SOCKET and kind == socket.SCM_RIGHTS:
                fds.frombytes(payload[: len(payload) - len(payload) % fds.itemsize])
    return json.loads(data), list(fds)


def std_streams(env: dict[str, str]) -> None:
    """New sys.stdin/stdout/stderr on descriptors 0-2, buffered as a fresh interpreter would
    buffer them (the server's own were decided by its own descriptors)."""
    unbuffered = bool(env.get("PYTHONUNBUFFERED"))
    encoding = sys.stdout.encoding
    _REPLACED.extend((sys.stdin, sys.stdout, sys.stderr))  # collected, they would close 0-2

    def text(fd: int, write: bool, **kw) -> io.TextIOWrapper:
        raw = io.FileIO(fd, "wb" if write else "rb", closefd=False)
        buffered = (io.BufferedWriter if write else io.BufferedReader)(raw)
        return io.TextIOWrapper(buffered, encoding=encoding, **kw)

    sys.stdin = sys.__stdin__ = text(0, False, errors=sys.stdin.errors)
    sys.stdout = sys.__stdout__ = text(
        1, True, errors=sys.stdout.errors, line_buffering=os.isatty(1), write_through=unbuffered
    )
    sys.stderr = sys.__stderr__ = text(
        2, True, errors="backslashreplace", line_buffering=True, write_through=unbuffered
    )


def run_command(request: dict) -> int:
    """Run the command in this (forked) process as the interpreter would; its exit code."""
    argv, mode, target = request["argv"], request["mode"], request["target"]
    try:
        if mode == "module":
            sys.argv = [target, *argv]  # runpy puts the module's file in argv[0]
            sys.path[0] = os.getcwd()
            if not hasattr(sys.modules.get(target), "__path__"):  # a package runs its __main__
                sys.modules.pop(target, None)  # a fresh interpreter has not imported it yet
            runpy._run_module_as_main(target, alter_argv=True)  # type: ignore[attr-defined]
        else:
            sys.argv = [target, *argv]
            sys.path[0] = os.path.dirname(target)
            runpy.run_path(target, run_name="__main__")
        code = 0
    except SystemExit as stop:
        if stop.code is None:
            code = 0
        elif isinstance(stop.code, int):
            code = stop.code
        else:
            print(stop.code, file=sys.stderr)
            code = 1
    except KeyboardInterrupt:
        finish()
        signal.signal(signal.SIGINT, signal.SIG_DFL)
        os.kill(os.getpid(), signal.SIGINT)
        code = 130
    except BaseException:
        traceback.print_exc()
        code = 1
    finish()
    return code


def finish() -> None:
    """What the interpreter does at exit: wait for threads, run atexit, flush the streams."""
    import threading

    threading._shutdown()  # type: ignore[attr-defined]
    atexit._run_exitfuncs()
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(OSError, ValueError):
            stream.flush()


def become_child(request: dict, fds: list[int], keep: socket.socket) -> None:
    """In the forked child: the request's descriptors, directory and environment; then the
    command. Never returns."""
    signal.set_wakeup_fd(-1)
    signal.signal(signal.SIGCHLD, signal.SIG_DFL)
    signal.signal(signal.SIGINT, signal.default_int_handler)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    for target, fd in enumerate(fds):
        os.dup2(fd, target)
        os.close(fd)
    keep.close()
    os.chdir(request["cwd"])
    os.environ.clear()
    os.environ.update(request["env"])
    std_streams(request["env"])
    code = 1
    try:
        code = run_command(request)
    finally:
        os._exit(code & 0xFF)


def serve(path: str) -> None:
    parent = os.getppid()
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    listener.bind(path)
    listener.listen(16)
    wake_r, wake_w = os.pipe()
    os.set_blocking(wake_r, False)
    os.set_blocking(wake_w, False)
    signal.set_wakeup_fd(wake_w)
    signal.signal(signal.SIGCHLD, lambda *_: None)
    selector = selectors.DefaultSelector()
    selector.register(listener, selectors.EVENT_READ)
    selector.register(wake_r, selectors.EVENT_READ)
    waiting: dict[int, socket.socket] = {}
    print("ready", flush=True)
    while os.getppid() == parent:
        for key, _ in selector.select(timeout=1.0):
            if key.fileobj is listener:
                conn, _ = listener.accept()
                try:
                    request, fds = receive(conn)
                except (EOFError, OSError, ValueError):
                    conn.close()
                    continue
                pid = os.fork()
                if pid == 0:
                    selector.close()
                    listener.close()
                    os.close(wake_r)
                    os.close(wake_w)
                    for other in waiting.values():
                        other.close()
                    become_child(request, fds, conn)
                for fd in fds:
                    os.close(fd)
                conn.sendall(f"{pid}\n".encode())
                waiting[pid] = conn
            else:
                with contextlib.suppress(BlockingIOError):
                    os.read(wake_r, 4096)
        reap(waiting)


def reap(waiting: dict[int, socket.socket]) -> None:
    """Send each ended child's exit code to the client that asked for it."""
    while waiting:
        try:
            pid, status = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            return
        conn = waiting.pop(pid, None)
        if conn is not None:
            with contextlib.suppress(OSError):  # the client gave up waiting (its timeout)
                conn.sendall(f"{os.waitstatus_to_exitcode(status)}\n".encode())
            conn.close()


if __name__ == "__main__":
    preload()
    serve(sys.argv[1])
