"""What a run does to its outputs when things go wrong: a failed or empty run keeps them, a
second run at once is refused, an interrupted append never duplicates, a stale journal says
what to do. Runs are real `harvester run` subprocesses unless a fault must be injected."""

from __future__ import annotations

import datetime as dt
import fcntl
import json
import os
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from harvester.build import build_plan
from harvester.config import load_config
from harvester.errors import StateError
from harvester.lock import DirectoryLock
from harvester.run import Run
from harvester.state import StateStore
from tests.fixtures.hf_site import daily_page_2026, make_items
from tests.localserver import LOOPBACK, LocalServer, ok

from . import clirun
from .conftest import BUILTIN_PLUGINS

HARVESTER = [sys.executable, "-m", "harvester.cli"]


def dump_text(titles: list[str]) -> str:
    cards = "".join(f"{t}\n\nAbstract of {t}.\n\n  • 3 authors\n·\nSep 25\n\n" for t in titles)
    return f"Daily Papers\n\nDec 10\n\n{cards}"


def write_dumps(directory: Path, names: list[str], per_file: int = 4) -> None:
    directory.mkdir(parents=True, exist_ok=True)
    for name in names:
        titles = [f"Paper {k} of {name}" for k in range(per_file)]
        (directory / f"{name}.txt").write_text(dump_text(titles), encoding="utf-8")


def config(tmp: Path, inputs: list[str], *, state: bool = False, extra: str = "") -> Path:
    path = tmp / "run.toml"
    run = 'rejects = "out/rejects.jsonl"\n' + ('state = "state"\n' if state else "")
    path.write_text(
        f'[run]\n{run}{extra}\n[sources.dumps]\nplugin = "textdump"\n'
        f"inputs = {json.dumps(inputs)}\ncaptured_on = 2025-12-10\n\n"
        '[sinks.jsonl]\npath = "out/papers.jsonl"\n',
        encoding="utf-8",
    )
    return path


def harvester(*args, **kw) -> subprocess.CompletedProcess:
    env = {**os.environ, "HARVESTER_PLUGINS": BUILTIN_PLUGINS}
    return clirun.run(
        [*HARVESTER, *map(str, args)], capture_output=True, text=True, env=env, timeout=120, **kw
    )


def lines(path: Path) -> list[dict]:
    return [json.loads(x) for x in path.read_text(encoding="utf-8").splitlines()]


# -- a run that fails or finds nothing keeps the previous output ---------------------------------


@pytest.mark.parametrize(
    "inputs",
    [["dumps/mistyped.txt"], ["dumps/*.tx"], ["dumps"], ["dumps/mistyped.txt", "dumps/*.tx"]],
)
def test_a_run_whose_every_input_fails_keeps_the_previous_jsonl(tmp_path, inputs):
    write_dumps(tmp_path / "dumps", ["a", "b"])
    good = config(tmp_path, ["dumps/*.txt"])
    assert harvester("run", good).returncode == 0
    out = tmp_path / "out" / "papers.jsonl"
    before = out.read_bytes()
    assert len(lines(out)) == 8
    proc = harvester("run", config(tmp_path, inputs))
    assert proc.returncode == 3, proc.stderr
    assert out.read_bytes() == before
    assert "left as they were" in proc.stderr
    assert not (tmp_path / "out" / "papers.jsonl.partial").exists()


def test_under_state_a_rerun_that_finds_nothing_new_keeps_the_jsonl(tmp_path):
    write_dumps(tmp_path / "dumps", ["a", "b"])
    cfg = config(tmp_path, ["dumps/*.txt"], state=True)  # the sink's mode left to its default
    assert harvester("run", cfg).returncode == 0
    out = tmp_path / "out" / "papers.jsonl"
    before = out.read_bytes()
    again = harvester("run", cfg)
    assert again.returncode == 0, again.stderr
    assert out.read_bytes() == before  # never shrinks to what a re-run read
    write_dumps(tmp_path / "dumps", ["c"])
    assert harvester("run", cfg).returncode == 0
    assert out.read_bytes().startswith(before) and len(lines(out)) == 12  # appended once


def test_a_failure_is_reported_once_with_its_location(tmp_path):
    proc = harvester("run", config(tmp_path, ["missing.txt"]))
    assert proc.returncode == 3
    assert "failed: missing.txt: no such file" in proc.stderr
    assert "missing.txt: missing.txt" not in proc.stderr


# -- one run at a time ---------------------------------------------------------------------------


def test_a_second_run_on_a_held_state_fails_at_once_naming_the_holder(tmp_path):
    write_dumps(tmp_path / "dumps", ["a"])
    cfg = config(tmp_path, ["dumps/*.txt"], state=True)
    with DirectoryLock(tmp_path / "state"):
        proc = harvester("run", cfg)
    assert proc.returncode == 2, proc.stderr
    assert f"pid {os.getpid()}" in proc.stderr and "in use by another run" in proc.stderr
    assert not (tmp_path / "out").exists()
    assert harvester("run", cfg).returncode == 0  # the lock went with its holder


def test_a_second_run_writing_the_same_jsonl_is_refused(tmp_path):
    write_dumps(tmp_path / "dumps", ["a"])
    cfg = config(tmp_path, ["dumps/*.txt"])
    assert harvester("run", cfg).returncode == 0
    out = tmp_path / "out" / "papers.jsonl"
    before = out.read_bytes()
    partial = tmp_path / "out" / "papers.jsonl.partial"
    with open(partial, "w") as held:  # another run writing the same output
        fcntl.flock(held, fcntl.LOCK_EX)
        held.write("half a line")
        held.flush()
        proc = harvester("run", cfg)
        assert partial.read_text() == "half a line"  # not truncated under the other run
    assert proc.returncode == 2, proc.stderr
    assert "in use by another run" in proc.stderr and f"pid {os.getpid()}" in proc.stderr
    assert out.read_bytes() == before


@LOOPBACK
def test_a_second_run_while_one_runs_is_refused(tmp_path):
    """The first run reads slow pages (0.2 s each) from a local server; the second, started
    while it runs, is refused at once naming it; the first completes untouched."""
    days = [dt.date(2024, 3, 1) + dt.timedelta(days=n) for n in range(15)]
    with LocalServer() as server:
        for day in days:
            page = daily_page_2026(make_items(3, day=day, seed=day.day), day=day)
            server.route(f"/papers/date/{day}", ok(page, content_type="text/html", delay=0.2))
        cfg = tmp_path / "run.toml"
        cfg.write_text(
            f'[run]\nstate = "state"\n[fetch]\nmin_interval = 0\nper_host_concurrency = 1\n'
            f'[sources.hf]\nplugin = "hf-papers"\nbase_url = "{server.url("")}"\n'
            f"daily_from = {days[0]}\ndaily_to = {days[-1]}\n"
            '[sinks.jsonl]\npath = "out/papers.jsonl"\n',
            encoding="utf-8",
        )
        env = {**os.environ, "HARVESTER_PLUGINS": BUILTIN_PLUGINS}
        first = clirun.popen([*HARVESTER, "run", "-q", str(cfg)], env=env)
        while len(server.requests) < 3:  # under way: it holds the lock
            assert first.poll() is None
            time.sleep(0.01)
        second = harvester("run", cfg)
        running = first.poll() is None
        assert first.wait(timeout=60) == 0
    assert running, "the first run ended before the second was refused"
    assert second.returncode == 2, second.stderr
    assert f"pid {first.pid}" in second.stderr and "in use by another run" in second.stderr
    records = lines(tmp_path / "out" / "papers.jsonl")
    assert len(records) == 45 == len({r["key"] for r in records})
    assert StateStore(tmp_path / "state").load().run is None


# -- an interrupted append never duplicates --------------------------------------------------------


def test_a_failed_state_save_after_a_commit_does_not_duplicate_on_resume(tmp_path, monkeypatch):
    write_dumps(tmp_path / "dumps", ["a", "b", "c"])
    cfg = config(tmp_path, ["dumps/*.txt"], state=True, extra="checkpoint_seconds = 0.001\n")
    calls = {"n": 0}
    real_append = StateStore.append

    def append_then_fail(self, change, state):
        calls["n"] += 1
        if calls["n"] == 3:  # the sinks committed the second file's papers: disk full now
            raise StateError(f"{self.log}: cannot save the run state: No space left on device")
        real_append(self, change, state)

    monkeypatch.setattr(StateStore, "append", append_then_fail)
    with pytest.raises(StateError):
        Run(build_plan(load_config(cfg))).execute()
    monkeypatch.setattr(StateStore, "append", real_append)
    report = Run(build_plan(load_config(cfg))).execute()
    assert report.exit_status == 0
    refs = [r["source_ref"] for r in lines(tmp_path / "out" / "papers.jsonl")]
    assert len(refs) == 12 == len(set(refs))


def test_a_kill_before_the_first_checkpoint_does_not_duplicate(tmp_path):
    """The journal is saved before anything is written: a run killed before its first
    checkpoint resumes (cutting the append back) instead of starting over on top of it."""
    write_dumps(tmp_path / "dumps", ["a"])
    cfg = config(tmp_path, ["dumps/*.txt"], state=True)
    assert harvester("run", cfg).returncode == 0
    write_dumps(tmp_path / "dumps", [f"n{n:03d}" for n in range(300)], per_file=20)
    env = {**os.environ, "HARVESTER_PLUGINS": BUILTIN_PLUGINS}
    proc = clirun.popen([*HARVESTER, "run", "-q", str(cfg)], env=env)
    out = tmp_path / "out" / "papers.jsonl"
    size = out.stat().st_size
    for _ in range(2000):  # until the run has written past the old end, then kill it
        if out.stat().st_size > size or proc.poll() is not None:
            break
        os.sched_yield()
    proc.kill()
    assert proc.wait() == -9, "the run finished before it could be killed"
    assert harvester("run", cfg).returncode == 0
    refs = [r["source_ref"] for r in lines(out)]
    assert len(refs) == 4 + 300 * 20 == len(set(refs))


# -- a journal that cannot be resumed ------------------------------------------------------------


def test_a_stale_journal_says_what_to_do_and_can_be_discarded(tmp_path):
    write_dumps(tmp_path / "dumps", [f"d{n}" for n in range(5)])
    cfg = config(tmp_path, ["dumps/*.txt"], state=True, extra="max_run_seconds = 0.000001\n")
    cfg.write_text(
        cfg.read_text().replace(
            'path = "out/papers.jsonl"', 'path = "out/papers.jsonl"\nmode = "replace"'
        )
    )
    stopped = harvester("run", cfg)
    assert stopped.returncode == 3 and "re-run the same command to resume" in stopped.stderr
    (tmp_path / "out" / "papers.jsonl.partial").unlink()  # someone cleaned up
    stale = harvester("run", cfg, "--set", "run.max_run_seconds=1000")
    assert stale.returncode == 2, stale.stderr
    assert "cannot resume the interrupted run" in stale.stderr
    assert "--discard-journal" in stale.stderr and "Traceback" not in stale.stderr
    fresh = harvester("run", cfg, "--set", "run.max_run_seconds=1000", "--discard-journal")
    assert fresh.returncode == 0, fresh.stderr


def test_control_characters_never_reach_the_outputs(tmp_path):
    (tmp_path / "dumps").mkdir()
    (tmp_path / "dumps" / "a.txt").write_text(
        dump_text(["Bell\x07 and \x1b[31mescape\x1b[0m in a title"]), encoding="utf-8"
    )
    cfg = config(tmp_path, ["dumps/*.txt"])
    cfg.write_text(cfg.read_text() + '[sinks.db]\nplugin = "sqlite"\npath = "out/papers.db"\n')
    proc = harvester("run", cfg)
    assert proc.returncode == 0, proc.stderr
    raw = (tmp_path / "out" / "papers.jsonl").read_bytes()
    assert b"\\u001b" not in raw and b"\\u0007" not in raw
    [record] = lines(tmp_path / "out" / "papers.jsonl")
    assert record["title"] == "Bell and [31mescape[0m in a title"
    con = sqlite3.connect(tmp_path / "out" / "papers.db")
    [(title,)] = con.execute("SELECT title FROM papers").fetchall()
    con.close()
    assert title == record["title"]


def test_verbose_logs_say_what_happened_to_each_target_and_reject(tmp_path):
    write_dumps(tmp_path / "dumps", ["a"])
    (tmp_path / "dumps" / "b.txt").write_text(
        dump_text(["A Title", "Another Title"]).replace("Sep 25", "Feb 30", 1), encoding="utf-8"
    )
    cfg = config(tmp_path, ["dumps/*.txt"])
    quiet = harvester("run", cfg)
    assert "INFO" not in quiet.stderr and "DEBUG" not in quiet.stderr
    one = harvester("-v", "run", cfg)
    assert "dumps/a.txt: complete, 4 papers of 4 entries" in one.stderr
    assert "DEBUG" not in one.stderr
    two = harvester("-vv", "run", cfg)
    assert "dumps/b.txt:5: rejected: " in two.stderr and "Feb" in two.stderr
