"""Every target ends with one named outcome, checked against what its upstream declared, and
nothing partial is published (issue 19). Through the CLI, with the `faults` plugin installed
(tests/fixtures/fault_source.py) and real outputs."""

from __future__ import annotations

import datetime as dt
import json
import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from harvester.outcomes import Declared, Part, TargetOutcome, close_parts, judge

from . import clirun
from .conftest import BUILTIN_PLUGINS, FIXTURES, ROOT
from .plugin_dir import install_plugin
from .summaries import ended

D = dt.date(2026, 3, 2)


# -- the judge: one table of what was declared and read, and the outcome ------------------------


def declared(**fields) -> Declared:
    return Declared(**fields)


@pytest.mark.parametrize(
    ("given", "entries", "rejected", "held", "outcome", "reason"),
    [
        (declared(), 5, 0, None, "complete", None),
        (declared(total=5), 5, 1, None, "complete", None),
        (declared(total=5), 3, 0, None, "incomplete", "got 3 of 5 declared entries"),
        (declared(total=5), 6, 0, None, "failed", "read 6 entries, more than the 5 the up"),
        (declared(total=0), 0, 0, None, "empty", "the upstream declared no entries"),
        (declared(empty="a holiday"), 0, 0, None, "empty", "a holiday"),
        (declared(), 0, 0, None, "incomplete", "no entries, and nothing says the upstream"),
        (declared(empty_plausible=False), 0, 0, None, "incomplete", "no entries where the"),
        (declared(empty_plausible=True), 0, 0, None, "empty", "no entries, plausible"),
        (declared(day=D - dt.timedelta(days=1)), 5, 0, None, "stale", "the upstream answered"),
        (declared(day=D + dt.timedelta(days=1)), 5, 0, None, "complete", None),
        (declared(cut_short="page 3 missing"), 5, 0, None, "incomplete", "cut short: page 3"),
        (declared(), 5, 3, None, "incomplete", "3 of 5 entries were rejected"),
        (declared(), 2, 0, "2 papers, far fewer", "incomplete", "held back: 2 papers"),
        (declared(total=2), 2, 0, "2 papers, far fewer", "complete", None),  # total outranks
    ],
)
def test_the_outcome_of_what_was_declared_and_read(given, entries, rejected, held, outcome, reason):
    verdict = judge(given, entries=entries, rejected=rejected, asked_day=D, held_back=held)
    assert str(verdict.outcome) == outcome
    assert (verdict.reason or "").startswith(reason or ""), verdict.reason
    assert (reason is None) == (verdict.reason is None)


def test_declared_parts_name_the_short_section():
    parts = Declared(total=7, parts=[Part("new", 4, 0), Part("cross-lists", 3, 4)])
    close_parts(parts, 6)  # "new" got 4 (0..4), "cross-lists" 2 (4..6)
    assert [p.got for p in parts.parts] == [4, 2]
    verdict = judge(parts, entries=6, rejected=0, asked_day=None)
    assert verdict.outcome is TargetOutcome.INCOMPLETE
    assert verdict.reason == "got 6 of 7 declared entries (cross-lists: got 2 of 3)"


# -- through the command line --------------------------------------------------------------------


@pytest.fixture
def faults_env(tmp_path) -> dict[str, str]:
    source = (FIXTURES / "fault_source.py").read_text(encoding="utf-8")
    return install_plugin(tmp_path / "plugins", "faults", source)


def write_config(tmp: Path, targets: str, *, state: bool, run: str = "", sinks: str = "") -> Path:
    state_line = 'state = "state"\n' if state else ""
    config = tmp / "run.toml"
    config.write_text(
        f'[run]\n{state_line}rejects = "out/rejects.jsonl"\n{run}\n'
        f'[sources.f]\nplugin = "faults"\n{targets}\n'
        f'[sinks.jsonl]\npath = "out/papers.jsonl"\n{sinks}',
        encoding="utf-8",
    )
    return config


def harvester(env, *args: str, timeout: float = 60) -> subprocess.CompletedProcess:
    return clirun.run(
        [sys.executable, "-m", "harvester.cli", *args],
        capture_output=True, text=True, env=env, timeout=timeout, check=False,
    )  # fmt: skip


def run(env, config: Path, *args: str) -> tuple[subprocess.CompletedProcess, dict]:
    summary = config.parent / "summary.json"
    proc = harvester(env, "run", str(config), "--summary-json", str(summary), *args)
    assert summary.exists(), proc.stderr
    return proc, json.loads(summary.read_text())["sources"][0]


def lines(path: Path) -> list[dict]:
    if not path.exists():
        return []
    return [json.loads(x) for x in path.read_text(encoding="utf-8").splitlines()]


GOOD_AND_BROKEN = """
[sources.f.targets.good]
papers = 4
[sources.f.targets.broken]
papers = 6
fail_after = 3
"""


def test_a_target_failing_midway_publishes_nothing_and_reruns_never_duplicate(tmp_path, faults_env):
    config = write_config(tmp_path, GOOD_AND_BROKEN, state=True)
    for attempt in range(1, 4):  # three cron runs
        proc, source = run(faults_env, config)
        assert proc.returncode == 3, proc.stderr
        papers = lines(tmp_path / "out" / "papers.jsonl")
        keys = [p["key"] for p in papers]
        assert len(keys) == len(set(keys)) == 4  # the good target once, the broken one never
        assert {p["source_ref"].split(":")[0] for p in papers} == {"good"}
        [broken] = ended(source, "failed")
        assert broken["reason"] == "broken:4: the upstream broke off here"
        assert (broken["papers"], broken["published"]) == (3, False)
        # its partial papers went to the rejects, with the reason, each time it failed
        partial = [r for r in lines(tmp_path / "out" / "rejects.jsonl")]
        assert len(partial) == 3 * attempt
        assert {r["reason"] for r in partial} == {
            "not published: broken:4: the upstream broke off here"
        }
        assert json.loads(partial[0]["raw"])["title"] == "Paper 1 of broken"
    assert "failed: broken: broken:4: the upstream broke off here" in proc.stderr
    assert "f: 2 targets (1 failed, 1 skipped); 0 papers written" in proc.stderr
    assert "3 read but not published" in proc.stderr


def test_without_state_a_failing_target_never_shrinks_a_replaced_output(tmp_path, faults_env):
    whole = GOOD_AND_BROKEN.replace("fail_after = 3", "fail_after = 100")
    config = write_config(tmp_path, whole, state=False, sinks=SQLITE)
    proc, _ = run(faults_env, config)
    assert proc.returncode == 0, proc.stderr
    before = (tmp_path / "out" / "papers.jsonl").read_bytes()
    assert len(before.splitlines()) == 10

    config = write_config(tmp_path, GOOD_AND_BROKEN, state=False, sinks=SQLITE)
    proc, _ = run(faults_env, config)
    assert proc.returncode == 3
    assert (tmp_path / "out" / "papers.jsonl").read_bytes() == before  # left as it was
    assert "left as they were, so that they do not lose the targets that were not published: " \
        "jsonl -> out/papers.jsonl" in proc.stderr  # fmt: skip
    summary = json.loads((tmp_path / "summary.json").read_text())
    assert summary["kept"] == ["jsonl -> out/papers.jsonl"] and summary["published"]
    # the database adds what was published, and holds nothing of the failed target's read
    with sqlite3.connect(tmp_path / "out" / "papers.db") as db:
        assert db.execute("SELECT count(*) FROM papers").fetchone()[0] == 10


SQLITE = '[sinks.sqlite]\npath = "out/papers.db"\n'


def test_every_target_appears_once_with_an_outcome_from_the_vocabulary(tmp_path, faults_env):
    targets = f"""
[sources.f.targets.whole]
papers = 3
total = 3
[sources.f.targets.short]
papers = 7
total = 10
[sources.f.targets.sections]
parts = [["new", 4, 4], ["cross-lists", 3, 1]]
[sources.f.targets.holiday]
empty = "no mailing on {D} (a holiday)"
day = {D}
[sources.f.targets.silent]
papers = 0
[sources.f.targets.yesterday]
papers = 2
day = {D}
answered = {D - dt.timedelta(days=1)}
[sources.f.targets.cut]
papers = 2
cut = "the answer ended before its last page"
[sources.f.targets.broken]
papers = 2
fail_after = 1
"""
    config = write_config(tmp_path, targets, state=True, sinks=SQLITE)
    proc, source = run(faults_env, config)
    assert proc.returncode == 3, proc.stderr
    got = {t["target"]: (t["outcome"], t["reason"], t["published"]) for t in source["targets"]}
    assert got == {
        "whole": ("complete", None, True),
        "short": ("incomplete", "got 7 of 10 declared entries", False),
        "sections": (
            "incomplete", "got 5 of 7 declared entries (cross-lists: got 1 of 3)", False
        ),
        "holiday": ("empty", f"no mailing on {D} (a holiday)", True),
        "silent": ("incomplete", "no entries, and nothing says the upstream has none", False),
        "yesterday": (
            "stale", f"the upstream answered for {D - dt.timedelta(days=1)}, older than "
            f"{D} asked for", False,
        ),
        "cut": ("incomplete", "cut short: the answer ended before its last page", False),
        "broken": ("failed", "broken:2: the upstream broke off here", False),
    }  # fmt: skip
    assert [t["target"] for t in source["targets"]] == list(got)  # each once, in order
    assert source["outcomes"] == {"complete": 1, "empty": 1, "failed": 1, "incomplete": 4,
                                  "stale": 1}  # fmt: skip
    whole = source["targets"][0]
    assert (whole["entries"], whole["declared"], whole["papers"]) == (3, 3, 3)
    assert [p["source_ref"] for p in lines(tmp_path / "out" / "papers.jsonl")] == [
        "whole:1", "whole:2", "whole:3"
    ]  # fmt: skip
    # the human summary counts outcomes and names every target that did not end complete
    assert "f: 8 targets (1 complete, 1 empty, 4 incomplete, 1 stale, 1 failed)" in proc.stderr
    assert f"  stale: yesterday: the upstream answered for {D - dt.timedelta(days=1)}" in (
        proc.stderr
    )
    # the ledger: the day that is not complete is a gap, the others are done or read again
    status = harvester(faults_env, "status", str(config), "--json")
    assert status.returncode == 0, status.stderr
    ledger = json.loads(status.stdout)["ledger"]
    [kept] = ledger["sources"]
    assert kept["targets"] == {"complete": 1, "empty": 1, "failed": 1, "incomplete": 4,
                               "stale": 1}  # fmt: skip
    assert [(g["target"], g["outcome"]) for g in kept["gaps"]] == [
        ("yesterday", "stale"),  # the dated first, then the others by name
        ("broken", "failed"), ("cut", "incomplete"), ("sections", "incomplete"),
        ("short", "incomplete"), ("silent", "incomplete"),
    ]  # fmt: skip
    text = harvester(faults_env, "status", str(config)).stdout
    assert f"    {D} stale: yesterday: the upstream answered for" in text
    assert "    - failed: broken: broken:2: the upstream broke off here" in text
    # a second run reads again exactly what was not done
    proc, again = run(faults_env, config)
    assert sorted(t["target"] for t in ended(again, "skipped")) == ["holiday", "whole"]


def test_a_target_past_the_hold_streams_and_is_cut_back_when_it_fails(tmp_path, faults_env):
    targets = """
[sources.f.targets.first]
papers = 4
[sources.f.targets.big]
papers = 30
fail_after = 23
"""
    config = write_config(tmp_path, targets, state=True, run="hold_papers = 5", sinks=SQLITE)
    proc, source = run(faults_env, config)
    assert proc.returncode == 3, proc.stderr
    papers = lines(tmp_path / "out" / "papers.jsonl")
    assert [p["source_ref"].split(":")[0] for p in papers] == ["first"] * 4
    with sqlite3.connect(tmp_path / "out" / "papers.db") as db:
        assert db.execute("SELECT count(*) FROM papers").fetchone()[0] == 4
    [big] = ended(source, "failed")
    assert big["papers"] == 23 and not big["published"]
    rejects = lines(tmp_path / "out" / "rejects.jsonl")
    assert len(rejects) == 3 + 1  # the 3 held papers each, the 20 streamed ones in one line
    assert "20 papers read before it were cut back from the outputs" in rejects[-1]["reason"]


def test_a_target_cut_short_to_be_resumed_publishes_and_continues_next_run(tmp_path, faults_env):
    targets = """
[sources.f.targets.listing]
pages = 3
papers = 2
per_run = 2
"""
    config = write_config(tmp_path, targets, state=True)
    config.write_text(config.read_text().replace('plugin = "faults"', 'plugin = "faults-resume"'))
    proc, first = run(faults_env, config)
    assert proc.returncode == 3
    [cut] = first["targets"]
    assert (cut["outcome"], cut["published"], cut["papers"]) == ("incomplete", True, 4)
    assert cut["reason"] == "cut short: stopped before page 3 of 3"
    proc, second = run(faults_env, config)  # not skipped: it continues from page 3
    assert proc.returncode == 0, proc.stderr
    assert [(t["outcome"], t["papers"]) for t in second["targets"]] == [("complete", 2)]
    refs = [p["source_ref"] for p in lines(tmp_path / "out" / "papers.jsonl")]
    assert refs == [f"listing:{n}" for n in range(1, 7)]  # every paper once
    proc, third = run(faults_env, config)
    assert [t["outcome"] for t in third["targets"]] == ["skipped"]


def test_a_dump_with_one_bad_byte_three_runs_with_state_and_in_replace_mode(tmp_path):
    text = (ROOT / "examples" / "textdump" / "sample-listing.txt").read_bytes()
    at = text.index(b"Cartographer")  # a bad byte in the middle of the listing
    (tmp_path / "dump.txt").write_bytes(text[:at] + b"\xff" + text[at:])
    env = {**os.environ, "HARVESTER_PLUGINS": BUILTIN_PLUGINS}
    targets = '[sources.d]\nplugin = "textdump"\ninputs = ["dump.txt"]\ncaptured_on = 2026-03-14\n'
    bad_line = text[:at].count(b"\n") + 1
    for state, mode in ((True, "append"), (False, "replace")):
        config = tmp_path / "run.toml"
        state_line = 'state = "state"' if state else ""
        config.write_text(
            f"[run]\n{state_line}\n{targets}"
            f'[sinks.jsonl]\npath = "out-{mode}/papers.jsonl"\nmode = "{mode}"\n',
            encoding="utf-8",
        )
        for _ in range(3):
            proc, source = run(env, config)
            assert proc.returncode == 0, proc.stderr
        papers = lines(tmp_path / f"out-{mode}" / "papers.jsonl")
        keys = [p["key"] for p in papers]
        assert len(keys) == len(set(keys)) == 9  # every paper once, the bad one rejected
        [target] = source["targets"]
        assert target["outcome"] == ("skipped" if state else "complete")
    rejects = [r for r in lines(tmp_path / "out" / "rejects.jsonl")]
    assert {r["source_ref"] for r in rejects} == {f"dump.txt:{bad_line}"}
