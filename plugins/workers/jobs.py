"""One job: one (source, target) of a config, through the run loop (`harvester.run.Run` with
`only` that target and `job=True`) into the config's sinks, with its state in PostgreSQL.

What a config needs to run as jobs (`check_config`, a `UsageError` otherwise): `[run] state =
"postgresql://..."` (the done targets, validators and history every worker reads and writes;
the queue lives in the same database) and sinks that take concurrent writers from several
processes (`Sink.concurrent_writers`: the `postgres` sink). A job's rejects go to
``harvester_rejects`` in that database.

How a job ends, for procrastinate, by its target's outcome: done (complete, empty, skipped);
`TargetDeferred` (deferred: the host asked us to wait: retried at that time, however often);
`TargetFailed` (failed, incomplete, stale: retried with backoff up to `MAX_ATTEMPTS` runs,
then failed); `TargetStopped` (the worker is stopping: back to the queue at once, for another
worker); `DatabaseLost` (the connection to the state, the store or the budget was lost: run
again shortly, however often: a worker waits for the database to come back); another run
holding the state (`LockedError`: retried a little later). Runs cut short by a stop or a lost
database count among the `MAX_ATTEMPTS` runs (procrastinate counts every run).
"""

from __future__ import annotations

import datetime as dt
import logging
from pathlib import Path
from typing import Any

from procrastinate import BaseRetryStrategy, RetryDecision

from harvester.build import build_plan
from harvester.config import load_config
from harvester.errors import LockedError, OutputError
from harvester.outcomes import OK_OUTCOMES, TargetOutcome
from harvester.pgconn import psycopg_module
from harvester.pgstate import LostConnection
from harvester.plan import Plan
from harvester.run import Run

from .names import queue_database
from .rejects import DatabaseRejects

log = logging.getLogger("harvester.worker")

MAX_ATTEMPTS = 3  # runs of a failing target before its job fails
LOCKED_RETRY = 10  # seconds before a job that met a run holding the state tries again
DATABASE_RETRY = 2  # seconds before a job cut short by a lost database runs again


class TargetFailed(Exception):
    """The target failed (its reason); the job is retried with backoff."""


class TargetDeferred(Exception):
    """The target's host asked us to come back at `until` (UTC)."""

    def __init__(self, until: dt.datetime, reason: str):
        super().__init__(f"deferred until {until.isoformat()}: {reason}")
        self.until = until


class TargetStopped(Exception):
    """The worker is stopping: the target ended `stopped`; the job goes back to the queue."""


class DatabaseLost(Exception):
    """The job lost its database connection (an outage, a restart): it runs again shortly."""


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
        if isinstance(exception, TargetStopped):
            return RetryDecision(retry_in={"seconds": 0})
        if isinstance(exception, DatabaseLost):
            return RetryDecision(retry_in={"seconds": DATABASE_RETRY})
        if isinstance(exception, LockedError):
            return RetryDecision(retry_in={"seconds": LOCKED_RETRY})
        if isinstance(exception, TargetGone) or job.attempts + 1 >= MAX_ATTEMPTS:
            return None
        return RetryDecision(retry_in={"seconds": self.first_wait * 4**job.attempts})


class JobRunner:
    """Runs jobs of one config, one at a time, in a worker process. Plans are built once per
    set of `--set` overrides, so a worker keeps its limiter and robots.txt rules across jobs."""

    def __init__(self, config: Path, overrides: list[str]):
        self.config, self.overrides = config, overrides
        self._plans: dict[tuple[str, ...], Plan] = {}
        self.url, self.name = queue_database(self.plan(()))
        self.rejects = DatabaseRejects(self.url, self.name)  # one connection for every job
        self.current: Run | None = None  # the job's run, while one runs (in a worker thread)
        self.stopping: str | None = None

    def stop(self, reason: str) -> None:
        """Stop the job running now (its target ends `stopped` at once: `Run.stopper`) and
        start no other. Called from the worker's event loop while the job runs in a thread."""
        self.stopping = reason
        run = self.current
        if run is not None:
            run.stopper.request(reason)

    def plan(self, job_overrides: tuple[str, ...]) -> Plan:
        plan = self._plans.get(job_overrides)
        if plan is None:
            config = load_config(self.config, [*self.overrides, *job_overrides])
            plan = self._plans[job_overrides] = build_plan(config)
            plan.client.serve_many_runs()
            queue_database(plan)
        return plan

    def run(self, source: str, target: str, overrides: list[str], refresh: bool) -> dict:
        if self.stopping:
            raise TargetStopped(self.stopping)
        plan = self.plan(tuple(overrides))
        run = Run(plan, refresh=refresh, rejects=self.rejects, only={source: {target}},
                  job=True)  # fmt: skip
        self.current = run
        try:
            if self.stopping:  # asked between the check above and now
                run.stopper.request(self.stopping)
            report = run.execute()
        except LockedError as exc:
            log.warning("%s: %s: %s; trying again in %g s", source, target, exc, LOCKED_RETRY)
            raise
        except OutputError as exc:
            if connection_lost(exc):
                log.warning("%s: %s: %s; running it again in %g s", source, target, exc,
                            DATABASE_RETRY)  # fmt: skip
                raise DatabaseLost(str(exc)) from exc
            raise
        finally:
            self.current = None
        return self._ended(report, source, target)

    @staticmethod
    def _ended(report, source: str, target: str) -> dict:
        """The job's result, or the exception that tells procrastinate what to do next."""
        done = report.sources[0] if report.sources else None
        if done is None or (done.planned == 0 and done.error is None):
            raise TargetGone(f"{source}: {target}: not among the config's targets any more")
        if done.error is not None:
            raise TargetFailed(done.error)
        ended = done.outcomes[0]
        if ended.outcome is TargetOutcome.DEFERRED and ended.until is not None:
            raise TargetDeferred(ended.until, ended.reason or "its host asked us to wait")
        if report.stopped:  # the worker stops: the job goes back to the queue
            raise TargetStopped(report.stopped)
        if ended.outcome not in OK_OUTCOMES:
            raise TargetFailed(f"{ended.outcome}: {ended.reason}")
        return {"outcome": str(ended.outcome), "written": done.written,
                "rejected": done.rejected}  # fmt: skip

    def close(self) -> None:
        self.rejects.disconnect()
        for plan in self._plans.values():
            plan.client.close_limiter()


def connection_lost(exc: BaseException) -> bool:
    """Whether an output error came from a lost database connection (the server went away,
    restarted, or refused connections), rather than from what was asked of it."""
    psycopg = psycopg_module()
    seen: BaseException | None = exc
    while seen is not None:
        if isinstance(seen, psycopg.OperationalError | LostConnection):
            return True
        seen = seen.__cause__ or seen.__context__
    return False
