"""One HTTP request of the Fetcher: a per-host concurrency slot, a start time from the limiter,
the request under its deadline, the response's bounds and advice checked, the body read."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

import httpx

from ._failure import AttemptFailed
from .advertised import ServerAdvice, read_advice
from .body import accept_encoding, content_encodings, read_bounded
from .errors import FetchTimeout, HTTPStatusError, ResponseTooLarge, TransportFailure
from .limiter import Reservation, ServerCooldown
from .settings import FetchSettings
from .transport import TOTAL_LIMIT_REASON, request_deadline
from .urls import host_key

if TYPE_CHECKING:
    from ..errors import Deferred
    from .budgets import Rate
    from .clock import Clock
    from .limiter import Limiter
    from .redact import Redactor
    from .transport import DevCache

RETRY_STATUSES = frozenset({408, 429, 500, 502, 503, 504})
REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})
_ACCEPT_ENCODING = accept_encoding()
# httpx's protocol errors that say the connection dropped (a keep-alive race, a truncated body):
# worth another attempt. Any other protocol error is a malformed answer, the same every time.
_CONNECTION_DROPPED = ("disconnected", "closed")
_MAX_HEAD = 100 * 1024  # httpcore's limit on a response's status line and headers (h11's)


class _HostGate:
    """At most `limit` requests in flight to one host, across threads."""

    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._in_flight = 0

    def enter(self, limit: int, check_stop: Callable[[], None]) -> None:
        with self._cond:
            while self._in_flight >= limit:
                self._cond.wait()
                check_stop()  # woken by the fetcher's abort
            self._in_flight += 1

    def wake_all(self) -> None:
        with self._cond:
            self._cond.notify_all()

    def leave(self) -> None:
        with self._cond:
            self._in_flight -= 1
            self._cond.notify()


@dataclass(frozen=True)
class Hop:
    """One request of an attempt: the URL asked for, the hop's target (after redirects), the
    headers, the source's settings, the URL's deadline (clock time) and whether a body cut
    short by the server counts as a retryable truncation."""

    url: str
    target: httpx.URL
    headers: dict[str, str]
    settings: FetchSettings
    url_deadline: float
    truncate: bool


class Host(Protocol):
    """What a `Sender` needs of the fetcher it sends for (`harvester.fetch.client.Fetcher`):
    its HTTP client, cache, clock, limiter and redactor, and the calls below."""

    http: httpx.Client
    cache: DevCache | None
    clock: Clock
    limiter: Limiter
    redactor: Redactor

    def budget_for(self, target: httpx.URL, s: FetchSettings) -> tuple[str, list[Rate], float]: ...

    def defer_host(self, url: str, target: httpx.URL, seconds: float, reason: str) -> Deferred: ...

    def check_stop(self) -> None: ...

    def pause(self, seconds: float) -> None: ...

    def count(self, **amounts: float) -> None: ...


class Sender:
    """Sends the requests of a `Host` (its fetcher): per-host concurrency slots, the limiter's
    start times, each request under its deadline, its bounds and the server's advice."""

    def __init__(self, fetcher: Host):
        self._fetcher = fetcher
        self._lock = threading.Lock()
        self._gates: dict[str, _HostGate] = {}

    def send(self, hop: Hop) -> tuple[int, dict[str, str], bytes]:
        """One request (a hop of a URL): status, headers (lower-case, no set-cookie) and the
        decoded body. Raises AttemptFailed, or Deferred for the host."""
        cache = self._fetcher.cache
        if cache is not None and cache.has(str(hop.target)):  # replayed: no budget, no slot
            return self._request(hop, None)
        gate = self._gate(host_key(hop.target))
        gate.enter(hop.settings.per_host_concurrency, self._fetcher.check_stop)
        try:
            return self._request(hop, self._wait_for_slot(hop.url, hop.target, hop.settings))
        finally:
            gate.leave()

    def _wait_for_slot(
        self, url: str, target: httpx.URL, s: FetchSettings
    ) -> tuple[str, Reservation]:
        fetcher = self._fetcher
        key, rates, interval = fetcher.budget_for(target, s)
        now = fetcher.clock.monotonic()
        try:
            reservation = fetcher.limiter.reserve(
                key, rates, interval, now=now, max_cooldown=s.retry_after_cap
            )
        except ServerCooldown as cooldown:
            raise fetcher.defer_host(url, target, cooldown.until - now, cooldown.reason) from None
        wait = reservation.start - fetcher.clock.monotonic()
        if wait > 0:
            fetcher.count(throttled_seconds=wait)
            fetcher.pause(wait)
        return key, reservation

    def _request(
        self, hop: Hop, slot: tuple[str, Reservation] | None
    ) -> tuple[int, dict[str, str], bytes]:
        """The request itself; `slot` is its limiter key and reservation (None: from cache)."""
        fetcher = self._fetcher
        target, headers, s = hop.target, hop.headers, hop.settings
        # the socket deadline is real time (the network is real), the URL deadline clock time
        left_for_url = hop.url_deadline - fetcher.clock.monotonic()
        at = time.monotonic() + min(s.request_deadline, max(left_for_url, 0.001))
        extensions = fetcher.cache.extensions(str(target)) if fetcher.cache else None
        received = 0
        try:
            with (
                request_deadline(at),
                fetcher.http.stream(
                    "GET",
                    target,
                    headers={"accept-encoding": _ACCEPT_ENCODING, **headers},
                    timeout=httpx.Timeout(s.timeout),
                    extensions=extensions,
                ) as response,
            ):
                fetcher.count(requests=0 if slot is None else 1)  # a replay asks no one
                try:
                    response_headers, content = self._read(hop, response, slot)
                finally:
                    received = response.num_bytes_downloaded
        except httpx.TransportError as exc:
            fetcher.check_stop()  # a socket shut down by `abort`: the run stops, no retry
            raise self._failure(exc, at, s) from exc
        finally:
            fetcher.count(bytes=received)
        return response.status_code, response_headers, content

    @staticmethod
    def _failure(exc: httpx.TransportError, at: float, s: FetchSettings) -> AttemptFailed:
        """What a transport error means for the attempt."""
        if isinstance(exc, httpx.TimeoutException):
            # a socket timeout shortened to the time left counts as the deadline's cut
            cut = TOTAL_LIMIT_REASON in str(exc) or time.monotonic() >= at - 0.05
            reason = (
                f"cut off at the time limit (request_deadline {s.request_deadline:g} s, "
                f"URL deadline {s.deadline:g} s)"
                if cut
                else f"{type(exc).__name__}: {str(exc) or 'no detail'}"
            )
            return AttemptFailed(reason, kind=FetchTimeout, retryable=not cut)
        reason = f"{type(exc).__name__}: {str(exc) or 'no detail'}"
        if isinstance(exc, httpx.RemoteProtocolError) and not any(
            word in str(exc) for word in _CONNECTION_DROPPED
        ):  # a malformed answer: asking again gets the same one
            if "Receive buffer too long" in str(exc):
                reason = f"response headers over {_MAX_HEAD // 1024} KiB ({reason})"
                return AttemptFailed(reason, kind=ResponseTooLarge)
            return AttemptFailed(f"malformed response: {reason}", kind=TransportFailure)
        return AttemptFailed(reason, kind=TransportFailure, retryable=True)

    def _read(
        self, hop: Hop, response: httpx.Response, slot: tuple[str, Reservation] | None
    ) -> tuple[dict[str, str], bytes]:
        """The response checked (header caps, advice, status) and its body read within bounds."""
        fetcher = self._fetcher
        url, target, s = hop.url, hop.target, hop.settings
        response_headers = self._check_headers(response, s)
        advice = read_advice(response_headers, fetcher.clock.now())
        if advice and slot is not None:
            fetcher.limiter.learn(slot[0], advice, slot[1].ticket, now=fetcher.clock.monotonic())
        self._check_status(url, target, response, advice, s, slot)
        if response.status_code in REDIRECT_STATUSES:
            return response_headers, b""
        content = read_bounded(
            response.iter_raw(),
            content_encodings(response_headers.get("content-encoding", "")),
            s.max_bytes,
            status=response.status_code,
            truncate=hop.truncate,
        )
        return response_headers, content

    def _check_headers(self, response: httpx.Response, s: FetchSettings) -> dict[str, str]:
        """The response headers, lower-case and joined; fails beyond the header/cookie caps.
        Cookie values become secrets for the redactor; `set-cookie` is not passed on."""
        raw = response.headers.raw
        if len(raw) > s.max_headers:
            raise AttemptFailed(
                f"response has {len(raw)} header lines, more than max_headers {s.max_headers}",
                response.status_code,
                kind=ResponseTooLarge,
            )
        cookies = response.headers.get_list("set-cookie")
        self._fetcher.redactor.add(*(_cookie_value(c) for c in cookies))
        if s.cookies and len(cookies) > s.max_cookies:
            raise AttemptFailed(
                f"response sets {len(cookies)} cookies, more than max_cookies {s.max_cookies}",
                response.status_code,
                kind=ResponseTooLarge,
            )
        return {
            name: ", ".join(response.headers.get_list(name))
            for name in response.headers.keys()  # noqa: SIM118 (Headers is multi-valued)
            if name != "set-cookie"
        }

    def _check_status(
        self,
        url: str,
        target: httpx.URL,
        response: httpx.Response,
        advice: ServerAdvice,
        s: FetchSettings,
        slot: tuple[str, Reservation] | None,
    ) -> None:
        """AttemptFailed for an error status; a server-asked wait beyond the cap defers the
        host, a shorter one holds every request to the budget until it is over."""
        status = response.status_code
        if status < 400:
            return
        reason = f"HTTP {status} {response.reason_phrase}".rstrip()
        if status not in RETRY_STATUSES:
            raise AttemptFailed(reason, status, kind=HTTPStatusError)
        wait = advice.retry_after
        if wait is None and status == 429 and advice.remaining == 0:
            wait = advice.reset
        fetcher = self._fetcher
        if wait is not None and wait > s.retry_after_cap:
            why = f"{reason} asking to wait {wait:.0f} s (more than retry_after_cap)"
            raise fetcher.defer_host(url, target, wait, why)
        if wait is not None and slot is not None:
            fetcher.limiter.pause(slot[0], fetcher.clock.monotonic() + wait, reason)
        raise AttemptFailed(reason, status, kind=HTTPStatusError, retryable=True, retry_after=wait)

    def wake_all(self) -> None:
        """Wake every thread waiting for a host's concurrency slot (the fetcher stops)."""
        with self._lock:
            gates = list(self._gates.values())
        for gate in gates:
            gate.wake_all()

    def _gate(self, host: str) -> _HostGate:
        with self._lock:
            gate = self._gates.get(host)
            if gate is None:
                gate = self._gates[host] = _HostGate()
            return gate


def _cookie_value(set_cookie: str) -> str:
    return set_cookie.split(";", 1)[0].partition("=")[2]
