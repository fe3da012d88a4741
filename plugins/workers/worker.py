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
    options = {
        "queues": [runner.name],
        "concurrency": 1,  # a plan's sinks serve one run at a time
        "additional_context": {"runner": runner},
        "update_heartbeat_interval": heartbeat,
        "stalled_worker_timeout": stalled_after,
        "fetch_job_polling_interval": heartbeat,
        "install_signal_handlers": False,  # ours below: they also end the loop
        "delete_jobs": "never",  # `harvester status` counts done jobs
    }
    stopping = asyncio.Event()
    current: asyncio.Task | None = None

    def stop() -> None:
        stopping.set()
        if current is not None:
            current.cancel()  # procrastinate finishes the running job, then returns

    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop)
    async with app.open_async():
        while not stopping.is_set():
            await rescue_stalled(app, runner.name, stalled_after)
            if not until_done:
                rescuer = asyncio.create_task(_rescue_forever(app, runner.name, stalled_after))
            current = asyncio.create_task(app.run_worker_async(wait=not until_done, **options))
            with contextlib.suppress(asyncio.CancelledError):
                await current
            current = None
            if not until_done:
                rescuer.cancel()
                break
            if not await jobs_left(app, runner.name, within=DUE_SOON):
                break
            with contextlib.suppress(TimeoutError):  # others' jobs are running: look again
                await asyncio.wait_for(stopping.wait(), heartbeat)


async def _rescue_forever(app: procrastinate.App, queue: str, stalled_after: float) -> None:
    while True:
        await asyncio.sleep(stalled_after / 2)
        await rescue_stalled(app, queue, stalled_after)
