"""Bytes to numbered text lines, streamed in chunks: memory stays flat whatever the file's size.

The file is read in blocks of whole lines (`CHUNK_SIZE`), each checked and decoded at once:

* a NUL byte means binary data, not a text dump: `InputError` naming ``file:line`` (the
  lines before it are still yielded, so the entries before it are read);
* a line holding bytes that are not UTF-8 is decoded with U+FFFD in their place and listed in
  the chunk's `bad` (its number, the byte and its column): the parser rejects the entry that
  holds it, and reads on (issue 20: one bad byte is one bad entry, not a failed file);
* a UTF-8 byte-order mark at the start is dropped, CRLF line ends become LF.

A file in another encoding comes here recoded to UTF-8 (`harvester.files.FileSource.open_text`).

A line longer than `MAX_LINE_BYTES` (issue 14: a 200 MB line once cost 600 MB of memory and
was copied whole into the rejects file) is never held: the reader keeps its first
`RAW_LIMIT` bytes, skips the rest, and reports it as a `LongLine` after the chunk's lines, so
the parser can reject the entry it belongs to and go on after it.
"""

from __future__ import annotations

import codecs
from collections.abc import Iterator
from dataclasses import dataclass
from typing import IO, NamedTuple

from harvester.errors import InputError

CHUNK_SIZE = 1 << 20  # bytes per block (whole lines)
MAX_LINE_BYTES = 1 << 20  # a longer line is skipped and its entry rejected
RAW_LIMIT = 4096  # characters of a rejected entry's text kept in `Rejected.raw`
_BOM = b"\xef\xbb\xbf"
_BINARY = "binary data (NUL byte): not a text dump"
# control bytes but the line end, one by one: each `in` is a memchr, faster than a pass of
# bytes.translate over the block; text nearly never holds one, so all are usually looked for
_CONTROL = tuple(bytes((c,)) for c in (*range(0x20), 0x7F) if c != 0x0A)


@dataclass(frozen=True, slots=True)
class LongLine:
    """A line over the length limit: its number, its size and its first bytes only."""

    number: int
    size: int  # bytes, without the line end
    head: str  # its first RAW_LIMIT bytes, decoded


class Chunk(NamedTuple):
    first: int  # the line number of lines[0]
    lines: list[str]  # without line ends
    long_line: LongLine | None = None  # the line right after `lines`, when it is over-long
    plain: bool = False  # no control characters: ASCII lines need no clean-up but spaces
    bad: dict[int, str] | None = None  # line number -> why its bytes are not text


def read_lines(
    stream: IO[bytes],
    label: str,
    *,
    chunk_size: int = CHUNK_SIZE,
    max_line: int = MAX_LINE_BYTES,
    encoding: str = "utf-8",
) -> Iterator[Chunk]:
    """The text of `stream` (UTF-8 bytes) as chunks of numbered lines; `label` names the file
    in errors; `encoding`: what the file was in before it was recoded to UTF-8."""
    chunk_size = min(chunk_size, max_line)  # so that only a chunk's last line can be too long
    number = 1
    at_start = True
    while True:
        block = stream.read(chunk_size)
        if not block:
            return
        if at_start:
            at_start = False
            if block.startswith(_BOM):
                block = block[len(_BOM) :]
        long_line = None
        if block and not block.endswith(b"\n"):
            block, long_line = _complete_last_line(stream, block, max_line)
        try:
            lines, plain, bad = _decode(block, label, number, encoding)
        except _BadBlock as failed:
            if failed.good:  # the entries before the bad line are still read
                yield Chunk(number, failed.good)
            raise failed.error from None
        if long_line is not None:
            head_bytes, size = long_line
            number_long = number + len(lines)
            if b"\x00" in head_bytes:
                if lines:
                    yield Chunk(number, lines)
                raise InputError(f"{label}:{number_long}", _BINARY)
            # a multi-byte character cut at the end of the head is left out, not garbled
            head = codecs.getincrementaldecoder("utf-8")("replace").decode(head_bytes)
            yield Chunk(number, lines, LongLine(number_long, size, head), plain, bad)
            number = number_long + 1
        elif lines:
            yield Chunk(number, lines, None, plain, bad)
            number += len(lines)


def _complete_last_line(
    stream: IO[bytes], block: bytes, max_line: int
) -> tuple[bytes, tuple[bytes, int] | None]:
    """Read the rest of the block's last line; cut it off when it is over `max_line` bytes.

    Returns the block of whole lines and, for an over-long last line, (its head, its size)."""
    start = block.rfind(b"\n") + 1
    tail = len(block) - start
    rest = stream.readline(max(max_line - tail + 1, 1))  # the line end fits in the +1
    block += rest
    if block.endswith(b"\n") or len(block) - start <= max_line:
        return block, None  # complete, or the file's last line (no line end), short enough
    head = block[start : start + RAW_LIMIT]
    size = len(block) - start + _skip_line(stream)
    return block[:start], (head, size)


def _skip_line(stream: IO[bytes]) -> int:
    """Read past the current line without keeping it; the bytes skipped (line end excluded)."""
    skipped = 0
    while True:
        piece = stream.readline(CHUNK_SIZE)
        if not piece:
            return skipped
        if piece.endswith(b"\n"):
            return skipped + len(piece) - 1
        skipped += len(piece)


def _decode(
    block: bytes, label: str, number: int, encoding: str = "utf-8"
) -> tuple[list[str], bool, dict[int, str] | None]:
    """Check and decode a block of whole lines (numbered from `number`); and whether it is
    plain: no control bytes but line ends. That is checked once per block, in C, so that the
    parser need not check every field (`str.isprintable` costs more than the rest of the
    clean-up)."""
    if b"\x00" in block:
        bad = block.index(b"\x00")
        raise _BadBlock(block, bad, InputError(_where(label, number, block, bad), _BINARY))
    if b"\r" in block:
        block = block.replace(b"\r\n", b"\n")
    undecodable: dict[int, str] | None = None
    try:
        text = block.decode("utf-8")
    except UnicodeDecodeError:
        text, undecodable = _decode_lines(block, number, encoding)
    lines = text.split("\n")
    if lines[-1] == "":
        lines.pop()  # the block ended with a line end
    plain = undecodable is None and not any(c in block for c in _CONTROL)
    return lines, plain, undecodable


def _decode_lines(block: bytes, number: int, encoding: str) -> tuple[str, dict[int, str]]:
    """A block with bytes that are not UTF-8, decoded line by line: U+FFFD in their place,
    and each such line's number with its first bad byte and column."""
    bad: dict[int, str] = {}
    lines = block.split(b"\n")
    for i, raw in enumerate(lines):
        try:
            raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            column = exc.start + 1
            if encoding == "utf-8":
                what = f"not UTF-8 text (byte 0x{raw[exc.start]:02x} at column {column})"
            else:  # recoded: the bytes not valid in the file's encoding came out as 0xff
                what = f"bytes that are not {encoding} text (at column {column})"
            bad[number + i] = (
                f"line {number + i}: {what}; the entry holding it is rejected: save the dump "
                "as UTF-8"
            )
    return block.decode("utf-8", "replace"), bad


def _where(label: str, number: int, block: bytes, offset: int) -> str:
    line = number + block.count(b"\n", 0, offset)
    return f"{label}:{line}"


class _BadBlock(Exception):
    """Internal: the whole lines before a bad byte, and the error to raise after them."""

    def __init__(self, block: bytes, bad: int, error: InputError):
        good = block[: block.rfind(b"\n", 0, bad) + 1]
        self.good = good.decode("utf-8", "replace").split("\n")[:-1]
        self.error = error
