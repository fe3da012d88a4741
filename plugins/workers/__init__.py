"""Workers on a job queue: `harvester enqueue`, `harvester worker`, `harvester status`.

    harvester enqueue CONFIG [--set K=V ...] [--refresh]    every (source, target) as a job
    harvester worker CONFIG [--until-done]                   as many as wanted, on any machine
    harvester status CONFIG [--json]                         queued, running, done, failed, ...

The queue is procrastinate's, in the PostgreSQL database of `[run] state`; a worker runs each
job through the run loop (`harvester.run.Run`, one target, `job=True`) into the config's sinks,
which must take concurrent writers (the `postgres` sink). See docs/scaling.md.
"""

from __future__ import annotations

from harvester.errors import PluginError
from harvester.hookspecs import hookimpl
from harvester.pgconn import INSTALL

try:
    import procrastinate  # noqa: F401  (an optional dependency: say how to get it)
    import psycopg  # noqa: F401
except ImportError as exc:
    raise PluginError(f"harvester workers need procrastinate and psycopg: {INSTALL}") from exc


@hookimpl
def register_commands(cli) -> None:
    from .commands import enqueue, status, worker

    for command in (enqueue, worker, status):
        cli.add_command(command)
