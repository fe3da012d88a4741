"""The sqlite sink: upserts, the dump/listing merge rules, FTS upkeep, schema version, errors."""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from pathlib import Path

import pytest
from harvester_plugins.sqlite_sink import DB_SCHEMA_VERSION, SqliteSink, read_papers

from harvester.api import RunContext, parse_options
from harvester.errors import SinkError
from harvester.normalise import title_key
from harvester.schema import Paper
from tests.test_sinks import make_paper

DB = "papers.db"


def run(tmp_path: Path, *batches: Sequence[Paper], ok: bool = True, fts: bool = True) -> SqliteSink:
    sink = SqliteSink(
        parse_options(SqliteSink.Options, {"path": DB, "fts": fts}), RunContext(tmp_path)
    )
    sink.open()
    for batch in batches:
        sink.write(batch)
    sink.close(ok=ok)
    return sink


def query(tmp_path: Path, sql: str, *params) -> list[tuple]:
    con = sqlite3.connect(tmp_path / DB, isolation_level=None)  # autocommit
    try:
        return con.execute(sql, params).fetchall()
    finally:
        con.close()


def count(tmp_path: Path) -> int:
    return query(tmp_path, "SELECT count(*) FROM papers")[0][0]


def match(tmp_path: Path, words: str) -> list[str]:
    return sorted(
        k
        for (k,) in query(
            tmp_path,
            "SELECT papers.key FROM papers_fts JOIN papers ON papers.id = papers_fts.rowid "
            "WHERE papers_fts MATCH ?",
            words,
        )
    )


def assert_fts_consistent(tmp_path: Path) -> None:
    """FTS5's own check that the index matches the content table (raises when corrupt)."""
    query(tmp_path, "INSERT INTO papers_fts (papers_fts, rank) VALUES ('integrity-check', 1)")


def dump_record(title: str, **fields) -> Paper:
    """What a text dump yields: no arXiv id, no authors, title-keyed."""
    values = dict(
        key=title_key(title),
        title=title,
        organization="Dump Org",
        upvotes=3,
        source="textdump",
        source_ref="dump.txt:1",
    )
    return Paper(**{**values, **fields})


def listing_record(arxiv_id: str, title: str, **fields) -> Paper:
    """What a listing page / the API yields: arXiv id, authors, no organization."""
    values = dict(
        key=f"arxiv:{arxiv_id}",
        arxiv_id=arxiv_id,
        title=title,
        authors=["A. Author", "B. Author"],
        abstract=f"Abstract of {title}",
        upvotes=10,
        source="hf-api",
        source_ref="https://x/1",
    )
    return Paper(**{**values, **fields})


# -- storage basics --------------------------------------------------------------------------


def test_wal_mode_and_schema_version_are_recorded(tmp_path):
    run(tmp_path, [make_paper(1)])
    assert query(tmp_path, "PRAGMA journal_mode") == [("wal",)]
    assert query(tmp_path, "PRAGMA user_version") == [(1,)]
    meta = dict(query(tmp_path, "SELECT name, value FROM meta"))
    assert meta["schema_version"] == DB_SCHEMA_VERSION
    row = query(tmp_path, "SELECT title_key, published_inferred, authors FROM papers")[0]
    assert row == (title_key(make_paper(1).title), 0, '["Author 1","Second Author"]')


def test_incompatible_major_version_is_a_sink_error(tmp_path):
    run(tmp_path, [make_paper(1)])
    query(tmp_path, "PRAGMA user_version = 2")
    with pytest.raises(SinkError, match="version 2"):
        run(tmp_path, [make_paper(2)])


def test_a_foreign_database_is_a_sink_error(tmp_path):
    query(tmp_path, "CREATE TABLE papers (id INTEGER, name TEXT)")
    with pytest.raises(SinkError, match="not a harvester database"):
        run(tmp_path, [make_paper(1)])


def test_a_file_that_is_not_a_database_is_a_sink_error(tmp_path):
    (tmp_path / DB).write_text("title,authors\nnot,sqlite\n" * 100)
    with pytest.raises(SinkError, match=r"papers\.db.*not a database"):
        run(tmp_path, [make_paper(1)])


# A read-only output directory is tested for real (as an unprivileged child process: root
# ignores directory permissions) in tests/test_outputs_fail.py.


def test_abandoned_run_rolls_back_only_what_was_not_committed(tmp_path):
    sink = SqliteSink(parse_options(SqliteSink.Options, {"path": DB}), RunContext(tmp_path))
    sink.open()
    sink.write([make_paper(1)])
    sink.commit()
    sink.write([make_paper(2), make_paper(1, upvotes=999)])
    sink.close(ok=False)
    assert read_papers(tmp_path / DB) == [make_paper(1)]


# -- upserts ---------------------------------------------------------------------------------


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
    assert query(tmp_path, "SELECT upvotes FROM papers WHERE key = ?", make_paper(50).key) == [
        (1050,)
    ]


def test_newer_values_replace_and_nulls_never_erase(tmp_path):
    old = make_paper(1, extra={"test": {"rank": 1}, "old": True})
    newer = make_paper(
        1,
        abstract=None,
        authors=[],
        organization=None,
        upvotes=77,
        published=None,
        published_inferred=False,
        extra={"new": 1},
    )
    run(tmp_path, [old])
    run(tmp_path, [newer])
    (got,) = read_papers(tmp_path / DB)
    assert got.upvotes == 77  # newer non-null wins
    assert got.abstract == old.abstract and got.authors == old.authors  # nulls keep old values
    assert got.organization == old.organization
    assert got.published == old.published and got.published_inferred == old.published_inferred
    assert got.extra == {"test": {"rank": 1}, "old": True, "new": 1}


def test_first_seen_stays_and_last_seen_moves(tmp_path):
    run(tmp_path, [make_paper(1)])
    query(tmp_path, "UPDATE papers SET first_seen = 'x', last_seen = 'x'")
    run(tmp_path, [make_paper(1)])
    ((first, last),) = query(tmp_path, "SELECT first_seen, last_seen FROM papers")
    assert first == "x" and last != "x"


# -- merging title-keyed (dump) and arXiv-keyed (listing) records ----------------------------

TITLE = "Scaling Laws for Sparse Mixtures"


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
    assert got.source == "textdump"  # the newer record's provenance


def test_different_arxiv_ids_with_one_title_never_merge(tmp_path):
    run(tmp_path, [listing_record("2501.00001", TITLE), listing_record("2501.00002", TITLE)])
    run(tmp_path, [dump_record(TITLE)])  # ambiguous: stays its own row
    run(tmp_path, [listing_record("2501.00001", TITLE)])  # still ambiguous: not absorbed
    keys = sorted(k for (k,) in query(tmp_path, "SELECT key FROM papers"))
    assert keys == ["arxiv:2501.00001", "arxiv:2501.00002", title_key(TITLE)]


def test_a_title_row_fills_the_gaps_of_an_existing_arxiv_row(tmp_path):
    run(tmp_path, [listing_record("2501.00001", "An Early Title", abstract=None, upvotes=None)])
    run(tmp_path, [dump_record(TITLE, abstract="From the dump", comments=4)])
    assert count(tmp_path) == 2
    run(tmp_path, [listing_record("2501.00001", TITLE, abstract=None, upvotes=None)])
    (got,) = read_papers(tmp_path / DB)
    assert got.key == "arxiv:2501.00001" and got.title == TITLE
    assert got.abstract == "From the dump" and got.comments == 4 and got.upvotes == 3
    assert got.organization == "Dump Org"
    assert match(tmp_path, "dump") == ["arxiv:2501.00001"]
    assert_fts_consistent(tmp_path)


# -- full-text search ------------------------------------------------------------------------


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


def test_fts_can_be_switched_off_and_rebuilt(tmp_path):
    run(tmp_path, [make_paper(1, abstract="walrus")])
    run(tmp_path, [make_paper(2, abstract="walrus too")], fts=False)
    run(tmp_path, [], fts=True)  # switching it back on rebuilds the index
    assert match(tmp_path, "walrus") == sorted([make_paper(1).key, make_paper(2).key])
    assert_fts_consistent(tmp_path)


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
