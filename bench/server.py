"""A small static HTTP/1.1 server for the end-to-end stage:
`python bench/server.py DIR [LATENCY_SECONDS]`. Prints its port on the first stdout line.

Serves `DIR/<YYYY-MM-DD>.html` at `/papers/date/<YYYY-MM-DD>` with keep-alive, reading the
file per request (the page cache has them). Each response waits LATENCY_SECONDS first (a
remote server's think time). It counts what the clients really did: requests in flight at once
(from the request's head to its last byte written) and connections open at once, their
maxima since the last `GET /__reset`, read back with `GET /__stats` (JSON). asyncio and
nothing else, so it is not the bottleneck (the bench measures it alone with a bare httpx loop).
"""

from __future__ import annotations

import asyncio
import json
import sys
from pathlib import Path

PREFIX = b"/papers/date/"


class Counters:
    def __init__(self) -> None:
        self.in_flight = self.open = 0
        self.reset()

    def reset(self) -> None:
        self.max_in_flight, self.max_open, self.requests = self.in_flight, self.open, 0

    def stats(self) -> bytes:
        return json.dumps(
            {
                "max_in_flight": self.max_in_flight,
                "max_connections": self.max_open,
                "requests": self.requests,
            }
        ).encode()


async def handle(reader, writer, root: Path, latency: float, counters: Counters) -> None:
    counted = False  # a connection counts from its first page request (not the bench's own)
    try:
        while True:
            head = await reader.readuntil(b"\r\n\r\n")
            parts = head.split(b"\r\n", 1)[0].split(b" ")
            path = parts[1] if len(parts) == 3 else b""
            if path.startswith(b"/__"):  # the bench's own requests are not counted
                if path == b"/__reset":
                    counters.reset()
                await _respond(writer, b"200 OK", counters.stats(), b"application/json")
                continue
            if not counted:
                counted = True
                counters.open += 1
                counters.max_open = max(counters.max_open, counters.open)
            counters.requests += 1
            counters.in_flight += 1
            counters.max_in_flight = max(counters.max_in_flight, counters.in_flight)
            try:
                # even without latency, yield once: requests already sent on other connections
                # are read and counted in flight, so the maximum is the clients' concurrency
                await asyncio.sleep(latency)
                body, status = _page(root, path)
                await _respond(writer, status, body, b"text/html; charset=utf-8")
            finally:
                counters.in_flight -= 1
            if b"connection: close" in head.lower():
                break
    except (asyncio.IncompleteReadError, ConnectionError, asyncio.LimitOverrunError):
        pass
    finally:
        counters.open -= counted
        writer.close()


def _page(root: Path, path: bytes) -> tuple[bytes, bytes]:
    if path.startswith(PREFIX):
        name = path[len(PREFIX) :].rstrip(b"/").decode("ascii", "replace")
        file = root / f"{name}.html"
        if len(name) == 10 and file.is_file():
            return file.read_bytes(), b"200 OK"
    return b"not found\n", b"404 Not Found"


async def _respond(writer, status: bytes, body: bytes, kind: bytes) -> None:
    writer.write(
        b"HTTP/1.1 " + status + b"\r\ncontent-type: " + kind + b"\r\n"
        b"content-length: " + str(len(body)).encode() + b"\r\n\r\n"
    )
    writer.write(body)
    await writer.drain()


async def serve(root: Path, latency: float) -> None:
    counters = Counters()
    server = await asyncio.start_server(
        lambda r, w: handle(r, w, root, latency, counters), "127.0.0.1", 0, backlog=256
    )
    print(server.sockets[0].getsockname()[1], flush=True)
    async with server:
        await server.serve_forever()


if __name__ == "__main__":
    asyncio.run(serve(Path(sys.argv[1]), float(sys.argv[2]) if len(sys.argv) > 2 else 0.0))
