"""Request budgets as rates ("100/300s") and the `[fetch.budgets]` keys they apply to.

A budget key is a host, optionally with a port and a path prefix: `"huggingface.co"`,
`"huggingface.co/api"`, `"127.0.0.1:8080"`. A host key also covers its subdomains
(`"arxiv.org"` covers `export.arxiv.org`), and every URL it covers shares ONE budget: arXiv asks
for one request every 3 s across its listings, API and OAI-PMH hosts together. A URL counts
against the single longest matching key, so `"huggingface.co/api"` (the API bucket) and
`"huggingface.co"` (the pages bucket) never both charge one request. Pure Python: no httpx.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from functools import lru_cache

# The published anonymous budgets, with a safety margin (see docs/fetching.md): HF counts
# 100 pages and 500 API calls per fixed 5-minute window per IP, which other programs on the same
# address share, and the server counts arrivals, not our send times; arXiv asks for one request
# every 3 s, so 4 s keeps jitter from ever making two arrive closer.
PRESET_BUDGETS: dict[str, str] = {
    "huggingface.co": "80/300s",
    "huggingface.co/api": "400/300s",
    "arxiv.org": "1/4s",
}
UNLIMITED = frozenset({"none", "off", "unlimited"})

_RATE = re.compile(r"^\s*(\d+)\s*/\s*(\d+(?:\.\d+)?)?\s*(ms|s|sec|m|min|h)\s*$", re.IGNORECASE)
_UNIT_SECONDS = {"ms": 0.001, "s": 1.0, "sec": 1.0, "m": 60.0, "min": 60.0, "h": 3600.0}
_KEY = re.compile(r"^(?P<host>[a-z0-9.\-\[\]:]+?)(?::(?P<port>\d+))?(?P<path>/[^\s]*)?$")


@dataclass(frozen=True)
class Rate:
    """At most `limit` requests in any `window` seconds."""

    limit: int
    window: float

    def __str__(self) -> str:
        return f"{self.limit}/{self.window:g}s"

    def with_margin(self, fraction: float) -> Rate:
        """This rate less `fraction` of its limit (at least one request)."""
        return Rate(max(1, math.floor(self.limit * (1 - fraction))), self.window)


@lru_cache(maxsize=256)
def parse_rate(text: str) -> Rate | None:
    """`"100/300s"`, `"1/3s"`, `"10/m"`, `"5000/1h"` as a Rate; None for "none"/"off"/"unlimited".

    Raises ValueError naming the accepted forms.
    """
    if text.strip().lower() in UNLIMITED:
        return None
    match = _RATE.match(text)
    if not match or int(match[1]) < 1 or (match[2] is not None and float(match[2]) <= 0):
        raise ValueError(f"budget {text!r} is not a rate like '100/300s', '1/3s', '10/m' or 'none'")
    amount = float(match[2]) if match[2] is not None else 1.0
    return Rate(int(match[1]), amount * _UNIT_SECONDS[match[3].lower()])


@dataclass(frozen=True)
class BudgetKey:
    host: str
    port: int | None
    path: str  # "" or a prefix starting with "/"

    def covers(self, host: str, port: int | None, path: str) -> bool:
        if host != self.host and not host.endswith("." + self.host):
            return False
        if self.port is not None and port != self.port:
            return False
        # a path prefix matches whole segments: "/api" covers "/api/x", not "/apis"
        return not self.path or path == self.path or path.startswith(self.path + "/")


@lru_cache(maxsize=256)
def parse_budget_key(key: str) -> BudgetKey:
    """`host[:port][/path/prefix]`, lower-cased host; raises ValueError when it is not one."""
    match = _KEY.match(key.strip().lower())
    if not match or "://" in key:
        raise ValueError(f"budget key {key!r} is not host[:port][/path], e.g. 'huggingface.co/api'")
    port = int(match["port"]) if match["port"] else None
    return BudgetKey(match["host"].rstrip("."), port, (match["path"] or "").rstrip("/"))


def match_budget(
    budgets: dict[str, str], host: str, port: int | None, path: str
) -> tuple[str, Rate | None] | None:
    """The longest budget key covering the URL and its rate (None: explicitly unlimited), or
    None when no key covers it. Keys are validated at config load, so parsing cannot fail here."""
    best: tuple[int, str, Rate | None] | None = None
    for key, value in budgets.items():
        parsed = parse_budget_key(key)
        if not parsed.covers(host, port, path):
            continue
        specificity = len(parsed.host) * 1000 + len(parsed.path) + (parsed.port is not None)
        if best is None or specificity > best[0]:
            best = (specificity, key, parse_rate(value))
    return None if best is None else (best[1], best[2])
