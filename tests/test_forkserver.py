"""The fork server (tests/forkserver.py, through tests/clirun.py) gives what a fresh interpreter
gives: the same exit status, standard output and standard error for the same command, with the
caller's environment and working directory, and a timeout that ends the command."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from . import clirun
from .conftest import ROOT

MODULE = [sys.executable, "-m", "harvester.cli"]
PACKAGE = [sys.executable, "-m", "harvester"]
SCRIPT = [clirun.SCRIPT]
DUMP = ROOT / "examples" / "textdump" / "sample-listing.txt"


@pytest.fixture(autouse=True)
def _forking(monkeypatch):
    """These tests are about the fork server: they fork even when the suite spawns."""
    monkeypatch.delenv("HARVESTER_TEST_SPAWN", raising=False)


def both(cmd: list[str], **kw) -> tuple[subprocess.CompletedProcess, subprocess.CompletedProcess]:
    """The command forked, then spawned."""
    assert clirun.would_fork(cmd, kw.get("env")), cmd  # else both runs would be spawned
    forked = clirun.run(cmd, capture_output=True, text=True, timeout=60, **kw)
    spawned = subprocess.run(cmd, capture_output=True, text=True, timeout=60, **kw)
    return forked, spawned


def records(text: str) -> list[dict]:
    """The JSON lines of `text`, their harvest time (which differs between two runs) blanked."""
    return [{**json.loads(line), "harvested_at": None} for line in text.splitlines()]


def same(forked, spawned) -> None:
    assert (forked.returncode, forked.stdout, forked.stderr) == (
        spawned.returncode,
        spawned.stdout,
        spawned.stderr,
    )


@pytest.mark.parametrize(
    "cmd",
    [
        [*MODULE, "--help"],
        [*SCRIPT, "--help"],
        [*PACKAGE, "run", "--help"],
        [*SCRIPT, "--version"],
        [*MODULE, "no-such-command"],
        [*SCRIPT, "run", "no-such-config.toml"],
        [*MODULE, "parse", "textdump", str(DUMP), "--option", "colour=red"],
        [*MODULE, "plugins"],
    ],
    ids=lambda cmd: " ".join(Path(cmd[0]).name if i == 0 else a for i, a in enumerate(cmd[:4])),
)
def test_a_forked_command_says_what_a_spawned_one_says(cmd):
    forked, spawned = both(cmd)
    same(forked, spawned)
    assert forked.stdout or forked.stderr


def test_records_and_warnings_are_the_same():
    forked, spawned = both([*MODULE, "parse", "textdump", str(DUMP)])
    assert forked.returncode == spawned.returncode == 0
    assert forked.stderr == spawned.stderr and "captured_on" in forked.stderr
    assert records(forked.stdout) == records(spawned.stdout) != []


def test_the_environment_and_the_directory_are_the_callers(tmp_path):
    shutil.copy(DUMP, tmp_path / "dump.txt")
    env = {**os.environ, "HARVESTER_PLUGINS": "textdump", "COLUMNS": "50"}
    forked, spawned = both([*SCRIPT, "plugins"], env=env, cwd=tmp_path)
    same(forked, spawned)
    assert [p["name"] for p in json.loads(forked.stdout)] == ["textdump"]
    forked, spawned = both([*MODULE, "parse", "textdump", "dump.txt"], env=env, cwd=tmp_path)
    assert forked.returncode == spawned.returncode == 0
    assert records(forked.stdout) == records(spawned.stdout) and forked.stdout.count("\n") >= 5


def test_a_command_past_its_timeout_is_killed(tmp_path):
    fifo = tmp_path / "never-written"
    os.mkfifo(fifo)  # opening it blocks until a writer comes, and none will
    cmd = [*MODULE, "parse", "textdump", str(fifo)]
    assert clirun.would_fork(cmd)
    started = time.monotonic()
    with pytest.raises(subprocess.TimeoutExpired):
        clirun.run(cmd, capture_output=True, timeout=1)
    assert time.monotonic() - started < 30
    # killed, not left blocked: a writer now finds no reader
    with pytest.raises(OSError):
        os.open(fifo, os.O_WRONLY | os.O_NONBLOCK)


def test_a_forked_process_is_waited_for_signalled_and_read_as_a_spawned_one(tmp_path):
    fifo = tmp_path / "never-written"
    os.mkfifo(fifo)
    cmd = [*MODULE, "parse", "textdump", str(fifo)]
    forked = clirun.popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    spawned = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    assert isinstance(forked, clirun.ForkedPopen)
    for proc in (forked, spawned):
        with pytest.raises(subprocess.TimeoutExpired):
            proc.wait(timeout=0.5)
        assert proc.poll() is None
        proc.send_signal(signal.SIGKILL)
        assert proc.communicate(timeout=30) == ("", "")
    assert forked.returncode == spawned.returncode == -signal.SIGKILL
    assert forked.pid != spawned.pid != os.getpid()


def test_a_forked_process_writes_to_a_file_and_its_pipe(tmp_path):
    log = tmp_path / "stderr.log"
    cmd = [*SCRIPT, "parse", "textdump", str(DUMP)]
    with log.open("w") as err:
        forked = clirun.popen(cmd, stdout=subprocess.PIPE, stderr=err)
        assert isinstance(forked, clirun.ForkedPopen)
        out, nothing = forked.communicate(timeout=60)
    spawned = subprocess.run(cmd, capture_output=True, timeout=60)
    assert forked.returncode == spawned.returncode == 0 and nothing is None
    assert records(out.decode()) == records(spawned.stdout.decode()) != []
    assert log.read_bytes() == spawned.stderr != b""
