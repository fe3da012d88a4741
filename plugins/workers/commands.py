"""The commands. Errors are `HarvesterError`s: the CLI turns them into messages and exit
statuses (2: the config cannot run as jobs, or no queue yet; 1: the database failed).
procrastinate is imported when a command runs, not when the CLI starts."""

from __future__ import annotations

import asyncio
import contextlib
import signal
from collections.abc import Iterator
from pathlib import Path

import click

from harvester.build import build_plan
from harvester.config import load_config
from harvester.errors import StateError
from harvester.fetch.settings import PROCESS_BUDGET
from harvester.masking import mask_secrets
from harvester.pgconn import describe, psycopg_module, redact

from .names import queue_database

CONFIG = click.argument("config", type=click.Path(dir_okay=False, path_type=Path))
OVERRIDES = click.option(
    "--set", "overrides", multiple=True, metavar="KEY=VALUE",
    help="Override a config value (TOML value), as for `harvester run`.",
)  # fmt: skip


def _plan(config: Path, overrides: tuple[str, ...]):
    plan = build_plan(load_config(config, list(overrides)))
    mask_secrets(plan.redactor)
    url, name = queue_database(plan)
    return plan, url, name


@contextlib.contextmanager
def _database_errors(url: str) -> Iterator[None]:
    """psycopg errors below a command as `StateError` (exit 1), the password masked."""
    try:
        yield
    except psycopg_module().Error as exc:
        raise StateError(f"{describe(url)}: {redact(str(exc).strip(), url)}") from None


@click.command()
@CONFIG
@OVERRIDES
@click.option("--refresh", is_flag=True, help="Jobs read their targets again, even done ones.")
def enqueue(config: Path, overrides: tuple[str, ...], refresh: bool) -> None:
    """Queue every (source, target) of CONFIG as a job for `harvester worker`.

    The queue lives in the database of `[run] state = "postgresql://..."` (its schema is
    created on first use). A target already queued is not queued again. `--set` overrides
    travel with the jobs, so workers run the targets this command listed.
    """
    from . import queue

    plan, url, name = _plan(config, overrides)
    with _database_errors(url):
        if queue.ensure_schema(url):
            click.echo(f"created the job queue in {describe(url)}", err=True)
        app = queue.make_app(url, sync=True)
        with app.open():
            queued, already = queue.enqueue(app, name, plan, list(overrides), refresh)
    click.echo(f"queue {name!r}: {queued} target(s) queued, {already} already queued", err=True)


@click.command()
@CONFIG
@OVERRIDES
@click.option("--until-done", is_flag=True, help="Exit when no job is queued or running.")
@click.option(
    "--stalled-after", type=click.FloatRange(min=1), default=30.0, show_default=True,
    help="Seconds without a heartbeat after which a worker's job is run again elsewhere.",
)  # fmt: skip
@click.option(
    "--retry-wait",
    type=click.FloatRange(min=0),
    default=5.0,
    show_default=True,
    help="Seconds before a failed target runs again (4 times longer each time; 3 runs in all).",
)
@click.option(
    "--keep-finished",
    type=click.FloatRange(min=0),
    default=24.0,
    show_default=True,
    help="Hours a finished job stays in the queue (for status) before it is deleted.",
)
@click.option(
    "--database-wait", type=click.FloatRange(min=0), default=600.0, show_default=True,
    help="Seconds a worker keeps trying to reach a lost database before it exits (status 1).",
)  # fmt: skip
def worker(
    config: Path,
    overrides: tuple[str, ...],
    until_done: bool,
    stalled_after: float,
    retry_wait: float,
    keep_finished: float,
    database_wait: float,
) -> None:
    """Run the queued jobs of CONFIG, one at a time, into its sinks (start as many as wanted,
    on any machine that reaches the database). A lost database is waited for (connecting
    again with back-off); SIGTERM or SIGINT stops the worker within seconds, its current job
    going back to the queue."""
    from .jobs import JobRunner

    for signum in (signal.SIGINT, signal.SIGTERM):  # until `work` sets the stopping ones
        signal.signal(signum, _stopped_while_starting)
    runner = JobRunner(config, list(overrides))
    plan = runner.plan(())
    mask_secrets(plan.redactor)
    if plan.client.settings.budget_store == PROCESS_BUDGET:
        click.echo(
            f'harvester: warning: {config}: [fetch] budget_store = "{PROCESS_BUDGET}": each '
            "worker paces itself, so N workers send N times the budget's requests (unset it: "
            "the state's database then holds one budget for all)",
            err=True,
        )
    with _database_errors(runner.url):  # a database out of reach is waited for, in `work`
        from .worker import Settings, work

        settings = Settings(until_done, stalled_after, retry_wait, keep_finished * 3600,
                            database_wait)  # fmt: skip
        asyncio.run(work(runner, settings))


def _stopped_while_starting(signum: int, frame: object) -> None:
    """A stop before the worker took a job (building the run, reaching the database): nothing
    to put back, so it ends at once, with status 1 and a line saying why."""
    raise SystemExit(f"harvester: worker stopped by {signal.Signals(signum).name} while starting")


def queue_section(plan):
    """The job queue of `plan`, for `harvester status` (None: the config does not run as jobs
    or has no queue yet)."""
    from harvester.api import StatusSection
    from harvester.errors import UsageError

    from .counts import STALLED_AFTER, has_schema, queue_status

    try:
        url, name = queue_database(plan)
    except UsageError:
        return None
    with _database_errors(url):
        if not has_schema(url):
            return None
        counts = queue_status(url, name)
    lines = [f"queue {name!r} in {describe(url)}"]
    lines += [f"  {kind:<9}{counts[kind]:>7}" for kind in QUEUE_KINDS]
    for kind, say in (("failed", "attempts"), ("stalled", "runs so far"), ("deferred", "")):
        for job in counts[f"{kind}_targets"]:
            end = f"until {job['until']}" if kind == "deferred" else f"({job['attempts']} {say})"
            lines.append(f"{kind + ':':<10}{job['source']}: {job['target']} {end}")
        if counts[kind] > len(counts[f"{kind}_targets"]):
            lines.append(f"{kind + ':':<10}... {counts[kind]} in all (the latest shown)")
    if counts["stalled"]:
        lines.append(
            f"stalled: running on a worker without a heartbeat for over "
            f"{STALLED_AFTER:g} s (gone?); a live worker runs it again"
        )
    return StatusSection("queue", counts, lines)


QUEUE_KINDS = ("queued", "deferred", "running", "stalled", "done", "failed")
