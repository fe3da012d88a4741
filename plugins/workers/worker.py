"""`harvester worker`: rounds of a procrastinate worker running one job at a time through
`JobRunner`, that survive the database going away and stop within seconds.

* **Rounds.** Each round is one procrastinate `Worker` (registered, heartbeating, fetching
  jobs). Before each, the jobs of dead workers are queued again (procrastinate's stalled jobs:
  running on a worker without a recent heartbeat, or whose worker is gone) and, once an hour,
  finished jobs older than the retention are deleted (`prune_finished`).
* **A lost database** ends the round (procrastinate stops a worker whose heartbeat or listener
  fails, after its current job, which fails on its own lost connection: `DatabaseLost`). The
  worker connects again with back-off (1 s, doubling, at most 15 s) for `database_wait`
  seconds, then exits (status 1). Back, it deletes the worker rows of its rounds whose end the
  database missed, so their unfinished jobs are stalled at once and run again.
* **A stop** (SIGTERM, SIGINT) stops the job running now (its target ends `stopped` at once,
  fetches in flight cut short, and the job goes back to the queue) and the round; should
  anything still hold the process `STOP_LIMIT` seconds later (a database that does not answer),
  it exits anyway: its job is then stalled, and another worker runs it.
* **`until_done`**: run while any job of the queue is running somewhere (so that a peer killed
  near the end is still made up for) or due within `DUE_SOON` (a failed target's next run),
  then exit; jobs deferred to a later time are left for a later worker. Otherwise: run until
  stopped.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import signal
import threading
import time
from dataclasses import dataclass

import procrastinate
from procrastinate.exceptions import ConnectorException
from procrastinate.worker import Worker

from harvester.errors import EXIT_FATAL, StateError
from harvester.pgconn import connect, describe, psycopg_module, redact

from .jobs import JobRetry, JobRunner
from .names import TASK
from .queue import jobs_left, make_app, prune_finished, require_schema, worker_pool

log = logging.getLogger("harvester.worker")
# --until-done waits for jobs due this soon: a failed target's next runs (5 s, 20 s by default),
# not a host's deferral (longer than fetch.retry_after_cap, which the fetcher sleeps itself).
DUE_SOON = 60.0
RECONNECT_FIRST, RECONNECT_MAX = 1.0, 15.0  # seconds between attempts to reach the database
STOP_LIMIT = 25.0  # seconds after a stop before the process exits whatever holds it
PRUNE_EVERY = 3600.0  # seconds between deletions of old finished jobs


@dataclass(frozen=True)
class Settings:
    until_done: bool
    stalled_after: float  # seconds without a heartbeat before a worker's job runs elsewhere
    retry_wait: float  # seconds before a failed target's second run
    keep_finished: float  # seconds a finished job stays in the queue
    database_wait: float  # seconds to keep trying a lost database


async def work(runner: JobRunner, settings: Settings) -> None:
    quiet_database_noise()
    worker = WorkerLoop(runner, settings)
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, worker.stop, f"stopped by {signal.Signals(signum).name}")
    try:
        await worker.run()
    finally:
        runner.close()


class WorkerLoop:
    def __init__(self, runner: JobRunner, settings: Settings):
        self.runner, self.settings = runner, settings
        self.app = self._new_app()
        self.heartbeat = max(0.2, settings.stalled_after / 4)
        self.look_again = min(self.heartbeat, 1.0)
        self.stopping = asyncio.Event()
        self.current: Worker | None = None
        self.orphans: list[int] = []  # worker ids of rounds whose end the database missed
        self.connected = False  # the database answered since the last loss
        self.pruned_at = float("-inf")

    def stop(self, reason: str) -> None:
        if self.stopping.is_set():
            return
        log.warning("%s: stopping; the current job goes back to the queue", reason)
        self.stopping.set()
        self.runner.stop(reason)
        if self.current is not None:
            self.current.stop()
        threading.Thread(target=_exit_later, args=(STOP_LIMIT,), daemon=True).start()

    async def run(self) -> None:
        """Rounds until done or stopped, connecting again whenever the database is lost."""
        lost_since, delay = time.monotonic(), RECONNECT_FIRST
        while not self.stopping.is_set():
            try:
                async with worker_pool(self.runner.url) as pool:
                    self.app = self._new_app()  # a connector serves one pool
                    async with self.app.open_async(pool):
                        await self._rounds()
                return
            except (ConnectorException, psycopg_module().Error) as exc:
                if self.stopping.is_set():
                    return
                if self.connected:  # lost just now: start counting
                    self.connected, lost_since, delay = False, time.monotonic(), RECONNECT_FIRST
                why = await asyncio.to_thread(unreachable, self.runner.url) or self._detail(exc)
                self._give_up_after(time.monotonic() - lost_since, why)
                log.warning("lost the database %s (%s); connecting again in %g s",
                            describe(self.runner.url), why, delay)  # fmt: skip
                await self._wait(delay)
                delay = min(delay * 2, RECONNECT_MAX)

    def _new_app(self) -> procrastinate.App:
        return make_app(self.runner.url, sync=False, retry=JobRetry(self.settings.retry_wait))

    def _give_up_after(self, lost_for: float, why: str) -> None:
        if lost_for > self.settings.database_wait:
            raise StateError(
                f"{describe(self.runner.url)}: unreachable for {lost_for:.0f} s "
                f"(--database-wait {self.settings.database_wait:g}): {why}"
            )

    def _detail(self, exc: BaseException) -> str:
        cause = exc.__cause__ or exc
        return redact(str(cause).strip().splitlines()[0] if str(cause).strip() else repr(cause),
                      self.runner.url)  # fmt: skip

    async def _rounds(self) -> None:
        queue, settings = self.runner.name, self.settings
        await require_schema(self.app, self.runner.url)
        await self._forget_orphans()
        self.connected = True
        while not self.stopping.is_set():
            await rescue_stalled(self.app, queue, settings.stalled_after)
            await self._prune()
            rescuer = None
            if not settings.until_done:
                rescuer = asyncio.create_task(_rescue_forever(self.app, queue, settings))
            try:
                await self._round()
            finally:
                if rescuer is not None:
                    rescuer.cancel()
            if self.stopping.is_set():
                return
            if settings.until_done and not await jobs_left(self.app, queue, within=DUE_SOON):
                return
            await self._wait(self.look_again)  # others' jobs are running: look again

    async def _round(self) -> None:
        """One procrastinate worker, until it stops (asked, no job left with `until_done`,
        or its heartbeat or listener failed)."""
        worker = Worker(
            self.app,
            queues=[self.runner.name],
            wait=not self.settings.until_done,
            concurrency=1,  # a plan's sinks serve one run at a time
            additional_context={"runner": self.runner},
            update_heartbeat_interval=self.heartbeat,
            stalled_worker_timeout=self.settings.stalled_after,
            fetch_job_polling_interval=self.look_again,  # besides LISTEN/NOTIFY
            install_signal_handlers=False,  # ours: they also stop the job
            delete_jobs="never",  # `harvester status` counts done jobs until they are pruned
        )
        self.current = worker
        try:
            await worker.run()
        finally:
            self.current = None
            if worker.worker_id is not None:  # not unregistered: the database was gone
                self.orphans.append(worker.worker_id)

    async def _forget_orphans(self) -> None:
        """Delete the worker rows of rounds the database missed the end of: their jobs left
        running have no worker, so `rescue_stalled` queues them again at once."""
        while self.orphans:
            await self.app.job_manager.unregister_worker(self.orphans[-1])
            self.orphans.pop()

    async def _prune(self) -> None:
        if time.monotonic() - self.pruned_at < PRUNE_EVERY:
            return
        deleted = await prune_finished(self.app, self.runner.name, self.settings.keep_finished)
        self.pruned_at = time.monotonic()
        if deleted:
            log.info("deleted %d finished job(s) older than %g h", deleted,
                     self.settings.keep_finished / 3600)  # fmt: skip

    async def _wait(self, seconds: float) -> None:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self.stopping.wait(), seconds)


# What a server answers when the URL is wrong rather than the server away (libpq's messages:
# psycopg gives no SQLSTATE for a refused connection). Waiting would not help.
_MISCONFIGURED = ("authentication failed", "does not exist", "no pg_hba.conf entry")


def unreachable(url: str) -> str | None:
    """Why a connection to `url` fails now (None: it does not), libpq's first line. A server
    that answers but refuses the URL (a wrong password, a database or role that does not
    exist) is a `StateError` at once: waiting would not help."""
    try:
        connect(url, error=StateError, application="harvester worker", autocommit=True).close()
    except StateError as exc:
        if any(words in str(exc) for words in _MISCONFIGURED):
            raise
        reason = str(exc).split("failed: ")[-1].strip()
        return reason.splitlines()[0] if reason else str(exc)
    return None


async def rescue_stalled(app: procrastinate.App, queue: str, stalled_after: float) -> int:
    """Put the jobs of dead workers back in the queue; how many."""
    rescued = 0
    for job in await app.job_manager.get_stalled_jobs(
        queue=queue, task_name=TASK, seconds_since_heartbeat=stalled_after
    ):
        try:
            await app.job_manager.retry_job(job)
        except ConnectorException as exc:  # another worker rescued it first: not "doing" now
            log.debug("job %s: not retried: %s", job.id, exc)
            continue
        rescued += 1
        log.warning("job %s (%s) was left by a dead worker or a lost database: queued again",
                    job.id, job.task_kwargs.get("target"))  # fmt: skip
    return rescued


async def _rescue_forever(app: procrastinate.App, queue: str, settings: Settings) -> None:
    while True:
        await asyncio.sleep(settings.stalled_after / 2)
        try:
            await rescue_stalled(app, queue, settings.stalled_after)
        except ConnectorException as exc:  # the database is gone: the round ends on its own
            log.debug("stalled jobs not looked for: %s", exc.__cause__ or exc)


class _DatabaseNoise(logging.Filter):
    """Drops what procrastinate, psycopg's pool and asyncio log, each with a traceback, every
    time a lost database fails one of their calls (a failed heartbeat, listener, poll or
    job acknowledgement; a pool's attempt to connect): the worker says it once ("lost the
    database ..."). Kept with -vv (DEBUG)."""

    def filter(self, record: logging.LogRecord) -> bool:
        if logging.getLogger("harvester").isEnabledFor(logging.DEBUG):
            return True
        exc = record.exc_info[1] if record.exc_info else None
        if isinstance(exc, ConnectorException | psycopg_module().Error):
            return False
        return not (record.name == "psycopg.pool" and "error connecting" in record.getMessage())


def quiet_database_noise() -> None:
    """On every log handler, first (before the CLI's redactor, which turns a record's
    exception into text): records of any logger reach them."""
    for handler in logging.getLogger().handlers:
        handler.filters.insert(0, _DatabaseNoise())


def _exit_later(seconds: float) -> None:
    """The last resort of a stop: whatever still holds the process after `seconds`."""
    time.sleep(seconds)
    log.error("still busy %g s after the stop: exiting without waiting (the job runs again "
              "on another worker)", seconds)  # fmt: skip
    logging.shutdown()
    os._exit(EXIT_FATAL)
