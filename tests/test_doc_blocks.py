"""Every code block of every page in docs/ is executed or validated (issue 23).

- ```toml blocks: parsed, completed into a whole config where they are a fragment (a source or a
  sink added when the block has none), then built into a run the way `harvester run` builds it:
  every option of every table is checked by its plugin. A `budget_store` in PostgreSQL is parsed
  as a database URL, not connected to. `file=` blocks of the plugin guide are the guide project,
  which tests/test_docs.py installs and runs.
- ```sh and ```console lines that call `harvester`: the command exists, every option the line
  passes is one of that command's, and its arguments fit. docs/outputs.md's lines also run, on
  the output of the example harvest, and must exit 0 and print or write something.
- ```python blocks of the plugin guide compile; the ```yaml block of docs/scaling.md parses and
  calls harvester with options `harvester run` has.
"""

from __future__ import annotations

import dataclasses
import re
import shlex
import shutil
import sys
import tomllib
from pathlib import Path

import click
import msgspec
import pytest
import yaml

from harvester.build import build_plan
from harvester.cli import cli
from harvester.config import parse_config
from harvester.fetch.settings import PROCESS_BUDGET
from harvester.pgconn import is_postgres_url, settings

from . import clirun

ROOT = Path(__file__).resolve().parent.parent
DOCS = sorted((ROOT / "docs").glob("*.md"))
_BLOCK = re.compile(r"^```(\w*)([^\n]*)\n(.*?)^```$", re.MULTILINE | re.DOTALL)


def blocks(*languages: str) -> list[tuple[str, str, str]]:
    """(page:line, info string, body) of every block in `languages` on every docs page."""
    found = []
    for page in DOCS:
        text = page.read_text(encoding="utf-8")
        for m in _BLOCK.finditer(text):
            if m[1] in languages:
                line = text.count("\n", 0, m.start()) + 1
                found.append((f"{page.name}:{line}", m[2].strip(), m[3]))
    return found


def test_every_block_has_a_language_this_test_knows():
    known = {"toml", "sh", "console", "python", "text", "yaml"}
    every = [(page.name, m[1]) for page in DOCS for m in _BLOCK.finditer(page.read_text())]
    assert every and not [b for b in every if b[1] not in known], every


# -- TOML ------------------------------------------------------------------------------------


def config_blocks() -> list[tuple[str, str]]:
    """The blocks that are (part of) a run config: not the guide's project files."""
    return [
        (where, body)
        for where, info, body in blocks("toml")
        if "file=" not in info and "project" not in tomllib.loads(body)
    ]


@pytest.mark.parametrize(("where", "body"), config_blocks(), ids=lambda v: str(v)[:40])
def test_every_config_block_builds_as_written(where, body, tmp_path):
    data = tomllib.loads(body)
    assert data, f"{where}: an empty block"
    if "sources" not in data:  # a sink's or a setting's table: any source will do
        data["sources"] = {"doc": {"plugin": "textdump", "inputs": ["listing.txt"]}}
    if "sinks" not in data:
        data["sinks"] = {"doc": {"plugin": "jsonl", "path": "out/papers.jsonl"}}
    config = parse_config(data, path=tmp_path / "doc.toml")
    store = config.fetch.budget_store
    if store is not None and is_postgres_url(store):
        assert settings(store), f"{where}: budget_store is not a database URL"
    # Not connected to: the pages' databases (db.example) are examples.
    fetch = msgspec.structs.replace(config.fetch, budget_store=PROCESS_BUDGET)
    config = dataclasses.replace(config, fetch=fetch)
    plan = build_plan(config)
    labels = {label for label, _ in plan.sources} | {label for label, _ in plan.sinks}
    for kind in ("sources", "sinks"):
        assert set(data[kind]) <= labels, where


def test_every_pyproject_block_uses_the_entry_point_groups_harvester_reads():
    from harvester.plugins import GROUP, KINDS

    groups = {GROUP, *(f"{GROUP}.{kind}s" for kind in KINDS)}
    found = [(w, b) for w, _, b in blocks("toml") if "project" in tomllib.loads(b)]
    assert len(found) >= 2  # the guide's pyproject.toml and its declarations
    for where, body in found:
        points = tomllib.loads(body)["project"]["entry-points"]
        assert points and set(points) <= groups, (where, sorted(points))


# -- shell lines -------------------------------------------------------------------------------


def harvester_lines(*languages: str, page: str | None = None) -> list[tuple[str, list[str]]]:
    """(where, argv after `harvester`) of each line of the blocks that calls harvester."""
    found = []
    for where, _, body in blocks(*languages):
        if page and not where.startswith(page):
            continue
        for line in body.splitlines():
            line = line.removeprefix("$ ").split(" #")[0].strip().rstrip("&").strip()
            words = shlex.split(line) if line else []
            while words and "=" in words[0] and not words[0].startswith("-"):
                words.pop(0)  # an environment variable for the command
            if words and words[0] == "harvester":
                found.append((where, words[1:]))
    return found


def check_call(where: str, argv: list[str]) -> None:
    """The command exists, takes every option given, and the arguments fit. Parsed, not
    converted: the files a line names need not exist here."""
    command = cli.get_command(click.Context(cli), argv[0])
    assert command is not None, f"{where}: no command harvester {argv[0]}"
    parser = command.make_parser(click.Context(command))
    given, extra, _ = parser.parse_args(list(argv[1:]))  # an unknown option raises
    missing = [p.name for p in command.params if isinstance(p, click.Argument)
               and p.required and given.get(p.name) in (None, ())]  # fmt: skip
    assert not missing, f"{where}: {argv}: missing arguments {missing}"
    assert not extra or command.allow_extra_args, f"{where}: {argv}: extra arguments {extra}"


def core_lines() -> list[tuple[str, list[str]]]:
    """The lines calling harvester's own commands on its own plugins: the guide's lines about
    its example plugin (`titles`, `parse lines`, `check my-listing`) run in tests/test_docs.py,
    in the venv the plugin is installed in."""
    guide = ("titles", "lines", "my-listing")
    return [(w, a) for w, a in harvester_lines("sh", "console") if not set(a[:3]) & set(guide)]


@pytest.mark.parametrize(("where", "argv"), core_lines(), ids=lambda v: " ".join(v)[:50])
def test_every_command_line_names_a_command_and_its_options(where, argv):
    check_call(where, argv)


def test_the_command_lines_include_every_page_with_shell_blocks():
    pages = {where.split(":")[0] for where, _ in harvester_lines("sh", "console")}
    assert {"outputs.md", "scaling.md", "sqlite.md", "plugins.md"} <= pages


@pytest.fixture(scope="module")
def example_output(tmp_path_factory) -> Path:
    """A copy of the repository's example harvest, run: out/papers.db, out/papers.jsonl."""
    root = tmp_path_factory.mktemp("example")
    for part in ("config", "examples"):
        shutil.copytree(ROOT / part, root / part)
    done = clirun.run(
        [sys.executable, "-m", "harvester", "run", "config/example.toml"],
        cwd=root, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    return root


@pytest.mark.parametrize(
    ("where", "argv"), harvester_lines("sh", page="outputs.md"), ids=lambda v: " ".join(v)[:50]
)
def test_the_outputs_page_commands_run_on_the_example_harvest(where, argv, example_output):
    out = example_output / "out"
    before = {p.name for p in out.iterdir()}
    done = clirun.run(
        [sys.executable, "-m", "harvester", *argv],
        cwd=example_output, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert done.returncode == 0, f"{where}: {done.stderr}"
    written = {p.name for p in out.iterdir() if not p.name.endswith(("-wal", "-shm"))} - before
    assert done.stdout.strip() or written, f"{where}: {argv} printed and wrote nothing"
    for name in written:
        assert (out / name).stat().st_size > 0, f"{where}: {name} is empty"


# -- Python and YAML ---------------------------------------------------------------------------


@pytest.mark.parametrize(("where", "info", "body"), blocks("python"), ids=lambda v: str(v)[:40])
def test_every_python_block_compiles(where, info, body):
    compile(body, where, "exec")


def test_the_workflow_calls_harvester_run_with_its_options():
    [(where, _, body)] = blocks("yaml")
    steps = yaml.safe_load(body)["jobs"]["backfill"]["steps"]
    script = "\n".join(s.get("run", "") for s in steps)
    command = re.search(r"harvester run (.*?)(?<!\\)\n", script.replace("\\\n", " "), re.S)
    assert command, f"{where}: no harvester run"
    argv = shlex.split(re.sub(r"\$\{\{[^}]*\}\}|\$\w+|\$\([^)]*\)", "X", command[1]))
    check_call(where, ["run", *argv])
