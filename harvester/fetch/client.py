"""The run's one HTTP client: polite, retrying, size-capped and replayable from vcrpy cassettes.

A sync `httpx.Client` shared by a small thread pool (vcrpy patches `httpx.HTTPTransport`, so
cassettes record and replay it). Retries go through tenacity only: transport errors and the
statuses in `RETRY_STATUSES`, exponential backoff with jitter or the server's `Retry-After`,
bounded by `max_attempts` and the per-URL `deadline`. Politeness is per host: a cap on requests
in flight and a minimum interval between request starts. Redirects are followed by hand so each
hop can be checked against the `redirects` policy and pass through the host's politeness gate.
"""

from __future__ import annotations

import datetime as dt
import email.utils
import json
import logging
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from ipaddress import ip_address
from typing import Any

import httpx
import tenacity

from ..errors import FetchError, InputError
from .settings import FetchSettings

log = logging.getLogger("harvester.fetch")
# httpcore's debug trace prints raw request and response headers (Authorization, Set-Cookie):
# `-vv` must never put secrets in a log, so it stays quiet below INFO.
logging.getLogger("httpcore").setLevel(logging.INFO)

RETRY_STATUSES = frozenset({408, 429, 500, 502, 503, 504})
REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})
MAX_REDIRECTS = 5
DEFAULT_WORKERS = 8  # loopback measurements: httpx is fastest at ~8 concurrent requests
# Headers that must not follow a redirect to another host (httpx drops them the same way).
_CREDENTIAL_HEADERS = frozenset({"authorization", "proxy-authorization", "cookie"})
# Second-level labels under a country code that are not registrable on their own (co.uk, ac.jp).
_GENERIC_SECOND_LEVEL = frozenset({"ac", "co", "com", "edu", "gov", "net", "or", "org", "ne"})


@dataclass(frozen=True)
class Response:
    """A fetched response, body fully read. `headers` has lower-case keys."""

    url: str  # as requested
    final_url: str  # after redirects
    status: int
    headers: dict[str, str]
    content: bytes

    def text(self) -> str:
        charset = "utf-8"
        for param in self.headers.get("content-type", "").split(";")[1:]:
            name, _, value = param.strip().partition("=")
            if name.lower() == "charset" and value:
                charset = value.strip("\"'")
        try:
            return self.content.decode(charset, errors="replace")
        except LookupError:  # unknown charset name: utf-8 is the web's default
            return self.content.decode("utf-8", errors="replace")

    def json(self) -> Any:
        """The body as JSON; invalid JSON is an `InputError` naming the URL."""
        try:
            return json.loads(self.content)
        except ValueError as exc:
            raise InputError(self.final_url, f"invalid JSON: {exc}") from exc


@dataclass(frozen=True)
class FetchFailure:
    url: str
    reason: str
    status: int | None


@dataclass
class FetchStats:
    """Counters for the run summary."""

    requests: int = 0  # HTTP requests sent (every attempt and every redirect hop)
    retries: int = 0
    give_ups: int = 0  # URLs that failed, for any reason
    waited_seconds: float = 0.0  # backoff and Retry-After sleeps (not politeness waits)
    bytes: int = 0  # bytes received on the wire
    failures: list[FetchFailure] = field(default_factory=list)

    def summary(self) -> dict[str, Any]:
        """The counters for the run summary (each failed URL is in its source's report)."""
        return {
            "requests": self.requests,
            "retries": self.retries,
            "give_ups": self.give_ups,
            "waited_seconds": round(self.waited_seconds, 3),
            "bytes": self.bytes,
        }


class _Failed(Exception):
    """One attempt failed; `retryable` decides whether tenacity tries again."""

    def __init__(
        self,
        reason: str,
        status: int | None = None,
        *,
        retryable: bool = False,
        retry_after: float | None = None,
    ):
        super().__init__(reason)
        self.reason, self.status = reason, status
        self.retryable, self.retry_after = retryable, retry_after


class _HostGate:
    """Per-host politeness: at most `limit` requests in flight, starts `interval` apart."""

    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._in_flight = 0
        self._next_start = 0.0

    def enter(self, limit: int, interval: float) -> None:
        with self._cond:
            while self._in_flight >= limit:
                self._cond.wait()
            self._in_flight += 1
            now = time.monotonic()
            start = max(now, self._next_start)
            self._next_start = start + interval
        if start > now:
            time.sleep(start - now)

    def leave(self) -> None:
        with self._cond:
            self._in_flight -= 1
            self._cond.notify()


def parse_retry_after(value: str | None, now: dt.datetime | None = None) -> float | None:
    """Seconds to wait from a `Retry-After` value (delta-seconds or HTTP-date); None if unusable."""
    if not value:
        return None
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=dt.UTC)
    now = now or dt.datetime.now(dt.UTC)
    return max(0.0, (when - now).total_seconds())


def registrable_host(host: str) -> str:
    """The site a host belongs to: its last two labels (three under co.uk-style suffixes).

    An approximation of the public-suffix list that is right for the hosts we fetch from; IP
    addresses and single-label names are their own site.
    """
    host = host.lower().rstrip(".")
    try:
        ip_address(host.strip("[]"))
        return host
    except ValueError:
        pass
    labels = host.split(".")
    if len(labels) >= 3 and len(labels[-1]) == 2 and labels[-2] in _GENERIC_SECOND_LEVEL:
        return ".".join(labels[-3:])
    return ".".join(labels[-2:])


def same_site(source: httpx.URL, target: httpx.URL) -> bool:
    """True when a redirect stays on the site and does not downgrade https to http."""
    if source.scheme == "https" and target.scheme != "https":
        return False
    return registrable_host(source.host) == registrable_host(target.host)


class Fetcher:
    """The one HTTP client of a run. Thread-safe; `close()` it (or use it as a context manager).

    `sleep` is what retry waits call (injectable so tests need not sleep); politeness waits
    always use real time. `workers` is the thread-pool size of `get_many`.
    """

    def __init__(
        self,
        settings: FetchSettings | None = None,
        *,
        transport: httpx.BaseTransport | None = None,
        sleep: Callable[[float], None] = time.sleep,
        workers: int = DEFAULT_WORKERS,
    ):
        self.settings = settings or FetchSettings()
        self.stats = FetchStats()
        self._sleep_fn = sleep
        self._workers = max(1, workers)
        self._client = httpx.Client(
            transport=transport,
            timeout=httpx.Timeout(self.settings.timeout),
            follow_redirects=False,  # done by hand: each hop is checked and rate-limited
            limits=httpx.Limits(max_connections=None, max_keepalive_connections=self._workers),
        )
        self._lock = threading.Lock()
        self._gates: dict[str, _HostGate] = {}
        self._executor: ThreadPoolExecutor | None = None
        self._deferrals: dict[str, dt.datetime] = {}
        self._closed = False

    # -- public API --------------------------------------------------------------------------

    def get(
        self,
        url: str,
        *,
        headers: dict[str, str] | None = None,
        settings: FetchSettings | None = None,
    ) -> Response:
        """GET `url` with retries; raises `FetchError`. A 304 is returned, not raised."""
        s = settings or self.settings
        request_headers = {"user-agent": s.user_agent, **s.headers, **(headers or {})}
        attempts = 0

        def attempt() -> Response:
            nonlocal attempts
            attempts += 1
            return self._attempt(url, request_headers, s)

        retrying = tenacity.Retrying(
            stop=tenacity.stop_after_attempt(s.max_attempts)
            | tenacity.stop_before_delay(s.deadline),
            wait=_retry_wait(s),
            retry=tenacity.retry_if_exception(
                lambda exc: isinstance(exc, _Failed) and exc.retryable
            ),
            sleep=self._sleep,
            before_sleep=lambda state: self._log_retry(url, state, s),
            reraise=True,
        )
        try:
            return retrying(attempt)
        except _Failed as failed:
            error = FetchError(
                url, _give_up_reason(failed, attempts, s), status=failed.status, attempts=attempts
            )
        self._record_failure(error)
        raise error

    def get_many(
        self, urls: Iterable[str], *, settings: FetchSettings | None = None
    ) -> Iterator[tuple[str, Response | FetchError]]:
        """Fetch concurrently; yield `(url, Response or FetchError)` in input order.

        At most `4 * workers` URLs are in flight or waiting to be yielded, so memory stays flat
        however long `urls` is. Abandoning the iterator cancels the URLs not yet started.
        """
        pool = self._pool()
        window = 4 * self._workers
        pending: deque[tuple[str, Future[Response | FetchError]]] = deque()
        remaining = iter(urls)

        def refill() -> None:
            while len(pending) < window:
                url = next(remaining, None)
                if url is None:
                    return
                pending.append((url, pool.submit(self._get_or_error, url, settings)))

        try:
            refill()
            while pending:
                url, future = pending.popleft()
                refill()  # keep the workers busy while the caller handles this result
                yield url, future.result()
        finally:
            for _, future in pending:
                future.cancel()

    def defer(self, host: str, until: dt.datetime) -> None:
        """Requests to `host` wait until `until` (raise `Deferred` before then)."""
        with self._lock:
            self._deferrals[host] = until

    def deferrals(self) -> dict[str, dt.datetime]:
        with self._lock:
            return dict(self._deferrals)

    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        if self._executor is not None:
            self._executor.shutdown(wait=True, cancel_futures=True)
        self._client.close()

    def __enter__(self) -> Fetcher:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    # -- one attempt -------------------------------------------------------------------------

    def _attempt(self, url: str, headers: dict[str, str], s: FetchSettings) -> Response:
        """One attempt: the request and up to MAX_REDIRECTS redirect hops."""
        current = httpx.URL(url)
        if current.scheme not in ("http", "https"):
            raise _Failed(f"unsupported URL scheme {current.scheme!r}")
        for _hop in range(MAX_REDIRECTS + 1):
            try:
                status, response_headers, content = self._send(current, headers, s)
            except _Failed as failed:
                if current != httpx.URL(url):  # say where in the redirect chain it failed
                    failed.reason += f" at {current}"
                raise
            if status not in REDIRECT_STATUSES:
                return Response(url, str(current), status, response_headers, content)
            location = response_headers.get("location")
            if not location:
                raise _Failed(f"HTTP {status} redirect without Location from {current}", status)
            target = current.join(location)
            if s.redirects == "none":
                raise _Failed(
                    f"redirect from {current} to {target} not followed (redirects = none)"
                )
            if s.redirects == "same-site" and not same_site(current, target):
                raise _Failed(
                    f"off-site redirect from {current} to {target} refused (redirects = same-site)",
                    status,
                )
            if target.host != current.host:
                headers = {k: v for k, v in headers.items() if k.lower() not in _CREDENTIAL_HEADERS}
            current = target
        raise _Failed(f"more than {MAX_REDIRECTS} redirects, last to {current}")

    def _send(
        self, url: httpx.URL, headers: dict[str, str], s: FetchSettings
    ) -> tuple[int, dict[str, str], bytes]:
        """One HTTP request through the host's politeness gate; the body read under the cap."""
        gate = self._gate(url.netloc.decode("ascii"))
        gate.enter(s.per_host_concurrency, s.min_interval)
        received = 0
        try:
            with self._client.stream(
                "GET", url, headers=headers, timeout=httpx.Timeout(s.timeout)
            ) as response:
                self._count(requests=1)
                try:
                    status = response.status_code
                    response_headers = {
                        name: ", ".join(response.headers.get_list(name))
                        for name in response.headers.keys()  # noqa: SIM118 (Headers is multi-valued)
                    }
                    _check_status(response, s)
                    content = b"" if status in REDIRECT_STATUSES else _read_capped(response, s)
                finally:
                    received = response.num_bytes_downloaded
        except httpx.TransportError as exc:
            raise _Failed(
                f"{type(exc).__name__}: {str(exc) or 'no detail'}", retryable=True
            ) from exc
        finally:
            gate.leave()
            self._count(bytes=received)
        return status, response_headers, content

    # -- bookkeeping -------------------------------------------------------------------------

    def _get_or_error(self, url: str, settings: FetchSettings | None) -> Response | FetchError:
        try:
            return self.get(url, settings=settings)
        except FetchError as error:
            return error

    def _pool(self) -> ThreadPoolExecutor:
        with self._lock:
            if self._closed:
                raise RuntimeError("Fetcher is closed")
            if self._executor is None:
                self._executor = ThreadPoolExecutor(self._workers, "harvester-fetch")
            return self._executor

    def _gate(self, host: str) -> _HostGate:
        with self._lock:
            gate = self._gates.get(host)
            if gate is None:
                gate = self._gates[host] = _HostGate()
            return gate

    def _count(self, *, requests: int = 0, bytes: int = 0) -> None:
        with self._lock:
            self.stats.requests += requests
            self.stats.bytes += bytes

    def _sleep(self, seconds: float) -> None:
        with self._lock:
            self.stats.waited_seconds += seconds
        self._sleep_fn(seconds)

    def _log_retry(self, url: str, state: tenacity.RetryCallState, s: FetchSettings) -> None:
        with self._lock:
            self.stats.retries += 1
        exc = state.outcome.exception() if state.outcome else None
        reason = exc.reason if isinstance(exc, _Failed) else repr(exc)
        wait = state.next_action.sleep if state.next_action else 0.0
        log.warning(
            "retry %d/%d of %s after %s; waiting %.2f s",
            state.attempt_number,
            s.max_attempts - 1,
            url,
            reason,
            wait,
        )

    def _record_failure(self, error: FetchError) -> None:
        with self._lock:
            self.stats.give_ups += 1
            self.stats.failures.append(FetchFailure(error.url, error.reason, error.status))
        log.warning(
            "giving up on %s after %d attempt(s): %s", error.url, error.attempts, error.reason
        )


def _retry_wait(s: FetchSettings) -> Callable[[tenacity.RetryCallState], float]:
    """The server's Retry-After when it sent one, else exponential backoff with jitter."""
    # backoff_initial * 2**(n-1), capped, plus up to backoff_initial of jitter
    backoff = tenacity.wait_exponential(
        multiplier=s.backoff_initial, max=s.backoff_max
    ) + tenacity.wait_random(0, s.backoff_initial)

    def wait(state: tenacity.RetryCallState) -> float:
        exc = state.outcome.exception() if state.outcome else None
        if isinstance(exc, _Failed) and exc.retry_after is not None:
            return exc.retry_after
        return backoff(state)

    return wait


def _check_status(response: httpx.Response, s: FetchSettings) -> None:
    """Raise `_Failed` for an error status: retryable ones may carry a Retry-After."""
    status = response.status_code
    if status < 400:
        return
    reason = f"HTTP {status} {response.reason_phrase}".rstrip()
    if status not in RETRY_STATUSES:
        raise _Failed(reason, status)
    retry_after = parse_retry_after(response.headers.get("retry-after"))
    if retry_after is not None and retry_after > s.retry_after_cap:
        raise _Failed(
            f"Retry-After {retry_after:.0f} s exceeds cap {s.retry_after_cap:g} s ({reason})",
            status,
        )
    raise _Failed(reason, status, retryable=True, retry_after=retry_after)


def _read_capped(response: httpx.Response, s: FetchSettings) -> bytes:
    """The decoded body, aborting as soon as it grows past `max_bytes`."""
    too_big = f"response exceeds max_bytes {s.max_bytes}"
    declared = response.headers.get("content-length", "")
    if (
        declared.isdigit()
        and int(declared) > s.max_bytes
        and "content-encoding" not in response.headers
    ):
        raise _Failed(too_big, response.status_code)
    chunks: list[bytes] = []
    size = 0
    for chunk in response.iter_bytes():
        size += len(chunk)
        if size > s.max_bytes:
            raise _Failed(too_big, response.status_code)
        chunks.append(chunk)
    return b"".join(chunks)


def _give_up_reason(failed: _Failed, attempts: int, s: FetchSettings) -> str:
    if not failed.retryable:
        return failed.reason
    if attempts < s.max_attempts:
        return f"{failed.reason}; deadline {s.deadline:g} s reached after {attempts} attempt(s)"
    return f"{failed.reason} (gave up after {attempts} attempts)"


class SharedClient:
    """The run's one `Fetcher`, built on first use (offline runs never build one) and shared
    by every source context; `close()` it when the run ends. Host deferrals restored from the
    run state are handed to the fetcher when it is built."""

    def __init__(self, settings: FetchSettings | None = None, **fetcher_args: Any):
        self.settings = settings or FetchSettings()
        self._fetcher_args = fetcher_args
        self._fetcher: Fetcher | None = None
        self._deferred: dict[str, dt.datetime] = {}
        self._lock = threading.Lock()

    def __call__(self) -> Fetcher:
        with self._lock:
            if self._fetcher is None:
                self._fetcher = Fetcher(self.settings, **self._fetcher_args)
                for host, until in self._deferred.items():
                    self._fetcher.defer(host, until)
            return self._fetcher

    def defer_hosts(self, deferrals: dict[str, dt.datetime]) -> None:
        """Hosts that asked us to wait until a time (from the run state)."""
        with self._lock:
            self._deferred.update(deferrals)
            if self._fetcher is not None:
                for host, until in deferrals.items():
                    self._fetcher.defer(host, until)

    def deferrals(self) -> dict[str, dt.datetime]:
        """Every host deferral known now: restored ones and those this run met."""
        with self._lock:
            found = dict(self._deferred)
            if self._fetcher is not None:
                found.update(self._fetcher.deferrals())
            return found

    def summary(self) -> dict[str, Any] | None:
        """The fetcher's counters, or None when the run never needed one."""
        return self._fetcher.stats.summary() if self._fetcher is not None else None

    def close(self) -> None:
        with self._lock:
            if self._fetcher is not None:
                self._fetcher.close()
                self._fetcher = None
