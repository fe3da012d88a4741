"""The one crash-safe JSON-lines writer (papers, rejects, any msgspec Struct), and its adapter to
the sink lifecycle (`JsonlOutput`), used by the `jsonl` sink and the run's rejects file.

Two modes:

* ``replace``: lines go to a temporary sibling ``<name>.partial``; publishing fsyncs it,
  renames it onto the target and fsyncs the directory. A run killed at any moment leaves the
  target either as the previous good file or as the new complete one, never half-written.
* ``append``: lines are appended to the target itself; what a run appended can be cut off
  again (abandon: back to the size at open; suspend: back to the last commit).

``commit()`` is the checkpoint: buffered lines are written and fsynced, and the file's size is
the checkpoint an interrupted run resumes from (``open(truncate_to=offset)``).

Each file is opened without following a symbolic link planted at its path, and is flock'ed
while it is written: a second run writing the same output fails at once, naming the first.
"""

from __future__ import annotations

import contextlib
import logging
import os
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any, Literal

import msgspec

from .api import Outcome
from .atomic import fsync_dir, open_nofollow, write_all
from .errors import InputError, SinkError
from .lock import lock_fd

log = logging.getLogger("harvester")

Mode = Literal["replace", "append"]
PARTIAL_SUFFIX = ".partial"
_FLUSH_AT = 1 << 20  # bytes buffered before they are handed to the OS
_TAIL_CHUNK = 1 << 16


def partial_path(path: Path) -> Path:
    """Where replace mode writes before the final rename."""
    return path.with_name(path.name + PARTIAL_SUFFIX)


def _last_line_end(fd: int, size: int) -> int:
    """Offset just after the last b'\\n' in the first `size` bytes of `fd` (0 if none)."""
    end = size
    while end > 0:
        start = max(0, end - _TAIL_CHUNK)
        nl = os.pread(fd, end - start, start).rfind(b"\n")
        if nl >= 0:
            return start + nl + 1
        end = start
    return 0


class JsonlWriter:
    """Writes objects (msgspec Structs, dicts, ...) one JSON document per line, crash-safely."""

    def __init__(self, path: str | os.PathLike[str], *, mode: Mode = "replace"):
        if mode not in ("replace", "append"):
            raise ValueError(f"mode must be 'replace' or 'append', not {mode!r}")
        self.path = Path(path)
        self.mode: Mode = mode
        self._encoder = msgspec.json.Encoder()
        self._buf = bytearray()
        self._fd: int | None = None
        self._offset = 0  # bytes handed to the OS
        self._committed = 0
        self._opened_at = 0  # size at open: what abandoning an append goes back to
        self.published = False  # a resumed run found its output already published

    @property
    def write_path(self) -> Path:
        """The file bytes actually go to while the writer is open."""
        return partial_path(self.path) if self.mode == "replace" else self.path

    @property
    def committed_offset(self) -> int:
        """Size of the written file at the last `commit()` (or at `open()`)."""
        return self._committed

    def open(self, *, truncate_to: int | None = None) -> None:
        """Open for writing. `truncate_to` resumes an interrupted run: the written file (append:
        the target; replace: its `.partial`) is cut back to that `committed_offset`."""
        if self._fd is not None:
            raise SinkError(f"{self.path}: already open")
        self.published = False
        if self.mode == "replace" and truncate_to is not None and self.was_published(truncate_to):
            # Killed after publishing but before the run state was cleared: nothing to redo.
            self.published = True
            self._offset = self._committed = self._opened_at = truncate_to
            return
        target = self.write_path
        try:
            self._fd = open_nofollow(target, os.O_RDWR | os.O_CREAT, SinkError)
            lock_fd(self._fd, target, "this output")
            if self.mode == "replace" and truncate_to is None:
                os.ftruncate(self._fd, 0)  # a `.partial` left by a killed run starts over
                self._offset = 0
            else:
                self._offset = self._prepare_append(self._fd, truncate_to)
            os.lseek(self._fd, self._offset, os.SEEK_SET)
        except OSError as exc:
            self._abort_fd()
            raise SinkError(f"{target}: cannot open for writing: {exc.strerror or exc}") from exc
        except BaseException:
            self._abort_fd()
            raise
        self._committed = self._opened_at = self._offset

    def was_published(self, offset: int) -> bool:
        """The resumed `.partial` is gone and the target holds exactly its committed bytes."""
        if partial_path(self.path).exists():
            return False
        try:
            return self.path.stat().st_size == offset
        except FileNotFoundError:
            return False

    def _prepare_append(self, fd: int, truncate_to: int | None) -> int:
        size = os.fstat(fd).st_size
        if truncate_to is not None:
            if not 0 <= truncate_to <= size:
                raise SinkError(
                    f"{self.write_path}: cannot resume: the checkpoint is at byte {truncate_to} "
                    f"but the file has {size} bytes (it was changed or replaced since)"
                )
            keep = truncate_to
        else:
            keep = self._complete_lines(fd, size)
        if keep != size:
            os.ftruncate(fd, keep)
            os.fsync(fd)
        return keep

    def _complete_lines(self, fd: int, size: int) -> int:
        """Where appending starts: after the last complete line. A last line without its
        newline is kept (and terminated) when it is a whole JSON document, and cut off (a
        crash's torn write) with a warning otherwise."""
        end = _last_line_end(fd, size)
        if end == size:
            return size
        tail = os.pread(fd, size - end, end)
        try:
            msgspec.json.decode(tail)
        except msgspec.DecodeError:
            log.warning(
                "%s: cut off an incomplete last line (%d bytes) left by an interrupted write",
                self.path,
                size - end,
            )
            return end
        os.pwrite(fd, b"\n", size)
        return size + 1

    def write(self, items: Iterable[Any]) -> None:
        """Encode and buffer `items`, one line each; large buffers go to the OS as they fill."""
        if self._fd is None:
            if self.published:
                raise SinkError(f"{self.path}: already published by the resumed run")
            raise SinkError(f"{self.path}: write() before open()")
        buf, encode_into = self._buf, self._encoder.encode_into
        for item in items:
            encode_into(item, buf, -1)
            buf.append(10)  # b"\n"; msgspec escapes newlines inside strings, so one per line
            if len(buf) >= _FLUSH_AT:
                self._flush()

    def commit(self) -> int:
        """Checkpoint: everything written so far reaches the disk; returns the file's size."""
        if self.published:
            return self._committed
        if self._fd is None:
            raise SinkError(f"{self.path}: commit() before open()")
        self._flush()
        try:
            os.fsync(self._fd)
        except OSError as exc:
            raise SinkError(f"{self.write_path}: cannot sync: {exc.strerror or exc}") from exc
        self._committed = self._offset
        return self._committed

    def close(self, outcome: Outcome = Outcome.DONE) -> None:
        """Publish (DONE), keep the committed part for a resume (SUSPEND), or leave the
        previous output as it was (ABANDON)."""
        if self._fd is None:
            return
        if outcome is Outcome.DONE:
            self._publish()
        else:
            self._cut_back(self._committed if outcome is Outcome.SUSPEND else self._opened_at)
            if outcome is Outcome.ABANDON and self.mode == "replace":
                with contextlib.suppress(OSError):
                    partial_path(self.path).unlink()

    def _publish(self) -> None:
        try:
            self.commit()
        except SinkError:
            self._cut_back(self._opened_at)
            raise
        self._abort_fd()
        if self.mode == "replace":
            try:
                os.replace(partial_path(self.path), self.path)
            except OSError as exc:
                with contextlib.suppress(OSError):
                    partial_path(self.path).unlink()
                raise SinkError(
                    f"{self.path}: cannot replace with the new output: {exc.strerror or exc}"
                ) from exc
            fsync_dir(self.path.parent)

    def _cut_back(self, offset: int) -> None:
        """Drop buffered and written bytes past `offset`, then close."""
        self._buf.clear()
        assert self._fd is not None  # open
        try:
            os.ftruncate(self._fd, offset)
            os.fsync(self._fd)
        except OSError as exc:
            raise SinkError(f"{self.write_path}: cannot cut back: {exc.strerror or exc}") from exc
        finally:
            self._abort_fd()

    def _abort_fd(self) -> None:
        if self._fd is not None:
            fd, self._fd = self._fd, None
            with contextlib.suppress(OSError):
                os.close(fd)

    def _flush(self) -> None:
        """Hand the buffer to the OS; a short write (e.g. disk full) is an error."""
        buf = self._buf
        if not buf or self._fd is None:
            return
        try:
            write_all(self._fd, buf)
        except OSError as exc:
            raise SinkError(f"{self.write_path}: cannot write: {exc.strerror or exc}") from exc
        self._offset += len(buf)
        buf.clear()

    def __enter__(self) -> JsonlWriter:
        self.open()
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        self.close(Outcome.DONE if exc_type is None else Outcome.ABANDON)


def read_jsonl(path: str | os.PathLike[str], type: Any = Any) -> Iterator[tuple[int, Any]]:
    """(line number, decoded object) per non-blank line; `type` (e.g. `Paper`) validates.
    A line that is not valid JSON, or not a valid `type`, is an `InputError` naming file:line."""
    decoder = msgspec.json.Decoder(type)
    with open(path, "rb") as f:
        for number, line in enumerate(f, 1):
            if not line.strip():
                continue
            try:
                yield number, decoder.decode(line)
            except msgspec.DecodeError as exc:
                raise InputError(f"{path}:{number}", str(exc)) from exc


class JsonlOutput:
    """A `JsonlWriter` driven through the sink lifecycle: `open(resume)`, `write`,
    `commit() -> checkpoint`, `close(outcome)`. The checkpoint is `{"mode", "offset"}`."""

    def __init__(self, path: Path, *, mode: Mode = "replace"):
        self.writer = JsonlWriter(path, mode=mode)

    def open(self, resume: Any = None) -> None:
        path, mode = self.writer.path, self.writer.mode
        offset = None
        if resume is not None:
            if not (
                isinstance(resume, dict)
                and resume.get("mode") == mode
                and isinstance(resume.get("offset"), int)
            ):
                raise SinkError(f"{path}: cannot resume from checkpoint {resume!r} (mode {mode!r})")
            offset = resume["offset"]
            if (
                mode == "replace"
                and not self.writer.was_published(offset)
                and not partial_path(path).exists()
            ):
                raise SinkError(
                    f"{partial_path(path)}: cannot resume: the interrupted run's "
                    "unpublished output is gone"
                )
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise SinkError(f"{path}: cannot create its directory: {exc.strerror or exc}") from exc
        self.writer.open(truncate_to=offset)

    def write(self, items: Iterable[Any]) -> None:
        self.writer.write(items)

    def commit(self) -> dict[str, Any]:
        return {"mode": self.writer.mode, "offset": self.writer.commit()}

    def close(self, outcome: Outcome) -> None:
        self.writer.close(outcome)
