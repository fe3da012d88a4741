"""Where a config's jobs live, named without procrastinate (which takes ~0.3 s to import, and
`harvester status` has no use for it): the database and the queue's name, the task's name and a
job's lock."""

from __future__ import annotations

from pathlib import Path

from harvester.errors import UsageError
from harvester.pgconn import is_postgres_url, split_name
from harvester.plan import Plan

TASK = "harvester.target"


def job_lock(name: str, source: str, target: str) -> str:
    return f"{name}/{source}/{target}"


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
