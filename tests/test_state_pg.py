"""The run state in PostgreSQL (`[run] state = "postgresql://..."`), on a real server: rows per
checkpoint, one database holding several named states, folding while others append, the run
lock naming its holder, damaged rows, and passwords kept out of messages and the state.

The run-level guarantees (skip, refresh, guard, time limit, resume) run on both stores in
tests/test_state.py; the kill test on PostgreSQL state is in tests/test_kill.py.
"""

from __future__ import annotations

import datetime as dt
import os
import socket
import subprocess
import sys
import threading

import psycopg
import pytest

from harvester.errors import LockedError, StateError
from harvester.pgconn import split_name
from harvester.pgstate import PostgresStateStore
from harvester.state import COMPACT_AFTER, Checkpoint, RunJournal, State, TargetState, apply
from tests.pg import PASSWORD
from tests.test_state import TEXTDUMP, cli, write_config, write_dumps

from . import clirun

NOW = dt.datetime(2026, 1, 2, 3, 4, 5, tzinfo=dt.UTC)


def change(state: State, source: str, target: str, journal: bool = True) -> Checkpoint:
    """A checkpoint marking `target` done; with the journal of a run, or none (a job's)."""
    entry = TargetState(done_at=NOW, run_id="r1", records=3, memo={"etag": '"x"'})
    done = [(source, target, entry)]
    if not journal:
        return Checkpoint(generation=state.generation, done=done)
    run = RunJournal(started_at=NOW, run_id="r1", papers=3)
    return Checkpoint(generation=state.generation, done=done, run=run)


def save(store: PostgresStateStore, state: State, made: Checkpoint) -> None:
    apply(state, made)
    store.append(made, state)


def rows(url: str, table: str) -> int:
    with psycopg.connect(url) as con:
        return con.execute(f"SELECT count(*) FROM {table}").fetchone()[0]


@pytest.fixture
def stores(pg_url):
    made: list[PostgresStateStore] = []

    def make(name: str | None = "run", default: str = "config") -> PostgresStateStore:
        store = PostgresStateStore(f"{pg_url}?name={name}" if name else pg_url, default)
        made.append(store)
        return store

    yield make
    for store in made:
        store.close()


def test_each_checkpoint_is_one_row_and_a_fold_makes_the_snapshot(stores, pg_url):
    store = stores()
    state = State()
    for n in range(3):
        save(store, state, change(state, "a", f"t{n}"))
    assert rows(pg_url, "harvester_state_log") == 3 and rows(pg_url, "harvester_state") == 0
    assert stores().load() == state
    state.run = None
    save(store, state, Checkpoint(generation=state.generation, run=None))
    store.compact(state)
    assert rows(pg_url, "harvester_state_log") == 0 and rows(pg_url, "harvester_state") == 1
    loaded = stores().load()
    assert (
        loaded == state
        and loaded.generation == 1
        and sorted(loaded.sources["a"].done)
        == [
            "t0",
            "t1",
            "t2",
        ]
    )


def test_one_database_holds_states_by_name(stores):
    first, second = stores("alpha"), stores("beta")
    s1, s2 = State(), State()
    save(first, s1, change(s1, "a", "only-alpha"))
    save(second, s2, change(s2, "a", "only-beta"))
    assert list(stores("alpha").load().sources["a"].done) == ["only-alpha"]
    assert list(stores("beta").load().sources["a"].done) == ["only-beta"]
    # Without ?name= the state is named after the config file's stem.
    unnamed = stores(None, default="hf-daily")
    assert unnamed.name == "hf-daily" and unnamed.load() == State()


@pytest.mark.parametrize(
    ("url", "rest", "name"),
    [
        ("postgresql://u@h/db?name=hf-1", "postgresql://u@h/db", "hf-1"),
        ("postgresql://?name=a%20b", "postgresql://", "a b"),  # PG* variables do the rest
        ("postgresql:///papers?sslmode=require&name=x", "postgresql:///papers?sslmode=require",
         "x"),
        ("postgresql://u@h/db", "postgresql://u@h/db", None),
    ],
)  # fmt: skip
def test_the_name_is_taken_off_the_url_before_libpq_sees_it(url, rest, name):
    assert split_name(url) == (rest, name)


def test_a_fold_while_others_append_loses_no_checkpoint(stores):
    """Jobs append to one state at once; one of them folds when the log is long. Every
    checkpoint any of them committed is in the state afterwards."""
    errors: list[BaseException] = []

    def job(n: int) -> None:
        store = stores()
        try:
            state = store.load()
            for k in range(40):
                save(store, state, change(state, "a", f"job{n}-t{k}", journal=False))
                if k == 20:
                    store.compact(state)
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=job, args=(n,)) for n in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert not errors
    done = stores().load().sources["a"].done
    assert len(done) == 160


def test_a_long_log_is_folded_by_the_next_append(stores, pg_url, monkeypatch):
    monkeypatch.setattr("harvester.pgstate.COMPACT_AFTER", 5)
    assert COMPACT_AFTER > 5
    store = stores()
    state = store.load()
    for n in range(7):
        save(store, state, change(state, "a", f"t{n}"))
    assert rows(pg_url, "harvester_state_log") < 5
    assert len(stores().load().sources["a"].done) == 7


def test_the_run_lock_excludes_runs_and_admits_jobs(stores):
    with stores().lock():
        with pytest.raises(LockedError) as info, stores().lock():
            pass
        message = str(info.value)
        assert f"pid {os.getpid()} on {socket.gethostname()}" in message
        assert "state 'run'" in message and PASSWORD not in message
        with pytest.raises(LockedError), stores().lock(shared=True):
            pass
        with stores("other").lock():  # another state in the same database is free
            pass
    job, run = stores().lock(shared=True), stores().lock()
    with job, pytest.raises(LockedError, match="harvester worker job pid"), run:
        pass
    jobs = (stores().lock(shared=True), stores().lock(shared=True))  # side by side
    with jobs[0], jobs[1], pytest.raises(LockedError), stores().lock():
        pass
    with stores().lock():  # released with its holders
        pass


def test_the_run_lock_is_released_before_its_session_closes(stores, pg_url):
    """Released by the holder itself, not when the server gets round to a closed connection:
    a peer asking at once finds it free (issue 23's lock test that failed under load)."""
    held = (
        "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND pid <> pg_backend_pid() "
        "AND database = (SELECT oid FROM pg_database WHERE datname = current_database())"
    )
    with psycopg.connect(pg_url, autocommit=True) as watcher:
        for shared in (False, True):
            with stores().lock(shared=shared):
                assert watcher.execute(held).fetchone()[0] == 1
            assert watcher.execute(held).fetchone()[0] == 0  # at once, no wait
            with pytest.raises(ZeroDivisionError), stores().lock(shared=shared):
                1 / 0  # noqa: B018 (a run that fails inside the lock releases it too)
            assert watcher.execute(held).fetchone()[0] == 0


def test_a_second_run_on_a_held_state_fails_at_once_naming_the_holder(tmp_path, pg_url, stores):
    write_dumps(tmp_path / "dumps", 1)
    config = write_config(tmp_path, TEXTDUMP, state=f"{pg_url}?name=run")
    with stores().lock():
        proc = cli(config)
    assert proc.returncode == 2, proc.stderr
    assert "the run state is in use by harvester run" in proc.stderr
    assert f"pid {os.getpid()}" in proc.stderr and PASSWORD not in proc.stderr
    assert not (tmp_path / "out").exists()
    assert cli(config).returncode == 0  # the lock went with its holder


def test_a_killed_holder_leaves_no_stale_lock(stores, pg_url):
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLD, f"{pg_url}?name=run"], stdout=subprocess.PIPE, text=True
    )
    try:
        assert holder.stdout.readline().strip() == "held"
        with pytest.raises(LockedError, match=f"pid {holder.pid} on"), stores().lock():
            pass
    finally:
        holder.kill()
        holder.wait(timeout=30)
        holder.stdout.close()
    for _ in range(100):  # the server notices the closed connection at once, or nearly
        try:
            with stores().lock():
                return
        except LockedError:
            threading.Event().wait(0.05)
    pytest.fail("the lock outlived its killed holder")


HOLD = """
import sys, time
from harvester.pgstate import PostgresStateStore
with PostgresStateStore(sys.argv[1], "x").lock():
    print("held", flush=True)
    time.sleep(120)
"""


@pytest.mark.parametrize(
    ("table", "value", "problem"),
    [
        ("harvester_state", '{"version": 99}', "state version 99 is not supported"),
        ("harvester_state", '{"version": 2, "sources": {"a": 3}}', "snapshot is damaged"),
        ("harvester_state_log", '{"done": "x"}', "is damaged"),
    ],
)
def test_damaged_rows_are_a_clear_state_error(stores, pg_url, tmp_path, table, value, problem):
    stores().load()  # creates the tables
    with psycopg.connect(pg_url) as con:
        if table == "harvester_state":
            con.execute("INSERT INTO harvester_state VALUES ('run', 1, %s::jsonb, now())", (value,))
        else:
            con.execute("INSERT INTO harvester_state_log (name, change) VALUES ('run', %s)",
                        (value,))  # fmt: skip
    with pytest.raises(StateError, match=problem):
        stores().load()
    write_dumps(tmp_path / "dumps", 1)
    proc = cli(write_config(tmp_path, TEXTDUMP, state=f"{pg_url}?name=run"))
    assert proc.returncode == 1 and problem.split()[-1] in proc.stderr
    assert "Traceback" not in proc.stderr and PASSWORD not in proc.stderr
    assert not (tmp_path / "out" / "papers.jsonl").exists()


def test_passwords_never_reach_the_state_messages_or_summary(tmp_path, pg_url, pg_server):
    write_dumps(tmp_path / "dumps", 2)
    config = write_config(tmp_path, TEXTDUMP, state=f"{pg_url}?name=run")
    summary = tmp_path / "summary.json"
    proc = clirun.run(
        [sys.executable, "-m", "harvester.cli", "-vv", "run", str(config), "--summary-json",
         str(summary)],
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    assert PASSWORD not in proc.stderr and PASSWORD not in summary.read_text()
    with psycopg.connect(pg_url) as con:
        saved = con.execute(
            "SELECT string_agg(snapshot::text, '') FROM harvester_state"
        ).fetchone()[0]
        logged = con.execute("SELECT string_agg(change::text, '') FROM harvester_state_log")
        assert "dump-01.txt" in saved and PASSWORD not in saved
        assert PASSWORD not in (logged.fetchone()[0] or "")
    # A server that refuses: the message names the database, never the password.
    wrong = pg_url.replace(f":{pg_server.port}/", f":{pg_server.port}/nosuchdb")
    failed = cli(write_config(tmp_path, TEXTDUMP, state=f"{wrong}?name=run"))
    assert failed.returncode == 1 and "cannot connect" in failed.stderr
    assert PASSWORD not in failed.stderr and "Traceback" not in failed.stderr
