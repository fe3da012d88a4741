"""File targets for sources: `FileSource`, the base every source reading files shares.

`inputs` entries are files, glob patterns (`dumps/*.txt`, `**` recursive) or URLs (passed
through untouched, for sources that read both). Each may be a table giving its own
`captured_on`, the day the file was captured, for sources whose files print yearless dates:

    inputs = ["dumps/*.txt", {path = "old/2025-12-10.txt", captured_on = 2025-12-10}]
    captured_on = 2026-03-14          # for inputs without their own

A file target's fingerprint is its size and modification time, so under `[run] state` a file
changed since an earlier run is read again. A missing file, a pattern matching nothing or a
directory fails only its own target, with the path in the message.
"""

from __future__ import annotations

import datetime as dt
import glob
import os
from dataclasses import dataclass
from pathlib import Path
from typing import IO

import msgspec

from .api import Source, SourceOptions, Target
from .errors import InputError


class FileInput(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """An `inputs` entry given as a table."""

    path: str
    captured_on: dt.date | None = None


class FileSourceOptions(SourceOptions, kw_only=True, forbid_unknown_fields=True):
    inputs: list[str | FileInput] = msgspec.field(default_factory=list)  # type: ignore[assignment]
    captured_on: dt.date | None = None  # the day the files were captured (yearless dates)


@dataclass(frozen=True)
class FileTarget:
    """`Target.data` of a file target."""

    path: Path  # resolved against the config's base_dir
    captured_on: dt.date | None
    problem: str | None = None  # why it cannot be read (read() raises it as an InputError)


def is_url(text: str) -> bool:
    return text.startswith(("http://", "https://"))


def fingerprint(path: Path) -> str | None:
    """Size and modification time: changes when the file is rewritten."""
    try:
        info = path.stat()
    except OSError:
        return None
    return f"{info.st_size}:{info.st_mtime_ns}"


class FileSource(Source):
    """A source whose targets are files (and, for sources that also fetch, URLs)."""

    Options = FileSourceOptions
    options: FileSourceOptions

    def targets(self) -> list[Target]:
        found: list[Target] = []
        for given in self.options.inputs:
            path_text = given if isinstance(given, str) else given.path
            captured = self.options.captured_on
            if isinstance(given, FileInput) and given.captured_on is not None:
                captured = given.captured_on
            if is_url(path_text):
                found.append(Target(path_text))
            else:
                found += self._expand(path_text, captured)
        return found

    def _expand(self, given: str, captured: dt.date | None) -> list[Target]:
        path = self.context.resolve(given)
        if not glob.has_magic(given):
            return [self._file_target(given, path, captured)]
        matches = sorted(m for m in glob.glob(str(path), recursive=True) if os.path.isfile(m))
        if not matches:
            data = FileTarget(path, captured, problem="the pattern matches no files")
            return [Target(given, data=data)]
        relative = not Path(given).expanduser().is_absolute()
        base = self.context.base_dir
        return [
            self._file_target(os.path.relpath(m, base) if relative else m, Path(m), captured)
            for m in matches
        ]

    @staticmethod
    def _file_target(label: str, path: Path, captured: dt.date | None) -> Target:
        return Target(label, fingerprint=fingerprint(path), data=FileTarget(path, captured))

    # -- helpers for read() --------------------------------------------------------------------

    def file_of(self, target: Target) -> FileTarget:
        data = target.data
        if not isinstance(data, FileTarget):  # a target built by hand (tests, subclasses)
            data = FileTarget(self.context.resolve(target.id), self.options.captured_on)
        if data.problem:
            raise InputError(target.id, data.problem)
        return data

    def open_file(self, target: Target) -> IO[bytes]:
        """The target's file, opened for reading bytes; a clear `InputError` when it cannot be."""
        path = self.file_of(target).path
        try:
            if path.is_dir():
                raise InputError(target.id, "is a directory, not a file")
            return path.open("rb")
        except FileNotFoundError:
            raise InputError(target.id, "no such file") from None
        except OSError as exc:
            raise InputError(target.id, f"cannot read: {exc.strerror or exc}") from None

    def read_bytes(self, target: Target, *, max_bytes: int | None = None) -> bytes:
        """The whole file; over `max_bytes` is an `InputError` (a file read at once must be
        bounded like a response)."""
        with self.open_file(target) as f:
            data = f.read() if max_bytes is None else f.read(max_bytes + 1)
        if max_bytes is not None and len(data) > max_bytes:
            raise InputError(target.id, f"file is over {max_bytes} bytes")
        return data

    def captured_on(self, target: Target) -> dt.date:
        """The day the file was captured: its input's `captured_on`, the source's, or (with a
        warning naming the file) its modification date."""
        info = self.file_of(target)
        if info.captured_on is not None:
            return info.captured_on
        try:
            mtime = dt.date.fromtimestamp(info.path.stat().st_mtime)
        except OSError:
            raise InputError(target.id, "no such file") from None
        self.context.log.warning(
            "%s: no captured_on option; yearless dates resolve against the file's "
            "modification date %s",
            target.id,
            mtime.isoformat(),
        )
        return mtime
