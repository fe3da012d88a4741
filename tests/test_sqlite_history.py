"""Metric history in the sqlite sink (issue 13): observations only on change, the latest view,
history carried along by re-keyed rows, idempotence across a killed and resumed run, and the
`harvester history` command as a real subprocess."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
from pathlib import Path

from harvester.api import Outcome
from tests.store_cases import TITLE, dump_record, later, listing_record, make_paper
from tests.test_sqlite_sink import DB, ROOT, count, query, run, sink

from . import clirun

KEY = "arxiv:2501.00001"


def series(tmp_path: Path, key: str = KEY) -> list[tuple]:
    return query(
        tmp_path,
        "SELECT source, observed_at, upvotes, comments, github_stars FROM observations "
        "WHERE key = ? ORDER BY source, observed_at, seq",
        key,
    )


def sighting(hours: int, upvotes: int | None, stars: int | None = None, **fields):
    extra = {"hf": {"github_stars": stars}} if stars is not None else {}
    return listing_record(
        "2501.00001", upvotes=upvotes, harvested_at=later(hours), extra=extra, **fields
    )


def test_a_point_is_added_only_when_a_value_changed(tmp_path):
    run(tmp_path, [sighting(0, 10, 5)], [sighting(1, 10, 5)], [sighting(2, 12, 5)])
    run(tmp_path, [sighting(3, 12, 5)], [sighting(4, 12, 7, comments=1)])
    assert series(tmp_path) == [
        ("hf-api", "2024-02-01T12:00:00Z", 10, None, 5),
        ("hf-api", "2024-02-01T14:00:00Z", 12, None, 5),
        ("hf-api", "2024-02-01T16:00:00Z", 12, 1, 7),
    ]


def test_sources_have_their_own_series_and_the_view_shows_the_latest(tmp_path):
    run(tmp_path, [sighting(0, 10), sighting(1, 11, source="hf-papers")], [sighting(2, 13)])
    latest = query(
        tmp_path,
        "SELECT source, observed_at, upvotes FROM latest_observations WHERE key = ? "
        "ORDER BY source",
        KEY,
    )
    assert latest == [
        ("hf-api", "2024-02-01T14:00:00Z", 13),
        ("hf-papers", "2024-02-01T13:00:00Z", 11),
    ]


def test_records_without_counts_or_time_observe_nothing(tmp_path):
    run(tmp_path, [make_paper(1, upvotes=None, comments=None), make_paper(2, harvested_at=None)])
    assert count(tmp_path, "observations") == 0


def test_an_earlier_point_arriving_late_is_placed_in_time(tmp_path):
    run(tmp_path, [sighting(5, 20)], [sighting(1, 10)], [sighting(3, 10)])
    assert [p[1:3] for p in series(tmp_path)] == [
        ("2024-02-01T13:00:00Z", 10),  # a point at 15:00 would repeat the one before it
        ("2024-02-01T17:00:00Z", 20),
    ]


def test_a_rekeyed_title_row_carries_its_observations(tmp_path):
    run(
        tmp_path,
        [dump_record(TITLE, upvotes=3)],
        [dump_record(TITLE, upvotes=4, harvested_at=later(1))],
    )
    run(tmp_path, [listing_record("2501.00001", upvotes=10, harvested_at=later(2))])
    assert count(tmp_path, "observations") == 3
    assert [p[:3] for p in series(tmp_path)] == [
        ("hf-api", "2024-02-01T14:00:00Z", 10),
        ("textdump", "2024-02-01T12:00:00Z", 3),
        ("textdump", "2024-02-01T13:00:00Z", 4),
    ]


def test_an_absorbed_title_row_carries_its_observations(tmp_path):
    run(tmp_path, [sighting(0, 10, title="An Early Title")], [dump_record(TITLE, upvotes=3)])
    run(tmp_path, [sighting(2, 11)])  # the title now matches: the title row is absorbed
    assert count(tmp_path) == 1
    assert [p[:3] for p in series(tmp_path)] == [
        ("hf-api", "2024-02-01T12:00:00Z", 10),
        ("hf-api", "2024-02-01T14:00:00Z", 11),
        ("textdump", "2024-02-01T12:00:00Z", 3),
    ]


# -- a killed run, resumed ---------------------------------------------------------------------

KILLED_WRITER = """
import sys, time
from pathlib import Path
import msgspec
from harvester.api import SinkContext
from harvester_plugins.sqlite import SqliteSink
from tests.test_sqlite_history import batches
opts = msgspec.convert({"path": sys.argv[1]}, SqliteSink.Options)
sink = SqliteSink(opts, SinkContext(base_dir=Path.cwd()))
sink.open()
todo = batches()
for batch in todo[:2]:
    sink.write(batch)
    sink.commit()
sink.write(todo[2])  # written, never committed
print("committed 2", flush=True)
time.sleep(600)
"""


def batches() -> list[list]:
    """A run's batches: the same papers re-read with new counts, one harvested_at per run."""
    return [
        [make_paper(i, upvotes=i, extra={"hf": {"github_stars": 100 + i}}) for i in range(0, 40)],
        [make_paper(i, upvotes=i + 1) for i in range(20, 60)],  # overlaps: points on change
        [make_paper(i, upvotes=i + 2, comments=9) for i in range(50, 90)],
    ]


def snapshot(path: Path) -> tuple[list, list, list]:
    con = sqlite3.connect(path)
    try:
        return (
            con.execute("SELECT * FROM observations ORDER BY key, source, observed_at").fetchall(),
            con.execute("SELECT key, upvotes, comments, extra FROM papers ORDER BY key").fetchall(),
            con.execute("SELECT * FROM sightings ORDER BY key, source, source_ref").fetchall(),
        )
    finally:
        con.close()


def test_resuming_a_killed_run_adds_no_duplicate_point(tmp_path):
    killed = tmp_path / "killed"
    killed.mkdir()
    child = subprocess.Popen(
        [sys.executable, "-c", KILLED_WRITER, str(killed / DB)], cwd=ROOT, stdout=subprocess.PIPE
    )
    try:
        assert child.stdout.readline().strip() == b"committed 2"
    finally:
        os.kill(child.pid, signal.SIGKILL)
        child.wait()
    assert child.returncode == -signal.SIGKILL
    assert len(snapshot(killed / DB)[1]) == 60  # the third batch died uncommitted
    run(killed, *batches())  # the resumed run replays every batch, same harvested_at

    clean = tmp_path / "clean"
    clean.mkdir()
    run(clean, *batches())
    assert snapshot(killed / DB) == snapshot(clean / DB)
    points = query(
        killed,
        "SELECT count(*), count(DISTINCT key || source || observed_at || '#' || seq) "
        "FROM observations",
    )
    # Papers 20-39 and 50-59 are re-read with other counts at the same harvested_at: two
    # points each (seq 0 and 1), never the first value only.
    assert points == [(120, 120)]
    assert query(killed, "SELECT upvotes FROM observations WHERE key = ? ORDER BY seq",
                 make_paper(30).key) == [(30,), (31,)]  # fmt: skip
    assert latest_equals_row(killed)


def latest_equals_row(path: Path) -> bool:
    """Every paper's latest observation (by observed_at, then seq) holds its row's counts."""
    mismatched = query(
        path,
        "SELECT p.key FROM papers p JOIN latest_observations o ON o.key = p.key "
        "WHERE o.upvotes IS NOT p.upvotes OR o.comments IS NOT p.comments",
    )
    return mismatched == []


def test_two_runs_within_one_second_keep_both_points(tmp_path):
    """Runs stamp harvested_at to the second: two runs that close leave two points, in order,
    and the latest is what the papers row holds."""
    run(tmp_path, [sighting(0, 10)])
    run(tmp_path, [sighting(0, 12)])
    run(tmp_path, [sighting(0, 12)])  # a replay of the second: nothing new
    run(tmp_path, [sighting(0, 15)])
    assert query(tmp_path, "SELECT seq, upvotes FROM observations ORDER BY seq") == [
        (0, 10),
        (1, 12),
        (2, 15),
    ]
    assert query(tmp_path, "SELECT upvotes FROM papers") == [(15,)]
    assert query(tmp_path, "SELECT seq, upvotes FROM latest_observations") == [(2, 15)]
    assert latest_equals_row(tmp_path)


def test_a_schema_2_0_database_gains_seq_in_place(tmp_path):
    run(tmp_path, [sighting(0, 10)], [sighting(1, 11)])
    con = sqlite3.connect(tmp_path / DB, isolation_level=None)
    con.executescript(  # the 2.0 layout of observations, as harvester 0.2 wrote it
        "DROP VIEW latest_observations; ALTER TABLE observations RENAME TO o2; "
        "CREATE TABLE observations (key TEXT NOT NULL, source TEXT NOT NULL, observed_at TEXT "
        "NOT NULL, upvotes INTEGER, comments INTEGER, github_stars INTEGER, PRIMARY KEY (key, "
        "source, observed_at)) WITHOUT ROWID; INSERT INTO observations SELECT key, source, "
        "observed_at, upvotes, comments, github_stars FROM o2; DROP TABLE o2; "
        "CREATE VIEW latest_observations AS SELECT * FROM observations AS o WHERE observed_at = "
        "(SELECT max(observed_at) FROM observations WHERE key = o.key AND source = o.source); "
        "UPDATE meta SET value = '2.0' WHERE name = 'schema_version'"
    )
    con.close()
    run(tmp_path, [sighting(1, 13)])  # the same second as the last point, another value
    assert [p[1:3] for p in series(tmp_path)] == [
        ("2024-02-01T12:00:00Z", 10),
        ("2024-02-01T13:00:00Z", 11),
        ("2024-02-01T13:00:00Z", 13),
    ]
    meta = dict(query(tmp_path, "SELECT name, value FROM meta"))
    assert meta["schema_version"] == "2.2" and latest_equals_row(tmp_path)


# -- the command -------------------------------------------------------------------------------


def harvester(*args: str) -> subprocess.CompletedProcess:
    exe = Path(sys.executable).parent / "harvester"
    return clirun.run([str(exe), *args], capture_output=True, text=True, timeout=120, cwd=ROOT)


def test_history_prints_a_table_and_json_lines(tmp_path):
    run(tmp_path, [sighting(0, 10, 5)], [sighting(1, 12, 5, comments=2)])
    table = harvester("history", str(tmp_path / DB), KEY)
    assert table.returncode == 0, table.stderr
    assert table.stdout.splitlines() == [
        "source  observed_at           seq  upvotes  comments  github_stars",
        "hf-api  2024-02-01T12:00:00Z  0    10                 5",
        "hf-api  2024-02-01T13:00:00Z  0    12       2         5",
    ]
    lines = harvester("history", str(tmp_path / DB), "2501.00001", "--json")
    assert lines.returncode == 0, lines.stderr
    assert [json.loads(x) for x in lines.stdout.splitlines()] == [
        {
            "key": KEY,
            "source": "hf-api",
            "observed_at": "2024-02-01T12:00:00Z",
            "seq": 0,
            "upvotes": 10,
            "comments": None,
            "github_stars": 5,
        },
        {
            "key": KEY,
            "source": "hf-api",
            "observed_at": "2024-02-01T13:00:00Z",
            "seq": 0,
            "upvotes": 12,
            "comments": 2,
            "github_stars": 5,
        },
    ]


def test_history_of_a_missing_database_or_unknown_key_is_a_usage_error(tmp_path):
    missing = harvester("history", str(tmp_path / "nope.db"), KEY)
    assert missing.returncode == 2
    assert missing.stderr == f"harvester: error: {tmp_path / 'nope.db'}: no such file or folder\n"
    assert not (tmp_path / "nope.db").exists()
    run(tmp_path, [sighting(0, 10)])
    unknown = harvester("history", str(tmp_path / DB), "arxiv:9999.99999")
    assert unknown.returncode == 2
    assert "no paper with key 'arxiv:9999.99999'" in unknown.stderr
    foreign = tmp_path / "foreign.db"
    sqlite3.connect(foreign).execute("CREATE TABLE t (x)").connection.close()
    assert harvester("history", str(foreign), KEY).returncode == 2


def test_history_of_a_paper_without_points_says_so(tmp_path):
    run(tmp_path, [make_paper(1, upvotes=None, comments=None)])
    quiet = harvester("history", str(tmp_path / DB), make_paper(1).key)
    assert quiet.returncode == 0 and quiet.stdout == ""
    assert "no observations" in quiet.stderr


def test_sink_can_be_reopened_after_suspend(tmp_path):
    s = sink(tmp_path)
    s.open()
    s.write([sighting(0, 1)])
    s.commit()
    s.close(Outcome.SUSPEND)
    s.open(resume=None)
    s.write([sighting(0, 1), sighting(1, 2)])
    s.close(Outcome.DONE)
    assert [p[2] for p in series(tmp_path)] == [1, 2]
