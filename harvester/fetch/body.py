"""Reading a response body within hard bounds: wire bytes and decoded bytes both capped at
`max_bytes`, whatever the stack of Content-Encodings (`gzip, gzip`, `br`, `zstd`, ...).

httpx inflates each received chunk in one call, so 26 KB of `gzip, gzip` became gigabytes before
any cap could look. Here every layer decodes at most `CHUNK` bytes per call (zlib's
`max_length`, brotli's `output_buffer_limit`, zstd's `max_length`), so memory stays within the
cap plus a few chunks per layer, and decoding stops the moment the decoded size passes the cap.
"""

from __future__ import annotations

import zlib
from collections.abc import Iterable, Iterator, Sequence

from ._failure import AttemptFailed
from .errors import ContentDecodingError, ResponseTooLarge

CHUNK = 64 * 1024

try:  # brotli >= 1.2 bounds its output per call; older versions cannot be bounded: not offered
    import brotli

    _HAS_BROTLI = hasattr(brotli.Decompressor, "can_accept_more_data")
except ImportError:
    _HAS_BROTLI = False
try:  # Python 3.14's compression.zstd, or its backport
    from compression import zstd
except ImportError:
    try:
        from backports import zstd
    except ImportError:
        zstd = None


def accept_encoding() -> str:
    """The Accept-Encoding we send: only encodings we can decode within bounds."""
    return ", ".join(["gzip", "deflate"] + ["br"] * _HAS_BROTLI + ["zstd"] * (zstd is not None))


class _Zlib:
    """gzip (several members allowed) or deflate (zlib-wrapped, or raw as some servers send)."""

    def __init__(self, encoding: str):
        self._gzip = encoding in ("gzip", "x-gzip")
        self._wbits = zlib.MAX_WBITS | 16 if self._gzip else zlib.MAX_WBITS
        self._decoder = zlib.decompressobj(self._wbits)
        self._started = False

    def feed(self, data: bytes) -> Iterator[bytes]:
        out = self._first(data)
        yield out
        while True:
            decoder = self._decoder
            if decoder.unconsumed_tail:  # output was cut at CHUNK: input is waiting
                rest = decoder.unconsumed_tail
            elif decoder.eof and self._gzip and decoder.unused_data:  # the next gzip member
                rest = decoder.unused_data
                self._decoder = zlib.decompressobj(self._wbits)
            elif not decoder.eof and len(out) == CHUNK:  # output may still be pending
                rest = b""
            else:
                return
            out = self._decoder.decompress(rest, CHUNK)
            yield out

    def _first(self, data: bytes) -> bytes:
        try:
            return self._decoder.decompress(data, CHUNK)
        except zlib.error:
            if self._gzip or self._started:
                raise
            self._wbits = -zlib.MAX_WBITS  # raw deflate, without the zlib header
            self._decoder = zlib.decompressobj(self._wbits)
            return self._decoder.decompress(data, CHUNK)
        finally:
            self._started = True

    def flush(self) -> Iterator[bytes]:
        yield self._decoder.flush()


class _Brotli:
    def __init__(self, encoding: str):
        self._decoder = brotli.Decompressor()

    def feed(self, data: bytes) -> Iterator[bytes]:
        out = self._decoder.process(data, output_buffer_limit=CHUNK)
        yield out
        # output can be pending even when the decoder would accept input: drain it, a bounded
        # piece at a time, until a call yields nothing
        while out or not self._decoder.can_accept_more_data():
            out = self._decoder.process(b"", output_buffer_limit=CHUNK)
            yield out

    def flush(self) -> Iterator[bytes]:
        return self.feed(b"")


class _Zstd:
    def __init__(self, encoding: str):
        self._decoder = zstd.ZstdDecompressor()

    def feed(self, data: bytes) -> Iterator[bytes]:
        while True:
            yield self._decoder.decompress(data, max_length=CHUNK)
            data = b""
            if self._decoder.eof:
                if not self._decoder.unused_data:
                    return
                data = self._decoder.unused_data  # the next frame
                self._decoder = zstd.ZstdDecompressor()
            elif self._decoder.needs_input:
                return

    def flush(self) -> Iterator[bytes]:
        return iter(())


_LAYERS: dict[str, type] = {"gzip": _Zlib, "x-gzip": _Zlib, "deflate": _Zlib}
if _HAS_BROTLI:
    _LAYERS["br"] = _Brotli
if zstd is not None:
    _LAYERS["zstd"] = _Zstd
_DECODE_ERRORS: tuple[type[Exception], ...] = (zlib.error, EOFError)
if _HAS_BROTLI:
    _DECODE_ERRORS += (brotli.error,)
if zstd is not None:
    _DECODE_ERRORS += (zstd.ZstdError,)


def content_encodings(header: str) -> list[str]:
    """The codings of a Content-Encoding value, in the order they were applied."""
    codings = [c.strip().lower() for c in header.split(",")]
    return [c for c in codings if c and c != "identity"]


def read_bounded(
    chunks: Iterable[bytes],
    encodings: Sequence[str],
    max_bytes: int,
    *,
    status: int | None = None,
    truncate: bool = False,
) -> bytes:
    """The decoded body of raw `chunks`; `AttemptFailed(ResponseTooLarge)` as soon as the wire
    or decoded size passes `max_bytes` (or, with `truncate`, the first `max_bytes` bytes)."""
    unknown = [c for c in encodings if c not in _LAYERS]
    if unknown:
        raise AttemptFailed(
            f"unsupported Content-Encoding {unknown[0]!r}", status, kind=ContentDecodingError
        )
    layers = [_LAYERS[c](c) for c in reversed(encodings)]  # the last applied is undone first
    # the pieces are joined once at the end: one copy of the body (a bytearray grown piece by
    # piece copied it again at each reallocation, and once more into bytes)
    pieces: list[bytes] = []
    size = wire = 0
    try:
        for chunk in chunks:
            wire += len(chunk)
            if wire > max_bytes and not truncate:
                raise _too_large(max_bytes, status, ())
            for piece in _decode(layers, chunk):
                if size + len(piece) > max_bytes:
                    if truncate:
                        pieces.append(piece[: max_bytes - size])
                        return b"".join(pieces)
                    raise _too_large(max_bytes, status, encodings)
                pieces.append(piece)
                size += len(piece)
        for piece in _flushed(layers):
            pieces.append(piece)
            size += len(piece)
    except _DECODE_ERRORS as exc:
        raise AttemptFailed(
            f"corrupt {', '.join(encodings)} body: {exc}", status, kind=ContentDecodingError
        ) from exc
    if size > max_bytes and not truncate:
        raise _too_large(max_bytes, status, encodings)
    body = b"".join(pieces)
    return body[:max_bytes] if size > max_bytes else body


def _decode(layers: Sequence, data: bytes) -> Iterator[bytes]:
    """`data` through every layer in turn, lazily, one bounded piece at a time."""
    if not layers:
        if data:
            yield data
        return
    for piece in layers[0].feed(data):
        if piece:
            yield from _decode(layers[1:], piece)


def _flushed(layers: Sequence) -> Iterator[bytes]:
    """What each layer still holds at the end, through the layers after it."""
    for index, layer in enumerate(layers):
        for piece in layer.flush():
            if piece:
                yield from _decode(layers[index + 1 :], piece)


def _too_large(max_bytes: int, status: int | None, encodings: Sequence[str]) -> AttemptFailed:
    detail = f" decoded from {', '.join(encodings)}" if encodings else ""
    return AttemptFailed(
        f"response exceeds max_bytes {max_bytes}{detail}", status, kind=ResponseTooLarge
    )
