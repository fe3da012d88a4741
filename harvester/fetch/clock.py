"""The Fetcher's sense of time, injectable so tests can fake it (deferral across runs, waits).

`now()` is UTC wall time (HTTP dates, "deferred until"); `monotonic()` and `sleep()` pace
requests and retries. Socket deadlines always use real time: the network is real.
"""

from __future__ import annotations

import datetime as dt
import time
from typing import Protocol


class Clock(Protocol):
    def now(self) -> dt.datetime: ...

    def monotonic(self) -> float: ...

    def sleep(self, seconds: float) -> None: ...


class SystemClock:
    def now(self) -> dt.datetime:
        return dt.datetime.now(dt.UTC)

    def monotonic(self) -> float:
        return time.monotonic()

    def sleep(self, seconds: float) -> None:
        if seconds > 0:
            time.sleep(seconds)
