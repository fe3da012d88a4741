"""Fetching: the run's one polite, bounded, retrying HTTP client. See docs/fetching.md.

`harvester.fetch.settings` holds the typed `[fetch]` settings and `harvester.fetch.errors` the
`FetchError` subclasses; importing this package imports neither httpx nor the client, which
load on first use of `Fetcher` and friends (offline runs never pay for them).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ..errors import Deferred
from .budgets import PRESET_BUDGETS, Rate, parse_rate
from .errors import (
    ContentDecodingError,
    FetchError,
    FetchTimeout,
    HTTPStatusError,
    RedirectRefused,
    RequestRejected,
    ResponseTooLarge,
    RobotsDisallowed,
    RobotsUnreachable,
    TransportFailure,
)
from .redact import Redactor
from .settings import DEFAULT_USER_AGENT, FetchSettings, merge_settings

if TYPE_CHECKING:
    from .advertised import parse_retry_after
    from .client import Fetcher
    from .clock import Clock, SystemClock
    from .limiter import InProcessLimiter, Limiter
    from .response import FetchStats, Response
    from .runclient import SharedClient
    from .urls import registrable_host

_LAZY = {
    "Fetcher": "client",
    "SharedClient": "runclient",
    "Clock": "clock",
    "SystemClock": "clock",
    "InProcessLimiter": "limiter",
    "Limiter": "limiter",
    "FetchStats": "response",
    "Response": "response",
    "parse_retry_after": "advertised",
    "registrable_host": "urls",
}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    from importlib import import_module

    return getattr(import_module(f".{module}", __name__), name)


__all__ = [
    "DEFAULT_USER_AGENT",
    "PRESET_BUDGETS",
    "Clock",
    "ContentDecodingError",
    "Deferred",
    "FetchError",
    "FetchSettings",
    "FetchStats",
    "FetchTimeout",
    "Fetcher",
    "HTTPStatusError",
    "InProcessLimiter",
    "Limiter",
    "Rate",
    "Redactor",
    "RedirectRefused",
    "RequestRejected",
    "Response",
    "ResponseTooLarge",
    "RobotsDisallowed",
    "RobotsUnreachable",
    "SharedClient",
    "SystemClock",
    "TransportFailure",
    "merge_settings",
    "parse_rate",
    "parse_retry_after",
    "registrable_host",
]
