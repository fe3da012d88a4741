"""Run state: atomic, saved only after the sinks commit; skip, refresh, fingerprints, the
suspicious-output guard, input limits, the run time limit, a damaged state file.

Most tests drive `harvester.run.Run` directly; the summary and exit statuses are checked
through the real `harvester run` command. Sources whose behaviour the built-ins do not have
(dated targets, guarded listings) are small real plugins registered in-process.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import re
import shutil
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import ClassVar

import msgspec
import psycopg
import pytest

from harvester.api import Sink, SinkOptions, Source, SourceOptions, Target
from harvester.build import build_plan
from harvester.config import load_config
from harvester.errors import HarvesterError
from harvester.hookspecs import hookimpl
from harvester.outcomes import TargetOutcome
from harvester.plugins import register_plugin
from harvester.report import format_summary
from harvester.run import Run
from harvester.schema import Paper
from harvester.state import (
    Checkpoint,
    RunJournal,
    State,
    StateStore,
    TargetState,
    apply,
)
from harvester.state_stores import open_state_store
from tests.fixtures.hf_site import make_items

from . import clirun

CAPTURED = "2025-12-10"


# -- inputs and runs ----------------------------------------------------------------------------


def dump_text(titles: Sequence[str]) -> str:
    """A text dump shaped like the seeds: header, the listing's date line, one card per title."""
    cards = "".join(f"{t}\n\nAbstract of {t}.\n\n  • 3 authors\n·\nSep 25\n\n" for t in titles)
    return f"Daily Papers\n\nDec 10\n\n{cards}"


def write_dumps(directory: Path, count: int, per_file: int = 3) -> list[Path]:
    directory.mkdir(parents=True, exist_ok=True)
    paths = []
    for n in range(count):
        path = directory / f"dump-{n:02d}.txt"
        path.write_text(dump_text([f"Dump {n} Paper {k}" for k in range(per_file)]), "utf-8")
        paths.append(path)
    return paths


def write_config(
    tmp: Path, source: str, run: str = "", sinks: str | None = None, state: str = "state"
) -> Path:
    config = tmp / "run.toml"
    sinks = sinks or '[sinks.jsonl]\npath = "out/papers.jsonl"\nmode = "append"\n'
    config.write_text(
        f'[run]\nstate = "{state}"\nrejects = "out/rejects.jsonl"\n{run}\n{source}\n{sinks}',
        encoding="utf-8",
    )
    return config


@pytest.fixture(params=["directory", "postgresql"])
def state_spec(request) -> str:
    """`[run] state` of a test that holds for both stores: a directory, or a PostgreSQL
    database (a real server, a new database per test) holding the state named 'run'."""
    if request.param == "directory":
        return "state"
    return request.getfixturevalue("pg_url")


TEXTDUMP = (
    f'[sources.dumps]\nplugin = "textdump"\ninputs = ["dumps/*.txt"]\ncaptured_on = {CAPTURED}\n'
)


def harvest(config: Path, *overrides: str, refresh: bool = False):
    return Run(build_plan(load_config(config, list(overrides))), refresh=refresh).execute()


def cli(config: Path, *args: str) -> subprocess.CompletedProcess:
    return clirun.run(
        [sys.executable, "-m", "harvester.cli", "run", str(config), *args],
        capture_output=True,
        text=True,
        timeout=60,
    )


def titles(path: Path) -> list[str]:
    if not path.exists():
        return []
    return [json.loads(line)["title"] for line in path.read_text("utf-8").splitlines()]


def state_of(tmp: Path, spec: str = "state") -> dict:
    store = open_state_store(spec, tmp, "run")
    try:
        return msgspec.to_builtins(store.load())
    finally:
        store.close()


# -- small real plugins for behaviours the built-ins lack --------------------------------------


class ListingOptions(SourceOptions, kw_only=True, forbid_unknown_fields=True):
    # target ("YYYY-MM-DD") -> papers on it
    pages: dict[str, int] = msgspec.field(default_factory=dict)
    seconds_per_page: float = 0.0


class ListingSource(Source):
    """Dated listing pages with a count each: the guard and the refresh window apply."""

    name = "test-listing"
    Options = ListingOptions
    guard_counts = True

    def targets(self) -> list[Target]:
        return [Target(day, date=dt.date.fromisoformat(day)) for day in self.options.pages]

    def read(self, target: Target) -> Iterator[Paper]:
        time.sleep(self.options.seconds_per_page)
        for n in range(self.options.pages[target.id]):
            yield Paper(title=f"Listing {target} paper {n}", source_ref=f"{target}#{n}")


class WatchOptions(SinkOptions, kw_only=True, forbid_unknown_fields=True):
    state_file: str


class WatchSink(Sink):
    """At each commit, notes which targets the state file on disk claims and which targets'
    papers this sink has committed so far."""

    name = "test-watch"
    Options = WatchOptions
    log: ClassVar[list[tuple[set[str], set[str]]]] = []

    def open(self, resume=None) -> None:
        self.pending: set[str] = set()
        self.committed: set[str] = set()

    def write(self, papers: Sequence[Paper]) -> None:
        self.pending |= {p.source_ref.split("#")[0] for p in papers}

    def commit(self) -> None:
        path = self.context.resolve(self.options.state_file)
        claimed = set()
        for source in StateStore(path).load().sources.values():
            claimed |= set(source.done)
        WatchSink.log.append((claimed, set(self.committed)))
        self.committed |= self.pending
        self.pending = set()


class _Plugin:
    @staticmethod
    @hookimpl
    def register_sources(register) -> None:
        register(ListingSource)

    @staticmethod
    @hookimpl
    def register_sinks(register) -> None:
        register(WatchSink)


@pytest.fixture
def state_plugins():
    register_plugin(_Plugin, "state-test-plugins")
    WatchSink.log = []


def listing_source(pages: dict[str, int], seconds: float = 0.0) -> str:
    table = ", ".join(f'"{day}" = {n}' for day, n in pages.items())
    return (
        f'[sources.listing]\nplugin = "test-listing"\npages = {{ {table} }}\n'
        f"seconds_per_page = {seconds}\n"
    )


# -- the state file -----------------------------------------------------------------------------


def _change(state: State, n: int, now: dt.datetime) -> Checkpoint:
    entry = TargetState(done_at=now, run_id="r1", records=n, fingerprint="9:1", memo={"e": "x"})
    journal = RunJournal(started_at=now, run_id="r1", sinks={"jsonl": {"offset": n}}, papers=n)
    return Checkpoint(
        generation=state.generation, done=[("a", f"t{n}", entry)], history=[("a", n)], run=journal
    )


def test_checkpoints_append_and_the_snapshot_folds_them(tmp_path):
    store = StateStore(tmp_path / "state")
    now = dt.datetime(2026, 1, 2, 3, 4, 5, tzinfo=dt.UTC)
    state = State()
    for n in range(3):
        change = _change(state, n, now)
        apply(state, change)
        store.append(change, state)
    assert store.load() == state
    assert state.source("a").history == [0, 1, 2] and len(state.source("a").done) == 3
    assert sorted(p.name for p in (tmp_path / "state").iterdir()) == ["state.log"]
    state.run = None
    store.compact(state)
    assert store.load() == state
    assert sorted(p.name for p in (tmp_path / "state").iterdir()) == ["state.json"]  # no temp


def test_a_torn_last_log_line_is_cut_and_later_lines_follow_a_whole_one(tmp_path):
    store = StateStore(tmp_path / "state")
    now = dt.datetime(2026, 1, 2, tzinfo=dt.UTC)
    state = State()
    change = _change(state, 1, now)
    apply(state, change)
    store.append(change, state)
    with open(store.log, "ab") as f:
        f.write(b'{"generation":0,"done":[["a","t9"')  # a kill while the line was written
    assert store.load() == state
    change = _change(state, 2, now)
    apply(state, change)
    store.append(change, state)
    assert store.load() == state  # not "damaged at line 2"


def test_log_lines_of_an_older_snapshot_are_not_applied_twice(tmp_path):
    store = StateStore(tmp_path / "state")
    now = dt.datetime(2026, 1, 2, tzinfo=dt.UTC)
    state = State()
    change = _change(state, 5, now)
    apply(state, change)
    store.append(change, state)
    stale = store.log.read_bytes()
    store.compact(state)
    store.log.write_bytes(stale)  # killed after the snapshot, before the log was removed
    loaded = store.load()
    assert loaded.source("a").history == [5]
    assert loaded == state


def test_missing_state_is_a_fresh_start(tmp_path):
    assert StateStore(tmp_path / "nowhere").load() == State()


@pytest.mark.parametrize(
    ("content", "problem"),
    [
        (b'{"version": 2, "sources": {', "state snapshot is damaged"),
        (b"\x00\x00garbage", "state snapshot is damaged"),
        (b'{"version": 2, "sources": {"a": {"done": {"t": {"records": "x"}}}}}', "damaged"),
        (b'{"version": 99}', "state version 99 is not supported"),
    ],
)
def test_damaged_state_is_a_clear_error(tmp_path, content, problem):
    (tmp_path / "state").mkdir()
    path = tmp_path / "state" / "state.json"
    path.write_bytes(content)
    with pytest.raises(HarvesterError, match=problem) as info:
        StateStore(tmp_path / "state").load()
    assert str(path) in str(info.value)


def test_damaged_state_stops_the_run_before_any_output(tmp_path):
    write_dumps(tmp_path / "dumps", 2)
    config = write_config(tmp_path, TEXTDUMP)
    (tmp_path / "state").mkdir()
    (tmp_path / "state" / "state.json").write_text("{not json", "utf-8")
    proc = cli(config)
    assert proc.returncode == 1
    assert "state.json" in proc.stderr and "damaged" in proc.stderr
    assert "Traceback" not in proc.stderr
    assert not (tmp_path / "out" / "papers.jsonl").exists()


def test_state_is_saved_only_after_the_sinks_commit(tmp_path, state_plugins):
    pages = {f"2020-03-{d:02d}": 3 for d in range(1, 7)}
    sinks = '[sinks.watch]\nplugin = "test-watch"\nstate_file = "state"\n'
    run = "checkpoint_seconds = 0.001\nguard_ratio = 0"  # each page takes 5 ms: one per page
    config = write_config(tmp_path, listing_source(pages, seconds=0.005), run=run, sinks=sinks)
    report = harvest(config)
    assert report.exit_status == 0 and report.sources[0].written == 18
    assert len(WatchSink.log) >= 7  # at the start, then after every page
    for claimed, committed_before in WatchSink.log:
        # While a sink commits, the state on disk claims only what was committed before.
        assert claimed <= committed_before
    assert len(state_of(tmp_path)["sources"]["listing"]["done"]) == 6


# -- skip, refresh, fingerprints ----------------------------------------------------------------


def test_rerun_skips_done_targets_and_refresh_reads_them_again(tmp_path, state_spec):
    write_dumps(tmp_path / "dumps", 3)
    config = write_config(tmp_path, TEXTDUMP, state=state_spec)
    out = tmp_path / "out" / "papers.jsonl"
    first = cli(config)
    assert first.returncode == 0, first.stderr
    assert len(titles(out)) == 9
    state = state_of(tmp_path, state_spec)
    assert state["run"] is None and len(state["sources"]["dumps"]["done"]) == 3

    again = cli(config, "--summary-json", str(tmp_path / "summary.json"))
    assert again.returncode == 0
    assert "dumps: 3 targets (3 skipped); 0 papers written" in again.stderr
    summary = json.loads((tmp_path / "summary.json").read_text())["sources"][0]
    assert (summary["outcomes"], summary["written"]) == ({"skipped": 3}, 0)
    assert {t["reason"] for t in summary["targets"]} == {
        f"complete in the run of {dt.datetime.now(dt.UTC).date()}"
    }
    assert len(titles(out)) == 9  # append mode: nothing new

    refreshed = cli(config, "--refresh", "--summary-json", str(tmp_path / "summary.json"))
    assert refreshed.returncode == 0
    summary = json.loads((tmp_path / "summary.json").read_text())["sources"][0]
    assert (summary["outcomes"], summary["written"]) == ({"complete": 3}, 9)


def test_a_changed_file_is_read_again(tmp_path):
    dumps = write_dumps(tmp_path / "dumps", 3)
    config = write_config(tmp_path, TEXTDUMP)
    assert harvest(config).exit_status == 0
    dumps[1].write_text(dump_text(["Changed Paper A", "Changed Paper B"]), "utf-8")
    report = harvest(config)
    assert report.sources[0].counts() == {"skipped": 2, "complete": 1}
    assert titles(tmp_path / "out" / "papers.jsonl")[-2:] == ["Changed Paper A", "Changed Paper B"]
    assert harvest(config).sources[0].skipped == 3  # and its new fingerprint is remembered


def test_targets_within_the_refresh_window_are_read_again(tmp_path, state_plugins, state_spec):
    today = dt.datetime.now(dt.UTC).date()
    recent = [str(today - dt.timedelta(days=d)) for d in (0, 3, 7)]
    old = [str(today - dt.timedelta(days=d)) for d in (8, 30)]
    pages = dict.fromkeys(recent + old, 2)
    config = write_config(tmp_path, listing_source(pages), state=state_spec)
    assert harvest(config).sources[0].written == 10
    report = harvest(config)  # refresh_days = 7 by default
    assert report.sources[0].counts() == {"skipped": 2, "complete": 3}
    report = harvest(config, "run.refresh_days=0")
    assert report.sources[0].counts() == {"skipped": 4, "complete": 1}


# -- the suspicious-output guard ------------------------------------------------------------------


@pytest.mark.parametrize("suspicious", [1, 0])
def test_guard_holds_a_page_with_far_fewer_papers_than_its_history(
    tmp_path, state_plugins, suspicious, state_spec
):
    pages = {"2020-01-01": 10, "2020-01-02": 11, "2020-01-03": 9, "2020-01-04": suspicious}
    config = write_config(tmp_path, listing_source(pages), state=state_spec)
    report = harvest(config, "run.guard_min_history=3")
    source = report.sources[0]
    assert report.exit_status == 3
    [held] = source.with_outcome(TargetOutcome.INCOMPLETE)
    assert held.target == "2020-01-04" and not held.published
    assert held.reason.startswith("held back: ") and "median of 10" in held.reason
    assert source.unpublished == suspicious
    written = titles(tmp_path / "out" / "papers.jsonl")
    assert len(written) == 30 and not any("2020-01-04" in t for t in written)
    done = state_of(tmp_path, state_spec)["sources"]["listing"]["done"]
    assert "2020-01-04" not in done and len(done) == 3
    # Accepting it explicitly writes it and marks it done; a page of no entries stays
    # incomplete, as nothing says the listing has none.
    report = harvest(config, "run.guard_ratio=0")
    done = state_of(tmp_path, state_spec)["sources"]["listing"]["done"]
    if suspicious:
        assert report.exit_status == 0 and report.sources[0].written == suspicious
        assert "2020-01-04" in done
    else:
        [again] = report.sources[0].with_outcome(TargetOutcome.INCOMPLETE)
        assert again.reason == "no entries, and nothing says the upstream has none"
        assert report.exit_status == 3 and "2020-01-04" not in done


def test_guard_waits_for_enough_history(tmp_path, state_plugins):
    pages = {"2020-01-01": 10, "2020-01-02": 1}
    config = write_config(tmp_path, listing_source(pages))
    report = harvest(config)  # guard_min_history = 3: two pages are not enough history
    assert report.exit_status == 0 and report.sources[0].written == 11


# -- limits -------------------------------------------------------------------------------------


def test_max_entries_fails_the_target_naming_it(tmp_path):
    write_dumps(tmp_path / "dumps", 1, per_file=2)
    big = tmp_path / "dumps" / "dump-99.txt"
    big.write_text(dump_text([f"Big Paper {k}" for k in range(6)]), "utf-8")
    config = write_config(tmp_path, TEXTDUMP)
    report = harvest(config, "run.max_entries=4")
    assert report.exit_status == 3
    [(target, reason)] = report.sources[0].failed
    assert target.endswith("dump-99.txt")
    assert reason == "more than 4 entries (run.max_entries)"  # the location is said once
    assert "dumps/dump-99.txt" not in state_of(tmp_path)["sources"]["dumps"]["done"]
    assert "Dump 0 Paper 1" in titles(tmp_path / "out" / "papers.jsonl")


def long_title_response(path: Path) -> list[str]:
    """A saved API response of three papers, the middle one titled with 2,500 characters."""
    items = make_items(3, day=dt.date(2026, 10, 6), seed=5)
    items[1]["paper"]["title"] = items[1]["title"] = "T" * 2_500
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(items), encoding="utf-8")
    return [items[0]["title"], items[2]["title"]]


def test_over_long_fields_are_rejected_naming_the_input(tmp_path):
    good = long_title_response(tmp_path / "saved" / "day.json")
    source = '[sources.api]\nplugin = "hf-api"\ninputs = ["saved/day.json"]\n'
    report = harvest(write_config(tmp_path, source))
    assert report.sources[0].written == 2 and report.sources[0].rejected == 1
    assert titles(tmp_path / "out" / "papers.jsonl") == good
    [reject] = [
        json.loads(x) for x in (tmp_path / "out" / "rejects.jsonl").read_text().split("\n") if x
    ]
    assert reject["reason"] == "title is 2500 characters, over the limit of 2000"
    assert reject["source_ref"] == "saved/day.json"


def test_max_run_seconds_stops_and_the_rerun_resumes(tmp_path, state_plugins, state_spec):
    pages = {f"2020-02-{d:02d}": 2 for d in range(1, 11)}
    config = write_config(
        tmp_path,
        listing_source(pages, seconds=0.1),
        run="guard_ratio = 0\ncheckpoint_seconds = 0.001",
        sinks='[sinks.jsonl]\npath = "out/papers.jsonl"\nmode = "replace"\n',
        state=state_spec,
    )
    report = harvest(config, "run.max_run_seconds=0.3")
    assert report.exit_status == 3
    summary = format_summary(report)
    assert "stopped early (run time limit of 0.3 s): re-run the same command" in summary
    assert re.search(r"\d+ stopped", summary) and "  stopped: 2020-02-10: " in summary
    state = state_of(tmp_path, state_spec)
    assert state["run"] is not None  # the journal of the interrupted run
    # none may be done yet on a loaded machine (the state then has no "done" list)
    done_first = len(state["sources"]["listing"].get("done", []))
    assert done_first < 10
    assert not (tmp_path / "out" / "papers.jsonl").exists()  # unpublished until complete
    rerun = harvest(config)
    assert rerun.exit_status == 0
    assert rerun.sources[0].skipped == done_first
    written = titles(tmp_path / "out" / "papers.jsonl")
    assert sorted(written) == sorted(f"Listing {d} paper {n}" for d in pages for n in range(2))
    assert state_of(tmp_path, state_spec)["run"] is None
    stamps = {
        json.loads(x)["harvested_at"]
        for x in (tmp_path / "out" / "papers.jsonl").read_text().splitlines()
    }
    assert len(stamps) == 1  # the resumed run kept the interrupted run's stamp


def test_state_save_leaves_no_temp_file_when_the_directory_is_new(tmp_path):
    store = StateStore(tmp_path / "a" / "b")
    store.compact(State())
    assert msgspec.json.decode((tmp_path / "a" / "b" / "state.json").read_bytes())["version"] == 2
    assert os.listdir(tmp_path / "a" / "b") == ["state.json"]


def test_a_damaged_journal_names_its_remedy_and_the_remedy_works(tmp_path, state_spec):
    """A run stopped after three of six dumps leaves its checkpoints (one per dump) in the
    log; the second is then damaged. `harvester run` fails with one line naming the remedy,
    changing nothing; `harvester run --discard-journal` drops the damaged checkpoint only:
    the dumps the others recorded are skipped, the one it recorded is read again, and the
    store ends with every paper once."""
    write_dumps(tmp_path / "dumps", 6)
    sinks = '[sinks.db]\nplugin = "sqlite"\npath = "out/papers.db"\n'
    config = write_config(tmp_path, TEXTDUMP, "checkpoint_seconds = 0.000001", sinks, state_spec)
    run = Run(build_plan(load_config(config, [])), progress=lambda r: r.done == 3 and stop())

    def stop() -> None:
        run.stopper.request("stopped by the test")

    assert run.execute().stopped == "stopped by the test"
    damage_second_checkpoint(tmp_path, state_spec)
    proc = cli(config)
    assert proc.returncode == 1, proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and "damaged" in lines[0], proc.stderr
    assert "`harvester run --discard-journal` drops the damaged" in lines[0] or (
        "`harvester run --discard-journal` deletes the damaged" in lines[0]
    )
    proc = cli(config, "--discard-journal")
    assert proc.returncode == 0, proc.stderr
    assert re.search(r"\b2 skipped\b", proc.stderr), proc.stderr  # the other two checkpoints
    assert "Traceback" not in proc.stderr
    with sqlite3.connect(tmp_path / "out" / "papers.db") as db:
        stored = sorted(r[0] for r in db.execute("SELECT title FROM papers"))
    assert stored == sorted(f"Dump {n} Paper {k}" for n in range(6) for k in range(3))
    assert state_of(tmp_path, state_spec)["run"] is None
    if state_spec == "state":  # the damaged log is kept aside, for whoever wants to look
        assert [p.name.split("-")[0] for p in (tmp_path / "state").glob("state.log.*")] == [
            "state.log.damaged"
        ]
    assert cli(config).returncode == 0  # and the state is whole again


def damage_second_checkpoint(tmp: Path, spec: str) -> None:
    if spec == "state":
        log = tmp / "state" / "state.log"
        lines = log.read_bytes().splitlines(keepends=True)
        assert len(lines) >= 3
        lines[1] = b'{"generation": 0, "done": [["dumps", \x00\xff garbage\n'
        log.write_bytes(b"".join(lines))
        return
    with psycopg.connect(spec) as con:
        ids = [r[0] for r in con.execute("SELECT id FROM harvester_state_log ORDER BY id")]
        assert len(ids) >= 3
        con.execute(
            'UPDATE harvester_state_log SET change = \'{"generation": "two"}\' WHERE id = %s',
            (ids[1],),
        )


def test_a_lost_state_with_an_appending_output_is_refused_not_doubled(tmp_path, state_spec):
    """The state is gone (or new) while the append JSONL holds the papers it recorded: the run
    refuses (exit 2, nothing written) instead of appending every paper a second time; with
    the output moved away it starts afresh."""
    write_dumps(tmp_path / "dumps", 3)
    config = write_config(tmp_path, TEXTDUMP, state=state_spec)
    assert cli(config).returncode == 0
    out = tmp_path / "out" / "papers.jsonl"
    before = out.read_bytes()
    forget_state(tmp_path, state_spec)
    proc = cli(config)
    assert proc.returncode == 2, proc.stderr
    assert "sink 'jsonl' (out/papers.jsonl) already holds papers, but the run state" in proc.stderr
    assert "would write them again" in proc.stderr and "Traceback" not in proc.stderr
    assert out.read_bytes() == before
    out.rename(tmp_path / "out" / "old.jsonl")
    assert cli(config).returncode == 0
    assert sorted(titles(out)) == sorted(titles(tmp_path / "out" / "old.jsonl"))  # once each
    assert len(titles(out)) == 9


@pytest.mark.parametrize("sink", ["sqlite", "jsonl"])
def test_a_store_moved_away_is_noticed_and_refresh_rebuilds_it(tmp_path, sink):
    """The state says every dump was written, but the store was moved away (a new, empty one
    would stay empty forever: every target is done): a warning names the rebuild, and
    `--refresh` rebuilds it whole."""
    write_dumps(tmp_path / "dumps", 3)
    sinks = {
        "sqlite": '[sinks.db]\nplugin = "sqlite"\npath = "out/papers.db"\n',
        "jsonl": '[sinks.jsonl]\npath = "out/papers.jsonl"\nmode = "append"\n',
    }[sink]
    store = tmp_path / "out" / ("papers.db" if sink == "sqlite" else "papers.jsonl")
    config = write_config(tmp_path, TEXTDUMP, sinks=sinks)
    assert cli(config).returncode == 0
    store.rename(tmp_path / "moved")
    proc = cli(config)
    assert proc.returncode == 0, proc.stderr
    assert "holds fewer papers than the state says one target wrote (3)" in proc.stderr
    assert "`harvester run --refresh` reads every target again and rebuilds it" in proc.stderr
    proc = cli(config, "--refresh")
    assert proc.returncode == 0 and "holds fewer papers" in proc.stderr  # said once more
    expected = sorted(f"Dump {n} Paper {k}" for n in range(3) for k in range(3))
    if sink == "sqlite":
        with sqlite3.connect(store) as db:
            assert sorted(r[0] for r in db.execute("SELECT title FROM papers")) == expected
    else:
        assert sorted(titles(store)) == expected
    assert "holds fewer papers" not in cli(config).stderr  # whole again: nothing to say


def forget_state(tmp: Path, spec: str) -> None:
    if spec == "state":
        shutil.rmtree(tmp / "state")
        return
    with psycopg.connect(spec) as con:
        con.execute("DELETE FROM harvester_state")
        con.execute("DELETE FROM harvester_state_log")
