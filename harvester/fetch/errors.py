"""What failed when a URL could not be fetched: one `FetchError` subclass per cause.

Modelled on httpx's exception tree, so a caller (the run summary, a source) can tell a refusal
(robots.txt, a redirect policy) from a broken server or an attack on our bounds:

    FetchError                      harvester.errors: fails one target
    ├── HTTPStatusError             the server answered with an error status (`status` is set)
    ├── FetchTimeout                a connect/read timeout, or a request or URL deadline passed
    ├── TransportFailure            refused, reset or truncated connection; protocol error
    ├── ResponseTooLarge            body (on the wire or decoded), header or cookie count over a cap
    ├── ContentDecodingError        an unknown or corrupt Content-Encoding
    ├── RedirectRefused             off-site, https to http, `redirects = "none"`, a loop
    ├── RobotsDisallowed            robots.txt disallows the URL for our user agent
    ├── RobotsUnreachable           robots.txt could not be read: disallow, for this run only
    └── RequestRejected             the request itself is invalid (scheme, header value): not sent

A body that parses but is too deeply nested is the parser's business (`InputError`), not ours.
`Deferred` (a host asked us to come back later) is a signal, not a failure: see harvester.errors.
Importing this module never imports httpx.
"""

from __future__ import annotations

from ..errors import FetchError


class HTTPStatusError(FetchError):
    """The server answered with an error status (4xx, 5xx): `status` says which."""


class FetchTimeout(FetchError):
    """No answer in time: a connect or read timeout, `request_deadline` or the URL's `deadline`."""


class TransportFailure(FetchError):
    """The connection failed: refused, reset, closed before the declared length, bad HTTP."""


class ResponseTooLarge(FetchError):
    """The response broke a size bound: the body (wire or decoded bytes) over `max_bytes`, more
    headers than `max_headers`, or more cookies than `max_cookies`."""


class ContentDecodingError(FetchError):
    """The body's Content-Encoding is unknown to us or its data is corrupt."""


class RedirectRefused(FetchError):
    """A redirect the `redirects` policy does not follow, or more than we follow."""


class RobotsDisallowed(FetchError):
    """The host's robots.txt disallows this URL for our user agent."""


class RobotsUnreachable(FetchError):
    """The host's robots.txt could not be read (no answer, 5xx, 429): RFC 9309 says assume
    complete disallow, so the URL fails, for this run only (never a deferral saved for later
    runs: a network failure is not the site's answer)."""


class RequestRejected(FetchError):
    """The request was never sent: an unsupported URL scheme or a header value with control
    characters (its value is never repeated in the message)."""


__all__ = [
    "ContentDecodingError",
    "FetchError",
    "FetchTimeout",
    "HTTPStatusError",
    "RedirectRefused",
    "RequestRejected",
    "ResponseTooLarge",
    "RobotsDisallowed",
    "RobotsUnreachable",
    "TransportFailure",
]
