"""Run locks (flock): one run at a time per state directory and per output file.

Two runs of one config at once corrupted the published JSONL and the state. A run holds an
exclusive flock on its state directory's `lock` file and on each output file it writes; a second
run fails at once with a `LockedError` (exit 2) naming the process holding it. The kernel
releases a flock when its holder dies, so a killed run never leaves a stale lock behind.

flock is POSIX: harvester runs on Linux and macOS; elsewhere a run stops with a usage error
saying so before it writes anything.
"""

from __future__ import annotations

import contextlib
import os
from pathlib import Path

from .atomic import open_nofollow
from .errors import LockedError, OutputError, UsageError

try:
    import fcntl
except ImportError:  # not a POSIX system
    fcntl = None  # type: ignore[assignment]

POSIX_ONLY = "harvester needs a POSIX system (Linux, macOS): its run locks are flock locks"


def lock_fd(fd: int, path: Path, what: str) -> None:
    """Take an exclusive flock on open file `fd` at once, or raise `LockedError`."""
    if fcntl is None:
        raise UsageError(POSIX_ONLY)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        raise LockedError(
            f"{path}: {what} is in use by another run ({holder(fd)}); wait for it to finish"
        ) from None


def holder(fd: int) -> str:
    """Who holds a flock on the file open as `fd`: 'pid N: command line' when /proc tells."""
    inode = os.fstat(fd).st_ino
    with contextlib.suppress(OSError):
        for line in Path("/proc/locks").read_text().splitlines():
            fields = line.split()
            if "FLOCK" not in fields or len(fields) < 6:
                continue
            pid, ident = fields[-4], fields[-3]
            if ident.rsplit(":", 1)[-1] == str(inode) and pid != str(os.getpid()):
                return f"pid {pid}: {_command(pid)}"
    return "another process"


def _command(pid: str) -> str:
    try:
        raw = Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return "?"
    return raw.replace(b"\0", b" ").decode("utf-8", "replace").strip() or "?"


class DirectoryLock:
    """The lock of a state directory: held from `acquire()` until `release()`."""

    def __init__(self, directory: Path, what: str = "the run state"):
        self.path = directory / "lock"
        self.what = what
        self._fd: int | None = None

    def acquire(self) -> None:
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            fd = open_nofollow(self.path, os.O_RDWR | os.O_CREAT)
        except OSError as exc:
            raise OutputError(
                f"{self.path}: cannot create the lock: {exc.strerror or exc}"
            ) from exc
        try:
            lock_fd(fd, self.path, self.what)
        except BaseException:
            os.close(fd)
            raise
        self._fd = fd

    def release(self) -> None:
        if self._fd is not None:
            fd, self._fd = self._fd, None
            os.close(fd)  # closing releases the flock

    def __enter__(self) -> DirectoryLock:
        self.acquire()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.release()
