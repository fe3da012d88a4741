"""The one crash-safe JSON-lines writer (papers, rejects, any msgspec Struct), and a reader.

Two modes:

* ``replace`` (default): lines go to a temporary sibling ``<name>.partial``; ``close(ok=True)``
  fsyncs it, renames it onto the target with ``os.replace`` and fsyncs the directory. A run
  killed at any moment therefore leaves the target either as the previous good file or as the
  new complete one, never half-written. ``close(ok=False)`` deletes the temporary file.
* ``append`` (incremental runs): lines are appended to the target itself. On ``open`` a partial
  last line left by a crash is cut off (the file is truncated after its last ``\\n``), or, with
  ``open(truncate_to=offset)``, the file is cut back to a checkpoint a resumed run recorded
  (``committed_offset`` after a ``commit()``). ``close(ok=False)`` cuts the uncommitted tail off,
  so what survives is everything up to the last ``commit()``.

``commit()`` is the checkpoint: buffered lines are written and fsynced. ``suspend()`` stops an
interrupted run keeping what was committed (replace mode keeps its ``.partial``), and
``open(truncate_to=committed_offset)`` continues it in either mode.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any, Literal

import msgspec

from .errors import InputError, SinkError

Mode = Literal["replace", "append"]
PARTIAL_SUFFIX = ".partial"
_FLUSH_AT = 1 << 20  # bytes buffered before they are handed to the OS
_TAIL_CHUNK = 1 << 16


def partial_path(path: Path) -> Path:
    """Where replace mode writes before the final rename."""
    return path.with_name(path.name + PARTIAL_SUFFIX)


def fsync_dir(directory: Path) -> None:
    """Make a rename in `directory` durable (a no-op where directories cannot be opened)."""
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass  # some filesystems refuse fsync on a directory; the rename itself still happened
    finally:
        os.close(fd)


def _last_line_end(fd: int, size: int) -> int:
    """Offset just after the last b'\\n' in the first `size` bytes of `fd` (0 if none)."""
    end = size
    while end > 0:
        start = max(0, end - _TAIL_CHUNK)
        chunk = os.pread(fd, end - start, start)
        nl = chunk.rfind(b"\n")
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
        self.lines_written = 0
        self.published = False  # a resumed run found its output already published

    # -- lifecycle ---------------------------------------------------------------------------

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
        target = self.write_path
        self.published = False
        if self.mode == "replace" and truncate_to is not None and self._was_published(truncate_to):
            # Killed after publishing but before the run state was cleared: nothing to redo.
            self.published = True
            self._offset = self._committed = truncate_to
            return
        try:
            if self.mode == "replace" and truncate_to is None:
                # O_TRUNC: a `.partial` left by a killed run is simply started over.
                self._fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
                self._offset = 0
            elif self.mode == "replace":  # resume an interrupted run's `.partial`
                flags = os.O_RDWR | (os.O_CREAT if truncate_to == 0 else 0)
                self._fd = os.open(target, flags, 0o644)
                self._offset = self._prepare_append(self._fd, truncate_to)
            else:
                self._fd = os.open(target, os.O_RDWR | os.O_CREAT, 0o644)
                self._offset = self._prepare_append(self._fd, truncate_to)
        except OSError as exc:
            self._abort_fd()
            raise SinkError(f"{target}: cannot open for writing: {exc.strerror or exc}") from exc
        self._committed = self._offset
        self.lines_written = 0

    def _was_published(self, offset: int) -> bool:
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
                    f"{self.path}: checkpoint offset {truncate_to} is beyond the file's "
                    f"{size} bytes; the file was changed since the checkpoint"
                )
            keep = truncate_to
        else:
            keep = _last_line_end(fd, size)  # drop a partial line a crash left behind
        if keep != size:
            os.ftruncate(fd, keep)
            os.fsync(fd)
        os.lseek(fd, keep, os.SEEK_SET)  # writes go on from here
        return keep

    def write(self, items: Iterable[Any]) -> None:
        """Encode and buffer `items`, one line each; large buffers go to the OS as they fill."""
        if self._fd is None:
            if self.published:
                raise SinkError(f"{self.path}: already published by the resumed run")
            raise SinkError(f"{self.path}: write() before open()")
        buf, encode_into = self._buf, self._encoder.encode_into
        n = 0
        for item in items:
            encode_into(item, buf, -1)
            buf.append(10)  # b"\n"; msgspec escapes newlines inside strings, so one per line
            n += 1
            if len(buf) >= _FLUSH_AT:
                self._flush()
        self.lines_written += n

    def commit(self) -> None:
        """Checkpoint: everything written so far reaches the disk (flush + fsync)."""
        if self.published:
            return
        if self._fd is None:
            raise SinkError(f"{self.path}: commit() before open()")
        self._flush()
        try:
            os.fsync(self._fd)
        except OSError as exc:
            raise SinkError(f"{self.write_path}: cannot sync: {exc.strerror or exc}") from exc
        self._committed = self._offset

    def close(self, ok: bool = True) -> None:
        """Finish (`ok=True`: publish the output) or abandon (`ok=False`: keep the old output)."""
        if self._fd is None:
            return
        if not ok:
            self._abandon()
            return
        try:
            self.commit()
        except SinkError:
            self._abandon()
            raise
        self._abort_fd()
        if self.mode == "replace":
            try:
                os.replace(partial_path(self.path), self.path)
            except OSError as exc:
                self._remove_partial()
                raise SinkError(
                    f"{self.path}: cannot replace with the new output: {exc.strerror or exc}"
                ) from exc
            fsync_dir(self.path.parent)

    def suspend(self) -> None:
        """Stop without publishing: drop uncommitted lines, keep the committed ones (in replace
        mode the `.partial` stays) so that `open(truncate_to=committed_offset)` continues."""
        if self._fd is None:
            return
        self._buf.clear()
        try:
            os.ftruncate(self._fd, self._committed)
            os.fsync(self._fd)
        except OSError as exc:
            raise SinkError(f"{self.write_path}: cannot suspend: {exc.strerror or exc}") from exc
        finally:
            self._abort_fd()

    def _abandon(self) -> None:
        self._buf.clear()
        if self.mode == "append" and self._fd is not None:
            try:  # cut what was written after the last checkpoint
                os.ftruncate(self._fd, self._committed)
                os.fsync(self._fd)
            except OSError:
                pass  # the next open() cuts a partial line anyway
        self._abort_fd()
        if self.mode == "replace":
            self._remove_partial()

    def _remove_partial(self) -> None:
        with contextlib.suppress(OSError):
            partial_path(self.path).unlink(missing_ok=True)

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
        view = memoryview(buf)
        done = 0
        try:
            while done < len(buf):
                done += os.write(self._fd, view[done:])
        except OSError as exc:
            raise SinkError(f"{self.write_path}: cannot write: {exc.strerror or exc}") from exc
        finally:
            view.release()
            self._offset += done
            del buf[:done]

    def __enter__(self) -> JsonlWriter:
        self.open()
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        self.close(ok=exc_type is None)


class JsonlOutput:
    """A `JsonlWriter` driven through the sink lifecycle (open with a resume token, write,
    commit, checkpoint_token, suspend, close): the `jsonl` sink and the run's rejects file."""

    def __init__(self, path: Path, *, mode: Mode = "replace"):
        self.writer = JsonlWriter(path, mode=mode)

    def open(self, resume: Any = None) -> None:
        """`resume`: a `checkpoint_token()` of an interrupted run; the output is cut back to
        that checkpoint and continued (in replace mode: its unpublished `.partial`)."""
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
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise SinkError(f"{path}: cannot create its directory: {exc.strerror or exc}") from exc
        self.writer.open(truncate_to=offset)

    def write(self, items: Iterable[Any]) -> None:
        self.writer.write(items)

    def commit(self) -> None:
        self.writer.commit()

    def checkpoint_token(self) -> dict[str, Any]:
        return {"mode": self.writer.mode, "offset": self.writer.committed_offset}

    def suspend(self) -> None:
        self.writer.suspend()

    def close(self, ok: bool = True) -> None:
        self.writer.close(ok=ok)


def read_jsonl(path: str | os.PathLike[str], type: Any = Any) -> Iterator[tuple[int, Any]]:
    """Yield (line number, decoded object) per non-blank line; `type` e.g. `Paper` validates.

    A line that is not valid JSON (or not a valid `type`) raises `InputError` naming file:line.
    """
    decoder = msgspec.json.Decoder(type)
    with open(path, "rb") as f:
        for number, line in enumerate(f, 1):
            if not line.strip():
                continue
            try:
                yield number, decoder.decode(line)
            except msgspec.DecodeError as exc:
                raise InputError(f"{path}:{number}", str(exc)) from exc
