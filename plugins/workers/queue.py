"""The job queue: procrastinate in the state's PostgreSQL database.

One queue per state name (`[run] state`'s ``?name=``, else the config file's stem). A job is one
(source label, target id) of the config, with the `--set` overrides it was queued with and
`--refresh`. Its queueing lock and its lock are ``NAME/SOURCE/TARGET``: a target is never
queued twice, and never run by two workers at once.

procrastinate's schema (its tables and functions, ``procrastinate_*``) is applied by
`harvester enqueue` when the database has none yet (under an advisory lock, so two enqueues at
once do not race); `harvester worker` and `harvester status` expect it.

What `status` (counts.py) and `--until-done` ask of the queue are aggregate queries (counts, and
at most `counts.LISTED` targets by name), whatever the number of finished jobs; finished jobs are
deleted after the workers' retention (`prune_finished`), so the queue stays small.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import AsyncIterator, Iterator
from typing import Any

import procrastinate
from procrastinate.exceptions import AlreadyEnqueued
from procrastinate.types import JSONValue

from harvester.api import Target
from harvester.errors import HarvesterError, StateError, UsageError
from harvester.pgconn import CONNECT_TIMEOUT, connect, describe, scalar, settings
from harvester.plan import Plan

from .counts import HAS_QUEUE
from .jobs import JobRetry
from .names import TASK, job_lock

POOL_WAIT = 5.0  # seconds a worker's query waits for a connection (the database may be gone)


def make_app(url: str, *, sync: bool, retry: JobRetry | None = None) -> procrastinate.App:
    """The procrastinate app on `url`, with the harvester task registered. `sync`: for
    enqueue (a synchronous connector); a worker needs the asynchronous one (opened on a
    `worker_pool`), and its `retry` strategy decides when a job that raised runs again."""
    if sync:
        connector: Any = procrastinate.SyncPsycopgConnector(conninfo=url)
    else:
        connector = procrastinate.PsycopgConnector(conninfo=url)
    app = procrastinate.App(connector=connector)
    app.task(name=TASK, pass_context=True, retry=retry or JobRetry())(run_target)
    return app


@contextlib.asynccontextmanager
async def worker_pool(url: str) -> AsyncIterator[Any]:
    """A worker's connections (one job at a time: itself, its listener, its heartbeat), opened
    within `POOL_WAIT` seconds or `psycopg_pool.PoolTimeout` (procrastinate's own pool waits
    30 s to open, longer than a stop may take), closed at the end."""
    from psycopg_pool import AsyncConnectionPool

    said = "connect_timeout" in settings(url) or os.environ.get("PGCONNECT_TIMEOUT")
    pool = AsyncConnectionPool(
        url, min_size=1, max_size=4, timeout=POOL_WAIT, open=False,
        check=AsyncConnectionPool.check_connection,
        kwargs={} if said else {"connect_timeout": CONNECT_TIMEOUT},  # a server that hangs
    )  # fmt: skip
    try:
        await pool.open(wait=True, timeout=POOL_WAIT)
        yield pool
    finally:
        await pool.close(timeout=POOL_WAIT)


def run_target(context, *, source: str, target: str, overrides: list[str], refresh: bool):
    """The task: run one target in this worker's `JobRunner` (see `.worker`)."""
    runner = context.additional_context["runner"]
    return runner.run(source, target, overrides, refresh)


def ensure_schema(url: str) -> bool:
    """Apply procrastinate's schema once; True when this call applied it."""
    con = connect(url, error=StateError, application="harvester queue", autocommit=True)
    try:
        con.execute("SELECT pg_advisory_lock(hashtextextended('harvester queue schema', 0))")
        if scalar(con, HAS_QUEUE):
            return False
        app = make_app(url, sync=True)
        with app.open():
            app.schema_manager.apply_schema()
        return True
    finally:
        con.close()  # releases the advisory lock


async def require_schema(app: procrastinate.App, url: str) -> None:
    """`UsageError` when the database has no queue yet (a worker's first question to it)."""
    row = await app.connector.execute_query_one_async(HAS_QUEUE)
    if not row["found"]:
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
                source=source, target=target, overrides=list[JSONValue](overrides), refresh=refresh
            )
            queued += 1
        except AlreadyEnqueued:
            already += 1
    return queued, already


async def jobs_left(app: procrastinate.App, name: str, within: float) -> int:
    """Jobs a worker still has to wait for: running somewhere, or due within `within` seconds
    (a failed target's next run; not a deferral, which is longer than the fetcher sleeps)."""
    row = await app.connector.execute_query_one_async(
        "SELECT count(*) AS left FROM procrastinate_jobs WHERE queue_name = %(queue)s "
        "AND task_name = %(task)s AND (status = 'doing' OR (status = 'todo' AND "
        "(scheduled_at IS NULL OR scheduled_at <= now() + make_interval(secs => %(within)s))))",
        queue=name,
        task=TASK,
        within=within,
    )
    return row["left"]


async def prune_finished(app: procrastinate.App, name: str, keep_seconds: float) -> int:
    """Delete the queue's finished jobs (done, failed, cancelled) whose last event is older
    than `keep_seconds`, with their events; one worker at a time (the others skip it). How
    many were deleted."""
    row = await app.connector.execute_query_one_async(
        "WITH turn AS (SELECT pg_try_advisory_xact_lock(hashtextextended(%(key)s, 0)) AS mine), "
        "gone AS (DELETE FROM procrastinate_jobs j USING turn WHERE turn.mine AND "
        "j.queue_name = %(queue)s AND j.task_name = %(task)s AND j.status IN ('succeeded', "
        "'failed', 'cancelled', 'aborted') AND NOT EXISTS (SELECT 1 FROM procrastinate_events e "
        "WHERE e.job_id = j.id AND e.at > now() - make_interval(secs => %(keep)s)) RETURNING 1) "
        "SELECT count(*) AS deleted FROM gone",
        key=f"harvester queue prune {name}",
        queue=name,
        task=TASK,
        keep=keep_seconds,
    )
    return row["deleted"]
