"""The job queue: procrastinate in the state's PostgreSQL database.

One queue per state name (`[run] state`'s ``?name=``, else the config file's stem). A job is one
(source label, target id) of the config, with the `--set` overrides it was queued with and
`--refresh`. Its queueing lock and its lock are ``NAME/SOURCE/TARGET``: a target is never
queued twice, and never run by two workers at once.

procrastinate's schema (its tables and functions, ``procrastinate_*``) is applied by
`harvester enqueue` when the database has none yet (under an advisory lock, so two enqueues at
once do not race); `harvester worker` and `harvester status` expect it.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Iterable, Iterator
from typing import Any

import procrastinate
from procrastinate.exceptions import AlreadyEnqueued

from harvester.api import Target
from harvester.build import Plan
from harvester.errors import HarvesterError, StateError, UsageError
from harvester.pgconn import connect, describe

from .jobs import JobRetry

TASK = "harvester.target"


def make_app(url: str, *, sync: bool, retry: JobRetry | None = None) -> procrastinate.App:
    """The procrastinate app on `url`, with the harvester task registered. `sync`: for
    enqueue and status (a synchronous connector); a worker needs the asynchronous one, and
    its `retry` strategy decides when a job that raised runs again."""
    if sync:
        connector: Any = procrastinate.SyncPsycopgConnector(conninfo=url)
    else:  # one job at a time: a small pool (the worker, its listener, its heartbeat)
        connector = procrastinate.PsycopgConnector(conninfo=url, min_size=1, max_size=4)
    app = procrastinate.App(connector=connector)
    app.task(name=TASK, pass_context=True, retry=retry or JobRetry())(run_target)
    return app


def run_target(context, *, source: str, target: str, overrides: list[str], refresh: bool):
    """The task: run one target in this worker's `JobRunner` (see `.worker`)."""
    runner = context.additional_context["runner"]
    return runner.run(source, target, overrides, refresh)


def job_lock(name: str, source: str, target: str) -> str:
    return f"{name}/{source}/{target}"


def has_schema(url: str) -> bool:
    con = connect(url, error=StateError, application="harvester queue", autocommit=True)
    try:
        return con.execute("SELECT to_regclass('procrastinate_jobs') IS NOT NULL").fetchone()[0]
    finally:
        con.close()


def ensure_schema(url: str) -> bool:
    """Apply procrastinate's schema once; True when this call applied it."""
    con = connect(url, error=StateError, application="harvester queue", autocommit=True)
    try:
        con.execute("SELECT pg_advisory_lock(hashtextextended('harvester queue schema', 0))")
        if con.execute("SELECT to_regclass('procrastinate_jobs') IS NOT NULL").fetchone()[0]:
            return False
        app = make_app(url, sync=True)
        with app.open():
            app.schema_manager.apply_schema()
        return True
    finally:
        con.close()  # releases the advisory lock


def require_schema(url: str) -> None:
    if not has_schema(url):
        raise UsageError(
            f"{describe(url)}: no job queue here yet: `harvester enqueue CONFIG` creates it"
        )


def config_targets(plan: Plan) -> Iterator[tuple[str, str]]:
    """(source label, target id) of every target the config lists, in order."""
    for label, source in plan.sources:
        try:
            found = source.targets()
        except HarvesterError as exc:
            raise UsageError(f"{plan.file}: [sources.{label}]: {exc}") from exc
        for target in found:
            yield label, target.id if isinstance(target, Target) else str(target)


def enqueue(
    app: procrastinate.App, name: str, plan: Plan, overrides: list[str], refresh: bool
) -> tuple[int, int]:
    """Queue every target of `plan`: (queued, already queued)."""
    queued = already = 0
    task = app.tasks[TASK]
    for source, target in config_targets(plan):
        lock = job_lock(name, source, target)
        try:
            task.configure(queue=name, queueing_lock=lock, lock=lock).defer(
                source=source, target=target, overrides=overrides, refresh=refresh
            )
            queued += 1
        except AlreadyEnqueued:
            already += 1
    return queued, already


def queue_status(app: procrastinate.App, name: str) -> dict[str, Any]:
    """`summarize` the queue's jobs (synchronous app)."""
    return summarize(name, app.job_manager.list_jobs(queue=name, task=TASK))


def summarize(name: str, jobs: Iterable[Any]) -> dict[str, Any]:
    """Counts of a queue's jobs by what they are to a user, and the failed and deferred
    targets by name."""
    now = dt.datetime.now(dt.UTC)
    counts: Counter[str] = Counter()
    failed, deferred = [], []
    for job in jobs:
        kind = _kind(str(getattr(job.status, "value", job.status)), job.scheduled_at, now)
        counts[kind] += 1
        args = job.task_kwargs
        if kind == "failed":
            failed.append({"source": args["source"], "target": args["target"],
                           "attempts": job.attempts})  # fmt: skip
        elif kind == "deferred":
            deferred.append({"source": args["source"], "target": args["target"],
                             "until": job.scheduled_at.isoformat()})  # fmt: skip
    kinds = ("queued", "deferred", "running", "done", "failed", "cancelled")
    return {"queue": name, **{k: counts[k] for k in kinds}, "failed_targets": failed,
            "deferred_targets": deferred}  # fmt: skip


def _kind(status: str, scheduled_at: dt.datetime | None, now: dt.datetime) -> str:
    if status == "todo":
        return "deferred" if scheduled_at is not None and scheduled_at > now else "queued"
    return {"doing": "running", "succeeded": "done", "failed": "failed"}.get(status, "cancelled")


async def jobs_left(app: procrastinate.App, name: str, within: float) -> int:
    """Jobs a worker still has to wait for: running somewhere, or due within `within` seconds
    (a failed target's next run; not a deferral, which is longer than the fetcher sleeps)."""
    soon = dt.datetime.now(dt.UTC) + dt.timedelta(seconds=within)
    jobs = await app.job_manager.list_jobs_async(queue=name, task=TASK)
    return sum(
        job.status == "doing"
        or (job.status == "todo" and (job.scheduled_at is None or job.scheduled_at <= soon))
        for job in jobs
    )
