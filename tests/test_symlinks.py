"""Planted symbolic links never redirect a run's writes: a link at the JSONL's `.partial`, at an
append-mode output, at the rejects file or at the state's files is refused with an error that
says so, and the link's target is left untouched."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from harvester.atomic import write_atomic
from harvester.errors import OutputError

from . import clirun
from .conftest import BUILTIN_PLUGINS

HARVESTER = [sys.executable, "-m", "harvester.cli"]
SECRET = "precious data that must not be overwritten\n"


def setup(tmp: Path, *, mode: str | None = None, state: bool = False) -> Path:
    (tmp / "dumps").mkdir()
    (tmp / "dumps" / "a.txt").write_text(
        "Daily Papers\n\nDec 10\n\nA title\n\nAn abstract.\n\n  • 3 authors\n·\nSep 25\n",
        encoding="utf-8",
    )
    (tmp / "out").mkdir()
    config = tmp / "run.toml"
    mode_line = f'mode = "{mode}"\n' if mode else ""
    run = 'rejects = "out/rejects.jsonl"\n' + ('state = "state"\n' if state else "")
    config.write_text(
        f'[run]\n{run}[sources.d]\nplugin = "textdump"\ninputs = ["dumps/*.txt"]\n'
        f'captured_on = 2025-12-10\n[sinks.jsonl]\npath = "out/papers.jsonl"\n{mode_line}',
        encoding="utf-8",
    )
    return config


def victim(tmp: Path) -> Path:
    path = tmp / "victim.txt"
    path.write_text(SECRET, encoding="utf-8")
    return path


def run(config: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "HARVESTER_PLUGINS": BUILTIN_PLUGINS}
    return clirun.run(
        [*HARVESTER, "run", str(config)], capture_output=True, text=True, env=env, timeout=60
    )


@pytest.mark.parametrize(
    ("link", "mode"),
    [
        ("out/papers.jsonl.partial", "replace"),
        ("out/papers.jsonl", "append"),
        ("out/rejects.jsonl.partial", "replace"),
    ],
)
def test_a_link_planted_at_an_output_is_refused(tmp_path, link, mode):
    config = setup(tmp_path, mode=mode)
    target = victim(tmp_path)
    (tmp_path / link).symlink_to(target)
    proc = run(config)
    assert proc.returncode == 1, proc.stderr
    assert "is a symbolic link; refusing to write through it" in proc.stderr
    assert str(tmp_path / link) in proc.stderr and "Traceback" not in proc.stderr
    assert target.read_text(encoding="utf-8") == SECRET


def test_a_link_at_the_final_path_is_replaced_not_followed(tmp_path):
    """Publishing renames the new file over the final path: a link there is replaced by the
    output, its target never written."""
    config = setup(tmp_path, mode="replace")
    target = victim(tmp_path)
    (tmp_path / "out" / "papers.jsonl").symlink_to(target)
    proc = run(config)
    assert proc.returncode == 0, proc.stderr
    out = tmp_path / "out" / "papers.jsonl"
    assert not out.is_symlink() and json.loads(out.read_text())["title"] == "A title"
    assert target.read_text(encoding="utf-8") == SECRET


def test_a_link_at_the_state_log_is_refused(tmp_path):
    config = setup(tmp_path, state=True)
    target = victim(tmp_path)
    target.write_text(SECRET + "no newline at the end: a torn line to repair?")
    (tmp_path / "state").mkdir()
    (tmp_path / "state" / "state.log").symlink_to(target)
    proc = run(config)
    assert proc.returncode == 1, proc.stderr
    assert "state.log: is a symbolic link" in proc.stderr
    assert (
        target.read_text(encoding="utf-8")
        == SECRET + "no newline at the end: a torn line to repair?"
    )


def test_a_link_planted_at_the_state_temp_file_is_not_followed(tmp_path):
    """The snapshot's temporary file is created fresh: a link planted where it will be is
    removed, never written through."""
    directory = tmp_path / "state"
    directory.mkdir()
    target = victim(tmp_path)
    planted = directory / f".state.json.{os.getpid()}.tmp"
    planted.symlink_to(target)
    write_atomic(directory / "state.json", b"{}", OutputError)
    assert (directory / "state.json").read_bytes() == b"{}"
    assert target.read_text(encoding="utf-8") == SECRET
    assert not planted.exists() and not planted.is_symlink()


def test_a_link_at_the_state_snapshot_is_refused(tmp_path):
    directory = tmp_path / "state"
    directory.mkdir()
    target = victim(tmp_path)
    (directory / "state.json").symlink_to(target)
    with pytest.raises(OutputError, match="is a symbolic link; refusing to replace it"):
        write_atomic(directory / "state.json", b"{}", OutputError)
    assert target.read_text(encoding="utf-8") == SECRET
