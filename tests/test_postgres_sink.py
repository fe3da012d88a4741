"""The postgres sink against a real PostgreSQL server (tests/pg.py): the same merge rules as the
Python statement and the SQLite sink, title matching, full-text search, metric history,
connection settings that never show a password, and many writers at once."""

from __future__ import annotations

import itertools
import logging
import sqlite3
import subprocess
import sys
import tempfile
import traceback
from pathlib import Path

import msgspec
import psycopg
import pytest
from harvester_plugins.postgres import DB_SCHEMA_VERSION, PostgresSink, PostgresStore
from harvester_plugins.store import rules
from hypothesis import HealthCheck, given, settings

from harvester.api import Outcome, SinkContext
from harvester.errors import ConfigError, SinkError
from harvester.normalise import title_key
from tests import pg
from tests.store_cases import (
    ABSORB_CASES,
    MERGE_CASES,
    TITLE,
    decoded,
    dump_and_listing_batches,
    dump_record,
    later,
    listing_record,
    make_batches,
    make_paper,
    sightings_of_one_paper,
)
from tests.test_sqlite_sink import as_row, without_times
from tests.test_sqlite_sink import row as sqlite_row
from tests.test_sqlite_sink import run as sqlite_run

from . import clirun

ROOT = Path(__file__).resolve().parent.parent
PASSWORD = pg.PASSWORD
pg_server, pg_url = pg.pg_server, pg.pg_url  # the fixtures: a real server, a fresh database


def sink(url: str | None, **options) -> PostgresSink:
    opts = msgspec.convert({"url": url, **options}, PostgresSink.Options)
    return PostgresSink(opts, SinkContext(label="pg"))


def run(url: str | None, *batches, **options) -> None:
    s = sink(url, **options)
    s.open()
    for batch in batches:
        s.write(batch)
        assert s.commit() is None
    s.close(Outcome.DONE)


def read_papers(url: str) -> list:
    """The papers as `harvester export` and `report` read them (the postgres store)."""
    with PostgresStore(url) as store:
        return store.papers()


def query(url: str, sql: str, *params) -> list[tuple]:
    with psycopg.connect(url, autocommit=True) as con:
        cursor = con.execute(sql, params)
        return cursor.fetchall() if cursor.description else []


def row(url: str, key: str) -> dict:
    with psycopg.connect(url, row_factory=psycopg.rows.dict_row) as con:
        found = con.execute("SELECT * FROM papers WHERE key = %s", (key,)).fetchone()
    return found or {}


def search(url: str, words: str) -> list[str]:
    sql = "SELECT key FROM papers WHERE search @@ websearch_to_tsquery('english', %s) ORDER BY key"
    return [k for (k,) in query(url, sql, words)]


# -- the rules: the Python statement, and the same rows as SQLite ------------------------------


@pytest.mark.parametrize("case", list(MERGE_CASES))
def test_merge_rules_match_the_python_statement_and_sqlite(pg_url, tmp_path, case):
    old, new = MERGE_CASES[case]
    run(pg_url, [old])
    run(pg_url, [new])
    got = without_times(decoded(row(pg_url, old.key)))
    assert got == without_times(rules.merged(as_row(old), as_row(new)))
    sqlite_run(tmp_path, [old])
    sqlite_run(tmp_path, [new])
    assert got == without_times(decoded(sqlite_row(tmp_path, old.key)))


@pytest.fixture(scope="module")
def shared_pg_url(pg_server) -> str:
    """One database for many hypothesis examples (each writes its own keys)."""
    return pg_server.url(pg_server.create_database())


PAPER_NUMBERS = itertools.count(1000)


@settings(
    max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(sequence=sightings_of_one_paper())
def test_any_sequence_of_records_merges_as_the_python_statement_says(shared_pg_url, sequence):
    n = next(PAPER_NUMBERS)  # a new paper per example: the database is shared
    records = [make_paper(n, **fields) for fields in sequence]
    expected = as_row(records[0])
    for record in records[1:]:
        expected = rules.merged(expected, as_row(record))
    run(shared_pg_url, *[[r] for r in records])
    got = decoded(row(shared_pg_url, records[0].key))
    assert without_times(got) == without_times(expected)


def table_rows(rows: list[dict]) -> list[dict]:
    return sorted((without_times(decoded(r)) for r in rows), key=lambda r: r["key"])


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(spec=dump_and_listing_batches())
def test_both_databases_match_dumps_and_listings_alike(shared_pg_url, spec):
    """Rules 1-4 and the absorbs, in both dialects: the same rows, sightings, observations."""
    n = next(PAPER_NUMBERS)
    prefix = f"p{n}"
    batches = make_batches(spec, n)
    run(shared_pg_url, *batches)
    with tempfile.TemporaryDirectory() as tmp:
        sqlite_run(Path(tmp), *batches)
        con = sqlite3.connect(Path(tmp) / "papers.db")
        con.row_factory = sqlite3.Row
        like = f"{prefix} %"
        lite = [dict(r) for r in con.execute("SELECT * FROM papers WHERE title LIKE ?", (like,))]
        lite_points = con.execute(
            "SELECT o.key, o.source, o.upvotes FROM observations o JOIN papers p USING (key) "
            "WHERE p.title LIKE ? ORDER BY 1, 2, o.observed_at, o.seq",
            (like,),
        ).fetchall()
        con.close()
    with psycopg.connect(shared_pg_url, row_factory=psycopg.rows.dict_row) as con:
        pg_rows = con.execute("SELECT * FROM papers WHERE title LIKE %s", (like,)).fetchall()
        pg_points = con.execute(
            "SELECT o.key, o.source, o.upvotes FROM observations o JOIN papers p USING (key) "
            "WHERE p.title LIKE %s ORDER BY 1, 2, o.observed_at, o.seq",
            (like,),
        ).fetchall()
    assert table_rows(pg_rows) == table_rows(lite)
    assert [tuple(p.values()) for p in pg_points] == [tuple(p) for p in lite_points]
    arxiv_ids = [r["arxiv_id"] for r in lite if r["arxiv_id"]]
    assert len(arxiv_ids) == len(set(arxiv_ids))  # rule 4: one row per arXiv id


@pytest.mark.parametrize("case", list(ABSORB_CASES))
def test_absorbing_a_title_row_matches_the_python_statement(pg_url, case):
    listing, dump = ABSORB_CASES[case]
    run(pg_url, [msgspec.structs.replace(listing, title="An Early Title")], [dump])
    kept, gone = decoded(row(pg_url, listing.key)), decoded(row(pg_url, dump.key))
    run(pg_url, [listing])
    expected = rules.merged(rules.absorbed(kept, gone), as_row(listing))
    assert without_times(decoded(row(pg_url, listing.key))) == without_times(expected)
    assert query(pg_url, "SELECT count(*) FROM papers") == [(1,)]


def test_one_batch_with_a_key_twice_merges_in_order(pg_url):
    run(pg_url, [make_paper(1), make_paper(1, upvotes=99, abstract=None), make_paper(2)])
    got = {p.key: p for p in read_papers(pg_url)}
    assert got[make_paper(1).key].upvotes == 99
    assert got[make_paper(1).key].abstract == make_paper(1).abstract
    assert len(got) == 2


def test_dump_and_listing_rows_merge_and_ambiguity_stays(pg_url):
    run(pg_url, [dump_record(TITLE)], [listing_record("2501.00001", TITLE.upper() + "!")])
    (merged,) = read_papers(pg_url)
    assert merged.key == "arxiv:2501.00001" and merged.organization == "Dump Org"
    run(pg_url, [listing_record("2501.00002", TITLE)], [dump_record(TITLE, upvotes=50)])
    keys = [k for (k,) in query(pg_url, "SELECT key FROM papers ORDER BY key")]
    assert keys == ["arxiv:2501.00001", "arxiv:2501.00002", title_key(TITLE)]


def test_replays_change_nothing_and_rereads_only_move_sighting_times(pg_url):
    papers = [make_paper(i) for i in range(20)]
    run(pg_url, papers)
    before = row(pg_url, papers[3].key)
    run(pg_url, papers)
    assert row(pg_url, papers[3].key) == before
    run(pg_url, [msgspec.structs.replace(p, harvested_at=later(24)) for p in papers])
    assert row(pg_url, papers[3].key) == before
    times = query(pg_url, "SELECT DISTINCT first_harvested_at, last_harvested_at FROM sightings")
    assert times == [(later(0), later(24))]
    assert query(pg_url, "SELECT count(*) FROM observations") == [(20,)]


# -- storage, search, history --------------------------------------------------------------------


def test_schema_version_and_full_text_search(pg_url):
    run(pg_url, [listing_record("2501.00001"), make_paper(2, abstract="mixtures of sparse")])
    assert query(pg_url, "SELECT value FROM meta WHERE name = 'schema_version'") == [
        (DB_SCHEMA_VERSION,)
    ]
    assert search(pg_url, "sparse mixture") == ["arxiv:2401.00002", "arxiv:2501.00001"]
    assert search(pg_url, '"sparse mixtures"') == ["arxiv:2501.00001"]  # phrases work
    plan = query(pg_url, "SELECT indexdef FROM pg_indexes WHERE indexname = 'papers_search'")
    assert "gin (search)" in plan[0][0]


def test_a_changed_text_search_configuration_rebuilds_the_column(pg_url):
    run(pg_url, [make_paper(1, abstract="running dogs")])
    assert search(pg_url, "run") == [make_paper(1).key]  # english stems
    run(pg_url, [], text_search="simple")
    sql = "SELECT key FROM papers WHERE search @@ to_tsquery('simple', %s)"
    assert query(pg_url, sql, "run") == [] and query(pg_url, sql, "running") != []


def test_observations_and_the_latest_view(pg_url):
    def seen(hours, upvotes, stars=None):
        extra = {"hf": {"github_stars": stars}} if stars else {}
        return listing_record("2501.00001", upvotes=upvotes, harvested_at=later(hours), extra=extra)

    run(pg_url, [dump_record(TITLE, upvotes=3)], [seen(1, 10, 5)], [seen(2, 10, 5)], [seen(3, 11)])
    points = query(
        pg_url,
        "SELECT source, upvotes, github_stars FROM observations WHERE key = %s "
        "ORDER BY source, observed_at",
        "arxiv:2501.00001",
    )
    assert points == [("hf-api", 10, 5), ("hf-api", 11, None), ("textdump", 3, None)]
    latest = query(pg_url, "SELECT source, upvotes FROM latest_observations ORDER BY source")
    assert latest == [("hf-api", 11), ("textdump", 3)]


def _latest_equals_row(url: str) -> bool:
    return (
        query(
            url,
            "SELECT p.key FROM papers p JOIN latest_observations o ON o.key = p.key "
            "WHERE o.upvotes IS DISTINCT FROM p.upvotes",
        )
        == []
    )


def test_two_runs_within_one_second_keep_both_points(pg_url):
    """As in SQLite: one harvested_at, other counts -> the next seq; a replay adds nothing."""
    for upvotes in (10, 12, 12, 15):
        run(pg_url, [listing_record("2501.00001", upvotes=upvotes)])
    points = query(pg_url, "SELECT seq, upvotes FROM observations ORDER BY seq")
    assert points == [(0, 10), (1, 12), (2, 15)]
    assert query(pg_url, "SELECT seq, upvotes FROM latest_observations") == [(2, 15)]
    assert _latest_equals_row(pg_url)


def test_a_schema_2_0_database_gains_seq_in_place(pg_url):
    run(pg_url, [listing_record("2501.00001", upvotes=10)])
    query(
        pg_url,
        "DROP VIEW latest_observations; ALTER TABLE observations DROP CONSTRAINT "
        "observations_pkey; ALTER TABLE observations DROP COLUMN seq; ALTER TABLE observations "
        "ADD PRIMARY KEY (key, source, observed_at); CREATE VIEW latest_observations AS SELECT "
        "* FROM observations; UPDATE meta SET value = '2.0' WHERE name = 'schema_version'",
    )
    run(pg_url, [listing_record("2501.00001", upvotes=11)])  # same harvested_at, new value
    points = query(pg_url, "SELECT seq, upvotes FROM observations ORDER BY seq")
    assert points == [(0, 10), (1, 11)]
    version = query(pg_url, "SELECT value FROM meta WHERE name = 'schema_version'")
    assert version == [(DB_SCHEMA_VERSION,)] and _latest_equals_row(pg_url)


def test_suspend_keeps_only_what_was_committed(pg_url):
    s = sink(pg_url)
    s.open()
    s.write([make_paper(1)])
    s.commit()
    s.write([make_paper(2)])
    s.close(Outcome.SUSPEND)
    assert [p.key for p in read_papers(pg_url)] == [make_paper(1).key]


def test_history_command_reads_a_postgres_url(pg_url):
    run(pg_url, [make_paper(1, upvotes=4)], [make_paper(1, upvotes=6, harvested_at=later(1))])
    exe = Path(sys.executable).parent / "harvester"
    out = clirun.run(
        [str(exe), "history", pg_url, make_paper(1).key, "--json"],
        capture_output=True, text=True, timeout=60, cwd=ROOT,
    )  # fmt: skip
    assert out.returncode == 0, out.stderr
    assert [msgspec.json.decode(x)["upvotes"] for x in out.stdout.splitlines()] == [4, 6]


# -- connection settings -------------------------------------------------------------------------


def test_pg_environment_variables_are_the_fallback(pg_server, monkeypatch):
    dbname = pg_server.create_database()
    for name, value in dict(
        PGHOST=pg_server.host, PGPORT=str(pg_server.port), PGUSER=pg_server.user,
        PGPASSWORD=pg_server.password, PGDATABASE=dbname,
    ).items():  # fmt: skip
        monkeypatch.setenv(name, value)
    run(None, [make_paper(1)])
    assert [p.key for p in read_papers(pg_server.url(dbname))] == [make_paper(1).key]
    assert sink(None).database == f"postgresql://postgres@127.0.0.1:{pg_server.port}/{dbname}"


def test_passwords_never_show_in_errors_logs_or_repr(pg_server, caplog):
    caplog.set_level(logging.DEBUG)
    wrong = pg_server.url().replace(PASSWORD, PASSWORD + "-wrong")
    with pytest.raises(SinkError) as failed:
        sink(wrong).open()
    message = str(failed.value)
    assert message.startswith(f"postgresql://postgres@127.0.0.1:{pg_server.port}/postgres: ")
    assert "password authentication failed" in message
    assert PASSWORD not in message and PASSWORD not in caplog.text
    assert PASSWORD not in "".join(traceback.format_exception(failed.value))
    assert PASSWORD not in repr(sink(pg_server.url()).options)
    with pytest.raises(ConfigError) as bad:
        sink(f"postgresql://u:{PASSWORD}@[bad").database  # noqa: B018
    assert PASSWORD not in str(bad.value)


def test_a_writer_waiting_past_lock_timeout_gets_a_sink_error(pg_url):
    from harvester_plugins.postgres.schema import STORE_LOCK

    run(pg_url, [make_paper(1)])
    with psycopg.connect(pg_url) as holder:
        holder.execute("SELECT pg_advisory_xact_lock(%s)", (STORE_LOCK,))
        s = sink(pg_url, lock_timeout=0.2)
        s.open()
        with pytest.raises(SinkError, match="lock_timeout"):
            s.write([make_paper(2)])
        s.close(Outcome.ABANDON)


# -- many writers at once ------------------------------------------------------------------------

WRITER = """
import sys
import msgspec
from harvester.api import Outcome, SinkContext
from harvester_plugins.postgres import PostgresSink
from tests.test_postgres_sink import writer_batches
url, n = sys.argv[1], int(sys.argv[2])
sink = PostgresSink(msgspec.convert({"url": url}, PostgresSink.Options), SinkContext())
sink.open()
for batch in writer_batches(n):
    sink.write(batch)
    sink.commit()
sink.close(Outcome.DONE)
"""
WRITERS = 4


def writer_batches(n: int) -> list[list]:
    """Writer n's batches: overlapping papers in a different order per writer, the same dump
    titles (title-keyed) that another writer's listings carry with an arXiv id."""
    ids = list(range(n * 150, n * 150 + 400))
    ids = ids[::-1] if n % 2 else ids
    batches = [[make_paper(i, upvotes=n) for i in ids[k : k + 50]] for k in range(0, 400, 50)]
    for k in range(20):
        title = f"Shared discovery {k}"
        if (k + n) % 2:
            batches[k % 8].append(dump_record(title, source_ref=f"dump{n}.txt:{k}"))
        else:
            batches[k % 8].append(listing_record(f"2601.{k:05d}", title))
    return batches


def test_many_writers_never_deadlock_lose_or_duplicate_a_row(pg_url):
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", WRITER, pg_url, str(n)],
            cwd=ROOT,
            stderr=subprocess.PIPE,
            text=True,
        )
        for n in range(WRITERS)
    ]
    results = [(p.wait(timeout=240), p.stderr.read()) for p in procs]
    assert [code for code, _ in results] == [0] * WRITERS, results
    expected = {p.key for n in range(WRITERS) for b in writer_batches(n) for p in b}
    expected -= {title_key(f"Shared discovery {k}") for k in range(20)}  # merged into arXiv rows
    keys = [k for (k,) in query(pg_url, "SELECT key FROM papers")]
    assert len(keys) == len(set(keys)) and set(keys) == expected
    orgs = query(pg_url, "SELECT count(*) FROM papers WHERE key LIKE 'arxiv:2601.%%' "
                         "AND organization = 'Dump Org'")  # fmt: skip
    assert orgs == [(20,)]  # every dump sighting found its listing row


def test_a_foreign_or_newer_database_is_a_sink_error(pg_url):
    query(pg_url, "CREATE TABLE papers (id integer)")
    with pytest.raises(SinkError, match="not a harvester database"):
        run(pg_url, [make_paper(1)])
    query(pg_url, "DROP TABLE papers")
    run(pg_url, [make_paper(1)])
    query(pg_url, "UPDATE meta SET value = '3.0' WHERE name = 'schema_version'")
    with pytest.raises(SinkError, match=r"schema version 3\.0 is not supported"):
        run(pg_url, [make_paper(2)])
