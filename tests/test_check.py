"""`harvester check` as a real subprocess: every built-in passes it; a broken plugin fails with a
readable report (which check, what was expected, what happened) and exit status 1; usage
errors exit 2; `--update-expected` rewrites a plugin's expected records showing each changed
field; the command never imports pytest. `harvester new` makes a plugin that passes it."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

from harvester import FileSource, Paper
from harvester.checks.runner import check_class, find_classes
from harvester.checks.spec import declared_check
from harvester.plugins import load_plugins

from . import clirun
from .conftest import BUILTIN_PLUGINS, ROOT
from .plugin_dir import install_plugin

HARVESTER = [sys.executable, "-m", "harvester.cli"]
BUILTINS = [
    "textdump", "hf-papers", "hf-api", "arxiv-listing", "arxiv-oai", "arxiv-api",
    "jsonl", "sqlite", "parquet", "biblio", "feed",
]  # fmt: skip


def harvester(*args: str, env: dict[str, str] | None = None, cwd=None, timeout: float = 300):
    env = env or {**os.environ, "HARVESTER_PLUGINS": BUILTIN_PLUGINS}
    return clirun.run(
        [*HARVESTER, *args], capture_output=True, text=True, env=env, cwd=cwd, timeout=timeout
    )


def test_every_builtin_source_and_sink_passes_harvester_check():
    result = harvester("check", *BUILTINS)
    assert result.returncode == 0, result.stdout + result.stderr
    headers = [
        line for line in result.stdout.splitlines() if line.startswith(("source '", "sink '"))
    ]
    named = [line.split("'")[1] for line in headers]
    assert named == [
        "textdump", "hf-papers", "hf-api", "arxiv-listing", "arxiv-oai", "arxiv-api",
        "jsonl", "sqlite", "parquet", "csl-json", "bibtex", "ris", "feed",  # biblio: three sinks
    ]  # fmt: skip
    summaries = [line for line in result.stdout.splitlines() if " passed, " in line]
    assert len(summaries) == len(named) and all(" 0 failed" in line for line in summaries)
    assert result.stdout.rstrip().endswith("harvester check: ok")
    for check in ("expected-records", "not-a-listing", "resume", "politeness", "unwritable"):
        assert f"ok   {check}:" in result.stdout


def test_postgres_passes_harvester_check_on_a_real_server(pg_url):
    result = harvester("check", "postgres", "--option", f"url={pg_url}")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "sink 'postgres': 9 passed, 0 failed" in result.stdout
    missing = harvester("check", "postgres")
    assert missing.returncode == 2
    assert "sink 'postgres': its check needs --option url=..." in missing.stderr


def test_every_registered_source_and_sink_declares_its_check():
    registry = load_plugins()
    undeclared = [
        name
        for name, cls in [*registry.sources.items(), *registry.sinks.items()]
        if declared_check(cls)[0] is None
    ]
    assert not undeclared, f"declare `check = SourceCheck/SinkCheck(...)` on: {undeclared}"


BROKEN = """
    from harvester import hookimpl
    from tests.kit_mutants import DroppedField, PartialCommitVisible

    @hookimpl
    def register_sources(register):
        register(DroppedField)

    @hookimpl
    def register_sinks(register):
        register(PartialCommitVisible)
"""


def test_a_broken_plugin_fails_with_a_readable_report(tmp_path):
    env = install_plugin(tmp_path / "site", "mini-broken", BROKEN)
    env["PYTHONPATH"] += os.pathsep + str(ROOT)  # tests.kit_mutants
    result = harvester("check", "mini-broken", env=env)
    assert result.returncode == 1, result.stdout + result.stderr
    out = result.stdout
    assert "source 'mini' (plugin mini-broken)" in out
    assert "  FAIL expected-records: the fixtures read to their expected_records.jsonl" in out
    assert "expected: each fixture read to its expected_records.jsonl, field by field" in out
    assert "got:      4 difference(s)" in out
    assert 'listing.tsv:4 arxiv:2603.01234: authors: ["Ada Example", "Bruno Café"] -> []' in out
    assert "listing.tsv:5 arxiv:2603.05678: author_count: 1 -> null" in out
    assert "  FAIL schema:" in out and "author_count (integer) is always null now" in out
    assert "  FAIL invisible-before-commit:" in out
    assert out.rstrip().endswith(
        "harvester check: source 'mini': expected-records, schema; "
        "sink 'mini-sink': invisible-before-commit, suspend-resume, abandon FAILED"
    )
    only = [
        "--only",
        "expected-records",
        "--only",
        "politeness",
        "--only",
        "invisible-before-commit",
    ]
    as_json = json.loads(harvester("check", "mini-broken", "--json", *only, env=env).stdout)
    statuses = {r["name"]: {c["check"]: c["status"] for c in r["checks"]} for r in as_json}
    assert statuses["mini"]["expected-records"] == "failed"
    assert statuses["mini"]["politeness"] == "passed"
    assert statuses["mini-sink"]["invisible-before-commit"] == "failed"


def test_usage_errors_exit_2():
    unknown = harvester("check", "nonesuch")
    assert unknown.returncode == 2
    assert "no plugin, source or sink named 'nonesuch' (installed: " in unknown.stderr
    commands_only = harvester("check", "report")
    assert commands_only.returncode == 2
    assert "plugin 'report' registers no source or sink: nothing to check" in commands_only.stderr


def test_the_check_command_never_imports_pytest(tmp_path):
    probe = textwrap.dedent(
        """
        import logging, sys
        logging.getLogger("harvester").setLevel(100)
        from harvester.cli import cli
        from harvester.checks.runner import check_class, find_classes
        [(source, plugin)] = find_classes("hf-api")
        only = ["expected-records", "resume", "politeness"]
        report = check_class(source, plugin=plugin, only=only)
        assert report.ok and len(report.results) == 3, report.text()
        print("pytest" in sys.modules, "_pytest" in sys.modules)
        """
    )
    env = {**os.environ, "HARVESTER_PLUGINS": BUILTIN_PLUGINS}
    result = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, env=env, cwd=tmp_path
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["False", "False"]


def _install_package(folder: Path, name: str, module: str, tmp_path: Path) -> dict[str, str]:
    """Make the package in `folder` an installed plugin for a subprocess: a .dist-info with its
    entry point, and the folder on PYTHONPATH (what `pip install -e` does, without pip)."""
    site = tmp_path / "site"
    info = site / f"{module}-0.1.0.dist-info"
    info.mkdir(parents=True)
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {name}\nVersion: 0.1.0\n")
    (info / "entry_points.txt").write_text(f"[harvester]\n{name} = {module}\n")
    path = os.pathsep.join([str(site), str(folder)])
    return {**os.environ, "PYTHONPATH": path, "HARVESTER_PLUGINS": f"{BUILTIN_PLUGINS},{name}"}


def test_update_expected_rewrites_the_records_and_shows_what_changed(tmp_path):
    made = harvester("new", "source", "demo", "--dir", str(tmp_path / "demo"))
    assert made.returncode == 0, made.stderr
    env = _install_package(tmp_path / "demo", "demo", "harvester_demo", tmp_path)
    first = harvester("check", "demo", env=env)
    assert first.returncode == 0, first.stdout + first.stderr
    listing = tmp_path / "demo" / "harvester_demo" / "fixtures" / "day" / "listing.csv"
    assert '2603.05678,"Naïve Baselines, Revisited",Chen Li,2026-03-03\n' in listing.read_text()
    # a deliberate change: a second author read on row 3, no publication dates any more
    listing.write_text(
        "arxiv_id,title,authors,published\n"
        "2603.01234,Counting Sheep with Transformers,Ada Example;Bruno Café,\n"
        '2603.05678,"Naïve Baselines, Revisited",Chen Li;Dana Roe,\n'
        ",A Paper Without an arXiv Id,,\n"
        "2603.09999,,Nobody,\n",
        encoding="utf-8",
    )
    only = ["--only", "expected-records", "--only", "schema"]
    changed = harvester("check", "demo", *only, env=env)
    assert changed.returncode == 1
    assert 'listing.csv:3 arxiv:2603.05678: authors: ["Chen Li"] -> ["Chen Li", "Dana Roe"]' in (
        changed.stdout
    )
    assert "FAIL schema" in changed.stdout
    assert "published (string) is always null now" in changed.stdout
    updated = harvester("check", "demo", "--update-expected", *only, env=env)
    assert updated.returncode == 0, updated.stdout
    assert "expected records rewritten (--update-expected):" in updated.stdout
    assert 'authors: ["Chen Li"] -> ["Chen Li", "Dana Roe"]' in updated.stdout
    assert "INCOMPATIBLE: published (string) is always null now" in updated.stdout
    expected = listing.parent / "expected_records.jsonl"
    records = [json.loads(x) for x in expected.read_text(encoding="utf-8").splitlines()]
    assert records[1]["authors"] == ["Chen Li", "Dana Roe"]
    assert all(r["published"] is None for r in records) and "harvested_at" not in records[0]
    assert harvester("check", "demo", *only, env=env).returncode == 0


def test_new_refuses_a_taken_name_and_a_bad_one(tmp_path):
    taken = harvester("new", "source", "textdump", "--dir", str(tmp_path / "x"))
    assert taken.returncode == 2 and "named 'textdump' is installed already" in taken.stderr
    bad = harvester("new", "sink", "My_Sink", "--dir", str(tmp_path / "y"))
    assert bad.returncode == 2 and "lower-case letters, digits and single hyphens" in bad.stderr
    assert not (tmp_path / "x").exists() and not (tmp_path / "y").exists()


class Undeclared(FileSource):
    """A source that declares no `check`."""

    name = "undeclared"

    def read(self, target):
        yield Paper(title="A title", source_ref=f"{target.id}:1")


def test_a_plugin_without_a_declaration_fails_naming_what_to_add():
    report = check_class(Undeclared)
    assert not report.ok and report.results[0].check == "options"
    assert report.results[0].status == "passed"
    assert report.failed == [r.check for r in report.results[1:]]
    assert "`check = SourceCheck(fixtures=[...])` on the class (docs/plugins.md)" in report.text()


def test_find_classes_takes_an_entry_point_or_a_name():
    assert [c.name for c, _ in find_classes("biblio")] == ["csl-json", "bibtex", "ris"]
    assert [(c.name, p) for c, p in find_classes("bibtex")] == [("bibtex", "biblio")]
    assert [(c.name, p) for c, p in find_classes("hf-api")] == [("hf-api", "hf-api")]


HANGS = """
    import time

    from harvester import hookimpl
    from tests.kit_mini import MiniSource

    class Hangs(MiniSource):
        '''A read that never returns (a parser stuck in a loop).'''

        name = "mini"

        def read(self, target):
            while True:
                time.sleep(0.05)
            yield

    @hookimpl
    def register_sources(register):
        register(Hangs)
"""


def test_a_check_that_never_ends_fails_at_its_timeout(tmp_path):
    env = install_plugin(tmp_path / "site", "mini-hangs", HANGS)
    env["PYTHONPATH"] += os.pathsep + str(ROOT)
    result = harvester("check", "mini-hangs", "--timeout", "1", env=env, timeout=60)
    assert result.returncode == 1, result.stdout + result.stderr
    out = result.stdout
    assert "  ok   options:" in out
    assert "  FAIL expected-records:" in out
    assert "expected: the check to end within 1 s (--timeout)" in out
    assert "got:      still running after 1 s (a fetch or read that never returns?)" in out
    assert "  n/a  politeness: a 429's Retry-After waited out; robots.txt obeyed" in out
    assert "(not run: an earlier check did not end)" in out
