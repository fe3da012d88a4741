"""Safe file writes, the one place for them: a whole file replaced atomically, and files
opened for writing without following a symbolic link planted at their path.

A link placed where an output or a temporary file will be written would make a run overwrite
the link's target (another user's file, a system file): outputs are opened with `O_NOFOLLOW`,
and temporary files are created fresh (`O_EXCL`), so a planted link is an error that says so.
"""

from __future__ import annotations

import contextlib
import errno
import os
from pathlib import Path

from .errors import OutputError


def fsync_dir(directory: Path) -> None:
    """Make a rename in `directory` durable (a no-op where directories cannot be opened)."""
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass  # some filesystems refuse fsync on a directory; the rename itself happened
    finally:
        os.close(fd)


def open_nofollow(path: Path, flags: int, error: type[OutputError] = OutputError) -> int:
    """`os.open(path, flags | O_NOFOLLOW)`; a symbolic link at `path` is an `error` saying so."""
    try:
        return os.open(path, flags | os.O_NOFOLLOW | os.O_CLOEXEC, 0o644)
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            raise error(
                f"{path}: is a symbolic link; refusing to write through it (remove the link)"
            ) from None
        raise


def write_all(fd: int, data: bytes | bytearray | memoryview) -> None:
    """Write every byte (os.write may write less); a short write raises OSError."""
    with memoryview(data) as whole:  # released even on error: a bytearray can then resize
        done = 0
        while done < len(whole):
            with whole[done:] as rest:
                done += os.write(fd, rest)


def write_atomic(path: Path, data: bytes, error: type[OutputError] = OutputError) -> None:
    """Replace `path` with `data`: a fresh temporary file in the same directory, fsync, rename,
    fsync the directory. A failure leaves the previous file as it was and raises `error`
    naming the path."""
    directory = path.parent
    tmp = directory / f".{path.name}.{os.getpid()}.tmp"
    try:
        directory.mkdir(parents=True, exist_ok=True)
        if path.is_symlink():
            raise error(f"{path}: is a symbolic link; refusing to replace it (remove the link)")
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()  # a leftover of a killed run of this pid; never followed
        fd = open_nofollow(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, error)
        try:
            write_all(fd, data)
            os.fsync(fd)
        finally:
            os.close(fd)
        os.replace(tmp, path)
    except OSError as exc:
        with contextlib.suppress(OSError):
            tmp.unlink()
        raise error(f"{path}: cannot write: {exc.strerror or exc}") from exc
    except BaseException:
        with contextlib.suppress(OSError):
            tmp.unlink()
        raise
    fsync_dir(directory)
