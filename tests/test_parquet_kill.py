"""Crash test of the parquet sink: a subprocess driving it through a run (tests/
parquet_crash_driver.py) is killed with SIGKILL at random points, then the sink is reopened
with the last checkpoint the run state saved: the folder must read back (DuckDB) as exactly the
committed papers, no duplicates; finally the run is left to complete and holds every paper once.
In replace mode the published folder must stay the previous run's until the run is done.
"""

from __future__ import annotations

import json
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from harvester_plugins.parquet import ParquetSink, ParquetSinkOptions

from harvester.api import Outcome, SinkContext
from tests.paper_factory import numbered
from tests.test_parquet_sink import duck_rows

pytestmark = pytest.mark.slow

TOTAL, BATCH = 240, 8  # 30 commits of about 4 files each (4 listing days and null dates)
KILLS = 8  # per mode
ROOT = Path(__file__).resolve().parent.parent
OLD_RUN = range(1000, 1005)


def start_driver(base: Path, mode: str) -> subprocess.Popen:
    return subprocess.Popen(
        [
            sys.executable,
            "-m",
            "tests.parquet_crash_driver",
            str(base),
            mode,
            str(TOTAL),
            str(BATCH),
        ],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        text=True,
    )


def kill_somewhere(proc: subprocess.Popen, rng: random.Random) -> bool:
    """Let the driver get through a few steps (0: while it starts or opens), then SIGKILL it,
    often a moment later so that the kill lands inside a commit. False when it finished first."""
    for _ in range(rng.randint(0, 3)):
        line = proc.stdout.readline()
        if not line or line.startswith("done"):
            proc.wait()
            return False
    if rng.random() < 0.6:
        time.sleep(rng.uniform(0, 0.01))  # a kill point, not an assertion
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    proc.stdout.close()
    return True


def load_state(base: Path) -> dict:
    state_file = base / "state.json"
    return json.loads(state_file.read_text()) if state_file.exists() else {}


def sink_for(base: Path, mode: str) -> ParquetSink:
    options = ParquetSinkOptions(path="out/papers", mode=mode)  # type: ignore[arg-type]
    return ParquetSink(options, SinkContext(base_dir=base))


def reopen_and_read(base: Path, mode: str) -> tuple[list[str], list[str]]:
    """Reopen the sink with the saved checkpoint (cutting back what came after it), stop it as
    a suspended run does, and read (written rows, published rows) with DuckDB."""
    state = load_state(base)
    sink = sink_for(base, mode)
    sink.open(state.get("checkpoint"))
    written_dir = base / "out/papers" if sink.published else sink.write_dir
    sink.close(Outcome.SUSPEND)
    expected = sorted(numbered(n).key for n in range(state.get("committed", 0)))
    written = [r["key"] for r in duck_rows(written_dir)] if written_dir.exists() else []
    assert written == expected, f"{len(written)} rows read back, {len(expected)} committed"
    published = [r["key"] for r in duck_rows(base / "out/papers")]
    return written, published


@pytest.mark.parametrize("mode", ["append", "replace"])
def test_killed_runs_leave_exactly_the_committed_papers(tmp_path, mode):
    rng = random.Random(f"parquet-{mode}")
    base = tmp_path / mode
    old_keys = []
    if mode == "replace":  # a previous complete run, which must survive until the new one is done
        old = ParquetSink(
            ParquetSinkOptions(path="out/papers", mode=mode), SinkContext(base_dir=base)
        )
        old.open(None)
        old.write([numbered(n) for n in OLD_RUN])
        old.close(Outcome.DONE)
        old_keys = sorted(numbered(n).key for n in OLD_RUN)
    kills = 0
    while kills < KILLS:
        if not kill_somewhere(start_driver(base, mode), rng):
            break
        kills += 1
        _written, published = reopen_and_read(base, mode)
        if mode == "replace" and not load_state(base).get("done"):
            assert published == old_keys
    assert kills == KILLS, "the driver finished before it could be killed often enough"
    finish = start_driver(base, mode)
    out, _ = finish.communicate(timeout=120)
    assert finish.returncode == 0 and out.strip().endswith("done")
    rows = duck_rows(base / "out/papers")
    assert [r["key"] for r in rows] == sorted(numbered(n).key for n in range(TOTAL))
    assert not list(base.glob("out/.papers.tmp/*"))
    assert not (base / "out/papers.partial").exists()
