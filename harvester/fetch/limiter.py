"""Per-budget request pacing: configured rates, a minimum interval, and what servers advertise.

The Fetcher talks to a `Limiter` through three calls: `reserve` books the start time of one
request, `learn` feeds it a response's advice, `pause` holds a key until a time. The rules are
`book`, `take_advice` and `hold`, over one key's `Bucket`: a sliding log of booked start times,
which keeps ANY window of `w` seconds (plus `WINDOW_SLACK`) within `n` requests, and so also
every fixed window a server counts in, even when a burst arrives a little after it started.
`InProcessLimiter` keeps the buckets in memory, for one process; `harvester.fetch.shared`
keeps them in PostgreSQL or SQLite, one budget for many processes.

Reservations are booked in order and slept by the caller, so several threads asking at once
get successive slots instead of all waking at the same instant and bursting.
"""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Protocol

from .advertised import ServerAdvice
from .budgets import Rate

# Learned quotas keep 10 % in reserve: the server counts arrivals, we count send times, and
# other clients on the same address may share its budget.
LEARNED_MARGIN = 0.10
# A reset is announced in whole seconds; a little slack keeps us from arriving just before it.
RESET_SLACK = 0.1
# A rate "N/Ws" is kept over windows this much longer than W (at most 0.25 s, 5 % of W): a
# server counting fixed windows counts arrivals, and a burst booked right at one of its window
# boundaries arrives partly in the next window, which then holds more than N. With the slack,
# the next N start only once every arrival of the last window is surely counted in it.
WINDOW_SLACK, WINDOW_SLACK_SHARE = 0.25, 0.05
_MAX_LOG = 10_000  # booked starts remembered per key (more than any sane window holds)


@dataclass(frozen=True)
class Reservation:
    start: float  # time.monotonic() at which the request may start
    ticket: int  # its place among the key's requests (for `learn`)


class ServerCooldown(Exception):
    """The server asked this key to wait longer than the caller would sleep."""

    def __init__(self, until: float, reason: str):
        super().__init__(reason)
        self.until, self.reason = until, reason


class Limiter(Protocol):
    def reserve(
        self, key: str, rates: Sequence[Rate], interval: float, *, now: float, max_cooldown: float
    ) -> Reservation:
        """Book one request on `key`: no sooner than `interval` after the previous one, within
        every rate in `rates` and every limit learned from the server. Raises ServerCooldown
        (booking nothing) when a server-imposed wait ends more than `max_cooldown` from `now`."""
        ...

    def learn(self, key: str, advice: ServerAdvice, ticket: int, *, now: float) -> None:
        """Take in what the response to the request holding `ticket` advertised."""
        ...

    def pause(self, key: str, until: float, reason: str) -> None:
        """Start no request on `key` before `until` (a Retry-After)."""
        ...


@dataclass
class Bucket:
    """One key's pacing: what `book` reads and updates."""

    starts: deque[float] = field(default_factory=deque)  # booked starts, in order
    learned: tuple[Rate, ...] = ()  # advertised policies, less the margin
    quota_left: int | None = None  # requests the server still allows before quota_reset
    quota_reset: float = float("-inf")
    paused_until: float = float("-inf")
    pause_reason: str = ""
    booked: int = 0  # requests booked so far (the next ticket)


class InProcessLimiter:
    """A thread-safe `Limiter` for one process."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._buckets: dict[str, Bucket] = {}

    def reserve(
        self, key: str, rates: Sequence[Rate], interval: float, *, now: float, max_cooldown: float
    ) -> Reservation:
        with self._lock:
            bucket = self._buckets.setdefault(key, Bucket())
            return book(bucket, rates, interval, now=now, max_cooldown=max_cooldown)

    def learn(self, key: str, advice: ServerAdvice, ticket: int, *, now: float) -> None:
        with self._lock:
            take_advice(self._buckets.setdefault(key, Bucket()), advice, ticket, now=now)

    def pause(self, key: str, until: float, reason: str) -> None:
        with self._lock:
            hold(self._buckets.setdefault(key, Bucket()), until, reason)


# The rules, over one key's bucket; the shared limiters (`harvester.fetch.shared`) apply the
# same functions to a bucket they keep in a database.


def book(
    bucket: Bucket, rates: Sequence[Rate], interval: float, *, now: float, max_cooldown: float
) -> Reservation:
    """`Limiter.reserve` on one bucket (the caller holds it)."""
    held_until, reason = _server_hold(bucket, now)
    learned = _earliest(bucket, bucket.learned)
    if learned > held_until:
        held_until, reason = learned, "the advertised rate limit"
    # what the server imposes is capped (longer: the caller defers the host); our own
    # budgets and interval are pacing, slept however long
    if held_until - now > max_cooldown:
        raise ServerCooldown(held_until, reason)
    start = max(now, held_until, _earliest(bucket, rates))
    if bucket.starts:
        start = max(start, bucket.starts[-1] + interval)
    if bucket.quota_left is not None:
        if start >= bucket.quota_reset:
            bucket.quota_left = None  # the server's window will have reset by then
        else:
            bucket.quota_left -= 1
    bucket.starts.append(start)
    _forget_old(bucket, start, rates)
    bucket.booked += 1
    return Reservation(start, bucket.booked - 1)


def take_advice(bucket: Bucket, advice: ServerAdvice, ticket: int, *, now: float) -> None:
    """`Limiter.learn` on one bucket."""
    if advice.policies:
        bucket.learned = tuple(p.with_margin(LEARNED_MARGIN) for p in advice.policies)
    if advice.remaining is not None and advice.reset is not None:
        # requests booked after this one were not yet counted in `remaining`
        booked_since = bucket.booked - ticket - 1
        bucket.quota_left = advice.remaining - booked_since
        bucket.quota_reset = now + advice.reset + RESET_SLACK


def hold(bucket: Bucket, until: float, reason: str) -> None:
    """`Limiter.pause` on one bucket."""
    if until > bucket.paused_until:
        bucket.paused_until, bucket.pause_reason = until, reason


def _server_hold(bucket: Bucket, now: float) -> tuple[float, str]:
    """Until when the server holds this key (a pause or an exhausted quota), and why."""
    held, reason = float("-inf"), ""
    if bucket.paused_until > now:
        held, reason = bucket.paused_until, bucket.pause_reason
    quota_spent = bucket.quota_left is not None and bucket.quota_left <= 0
    if quota_spent and bucket.quota_reset > max(now, held):
        held, reason = bucket.quota_reset, "the advertised rate limit is used up"
    return held, reason


def window_with_slack(rate: Rate) -> float:
    """The span in which `book` keeps at most `rate.limit` starts (see WINDOW_SLACK)."""
    return rate.window + min(WINDOW_SLACK, rate.window * WINDOW_SLACK_SHARE)


def _earliest(bucket: Bucket, rates: Sequence[Rate]) -> float:
    """The earliest start that keeps every rate, given the starts booked so far."""
    earliest = float("-inf")
    for rate in rates:
        if len(bucket.starts) >= rate.limit:
            earliest = max(earliest, bucket.starts[-rate.limit] + window_with_slack(rate))
    return earliest


def _forget_old(bucket: Bucket, latest: float, rates: Sequence[Rate]) -> None:
    longest = max((window_with_slack(r) for r in (*rates, *bucket.learned)), default=0.0)
    most = max((r.limit for r in (*rates, *bucket.learned)), default=1)
    while len(bucket.starts) > _MAX_LOG or (
        len(bucket.starts) > most and bucket.starts[0] < latest - longest
    ):
        bucket.starts.popleft()
