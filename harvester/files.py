"""File targets for sources: `FileSource`, the base every source reading files shares.

`inputs` entries are files, glob patterns (`dumps/*.txt`, `**` recursive) or URLs (passed
through untouched, for sources that read both). Each may be a table giving its own
`captured_on`, the day the file was captured, for sources whose files print yearless dates:

    inputs = ["dumps/*.txt", {path = "old/2025-12-10.txt", captured_on = 2025-12-10}]
    captured_on = 2026-03-14          # for inputs without their own

A file target's fingerprint is its size and modification time, so under `[run] state` a file
changed since an earlier run is read again. A missing file, a pattern matching nothing or a
directory fails only its own target, with the path in the message.

Text files (`FileSource.open_text`) are read as UTF-8 bytes whatever they were saved in: UTF-8
with or without its byte-order mark, UTF-16 and UTF-32 with theirs, and a file in a single-byte
Windows code page (a cp1252 copy made on Windows) when charset-normalizer tells it and every
code page it finds about as likely reads the file alike; otherwise the file is refused with
one message. A byte
that is not valid in the file's encoding is left for the reader to reject the entry holding
it: in a recoded file it comes out as the byte 0xFF (never valid UTF-8).
"""

from __future__ import annotations

import codecs
import datetime as dt
import glob
import os
import re
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

    def open_text(self, target: Target) -> tuple[IO[bytes], str]:
        """The target's text file as UTF-8 bytes, and the encoding it is in (see the module's
        doc); an `InputError` when the encoding cannot be told."""
        f = self.open_file(target)
        try:
            encoding = text_encoding(f.read(SNIFF_BYTES), target.id)
            f.seek(0)
        except BaseException:
            f.close()
            raise
        if encoding == "utf-8":
            return f, encoding
        if encoding in ("utf-16", "utf-32"):
            self.context.log.info("%s: read as %s (its byte-order mark)", target.id, encoding)
        else:
            self.context.log.warning(
                "%s: not UTF-8: read as %s, the encoding charset-normalizer tells",
                target.id,
                encoding,
            )
        return Utf8Reader(f, encoding), encoding  # type: ignore[return-value]

    def read_bytes(self, target: Target, *, max_bytes: int | None = None) -> bytes:
        """The whole file; over `max_bytes` is an `InputError` (a file read at once must be
        bounded like a response)."""
        with self.open_file(target) as f:
            if max_bytes is None:
                return f.read()
            # a buffer of the file's size, not of the cap: read(cap + 1) allocated the cap
            # (20 MB) and shrank it, 0.3 ms per file; a file still growing is read on, capped
            size = os.fstat(f.fileno()).st_size
            data = f.read(min(size, max_bytes) + 1)
            if size < len(data) <= max_bytes:
                data += f.read(max_bytes + 1 - len(data))
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


# -- text encodings --------------------------------------------------------------------------

SNIFF_BYTES = 1 << 20  # what the encoding is told from
NEAR_BEST = 0.1  # charset-normalizer "chaos" within this of the best: as likely
WINDOWS = [f"cp{n}" for n in range(1250, 1259)]  # the code pages Windows saves "ANSI" text in
_BOMS = (  # longest first: the UTF-32 LE mark begins with the UTF-16 LE one
    (codecs.BOM_UTF32_LE, "utf-32"),
    (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF8, "utf-8"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)


def text_encoding(head: bytes, label: str) -> str:
    """The encoding of a text file from its first bytes: 'utf-8' (also for binary data and for
    UTF-8 with a few bad bytes: the reader rejects their entries), a BOM's, or a single-byte
    encoding charset-normalizer tells unambiguously; an `InputError` when it cannot be told."""
    for bom, name in _BOMS:
        if head.startswith(bom):
            return name
    if b"\x00" in head:
        return "utf-8"  # binary data: the reader says so
    try:  # the common case, checked in C: valid UTF-8 (a last character may be cut off)
        codecs.getincrementaldecoder("utf-8")().decode(head)
        return "utf-8"
    except UnicodeDecodeError:
        pass
    decoder = codecs.getincrementaldecoder("utf-8")("surrogateescape")
    text = decoder.decode(head)  # an incomplete last character stays in the decoder
    bad = len(_ESCAPED.findall(text))
    if bad < 2 or _UTF8_CHAR.search(text) is not None:
        return "utf-8"  # UTF-8 text, with at most a few bad bytes
    return _single_byte(head, label)


_ESCAPED = re.compile("[\udc80-\udcff]")  # a byte that is not UTF-8, as surrogateescape left it
_UTF8_CHAR = re.compile("[^\x00-\x7f\udc80-\udcff]")  # a character UTF-8 encoded


def _single_byte(head: bytes, label: str) -> str:
    """A copy saved in a Windows code page ("ANSI"), the other encoding text copies come in:
    the code pages charset-normalizer finds about as likely as its best guess must all read
    the file alike (a few accents and quotes: cp1252, cp1250 and cp1257 agree), else it is
    refused rather than read into plausible wrong text."""
    from charset_normalizer import from_bytes  # only for files that are not UTF-8

    matches = [m for m in from_bytes(head, cp_isolation=WINDOWS) if m.coherence > 0]
    if matches:
        best = min(m.chaos for m in matches)
        likely = [m.encoding for m in matches if m.chaos <= best + NEAR_BEST]
        readings = {head.decode(name, "replace") for name in likely}
        if len(readings) == 1:  # the most common code page, when it reads the file alike
            return "cp1252" if head.decode("cp1252", "replace") in readings else likely[0]
        problem = (
            "not UTF-8 text, and its encoding is ambiguous "
            f"({', '.join(likely)} read it differently)"
        )
    else:
        problem = "not UTF-8 text, and its encoding could not be told"
    raise InputError(label, problem + ": save the file as UTF-8")


class Utf8Reader:
    """A binary file in another encoding, read as UTF-8 bytes (`read`, `readline`): what the
    line reader takes. A byte sequence not valid in that encoding comes out as b'\\xff'."""

    def __init__(self, raw: IO[bytes], encoding: str):
        self.raw = raw
        self.encoding = encoding
        self._decoder = codecs.getincrementaldecoder(encoding)(_BAD_BYTES)
        self._buffer = b""
        self._eof = False

    def _fill(self, size: int) -> None:
        while not self._eof and len(self._buffer) < size:
            block = self.raw.read(max(size, 1 << 16))
            self._eof = not block
            text = self._decoder.decode(block, final=self._eof)
            self._buffer += text.encode("utf-8", "surrogateescape")

    def read(self, size: int = -1) -> bytes:
        self._fill(size if size >= 0 else 1 << 62)
        size = len(self._buffer) if size < 0 else size
        out, self._buffer = self._buffer[:size], self._buffer[size:]
        return out

    def readline(self, size: int = -1) -> bytes:
        limit = size if size >= 0 else 1 << 62
        while True:
            end = self._buffer.find(b"\n", 0, limit)
            if end >= 0 or self._eof or len(self._buffer) >= limit:
                cut = end + 1 if end >= 0 else min(limit, len(self._buffer))
                out, self._buffer = self._buffer[:cut], self._buffer[cut:]
                return out
            self._fill(len(self._buffer) + (1 << 16))

    def close(self) -> None:
        self.raw.close()

    def __enter__(self) -> Utf8Reader:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


_BAD_BYTES = "harvester-bad-bytes"
codecs.register_error(_BAD_BYTES, lambda exc: ("\udcff", exc.end))  # type: ignore[attr-defined]
