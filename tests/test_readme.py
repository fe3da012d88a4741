"""The README's consumer examples run, as written, on a real run's output: pandas keeps the
arXiv id as text, and the FTS phrase query finds `R1-Reward` (a raw MATCH rejects it)."""

from __future__ import annotations

import contextlib
import io
import os
import re
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from .conftest import BUILTIN_PLUGINS, ROOT

README = ROOT / "README.md"
_BLOCK = re.compile(r"^```python test=consumers\n(.*?)^```$", re.MULTILINE | re.DOTALL)

DUMP = """Daily Papers

Dec 10

 [-] 12

https://huggingface.co/login?next=%2Fpapers%2F2610.30020

R1-Reward: Training Multimodal Reward Model Through Stable Reinforcement Learning

We train a multimodal reward model with a stable reinforcement learning recipe.

  • 3 authors
·
Dec 9

 [-] 3

https://huggingface.co/login?next=%2Fpapers%2F2610.30021

Counting Sheep With Transformers

We count sheep, carefully and at scale, with attention.

  • 2 authors
·
Dec 8
"""


@pytest.fixture(scope="module")
def output(tmp_path_factory) -> Path:
    """`harvester run` over a small dump into out/papers.jsonl and out/papers.db."""
    work = tmp_path_factory.mktemp("readme")
    (work / "dump.txt").write_text(DUMP, encoding="utf-8")
    (work / "run.toml").write_text(
        '[sources.d]\nplugin = "textdump"\ninputs = ["dump.txt"]\ncaptured_on = 2026-12-10\n'
        '[sinks.jsonl]\npath = "out/papers.jsonl"\n[sinks.db]\nplugin = "sqlite"\n'
        'path = "out/papers.db"\n',
        encoding="utf-8",
    )
    env = {**os.environ, "HARVESTER_PLUGINS": BUILTIN_PLUGINS}
    done = subprocess.run(
        [sys.executable, "-m", "harvester.cli", "run", "-q", str(work / "run.toml")],
        capture_output=True, text=True, env=env, timeout=120,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    return work


def run_block(code: str, cwd: Path) -> str:
    """Execute one README block in `cwd`; what it printed."""
    printed = io.StringIO()
    here = Path.cwd()
    os.chdir(cwd)
    try:
        with contextlib.redirect_stdout(printed):
            exec(compile(code, "README.md", "exec"), {})
    finally:
        os.chdir(here)
    return printed.getvalue()


def test_the_readme_has_the_consumer_examples():
    assert len(_BLOCK.findall(README.read_text(encoding="utf-8"))) == 2


def test_pandas_keeps_the_arxiv_id_as_text(output):
    pandas_block = _BLOCK.findall(README.read_text(encoding="utf-8"))[0]
    assert run_block(pandas_block, output) == "2610.30020 str\n"
    import pandas as pd  # the trap the README warns of, still there

    guessed = pd.read_json(output / "out" / "papers.jsonl", lines=True)
    assert guessed.loc[0, "arxiv_id"] != "2610.30020"


def test_the_fts_phrase_query_finds_a_hyphenated_term(output):
    fts_block = _BLOCK.findall(README.read_text(encoding="utf-8"))[1]
    shown = run_block(fts_block, output)
    assert "arxiv:2610.30020" in shown and "Counting Sheep" not in shown
    db = sqlite3.connect(output / "out" / "papers.db")
    with pytest.raises(sqlite3.OperationalError):  # the raw MATCH the README warns of
        db.execute("SELECT * FROM papers_fts WHERE papers_fts MATCH 'R1-Reward'").fetchall()
    db.close()


def test_sqlite_utils_search_with_quote_as_the_readme_says(output):
    done = subprocess.run(
        [Path(sys.executable).parent / "sqlite-utils", "search", "out/papers.db", "papers",
         "R1-Reward", "--quote", "-c", "key"],
        capture_output=True, text=True, cwd=output, timeout=60,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert "arxiv:2610.30020" in done.stdout and "2610.30021" not in done.stdout
