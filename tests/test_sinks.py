"""Every built-in sink passes the plugin kit's `SinkContract` (the lifecycle the run drives),
plus a round trip of every field. A registered sink without a case here fails
`test_every_sink_has_a_case`."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path
from typing import Any, ClassVar

import bibtexparser
import feedparser
import msgspec
import pytest
import rispy
from bibtexparser.middlewares import LatexDecodingMiddleware

from harvester.normalise import title_key
from harvester.plugins import load_plugins
from harvester.schema import FIELDS, Paper
from harvester.testkit import SinkContract, sample_papers

JSONL_PATH = "out/papers.jsonl"
SQLITE_PATH = "out/papers.db"


def _read_jsonl(directory: Path) -> list[dict[str, Any]]:
    path = directory / JSONL_PATH
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def _read_sqlite(directory: Path) -> list[dict[str, Any]]:
    path = directory / SQLITE_PATH
    if not path.exists():
        return []
    con = sqlite3.connect(path)
    con.row_factory = sqlite3.Row
    try:
        rows = [dict(r) for r in con.execute("SELECT * FROM papers")]
    finally:
        con.close()
    for row in rows:
        for name in ("authors", "extra", "categories"):
            row[name] = None if row[name] is None else json.loads(row[name])
        row["published_inferred"] = bool(row["published_inferred"])
    return rows


class RoundTrip:
    """Every field written reads back unchanged (types included)."""

    round_trip_fields: ClassVar[tuple[str, ...]] = FIELDS

    def test_every_field_round_trips(self, tmp_path: Path):
        papers = sample_papers(3)
        self.run(tmp_path, [papers])
        fields = self.round_trip_fields
        got = {r["key"]: {f: r[f] for f in fields} for r in self.read_back(tmp_path)}
        for paper in papers:
            wanted = msgspec.to_builtins(paper)
            assert got[paper.key] == {f: wanted[f] for f in fields}, paper.key


class TestJsonlReplace(SinkContract, RoundTrip):
    sink_class = load_plugins().sink("jsonl")

    def sink_options(self, directory):
        return {"path": JSONL_PATH}

    def read_back(self, directory):
        return _read_jsonl(directory)


class TestJsonlAppend(SinkContract, RoundTrip):
    sink_class = load_plugins().sink("jsonl")
    accumulates = True

    def sink_options(self, directory):
        return {"path": JSONL_PATH, "mode": "append"}

    def read_back(self, directory):
        return _read_jsonl(directory)


class TestSqlite(SinkContract, RoundTrip):
    sink_class = load_plugins().sink("sqlite")
    accumulates = True

    def sink_options(self, directory):
        return {"path": SQLITE_PATH}

    def read_back(self, directory):
        return _read_sqlite(directory)


def _key_of(arxiv_id: str | None, title: str) -> str:
    """A paper's key from what an export shows: its arXiv id, else its title."""
    return f"arxiv:{arxiv_id}" if arxiv_id else title_key(title)


class TestParquet(SinkContract):
    sink_class = load_plugins().sink("parquet")

    def sink_options(self, directory):
        return {"path": "out/papers"}

    def read_back(self, directory):
        folder = directory / "out" / "papers"
        if not folder.exists():
            return []
        import duckdb  # here: every xdist worker imports this module to collect it

        con = duckdb.connect()
        rows = con.execute(
            f"SELECT key, title FROM read_parquet('{folder}/**/*.parquet', hive_partitioning=1)"
        ).fetchall()
        return [{"key": k, "title": t} for k, t in rows]


class TestCslJson(SinkContract):
    sink_class = load_plugins().sink("csl-json")

    def sink_options(self, directory):
        return {"path": "out/refs.json"}

    def read_back(self, directory):
        path = directory / "out" / "refs.json"
        if not path.exists():
            return []
        items = json.loads(path.read_text(encoding="utf-8"))
        return [
            {
                "key": _key_of((i.get("number") or "").removeprefix("arXiv:"), i["title"]),
                "title": i["title"],
            }
            for i in items
        ]


class TestBibtex(SinkContract):
    sink_class = load_plugins().sink("bibtex")

    def sink_options(self, directory):
        return {"path": "out/refs.bib"}

    def read_back(self, directory):
        path = directory / "out" / "refs.bib"
        if not path.exists():
            return []
        library = bibtexparser.parse_string(
            path.read_text(encoding="utf-8"), append_middleware=[LatexDecodingMiddleware()]
        )
        rows = []
        for entry in library.entries:
            fields = {f.key: f.value for f in entry.fields}
            rows.append(
                {"key": _key_of(fields.get("eprint"), fields["title"]), "title": fields["title"]}
            )
        return rows


class TestRis(SinkContract):
    sink_class = load_plugins().sink("ris")

    def sink_options(self, directory):
        return {"path": "out/refs.ris"}

    def read_back(self, directory):
        path = directory / "out" / "refs.ris"
        if not path.exists():
            return []
        rows = []
        for record in rispy.loads(path.read_text(encoding="utf-8")):
            eprint = next((u.rsplit("/", 1)[-1] for u in record.get("urls", [])
                           if "arxiv.org/abs/" in u), None)  # fmt: skip
            rows.append({"key": _key_of(eprint, record["title"]), "title": record["title"]})
        return rows


class TestFeed(SinkContract):
    sink_class = load_plugins().sink("feed")
    accumulates = True  # a window of recent entries, merged across runs

    def sink_options(self, directory):
        return {"path": "out/feed.xml"}

    def read_back(self, directory):
        path = directory / "out" / "feed.xml"
        if not path.exists():
            return []
        feed = feedparser.parse(path.read_bytes())
        prefix = "urn:harvester:paper:"
        return [{"key": e.id.removeprefix(prefix), "title": e.title} for e in feed.entries]


class TestPostgres(SinkContract, RoundTrip):
    sink_class = load_plugins().sink("postgres")
    accumulates = True

    @pytest.fixture(autouse=True)
    def _database(self, pg_url):
        self.url = pg_url  # a fresh database per test on the session's real server

    def sink_options(self, directory):
        return {"url": self.url}

    def unwritable_output(self, directory):
        return directory, {"url": "postgresql://nobody:secret@127.0.0.1:1/none"}  # no server

    def read_back(self, directory):
        import psycopg
        from psycopg.rows import dict_row

        with psycopg.connect(self.url, row_factory=dict_row) as con:
            try:
                rows = con.execute("SELECT * FROM papers").fetchall()
            except psycopg.errors.UndefinedTable:
                return []
        for row in rows:
            for name in ("published", "listing_date"):
                if row[name] is not None:
                    row[name] = row[name].isoformat()
            if row["harvested_at"] is not None:
                row["harvested_at"] = msgspec.to_builtins(row["harvested_at"])
        return rows


CASES: ClassVar = {
    "postgres": TestPostgres,
    "jsonl": TestJsonlReplace,
    "sqlite": TestSqlite,
    "parquet": TestParquet,
    "csl-json": TestCslJson,
    "bibtex": TestBibtex,
    "ris": TestRis,
    "feed": TestFeed,
}


def test_every_sink_has_a_case():
    registry = load_plugins()
    registry.load_all()
    assert set(registry.sinks) == set(CASES), "add a contract class for every sink"


def test_papers_are_finalised_records():
    for paper in sample_papers(3):
        assert isinstance(paper, Paper) and paper.key and paper.harvested_at
