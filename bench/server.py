"""A small, fast static HTTP/1.1 server for the end-to-end stage: `python bench/server.py DIR`.

Serves `DIR/<YYYY-MM-DD>.html` at `/papers/date/<YYYY-MM-DD>` with keep-alive, reading the
file per request (2,000 pages of ~270 KB would not fit a flat memory budget; the page cache has
them). Prints its port on the first stdout line.
asyncio and nothing else: no framework overhead, so it is not the bottleneck (the benchmark
measures it alone with a bare httpx loop and prints that ceiling beside the figures).
"""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

PREFIX = b"/papers/date/"


async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, root: Path) -> None:
    try:
        while True:
            head = await reader.readuntil(b"\r\n\r\n")
            request_line = head.split(b"\r\n", 1)[0]
            parts = request_line.split(b" ")
            path = parts[1] if len(parts) == 3 else b""
            body, status = b"not found\n", b"404 Not Found"
            if path.startswith(PREFIX):
                name = path[len(PREFIX) :].rstrip(b"/").decode("ascii", "replace")
                file = root / f"{name}.html"
                if len(name) == 10 and file.is_file():
                    body, status = file.read_bytes(), b"200 OK"
            writer.write(
                b"HTTP/1.1 " + status + b"\r\ncontent-type: text/html; charset=utf-8\r\n"
                b"content-length: " + str(len(body)).encode() + b"\r\n\r\n"
            )
            writer.write(body)
            await writer.drain()
            if b"connection: close" in head.lower():
                break
    except (asyncio.IncompleteReadError, ConnectionError, asyncio.LimitOverrunError):
        pass
    finally:
        writer.close()


async def serve(root: Path) -> None:
    server = await asyncio.start_server(
        lambda r, w: handle(r, w, root), "127.0.0.1", 0, backlog=256
    )
    port = server.sockets[0].getsockname()[1]
    print(port, flush=True)
    async with server:
        await server.serve_forever()


if __name__ == "__main__":
    asyncio.run(serve(Path(sys.argv[1])))
