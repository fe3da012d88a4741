"""The HTTP transport: httpx's own, with every socket operation bounded by a per-request
wall-clock deadline, the proxies of the environment, and optionally the development cache
(hishel) in front of it.

httpx's timeouts are per operation: a server sending one byte every second never trips a 5 s
read timeout and held a URL for 405 s. Here each socket read, write, connect and TLS handshake
gets at most the time left before the deadline of the request running on this thread (set with
`request_deadline()`), so a slow sender is cut mid-headers or mid-body when its time is up.
`DeadlineBackend.abort()` shuts down every socket it opened, so a stop (SIGTERM) ends the
requests in flight at once instead of after their deadline.

Proxies: httpx reads `HTTP_PROXY`/`HTTPS_PROXY`/`ALL_PROXY`/`NO_PROXY` only when it builds its
own transport; ours is built here, so `proxy_mounts()` applies the same rules (httpx's own
reading of the environment) with a deadline-bounded transport per proxy.
"""

from __future__ import annotations

import contextlib
import dataclasses
import functools
import hashlib
import socket
import ssl
import threading
import time
import weakref
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpcore
import httpx

_local = threading.local()  # the deadline (time.monotonic()) of this thread's request
TOTAL_LIMIT_REASON = "request deadline passed"


@contextlib.contextmanager
def request_deadline(at: float) -> Iterator[None]:
    """Bound every socket operation of this thread's requests until `at` (time.monotonic())."""
    previous = getattr(_local, "at", None)
    _local.at = at
    try:
        yield
    finally:
        _local.at = previous


def _bounded(timeout: float | None, error: type[Exception]) -> float | None:
    at = getattr(_local, "at", None)
    if at is None:
        return timeout
    left = at - time.monotonic()
    if left <= 0:
        raise error(TOTAL_LIMIT_REASON)
    return left if timeout is None else min(timeout, left)


class _DeadlineStream(httpcore.NetworkStream):
    def __init__(self, stream: httpcore.NetworkStream, backend: DeadlineBackend):
        self._stream, self._backend = stream, backend
        backend.track(self)

    def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        return self._stream.read(max_bytes, _bounded(timeout, httpcore.ReadTimeout))

    def write(self, buffer: bytes, timeout: float | None = None) -> None:
        self._stream.write(buffer, _bounded(timeout, httpcore.WriteTimeout))

    def close(self) -> None:
        self._stream.close()

    def shut_down(self) -> None:
        """Wake whatever waits on the socket (a read in another thread): close() would not."""
        sock = self._stream.get_extra_info("socket")
        if sock is not None:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)

    def start_tls(
        self, ssl_context: Any, server_hostname: str | None = None, timeout: float | None = None
    ) -> httpcore.NetworkStream:
        bounded = _bounded(timeout, httpcore.ConnectTimeout)
        tls = self._stream.start_tls(ssl_context, server_hostname, bounded)
        return _DeadlineStream(tls, self._backend)

    def get_extra_info(self, info: str) -> Any:
        return self._stream.get_extra_info(info)


class DeadlineBackend(httpcore.NetworkBackend):
    """httpcore's sockets, each operation bounded by the request's deadline; `abort()` shuts
    down every socket open and refuses new ones (one backend per Fetcher, for all its
    transports)."""

    def __init__(self) -> None:
        self._backend = httpcore.SyncBackend()
        self._streams: weakref.WeakSet[_DeadlineStream] = weakref.WeakSet()
        self._lock = threading.Lock()
        self.aborted = False

    def track(self, stream: _DeadlineStream) -> None:
        with self._lock:
            self._streams.add(stream)
        if self.aborted:  # opened while the abort ran
            stream.shut_down()

    def abort(self) -> None:
        self.aborted = True
        with self._lock:
            streams = list(self._streams)
        for stream in streams:
            stream.shut_down()

    def _refuse_when_aborted(self) -> None:
        if self.aborted:
            raise httpcore.ConnectError("the run is stopping")

    def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Any = None,
    ) -> httpcore.NetworkStream:
        self._refuse_when_aborted()
        bounded = _bounded(timeout, httpcore.ConnectTimeout)
        stream = self._backend.connect_tcp(host, port, bounded, local_address, socket_options)
        return _DeadlineStream(stream, self)

    def connect_unix_socket(
        self, path: str, timeout: float | None = None, socket_options: Any = None
    ) -> httpcore.NetworkStream:
        self._refuse_when_aborted()
        bounded = _bounded(timeout, httpcore.ConnectTimeout)
        stream = self._backend.connect_unix_socket(path, bounded, socket_options)
        return _DeadlineStream(stream, self)

    def sleep(self, seconds: float) -> None:
        self._backend.sleep(seconds)


@functools.cache
def _tls_context() -> ssl.SSLContext:
    """httpx's default certificate verification, built once per process: loading the CA bundle
    takes ~40 ms, which a worker building a fetcher per job paid every time. A context is safe
    to share between connections and threads."""
    return httpx.create_ssl_context()


def deadline_transport(
    keepalive: int, backend: DeadlineBackend, proxy: str | None = None
) -> httpx.HTTPTransport:
    """httpx's transport (through `proxy` if given) on the deadline-bounded `backend`.

    httpx has no public argument for the backend, so it is set on the transport's connection
    pool; the assertion makes an httpx/httpcore upgrade that moves it fail loudly, and
    tests/test_fetch_bounds.py fails if slow senders stop being cut."""
    transport = httpx.HTTPTransport(
        verify=_tls_context(),
        limits=httpx.Limits(max_connections=None, max_keepalive_connections=keepalive),
        proxy=proxy,
    )
    pool = transport._pool
    assert isinstance(pool, httpcore.ConnectionPool) and hasattr(pool, "_network_backend")
    pool._network_backend = backend
    return transport


def proxy_mounts(
    keepalive: int, backend: DeadlineBackend
) -> tuple[dict[str, httpx.HTTPTransport | None], list[str]]:
    """httpx `mounts` for the proxies the environment names (`HTTP_PROXY`, `HTTPS_PROXY`,
    `ALL_PROXY`, `NO_PROXY`, read as httpx reads them with `trust_env`): a transport per proxy
    URL pattern, None (no proxy) for the hosts `NO_PROXY` exempts; and the proxies' passwords
    (`http://user:password@proxy:3128`), for the redactor."""
    from httpx._utils import get_environment_proxies  # httpx's own reading (trust_env)

    proxies = get_environment_proxies()
    mounts = {
        pattern: None if url is None else deadline_transport(keepalive, backend, url)
        for pattern, url in proxies.items()
    }
    passwords = [httpx.URL(url).password for url in proxies.values() if url]
    return mounts, [p for p in passwords if p]


class DevCache:
    """The development cache: hishel's SQLite storage in `directory`, in front of the network.

    Store-and-replay, not RFC 9111 revalidation: a parser author re-runs against the stored
    responses without touching the site (revalidation would ask the site again on every run
    for pages that say `no-cache`). Successful GETs are stored, keyed by URL. hishel passes the
    raw stream through while it stores it, so the body bounds apply to the network read and to
    every replay. The Fetcher asks `has(url)` first: a stored URL skips budgets and robots.txt.
    A request is stored with harmless headers only (`STORED_REQUEST_HEADERS`): no configured
    header value (a token, whatever its header's name) is ever written to the cache file.
    """

    def __init__(self, directory: Path):
        directory.mkdir(parents=True, exist_ok=True)
        self.directory = directory
        self._storage = _storage_without_secrets(directory / "http-cache.sqlite")

    def wrap(self, inner: httpx.BaseTransport) -> httpx.BaseTransport:
        from hishel.httpx import CacheTransport

        return CacheTransport(next_transport=inner, storage=self._storage)

    @staticmethod
    def key(url: str) -> str:
        return hashlib.sha256(f"GET {url}".encode()).hexdigest()

    def extensions(self, url: str) -> dict[str, Any]:
        """Request extensions that make hishel store `url` under our key."""
        return {"caching": {"key": self.key(url)}}

    def has(self, url: str) -> bool:
        return any(e.request.method == "GET" for e in self._storage.get_entries(self.key(url)))


# Request headers the cache keeps with a stored response (replay needs none of them): whatever
# else a request carried, configured tokens first (`Authorization`, `Private-Token`, any name),
# never reaches the cache file.
STORED_REQUEST_HEADERS = frozenset({"accept", "accept-encoding", "host", "user-agent"})


def _storage_without_secrets(path: Path) -> Any:
    """hishel's SQLite storage, storing each request with `STORED_REQUEST_HEADERS` only."""
    import hishel

    class Storage(hishel.SqliteStorage):
        def create_entry(self, request, response, key, *, ttl=None, tti=None):
            kept = {k: request.headers.get_list(k) or [] for k in request.headers}
            kept = {k: v for k, v in kept.items() if k.lower() in STORED_REQUEST_HEADERS}
            request = dataclasses.replace(request, headers=hishel.Headers(kept))
            return super().create_entry(request, response, key, ttl=ttl, tti=tti)

    return Storage(database_path=path)
