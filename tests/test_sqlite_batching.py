"""However a stream of records reaches the sqlite sink (all in one batch and one commit into a
fresh database, one record per commit, batches committed in groups, or over two runs), the
database ends the same: the same rows and columns, the same sightings and observations, and the
same full-text hits in the same order. The stream exercises every merge rule across batch and
commit boundaries: a paper twice in one batch, arXiv versions arriving out of order, nulls that
must not erase, a title-keyed row re-keyed and another absorbed, re-reads that only move a
sighting. Real database files throughout."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest
from harvester_plugins.sqlite import SqliteSink

from harvester.api import Outcome
from harvester.schema import Paper
from tests.store_cases import (
    arxiv_record,
    dump_record,
    hf_record,
    later,
    listing_record,
    make_paper,
)
from tests.test_sqlite_sink import DB, ROOT, sink

FTS_QUERIES = ("abstract", "paper", "attention", "sparse", '"abstract of"', "arxiv OR summary")
VOLATILE = ("id", "first_seen", "last_seen")  # the wall clock of the load, and insert order


def stream() -> list[Paper]:
    """Records in the order a harvest could give them."""
    records = [make_paper(i) for i in range(40)]
    records += [
        make_paper(10, upvotes=1),  # paper 10 again, twice in a row (one batch when large)
        make_paper(10, upvotes=2, url=None),  # a null never erases the url
        hf_record(3, harvested_at=later(2)),
        arxiv_record(4, version=2),
        arxiv_record(4, version=1, abstract="An older version's abstract."),  # no downgrade
        hf_record(4, harvested_at=later(3)),  # HF never replaces arXiv's led fields
        dump_record(),  # a title-keyed row ...
        listing_record("2501.00001"),  # ... re-keyed to the arXiv row (rule 2)
        dump_record(upvotes=8, harvested_at=later(4)),  # rule 3: into the arXiv row
        listing_record("2501.00002", title="An Old Title"),
        dump_record("A New Title", upvotes=4),  # a row of its own, then ...
        listing_record("2501.00002", title="A New Title", harvested_at=later(5)),  # absorbed
        make_paper(11, harvested_at=later(6)),  # the same content re-read: the sighting moves
        make_paper(12, upvotes=None, comments=None, harvested_at=later(6)),  # observes nothing
        make_paper(13, abstract="A sparse mixture abstract.", harvested_at=later(7)),
    ]
    records += [make_paper(i, upvotes=i + 100, harvested_at=later(8)) for i in range(20, 30)]
    return records


def load(tmp_path: Path, records: Sequence[Paper], batch: int, commit_every: int) -> Path:
    """One run: batches of `batch` records, a commit every `commit_every` batches."""
    s = sink(tmp_path)
    s.open()
    for n, start in enumerate(range(0, len(records), batch), 1):
        s.write(records[start : start + batch])
        if n % commit_every == 0:
            s.commit()
    s.close(Outcome.DONE)
    return tmp_path / DB


def snapshot(path: Path) -> dict[str, Any]:
    con = sqlite3.connect(path)
    con.row_factory = sqlite3.Row
    try:
        con.execute("INSERT INTO papers_fts (papers_fts) VALUES ('integrity-check')")
        papers = [
            {k: v for k, v in dict(r).items() if k not in VOLATILE}
            for r in con.execute("SELECT * FROM papers ORDER BY key")
        ]
        hits = {
            q: [
                r[0]
                for r in con.execute(
                    "SELECT p.key FROM papers_fts JOIN papers AS p ON p.id = papers_fts.rowid "
                    "WHERE papers_fts MATCH ? ORDER BY rank, p.key",
                    (q,),
                )
            ]
            for q in FTS_QUERIES
        }
        tables = {
            t: [tuple(r) for r in con.execute(f"SELECT * FROM {t} ORDER BY 1, 2, 3, 4")]
            for t in ("sightings", "observations", "latest_observations")
        }
    finally:
        con.close()
    return {"papers": papers, "fts": hits, **tables}


@pytest.fixture(scope="module")
def fresh(tmp_path_factory) -> dict[str, Any]:
    """The whole stream in one batch and one commit, into a fresh database."""
    records = stream()
    return snapshot(load(tmp_path_factory.mktemp("fresh"), records, len(records), 1))


def test_the_fresh_load_holds_what_the_rules_say(fresh):
    by_key = {p["key"]: p for p in fresh["papers"]}
    assert by_key["arxiv:2401.00010"]["upvotes"] == 2
    assert by_key["arxiv:2401.00010"]["url"] == "https://example.org/papers/10"
    assert by_key["arxiv:2401.00004"]["arxiv_version"] == 2
    assert by_key["arxiv:2401.00004"]["abstract"] == "arXiv abstract v2."
    assert by_key["arxiv:2401.00004"]["upvotes"] == 44  # HF leads the counts
    assert by_key["arxiv:2501.00001"]["upvotes"] == 8  # the dump record merged into it
    assert by_key["arxiv:2501.00001"]["organization"] == "Dump Org"
    assert not [k for k in by_key if k.startswith("title:")]  # re-keyed and absorbed
    assert by_key["arxiv:2501.00002"]["first_listing_date"] == "2025-01-02"
    points_10 = [o for o in fresh["observations"] if o[0] == "arxiv:2401.00010"]
    assert [o[4] for o in points_10] == [10, 1, 2]  # one point per change, none dropped
    assert sorted(fresh["fts"]["sparse"]) == ["arxiv:2401.00013", "arxiv:2501.00001"]
    assert len(fresh["papers"]) == 42


@pytest.mark.parametrize(
    ("batch", "commit_every"),
    [(1, 1), (3, 2), (7, 1), (25, 3), (1000, 1)],
    ids=["one per commit", "3s, commit per 2", "7s", "25s, commit per 3", "one batch"],
)
def test_any_batching_gives_the_fresh_load(tmp_path, fresh, batch, commit_every):
    assert snapshot(load(tmp_path, stream(), batch, commit_every)) == fresh


def test_two_runs_into_one_database_give_the_fresh_load(tmp_path, fresh):
    records = stream()
    half = len(records) // 2 + 3  # between the title row and its re-keying
    load(tmp_path, records[:half], 5, 2)
    load(tmp_path, records[half:], 4, 1)
    assert snapshot(tmp_path / DB) == fresh


def test_replaying_the_stream_changes_nothing(tmp_path, fresh):
    records = stream()
    load(tmp_path, records, 9, 2)
    load(tmp_path, records, 9, 2)  # a resumed run replays its batches: idempotent
    assert snapshot(tmp_path / DB) == fresh


def test_none_and_bool_bind_as_sqlite3_binds_them(tmp_path):
    """The sink registers adapters for None and bool (`sink._bind_plainly`): every caller of
    sqlite3 in the process still binds them as NULL and as the integers 1 and 0."""
    s: SqliteSink = sink(tmp_path)
    s.open()
    s.close(Outcome.DONE)
    con = sqlite3.connect(":memory:")
    try:
        got = con.execute(
            "SELECT ? IS NULL, typeof(?), ?, typeof(?), ?", (None, None, True, True, False)
        )
        assert got.fetchone() == (1, "null", 1, "integer", 0)
    finally:
        con.close()


def test_an_adapter_the_application_registered_is_kept(tmp_path):
    """In a process of its own (the registry is process-wide): an application's own adapter
    for bool still binds after a sink has opened."""
    code = (
        "import sqlite3, sys\n"
        "from tests.test_sqlite_sink import sink\n"
        "from harvester.api import Outcome\n"
        "sqlite3.register_adapter(bool, lambda b: 'yes' if b else 'no')\n"
        "s = sink(__import__('pathlib').Path(sys.argv[1])); s.open(); s.close(Outcome.DONE)\n"
        "con = sqlite3.connect(':memory:')\n"
        "print(con.execute('SELECT ?, ? IS NULL', (True, None)).fetchone())\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code, str(tmp_path)],
        capture_output=True, text=True, cwd=ROOT, check=True, timeout=60,
    )  # fmt: skip
    assert done.stdout.strip() == "('yes', 1)"
