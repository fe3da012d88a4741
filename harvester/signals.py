"""Stopping a run: SIGINT/SIGTERM, and the run-time limit.

The first SIGINT or SIGTERM asks the run to stop: the target being read ends `stopped` at its
next entry (nothing of it is published; the next run reads it), what is done is committed and,
with `[run] state`, the run resumes when the same command runs again. The time limit is checked
between targets. A second SIGINT aborts at once (KeyboardInterrupt): uncommitted work is
dropped.
"""

from __future__ import annotations

import contextlib
import logging
import signal
import threading
import time
from collections.abc import Iterator

log = logging.getLogger("harvester")


class StopRequested(Exception):
    """A signal (or the time limit) arrived while a target was read: it ends `stopped`."""


class Stopper:
    def __init__(self, max_seconds: float | None):
        self.reason: str | None = None
        self.deadline = time.monotonic() + max_seconds if max_seconds else None
        self.max_seconds = max_seconds

    def stopping(self) -> bool:
        """Whether the run must not start another target (checks the time limit too)."""
        if self.reason is None and self.deadline is not None and time.monotonic() > self.deadline:
            self.reason = f"run time limit of {self.max_seconds:g} s"
        return self.reason is not None

    @contextlib.contextmanager
    def on_signals(self) -> Iterator[None]:
        if threading.current_thread() is not threading.main_thread():
            yield
            return

        def handler(signum, frame):
            name = signal.Signals(signum).name
            if self.reason is not None and signum == signal.SIGINT:
                raise KeyboardInterrupt
            self.reason = f"stopped by {name}"
            log.warning("%s: stopping; the current target is left for the next run", name)

        previous = {s: signal.signal(s, handler) for s in (signal.SIGINT, signal.SIGTERM)}
        try:
            yield
        finally:
            for signum, old in previous.items():
                signal.signal(signum, old)
