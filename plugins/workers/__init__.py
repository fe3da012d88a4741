"""Workers on a job queue: `harvester enqueue`, `harvester worker`, and the queue's section of
`harvester status`.

    harvester enqueue CONFIG [--set K=V ...] [--refresh]    every (source, target) as a job
    harvester worker CONFIG [--until-done]                   as many as wanted, on any machine
    harvester status CONFIG [--json]                         the ledger, then the queue: queued,
                                                             running, done, failed, ...

The queue is procrastinate's, in the PostgreSQL database of `[run] state`; a worker runs each
job through the run loop (`harvester.run.Run`, one target, `job=True`) into the config's sinks,
which must take concurrent writers (the `postgres` sink). See docs/scaling.md.
"""

from __future__ import annotations

import importlib.util

from harvester.errors import PluginError
from harvester.hookspecs import hookimpl
from harvester.pgconn import INSTALL

# Optional dependencies: say how to get them. Only looked up here: importing procrastinate
# costs every `harvester` command ~0.1 s, so the commands import it when they run.
if importlib.util.find_spec("procrastinate") is None or importlib.util.find_spec("psycopg") is None:
    raise PluginError(f"harvester workers need procrastinate and psycopg: {INSTALL}")


@hookimpl
def register_commands(cli) -> None:
    from .commands import enqueue, worker

    for command in (enqueue, worker):
        cli.add_command(command)


@hookimpl
def status_section(plan):
    from .commands import queue_section

    return queue_section(plan)
