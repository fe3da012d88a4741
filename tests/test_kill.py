"""Kill test: a real `harvester run` killed with SIGKILL at many points, re-run until it
completes, ends with exactly the outputs of one clean run. SIGTERM/SIGINT stop cleanly.

The hf-papers source reads ~40 daily pages from a local server in this process; each reply is
slightly delayed so that a run lasts long enough to be killed in the middle. Kill points are
random delays (fixed seed) spread over the measured length of a clean run.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import random
import re
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from harvester.state import StateStore
from harvester.state_stores import open_state_store
from tests.fixtures.hf_site import daily_page_2026, make_items
from tests.localserver import LOOPBACK, LocalServer, ok

from . import clirun

pytestmark = LOOPBACK

FIRST_DAY = dt.date(2024, 3, 1)  # long before today: outside any refresh window
DAYS = 40
REPLY_DELAY = 0.03  # seconds per page: a run lasts ~1-2 s
KILLS = 24  # SIGKILL points in all
KILLS_PER_SCENARIO = 6  # then the run is left to complete and compared to the clean one
HARVESTER = [sys.executable, "-m", "harvester.cli"]


def _serve_days(server: LocalServer) -> None:
    for n in range(DAYS):
        day = FIRST_DAY + dt.timedelta(days=n)
        items = make_items(3 + n % 5, day=day, seed=n + 1)
        if n % 7 == 3:  # now and then an item the source must reject (kept in the rejects file)
            items[1]["paper"]["upvotes"] = "many"
        page = daily_page_2026(items, day=day)
        server.route(
            f"/papers/date/{day}",
            ok(page, content_type="text/html; charset=utf-8", delay=REPLY_DELAY),
        )


def write_config(
    directory: Path, server: LocalServer, mode: str = "replace", state: str = "state"
) -> Path:
    last = FIRST_DAY + dt.timedelta(days=DAYS - 1)
    config = directory / "run.toml"
    config.write_text(
        f"""
[run]
state = "{state}"
rejects = "out/rejects.jsonl"
rejects_mode = "{mode}"
checkpoint_seconds = 0.001
batch_size = 4

[fetch]
min_interval = 0
max_attempts = 1

[sources.hf]
plugin = "hf-papers"
base_url = "{server.url("")}"
daily_from = {FIRST_DAY}
daily_to = {last}

[sinks.jsonl]
path = "out/papers.jsonl"
mode = "{mode}"

[sinks.db]
plugin = "sqlite"
path = "out/papers.db"
""",
        encoding="utf-8",
    )
    return config


def start(config: Path, *extra: str) -> subprocess.Popen | clirun.ForkedPopen:
    """A run, forked or spawned (tests/clirun.py) as the clean run whose length sets the
    kill points."""
    return clirun.popen(
        [*HARVESTER, "run", str(config), *extra],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )


def run_to_end(config: Path, *extra: str) -> str:
    """Run `config` to its end; what it said on standard error."""
    proc = start(config, *extra)
    _, stderr = proc.communicate(timeout=120)
    assert proc.returncode == 0, stderr
    return stderr


def run_or_kill(config: Path, kill_after: float, *extra: str, until=None) -> bool:
    """Run `config`; SIGKILL it after `kill_after` seconds, or as soon as `until()` holds.
    True when it was killed; False when it finished first (then with status 0)."""
    proc = start(config, *extra)
    try:
        if until is not None:
            limit = time.monotonic() + 60
            while proc.poll() is None and time.monotonic() < limit:
                if until():
                    raise subprocess.TimeoutExpired(proc.args, 0)
                time.sleep(0.001)
        proc.wait(timeout=kill_after)
    except subprocess.TimeoutExpired:
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=30)
        killed = True
    else:
        killed = False
    with proc.stdout, proc.stderr:
        stderr = "" if killed else proc.stderr.read()
    assert killed or proc.returncode == 0, stderr
    return killed


def jsonl_records(path: Path) -> list[dict]:
    data = path.read_bytes()
    assert data == b"" or data.endswith(b"\n"), f"{path}: ends in a half line"
    return [json.loads(line) for line in data.splitlines()]


def without_stamp(records: list[dict], stamp: str) -> list[dict]:
    out = []
    for r in records:
        r = dict(r)
        r.pop(stamp, None)
        out.append(r)
    return sorted(out, key=lambda r: json.dumps(r, sort_keys=True))


def one_run_stamp(records: list[dict], stamp: str) -> None:
    """Records of one run share one stamp: a resumed run keeps the interrupted run's."""
    assert len({r[stamp] for r in records}) <= 1


def db_rows(path: Path) -> list[dict]:
    con = sqlite3.connect(path)
    try:
        assert con.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        con.execute("INSERT INTO papers_fts (papers_fts) VALUES ('integrity-check')")
        con.row_factory = sqlite3.Row
        rows = [dict(r) for r in con.execute("SELECT * FROM papers ORDER BY key")]
    finally:
        con.close()
    keys = [r["key"] for r in rows]
    assert len(keys) == len(set(keys))
    for r in rows:  # run-dependent columns
        for name in ("id", "harvested_at", "first_seen", "last_seen"):
            r.pop(name)
    return rows


class Outputs:
    """The outputs of one completed run, stamps removed, to compare runs by."""

    def __init__(self, out: Path):
        papers = jsonl_records(out / "papers.jsonl")
        rejects = jsonl_records(out / "rejects.jsonl")
        one_run_stamp(papers, "harvested_at")
        one_run_stamp(rejects, "rejected_at")
        keys = [p["key"] for p in papers]
        assert len(keys) == len(set(keys)), "duplicate papers in the JSONL"
        self.papers = without_stamp(papers, "harvested_at")
        self.rejects = without_stamp(rejects, "rejected_at")
        self.rows = db_rows(out / "papers.db")

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Outputs) and (
            (self.papers, self.rejects, self.rows) == (other.papers, other.rejects, other.rows)
        )


@pytest.fixture(scope="module")
def site():
    with LocalServer() as server:
        _serve_days(server)
        yield server


@pytest.fixture(scope="module")
def clean(site, tmp_path_factory) -> tuple[Outputs, float]:
    """A clean, uninterrupted run's outputs and how long it took."""
    directory = tmp_path_factory.mktemp("clean")
    config = write_config(directory, site)
    clirun.start_server()  # its start is not part of a run's length
    started = time.monotonic()
    run_to_end(config)
    seconds = time.monotonic() - started
    outputs = Outputs(directory / "out")
    assert len(outputs.papers) > 150 and len(outputs.rejects) == 6
    assert not (directory / "out" / "papers.jsonl.partial").exists()
    return outputs, seconds


def test_sigkill_at_many_points_then_rerun_gives_the_clean_output(site, clean, tmp_path):
    expected, seconds = clean
    rng = random.Random(20261121)
    config = write_config(tmp_path, site)
    out = tmp_path / "out"
    kills = 0
    scenarios = 0
    while kills < KILLS:
        scenarios += 1
        # Every scenario re-reads everything (--refresh): a killed run must also leave the
        # previous scenario's published output as it was.
        previous = Outputs(out) if (out / "papers.jsonl").exists() else None
        for _ in range(KILLS_PER_SCENARIO):
            if not run_or_kill(config, rng.uniform(0.05, seconds * 1.1), "--refresh"):
                break  # it finished before the kill point: this scenario is complete
            kills += 1
            # Killed: what is published is the previous good output or, when the kill came
            # after the final rename, the new complete one; never a mix or a half.
            if (out / "papers.jsonl").exists():
                published = Outputs(out).papers
                assert published == expected.papers or (
                    previous is not None and published == previous.papers
                )
            if (out / "papers.db").exists():
                db_rows(out / "papers.db")  # integrity holds after every kill
        run_to_end(config, "--refresh")
        assert Outputs(out) == expected, f"scenario {scenarios} differs from the clean run"
        assert StateStore(tmp_path / "state").load().run is None  # the journal is cleared
    assert kills >= 20


def test_sigkill_in_append_mode_then_rerun_appends_each_record_once(site, clean, tmp_path):
    """The default under [run] state: each run appends what it read. Killed at any point
    (before its first checkpoint included) and re-run, the file holds every record once."""
    expected, seconds = clean
    rng = random.Random(20261201)
    config = write_config(tmp_path, site, mode="append")
    out = tmp_path / "out" / "papers.jsonl"
    kills = 0
    for attempt in range(KILLS_PER_SCENARIO):
        size = out.stat().st_size if out.exists() else 0

        def wrote(size=size) -> bool:
            return out.exists() and out.stat().st_size > size

        # odd attempts: killed right after the first write, before the first checkpoint
        first_write = wrote if attempt % 2 else None
        if not run_or_kill(config, rng.uniform(0.05, seconds * 0.9), until=first_write):
            break
        kills += 1
    run_to_end(config)
    assert kills >= 3
    got = Outputs(tmp_path / "out")
    assert (got.papers, got.rejects) == (expected.papers, expected.rejects)
    assert got.rows == expected.rows


def test_sigkill_on_postgresql_state_then_rerun_gives_the_clean_output(
    site, clean, tmp_path, pg_url
):
    """The same guarantee with the run state in PostgreSQL: killed at random points (its
    journal and checkpoints are rows), re-run to the end, the outputs are the clean run's.
    As above, every run reads everything (--refresh), so a run that happens to complete
    before its kill point leaves the same output."""
    expected, seconds = clean
    rng = random.Random(20261212)
    state = f"{pg_url}?name=kill"
    config = write_config(tmp_path, site, state=state)
    kills = 0
    while kills < KILLS_PER_SCENARIO:
        kills += run_or_kill(config, rng.uniform(0.3, seconds * 0.9), "--refresh")
    run_to_end(config, "--refresh")
    assert Outputs(tmp_path / "out") == expected
    store = open_state_store(state, tmp_path, "unused")
    try:
        assert store.load().run is None  # the journal is cleared
    finally:
        store.close()


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT])
def test_sigterm_and_sigint_stop_cleanly_and_the_rerun_completes(site, clean, tmp_path, signum):
    expected, _ = clean
    config = write_config(tmp_path, site)
    before = len(site.requests)
    proc = start(config)
    try:
        limit = time.monotonic() + 60
        while len(site.requests) - before < 8:  # some pages done: the run is under way
            assert proc.poll() is None, proc.stderr.read()
            assert time.monotonic() < limit, "the run never got going"
            time.sleep(0.01)
        proc.send_signal(signum)
        _, stderr = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 3, stderr
    assert f"stopped by {signal.Signals(signum).name}" in stderr
    assert "re-run the same command to resume" in stderr
    out = tmp_path / "out"
    assert not (out / "papers.jsonl").exists()  # not published: the run is not complete
    state = StateStore(tmp_path / "state").load()
    assert state.run is not None and state.sources["hf"].done
    done_before = len(state.sources["hf"].done)
    assert done_before < DAYS
    said = run_to_end(config)
    assert "resuming the interrupted run" in said
    assert re.search(rf"\b{done_before} skipped\b", said), said
    assert Outputs(out) == expected
