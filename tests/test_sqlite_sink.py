"""The sqlite sink through its four-method lifecycle on real database files: storage, upserts and
the merge rules (against the Python statement in store.rules), title matching, provenance,
FTS levels, migration from schema 1, concurrency and errors."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path

import msgspec
import pytest
from harvester_plugins.sqlite import DB_SCHEMA_VERSION, SqliteSink, SqliteStore
from harvester_plugins.store import rules
from hypothesis import given, settings

from harvester.api import Outcome, SinkContext
from harvester.errors import SinkError
from harvester.normalise import title_key
from harvester.schema import Paper
from tests.store_cases import (
    ABSORB_CASES,
    MERGE_CASES,
    TITLE,
    decoded,
    dump_record,
    listing_record,
    make_paper,
    sightings_of_one_paper,
)

DB = "papers.db"
ROOT = Path(__file__).resolve().parent.parent
V1_SQL = Path(__file__).resolve().parent / "fixtures" / "sqlite_schema1.sql"


def sink(tmp_path: Path, **options) -> SqliteSink:
    opts = msgspec.convert({"path": DB, **options}, SqliteSink.Options)
    return SqliteSink(opts, SinkContext(base_dir=tmp_path))


def run(tmp_path: Path, *batches: Sequence[Paper], **options) -> None:
    """One complete run: open, one commit per batch, close(DONE)."""
    s = sink(tmp_path, **options)
    s.open()
    for batch in batches:
        s.write(batch)
        assert s.commit() is None  # nothing to cut back to: idempotent upserts
    s.close(Outcome.DONE)


def read_papers(path: Path) -> list[Paper]:
    """The papers as `harvester export` and `report` read them (the sqlite store)."""
    with SqliteStore(str(path)) as store:
        return store.papers()


def query(tmp_path: Path, sql: str, *params) -> list[tuple]:
    con = sqlite3.connect(tmp_path / DB, isolation_level=None)  # autocommit
    try:
        return con.execute(sql, params).fetchall()
    finally:
        con.close()


def row(tmp_path: Path, key: str) -> dict:
    con = sqlite3.connect(tmp_path / DB)
    con.row_factory = sqlite3.Row
    try:
        found = con.execute("SELECT * FROM papers WHERE key = ?", (key,)).fetchone()
        return dict(found) if found else {}
    finally:
        con.close()


def count(tmp_path: Path, table: str = "papers") -> int:
    return query(tmp_path, f"SELECT count(*) FROM {table}")[0][0]


def match(tmp_path: Path, words: str) -> list[str]:
    sql = (
        "SELECT papers.key FROM papers_fts JOIN papers ON papers.id = papers_fts.rowid "
        "WHERE papers_fts MATCH ?"
    )
    return sorted(k for (k,) in query(tmp_path, sql, words))


def assert_fts_consistent(tmp_path: Path) -> None:
    """FTS5's own check that the index matches the content table (raises when corrupt)."""
    query(tmp_path, "INSERT INTO papers_fts (papers_fts, rank) VALUES ('integrity-check', 1)")


def as_row(paper: Paper) -> dict:
    """The row a paper makes, in the Python statement's terms (times left out)."""
    values = rules.RowBuilder().row(paper, "now")
    return decoded(dict(zip(rules.COLUMNS, values, strict=True)))


def without_times(values: dict) -> dict:
    return {k: v for k, v in values.items() if k not in ("first_seen", "last_seen")}


# -- storage and lifecycle -----------------------------------------------------------------------


def test_wal_mode_schema_version_and_fts_level_are_recorded(tmp_path):
    run(tmp_path, [make_paper(1)])
    assert query(tmp_path, "PRAGMA journal_mode") == [("wal",)]
    assert query(tmp_path, "PRAGMA user_version") == [(2,)]
    meta = dict(query(tmp_path, "SELECT name, value FROM meta"))
    assert meta["schema_version"] == DB_SCHEMA_VERSION and meta["fts"] == "full"
    got = query(tmp_path, "SELECT title_key, published_inferred, authors FROM papers")[0]
    assert got == (title_key(make_paper(1).title), 0, '["Author 1","Second Author"]')


def test_incompatible_major_version_is_a_sink_error(tmp_path):
    run(tmp_path, [make_paper(1)])
    query(tmp_path, "PRAGMA user_version = 3")
    with pytest.raises(SinkError, match="version 3"):
        run(tmp_path, [make_paper(2)])


def test_a_foreign_database_is_a_sink_error(tmp_path):
    query(tmp_path, "CREATE TABLE papers (id INTEGER, name TEXT)")
    with pytest.raises(SinkError, match=r"papers\.db: not a harvester database"):
        run(tmp_path, [make_paper(1)])


def test_a_file_that_is_not_a_database_is_a_sink_error(tmp_path):
    (tmp_path / DB).write_text("title,authors\nnot,sqlite\n" * 100)
    with pytest.raises(SinkError, match=r"papers\.db.*not a database"):
        run(tmp_path, [make_paper(1)])


def test_a_paper_without_a_key_is_a_sink_error(tmp_path):
    s = sink(tmp_path)
    s.open()
    with pytest.raises(SinkError, match="without a key"):
        s.write([make_paper(1, key="")])
    s.close(Outcome.ABANDON)


@pytest.mark.parametrize("outcome", [Outcome.SUSPEND, Outcome.ABANDON])
def test_suspend_and_abandon_keep_only_what_was_committed(tmp_path, outcome):
    s = sink(tmp_path)
    s.open()
    s.write([make_paper(1)])
    s.commit()
    s.write([make_paper(2), make_paper(1, upvotes=999)])
    s.close(outcome)
    assert read_papers(tmp_path / DB) == [make_paper(1)]
    assert count(tmp_path, "observations") == 1


def test_done_publishes_what_was_written_since_the_last_commit(tmp_path):
    s = sink(tmp_path)
    s.open(resume=None)
    s.write([make_paper(1)])
    s.close(Outcome.DONE)
    assert read_papers(tmp_path / DB) == [make_paper(1)]


# -- upserts and the merge rules -------------------------------------------------------------------


def test_rewriting_the_same_papers_does_not_duplicate(tmp_path):
    papers = [make_paper(i) for i in range(50)]
    run(tmp_path, papers)
    run(tmp_path, papers, papers[:10])  # again, and again within one run
    assert count(tmp_path) == 50
    assert read_papers(tmp_path / DB) == sorted(papers, key=lambda p: p.key)


def test_overlapping_batches_upsert(tmp_path):
    run(tmp_path, [make_paper(i) for i in range(60)])
    run(tmp_path, [make_paper(i, upvotes=1000 + i) for i in range(40, 100)])
    assert count(tmp_path) == 100
    assert row(tmp_path, make_paper(50).key)["upvotes"] == 1050


@pytest.mark.parametrize("same_run", [False, True], ids=["two runs", "one batch"])
@pytest.mark.parametrize("case", list(MERGE_CASES))
def test_merge_rules_match_the_python_statement(tmp_path, case, same_run):
    old, new = MERGE_CASES[case]
    if same_run:
        run(tmp_path, [old, new])
    else:
        run(tmp_path, [old])
        run(tmp_path, [new])
    expected = rules.merged(as_row(old), as_row(new))
    assert without_times(decoded(row(tmp_path, old.key))) == without_times(expected)


@settings(max_examples=40, deadline=None)
@given(sightings_of_one_paper())
def test_any_sequence_of_records_merges_as_the_python_statement_says(sequence):
    records = [make_paper(1, **fields) for fields in sequence]
    expected = as_row(records[0])
    for record in records[1:]:
        expected = rules.merged(expected, as_row(record))
    with tempfile.TemporaryDirectory() as tmp:
        run(Path(tmp), *[[r] for r in records])
        got = decoded(row(Path(tmp), records[0].key))
    assert without_times(got) == without_times(expected)


@pytest.mark.parametrize("case", list(ABSORB_CASES))
def test_absorbing_a_title_row_matches_the_python_statement(tmp_path, case):
    listing, dump = ABSORB_CASES[case]
    early = msgspec.structs.replace(listing, title="An Early Title")
    run(tmp_path, [early], [dump])  # two rows: the titles differ
    kept, gone = decoded(row(tmp_path, listing.key)), decoded(row(tmp_path, dump.key))
    run(tmp_path, [listing])  # now the title matches: the title row is absorbed
    expected = rules.merged(rules.absorbed(kept, gone), as_row(listing))
    assert without_times(decoded(row(tmp_path, listing.key))) == without_times(expected)
    assert count(tmp_path) == 1
    assert_fts_consistent(tmp_path)


def test_first_seen_stays_and_last_seen_moves_when_something_changed(tmp_path):
    run(tmp_path, [make_paper(1)])
    query(tmp_path, "UPDATE papers SET first_seen = 'x', last_seen = 'x'")
    run(tmp_path, [make_paper(1)])  # identical: nothing written
    assert query(tmp_path, "SELECT first_seen, last_seen FROM papers") == [("x", "x")]
    run(tmp_path, [make_paper(1, upvotes=5000)])
    ((first, last),) = query(tmp_path, "SELECT first_seen, last_seen FROM papers")
    assert first == "x" and last != "x"


def test_a_reread_of_unchanged_content_writes_only_its_sighting_times(tmp_path):
    from tests.store_cases import later

    run(tmp_path, [make_paper(1)])
    before = row(tmp_path, make_paper(1).key)
    run(tmp_path, [make_paper(1, harvested_at=later(24))], [make_paper(1, harvested_at=later(-1))])
    assert row(tmp_path, make_paper(1).key) == before
    times = query(tmp_path, "SELECT first_harvested_at, last_harvested_at FROM sightings")
    assert times == [("2024-02-01T11:00:00Z", "2024-02-02T12:00:00Z")]
    assert count(tmp_path, "observations") == 1  # same values: no new point


# -- title-keyed (dump) and arXiv-keyed (listing) records ----------------------------------------


@pytest.mark.parametrize("same_run", [False, True])
def test_dump_then_listing_merge_into_the_arxiv_row(tmp_path, same_run):
    dump, listing = dump_record(TITLE), listing_record("2501.00001", TITLE.upper() + "!")
    if same_run:
        run(tmp_path, [dump, listing])
    else:
        run(tmp_path, [dump])
        run(tmp_path, [listing])
    (got,) = read_papers(tmp_path / DB)
    assert got.key == "arxiv:2501.00001" and got.arxiv_id == "2501.00001"
    assert got.authors == listing.authors and got.organization == "Dump Org"
    assert got.upvotes == 10
    assert_fts_consistent(tmp_path)


def test_listing_then_dump_merge_into_the_arxiv_row(tmp_path):
    run(tmp_path, [listing_record("2501.00001", TITLE)])
    run(tmp_path, [dump_record(TITLE, upvotes=12)])
    (got,) = read_papers(tmp_path / DB)
    assert got.key == "arxiv:2501.00001"
    assert got.authors == ["A. Author", "B. Author"]  # the dump's empty authors erase nothing
    assert got.organization == "Dump Org" and got.upvotes == 12
    assert got.source == "textdump" and got.source_ref == "dump.txt:1"  # the latest sighting
    assert got.listing_date is None  # ... with its own listing date: the dump has none
    r = row(tmp_path, got.key)
    assert (r["first_listing_date"], r["last_listing_date"]) == ("2025-01-02", "2025-01-02")


def test_different_arxiv_ids_with_one_title_never_merge(tmp_path):
    run(tmp_path, [listing_record("2501.00001", TITLE), listing_record("2501.00002", TITLE)])
    run(tmp_path, [dump_record(TITLE)])  # ambiguous: stays its own row
    run(tmp_path, [listing_record("2501.00001", TITLE, upvotes=11)])  # still ambiguous
    keys = sorted(k for (k,) in query(tmp_path, "SELECT key FROM papers"))
    assert keys == ["arxiv:2501.00001", "arxiv:2501.00002", title_key(TITLE)]


# -- provenance (issue 14) -----------------------------------------------------------------------


def test_a_merged_row_lists_its_sightings_and_listing_days(tmp_path):
    import datetime as dt

    run(tmp_path, [dump_record(TITLE, source_ref="dump.txt:4")])
    run(
        tmp_path,
        [listing_record("2501.00001", listing_date=dt.date(2025, 1, 3), source_ref="u/03")],
        [listing_record("2501.00001", listing_date=dt.date(2025, 1, 2), source_ref="u/02")],
    )
    r = row(tmp_path, "arxiv:2501.00001")
    assert (r["source_ref"], r["listing_date"]) == ("u/02", "2025-01-02")  # the last sighting
    assert (r["first_listing_date"], r["last_listing_date"]) == ("2025-01-02", "2025-01-03")
    sightings = query(
        tmp_path, "SELECT key, source, source_ref, listing_date FROM sightings ORDER BY source_ref"
    )
    assert sightings == [
        ("arxiv:2501.00001", "textdump", "dump.txt:4", None),  # moved with the absorbed row
        ("arxiv:2501.00001", "hf-api", "u/02", "2025-01-02"),
        ("arxiv:2501.00001", "hf-api", "u/03", "2025-01-03"),
    ]


# -- full-text search (issue 15) -----------------------------------------------------------------


def test_fts_follows_inserts_updates_and_merges(tmp_path):
    run(tmp_path, [make_paper(i) for i in range(30)], [make_paper(7, abstract="zebra crossing")])
    assert match(tmp_path, "zebra") == [make_paper(7).key]
    run(tmp_path, [make_paper(7, abstract="giraffe neck"), make_paper(8, title="Zebra stripes")])
    assert match(tmp_path, "zebra") == [make_paper(8).key]
    assert match(tmp_path, "giraffe") == [make_paper(7).key]
    run(tmp_path, [dump_record("Okapi forest survey", abstract="okapi")])
    run(tmp_path, [listing_record("2502.00009", "Okapi forest survey", abstract=None)])
    assert match(tmp_path, "okapi") == ["arxiv:2502.00009"]
    assert len(match(tmp_path, "attention")) == 29  # paper 8's title changed
    assert_fts_consistent(tmp_path)


def test_fts_is_right_when_rows_change_again_before_their_commit(tmp_path):
    """Rows a transaction inserts are indexed at its commit, whatever later batches did."""
    run(tmp_path, [make_paper(1, abstract="walrus")])
    s = sink(tmp_path)
    s.open()
    s.write([make_paper(2, abstract="zebra"), dump_record("Okapi forest survey")])
    s.write([make_paper(2, abstract="giraffe"), make_paper(1, abstract="narwhal")])
    s.write([listing_record("2502.00009", "Okapi forest survey", abstract="okapi")])
    s.commit()
    s.write([make_paper(3, abstract="zebra")])
    s.close(Outcome.SUSPEND)  # the uncommitted row leaves nothing in the index
    assert match(tmp_path, "zebra OR walrus") == []
    assert match(tmp_path, "giraffe") == [make_paper(2).key]
    assert match(tmp_path, "narwhal") == [make_paper(1).key]
    assert match(tmp_path, "okapi") == ["arxiv:2502.00009"]
    assert_fts_consistent(tmp_path)
    assert query(tmp_path, "SELECT count(*) FROM meta WHERE name = 'fts_deferred_above'") == [(0,)]


PHRASE = '"sparse mixtures"'


@pytest.mark.parametrize("level", ["full", "column", "none"])
def test_each_fts_level_finds_the_same_words_and_says_what_it_cannot(tmp_path, level):
    run(tmp_path, [listing_record("2501.00001"), make_paper(2, abstract="mixtures sparse")])
    run(tmp_path, [], fts=level)
    assert dict(query(tmp_path, "SELECT name, value FROM meta"))["fts"] == level
    assert match(tmp_path, "sparse mixtures") == ["arxiv:2401.00002", "arxiv:2501.00001"]
    assert_fts_consistent(tmp_path)
    if level == "full":
        assert match(tmp_path, PHRASE) == ["arxiv:2501.00001"]  # word order counts
        assert match(tmp_path, "title: scaling") == ["arxiv:2501.00001"]
        return
    with pytest.raises(sqlite3.OperationalError, match="phrase queries are not supported"):
        match(tmp_path, PHRASE)
    if level == "column":
        assert match(tmp_path, "title: scaling") == ["arxiv:2501.00001"]
    else:
        with pytest.raises(sqlite3.OperationalError, match="column queries are not supported"):
            match(tmp_path, "title: scaling")


def test_a_changed_fts_level_rebuilds_the_index_once(tmp_path):
    run(tmp_path, [make_paper(1, abstract="walrus")], fts="column")
    run(tmp_path, [make_paper(2, abstract="walrus too")], fts=False)
    assert query(tmp_path, "SELECT name FROM sqlite_master WHERE name LIKE 'papers_fts%'") == []
    run(tmp_path, [make_paper(3, abstract="walrus three")], fts=True)  # back on: rebuilt
    assert match(tmp_path, "walrus") == [make_paper(i).key for i in (1, 2, 3)]
    assert match(tmp_path, '"walrus three"') == [make_paper(3).key]  # full detail again
    assert_fts_consistent(tmp_path)
    ddl = query(tmp_path, "SELECT sql FROM sqlite_master WHERE name = 'papers_fts'")[0][0]
    run(tmp_path, [make_paper(4)])  # the same level: nothing rebuilt
    assert query(tmp_path, "SELECT sql FROM sqlite_master WHERE name = 'papers_fts'")[0][0] == ddl


def test_other_writers_keep_fts_consistent(tmp_path):
    """Rows written by other tools (sqlite-utils, the shell) are indexed by the triggers."""
    run(tmp_path, [make_paper(1)])
    query(tmp_path, "UPDATE papers SET abstract = 'narwhal'")
    query(
        tmp_path,
        "INSERT INTO papers (key, title, title_key, abstract, first_seen, last_seen) "
        "VALUES ('title:x', 'Hand made', 'title:x', 'narwhal', 'now', 'now')",
    )
    assert match(tmp_path, "narwhal") == sorted([make_paper(1).key, "title:x"])
    assert_fts_consistent(tmp_path)


# -- migration from schema 1 ---------------------------------------------------------------------


def test_a_schema_1_database_is_migrated_in_place(tmp_path):
    con = sqlite3.connect(tmp_path / DB)
    con.executescript(V1_SQL.read_text())
    con.close()
    before = {p.key: p for p in read_papers(tmp_path / DB)}
    run(tmp_path, [make_paper(1, upvotes=500)], fts="column")
    assert query(tmp_path, "PRAGMA user_version") == [(2,)]
    after = {p.key: p for p in read_papers(tmp_path / DB)}
    assert after.keys() == before.keys() and after[make_paper(1).key].upvotes == 500
    stars = query(
        tmp_path, "SELECT github_stars FROM observations WHERE key = ?", make_paper(2).key
    )
    assert stars == [(42,)]  # the schema-1 rows became the first observations
    assert count(tmp_path, "sightings") == len(before)
    assert match(tmp_path, "walrus") == [title_key("A dump only title")]
    assert_fts_consistent(tmp_path)


# -- concurrency and errors ----------------------------------------------------------------------

WRITER = """
import sys
from pathlib import Path
import msgspec
from harvester.api import Outcome, SinkContext
from harvester_plugins.sqlite import SqliteSink
from tests.store_cases import make_paper
first, last = int(sys.argv[1]), int(sys.argv[2])
opts = msgspec.convert({"path": sys.argv[3]}, SqliteSink.Options)
sink = SqliteSink(opts, SinkContext(base_dir=Path.cwd()))
sink.open()
for start in range(first, last, 50):
    sink.write([make_paper(i, upvotes=int(sys.argv[4])) for i in range(start, start + 50)])
    sink.commit()
sink.close(Outcome.DONE)
"""


def test_two_processes_writing_one_database_lose_no_row(tmp_path):
    db = str(tmp_path / DB)
    run(tmp_path, [make_paper(0)])  # the schema exists; both writers also race to open it
    writers = [
        subprocess.Popen([sys.executable, "-c", WRITER, "0", "1500", db, "1"], cwd=ROOT),
        subprocess.Popen([sys.executable, "-c", WRITER, "1000", "2500", db, "2"], cwd=ROOT),
    ]
    assert [w.wait(timeout=240) for w in writers] == [0, 0]
    assert count(tmp_path) == 2500
    assert query(tmp_path, "SELECT count(DISTINCT key) FROM papers") == [(2500,)]
    # Every overlapping row holds one writer's values, whole: never a mix.
    mixed = query(tmp_path, "SELECT count(*) FROM papers WHERE upvotes NOT IN (1, 2)")
    assert mixed == [(0,)]
    assert_fts_consistent(tmp_path)


def test_a_writer_blocked_past_busy_timeout_gets_a_sink_error(tmp_path):
    run(tmp_path, [make_paper(1)])
    holder = sqlite3.connect(tmp_path / DB, isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")
    try:
        s = sink(tmp_path, busy_timeout=0.2)
        with pytest.raises(SinkError, match=r"papers\.db.*locked.*busy_timeout"):
            s.open()
    finally:
        holder.execute("ROLLBACK")
        holder.close()


def test_bad_options_are_refused():
    with pytest.raises(msgspec.ValidationError):
        msgspec.convert({"path": DB, "fts": "porter"}, SqliteSink.Options)
    with pytest.raises(msgspec.ValidationError, match="busy_timeout"):
        msgspec.convert({"path": DB, "busy_timeout": 0}, SqliteSink.Options)
