"""Stopping a run: SIGINT/SIGTERM, the run-time limit, and a stop asked by the code that runs
the run (a worker stopping its job).

The first SIGINT or SIGTERM asks the run to stop: the target being read ends `stopped` at its
next entry (nothing of it is published; the next run reads it), what is done is committed and,
with `[run] state`, the run resumes when the same command runs again. A stop also cuts short
whatever the run is waiting for: the callbacks given to `on_stop` (the run's fetcher: requests
in flight, retry back-offs, budget waits) are called, so a stop takes effect within a moment
instead of after the current target. The time limit is checked between targets. A second
SIGINT aborts at once (KeyboardInterrupt): uncommitted work is dropped.
"""

from __future__ import annotations

import _signal  # signal's own C module: see `on_signals`
import contextlib
import logging
import os
import signal
import threading
import time
from collections.abc import Callable, Iterator

log = logging.getLogger("harvester")


class StopRequested(Exception):
    """A stop arrived while a target was read (or fetched): it ends `stopped`."""


class Stopper:
    def __init__(self, max_seconds: float | None):
        self.reason: str | None = None
        self.deadline = time.monotonic() + max_seconds if max_seconds else None
        self.max_seconds = max_seconds
        self._callbacks: list[Callable[[str], None]] = []
        self._relay_lock = threading.Lock()
        self._relay_wanted = False  # `start_relay` was called
        self._wake_read: int | None = None  # the pipe a signal writes to, while handled
        self._helper: threading.Thread | None = None

    def on_stop(self, callback: Callable[[str], None]) -> None:
        """Call `callback(reason)` when a stop is asked (from a thread that may take locks,
        never from inside a signal handler)."""
        self._callbacks.append(callback)

    def request(self, reason: str) -> None:
        """Ask the run to stop (any thread; not from a signal handler: see `on_signals`)."""
        if self.reason is None:
            self.reason = reason
        for callback in self._callbacks:
            callback(self.reason)

    def stopping(self) -> bool:
        """Whether the run must not start another target (checks the time limit too)."""
        if self.reason is None and self.deadline is not None and time.monotonic() > self.deadline:
            self.request(f"run time limit of {self.max_seconds:g} s")
        return self.reason is not None

    @contextlib.contextmanager
    def on_signals(self) -> Iterator[None]:
        """SIGINT and SIGTERM stop the run while the block runs (main thread only). The
        handler only notes the reason and wakes a helper thread through a pipe, which calls
        the callbacks: a handler runs between two bytecodes of the main thread, which may
        hold the very locks the callbacks take. The helper starts once there is something
        for the callbacks to cut short (`start_relay`: the run built its HTTP client), so that
        a run that never fetches (a file, a saved page) costs no thread."""
        if threading.current_thread() is not threading.main_thread():
            yield
            return
        wake_read, wake_write = os.pipe()
        with self._relay_lock:
            self._wake_read = wake_read
            if self._relay_wanted:
                self._start_helper()

        def handler(signum, frame):
            name = signal.Signals(signum).name
            if self.reason is not None and signum == signal.SIGINT:
                raise KeyboardInterrupt
            self.reason = f"stopped by {name}"
            log.warning("%s: stopping; the current target is left for the next run", name)
            os.write(wake_write, b"s")  # read by the helper, at once or when it starts

        # the C module's signal(): `signal.signal` converts what it returns to an enum, by
        # raising and catching ValueError for a function handler: ~45 us of a page's run
        previous = {s: _signal.signal(s, handler) for s in (signal.SIGINT, signal.SIGTERM)}
        try:
            yield
        finally:
            for signum, old in previous.items():
                _signal.signal(signum, old)
            with self._relay_lock:
                helper, self._helper, self._wake_read = self._helper, None, None
            os.close(wake_write)  # the helper reads end-of-file and returns
            if helper is not None:
                helper.join()
            os.close(wake_read)

    def start_relay(self) -> None:
        """The callbacks now have waits to cut short (any thread): start the helper that calls
        them on a signal, if signals are handled (at once, or when `on_signals` begins)."""
        with self._relay_lock:
            self._relay_wanted = True
            if self._wake_read is not None and self._helper is None:
                self._start_helper()

    def _start_helper(self) -> None:
        assert self._wake_read is not None
        self._helper = threading.Thread(
            target=self._relay, args=(self._wake_read,), name="stop-relay", daemon=True
        )
        self._helper.start()

    def _relay(self, wake_read: int) -> None:
        while os.read(wake_read, 1):
            self.request(self.reason or "stopped")
