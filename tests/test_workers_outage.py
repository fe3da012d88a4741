"""Workers survive the database: a real PostgreSQL server (the state, the queue, the budget and
the sink all in it) is stopped under four `harvester worker --until-done` processes and started
again 8-20 s later, at a different moment of the run in each trial. Every day must end done
exactly once (one succeeded job per day, each day's papers and sightings once, none failed)
and every worker must exit by itself, status 0: no SIGKILL.

`test_workers_survive_a_database_outage` runs 3 trials, one test each so that xdist workers run
them side by side, each on its own server;
`test_workers_survive_ten_database_outages` (marked soak: `pytest -m soak`, not in the test
command) runs the 10 trials of issue 22.
The server is the test's own (`tests.pg.running_server`), not the session's shared one.
"""

from __future__ import annotations

import signal
import socket
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import psycopg
import pytest

from tests.localserver import LOOPBACK, LocalServer
from tests.pg import PASSWORD, PgServer, Watch, find_bindir, running_server
from tests.test_workers import HARVESTER, harvester, queue_status, serve_days, write_config

from . import clirun

pytestmark = LOOPBACK

DAYS, WORKERS = 12, 4
PAGE_DELAY = 0.3  # seconds per page: a run spans the outage
EXIT_LIMIT = 150  # seconds after the server is back by which every worker must have exited


@dataclass(frozen=True)
class Outage:
    after_done: int  # the server stops once this many jobs are done ...
    then: float  # ... and this many seconds more
    down: float  # seconds it stays down


@pytest.fixture(scope="module")
def own_server() -> Iterator[PgServer]:
    if find_bindir() is None:
        pytest.skip("PostgreSQL server binaries not installed")
    with running_server() as server:
        yield server


def trial(tmp: Path, server: PgServer, outage: Outage) -> None:
    url = server.url(server.create_database())
    with LocalServer() as site:
        dates = serve_days(site, DAYS, delay=PAGE_DELAY)
        config = write_config(tmp, site, url, DAYS)
        assert harvester("enqueue", str(config)).returncode == 0
        logs = [tmp / f"worker-{n}.log" for n in range(WORKERS)]
        workers = [
            clirun.popen(
                [*HARVESTER, "worker", str(config), "--until-done", "--stalled-after", "5",
                 "--retry-wait", "1"],
                stdout=subprocess.DEVNULL, stderr=log.open("w"),
            )
            for log in logs
        ]  # fmt: skip
        try:
            limit = time.monotonic() + 90
            with Watch(url) as watch:
                while watch.done_jobs() < outage.after_done:
                    assert time.monotonic() < limit, "the workers never got going"
                    time.sleep(0.05)
            time.sleep(outage.then)
            server.stop()
            time.sleep(outage.down)
            server.start()
            limit = time.monotonic() + EXIT_LIMIT
            while any(w.poll() is None for w in workers) and time.monotonic() < limit:
                time.sleep(0.2)
            still = [n for n, w in enumerate(workers) if w.poll() is None]
        finally:
            for worker in workers:
                if worker.poll() is None:
                    worker.send_signal(signal.SIGKILL)
                    worker.wait()
        texts = [log.read_text() for log in logs]
        assert not still, f"workers {still} still running {EXIT_LIMIT} s after the outage"
        for worker, text in zip(workers, texts, strict=True):
            assert worker.returncode == 0, text[-3000:]
            assert PASSWORD not in text
        assert any("lost the database" in text for text in texts)
        counts = queue_status(config)
        assert (counts["done"], counts["failed"], counts["queued"], counts["running"]) == (
            DAYS, 0, 0, 0,
        ), counts  # fmt: skip
        with psycopg.connect(url) as con:
            days = dict(
                con.execute("SELECT listing_date, count(*) FROM sightings GROUP BY 1").fetchall()
            )
            papers = con.execute("SELECT count(*) FROM papers").fetchone()[0]
    expected = {day: 2 + n % 4 - (n % 11 == 5) for n, day in enumerate(dates)}
    assert days == expected  # every day's papers, each once
    assert papers == sum(expected.values())


def outages(count: int) -> list[Outage]:
    """`count` outages spread over the run: stopping after 1 to 10 done jobs (plus a fraction
    of a second), down for 8 to 20 s."""
    return [
        Outage(
            after_done=1 + (n * 9) // max(count - 1, 1),
            then=0.4 * (n % 3),
            down=8 + (12 * n) / max(count - 1, 1),
        )
        for n in range(count)
    ]


@pytest.mark.parametrize("outage", outages(3), ids=lambda o: f"{o.after_done}-done-{o.down:g}s")
def test_workers_survive_a_database_outage(tmp_path, own_server, outage):
    trial(tmp_path, own_server, outage)


@pytest.mark.soak
@pytest.mark.timeout(1800)
def test_workers_survive_ten_database_outages(tmp_path, own_server):
    for n, outage in enumerate(outages(10)):
        (tmp_path / str(n)).mkdir()
        trial(tmp_path / str(n), own_server, outage)


def test_sigterm_stops_a_worker_within_seconds_while_its_database_is_down(tmp_path, own_server):
    """The server stops under a worker (it keeps trying to connect again); SIGTERM ends it
    within the 30 s promise, status 0. Back, another worker does what is left, the job the
    first one was running included."""
    url = own_server.url(own_server.create_database())
    with LocalServer() as site:
        serve_days(site, DAYS, delay=PAGE_DELAY)
        config = write_config(tmp_path, site, url, DAYS)
        assert harvester("enqueue", str(config)).returncode == 0
        worker = clirun.popen([*HARVESTER, "worker", str(config), "--stalled-after", "5"],
                                  stderr=subprocess.PIPE, text=True)  # fmt: skip
        try:
            limit = time.monotonic() + 60
            with Watch(url) as watch:
                while watch.done_jobs() < 2:
                    assert time.monotonic() < limit and worker.poll() is None
                    time.sleep(0.05)
            own_server.stop()
            time.sleep(3)  # the worker has noticed, and waits for the database
            stopped_at = time.monotonic()
            worker.send_signal(signal.SIGTERM)
            _, stderr = worker.communicate(timeout=60)
            took = time.monotonic() - stopped_at
        finally:
            own_server.start()
            if worker.poll() is None:
                worker.kill()
                worker.wait()
        assert worker.returncode == 0, stderr
        assert took < 30, f"took {took:.1f} s to stop"
        rest = clirun.run([*HARVESTER, "worker", str(config), "--until-done",
                               "--stalled-after", "5"], capture_output=True, text=True,
                              timeout=180)  # fmt: skip
        assert rest.returncode == 0, rest.stderr
    counts = queue_status(config)
    assert (counts["done"], counts["failed"], counts["running"]) == (DAYS, 0, 0)


def test_sigterm_stops_a_worker_whose_database_never_answers(tmp_path):
    """A database address that accepts connections and never answers (a server hung, a
    network dropping packets): the worker waits for it, and SIGTERM still ends it within
    30 s (connecting gives up after 10 s; the last resort is 25 s after the stop)."""
    with socket.socket() as hole, LocalServer() as site:
        hole.bind(("127.0.0.1", 0))
        hole.listen(16)  # accepted by the kernel, never read
        url = f"postgresql://postgres:{PASSWORD}@127.0.0.1:{hole.getsockname()[1]}/db"
        config = write_config(tmp_path, site, url, 2)
        worker = clirun.popen([*HARVESTER, "worker", str(config)], stderr=subprocess.PIPE,
                                  text=True)  # fmt: skip
        hole.settimeout(60)
        held, _ = hole.accept()  # the worker is connecting (started, its handlers set): never read
        time.sleep(2)
        assert worker.poll() is None
        stopped_at = time.monotonic()
        worker.send_signal(signal.SIGTERM)
        _, stderr = worker.communicate(timeout=60)
        took = time.monotonic() - stopped_at
        held.close()
    assert took < 30, f"took {took:.1f} s to stop"
    assert worker.returncode in (0, 1), stderr
    assert PASSWORD not in stderr and "Traceback" not in stderr
