"""The run's client: one `Fetcher` per run, built on first use and shared by every source.

Kept apart from `harvester.fetch.client` so that a run that never fetches (file sources) never
imports httpx: a run or `parse` of a text dump starts ~0.1 s sooner.
"""

from __future__ import annotations

import datetime as dt
import importlib.util
import threading
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from ..errors import UsageError
from .limiter import InProcessLimiter
from .robots import RobotsCache
from .settings import FetchSettings

if TYPE_CHECKING:
    from .client import Fetcher

CACHE_INSTALL = "pip install 'paper-harvester[cache]'"
ROBOTS_KEPT = 3600.0  # seconds a worker's successive runs reuse the robots.txt rules they read


class SharedClient:
    """The run's one `Fetcher`, built on first use (offline runs never build one) and shared
    by every source context; `close()` it when the run ends. `fetcher_args` go to `Fetcher`
    (`redactor`, `cache_dir`, `clock`, `limiter`, ...). Host deferrals restored from the run
    state are handed to the fetcher when it is built.

    A client serving several runs in turn (a worker's jobs) builds a fetcher per run, and hands
    each the same limiter (pacing goes on across runs) and the robots.txt rules read in the
    last `ROBOTS_KEPT` seconds (not one robots.txt request per job); after `serve_many_runs()`
    its shared budget's connection stays open between runs too, until `close_limiter()`."""

    def __init__(self, settings: FetchSettings | None = None, **fetcher_args: Any):
        if fetcher_args.get("cache_dir") is not None:
            check_cache_available()
        self.settings = settings or FetchSettings()
        if fetcher_args.get("limiter") is None:
            fetcher_args["limiter"] = InProcessLimiter()
        self._fetcher_args = fetcher_args
        self._fetcher: Fetcher | None = None
        self._restored: dict[str, dt.datetime] = {}
        self._lock = threading.Lock()
        self._robots, self._robots_since = RobotsCache(), time.monotonic()
        self._stopped: str | None = None  # the run stops: `abort` reason, until `close`
        self._keep_limiter = False
        self.on_build: Callable[[], None] | None = None  # called when a fetcher is built

    def __call__(self) -> Fetcher:
        with self._lock:
            if self._fetcher is None:
                if time.monotonic() - self._robots_since > ROBOTS_KEPT:
                    self._robots, self._robots_since = RobotsCache(), time.monotonic()
                self._robots.forget_unreachable()
                from .client import Fetcher  # httpx is imported here, when a run fetches

                self._fetcher = Fetcher(self.settings, robots=self._robots, **self._fetcher_args)
                for host, until in self._restored.items():
                    self._fetcher.defer(host, until)
                if self._stopped is not None:
                    self._fetcher.abort(self._stopped)
                if self.on_build is not None:  # before any thread uses the fetcher
                    self.on_build()
            return self._fetcher

    def abort(self, reason: str) -> None:
        """The run stops: its fetcher's requests and waits end at once (`Fetcher.abort`),
        also those of a fetcher built later in this run."""
        with self._lock:
            self._stopped = reason
            fetcher = self._fetcher
        if fetcher is not None:
            fetcher.abort(reason)

    def defer_hosts(self, deferrals: dict[str, dt.datetime]) -> None:
        """Hosts an earlier run was asked to leave alone until a time (from the run state)."""
        with self._lock:
            self._restored.update(deferrals)
            if self._fetcher is not None:
                for host, until in deferrals.items():
                    self._fetcher.defer(host, until)

    def summary(self) -> dict[str, Any] | None:
        """The fetcher's counters, or None when the run never needed one."""
        return self._fetcher.stats.summary() if self._fetcher is not None else None

    def deferrals(self) -> dict[str, dt.datetime]:
        """Every host deferral known: restored ones and those met by this run."""
        with self._lock:
            found = dict(self._restored)
            if self._fetcher is not None:
                found.update(self._fetcher.deferrals())
            return found

    def close(self) -> None:
        with self._lock:
            self._stopped = None  # a worker's next run starts afresh
            if self._fetcher is not None:
                self._fetcher.close()
                self._fetcher = None
        if not self._keep_limiter:
            self.close_limiter()

    def serve_many_runs(self) -> None:
        """Keep the shared budget's connection between runs (a worker's jobs: reconnecting
        cost each job ~15 ms); `close_limiter()` when done."""
        self._keep_limiter = True

    def close_limiter(self) -> None:
        close = getattr(self._fetcher_args["limiter"], "close", None)
        if close is not None:  # a shared budget's connection (reopened on use)
            close()


def check_cache_available() -> None:
    """`UsageError` naming the install line when the development cache's hishel is missing
    (looked up, not imported: the cache is off in every scheduled run)."""
    if importlib.util.find_spec("hishel") is None:
        raise UsageError(f"--cache needs hishel, the development cache: {CACHE_INSTALL}")
