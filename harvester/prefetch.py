"""Fetching targets ahead of reading them, in order.

A source that implements `fetch(target)` (downloading a page) has it called on a small thread
pool, up to `workers` targets ahead, while the run reads the targets in their order on its own
thread: the network runs concurrently (within the fetcher's per-host limits and budgets) and
records, checkpoints and resumes stay in target order. A source without `fetch` is read one
target after another. A stop does not wait for the fetches in flight (the run's fetcher cuts
them short).
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING

from .api import Source, Target

if TYPE_CHECKING:
    from concurrent.futures import Future


def _fetch(source: Source, target: Target) -> BaseException | None:
    """Run `source.fetch(target)`; what it raised is returned, to be raised when it is read."""
    try:
        target.fetched = source.fetch(target)
    except Exception as exc:
        return exc
    return None


def prefetched(
    source: Source, targets: list[Target], workers: int, stopping: Callable[[], bool]
) -> Iterator[tuple[Target, BaseException | None]]:
    """(target, what its fetch raised or None), in order; no new fetch starts once `stopping()`."""
    if type(source).fetch is Source.fetch or workers <= 1 or len(targets) <= 1:
        for target in targets:
            if stopping():
                return
            yield target, _fetch(source, target)
        return
    # imported here: a run whose sources never fetch (files) does not pay for it (~5 ms)
    from concurrent.futures import ThreadPoolExecutor

    pool = ThreadPoolExecutor(workers, thread_name_prefix=f"fetch-{source.context.label}")
    pending: deque[tuple[Target, Future[BaseException | None]]] = deque()
    remaining = iter(targets)

    def fill() -> None:
        while len(pending) < workers and not stopping():
            upcoming = next(remaining, None)
            if upcoming is None:
                return
            pending.append((upcoming, pool.submit(_fetch, source, upcoming)))

    try:
        fill()
        while pending and not stopping():
            target, future = pending.popleft()
            while not _done(future):
                if stopping():  # a stop cuts the fetch short (Fetcher.abort): do not wait
                    return
            # the freed place is taken before the caller reads: `workers` fetches stay in
            # flight while it parses (refilled after, one thread sat idle through every parse)
            fill()
            yield target, future.result()
    finally:
        for _, future in pending:
            future.cancel()
        pool.shutdown(wait=not stopping(), cancel_futures=True)


def _done(future: Future) -> bool:
    """Whether `future` is done, waiting for it a moment (so the caller checks for a stop)."""
    try:
        future.exception(timeout=0.1)
    except TimeoutError:
        return False
    return True
