"""The run's one HTTP client: polite, bounded, retrying, replayable from vcrpy cassettes.

A sync `httpx.Client` shared by the run's worker threads (vcrpy patches `httpx.HTTPTransport`,
so cassettes record and replay it). For each URL, in order: the development cache (if on), the
host's deferral ("not before T"), robots.txt, then attempts with retries (tenacity: transport
errors, timeouts and `RETRY_STATUSES`; backoff with jitter or the server's `Retry-After`,
bounded by `max_attempts` and the URL's `deadline`). Each request first takes a per-host
concurrency slot, then a start time from the limiter (budgets, interval, Crawl-delay, what the
server advertised); its body is read within `request_deadline` and `max_bytes`. Redirects are
followed by hand so each hop is checked against `redirects` and paced like any request.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import logging
import threading
from http.cookiejar import CookieJar, DefaultCookiePolicy
from pathlib import Path
from typing import Any

import httpx
import tenacity

from ..errors import Deferred
from ..signals import StopRequested
from ._failure import AttemptFailed
from .budgets import Rate, match_budget
from .clock import Clock, SystemClock
from .errors import FetchError, RedirectRefused, RobotsDisallowed, RobotsUnreachable
from .hops import checked_url, follow, request_headers
from .limiter import InProcessLimiter, Limiter
from .redact import Redactor
from .response import FetchStats, Response
from .robots import (
    ALLOW_ALL,
    ROBOTS_MAX_BYTES,
    RobotsCache,
    RobotsRules,
    Unreachable,
    parse_robots,
)
from .sending import REDIRECT_STATUSES, Hop, Sender
from .settings import FetchSettings, merge_settings
from .transport import DeadlineBackend, DevCache, deadline_transport, proxy_mounts
from .urls import host_key, origin

log = logging.getLogger("harvester.fetch")
# httpcore's debug trace prints raw request and response headers (Authorization, Set-Cookie):
# `-vv` must never put secrets in a log, so it stays quiet below INFO.
logging.getLogger("httpcore").setLevel(logging.INFO)

MAX_REDIRECTS = 5
KEEPALIVE = 8  # loopback measurements: httpx is fastest at ~8 concurrent requests


class Fetcher:
    """The one HTTP client of a run. Thread-safe; `close()` it (or use it as a context manager).

    `clock` (time, sleeps), `limiter` and `robots` (rules already read) are injectable;
    `redactor` is shared with the core so
    that everything the run writes is redacted alike; `cache_dir` turns on the development
    cache (never on in scheduled runs unless asked: `--cache DIR`). `transport` replaces the
    network (tests); it then carries no request deadline and no cache.
    """

    def __init__(
        self,
        settings: FetchSettings | None = None,
        *,
        transport: httpx.BaseTransport | None = None,
        clock: Clock | None = None,
        limiter: Limiter | None = None,
        redactor: Redactor | None = None,
        cache_dir: str | Path | None = None,
        robots: RobotsCache | None = None,
    ):
        self.settings = settings or FetchSettings()
        self.stats = FetchStats()
        self.clock = clock or SystemClock()
        self.limiter = limiter or InProcessLimiter()
        self.redactor = redactor if redactor is not None else Redactor()
        self.redactor.add_headers(self.settings.headers)
        self.cache = DevCache(Path(cache_dir)) if cache_dir is not None else None
        self._network = DeadlineBackend()
        mounts: dict[str, Any] = {}
        if transport is None:
            transport = deadline_transport(KEEPALIVE, self._network)
            mounts, proxy_passwords = proxy_mounts(KEEPALIVE, self._network)
            self.redactor.add(*proxy_passwords)
            if self.cache is not None:
                transport = self.cache.wrap(transport)
                mounts = {k: v and self.cache.wrap(v) for k, v in mounts.items()}
        self._jar = CookieJar()
        self._jar.set_policy(_CappedCookiePolicy(self._jar, self.settings))
        self.http = httpx.Client(
            transport=transport,
            mounts=mounts,
            timeout=httpx.Timeout(self.settings.timeout),
            follow_redirects=False,  # done by hand: each hop is checked and paced
            cookies=self._jar,
        )
        self._lock = threading.Lock()
        self._deferred: dict[str, tuple[dt.datetime, str]] = {}
        self._robots = robots if robots is not None else RobotsCache()
        self._sender = Sender(self)
        self._closed = False
        self._stop_reason: str | None = None
        self._stopping = threading.Event()

    # -- public API --------------------------------------------------------------------------

    def get(
        self,
        url: str,
        *,
        headers: dict[str, str] | None = None,
        settings: FetchSettings | None = None,
    ) -> Response:
        """GET `url`: a `Response` (a 304 is returned, not raised), a `FetchError` subclass
        saying what failed, or `Deferred` when its host asked us to come back after a time."""
        s = settings or self.settings
        self.redactor.add_headers(s.headers)
        self.check_stop()
        try:
            target = checked_url(url)
            sent_headers = request_headers(s, headers)
            if self.cache is not None and self.cache.has(url):
                return self._from_cache(url, sent_headers, s, target)
            self._check_deferred(url, target)
            if s.robots:
                self._obey_robots(url, target, s)
            return self._with_retries(url, sent_headers, s, target=target)
        except FetchError as error:
            self._record_failure(error)
            raise

    def deferrals(self) -> dict[str, dt.datetime]:
        """Hosts that asked us to wait, and until when (UTC): what the run state keeps."""
        now = self.clock.now()
        with self._lock:
            return {host: until for host, (until, _) in self._deferred.items() if until > now}

    def defer(self, host: str, until: dt.datetime, reason: str = "deferred by an earlier run"):
        """Remember that `host` (as `deferrals()` names it) is not to be asked before `until`:
        its URLs raise `Deferred` at once, without a request. Preloads the run state's."""
        if until.tzinfo is None:
            raise ValueError("defer() needs an aware datetime (UTC)")
        with self._lock:
            known = self._deferred.get(host)
            if known is None or known[0] < until:
                self._deferred[host] = (until, reason)

    def abort(self, reason: str) -> None:
        """Stop: requests in flight end at once (their sockets are shut down), waits (retry
        back-offs, budget and concurrency waits) end, and every call raises `StopRequested`
        from now on. Any thread may call it."""
        self._stop_reason = reason
        self._stopping.set()
        self._network.abort()
        self._sender.wake_all()

    def check_stop(self) -> None:
        """Raise `StopRequested` once `abort` was called."""
        if self._stop_reason is not None:
            raise StopRequested(self._stop_reason)

    def pause(self, seconds: float) -> None:
        """Sleep `seconds` on the fetcher's clock; `abort` cuts it short (`StopRequested`)."""
        if type(self.clock) is SystemClock:
            self._stopping.wait(max(seconds, 0.0))
        else:  # an injected clock (tests) keeps its own time
            self.clock.sleep(seconds)
        self.check_stop()

    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        self.http.close()

    def __enter__(self) -> Fetcher:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    # -- before any request ------------------------------------------------------------------

    def _check_deferred(self, url: str, target: httpx.URL) -> None:
        host = host_key(target)
        with self._lock:
            known = self._deferred.get(host)
        if known is not None and self.clock.now() < known[0]:
            self.count(deferred=1)
            raise Deferred(url, known[0], known[1])

    def defer_host(self, url: str, target: httpx.URL, seconds: float, reason: str) -> Deferred:
        """Defer `target`'s host for `seconds` from now; the `Deferred` to raise for `url`."""
        until = self.clock.now() + dt.timedelta(seconds=seconds)
        reason = self.redactor(reason)
        self.defer(host_key(target), until, reason)
        self.count(deferred=1)
        log.warning("deferring %s until %s: %s", host_key(target), until.isoformat(), reason)
        return Deferred(url, until, reason)

    def _obey_robots(self, url: str, target: httpx.URL, s: FetchSettings) -> None:
        try:
            rules = self._robots.rules(origin(target), lambda: self._read_robots(target, s))
        except Unreachable as exc:
            raise RobotsUnreachable(url, f"{exc}: disallowed for this run (RFC 9309)") from None
        if not rules.allows(url, s.user_agent):
            raise RobotsDisallowed(url, f"disallowed by {rules.source}")

    def _read_robots(self, target: httpx.URL, s: FetchSettings) -> RobotsRules:
        robots_url = origin(target) + "/robots.txt"
        quiet = merge_settings(
            s, {"robots": False, "redirects": "any", "max_bytes": ROBOTS_MAX_BYTES}
        )
        try:
            response = self._with_retries(robots_url, request_headers(s, None), quiet, True)
        except FetchError as error:
            status = error.status
            if status is not None and 400 <= status < 500 and status != 429:
                return ALLOW_ALL  # RFC 9309 "unavailable": no rules
            raise Unreachable(f"robots.txt unreachable: {error.reason}") from None
        return parse_robots(response.text(), robots_url)

    def robots_rules(self, target: httpx.URL) -> RobotsRules | None:
        """The known robots.txt rules of `target`'s origin (None before they are read)."""
        return self._robots.known(origin(target))

    # -- attempts ----------------------------------------------------------------------------

    def _with_retries(
        self,
        url: str,
        headers: dict[str, str],
        s: FetchSettings,
        truncate: bool = False,
        target: httpx.URL | None = None,
    ) -> Response:
        attempts = 0
        url_deadline = self.clock.monotonic() + s.deadline
        start = target if target is not None else httpx.URL(url)  # parsing costs ~0.1 ms

        def attempt() -> Response:
            nonlocal attempts
            attempts += 1
            self.check_stop()
            try:
                return self._attempt(url, start, headers, s, url_deadline, truncate)
            except AttemptFailed:
                self.check_stop()  # failed because the run is stopping: no retry
                raise

        retrying = tenacity.Retrying(
            stop=tenacity.stop_after_attempt(s.max_attempts)
            | tenacity.stop_before_delay(s.deadline),
            wait=_retry_wait(s),
            retry=tenacity.retry_if_exception(
                lambda exc: isinstance(exc, AttemptFailed) and exc.retryable
            ),
            sleep=self._sleep,
            before_sleep=lambda state: self._log_retry(url, state, s),
            reraise=True,
        )
        try:
            return retrying(attempt)
        except AttemptFailed as failed:
            reason = self.redactor(_give_up_reason(failed, attempts, s))
            raise failed.kind(url, reason, status=failed.status, attempts=attempts) from None

    def _attempt(
        self,
        url: str,
        start: httpx.URL,
        headers: dict[str, str],
        s: FetchSettings,
        deadline: float,
        truncate: bool,
    ) -> Response:
        """One attempt: the request and up to MAX_REDIRECTS redirect hops."""
        current = start
        for _hop in range(MAX_REDIRECTS + 1):
            try:
                status, response_headers, content = self._sender.send(
                    Hop(url, current, headers, s, deadline, truncate)
                )
            except AttemptFailed as failed:
                if current != start:  # say where in the redirect chain it failed
                    failed.reason += f" at {current}"
                raise
            if status not in REDIRECT_STATUSES:
                return Response(url, str(current), status, response_headers, content)
            current, headers = follow(current, status, response_headers, headers, s)
        raise AttemptFailed(
            f"more than {MAX_REDIRECTS} redirects, last to {current}", kind=RedirectRefused
        )

    def _from_cache(
        self, url: str, headers: dict[str, str], s: FetchSettings, target: httpx.URL
    ) -> Response:
        response = self._with_retries(url, headers, s, target=target)
        self.count(cache_hits=1)
        return dataclasses.replace(response, from_cache=True)

    # -- bookkeeping -------------------------------------------------------------------------

    def budget_for(self, target: httpx.URL, s: FetchSettings) -> tuple[str, list[Rate], float]:
        """The limiter key of `target`, its rates and minimum interval: the matching budget,
        raised by the origin's robots.txt `Request-rate` and `Crawl-delay`."""
        matched = match_budget(s.budgets, target.host, target.port, target.path)
        key, rate = matched if matched is not None else (host_key(target), None)
        rates = [rate] if rate is not None else []
        interval = s.min_interval
        rules = self.robots_rules(target) if s.robots else None
        if rules is not None:
            interval = max(interval, rules.crawl_delay(s.user_agent))
            robots_rate = rules.request_rate(s.user_agent)
            if robots_rate is not None:
                rates.append(robots_rate)
        return key, rates, interval

    def count(self, **amounts: float) -> None:
        with self._lock:
            for name, amount in amounts.items():
                setattr(self.stats, name, getattr(self.stats, name) + amount)

    def _sleep(self, seconds: float) -> None:
        self.count(waited_seconds=seconds)
        self.pause(seconds)

    def _log_retry(self, url: str, state: tenacity.RetryCallState, s: FetchSettings) -> None:
        self.count(retries=1)
        exc = state.outcome.exception() if state.outcome else None
        reason = exc.reason if isinstance(exc, AttemptFailed) else repr(exc)
        wait = state.next_action.sleep if state.next_action else 0.0
        log.warning(
            "retry %d/%d of %s after %s; waiting %.2f s",
            state.attempt_number,
            s.max_attempts - 1,
            url,
            self.redactor(reason),
            wait,
        )

    def _record_failure(self, error: FetchError) -> None:
        self.count(give_ups=1)
        log.warning(
            "giving up on %s after %d attempt(s): %s", error.url, error.attempts, error.reason
        )


class _CappedCookiePolicy(DefaultCookiePolicy):
    """No cookies at all unless `cookies = true`; then at most `max_cookies` in the jar, so a
    response setting hundreds cannot poison every later request (HTTP 431)."""

    def __init__(self, jar: CookieJar, settings: FetchSettings):
        super().__init__()
        self._jar, self._settings = jar, settings

    def set_ok(self, cookie: Any, request: Any) -> bool:
        if not self._settings.cookies or len(self._jar) >= self._settings.max_cookies:
            return False
        return super().set_ok(cookie, request)


def _retry_wait(s: FetchSettings):
    """The server's Retry-After when it sent one, else exponential backoff with jitter."""
    # backoff_initial * 2**(n-1), capped, plus up to backoff_initial of jitter
    backoff = tenacity.wait_exponential(
        multiplier=s.backoff_initial, max=s.backoff_max
    ) + tenacity.wait_random(0, s.backoff_initial)

    def wait(state: tenacity.RetryCallState) -> float:
        exc = state.outcome.exception() if state.outcome else None
        if isinstance(exc, AttemptFailed) and exc.retry_after is not None:
            return exc.retry_after
        return backoff(state)

    return wait


def _give_up_reason(failed: AttemptFailed, attempts: int, s: FetchSettings) -> str:
    if not failed.retryable:
        return failed.reason
    if attempts < s.max_attempts:
        return f"{failed.reason}; deadline {s.deadline:g} s reached after {attempts} attempt(s)"
    return f"{failed.reason} (gave up after {attempts} attempts)"
