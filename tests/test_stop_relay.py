"""The stop relay (harvester.signals.Stopper): a signal during a run calls the stop callbacks
from a helper thread, which starts only once there is something to cut short (the run built
its HTTP client), so a run that never fetches starts no thread."""

from __future__ import annotations

import os
import signal
import threading
import time

from harvester.signals import Stopper


def relay_threads() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name == "stop-relay"]


def wait_for(condition, seconds: float = 10.0) -> bool:
    limit = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > limit:
            return False
        time.sleep(0.01)
    return True


def test_no_relay_thread_until_asked_and_a_signal_still_stops():
    stopper, called = Stopper(None), []
    stopper.on_stop(called.append)
    with stopper.on_signals():
        assert relay_threads() == []
        os.kill(os.getpid(), signal.SIGTERM)
        assert wait_for(lambda: stopper.reason is not None)
    assert stopper.reason == "stopped by SIGTERM"
    assert called == []  # nothing was waiting: no callback needed
    assert relay_threads() == []


def test_a_signal_before_the_relay_starts_reaches_the_callbacks_when_it_starts():
    stopper, called = Stopper(None), []
    stopper.on_stop(called.append)
    with stopper.on_signals():
        os.kill(os.getpid(), signal.SIGTERM)
        assert wait_for(lambda: stopper.reason is not None)
        stopper.start_relay()  # e.g. the run builds its HTTP client now
        assert wait_for(lambda: called == ["stopped by SIGTERM"])
    assert relay_threads() == []  # ended with the block


def test_relay_asked_before_the_block_starts_with_it():
    stopper, called = Stopper(None), []
    stopper.on_stop(called.append)
    stopper.start_relay()
    assert relay_threads() == []  # signals are not handled yet
    with stopper.on_signals():
        assert len(relay_threads()) == 1
        os.kill(os.getpid(), signal.SIGINT)
        assert wait_for(lambda: called == ["stopped by SIGINT"])
    assert relay_threads() == []
