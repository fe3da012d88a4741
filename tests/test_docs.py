"""The docs run: every example in harvester/hookspecs.py's docstrings, and the plugin guide
(docs/plugins.md) installed as a project into a fresh venv and used exactly as it shows."""

from __future__ import annotations

import json
import re
import subprocess
import textwrap
import types
import zipfile
from pathlib import Path

import click
import pytest
from click.testing import CliRunner

from harvester import hookspecs
from harvester.build import build_plan
from harvester.config import load_config
from harvester.plugins import register_plugin
from harvester.run import Run
from harvester.testkit import harvest, make_source

from .venv import UV, guide_files, write_guide_project


def hook_example(hook: str) -> types.ModuleType:
    """The `Example::` block of a hook's docstring, executed as a module."""
    doc = getattr(hookspecs, hook).__doc__
    code = textwrap.dedent(doc.split("Example::", 1)[1])
    module = types.ModuleType(f"example_{hook}")
    exec(compile(code, f"<{hook} example>", "exec"), module.__dict__)
    return module


def test_every_hook_has_a_documented_example():
    hooks = [n for n in dir(hookspecs) if n.startswith("register_")]
    assert set(hooks) == {
        "register_sources",
        "register_sinks",
        "register_stores",
        "register_commands",
    }
    for hook in hooks:
        assert "Example::" in getattr(hookspecs, hook).__doc__, hook


def test_the_register_sources_example_reads_a_file(tmp_path):
    module = hook_example("register_sources")
    registry = register_plugin(module, "doc-lines")
    (tmp_path / "t.txt").write_text("First title\n\nSecond title\n", encoding="utf-8")
    source = make_source(registry.source("lines"), ["*.txt"], base_dir=tmp_path)
    out = harvest(source)
    assert [(p.title, p.source_ref) for p in out.papers] == [
        ("First title", "t.txt:1"),
        ("Second title", "t.txt:3"),
    ]


def test_the_register_stores_example_is_read_by_export(tmp_path):
    """The example store, registered, is what `open_store` opens for its files, and what the
    bibliography export renders (one entry per paper)."""
    from harvester_plugins.biblio.formats import render_bibtex

    from harvester import open_store

    register_plugin(hook_example("register_stores"), "doc-json-array")
    path = tmp_path / "mine.papers.json"
    items = [{"key": "arxiv:2501.00001", "title": "One", "arxiv_id": "2501.00001"}]
    path.write_text(json.dumps(items), encoding="utf-8")
    with open_store(str(path)) as store:
        assert store.name == "json-array"
        papers = store.papers()
    assert [p.title for p in papers] == ["One"]
    assert "eprint = {2501.00001}" in render_bibtex(papers)


def test_the_register_sinks_example_runs_in_a_run(tmp_path, caplog):
    register_plugin(hook_example("register_sinks"), "doc-count")
    (tmp_path / "d.txt").write_text(
        "Daily Papers\n\nDec 10\n\nA title\n\nAn abstract.\n\n  • 3 authors\n·\nSep 25\n",
        encoding="utf-8",
    )
    config = tmp_path / "run.toml"
    config.write_text(
        '[sources.d]\nplugin = "textdump"\ninputs = ["d.txt"]\ncaptured_on = 2025-12-10\n'
        '[sinks.n]\nplugin = "count"\n',
        encoding="utf-8",
    )
    report = Run(build_plan(load_config(config))).execute()
    assert report.exit_status == 0 and report.sources[0].written == 1
    assert "1 papers" in caplog.text


def test_the_register_commands_example_adds_a_command():
    module = hook_example("register_commands")

    @click.group()
    def cli():
        pass

    module.register_commands(cli)
    result = CliRunner().invoke(cli, ["hello", "world"])
    assert result.exit_code == 0 and result.output == "hello world\n"


# -- the guide, as a project installed in a fresh venv ------------------------------------------


def test_the_guide_shows_every_file_of_its_project():
    files = guide_files()
    assert {"pyproject.toml", "harvester_lines/__init__.py", "run.toml"} <= set(files)
    assert 'dependencies = ["paper-harvester' in files["pyproject.toml"]
    assert 'inputs = ["titles/*.txt"]' in files["run.toml"]


@pytest.fixture
def guide(plugin_venv, tmp_path) -> Path:
    """A copy of the guide's project (its input files, config, tests) to run in."""
    return write_guide_project(tmp_path / "harvester-lines")


@pytest.mark.slow
def test_the_guide_plugin_is_listed(plugin_venv):
    rows = json.loads(plugin_venv.run("harvester", "plugins").stdout)
    kinds = {(r["name"], r["kind"], r["distribution"]) for r in rows if r["plugin"] == "lines"}
    assert kinds == {
        ("lines", "source", "harvester-lines"),
        ("count", "sink", "harvester-lines"),
        ("titles", "command", "harvester-lines"),
    }


@pytest.mark.slow
def test_the_guide_run_config_runs_with_its_glob(plugin_venv, guide):
    result = plugin_venv.run("harvester", "run", "run.toml", cwd=guide)
    assert result.returncode == 0, result.stderr
    papers = [json.loads(x) for x in (guide / "out" / "papers.jsonl").read_text().splitlines()]
    assert [p["title"] for p in papers] == [
        "Attention Is All You Need",
        "Deep Residual Learning for Image Recognition",
        "Language Models are Few-Shot Learners",
    ]
    assert papers[0]["source_ref"] == "titles/a.txt:1" and papers[0]["key"].startswith("title:")
    [reject] = [json.loads(x) for x in (guide / "out" / "rejects.jsonl").read_text().splitlines()]
    assert (reject["reason"], reject["source_ref"]) == ("title too short", "titles/a.txt:2")
    assert "count: 3 papers" in result.stderr


@pytest.mark.slow
def test_the_guide_parse_and_command_examples(plugin_venv, guide):
    parsed = plugin_venv.run(
        "harvester", "parse", "lines", "titles/a.txt", "--option", "min_length=5", cwd=guide
    )
    assert parsed.returncode == 0, parsed.stderr
    assert len(parsed.stdout.splitlines()) == 2
    assert "titles/a.txt:2: rejected: title too short" in parsed.stderr
    titles = plugin_venv.run("harvester", "titles", "titles/b.txt", cwd=guide)
    assert titles.stdout == "Language Models are Few-Shot Learners\n"


@pytest.mark.slow
def test_a_guide_built_source_rereads_a_changed_file_under_state(plugin_venv, guide):
    def run() -> dict:
        result = plugin_venv.run(
            "harvester", "run", "run.toml", "--set", 'run.state="state"',
            "--summary-json", "summary.json", cwd=guide,
        )  # fmt: skip
        assert result.returncode == 0, result.stderr
        return json.loads((guide / "summary.json").read_text())["sources"][0]

    assert (run()["outcomes"], run()["outcomes"]) == ({"complete": 2}, {"skipped": 2})
    (guide / "titles" / "b.txt").write_text("A Changed Title Here\n", encoding="utf-8")
    again = run()
    assert (again["outcomes"], again["written"]) == ({"complete": 1, "skipped": 1}, 1)


@pytest.mark.slow
def test_the_guide_tests_pass_with_the_kit(plugin_venv, guide):
    result = plugin_venv.run("pytest", "-q", "-p", "no:cacheprovider", "tests", cwd=guide)
    assert result.returncode == 0, result.stdout + result.stderr
    summary = result.stdout.strip().splitlines()[-1]
    assert re.search(r"\b\d+ passed", summary) and "skipped" not in summary, summary


def test_the_guide_project_builds_with_another_folder_beside_the_package(tmp_path):
    """The guide names its package: setuptools' discovery refuses such a folder otherwise."""
    guide = write_guide_project(tmp_path / "harvester-lines")
    (guide / "notes").mkdir()
    (guide / "notes" / "todo.py").write_text("x = 1\n")
    result = subprocess.run(
        [UV, "build", "--quiet", "--wheel", "--out-dir", str(tmp_path / "wheels"), str(guide)],
        capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr
    [wheel] = (tmp_path / "wheels").glob("harvester_lines-*.whl")
    names = zipfile.ZipFile(wheel).namelist()
    assert "harvester_lines/__init__.py" in names and not any("notes" in n for n in names)
