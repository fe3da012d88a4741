"""Budgets a server advertises in its response headers, read into one `ServerAdvice`.

Understood, leniently (a header we cannot read is ignored, never an error):

* `RateLimit-Policy` (draft-ietf-httpapi-ratelimit-headers): `"pages";q=100;w=300` (draft 08+)
  or `100;w=300` (earlier drafts): a quota per window, learned as a rate;
* `RateLimit`: `"pages";r=40;t=120` (draft 08+) or `limit=100, remaining=40, reset=120`
  (drafts 05-07): how many requests remain and the seconds until the quota resets;
* `RateLimit-Limit` / `-Remaining` / `-Reset` (drafts 00-04) and the common
  `X-RateLimit-Limit` / `-Remaining` / `-Reset` (whose reset may be a Unix time);
* `Retry-After`: seconds or an HTTP date.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping
from dataclasses import dataclass

from .budgets import Rate

# A reset larger than this is a Unix timestamp (X-RateLimit-Reset as GitHub sends it).
_EPOCH_THRESHOLD = 1_000_000_000
_MEMBERS = re.compile(r'(?:[^,"]|"[^"]*")+')  # comma-separated, commas inside quotes kept


@dataclass(frozen=True)
class ServerAdvice:
    """What one response said about the budget of its host (every field optional)."""

    policies: tuple[Rate, ...] = ()  # advertised quotas per window
    remaining: int | None = None  # requests left in the current window
    reset: float | None = None  # seconds until the window's quota resets
    retry_after: float | None = None  # seconds the server asks us to wait

    def __bool__(self) -> bool:
        return bool(self.policies) or self.remaining is not None or self.retry_after is not None


def parse_retry_after(value: str | None, now: dt.datetime | None = None) -> float | None:
    """Seconds to wait from a `Retry-After` value (delta-seconds or HTTP-date); None if unusable."""
    if not value:
        return None
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    import email.utils  # here, not at the top: it costs every command's start-up ~10 ms

    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=dt.UTC)
    now = now or dt.datetime.now(dt.UTC)
    return max(0.0, (when - now).total_seconds())


def read_advice(headers: Mapping[str, str], now: dt.datetime) -> ServerAdvice:
    """The budget advice in `headers` (lower-case names), as of `now` (UTC)."""
    policies = _policies(headers.get("ratelimit-policy", ""))
    remaining, reset = _combined(headers.get("ratelimit", ""))
    for prefix in ("ratelimit-", "x-ratelimit-"):
        if remaining is None:
            remaining = _int(headers.get(prefix + "remaining"))
            reset = _reset_seconds(headers.get(prefix + "reset"), now)
        if not policies:
            policies = _policies(headers.get(prefix + "limit", ""))
    return ServerAdvice(
        policies=tuple(policies),
        remaining=remaining,
        reset=reset,
        retry_after=parse_retry_after(headers.get("retry-after"), now),
    )


def _members(value: str) -> list[tuple[str, dict[str, str]]]:
    """Structured-field-like members: `item;key=value;...`, with the item's params."""
    parsed = []
    for member in _MEMBERS.findall(value):
        item, *params = (part.strip() for part in member.split(";"))
        pairs = dict(p.split("=", 1) for p in params if "=" in p)
        parsed.append((item, {k.strip().lower(): v.strip().strip('"') for k, v in pairs.items()}))
    return parsed


def _policies(value: str) -> list[Rate]:
    rates = []
    for item, params in _members(value):
        quota = _int(params.get("q")) if "q" in params else _int(item)
        window = _float(params.get("w", params.get("window")))
        if quota and window:
            rates.append(Rate(quota, window))
    return rates


def _combined(value: str) -> tuple[int | None, float | None]:
    """`RateLimit`: the most constrained (remaining, reset) among its members."""
    best: tuple[int | None, float | None] = (None, None)
    dictionary = {}
    for item, params in _members(value):
        if "=" in item:  # drafts 05-07: limit=.., remaining=.., reset=..
            name, _, raw = item.partition("=")
            dictionary[name.strip().lower()] = raw.strip()
            continue
        remaining, reset = _int(params.get("r")), _float(params.get("t"))
        if remaining is not None and (best[0] is None or remaining < best[0]):
            best = (remaining, reset)
    if best[0] is None and "remaining" in dictionary:
        best = (_int(dictionary["remaining"]), _float(dictionary.get("reset")))
    return best


def _reset_seconds(value: str | None, now: dt.datetime) -> float | None:
    seconds = _float(value)
    if seconds is not None and seconds > _EPOCH_THRESHOLD:
        seconds = max(0.0, seconds - now.timestamp())
    return seconds


def _int(value: str | None) -> int | None:
    try:
        return int(value.strip()) if value is not None else None
    except ValueError:
        return None


def _float(value: str | None) -> float | None:
    try:
        number = float(value.strip()) if value is not None else None
    except ValueError:
        return None
    return number if number is not None and number >= 0 else None
