"""`harvester new source demo && pip install -e demo && harvester check demo` passes with no
edit, and so do the package's own tests; the same for a sink. In the session's plugin venv
(tests/venv.py), as a plugin author would do it."""

from __future__ import annotations

import re

import pytest

pytestmark = pytest.mark.slow


@pytest.mark.parametrize(
    ("kind", "name", "module"),
    [("source", "demo", "harvester_demo"), ("sink", "demo-table", "harvester_demo_table")],
)
def test_a_new_plugin_installs_and_passes_the_check_with_no_edit(
    plugin_venv, tmp_path, kind, name, module
):
    made = plugin_venv.run("harvester", "new", kind, name, cwd=tmp_path)
    assert made.returncode == 0, made.stderr
    folder = tmp_path / name
    assert {p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file()} >= {
        "pyproject.toml", "README.md", f"{module}/__init__.py", "tests/test_plugin.py",
    }  # fmt: skip
    [expected] = folder.rglob("expected_records.jsonl")
    assert len(expected.read_text(encoding="utf-8").splitlines()) == 3
    plugin_venv.install(str(folder), editable=True)
    checked = plugin_venv.run("harvester", "check", name, cwd=tmp_path)
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert f"{kind} {name!r} (plugin {name})" in checked.stdout
    assert checked.stdout.rstrip().endswith("harvester check: ok")
    assert " 0 failed" in checked.stdout and "FAIL" not in checked.stdout
    tests = plugin_venv.run("pytest", "-q", "-p", "no:cacheprovider", cwd=folder)
    assert tests.returncode == 0, tests.stdout + tests.stderr
    summary = tests.stdout.strip().splitlines()[-1]
    assert re.search(r"\b\d+ passed", summary) and "skipped" not in summary, summary
