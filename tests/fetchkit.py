"""Helpers for the fetch tests: a clock the test controls."""

from __future__ import annotations

import datetime as dt
import threading
import time


class RecordingClock:
    """Real time, started at `start` (wall time) and moved on by every `sleep`: a sleep records
    the wait and shifts the clock instead of sleeping, so retry waits and cooldowns cost
    nothing while the network stays real."""

    def __init__(self, start: dt.datetime | None = None):
        self._lock = threading.Lock()
        self._wall = 0.0 if start is None else (start - dt.datetime.now(dt.UTC)).total_seconds()
        self.offset = 0.0  # seconds slept (or advanced) so far
        self.sleeps: list[float] = []

    def now(self) -> dt.datetime:
        return dt.datetime.now(dt.UTC) + dt.timedelta(seconds=self._wall + self.offset)

    def monotonic(self) -> float:
        return time.monotonic() + self.offset

    def sleep(self, seconds: float) -> None:
        with self._lock:
            self.sleeps.append(seconds)
            self.offset += max(0.0, seconds)

    def advance(self, seconds: float) -> None:
        with self._lock:
            self.offset += seconds
