"""What `harvester status` and the tests ask of a queue: aggregate SQL over procrastinate's
tables, by psycopg alone (importing procrastinate takes ~0.3 s of a command's start)."""

from __future__ import annotations

from typing import Any

from harvester.errors import StateError
from harvester.pgconn import connect, scalar

from .names import TASK

LISTED = 20  # failed, deferred and stalled targets named by status (the counts are complete)
STALLED_AFTER = 30.0  # status: a job whose worker sent no heartbeat for this long is stalled
# Whether the database holds procrastinate's schema (status, enqueue and workers ask it).
HAS_QUEUE = "SELECT to_regclass('procrastinate_jobs') IS NOT NULL AS found"


def has_schema(url: str) -> bool:
    con = connect(url, error=StateError, application="harvester queue", autocommit=True)
    try:
        return bool(scalar(con, HAS_QUEUE))
    finally:
        con.close()


# The kind of each job of a queue, as `status` names it (a job whose worker's heartbeat is older
# than the stall limit, or whose worker is gone, is stalled: another worker runs it again).
_KIND = """
    CASE WHEN j.status = 'todo' AND j.scheduled_at > now() THEN 'deferred'
         WHEN j.status = 'todo' THEN 'queued'
         WHEN j.status = 'doing' AND (w.id IS NULL OR
              w.last_heartbeat < now() - make_interval(secs => %(stalled)s)) THEN 'stalled'
         WHEN j.status = 'doing' THEN 'running'
         WHEN j.status = 'succeeded' THEN 'done'
         WHEN j.status = 'failed' THEN 'failed'
         ELSE 'cancelled' END"""
_JOBS = (
    "FROM procrastinate_jobs j LEFT JOIN procrastinate_workers w ON w.id = j.worker_id "
    "WHERE j.queue_name = %(queue)s AND j.task_name = %(task)s"
)
KINDS = ("queued", "deferred", "running", "stalled", "done", "failed", "cancelled")
# The latest `LISTED` jobs of the kinds status names one by one.
_NAMED = f"""
    SELECT kind, source, target, attempts, scheduled_at FROM (
        SELECT *, row_number() OVER (PARTITION BY kind ORDER BY id DESC) AS n FROM (
            SELECT {_KIND} AS kind, j.id, j.args->>'source' AS source,
                   j.args->>'target' AS target, j.attempts, j.scheduled_at
            {_JOBS} AND j.status IN ('todo', 'doing', 'failed')) k
        WHERE kind IN ('failed', 'deferred', 'stalled')) r
    WHERE n <= %(listed)s"""


def queue_status(url: str, name: str, stalled_after: float = STALLED_AFTER) -> dict[str, Any]:
    """The queue's jobs counted by what they are to a user, and the failed, deferred and
    stalled targets by name (at most `LISTED` of each, the latest first)."""
    args = {"queue": name, "task": TASK, "stalled": stalled_after, "listed": LISTED}
    con = connect(url, error=StateError, application="harvester queue", autocommit=True)
    try:
        query = f"SELECT {_KIND} AS kind, count(*) {_JOBS} GROUP BY 1"
        counts: dict[str, int] = dict(con.execute(query, args).fetchall())
        named = con.execute(_NAMED, args).fetchall()
    finally:
        con.close()
    found: dict[str, Any] = {"queue": name, **{k: counts.get(k, 0) for k in KINDS}}
    for kind in ("failed", "deferred", "stalled"):
        found[f"{kind}_targets"] = [
            {"source": source, "target": target, "attempts": attempts,
             **({"until": at.isoformat()} if kind == "deferred" else {})}
            for k, source, target, attempts, at in named if k == kind
        ]  # fmt: skip
    return found
