"""One background thread per database sink that applies its batches in order, so the database's
own work (SQLite's B-trees and full-text tokenising, PostgreSQL's round trips: both release the
GIL) overlaps with the run reading the next batch, on another core.

The sink's caller sees the same lifecycle: `submit` hands over a batch and returns at once (it
waits only while `depth` batches are queued, which bounds memory); `drain` waits until every
submitted batch is applied. The first error a batch raises is kept and raised again by the next
`submit`, `drain` or `stop`, as it was raised (the sink wraps it in its own `SinkError`); the
batches after it are dropped unapplied, since the sink's transaction is then rolled back anyway.
Only one thread uses the sink's connection at a time: the caller touches it only after `drain`.

While a background thread runs, Python's switch interval is 0.5 ms instead of 5 ms: each
statement the thread runs ends by taking the GIL back from the busy caller's thread, which hands
it over only at the switch interval; at 5 ms those waits made the thread's batches take twice as
long (measured on the sqlite sink: 20 % less wall time for a run into JSONL and SQLite at
0.5 ms). The previous interval is restored when the last background thread ends.
"""

from __future__ import annotations

import sys
import threading
from collections import deque
from collections.abc import Callable
from typing import Any

SWITCH_INTERVAL = 0.0005  # seconds, while a background thread runs
# Batches queued before `submit` waits: a run hands its sinks a target's held papers at once
# (`run.hold_papers`, 10,000 by default, in batches of 1,000), and the caller should not wait
# for the database while it could read the next ones.
DEPTH = 12

_switch_lock = threading.Lock()
_running = 0
_saved_interval = 0.0


def _started() -> None:
    global _running, _saved_interval
    with _switch_lock:
        if _running == 0:
            _saved_interval = sys.getswitchinterval()
            sys.setswitchinterval(min(_saved_interval, SWITCH_INTERVAL))
        _running += 1


def _ended() -> None:
    global _running
    with _switch_lock:
        _running -= 1
        if _running == 0:
            sys.setswitchinterval(_saved_interval)


class Background:
    def __init__(self, apply: Callable[[Any], None], *, name: str, depth: int = DEPTH):
        self._apply = apply
        self._depth = depth
        self._queue: deque[Any] = deque()
        self._busy = False  # a batch is being applied (taken off the queue)
        self._error: BaseException | None = None
        self._closing = False
        self._ended = False
        self._cond = threading.Condition()
        self._thread = threading.Thread(target=self._loop, name=name, daemon=True)
        _started()
        self._thread.start()

    def submit(self, item: Any) -> None:
        with self._cond:
            self._raise()
            while len(self._queue) >= self._depth and self._error is None:
                self._cond.wait()
            self._raise()
            self._queue.append(item)
            self._cond.notify_all()

    def drain(self) -> None:
        """Wait until every submitted batch is applied; raise the first error of one."""
        with self._cond:
            while (self._queue or self._busy) and self._error is None:
                self._cond.wait()
            self._raise()

    def stop(self, *, discard: bool = False) -> None:
        """End the thread: after applying what is queued, or (`discard`) dropping it. Raises
        the first error of a batch unless `discard` (the caller is rolling back anyway)."""
        with self._cond:
            if discard:
                self._queue.clear()
            self._closing = True
            self._cond.notify_all()
        try:
            self._thread.join()
        finally:
            if not self._ended:  # once, even if stop() is called again after an interrupt
                self._ended = True
                _ended()
        if not discard:
            with self._cond:
                self._raise()

    def _raise(self) -> None:
        if self._error is not None:
            raise self._error

    def _loop(self) -> None:
        while True:
            with self._cond:
                while not self._queue and not self._closing:
                    self._cond.wait()
                if not self._queue:
                    return
                item = self._queue.popleft()
                self._busy = True
                self._cond.notify_all()  # room in the queue
            try:
                if self._error is None:
                    self._apply(item)
            except BaseException as exc:  # kept for the caller's thread, which raises it
                with self._cond:
                    self._error = exc
                    self._queue.clear()
            finally:
                with self._cond:
                    self._busy = False
                    self._cond.notify_all()
