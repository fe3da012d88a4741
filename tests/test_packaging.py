"""What a user who installs the package meets: the lean default install (the session's plugin
venv installs harvester without extras), an extra that is missing named with its install line,
`python -m harvester`, global options after the command, the POSIX-only message."""

from __future__ import annotations

import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

from harvester import __version__

from .conftest import ROOT
from .test_cli import EXAMPLE_DUMP, harvester, write_config

pytestmark = pytest.mark.slow


def lean_config(tmp_path: Path, sink: str) -> Path:
    config = write_config(tmp_path, [str(EXAMPLE_DUMP)])
    config.write_text(config.read_text() + sink, encoding="utf-8")
    return config


def test_the_default_install_has_no_extras_and_names_each_missing_one(plugin_venv, tmp_path):
    listed = plugin_venv.installed()
    assert {"paper-harvester", "msgspec", "httpx"} <= listed  # the list is the venv's
    assert not listed & {"pyarrow", "hishel", "psycopg", "psycopg-binary", "procrastinate"}
    config = lean_config(tmp_path, '\n[sinks.parquet]\npath = "out/papers"\n')
    run = plugin_venv.run("harvester", "run", str(config))
    assert run.returncode == 2, run.stderr
    assert "pip install 'paper-harvester[parquet]'" in run.stderr
    assert not (tmp_path / "out").exists()  # nothing ran
    cached = plugin_venv.run(
        "harvester", "run", str(write_config(tmp_path, [str(EXAMPLE_DUMP)])),
        "--cache", str(tmp_path / "cache"),
    )  # fmt: skip
    assert cached.returncode == 2 and "pip install 'paper-harvester[cache]'" in cached.stderr
    plain = plugin_venv.run("harvester", "run", str(write_config(tmp_path, [str(EXAMPLE_DUMP)])))
    assert plain.returncode == 0, plain.stderr  # textdump into JSONL and SQLite needs no extra


def test_python_m_harvester_is_the_command(plugin_venv):
    done = plugin_venv.run("python", "-m", "harvester", "--version")
    assert done.returncode == 0 and done.stdout.strip() == f"harvester, version {__version__}"


def test_the_version_has_one_source_and_the_metadata_says_it(plugin_venv):
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    assert "version" in pyproject["project"]["dynamic"]
    shown = plugin_venv.run(
        "python", "-c", "import importlib.metadata as m; print(m.version('paper-harvester'))"
    )
    assert shown.stdout.strip() == __version__ == "0.3.0"
    assert pyproject["project"]["license"] == "MIT" and (ROOT / "LICENSE").is_file()
    assert f"## [{__version__}]" in (ROOT / "CHANGELOG.md").read_text(encoding="utf-8")


@pytest.mark.parametrize("flag", ["-v", "--verbose"])
def test_global_options_go_before_or_after_the_command(tmp_path, flag):
    config = write_config(tmp_path, [str(EXAMPLE_DUMP)])
    before = harvester(flag, "run", config)
    after = harvester("run", config, flag)
    for done in (before, after):
        assert done.returncode == 0, done.stderr
        assert "INFO harvester: dumps: " in done.stderr
    quiet = harvester("run", config, "-q")
    assert quiet.returncode == 0 and quiet.stderr == ""
    # a flag given as an option's value stays that value
    valued = harvester("run", config, "--set", "run.rejects=-v")
    assert valued.returncode == 0 and (tmp_path / "-v").is_file()


def test_a_system_without_flock_is_told_it_is_not_supported(tmp_path):
    config = write_config(tmp_path, [str(EXAMPLE_DUMP)])
    code = (
        "import sys; sys.modules['fcntl'] = None\n"  # what importing it gives off POSIX
        "from harvester.cli import main\n"
        f"sys.argv = ['harvester', 'run', {str(config)!r}, '--set', 'run.state=\"state\"']\n"
        "main()\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=False
    )
    assert done.returncode == 2, done.stderr
    assert "harvester needs a POSIX system (Linux, macOS)" in done.stderr
