"""The fetch settings: the `[fetch]` config table, typed and range-checked when the config loads.

A source's `fetch = {...}` overrides are merged over the run's `[fetch]` once, at load
(`merge_settings`), so a misspelt or out-of-range fetch setting, a malformed budget or a header
value with control characters is a config error naming the file and key before anything runs.
Every key is documented in docs/fetching.md. Importing this module never imports httpx.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

import msgspec

from ..version import __version__
from .budgets import PRESET_BUDGETS, parse_budget_key, parse_rate

DEFAULT_USER_AGENT = f"harvester/{__version__} (+https://github.com/harvester-dev/harvester)"

_Positive = Annotated[float, msgspec.Meta(gt=0)]
_NonNegative = Annotated[float, msgspec.Meta(ge=0)]
_AtLeastOne = Annotated[int, msgspec.Meta(ge=1)]
# Tables merged key by key by merge_settings (a source adds a header, it does not replace all).
_MERGED_TABLES = ("headers", "budgets")


class FetchSettings(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """The `[fetch]` config table (and a source's `fetch = {...}` override)."""

    user_agent: str = DEFAULT_USER_AGENT
    timeout: _Positive = 20.0  # seconds, each connect/read/write/pool operation
    request_deadline: _Positive = 60.0  # total seconds of one request, first byte to last
    max_attempts: _AtLeastOne = 4  # total attempts per URL
    backoff_initial: _NonNegative = 0.5  # first backoff; doubles per retry, plus jitter
    backoff_max: _NonNegative = 30.0
    retry_after_cap: _NonNegative = 120.0  # a longer server-asked wait defers the host
    deadline: _Positive = 300.0  # total seconds per URL: no attempt runs past it
    min_interval: _NonNegative = 1.0  # per-host minimum seconds between request starts
    per_host_concurrency: _AtLeastOne = 4  # per-host cap on requests in flight
    budgets: dict[str, str] = msgspec.field(default_factory=lambda: dict(PRESET_BUDGETS))
    robots: bool = True  # read robots.txt once per host per run and obey it
    max_bytes: _AtLeastOne = 20_000_000  # body cap, on the wire and decoded, while streaming
    max_headers: _AtLeastOne = 100  # response header lines (Set-Cookie included)
    cookies: bool = False  # keep cookies between requests ([fetch] only: one jar per run)
    max_cookies: _AtLeastOne = 50  # Set-Cookie lines one response may send when cookies = true
    redirects: Literal["same-site", "any", "none"] = "same-site"
    headers: dict[str, str] = {}  # extra request headers (may hold tokens: always redacted)
    # one budget shared by processes: "postgresql://..." or "sqlite:///PATH" ([fetch] only)
    budget_store: str | None = None

    def __post_init__(self) -> None:
        for name, value in self.headers.items():
            check_header(name, value)
        check_header("User-Agent", self.user_agent)
        for key, rate in self.budgets.items():
            parse_budget_key(key)  # ValueError names the key
            parse_rate(rate)
        if self.budget_store is not None and not self.budget_store.startswith(
            ("postgresql://", "postgres://", "sqlite:///")
        ):
            raise ValueError("budget_store must be postgresql://... or sqlite:///PATH")


def check_header(name: str, value: str) -> None:
    """Raise ValueError when a header name or value could split or smuggle a header line.

    The message names the header but never repeats the value: it may be a token."""
    if not name or any(c in _NOT_IN_NAMES or ord(c) < 0x21 or ord(c) == 0x7F for c in name):
        raise ValueError(f"header name {name!r} is not a valid HTTP field name")
    if any((ord(c) < 0x20 and c != "\t") or ord(c) == 0x7F for c in value):
        raise ValueError(
            f"header {name!r}: its value contains a control character (CR, LF, NUL, ...)"
        )


_NOT_IN_NAMES = frozenset('"(),/:;<=>?@[\\]{}')


def merge_settings(base: FetchSettings, overrides: dict[str, Any]) -> FetchSettings:
    """`base` with `overrides` applied; `headers` and `budgets` are merged key by key.

    Raises `msgspec.ValidationError` naming the bad key (unknown, wrong type, bad value).
    """
    merged = msgspec.structs.asdict(base)
    for key, value in overrides.items():
        if key in _MERGED_TABLES and isinstance(value, dict):
            merged[key] = {**getattr(base, key), **value}
        else:
            merged[key] = value
    return msgspec.convert(merged, FetchSettings)
