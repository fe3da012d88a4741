"""Every built-in sink passes the plugin kit's `SinkContract` (the lifecycle the run drives),
plus a round trip of every field. A registered sink without a case here fails
`test_every_sink_has_a_case`."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path
from typing import Any, ClassVar

import msgspec

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
        row["authors"] = json.loads(row["authors"])
        row["extra"] = json.loads(row["extra"])
        row["published_inferred"] = bool(row["published_inferred"])
    return rows


class RoundTrip:
    """Every field written reads back unchanged (types included)."""

    def test_every_field_round_trips(self, tmp_path: Path):
        papers = sample_papers(3)
        self.run(tmp_path, [papers])
        got = {r["key"]: {f: r[f] for f in FIELDS} for r in self.read_back(tmp_path)}
        for paper in papers:
            assert got[paper.key] == msgspec.to_builtins(paper), paper.key


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


CASES: ClassVar = {"jsonl": TestJsonlReplace, "sqlite": TestSqlite}


def test_every_sink_has_a_case():
    assert set(load_plugins().sinks) == set(CASES), "add a contract class for every sink"


def test_papers_are_finalised_records():
    for paper in sample_papers(3):
        assert isinstance(paper, Paper) and paper.key and paper.harvested_at
