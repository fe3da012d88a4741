"""The CLI as a real process of its own (forked from the tests' fork server, see tests/clirun.py):
run, parse, plugins, schema, exit statuses, summary, progress."""

from __future__ import annotations

import json
import os
import pty
import sqlite3
import subprocess
import sys
import unicodedata
from pathlib import Path

import pytest

from . import clirun
from .conftest import BUILTIN_PLUGINS, ROOT

HARVESTER = [sys.executable, "-m", "harvester.cli"]
EXAMPLE_DUMP = ROOT / "examples" / "textdump" / "sample-listing.txt"


def harvester(*args, cwd=None, **kw) -> subprocess.CompletedProcess:
    env = {**os.environ, "HARVESTER_PLUGINS": BUILTIN_PLUGINS}
    return clirun.run(
        [*HARVESTER, *map(str, args)],
        capture_output=True,
        text=True,
        cwd=cwd,
        env=env,
        timeout=120,
        **kw,
    )


def write_config(tmp_path: Path, inputs: list[str], captured_on: str = "2026-03-14") -> Path:
    config = tmp_path / "run.toml"
    config.write_text(
        f"""
[run]
rejects = "out/rejects.jsonl"

[sources.dumps]
plugin = "textdump"
inputs = {json.dumps(inputs)}
captured_on = {captured_on}

[sinks.jsonl]
path = "out/papers.jsonl"

[sinks.sqlite]
path = "out/papers.db"
""",
        encoding="utf-8",
    )
    return config


def rows(db: Path) -> int:
    with sqlite3.connect(db) as conn:
        return conn.execute("select count(*) from papers").fetchone()[0]


def jsonl(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


@pytest.mark.parametrize("command", ["run", "parse", "plugins", "schema", "validate"])
def test_every_command_has_help(command):
    result = harvester(command, "--help")
    assert result.returncode == 0
    assert "Usage:" in result.stdout
    help_text = result.stdout.split("\n\n")[1].strip()
    assert len(help_text) > 20, result.stdout


def test_a_command_of_a_broken_plugin_names_why_it_is_missing(tmp_path):
    """Without the [postgres] extra the workers plugin cannot load: its commands are missing,
    and asking for one says which plugin failed and what to install."""
    # as if procrastinate were not installed: find_spec gives None, an import fails
    (tmp_path / "sitecustomize.py").write_text("import sys\nsys.modules['procrastinate'] = None\n")
    env = {**os.environ, "PYTHONPATH": str(tmp_path)}
    proc = clirun.run(
        [*HARVESTER, "enqueue", "x.toml"], capture_output=True, text=True, env=env, timeout=120
    )
    assert proc.returncode == 2
    assert "No such command 'enqueue'" in proc.stderr
    assert "workers: cannot import harvester_plugins.workers" in proc.stderr
    assert "pip install 'paper-harvester[postgres]'" in proc.stderr
    proc = clirun.run([*HARVESTER, "enqueue", "x.toml"], capture_output=True, text=True)
    assert "failed to load" not in proc.stderr  # with every plugin loaded: no hint


def test_schema_command_prints_the_committed_schema():
    result = harvester("schema")
    assert result.returncode == 0
    committed = (ROOT / "schema" / "paper.schema.json").read_text(encoding="utf-8")
    assert json.loads(result.stdout) == json.loads(committed)


def test_plugins_lists_builtins_as_json():
    result = harvester("plugins")
    assert result.returncode == 0, result.stderr
    listed = {(p["name"], p["kind"]): p for p in json.loads(result.stdout)}
    assert ("textdump", "source") in listed
    assert ("jsonl", "sink") in listed and ("sqlite", "sink") in listed
    assert {("export", "command"), ("history", "command"), ("worker", "command")} <= set(listed)
    row = listed[("textdump", "source")]
    assert row["module"] == "harvester_plugins.textdump"
    assert row["version"] and row["error"] is None


def test_run_example_writes_jsonl_and_sqlite_and_is_idempotent(tmp_path):
    config = write_config(tmp_path, [str(EXAMPLE_DUMP)])
    first = harvester("run", config)
    assert first.returncode == 0, first.stderr
    assert "status: ok" in first.stderr and "\x1b[" not in first.stderr  # no progress in a pipe
    records = jsonl(tmp_path / "out" / "papers.jsonl")
    assert records and all(r["source"] == "textdump" for r in records)
    count = rows(tmp_path / "out" / "papers.db")
    assert count == len({r["key"] for r in records})

    second = harvester("run", config)
    assert second.returncode == 0, second.stderr
    assert rows(tmp_path / "out" / "papers.db") == count
    assert len(jsonl(tmp_path / "out" / "papers.jsonl")) == len(records)  # replaced, not appended


def test_shipped_example_config_runs(tmp_path):
    out = tmp_path / "out"
    result = harvester(
        "run",
        ROOT / "config" / "example.toml",
        "--set",
        f'sinks.jsonl.path="{out / "papers.jsonl"}"',
        "--set",
        f'sinks.sqlite.path="{out / "papers.db"}"',
        "--set",
        f'run.rejects="{out / "rejects.jsonl"}"',
        "--summary-json",
        tmp_path / "summary.json",
    )
    assert result.returncode == 0, result.stderr
    summary = json.loads((tmp_path / "summary.json").read_text())
    (source,) = summary["sources"]
    assert source["outcomes"] == {"complete": 2}  # the listing and its later partial copy
    assert source["written"] == len(jsonl(out / "papers.jsonl")) == 12
    assert source["entries"] == source["written"] + source["rejected"]
    # the output commands work on the example run's database
    bib = harvester("export", "--format", "bibtex", out / "papers.db")
    assert bib.returncode == 0, bib.stderr
    assert bib.stdout.count("@misc{") == rows(out / "papers.db")
    history = harvester("history", out / "papers.db", "arxiv:2603.01234", "--json")
    assert history.returncode == 0, history.stderr
    points = [json.loads(line) for line in history.stdout.splitlines()]
    assert [(p["upvotes"], p["comments"]) for p in points] == [(19, 2), (27, 4)]


def test_a_failed_target_exits_3_and_a_replaced_output_is_left_as_it_was(tmp_path):
    good = write_config(tmp_path, [str(EXAMPLE_DUMP)])
    assert harvester("run", good).returncode == 0
    before = jsonl(tmp_path / "out" / "papers.jsonl")
    config = write_config(tmp_path, [str(EXAMPLE_DUMP), str(tmp_path / "missing.txt")])
    result = harvester("run", config)
    assert result.returncode == 3, result.stderr
    assert "failed: " in result.stderr and "missing.txt" in result.stderr
    # without state the JSONL holds one run's papers: a run that missed a target keeps the last
    assert "left as they were, so that they do not lose" in result.stderr
    assert jsonl(tmp_path / "out" / "papers.jsonl") == before


def test_config_error_exits_2_naming_file_and_key(tmp_path):
    config = write_config(tmp_path, [str(EXAMPLE_DUMP)], captured_on='"yesterday"')
    result = harvester("run", config)
    assert result.returncode == 2
    assert str(config) in result.stderr and "sources.dumps.captured_on" in result.stderr
    assert not (tmp_path / "out").exists()  # nothing touched


def test_parse_prints_jsonl_to_stdout():
    result = harvester("parse", "textdump", EXAMPLE_DUMP, "--option", "captured_on=2026-03-14")
    assert result.returncode == 0, result.stderr
    records = [json.loads(line) for line in result.stdout.splitlines()]
    assert records and all(r["source_ref"].startswith(str(EXAMPLE_DUMP)) for r in records)


def test_parse_unknown_option_and_unknown_source_are_usage_errors():
    bad = harvester("parse", "textdump", EXAMPLE_DUMP, "--option", "colour=red")
    assert bad.returncode == 2 and "colour" in bad.stderr
    unknown = harvester("parse", "nope", EXAMPLE_DUMP)
    assert unknown.returncode == 2 and "unknown source 'nope'" in unknown.stderr


def test_parse_seed_002(seeds_dir):
    result = harvester(
        "parse",
        "textdump",
        seeds_dir / "002_b32c6478d487ce29.txt",
        "--option",
        "captured_on=2025-12-10",
    )
    assert result.returncode == 0, result.stderr
    records = [json.loads(line) for line in result.stdout.splitlines()]
    assert len(records) == 44
    by_raw = {r["published_raw"]: r for r in records}
    assert by_raw["Sep 25"]["published"] == "2025-09-25"
    assert by_raw["Sep 25"]["published_inferred"] is True
    assert by_raw["Dec 20, 2013"]["published"] == "2013-12-20"
    assert by_raw["Dec 20, 2013"]["published_inferred"] is False
    assert sum(r["author_count"] is not None for r in records) == 40
    assert [r["organization"] for r in records if r["organization"]] == ["Qwen"]
    # The issue says 5; the file has 6 (lines 83, 139, 147, 211, 251, 343: "Sep 2 2" included).
    # A card showing its date line but no count has 0 comments (the site omits a 0); one
    # without a meta block shows nothing: null.
    comments = [r["comments"] for r in records]
    assert sum(1 for c in comments if c) == 6
    assert (comments.count(0), comments.count(None)) == (35, 3)
    assert {r["listing_date"] for r in records} == {"2025-12-10"}


def _loose_title(title: str) -> str:
    """An independent notion of 'the same title' for the test: NFKC, case and spaces folded."""
    return " ".join(unicodedata.normalize("NFKC", title).casefold().split())


def test_all_five_seeds_into_one_database_give_one_row_per_paper(tmp_path, seeds_dir):
    seeds = sorted(seeds_dir.glob("*.txt"))
    config = write_config(tmp_path, [str(p) for p in seeds], captured_on="2025-12-10")
    result = harvester("run", config)
    assert result.returncode == 0, result.stderr
    records = jsonl(tmp_path / "out" / "papers.jsonl")
    assert len(records) == 75 + 91 + 44 + 104 + 55
    distinct = {_loose_title(r["title"]) for r in records}
    assert len(distinct) < len(records)  # titles do repeat across the seeds
    assert rows(tmp_path / "out" / "papers.db") == len(distinct)
    again = harvester("run", config)
    assert again.returncode == 0
    assert rows(tmp_path / "out" / "papers.db") == len(distinct)


def test_progress_shows_on_a_terminal(tmp_path):
    config = write_config(tmp_path, [str(EXAMPLE_DUMP)])
    primary, secondary = pty.openpty()
    env = {**os.environ, "HARVESTER_PLUGINS": BUILTIN_PLUGINS}
    proc = subprocess.run(
        [*HARVESTER, "run", str(config)],
        stdout=subprocess.DEVNULL,
        stderr=secondary,
        env=env,
        timeout=120,
    )
    os.close(secondary)
    shown = b""
    while True:
        try:
            chunk = os.read(primary, 65536)
        except OSError:
            break
        if not chunk:
            break
        shown += chunk
    os.close(primary)
    assert proc.returncode == 0
    # the live progress line: done of total, singular for one
    assert b"\r\x1b[2Kdumps: 1/1 target, 10 written, 0 rejected, 0 failed" in shown
    assert b"status: ok" in shown
    assert b"outputs written to: jsonl -> out/papers.jsonl, sqlite -> out/papers.db" in shown


def test_parse_over_its_entry_bound_prints_nothing_and_says_why(tmp_path):
    cards = [f"Paper number {i}\n\nAbstract {i}.\n\n  • 3 authors\n·\nMar 2\n" for i in range(30)]
    dump = tmp_path / "thirty.txt"
    dump.write_text("Daily Papers\n\nMar 14\n\n" + "\n".join(cards), encoding="utf-8")
    over = harvester("parse", "textdump", dump, "-o", "captured_on=2026-03-14", "--max-entries", 20)
    assert over.returncode == 3 and over.stdout == ""
    assert f"harvester: failed: {dump}: more than 20 entries" in over.stderr
    within = harvester(
        "parse", "textdump", dump, "-o", "captured_on=2026-03-14", "--max-entries", 30
    )
    assert within.returncode == 0 and len(within.stdout.splitlines()) == 30
