"""One job: one (source, target) of a config, through the run loop (`harvester.run.Run` with
`only` that target and `job=True`) into the config's sinks, with its state in PostgreSQL.

What a config needs to run as jobs (`check_config`, a `UsageError` otherwise): `[run] state =
"postgresql://..."` (the done targets, validators and history every worker reads and writes;
the queue lives in the same database) and sinks that take concurrent writers from several
processes (`Sink.concurrent_writers`: the `postgres` sink). A job's rejects go to
``harvester_rejects`` in that database.

How a job ends, for procrastinate, by its target's outcome: done (complete, empty, skipped);
`TargetDeferred` (deferred: the host asked us to wait: retried at that time, however often);
`TargetFailed` (failed, incomplete, stale, stopped: retried with backoff up to `MAX_ATTEMPTS`,
then failed); another run holding the state (`LockedError`: retried a little later).
"""

from __future__ import annotations

import datetime as dt
import logging
from pathlib import Path
from typing import Any

from procrastinate import BaseRetryStrategy, RetryDecision

from harvester.build import Plan, build_plan
from harvester.config import load_config
from harvester.errors import LockedError, UsageError
from harvester.outcomes import OK_OUTCOMES, TargetOutcome
from harvester.pgconn import is_postgres_url, split_name
from harvester.run import Run

from .rejects import DatabaseRejects

log = logging.getLogger("harvester.worker")

MAX_ATTEMPTS = 3  # runs of a failing target before its job fails
LOCKED_RETRY = 10.0  # seconds before a job that met a run holding the state tries again


class TargetFailed(Exception):
    """The target failed (its reason); the job is retried with backoff."""


class TargetDeferred(Exception):
    """The target's host asked us to come back at `until` (UTC)."""

    def __init__(self, until: dt.datetime, reason: str):
        super().__init__(f"deferred until {until.isoformat()}: {reason}")
        self.until = until


class TargetGone(Exception):
    """The config no longer lists the target (changed since it was queued): not retried."""


class JobRetry(BaseRetryStrategy):
    """When a job that raised runs again: see the module docstring. `first_wait`: seconds
    before a failed target's second run (then 4 times longer each time)."""

    def __init__(self, first_wait: float = 5.0):
        self.first_wait = first_wait

    def get_retry_decision(self, *, exception: BaseException, job: Any) -> RetryDecision | None:
        if isinstance(exception, TargetDeferred):
            return RetryDecision(retry_at=exception.until)
        if isinstance(exception, LockedError):
            return RetryDecision(retry_in={"seconds": LOCKED_RETRY})
        if isinstance(exception, TargetGone) or job.attempts + 1 >= MAX_ATTEMPTS:
            return None
        return RetryDecision(retry_in={"seconds": self.first_wait * 4**job.attempts})


def queue_database(plan: Plan) -> tuple[str, str]:
    """(the database URL, the state's name) of a config fit for jobs; `UsageError` naming
    what is wrong otherwise."""
    state = plan.settings.state
    if state is None or not is_postgres_url(state):
        raise UsageError(
            f"{plan.file}: workers keep the state and the queue in PostgreSQL: set "
            '[run] state = "postgresql://..."'
        )
    for label, sink in plan.sinks:
        if not type(sink).concurrent_writers:
            raise UsageError(
                f"{plan.file}: [sinks.{label}]: the {sink.name!r} sink cannot take writers "
                "from several processes at once; workers need sinks that can (plugin = "
                '"postgres")'
            )
    url, name = split_name(state)
    return url, name or Path(plan.file).stem


class JobRunner:
    """Runs jobs of one config, one at a time, in a worker process. Plans are built once per
    set of `--set` overrides, so a worker keeps its limiter and robots.txt rules across jobs."""

    def __init__(self, config: Path, overrides: list[str]):
        self.config, self.overrides = config, overrides
        self._plans: dict[tuple[str, ...], Plan] = {}
        self.url, self.name = queue_database(self.plan(()))
        self.rejects = DatabaseRejects(self.url, self.name)  # one connection for every job

    def plan(self, job_overrides: tuple[str, ...]) -> Plan:
        plan = self._plans.get(job_overrides)
        if plan is None:
            config = load_config(self.config, [*self.overrides, *job_overrides])
            plan = self._plans[job_overrides] = build_plan(config)
            queue_database(plan)
        return plan

    def run(self, source: str, target: str, overrides: list[str], refresh: bool) -> dict:
        plan = self.plan(tuple(overrides))
        run = Run(plan, refresh=refresh, rejects=self.rejects, only={source: {target}},
                  job=True)  # fmt: skip
        try:
            report = run.execute()
        except LockedError as exc:
            log.warning("%s: %s: %s; trying again in %g s", source, target, exc, LOCKED_RETRY)
            raise
        done = report.sources[0] if report.sources else None
        if done is None or (done.planned == 0 and done.error is None):
            raise TargetGone(f"{source}: {target}: not among the config's targets any more")
        if done.error is not None:
            raise TargetFailed(done.error)
        ended = done.outcomes[0]
        if ended.outcome is TargetOutcome.DEFERRED and ended.until is not None:
            raise TargetDeferred(ended.until, ended.reason or "its host asked us to wait")
        if report.stopped:  # a signal: the worker stops, the job goes back to the queue
            raise TargetFailed(f"stopped: {report.stopped}")
        if ended.outcome not in OK_OUTCOMES:
            raise TargetFailed(f"{ended.outcome}: {ended.reason}")
        return {"outcome": str(ended.outcome), "written": done.written,
                "rejected": done.rejected}  # fmt: skip

    def close(self) -> None:
        self.rejects.disconnect()
