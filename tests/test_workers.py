"""Workers on the job queue (`harvester enqueue`, `worker`, `status`), as real processes against
a real PostgreSQL server and a local HTTP server.

The scale test: 8 workers harvest a 90-day range of daily pages from a server enforcing one
budget for everyone; 2 workers are killed (SIGKILL) mid-run; the others make up for them. The
final table equals a single-process SQLite run's rows, no request was refused, no row or
sighting is there twice.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import psycopg

from tests.fixtures.hf_site import daily_page_2026, make_items
from tests.localserver import LOOPBACK, LocalServer, drip, ok, retry_after, status
from tests.pg import PASSWORD, Watch
from tests.store_cases import decoded

from . import clirun

pytestmark = LOOPBACK

HARVESTER = [sys.executable, "-m", "harvester.cli"]
FIRST_DAY = dt.date(2024, 1, 1)  # long before today: outside any refresh window
RUN_DEPENDENT = ("harvested_at", "first_seen", "last_seen")  # differ from run to run


def harvester(*args: str, timeout: float = 120) -> subprocess.CompletedProcess:
    return clirun.run([*HARVESTER, *args], capture_output=True, text=True, timeout=timeout)


def start_worker(config: Path, *extra: str) -> subprocess.Popen | clirun.ForkedPopen:
    return clirun.popen(
        [*HARVESTER, "-v", "worker", str(config), "--until-done", "--stalled-after", "3",
         *extra],
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip


def serve_days(server: LocalServer, days: int, delay: float = 0.0) -> list[dt.date]:
    dates = [FIRST_DAY + dt.timedelta(days=n) for n in range(days)]
    for n, day in enumerate(dates):
        items = make_items(2 + n % 4, day=day, seed=n + 1)
        if n % 11 == 5:  # now and then an item the source must reject
            items[0]["paper"]["upvotes"] = "many"
        page = daily_page_2026(items, day=day)
        server.route(f"/papers/date/{day}", ok(page, content_type="text/html", delay=delay))
    return dates


def write_config(
    tmp: Path,
    server: LocalServer,
    url: str,
    days: int,
    *,
    sink: str = "",
    single: bool = False,
    fetch: str = 'budgets = { "127.0.0.1" = "30/2s" }',
) -> Path:
    """Jobs into the postgres sink, state in `url` (and so the budget: no `budget_store`
    line); `single`: one process of its own, its state a directory (the reference run)."""
    config = tmp / "jobs.toml"
    sink = sink or f'[sinks.db]\nplugin = "postgres"\nurl = "{url}"\n'
    state = "state" if single else f"{url}?name=jobs"
    config.write_text(
        f"""
[run]
state = "{state}"
rejects = "out/rejects.jsonl"
[fetch]
min_interval = 0
{fetch}
[sources.hf]
plugin = "hf-papers"
base_url = "{server.url("")}"
daily_from = {FIRST_DAY}
daily_to = {FIRST_DAY + dt.timedelta(days=days - 1)}
{sink}
""",
        encoding="utf-8",
    )
    return config


def queue_status(config: Path) -> dict:
    proc = harvester("status", str(config), "--json")
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout)["queue"]


def pg_rows(url: str) -> tuple[list[dict], list[tuple]]:
    with psycopg.connect(url, row_factory=psycopg.rows.dict_row) as con:
        papers = con.execute("SELECT * FROM papers").fetchall()
        sightings = con.execute(
            "SELECT key, source, source_ref, listing_date FROM sightings"
        ).fetchall()
    return comparable(papers), sorted(tuple(map(str, s.values())) for s in sightings)


def sqlite_rows(path: Path) -> tuple[list[dict], list[tuple]]:
    con = sqlite3.connect(path)
    con.row_factory = sqlite3.Row
    try:
        papers = [dict(r) for r in con.execute("SELECT * FROM papers")]
        sightings = con.execute("SELECT key, source, source_ref, listing_date FROM sightings")
        sightings = sorted(tuple(map(str, s)) for s in sightings)
    finally:
        con.close()
    return comparable(papers), sightings


def comparable(rows: list[dict]) -> list[dict]:
    out = []
    for row in rows:
        row = decoded(row)
        for name in RUN_DEPENDENT:
            row.pop(name, None)
        out.append(row)
    keys = [r["key"] for r in out]
    assert len(keys) == len(set(keys)), "a paper twice"
    return sorted(out, key=lambda r: r["key"])


# -- the scale test ---------------------------------------------------------------------------

DAYS, WORKERS, KILLED = 90, 8, 2


def test_eight_workers_two_killed_give_the_single_process_rows(tmp_path, pg_url):
    with LocalServer() as server:
        server.enforce_budget(40, 2)  # one budget for everyone: 40 requests per 2 s
        serve_days(server, DAYS, delay=0.1)  # a job spends its time in the target
        config = write_config(tmp_path, server, pg_url, DAYS)
        queued = harvester("enqueue", str(config))
        assert queued.returncode == 0, queued.stderr
        assert f"{DAYS} target(s) queued" in queued.stderr
        workers = [start_worker(config) for _ in range(WORKERS)]
        limit = time.monotonic() + 60
        with Watch(pg_url) as watch:
            while watch.done_jobs() < DAYS // 4:  # well under way
                assert time.monotonic() < limit, "the workers never got going"
                time.sleep(0.05)
        for worker in workers[:KILLED]:
            worker.send_signal(signal.SIGKILL)
        logs = []
        for worker in workers:
            _, stderr = worker.communicate(timeout=120)
            logs.append(stderr)
        refused, requests = server.rejected, len(server.requests)
        # The reference: one process, the same pages, into SQLite.
        single = tmp_path / "single"
        single.mkdir()
        sink = '[sinks.db]\nplugin = "sqlite"\npath = "papers.db"\n'
        proc = harvester("run", str(write_config(single, server, "", DAYS, sink=sink, single=True)))
    for worker, stderr in zip(workers[KILLED:], logs[KILLED:], strict=True):
        assert worker.returncode == 0, stderr
        assert PASSWORD not in stderr and "Traceback" not in stderr
    assert proc.returncode == 0, proc.stderr
    assert refused == 0, f"{refused} of {requests} requests were refused (429)"
    rescued = [line for log in logs for line in log.splitlines() if "left by a dead worker" in line]
    assert rescued, "no job was cut short by the kills"
    papers, sightings = pg_rows(pg_url)
    assert (papers, sightings) == sqlite_rows(single / "papers.db")
    assert len(papers) == sum(2 + n % 4 for n in range(DAYS)) - len(range(5, DAYS, 11))
    counts = queue_status(config)
    assert (counts["done"], counts["failed"], counts["queued"], counts["running"]) == (
        DAYS, 0, 0, 0,
    )  # fmt: skip
    with psycopg.connect(pg_url) as con:
        rejects = con.execute("SELECT count(*) FROM harvester_rejects").fetchone()[0]
    assert rejects == len(range(5, DAYS, 11))  # each once, retried jobs included


def test_workers_share_the_state_database_budget_without_being_told(tmp_path, pg_url):
    """Three workers, state in PostgreSQL, no `budget_store` and no budget for the site: each
    learns the budget the server advertises, and they book it in the state's database
    together, so no request is refused. The same fleet told to pace each process alone
    (`budget_store = "process"`) spends the budget three times over."""
    refused = {}
    for store in ("", 'budget_store = "process"'):
        with LocalServer() as server:
            server.enforce_budget(4, 2)
            serve_days(server, 12)
            config = write_config(tmp_path, server, pg_url, 12, fetch=store)
            name = "process" if store else "default"
            config.write_text(config.read_text().replace("name=jobs", f"name={name}"))
            assert harvester("enqueue", str(config)).returncode == 0
            workers = [start_worker(config) for _ in range(3)]
            for worker in workers:
                _, stderr = worker.communicate(timeout=120)
                assert worker.returncode == 0, stderr
            refused[name] = server.rejected
        assert queue_status(config)["done"] == 12
    assert refused["default"] == 0, f"{refused['default']} requests were refused (429)"
    assert refused["process"] > 0  # the control: the test can tell


# -- what a config needs, the queue's own rules -----------------------------------------------


def test_a_config_that_cannot_run_as_jobs_is_refused(tmp_path, pg_url):
    with LocalServer() as server:
        jsonl = '[sinks.out]\nplugin = "jsonl"\npath = "out/papers.jsonl"\n'
        config = write_config(tmp_path, server, pg_url, 3, sink=jsonl)
        for command in ("enqueue", "worker"):
            proc = harvester(command, str(config))
            assert proc.returncode == 2, proc.stderr
            assert "[sinks.out]: the 'jsonl' sink cannot take writers from several" in proc.stderr
        ledger = harvester("status", str(config), "--json")  # the ledger, and no queue section
        assert ledger.returncode == 0 and list(json.loads(ledger.stdout)) == ["ledger"]
        local_state = write_config(tmp_path, server, pg_url, 3)
        proc = harvester("enqueue", str(local_state), "--set", 'run.state="state"')
        assert proc.returncode == 2 and 'set [run] state = "postgresql://..."' in proc.stderr
        proc = harvester("worker", str(local_state))
        assert proc.returncode == 2 and "harvester enqueue CONFIG` creates it" in proc.stderr
        assert PASSWORD not in proc.stderr


def test_a_target_is_queued_once_and_the_workers_run_what_enqueue_listed(tmp_path, pg_url):
    with LocalServer() as server:
        serve_days(server, 6)
        config = write_config(tmp_path, server, pg_url, 6)
        first = harvester("enqueue", str(config), "--set", f"sources.hf.daily_to={FIRST_DAY}")
        again = harvester("enqueue", str(config))
        assert "1 target(s) queued" in first.stderr and "created the job queue" in first.stderr
        assert "5 target(s) queued, 1 already queued" in again.stderr
        assert queue_status(config)["queued"] == 6
        worker = start_worker(config)
        _, stderr = worker.communicate(timeout=120)
        assert worker.returncode == 0, stderr
        assert server.hits(f"/papers/date/{FIRST_DAY}") == 1
        counts = queue_status(config)
        assert (counts["done"], counts["queued"]) == (6, 0)
        # Queued again: done targets are skipped by the jobs, as by `harvester run`.
        requests = len(server.requests)
        assert "6 target(s) queued" in harvester("enqueue", str(config)).stderr
        worker = start_worker(config)
        _, stderr = worker.communicate(timeout=120)
        assert worker.returncode == 0 and len(server.requests) == requests
        assert queue_status(config)["done"] == 12


def test_deferred_and_failed_targets_show_in_status(tmp_path, pg_url):
    """A host asking for a long wait defers its targets (the pause is shared: the next day is
    not even asked for); a target that keeps failing is retried, then failed."""
    with LocalServer() as server:
        days = serve_days(server, 3)
        server.route(f"/papers/date/{days[1]}", retry_after(600))
        config = write_config(tmp_path, server, pg_url, 3)
        harvester("enqueue", str(config))
        worker = start_worker(config)
        _, stderr = worker.communicate(timeout=120)
        assert worker.returncode == 0, stderr
        assert server.hits(f"/papers/date/{days[2]}") == 0
        counts = queue_status(config)
        assert (counts["done"], counts["deferred"], counts["queued"]) == (1, 2, 0)
        until = dt.datetime.fromisoformat(counts["deferred_targets"][0]["until"])
        assert until > dt.datetime.now(dt.UTC) + dt.timedelta(seconds=500)
        text = harvester("status", str(config)).stdout
        assert f"deferred: hf: {server.url(f'/papers/date/{days[1]}')} until" in text

    with LocalServer() as server:  # another site, where one page is gone for good
        days = serve_days(server, 2)
        server.route(f"/papers/date/{days[0]}", status(404))
        config = write_config(tmp_path, server, pg_url, 2)
        config.write_text(config.read_text().replace("name=jobs", "name=gone"))
        harvester("enqueue", str(config))
        worker = start_worker(config, "--retry-wait", "0.1")
        _, stderr = worker.communicate(timeout=120)
        assert worker.returncode == 0, stderr
        assert server.hits(f"/papers/date/{days[0]}") == 3  # three runs of the target
        counts = queue_status(config)
        assert (counts["done"], counts["failed"]) == (1, 1)
        assert counts["failed_targets"][0]["target"].endswith(str(days[0]))
        assert PASSWORD not in harvester("status", str(config)).stdout


def test_a_stopped_worker_puts_its_job_back_at_once_and_leaves_the_rest_queued(tmp_path, pg_url):
    """SIGTERM while a job waits on a page the server takes 60 s to send: the worker exits
    within moments (its target ends `stopped`, its job goes back to the queue, not failed)
    and the next worker does the rest."""
    with LocalServer() as server:
        days = serve_days(server, 6)
        server.route(f"/papers/date/{days[2]}", drip(b"<html>" * 20, 0.5, head=False))
        config = write_config(tmp_path, server, pg_url, 6)
        harvester("enqueue", str(config))
        worker = clirun.popen(
            [*HARVESTER, "worker", str(config)], stderr=subprocess.PIPE, text=True
        )
        limit = time.monotonic() + 60
        while server.hits(f"/papers/date/{days[2]}") < 1:
            assert time.monotonic() < limit and worker.poll() is None
            time.sleep(0.05)
        time.sleep(0.5)
        stopped_at = time.monotonic()
        worker.send_signal(signal.SIGTERM)
        _, stderr = worker.communicate(timeout=60)
        took = time.monotonic() - stopped_at
        assert worker.returncode == 0, stderr
        assert took < 15, f"took {took:.1f} s to stop"  # the page needs 60 s
        counts = queue_status(config)
        assert (counts["running"], counts["stalled"], counts["failed"]) == (0, 0, 0)
        assert counts["done"] + counts["queued"] == 6 and counts["queued"] >= 1
        serve_days(server, 6)  # the slow page is whole again
        proc = start_worker(config)
        _, stderr = proc.communicate(timeout=120)
    assert proc.returncode == 0, stderr
    assert queue_status(config)["done"] == 6


def test_worker_processes_hold_no_password_in_their_command_or_the_database(tmp_path, pg_url):
    """The state, the budget rows and the queue's job arguments never hold a password."""
    with LocalServer() as server:
        serve_days(server, 2)
        config = write_config(tmp_path, server, pg_url, 2)
        harvester("enqueue", str(config))
        worker = start_worker(config)
        _, stderr = worker.communicate(timeout=120)
        assert worker.returncode == 0 and PASSWORD not in stderr
    with psycopg.connect(pg_url) as con:
        for table in ("harvester_state_log", "harvester_budget", "procrastinate_jobs"):
            text = con.execute(f"SELECT coalesce(string_agg(t::text, ''), '') FROM {table} t")
            assert PASSWORD not in text.fetchone()[0], table
    assert os.environ.get("PGPASSWORD") is None  # the URL carried it, nothing else


def test_jobs_wait_while_a_run_holds_the_state(tmp_path, pg_url):
    """A `harvester run` of the same state excludes jobs: a job meeting one asks for nothing
    and runs again later, once the run is over."""
    from harvester.pgstate import PostgresStateStore

    with LocalServer() as server:
        serve_days(server, 1)
        config = write_config(tmp_path, server, pg_url, 1)
        harvester("enqueue", str(config))
        run = PostgresStateStore(f"{pg_url}?name=jobs", "unused").lock()
        run.__enter__()  # as a run does
        worker = clirun.popen([*HARVESTER, "worker", str(config)], stderr=subprocess.PIPE,
                                  text=True)  # fmt: skip
        try:
            limit = time.monotonic() + 60
            with Watch(pg_url) as watch:
                while True:  # the job met the run, and waits for its next try
                    row = watch.row("SELECT attempts, status FROM procrastinate_jobs")
                    if row is not None and row[0] >= 1 and row[1] == "todo":
                        break
                    assert time.monotonic() < limit and worker.poll() is None
                    time.sleep(0.05)
                assert len(server.requests) == 0
                run.__exit__(None, None, None)
                while watch.done_jobs() < 1:  # its next try runs it
                    assert time.monotonic() < limit and worker.poll() is None
                    time.sleep(0.1)
        finally:
            worker.send_signal(signal.SIGTERM)
            _, stderr = worker.communicate(timeout=60)
    assert worker.returncode == 0, stderr
    assert "in use by harvester run pid" in stderr and PASSWORD not in stderr
    assert server.hits(f"/papers/date/{FIRST_DAY}") == 1


def test_status_marks_a_job_whose_worker_went_silent_as_stalled(tmp_path, pg_url):
    """A worker killed (SIGKILL) in the middle of a job leaves it "doing"; once its heartbeat
    is older than the stall limit (here aged in the database rather than waited for),
    `status` counts and names the job as stalled, not running."""
    with LocalServer() as server:
        days = serve_days(server, 3)
        server.route(f"/papers/date/{days[1]}", drip(b"<html>" * 20, 0.5, head=False))
        config = write_config(tmp_path, server, pg_url, 3)
        harvester("enqueue", str(config))
        worker = start_worker(config)
        limit = time.monotonic() + 60
        while server.hits(f"/papers/date/{days[1]}") < 1:
            assert time.monotonic() < limit and worker.poll() is None
            time.sleep(0.05)
        worker.send_signal(signal.SIGKILL)
        worker.wait()
    assert queue_status(config)["running"] == 1  # its heartbeat is still recent
    with psycopg.connect(pg_url) as con:
        con.execute("UPDATE procrastinate_workers SET last_heartbeat = now() - interval '1 hour'")
    counts = queue_status(config)
    assert (counts["running"], counts["stalled"]) == (0, 1)
    assert counts["stalled_targets"][0]["target"].endswith(str(days[1]))
    text = harvester("status", str(config)).stdout
    assert f"stalled:  hf: {server.url(f'/papers/date/{days[1]}')}" in text
    assert "without a heartbeat for over 30 s" in text


FINISHED = 100_000


def insert_finished_jobs(url: str, queue: str, count: int) -> None:
    """`count` finished jobs of `queue` (succeeded, a few failed), each with its events, a day
    old: as a long-lived queue holds them."""
    with psycopg.connect(url) as con:
        con.execute(
            "INSERT INTO procrastinate_jobs (queue_name, task_name, lock, args, status, attempts) "
            "SELECT %s, 'harvester.target', NULL, jsonb_build_object('source', 'hf', "
            "'target', 'http://example.org/papers/date/' || n, 'overrides', '[]'::jsonb, "
            "'refresh', false), CASE WHEN n %% 1000 = 0 THEN 'failed' ELSE 'succeeded' END"
            "::procrastinate_job_status, 1 FROM generate_series(1, %s) n",
            (queue, count),
        )
        con.execute(
            "INSERT INTO procrastinate_events (job_id, type, at) SELECT id, e.type::"
            "procrastinate_job_event_type, now() - interval '1 day' FROM procrastinate_jobs, "
            "(VALUES ('deferred'), ('started'), ('succeeded')) e(type) WHERE queue_name = %s",
            (queue,),
        )


def test_status_and_until_done_ask_aggregate_questions_of_a_queue_of_100000_jobs(
    tmp_path, pg_url, monkeypatch
):
    """100,000 finished jobs: `status` and `--until-done` get counts and a few names from the
    database, never the jobs (every query they make returns at most a few dozen rows); a
    worker deletes finished jobs older than its retention."""
    with LocalServer() as server:
        serve_days(server, 1)
        config = write_config(tmp_path, server, pg_url, 1)
        harvester("enqueue", str(config))  # the queue's schema
        insert_finished_jobs(pg_url, "jobs", FINISHED)
        returned = count_rows_returned(monkeypatch)
        from harvester_plugins.workers import counts as queue_counts

        counts = queue_counts.queue_status(pg_url, "jobs")
        assert (counts["done"], counts["failed"], counts["queued"]) == (
            FINISHED - FINISHED // 1000, FINISHED // 1000, 1,
        )  # fmt: skip
        assert len(counts["failed_targets"]) == queue_counts.LISTED
        assert jobs_left_now(pg_url) == 1
        assert returned and max(returned) <= 3 * queue_counts.LISTED, returned
        text = harvester("status", str(config)).stdout
        assert f"failed:   ... {FINISHED // 1000} in all (the latest shown)" in text
        # A worker keeping finished jobs 0 hours deletes them (its own included, next time).
        worker = start_worker(config, "--keep-finished", "0")
        _, stderr = worker.communicate(timeout=120)
        assert worker.returncode == 0, stderr
    counts = queue_status(config)
    assert (counts["done"], counts["failed"], counts["queued"]) == (1, 0, 0)
    with psycopg.connect(pg_url) as con:
        assert con.execute("SELECT count(*) FROM procrastinate_events").fetchone()[0] < 10


def count_rows_returned(monkeypatch) -> list[int]:
    """Spy on psycopg's cursors (sync and async): how many rows each query returned."""
    returned: list[int] = []
    for cursor in (psycopg.Cursor, psycopg.AsyncCursor):
        for name in ("fetchall", "fetchone", "fetchmany"):
            original = getattr(cursor, name)
            monkeypatch.setattr(cursor, name, spying(original, returned))
    return returned


def spying(original, returned: list[int]):
    if asyncio.iscoroutinefunction(original):

        async def spy_async(self, *args, **kwargs):
            rows = await original(self, *args, **kwargs)
            returned.append(len(rows) if isinstance(rows, list) else int(rows is not None))
            return rows

        return spy_async

    def spy(self, *args, **kwargs):
        rows = original(self, *args, **kwargs)
        returned.append(len(rows) if isinstance(rows, list) else int(rows is not None))
        return rows

    return spy


def jobs_left_now(url: str) -> int:
    from harvester_plugins.workers import queue as jobs_queue

    async def ask() -> int:
        async with jobs_queue.worker_pool(url) as pool:
            app = jobs_queue.make_app(url, sync=False)
            async with app.open_async(pool):
                return await jobs_queue.jobs_left(app, "jobs", within=60)

    return asyncio.run(ask())


def test_status_reads_the_queue_without_procrastinate():
    """`harvester status` reads the queue by SQL alone: importing procrastinate costs ~0.3 s."""
    code = (
        "import sys; import harvester_plugins.workers.commands, harvester_plugins.workers.counts;"
        "print('procrastinate' in sys.modules)"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert done.returncode == 0 and done.stdout.strip() == "False", done.stderr
