"""A full disk or a read-only output directory: a clear error (exit 1, naming the path) and the
previous output left intact (JSONL byte-identical, SQLite opens with its rows).

Disk full is a child whose file size limit (RLIMIT_FSIZE) is below what the run must write, with
SIGXFSZ ignored so that writes fail with EFBIG as they would with ENOSPC. Read-only: the tests run
as root in CI, and root ignores permissions, so the child drops to `nobody` once its modules are
imported (the interpreter itself lives where `nobody` cannot read it).
"""

from __future__ import annotations

import os
import random
import resource
import shutil
import signal
import sqlite3
import stat
import string
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

NOBODY = 65534
# Imports everything the run needs, then gives up root, then runs the CLI.
CHILD = """
import os, sys
from harvester import cli
from harvester.plugins import load_plugins
import harvester.build, harvester.config, harvester.run, harvester.report, tomllib
load_plugins()
import difflib, json, sqlite3, glob, fnmatch, shutil, uuid, statistics  # imported lazily later
import hashlib, concurrent.futures  # (nobody cannot read this interpreter's stdlib)
if os.geteuid() == 0 and os.environ.get("DROP_TO_NOBODY"):
    os.setgroups([])
    os.setgid(65534)
    os.setuid(65534)
sys.argv = ["harvester", *sys.argv[1:]]
cli.main()
"""


def dump_text(count: int, tag: str) -> str:
    cards = "".join(
        f"{tag} Paper Number {k}\n\n{'An abstract sentence. ' * 20}\n\n  • 3 authors\n·\nSep 25\n\n"
        for k in range(count)
    )
    return f"Daily Papers\n\nDec 10\n\n{cards}"


@pytest.fixture
def workdir() -> Iterator[Path]:
    """A directory `nobody` can read (pytest's tmp_path is private to root)."""
    path = Path(tempfile.mkdtemp(prefix="harvester-outputs-"))
    path.chmod(0o755)
    yield path
    shutil.rmtree(path, ignore_errors=True)


def setup_run(directory: Path, sink: str, state: bool = False) -> Path:
    sinks = {
        "jsonl": '[sinks.out]\nplugin = "jsonl"\npath = "out/papers.jsonl"\n',
        "sqlite": '[sinks.out]\nplugin = "sqlite"\npath = "out/papers.db"\n',
    }[sink]
    run = 'rejects = "rejects/rejects.jsonl"\n' + ('state = "state"\n' if state else "")
    config = directory / "run.toml"
    config.write_text(
        f'[run]\n{run}\n[sources.dumps]\nplugin = "textdump"\ninputs = ["dumps/*.txt"]\n'
        f"captured_on = 2025-12-10\n\n{sinks}",
        encoding="utf-8",
    )
    (directory / "dumps").mkdir()
    (directory / "dumps" / "a.txt").write_text(dump_text(10, "First"), "utf-8")
    return config


def harvester(config: Path, *, fsize: int | None = None, nobody: bool = False):
    def limit() -> None:
        if fsize is not None:
            signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # EFBIG instead of death
            resource.setrlimit(resource.RLIMIT_FSIZE, (fsize, fsize))

    env = {**os.environ, "DROP_TO_NOBODY": "1" if nobody else ""}
    return subprocess.run(
        [sys.executable, "-c", CHILD, "run", "-q", str(config)],
        capture_output=True,
        text=True,
        timeout=60,
        preexec_fn=limit,
        env=env,
    )


def grow_input(directory: Path) -> None:
    """The next run has much more to write than the first."""
    (directory / "dumps" / "b.txt").write_text(dump_text(400, "Second"), "utf-8")


def db_titles(path: Path) -> list[str]:
    con = sqlite3.connect(path)
    try:
        assert con.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        return [r[0] for r in con.execute("SELECT title FROM papers ORDER BY title")]
    finally:
        con.close()


def make_readonly(path: Path) -> None:
    """Read-only for everyone but root (and the child is not root)."""
    path.chmod(stat.S_IRUSR | stat.S_IXUSR | stat.S_IRGRP | stat.S_IXGRP | stat.S_IROTH | 0o001)


def test_disk_full_keeps_the_previous_jsonl(workdir):
    config = setup_run(workdir, "jsonl")
    assert harvester(config).returncode == 0
    out = workdir / "out" / "papers.jsonl"
    before = out.read_bytes()
    grow_input(workdir)
    proc = harvester(config, fsize=len(before) * 3)
    assert proc.returncode == 1, proc.stderr
    assert f"{out}.partial: cannot write: File too large" in proc.stderr
    assert "Traceback" not in proc.stderr
    assert out.read_bytes() == before
    assert not Path(f"{out}.partial").exists()


def test_disk_full_keeps_the_previous_database(workdir):
    config = setup_run(workdir, "sqlite")
    assert harvester(config).returncode == 0
    db = workdir / "out" / "papers.db"
    before = db_titles(db)
    assert len(before) == 10
    grow_input(workdir)
    size = max(p.stat().st_size for p in db.parent.iterdir())
    proc = harvester(config, fsize=size + 4096)
    assert proc.returncode == 1, proc.stderr
    assert f"{db}: cannot " in proc.stderr
    assert "Traceback" not in proc.stderr
    assert db_titles(db) == before


def test_disk_full_with_state_keeps_previous_output_and_resumes(workdir):
    config = setup_run(workdir, "jsonl", state=True)
    assert harvester(config).returncode == 0
    out = workdir / "out" / "papers.jsonl"
    before = out.read_bytes()
    grow_input(workdir)
    proc = harvester(config, fsize=len(before) * 3)
    assert proc.returncode == 1, proc.stderr
    assert "File too large" in proc.stderr and "Traceback" not in proc.stderr
    assert out.read_bytes() == before
    # With room again, the same command finishes the run: the new papers appended once.
    proc = harvester(config)
    assert proc.returncode == 0, proc.stderr
    lines = out.read_text("utf-8").splitlines()
    assert out.read_bytes().startswith(before) and len(lines) == 410
    assert all('"Second Paper Number' in line for line in lines[10:])


needs_root_or_perms = pytest.mark.skipif(
    os.geteuid() == 0 and not hasattr(os, "setuid"), reason="cannot drop privileges"
)


@needs_root_or_perms
@pytest.mark.parametrize("sink", ["jsonl", "sqlite"])
def test_readonly_output_directory_is_a_clear_error(workdir, sink):
    config = setup_run(workdir, sink)
    for name in ("out", "rejects"):
        (workdir / name).mkdir()
        (workdir / name).chmod(0o777)  # the first run, as nobody, may write
    assert harvester(config, nobody=True).returncode == 0
    out = workdir / "out" / ("papers.jsonl" if sink == "jsonl" else "papers.db")
    before = out.read_bytes() if sink == "jsonl" else db_titles(out)
    grow_input(workdir)
    make_readonly(workdir / "out")
    for child in (workdir / "out").iterdir():
        child.chmod(0o444)
    proc = harvester(config, nobody=True)
    assert proc.returncode == 1, proc.stderr
    assert str(out) in proc.stderr and "Traceback" not in proc.stderr
    if sink == "jsonl":
        assert "Permission denied" in proc.stderr
        assert out.read_bytes() == before
    else:
        assert db_titles(out) == before


@needs_root_or_perms
def test_readonly_state_directory_is_a_clear_error(workdir):
    config = setup_run(workdir, "jsonl", state=True)
    for name in ("out", "rejects", "state"):
        (workdir / name).mkdir()
        (workdir / name).chmod(0o777)
    assert harvester(config, nobody=True).returncode == 0
    out = workdir / "out" / "papers.jsonl"
    before = out.read_bytes()
    grow_input(workdir)
    make_readonly(workdir / "state")
    proc = harvester(config, nobody=True)
    assert proc.returncode == 1, proc.stderr
    assert str(workdir / "state") in proc.stderr and "Traceback" not in proc.stderr
    assert out.read_bytes() == before


# -- a real full or read-only file system under each sink -------------------------------------


@pytest.fixture
def small_disk() -> Iterator[Path]:
    """A 512 KiB tmpfs mounted for the test (needs root with CAP_SYS_ADMIN, as in CI's
    container); `remount` makes it read-only."""
    path = Path(tempfile.mkdtemp(prefix="harvester-disk-"))
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=512k,mode=0777", "tmpfs", str(path)],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    if mounted.returncode != 0:
        path.rmdir()
        pytest.skip(
            f"cannot mount a tmpfs here ({mounted.stderr.strip()}): the EFBIG tests cover it"
        )
    try:
        yield path
    finally:
        subprocess.run(["umount", "-l", str(path)], check=False)
        path.rmdir()


def noisy_dump(count: int) -> str:
    """Cards whose abstracts do not compress (random letters: every sink must write them)."""
    chance = random.Random(11)

    def words(n: int) -> str:
        return " ".join("".join(chance.choices(string.ascii_lowercase, k=7)) for _ in range(n))

    cards = "".join(
        f"Noisy Paper {k}\n\n{words(60)}.\n\n  • 3 authors\n·\nSep 25\n\n" for k in range(count)
    )
    return f"Daily Papers\n\nDec 10\n\n{cards}"


SINK_PATHS = {"jsonl": "papers.jsonl", "sqlite": "papers.db", "parquet": "papers"}
CAUSES = {"full": ("No space left", "ENOSPC", "disk is full"), "read-only": ("Read-only", "EROFS")}


@pytest.mark.parametrize("trouble", list(CAUSES))
@pytest.mark.parametrize("sink", list(SINK_PATHS))
def test_a_full_or_read_only_disk_is_one_line_naming_the_output_and_the_cause(
    workdir, small_disk, sink, trouble
):
    """A target past `hold_papers` streams into the sinks while it is read: the failure then
    happens under the source's read, and is still the output's error (exit 1), not a source
    plugin's bug with tracebacks."""
    output = small_disk / SINK_PATHS[sink]
    config = workdir / "run.toml"
    config.write_text(
        f'[run]\nrejects = "rejects.jsonl"\nhold_papers = 50\nbatch_size = 20\n'
        f'[sources.dumps]\nplugin = "textdump"\ninputs = ["dumps/*.txt"]\n'
        f'captured_on = 2025-12-10\n[sinks.out]\nplugin = "{sink}"\npath = "{output}"\n',
        encoding="utf-8",
    )
    (workdir / "dumps").mkdir()
    (workdir / "dumps" / "a.txt").write_text(noisy_dump(2500), "utf-8")
    if trouble == "read-only":
        subprocess.run(["mount", "-o", "remount,ro", str(small_disk)], check=True)
    proc = harvester(config)
    assert proc.returncode == 1, proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("harvester: error: "), proc.stderr
    assert str(output) in lines[0]
    assert any(cause in lines[0] for cause in CAUSES[trouble]), lines[0]
    assert "bug" not in lines[0]
