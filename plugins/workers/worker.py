"""`harvester worker`: a procrastinate worker running one job at a time through `JobRunner`.

A worker killed in the middle of a target stops sending heartbeats; after `stalled_after`
seconds the other workers find its job (procrastinate's stalled jobs: running on a worker
without a recent heartbeat) and put it back in the queue, where it runs again from the start.
Nothing is lost and nothing is written twice: the killed job committed nothing past its last
checkpoint, its state checkpoints claim only committed records, and the sinks upsert.

`until_done`: run while any job of the queue is running somewhere (so that a peer killed near
the end is still made up for) or due within `DUE_SOON` (a failed target's next run), then exit;
jobs deferred to a later time are left for a later worker. Otherwise: run until SIGINT or
SIGTERM (the current job is finished first).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal

import procrastinate

from .jobs import JobRetry, JobRunner
from .queue import TASK, jobs_left, make_app

log = logging.getLogger("harvester.worker")
# --until-done waits for jobs due this soon: a failed target's next runs (5 s, 20 s by default),
# not a host's deferral (longer than fetch.retry_after_cap, which the fetcher sleeps itself).
DUE_SOON = 60.0


async def rescue_stalled(app: procrastinate.App, queue: str, stalled_after: float) -> int:
    """Put the jobs of dead workers back in the queue; how many."""
    rescued = 0
    for job in await app.job_manager.get_stalled_jobs(
        queue=queue, task_name=TASK, seconds_since_heartbeat=stalled_after
    ):
        try:
            await app.job_manager.retry_job(job)
        except Exception as exc:  # another worker rescued it first: no longer "doing"
            log.debug("job %s: not retried: %s", job.id, exc)
            continue
        rescued += 1
        log.warning("job %s (%s) was left by a dead worker: queued again",
                    job.id, job.task_kwargs.get("target"))  # fmt: skip
    return rescued


async def work(
    runner: JobRunner, *, until_done: bool, stalled_after: float, retry_wait: float
) -> None:
    app = make_app(runner.url, sync=False, retry=JobRetry(retry_wait))
    heartbeat = max(0.2, stalled_after / 4)
    worker = _Worker(app, runner, until_done, stalled_after, look_again=min(heartbeat, 1.0))
    options = {
        "queues": [runner.name],
        "concurrency": 1,  # a plan's sinks serve one run at a time
        "additional_context": {"runner": runner},
        "update_heartbeat_interval": heartbeat,
        "stalled_worker_timeout": stalled_after,
        "fetch_job_polling_interval": worker.look_again,  # besides LISTEN/NOTIFY
        "install_signal_handlers": False,  # ours: they also end the rounds
        "delete_jobs": "never",  # `harvester status` counts done jobs
    }
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, worker.stop)
    try:
        async with app.open_async():
            await worker.rounds(options)
    finally:
        runner.close()


class _Worker:
    """Rounds of procrastinate's worker: stalled jobs queued again before each; with
    `until_done`, another round while others' jobs may still need making up for."""

    def __init__(self, app, runner: JobRunner, until_done: bool, stalled_after: float,
                 look_again: float):  # fmt: skip
        self.app, self.runner, self.until_done = app, runner, until_done
        self.stalled_after, self.look_again = stalled_after, look_again
        self.stopping = asyncio.Event()
        self.current: asyncio.Task | None = None

    def stop(self) -> None:
        self.stopping.set()
        if self.current is not None:
            self.current.cancel()  # procrastinate finishes the running job, then returns

    async def rounds(self, options: dict) -> None:
        queue = self.runner.name
        while not self.stopping.is_set():
            await rescue_stalled(self.app, queue, self.stalled_after)
            rescuer = None
            if not self.until_done:
                rescuer = asyncio.create_task(_rescue_forever(self.app, queue, self.stalled_after))
            run = self.app.run_worker_async(wait=not self.until_done, **options)
            self.current = asyncio.create_task(run)
            with contextlib.suppress(asyncio.CancelledError):
                await self.current
            self.current = None
            if rescuer is not None:
                rescuer.cancel()
                return
            if not await jobs_left(self.app, queue, within=DUE_SOON):
                return
            with contextlib.suppress(TimeoutError):  # others' jobs are running: look again
                await asyncio.wait_for(self.stopping.wait(), self.look_again)


async def _rescue_forever(app: procrastinate.App, queue: str, stalled_after: float) -> None:
    while True:
        await asyncio.sleep(stalled_after / 2)
        await rescue_stalled(app, queue, stalled_after)
