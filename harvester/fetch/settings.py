"""The fetch settings: the `[fetch]` config table, typed and range-checked when the config loads.

A source's `fetch = {...}` overrides are merged over the run's `[fetch]` once, at load
(`merge_settings`), so a misspelt or out-of-range fetch setting is a config error naming the
file and key before anything runs.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

import msgspec

from .. import __version__

DEFAULT_USER_AGENT = f"harvester/{__version__} (+https://github.com/harvester-dev/harvester)"

_Positive = Annotated[float, msgspec.Meta(gt=0)]
_NonNegative = Annotated[float, msgspec.Meta(ge=0)]
_AtLeastOne = Annotated[int, msgspec.Meta(ge=1)]


class FetchSettings(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """The `[fetch]` config table (and a source's `fetch = {...}` override)."""

    user_agent: str = DEFAULT_USER_AGENT
    timeout: _Positive = 20.0  # seconds, on every request (connect/read/write/pool)
    max_attempts: _AtLeastOne = 4  # total attempts per URL
    backoff_initial: _NonNegative = 0.5  # first backoff; doubles per retry, plus jitter
    backoff_max: _NonNegative = 30.0
    retry_after_cap: _NonNegative = 120.0  # a longer Retry-After fails the URL instead
    deadline: _Positive = 300.0  # total seconds per URL, waits included
    min_interval: _NonNegative = 1.0  # per-host minimum seconds between request starts
    per_host_concurrency: _AtLeastOne = 4  # per-host cap on requests in flight
    max_bytes: _AtLeastOne = 20_000_000  # decoded response size cap, checked while streaming
    redirects: Literal["same-site", "any", "none"] = "same-site"
    headers: dict[str, str] = {}  # extra request headers (may hold tokens: never logged)


def merge_settings(base: FetchSettings, overrides: dict[str, Any]) -> FetchSettings:
    """`base` with `overrides` applied; `headers` are merged key by key, not replaced.

    Raises `msgspec.ValidationError` naming the bad key (unknown or of the wrong type).
    """
    merged = msgspec.structs.asdict(base)
    for key, value in overrides.items():
        if key == "headers" and isinstance(value, dict):
            merged["headers"] = {**base.headers, **value}
        else:
            merged[key] = value
    return msgspec.convert(merged, FetchSettings)
