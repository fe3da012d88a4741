"""Every README block runs, as written, and shows its point on the shipped example data: the
set-up command (install and run config/example.toml) in a copy of the repository, the shell
examples and the Python consumer examples on its output, the test command as .ci/run runs it,
the config and the workers' command as what they claim to be."""

from __future__ import annotations

import contextlib
import io
import os
import re
import shlex
import shutil
import sqlite3
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

from .conftest import BUILTIN_PLUGINS, ROOT

README = ROOT / "README.md"
TEXT = README.read_text(encoding="utf-8")
BLOCKS = re.findall(r"^```(\w+)([^\n]*)\n(.*?)^```$", TEXT, re.MULTILINE | re.DOTALL)
BIN = Path(sys.executable).parent


def blocks(lang: str, tag: str | None = None) -> list[str]:
    return [body for kind, info, body in BLOCKS if kind == lang and (tag is None or tag in info)]


@pytest.fixture(scope="module")
def example(tmp_path_factory) -> Path:
    """A copy of the repository's config/ and examples/, after `harvester run
    config/example.toml` (what the set-up command runs)."""
    work = tmp_path_factory.mktemp("readme")
    for part in ("config", "examples"):
        shutil.copytree(ROOT / part, work / part)
    done = subprocess.run(
        [BIN / "harvester", "run", "config/example.toml"],
        capture_output=True, text=True, cwd=work, timeout=120,
        env={**os.environ, "HARVESTER_PLUGINS": BUILTIN_PLUGINS},
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    return work


def run_block(code: str, cwd: Path) -> str:
    """Execute one README Python block in `cwd`; what it printed."""
    printed = io.StringIO()
    here = Path.cwd()
    os.chdir(cwd)
    try:
        with contextlib.redirect_stdout(printed):
            exec(compile(code, "README.md", "exec"), {})
    finally:
        os.chdir(here)
    return printed.getvalue()


def test_every_block_is_one_the_tests_run_or_check():
    known = {("sh", ""), ("sh", " test=example"), ("python", " test=consumers"), ("toml", "")}
    assert {(kind, info) for kind, info, _ in BLOCKS} <= known
    assert len(blocks("sh")) == 4 and len(blocks("python")) == 2 and len(blocks("toml")) == 1


@pytest.mark.slow
def test_the_set_up_command_installs_and_runs_the_example(tmp_path):
    """The first block, as written, in a copy of the repository (the venv it makes is its
    own; pip installs this checkout's code from the copy)."""
    setup = blocks("sh")[0].strip()
    assert setup == (
        "python3 -m venv .venv && .venv/bin/pip install -e . && "
        ".venv/bin/harvester run config/example.toml"
    )
    from .venv import DIST_PARTS

    for part in (*DIST_PARTS, "config", "examples"):
        src = ROOT / part
        copy = shutil.copytree if src.is_dir() else shutil.copy
        copy(src, tmp_path / part)
    env = {k: v for k, v in os.environ.items() if k not in ("VIRTUAL_ENV", "HARVESTER_PLUGINS")}
    done = subprocess.run(
        ["sh", "-c", setup], cwd=tmp_path, capture_output=True, text=True, timeout=600, env=env
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "2 targets (2 complete); 12 papers written" in done.stderr
    assert len((tmp_path / "out" / "papers.jsonl").read_text().splitlines()) == 12


def test_the_test_command_is_what_ci_runs():
    command = blocks("sh")[1].strip()
    assert command in (ROOT / ".ci" / "run").read_text(encoding="utf-8")


def test_the_workers_command_names_real_commands_and_config():
    line = blocks("sh")[2].strip()
    assert "config/hf-workers.toml" in line and (ROOT / "config" / "hf-workers.toml").is_file()
    for command in ("enqueue", "worker --until-done"):
        assert f"harvester {command.split()[0]} config/hf-workers.toml" in line
        assert all(word in line for word in command.split())


def test_the_config_block_is_a_config_harvester_accepts(tmp_path):
    from harvester.config import load_config

    (tmp_path / "run.toml").write_text(blocks("toml")[0], encoding="utf-8")
    config = load_config(tmp_path / "run.toml")
    assert config.run.state == "out/state/daily" and config.fetch.user_agent.startswith("my-lab")
    assert [s.label for s in config.sources] == ["seed-dumps"]
    assert tomllib.loads(blocks("toml")[0])["sinks"].keys() == {"jsonl", "sqlite"}


@pytest.mark.parametrize("line", blocks("sh", "test=example")[0].strip().splitlines())
def test_each_shell_example_shows_something_on_the_example(example, line):
    done = subprocess.run(
        ["sh", "-c", line], cwd=example, capture_output=True, text=True, timeout=60,
        env={**os.environ, "PATH": f"{BIN}{os.pathsep}{os.environ['PATH']}"},
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    out = done.stdout
    if "history" in line:  # both captures, their counts as each saw them
        assert re.search(r"\b19\s+2\b", out) and re.search(r"\b27\s+4\b", out), out
    elif "export" in line:
        assert out.startswith("@misc{") and len(out.splitlines()) == 12
    else:
        assert "19\tOrchard: Scaling Tree Search for Theorem Proving" in out


def test_pandas_keeps_the_arxiv_id_as_text(example):
    shown = run_block(blocks("python")[0], example)
    assert re.search(r"^2603\.01234 +Orchard: Scaling Tree Search", shown, re.MULTILINE), shown
    assert shown.endswith("str\n")
    import pandas as pd  # the trap the README warns of, still there

    guessed = pd.read_json(example / "out" / "papers.jsonl", lines=True)
    assert not any(isinstance(v, str) for v in guessed["arxiv_id"].dropna())


def test_the_fts_phrase_query_finds_a_hyphenated_term(example):
    shown = run_block(blocks("python")[1], example)
    assert "Sparse Lantern Networks for Low-Light Video Denoising" in shown
    assert "Orchard" not in shown
    db = sqlite3.connect(example / "out" / "papers.db")
    with pytest.raises(sqlite3.OperationalError):  # the raw MATCH the README warns of
        db.execute("SELECT * FROM papers_fts WHERE papers_fts MATCH 'Low-Light'").fetchall()
    db.close()


def test_sqlite_utils_search_with_quote_as_the_readme_says(example):
    said = re.search(r"`(sqlite-utils search [^`]+)`", TEXT).group(1)
    argv = shlex.split(said)
    done = subprocess.run(
        [BIN / argv[0], *argv[1:], "-c", "title"],
        capture_output=True, text=True, cwd=example, timeout=60,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert "Low-Light Video Denoising" in done.stdout and "Orchard" not in done.stdout
