"""A real, scriptable HTTP server on 127.0.0.1 for tests, including misbehaving replies.

    from tests.localserver import LOOPBACK, LocalServer, ok, status, stall

    pytestmark = LOOPBACK  # pytest runs with --block-network: allow loopback for this module

    def test_it():
        with LocalServer() as server:
            server.route("/feed", status(500), status(500), ok(b"hello"))  # last reply repeats
            ... fetch server.url("/feed") ...
            assert server.hits("/feed") == 3

A route is a sequence of `Reply`s served in order; the last one repeats. Unknown paths get 404.
Every request is logged (`server.requests`: path, headers, server-side start time), and the
server tracks how many requests were in flight at once (`server.max_in_flight`). Two loopback
names reach the same server, `127.0.0.1` (the default) and `localhost`, so a redirect from one to
the other is an off-site redirect. Every stall is capped at `MAX_STALL` seconds and cut short
when the server stops.
"""

from __future__ import annotations

import contextlib
import dataclasses
import datetime as dt
import email.utils
import gzip
import json
import math
import socket
import struct
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Literal

import pytest

MAX_STALL = 5.0  # seconds: no reply ever waits longer than this
OTHER_HOST = "localhost"  # the second loopback name, a different site from 127.0.0.1

# pytest runs with --block-network; this mark lets a test (or a module, as `pytestmark`) reach
# the local server and nothing else.
LOOPBACK = pytest.mark.block_network(allowed_hosts=[r"127\.0\.0\.1$", r"::1$", r"localhost$"])

Kind = Literal["respond", "reset", "truncate", "stream", "drip"]


@dataclass(frozen=True)
class Reply:
    """One scripted answer. Build them with the helpers below rather than by hand."""

    status: int = 200
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)
    kind: Kind = "respond"
    delay: float = 0.0  # seconds to wait before answering (capped at MAX_STALL)
    declared_length: int | None = None  # "truncate": the Content-Length claimed
    stream_size: int = 0  # "stream": bytes sent in chunks, close-delimited (no Content-Length)
    header_lines: tuple[tuple[str, str], ...] = ()  # repeated headers (Set-Cookie) after `headers`
    drip_interval: float = 0.0  # "drip": seconds between single bytes
    drip_head: bool = True  # "drip": drip the status line and headers too (else only the body)


@dataclass(frozen=True)
class LoggedRequest:
    method: str
    path: str  # with the query string
    headers: dict[str, str]  # lower-case names
    started: float  # time.monotonic() when the server began handling it


# -- reply helpers ---------------------------------------------------------------------------


def ok(
    body: bytes | str = b"",
    *,
    headers: dict[str, str] | None = None,
    content_type: str = "text/plain; charset=utf-8",
    delay: float = 0.0,
) -> Reply:
    data = body.encode() if isinstance(body, str) else body
    return Reply(200, data, {"Content-Type": content_type, **(headers or {})}, delay=delay)


def json_reply(value: Any, *, status_code: int = 200) -> Reply:
    return Reply(status_code, json.dumps(value).encode(), {"Content-Type": "application/json"})


def status(code: int, body: bytes = b"", *, headers: dict[str, str] | None = None) -> Reply:
    return Reply(code, body, dict(headers or {}))


def retry_after(when: float | dt.datetime, *, code: int = 429) -> Reply:
    """`code` with a Retry-After of `when` seconds, or of an HTTP-date when given a datetime."""
    if isinstance(when, dt.datetime):
        value = email.utils.format_datetime(when.astimezone(dt.UTC), usegmt=True)
    else:
        value = f"{when:g}"
    return Reply(code, b"slow down", {"Retry-After": value})


def redirect(location: str, *, code: int = 302) -> Reply:
    return Reply(code, b"", {"Location": location})


def gzipped(body: bytes | str, *, content_type: str = "text/plain; charset=utf-8") -> Reply:
    data = body.encode() if isinstance(body, str) else body
    headers = {"Content-Type": content_type, "Content-Encoding": "gzip"}
    return Reply(200, gzip.compress(data), headers)


def drip(body: bytes, interval: float, *, head: bool = True) -> Reply:
    """Send the response one byte every `interval` seconds (with `head`, the status line and
    headers too; else they go at once and only the body drips): a slow sender that never trips
    a per-read timeout. Stops when the server stops."""
    return Reply(
        200, body, {"Content-Type": "text/plain"}, "drip", drip_interval=interval, drip_head=head
    )


def reset() -> Reply:
    """Close the connection (with a TCP reset) without sending any response."""
    return Reply(kind="reset")


def stall(seconds: float, then: Reply | None = None) -> Reply:
    """Wait `seconds` (capped) before answering with `then` (default: 200 "late")."""
    return dataclasses.replace(then or ok(b"late"), delay=min(seconds, MAX_STALL))


def truncated(body: bytes, declared_length: int) -> Reply:
    """Claim `declared_length` bytes, send only `body`, then close the connection."""
    return Reply(200, body, {}, "truncate", declared_length=declared_length)


def oversized(size: int) -> Reply:
    """Stream `size` bytes with no Content-Length, so only the reader can notice the size."""
    return Reply(200, b"", {"Content-Type": "application/octet-stream"}, "stream", stream_size=size)


# -- the server ------------------------------------------------------------------------------


def free_port() -> int:
    """A port nothing listens on (connections to it are refused), for now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class LocalServer:
    """A threaded HTTP/1.1 server on 127.0.0.1, on `port` (0: chosen by the OS). A context
    manager."""

    def __init__(self, port: int = 0) -> None:
        self._routes: dict[str, list[Reply]] = {}
        self._served: dict[str, int] = {}
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self.requests: list[LoggedRequest] = []
        self.in_flight = 0
        self.max_in_flight = 0
        self.budget: tuple[int, int] | None = None  # (limit, window seconds): see enforce_budget
        self._window: tuple[int, int] = (-1, 0)  # (window index, requests counted in it)
        self.rejected = 0  # requests answered 429 by the budget
        self._httpd = _Server(("127.0.0.1", port), _Handler)
        self._httpd.owner = self
        self.port: int = self._httpd.server_address[1]
        self._thread: threading.Thread | None = None

    # scripting

    def route(self, path: str, *replies: Reply) -> None:
        """Serve `replies` in order on `path` (query string included if given); the last repeats."""
        if not replies:
            raise ValueError("route() needs at least one reply")
        with self._lock:
            self._routes[path] = list(replies)
            self._served[path] = 0

    def enforce_budget(self, limit: int, window: int) -> None:
        """Count every request in fixed windows of `window` seconds (aligned on the epoch, like
        Hugging Face's); beyond `limit` in a window answer 429. Every answer advertises the
        budget: `RateLimit-Policy: "test";q=LIMIT;w=WINDOW` and `RateLimit: "test";r=..;t=..`
        (t: whole seconds until the window ends, rounded up)."""
        self.budget = (limit, window)

    def url(self, path: str = "/", *, host: str = "127.0.0.1") -> str:
        return f"http://{host}:{self.port}{path}"

    # inspection

    def requests_for(self, path: str) -> list[LoggedRequest]:
        with self._lock:
            return [r for r in self.requests if r.path == path or r.path.split("?")[0] == path]

    def hits(self, path: str) -> int:
        return len(self.requests_for(path))

    # lifecycle

    def start(self) -> LocalServer:
        self._thread = threading.Thread(
            target=self._httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stopping.set()  # cuts every stall short
        if self._thread is not None:
            self._httpd.shutdown()
            self._thread.join(timeout=MAX_STALL)
            self._thread = None
        self._httpd.server_close()

    def __enter__(self) -> LocalServer:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    # used by the handler

    def _charge_budget(self) -> tuple[bool, dict[str, str]]:
        """Whether this request is within the budget, and the headers advertising it."""
        if self.budget is None:
            return True, {}
        limit, window = self.budget
        now = time.time()
        index = int(now // window)
        with self._lock:
            counted = self._window[1] + 1 if self._window[0] == index else 1
            self._window = (index, counted)
            allowed = counted <= limit
            self.rejected += not allowed
        reset = max(1, math.ceil((index + 1) * window - now))
        headers = {
            "RateLimit-Policy": f'"test";q={limit};w={window}',
            "RateLimit": f'"test";r={max(0, limit - counted)};t={reset}',
        }
        return allowed, headers

    def _next_reply(self, path: str) -> Reply:
        with self._lock:
            key = path if path in self._routes else path.split("?")[0]
            replies = self._routes.get(key)
            if replies is None:
                return status(404, b"no such route")
            index = min(self._served[key], len(replies) - 1)
            self._served[key] += 1
            return replies[index]

    def _begin(self, request: LoggedRequest) -> None:
        with self._lock:
            self.requests.append(request)
            self.in_flight += 1
            self.max_in_flight = max(self.max_in_flight, self.in_flight)

    def _end(self) -> None:
        with self._lock:
            self.in_flight -= 1


class _Server(ThreadingHTTPServer):
    daemon_threads = True  # a stalled handler never blocks shutdown
    owner: LocalServer


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, so Content-Length matters (truncation)
    disable_nagle_algorithm = True  # else header and body writes wait on delayed ACKs (40 ms)
    server: _Server

    def log_message(self, format: str, *args: Any) -> None:  # quiet test output
        pass

    def handle(self) -> None:
        try:
            super().handle()
        except ConnectionError:  # a client that timed out or hit its size cap hung up: expected
            self.close_connection = True

    def finish(self) -> None:
        with contextlib.suppress(ConnectionError):
            super().finish()

    def do_GET(self) -> None:
        owner = self.server.owner
        logged = LoggedRequest(
            self.command,
            self.path,
            {k.lower(): v for k, v in self.headers.items()},
            time.monotonic(),
        )
        owner._begin(logged)
        try:
            allowed, advertised = owner._charge_budget()
            reply = owner._next_reply(self.path) if allowed else status(429, b"over budget")
            if advertised:
                reply = dataclasses.replace(reply, headers={**reply.headers, **advertised})
            if reply.delay:
                owner._stopping.wait(min(reply.delay, MAX_STALL))
            self._answer(reply)
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True  # the client gave up (timeout, size cap): expected
        finally:
            owner._end()

    def _answer(self, reply: Reply) -> None:
        if reply.kind == "drip":
            self._drip(reply)
            return
        if reply.kind == "reset":
            # SO_LINGER 0: close() sends a TCP RST instead of a response
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            self.close_connection = True
            return
        self.send_response(reply.status)
        for name, value in (*reply.headers.items(), *reply.header_lines):
            self.send_header(name, value)
        if reply.kind == "stream":
            self.send_header("Connection", "close")
            self.end_headers()
            self.close_connection = True
            self._stream(reply.stream_size)
            return
        length = reply.declared_length if reply.kind == "truncate" else len(reply.body)
        self.send_header("Content-Length", str(length))
        self.end_headers()
        self.wfile.write(reply.body)
        if reply.kind == "truncate":
            self.close_connection = True

    def _drip(self, reply: Reply) -> None:
        head = f"HTTP/1.1 {reply.status} OK\r\nContent-Length: {len(reply.body)}\r\n\r\n"
        stopping = self.server.owner._stopping
        self.close_connection = True
        slow = head.encode() + reply.body
        if not reply.drip_head:
            self.wfile.write(head.encode())
            slow = reply.body
        for byte in slow:
            if stopping.wait(reply.drip_interval):
                return
            self.wfile.write(bytes([byte]))
            self.wfile.flush()

    def _stream(self, size: int) -> None:
        chunk = b"x" * 65536
        sent = 0
        while sent < size and not self.server.owner._stopping.is_set():
            piece = chunk[: size - sent]
            self.wfile.write(piece)
            sent += len(piece)


@pytest.fixture
def local_server() -> Iterator[LocalServer]:
    """A started LocalServer, stopped after the test. Import it into a test module to use it."""
    with LocalServer() as server:
        yield server
