"""Which site, host and origin a URL belongs to (redirect policy, budgets, robots.txt)."""

from __future__ import annotations

from ipaddress import ip_address

import httpx

# Second-level labels under a country code that are not registrable on their own (co.uk, ac.jp).
_GENERIC_SECOND_LEVEL = frozenset({"ac", "co", "com", "edu", "gov", "net", "or", "org", "ne"})


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


def host_key(url: httpx.URL) -> str:
    """The host as deferrals and concurrency caps name it: `host`, or `host:port` when the
    port is not the scheme's default."""
    return f"{url.host}:{url.port}" if url.port else url.host


def origin(url: httpx.URL) -> str:
    """`scheme://host[:port]`: what one robots.txt covers."""
    return f"{url.scheme}://{host_key(url)}"
