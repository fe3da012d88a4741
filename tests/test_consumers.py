"""The output works with the tools people read it with, run as real programs.

One `harvester run` (a subprocess, textdump -> jsonl + sqlite) over a small text dump written
here; then DuckDB (`read_json`) and jq read the JSONL, and the `sqlite3` shell and the
`sqlite-utils` CLI open the database. Counts and field values must match what was written.
jq and sqlite3 are system packages: the tests that need them skip, saying so, where they are
missing (CI installs both). DuckDB and sqlite-utils are test dependencies and must be there.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

from . import clirun

HARVESTER = [sys.executable, "-m", "harvester.cli"]
GENERATED = 40  # generated cards after the three written by hand

HEADER = """new

Daily Papers

byAK and the research community

Mar 14
"""

HAND_WRITTEN = """
[-] 19
https://huggingface.co/login?next=%2Fpapers%2F2603.01111
Sheep Counting at Scale

We count a great many sheep.

  • 3 authors
·
Mar 12 2

[-] -
https://huggingface.co/login?next=%2Fpapers%2F2603.02222
Café Physics: Ünïcode in Titles

An abstract with "quotes", a comma and a backslash \\ here.

acme Acme Research
·
Mar 13

A Paper Without An Identifier

Nothing links to it.

  • 1 authors
·
Feb 2, 2025
"""

CARD = """
[-] {upvotes}
https://huggingface.co/login?next=%2Fpapers%2F2603.{n:05d}
Generated Paper Number {n}

Generated abstract {n}.

  • {authors} authors
·
Mar 11
"""

# What the three hand-written cards must come out as, in every tool.
SHEEP = {
    "key": "arxiv:2603.01111",
    "title": "Sheep Counting at Scale",
    "upvotes": 19,
    "comments": 2,
    "author_count": 3,
    "published": "2026-03-12",
    "listing_date": "2026-03-14",
}
CAFE = {
    "key": "arxiv:2603.02222",
    "title": "Café Physics: Ünïcode in Titles",
    "abstract": 'An abstract with "quotes", a comma and a backslash \\ here.',
    "organization": "Acme Research",
    "upvotes": 0,
}
NO_ID_TITLE = "A Paper Without An Identifier"
TOTAL = 3 + GENERATED
TOTAL_UPVOTES = 19 + sum(range(GENERATED))


@dataclass
class Output:
    jsonl: Path
    db: Path
    records: list[dict]  # the JSONL as Python's json module reads it


@pytest.fixture(scope="module")
def output(tmp_path_factory) -> Output:
    work = tmp_path_factory.mktemp("consumers")
    cards = "".join(
        CARD.format(n=n, upvotes=n - 100, authors=1 + n % 5) for n in range(100, 100 + GENERATED)
    )
    (work / "dump.txt").write_text(HEADER + HAND_WRITTEN + cards, encoding="utf-8")
    (work / "run.toml").write_text(
        """
[run]
rejects = "out/rejects.jsonl"

[sources.dumps]
plugin = "textdump"
inputs = ["dump.txt"]
captured_on = 2026-03-14

[sinks.papers]
plugin = "jsonl"
path = "out/papers.jsonl"

[sinks.db]
plugin = "sqlite"
path = "out/papers.db"
""",
        encoding="utf-8",
    )
    result = clirun.run(
        [*HARVESTER, "run", "run.toml", "-q"],
        cwd=work,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    jsonl = work / "out" / "papers.jsonl"
    # split on "\n" only: U+2028 inside a string is valid JSON and str.splitlines would split it
    records = [json.loads(line) for line in jsonl.read_text(encoding="utf-8").split("\n") if line]
    assert (work / "out" / "rejects.jsonl").read_text() == ""
    return Output(jsonl=jsonl, db=work / "out" / "papers.db", records=records)


def _tool(name: str) -> str:
    """A system tool (jq, sqlite3): skip, saying which package to install, where it is missing."""
    path = shutil.which(name)
    if path is None:
        pytest.skip(f"`{name}` is not installed (apt-get install -y {name})")
    return path


def _run(*argv: str) -> str:
    result = subprocess.run(argv, capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, f"{argv[0]} failed: {result.stderr}"
    return result.stdout


def test_the_jsonl_holds_what_was_written(output):
    by_key = {r["key"]: r for r in output.records}
    assert len(output.records) == len(by_key) == TOTAL
    assert SHEEP.items() <= by_key[SHEEP["key"]].items()
    assert CAFE.items() <= by_key[CAFE["key"]].items()
    assert subprocess.run([*HARVESTER, "validate", str(output.jsonl)]).returncode == 0


# -- DuckDB -----------------------------------------------------------------------------------


def test_duckdb_read_json(output):
    duckdb = pytest.importorskip("duckdb", reason="duckdb is a test dependency")
    con = duckdb.connect()
    rel = f"read_json('{output.jsonl}', format = 'newline_delimited')"
    count, upvotes, keys = con.execute(
        f"SELECT count(*), sum(upvotes), count(DISTINCT key) FROM {rel}"
    ).fetchone()
    assert (count, upvotes, keys) == (TOTAL, TOTAL_UPVOTES, TOTAL)
    row = con.execute(
        f"SELECT title, upvotes, comments, author_count, published, listing_date "
        f"FROM {rel} WHERE key = ?",
        [SHEEP["key"]],
    ).fetchone()
    assert row[:4] == (SHEEP["title"], 19, 2, 3)
    assert (str(row[4]), str(row[5])) == (SHEEP["published"], SHEEP["listing_date"])
    # dates arrive typed, not as text: people filter on them
    types = {row[0]: row[1] for row in con.execute(f"DESCRIBE SELECT * FROM {rel}").fetchall()}
    assert types["published"] == "DATE" and types["listing_date"] == "DATE"
    title, org, abstract = con.execute(
        f"SELECT title, organization, abstract FROM {rel} WHERE key = ?", [CAFE["key"]]
    ).fetchone()
    assert (title, org, abstract) == (CAFE["title"], CAFE["organization"], CAFE["abstract"])
    assert con.execute(f"SELECT count(*) FROM {rel} WHERE arxiv_id IS NULL").fetchone() == (1,)


# -- jq ---------------------------------------------------------------------------------------


def test_jq_reads_every_line(output):
    jq = _tool("jq")
    assert _run(jq, "-s", "length", str(output.jsonl)).strip() == str(TOTAL)
    assert _run(jq, "-s", "map(.upvotes // 0) | add", str(output.jsonl)).strip() == str(
        TOTAL_UPVOTES
    )
    keys = _run(jq, "-r", ".key", str(output.jsonl)).split()
    assert keys == [r["key"] for r in output.records]
    cafe = json.loads(
        _run(
            jq,
            "-c",
            f'select(.key == "{CAFE["key"]}") | {{title, organization, abstract}}',
            str(output.jsonl),
        )
    )
    assert cafe == {k: CAFE[k] for k in ("title", "organization", "abstract")}
    no_id = _run(jq, "-r", "select(.arxiv_id == null) | .title", str(output.jsonl))
    assert no_id.splitlines() == [NO_ID_TITLE]


# -- the sqlite3 shell ------------------------------------------------------------------------


def test_sqlite3_shell_opens_the_database(output):
    sqlite3 = _tool("sqlite3")
    db = str(output.db)
    assert _run(sqlite3, "-readonly", db, "PRAGMA integrity_check").strip() == "ok"
    rows = json.loads(
        _run(
            sqlite3,
            "-readonly",
            "-json",
            db,
            "SELECT count(*) AS n, sum(upvotes) AS up FROM papers",
        )
    )
    assert rows == [{"n": TOTAL, "up": TOTAL_UPVOTES}]
    sheep = json.loads(
        _run(
            sqlite3,
            "-readonly",
            "-json",
            db,
            f"SELECT title, upvotes, comments, published FROM papers WHERE key = '{SHEEP['key']}'",
        )
    )
    assert sheep == [{k: SHEEP[k] for k in ("title", "upvotes", "comments", "published")}]
    # the full-text index answers, and the title with accents survived the round trip
    found = _run(
        sqlite3, "-readonly", db, "SELECT title FROM papers_fts WHERE papers_fts MATCH 'physics'"
    )
    assert found.strip() == CAFE["title"]


# -- sqlite-utils -----------------------------------------------------------------------------


def _sqlite_utils() -> str:
    beside = Path(sys.executable).with_name("sqlite-utils")
    path = str(beside) if beside.exists() else shutil.which("sqlite-utils")
    assert path, "sqlite-utils is a test dependency (pip install -e '.[test]')"
    return path


def test_sqlite_utils_opens_the_database(output):
    tool, db = _sqlite_utils(), str(output.db)
    tables = {t["table"]: t["count"] for t in json.loads(_run(tool, "tables", db, "--counts"))}
    assert tables["papers"] == TOTAL
    rows = json.loads(
        _run(
            tool,
            "query",
            db,
            "SELECT key, title, organization, upvotes FROM papers WHERE key = :key",
            "-p",
            "key",
            CAFE["key"],
        )
    )
    assert rows == [{k: CAFE[k] for k in ("key", "title", "organization", "upvotes")}]
    # authors/extra are JSON text columns: sqlite-utils' JSON functions work on them
    (count,) = json.loads(
        _run(tool, "query", db, "SELECT count(*) AS n FROM papers WHERE json_valid(extra)")
    )
    assert count == {"n": TOTAL}


def test_sqlite_utils_search_uses_the_full_text_index(output):
    hits = json.loads(
        _run(_sqlite_utils(), "search", str(output.db), "papers", "sheep", "-c", "key")
    )
    assert hits == [{"key": SHEEP["key"]}]
