"""The third-party plugin contract, end to end, in a fresh virtual environment.

The session's plugin venv (tests/venv.py) holds harvester (from this checkout), the example
plugin `examples/harvester-arxiv`, a deliberately broken distribution, the plugin guide's own
example project (docs/plugins.md) and pytest.
Then, as real subprocesses of that venv: `harvester plugins` lists the example (and names the
broken plugins without crashing), `harvester run` harvests with it from a config, a run that
needs a broken plugin fails with its message (exit 2), and the example's own tests (which use
`harvester.testkit`) pass.

pip reuses its cache (and the configured indexes); building the venv takes well under 2 min.
"""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import pytest

from .venv import EXAMPLE, Venv

pytestmark = pytest.mark.slow

NEW_PAGE = EXAMPLE / "tests" / "fixtures" / "cs.XX_new.html"


@pytest.fixture
def venv(plugin_venv) -> Venv:
    return plugin_venv


def _plugins(venv: Venv, **env: str) -> list[dict]:
    result = venv.run("harvester", "plugins", **env)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def test_harvester_in_the_venv_is_installed_not_the_checkout(venv):
    result = venv.run(
        "python",
        "-c",
        "import harvester, harvester_arxiv; "
        "print(harvester.__file__); print(harvester_arxiv.__file__)",
        cwd=venv.path,
    )  # not the checkout: `-c` puts the cwd on sys.path
    assert result.returncode == 0, result.stderr
    for line in result.stdout.splitlines():
        assert line.startswith(str(venv.path)), line


def test_plugins_lists_the_example_and_names_the_broken_ones(venv):
    rows = _plugins(venv)
    by_name = {r["name"]: r for r in rows}
    arxiv = by_name["arxiv-listing-example"]
    assert (arxiv["kind"], arxiv["plugin"], arxiv["distribution"], arxiv["error"]) == (
        "source",
        "arxiv",
        "harvester-arxiv",
        None,
    )
    assert arxiv["module"] == "harvester_arxiv" and arxiv["version"] == "0.2.0"
    assert {"textdump", "jsonl", "sqlite"} <= set(by_name)  # the built-ins load as well
    ghost, dupe = by_name["ghost"], by_name["dupe"]
    assert ghost["kind"] is None and ghost["distribution"] == "harvester-broken"
    assert "cannot import harvester_ghost" in ghost["error"]
    assert "no_such_dependency_xyz" in ghost["error"]
    assert (
        "plugins 'arxiv' and 'dupe' both register a source named 'arxiv-listing-example'"
        in dupe["error"]
    )


def test_the_env_var_restricts_which_plugins_load(venv):
    rows = _plugins(venv, HARVESTER_PLUGINS="arxiv,jsonl")
    assert sorted((r["plugin"], r["name"], r["kind"]) for r in rows) == [
        ("arxiv", "arxiv-listing-example", "source"),
        ("jsonl", "jsonl", "sink"),
        ("jsonl", "jsonl", "store"),  # the jsonl plugin reads its files back too
    ]
    assert all(r["error"] is None for r in rows)


def _config(directory: Path, source_plugin: str) -> Path:
    shutil.copy(NEW_PAGE, directory / "cs.XX_new.html")
    config = directory / "run.toml"
    config.write_text(
        f"""
[sources.arxiv]
plugin = "{source_plugin}"
inputs = ["*.html"]

[sinks.papers]
plugin = "jsonl"
path = "out/papers.jsonl"
""",
        encoding="utf-8",
    )
    return config


def test_run_harvests_with_the_example_from_a_config(venv, tmp_path):
    config = _config(tmp_path, "arxiv-listing-example")
    result = venv.run("harvester", "run", str(config), "-q", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    out = tmp_path / "out" / "papers.jsonl"
    records = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert [r["key"] for r in records] == [
        "arxiv:2603.01234",
        "arxiv:2603.05678",
        "arxiv:hep-th/9901001",
    ]
    first = records[0]
    assert first["source"] == "arxiv-listing-example"
    assert first["title"] == "Counting Sheep with Transformers"
    assert first["listing_date"] == "2026-03-03"
    assert first["extra"]["arxiv"]["primary_subject"] == "cs.XX"
    assert first["source_ref"].startswith("cs.XX_new.html:")  # the input as the config gave it
    # the entry without a title is kept as a reject, with its location
    rejects = (tmp_path / "out" / "rejects.jsonl").read_text(encoding="utf-8").splitlines()
    assert len(rejects) == 1 and json.loads(rejects[0])["reason"] == "entry has no title"
    assert venv.run("harvester", "validate", str(out)).returncode == 0


def test_a_run_needing_a_broken_plugin_fails_with_its_message(venv, tmp_path):
    config = _config(tmp_path, "ghost")
    result = venv.run("harvester", "run", str(config), "-q", cwd=tmp_path)
    assert result.returncode == 2
    assert "[sources.arxiv.plugin]: source 'ghost' is unavailable" in result.stderr
    assert "cannot import harvester_ghost" in result.stderr
    assert not (tmp_path / "out" / "papers.jsonl").exists()


def test_the_example_passes_its_own_tests_and_the_test_kit(venv, tmp_path):
    # a copy of the tests, so that only the *installed* harvester_arxiv can be imported
    tests = tmp_path / "tests"
    shutil.copytree(EXAMPLE / "tests", tests, ignore=shutil.ignore_patterns("__pycache__"))
    result = venv.run(
        "pytest",
        "-q",
        "-p",
        "no:cacheprovider",
        "--rootdir",
        str(tmp_path),
        str(tests),
        cwd=tmp_path,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    summary = result.stdout.strip().splitlines()[-1]
    assert re.search(r"\b\d+ passed", summary) and not re.search(r"\b\d+ failed", summary), summary
