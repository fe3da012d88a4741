"""A request's URL and headers checked before sending, and redirects checked before following."""

from __future__ import annotations

import httpx

from ._failure import AttemptFailed
from .errors import RedirectRefused, RequestRejected
from .settings import FetchSettings, check_header
from .urls import same_site

# Headers that must not follow a redirect to another host (httpx drops them the same way).
_CREDENTIAL_HEADERS = frozenset({"authorization", "proxy-authorization", "cookie"})


def checked_url(url: str) -> httpx.URL:
    try:
        target = httpx.URL(url)
    except httpx.InvalidURL as exc:
        raise RequestRejected(url, f"invalid URL: {exc}") from None
    if target.scheme not in ("http", "https"):
        raise RequestRejected(url, f"unsupported URL scheme {target.scheme!r}")
    return target


def request_headers(s: FetchSettings, extra: dict[str, str] | None) -> dict[str, str]:
    """The headers of a request; a source's header with control characters is rejected here
    (configured ones were rejected when the config loaded)."""
    for name, value in (extra or {}).items():
        try:
            check_header(name, value)
        except ValueError as exc:
            raise RequestRejected("", str(exc)) from None
    return {"user-agent": s.user_agent, **s.headers, **(extra or {})}


def follow(
    current: httpx.URL,
    status: int,
    response_headers: dict[str, str],
    headers: dict[str, str],
    s: FetchSettings,
) -> tuple[httpx.URL, dict[str, str]]:
    """The next hop of a redirect, checked against the `redirects` policy."""
    location = response_headers.get("location")
    if not location:
        raise AttemptFailed(
            f"HTTP {status} redirect without Location from {current}", status, kind=RedirectRefused
        )
    target = current.join(location)
    if s.redirects == "none":
        raise AttemptFailed(
            f"redirect from {current} to {target} not followed (redirects = none)",
            status,
            kind=RedirectRefused,
        )
    if s.redirects == "same-site" and not same_site(current, target):
        raise AttemptFailed(
            f"off-site redirect from {current} to {target} refused (redirects = same-site)",
            status,
            kind=RedirectRefused,
        )
    if target.host != current.host:
        headers = {k: v for k, v in headers.items() if k.lower() not in _CREDENTIAL_HEADERS}
    return target, headers
