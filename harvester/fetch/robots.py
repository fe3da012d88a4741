"""robots.txt, read once per host (origin) per run with protego, Scrapy's parser.

What a robots.txt fetch outcome means, after RFC 9309 section 2.3.1 and Google's crawler:

* 2xx: the rules apply (only the first 512 KiB are read; RFC 9309 asks for at least 500 KiB);
* 4xx other than 429 ("unavailable"): no rules, everything is allowed;
* 429, 5xx, or no answer at all ("unreachable"): the crawler MUST assume complete disallow.
  For this run only: the host's URLs fail (`RobotsUnreachable`, a `FetchError`) without a
  request, and the next run asks again. A network failure is not the site's answer, so it
  never defers the host across runs; only a `Retry-After` beyond `retry_after_cap` on the
  robots.txt request does (the fetcher's rule for any request). The robots.txt request itself
  was already retried like any other.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from .budgets import Rate

if TYPE_CHECKING:  # protego is imported when a robots.txt is parsed: a file source never needs it
    from protego import Protego

ROBOTS_MAX_BYTES = 512 * 1024


@dataclass(frozen=True)
class RobotsRules:
    """The rules of one origin; `parser` None means everything is allowed."""

    parser: Protego | None = None
    source: str = "no robots.txt"  # what the rules came from, for messages

    def allows(self, url: str, user_agent: str) -> bool:
        return self.parser is None or self.parser.can_fetch(url, user_agent)

    def crawl_delay(self, user_agent: str) -> float:
        delay = self.parser.crawl_delay(user_agent) if self.parser else None
        return float(delay) if delay else 0.0

    def request_rate(self, user_agent: str) -> Rate | None:
        rate = self.parser.request_rate(user_agent) if self.parser else None
        if rate is None or rate.requests < 1 or rate.seconds <= 0:
            return None
        return Rate(int(rate.requests), float(rate.seconds))


ALLOW_ALL = RobotsRules()


class Unreachable(Exception):
    """robots.txt could not be read (429, 5xx, no answer): its host's URLs fail this run."""


class RobotsCache:
    """The rules per origin, fetched once by whichever thread asks first; the others wait.
    An unreachable robots.txt is remembered too, so it is not asked for again this run."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._rules: dict[str, RobotsRules | Unreachable] = {}
        self._fetching: dict[str, threading.Lock] = {}

    def forget_unreachable(self) -> None:
        """A new run asks again for every robots.txt that could not be read (rules read are
        kept: RFC 9309 lets them serve a day)."""
        with self._lock:
            self._rules = {o: r for o, r in self._rules.items() if isinstance(r, RobotsRules)}

    def known(self, origin: str) -> RobotsRules | None:
        """The rules of `origin` if already read (an unreachable robots.txt counts as none)."""
        with self._lock:
            known = self._rules.get(origin)
        return known if isinstance(known, RobotsRules) else None

    def rules(self, origin: str, fetch: Callable[[], RobotsRules]) -> RobotsRules:
        """The rules of `origin` ("https://host:port"); `fetch` reads them the first time and
        raises Unreachable when they cannot be read."""
        with self._lock:
            known = self._rules.get(origin)
            gate = self._fetching.setdefault(origin, threading.Lock())
        if known is None:
            with gate:
                with self._lock:
                    known = self._rules.get(origin)
                if known is None:
                    try:
                        known = fetch()
                    except Unreachable as exc:
                        known = exc
                    with self._lock:
                        self._rules[origin] = known
        if isinstance(known, Unreachable):
            raise known
        return known


def parse_robots(text: str, url: str) -> RobotsRules:
    from protego import Protego

    return RobotsRules(Protego.parse(text), f"robots.txt at {url}")
