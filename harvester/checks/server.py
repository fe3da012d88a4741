"""The check's own small HTTP server on 127.0.0.1: serves a plugin's fixtures, answers its
first request with a 429 and a `Retry-After`, serves a robots.txt, and logs every request with
its times, so that the politeness check can say which request came too early or where robots.txt
said not to go."""

from __future__ import annotations

import mimetypes
import threading
import time
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

ROBOTS = "/robots.txt"
ALLOW_ALL = "User-agent: *\nAllow: /\n"
DISALLOW_ALL = "User-agent: *\nDisallow: /\n"


@dataclass(frozen=True)
class Logged:
    path: str  # with the query string
    started: float  # time.monotonic() when the server began handling it
    status: int
    sent: float  # when its answer began to be sent (a client can see it no earlier)


class CheckServer:
    """`routes`: path -> body (the query string is not looked at). `robots`: the robots.txt
    text. `retry_after`: seconds the first request (robots.txt aside) is told to wait by its 429
    (None: no 429). A context manager."""

    def __init__(self, routes: dict[str, bytes], *, robots: str, retry_after: int | None = 1):
        self.routes, self.robots, self.retry_after = routes, robots, retry_after
        self.log: list[Logged] = []
        self._lock = threading.Lock()
        self._limited = False
        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
        self._httpd.daemon_threads = True
        self._httpd.owner = self  # type: ignore[attr-defined]
        self.port = self._httpd.server_address[1]
        self._thread: threading.Thread | None = None

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def __enter__(self) -> CheckServer:
        self._thread = threading.Thread(
            target=self._httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self._thread.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def answer(self, path: str) -> tuple[int, bytes, dict[str, str]]:
        bare = path.split("?", 1)[0]
        if bare == ROBOTS:
            return 200, self.robots.encode(), {"Content-Type": "text/plain"}
        with self._lock:
            limited, self._limited = not self._limited, True
        if limited and self.retry_after is not None:
            headers = {"Retry-After": str(self.retry_after), "Content-Type": "text/plain"}
            return 429, b"Too Many Requests: come back after Retry-After", headers
        body = self.routes.get(bare)
        if body is None:
            return 404, b"no such page", {"Content-Type": "text/plain"}
        kind = mimetypes.guess_type(bare)[0] or "application/octet-stream"
        return 200, body, {"Content-Type": kind}

    def record(self, entry: Logged) -> None:
        with self._lock:
            self.log.append(entry)

    def too_early(self) -> list[str]:
        """Requests that began after a 429 was sent and before its Retry-After ran out."""
        found = []
        for limit in (e for e in self.log if e.status == 429):
            until = limit.sent + (self.retry_after or 0)
            for e in self.log:
                if limit.sent < e.started < until:
                    found.append(
                        f"{e.path} {e.started - limit.sent:.3f}s after the 429 on {limit.path} "
                        f"(Retry-After: {self.retry_after})"
                    )
        return found

    def requested(self) -> list[str]:
        return [e.path for e in self.log]


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:  # quiet
        pass

    def do_GET(self) -> None:
        owner: CheckServer = self.server.owner  # type: ignore[attr-defined]
        started = time.monotonic()
        status, body, headers = owner.answer(self.path)
        sent = time.monotonic()
        try:
            self.send_response(status)
            for name, value in headers.items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
            self.wfile.flush()
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True
        owner.record(Logged(self.path, started, status, sent))
