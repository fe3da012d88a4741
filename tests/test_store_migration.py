"""Database schema 2.1 -> 2.2 (the columns of record schema 1.1 and `from_lead`), in place the
first time a sink opens an old database: a SQLite file the 2.1 sink wrote
(fixtures/sqlite_schema2_1.sql) and a PostgreSQL database of the 2.1 layout on a real server.
The stored rows keep their values, and their fields count as from the family of their latest
sighting, so an HF record never overwrites what an arXiv listing stored before the migration."""

from __future__ import annotations

import datetime as dt
import sqlite3
from pathlib import Path

from harvester_plugins.postgres import DB_SCHEMA_VERSION as PG_VERSION
from harvester_plugins.sqlite import DB_SCHEMA_VERSION as SQLITE_VERSION
from harvester_plugins.store import rules

from harvester.normalise import title_key
from harvester.schema import Paper
from tests import pg
from tests import test_postgres_sink as pgs
from tests import test_sqlite_sink as lite

V2_1_SQL = Path(__file__).resolve().parent / "fixtures" / "sqlite_schema2_1.sql"
ADDED = ("arxiv_version", "categories", "doi", "from_lead")
T = dt.datetime(2026, 10, 6, 21, 0, tzinfo=dt.UTC)
pg_server, pg_url = pg.pg_server, pg.pg_url


def hf(i: int, **fields) -> Paper:
    """Paper `i` from hf-api, as the fixture database was written with."""
    values = dict(
        key=f"arxiv:2610.{i:05d}", arxiv_id=f"2610.{i:05d}", title=f"Invented study number {i}",
        abstract="HF's summary.", authors=["HF Author"], author_count=1, organization="hf-org",
        submitted_by="hf-user", upvotes=40 + i, comments=2, listing_date=dt.date(2026, 10, 6),
        url=f"https://huggingface.co/papers/2610.{i:05d}", source="hf-api",
        source_ref="https://huggingface.co/api/daily_papers?date=2026-10-06", harvested_at=T,
        extra={"hf": {"github_stars": 7}},
    )  # fmt: skip
    return Paper(**{**values, **fields})


def arxiv(i: int, **fields) -> Paper:
    """Paper `i` from an arXiv listing, as the fixture database was written with."""
    values = dict(
        key=f"arxiv:2610.{i:05d}", arxiv_id=f"2610.{i:05d}", title=f"Invented study number {i}",
        abstract=f"The arXiv abstract of {i}.", authors=["A. Arxiv", "B. Arxiv"], author_count=2,
        listing_date=dt.date(2026, 10, 7), url=f"https://arxiv.org/abs/2610.{i:05d}",
        source="arxiv-listing", source_ref=f"https://arxiv.org/list/cs.CL/new#2610.{i:05d}",
        harvested_at=T + dt.timedelta(hours=1), arxiv_version=1, categories=["cs.CL"],
        extra={"arxiv": {"announced_as": "new"}},
    )  # fmt: skip
    return Paper(**{**values, **fields})


DUMP_TITLE = "A dump only title about walruses"
DUMP = Paper(
    key=title_key(DUMP_TITLE), title=DUMP_TITLE, organization="Dump Org", upvotes=3,
    source="textdump", source_ref="dump.txt:1", harvested_at=T,
)  # fmt: skip
OLD_BATCHES = ([hf(1), arxiv(2), hf(3), DUMP], [arxiv(3)])  # what the 2.1 database holds
LATER = T + dt.timedelta(days=1)
NEW_BATCH = [  # after the migration
    arxiv(1, arxiv_version=2, abstract="The v2 abstract.", doi="10.1000/v2", harvested_at=LATER),
    hf(2, harvested_at=LATER),  # onto a row an arXiv listing wrote under 2.1
    hf(3, abstract="HF's newer summary.", upvotes=99, harvested_at=LATER),
]


def check_migrated(papers: dict[str, Paper], before: dict[str, Paper]) -> None:
    one, two, three = (papers[f"arxiv:2610.{i:05d}"] for i in (1, 2, 3))
    assert (one.abstract, one.authors, one.arxiv_version, one.doi) == (
        "The v2 abstract.", ["A. Arxiv", "B. Arxiv"], 2, "10.1000/v2",
    )  # fmt: skip
    assert one.upvotes == 41 and one.organization == "hf-org"  # HF's, stored under 2.1
    assert two.abstract == "The arXiv abstract of 2." and two.authors == ["A. Arxiv", "B. Arxiv"]
    assert two.upvotes == 42 and two.submitted_by == "hf-user"
    assert three.abstract == "The arXiv abstract of 3." and three.upvotes == 99
    # the stored values came through the migration; the 1.1 fields are null where not written
    assert papers[DUMP.key] == before[DUMP.key] and papers[DUMP.key].categories is None
    assert two.arxiv_version is None and two.categories is None


def test_a_schema_2_1_sqlite_file_is_migrated_in_place(tmp_path):
    con = sqlite3.connect(tmp_path / lite.DB)
    con.executescript(V2_1_SQL.read_text())
    con.close()
    before = {p.key: p for p in lite.read_papers(tmp_path / lite.DB)}
    assert before[DUMP.key].organization == "Dump Org" and len(before) == 4
    lite.run(tmp_path, NEW_BATCH)
    meta = dict(lite.query(tmp_path, "SELECT name, value FROM meta"))
    assert meta["schema_version"] == SQLITE_VERSION == "2.2"
    columns = [r[1] for r in lite.query(tmp_path, "PRAGMA table_info(papers)")]
    assert set(ADDED) <= set(columns)
    check_migrated({p.key: p for p in lite.read_papers(tmp_path / lite.DB)}, before)
    assert lite.match(tmp_path, "walruses") == [DUMP.key]
    assert lite.match(tmp_path, "v2 abstract") == ["arxiv:2610.00001"]
    lite.assert_fts_consistent(tmp_path)


def test_the_backfilled_from_lead_is_the_latest_sightings_family(tmp_path):
    con = sqlite3.connect(tmp_path / lite.DB)
    con.executescript(V2_1_SQL.read_text())
    con.close()
    lite.run(tmp_path, [])  # only opened: migrated
    got = dict(lite.query(tmp_path, "SELECT key, from_lead FROM papers"))
    arxiv_led = sum(rules.LEAD_BITS[f] for f in ("authors", "author_count", "abstract"))
    hf_led = sum(bit for f, bit in rules.LEAD_BITS.items() if rules.LEADS[f] == rules.HF)
    assert got["arxiv:2610.00002"] == got["arxiv:2610.00003"] == arxiv_led
    assert got["arxiv:2610.00001"] == hf_led
    assert got[DUMP.key] == rules.LEAD_BITS["organization"] | rules.LEAD_BITS["upvotes"]


def test_a_schema_2_1_postgres_database_is_migrated_in_place(pg_url):
    pgs.run(pg_url, *OLD_BATCHES)
    pgs.query(  # back to the 2.1 layout: the columns 2.2 added dropped
        pg_url,
        "; ".join(f"ALTER TABLE papers DROP COLUMN {c}" for c in ADDED)
        + "; UPDATE meta SET value = '2.1' WHERE name = 'schema_version'",
    )
    before = {p.key: p for p in pgs.read_papers(pg_url)}
    assert before[DUMP.key].organization == "Dump Org" and len(before) == 4
    pgs.run(pg_url, NEW_BATCH)
    version = pgs.query(pg_url, "SELECT value FROM meta WHERE name = 'schema_version'")
    assert version == [(PG_VERSION,)] and PG_VERSION == "2.2"
    columns = pgs.query(
        pg_url, "SELECT column_name FROM information_schema.columns WHERE table_name = 'papers'"
    )
    assert set(ADDED) <= {c for (c,) in columns}
    check_migrated({p.key: p for p in pgs.read_papers(pg_url)}, before)
    assert pgs.search(pg_url, "v2 abstract") == ["arxiv:2610.00001"]
