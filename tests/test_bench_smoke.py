"""`python bench/run.py --quick` runs end to end and prints a row for every stage.

No timing assertions: the figures depend on the machine; this checks the harness works (inputs
generated, every measurement run as pairs or reported "not available" with the reason, the
table printed and saved, the working files removed).
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

STAGE_ROWS = (
    "text dump",  # plugin only: rec/s, us per entry and the 4x dump's peak RSS
    "textdump trusted vs",
    "`harvester parse textdump FILE > out.jsonl`",
    "`harvester run` into JSONL,",
    "`harvester run` into JSONL + SQLite",
    "start-up: `harvester --help`",
    "start-up: `harvester parse`",
    "start-up: `harvester run`",
    "HTML 24 cards (a daily page), embedded JSON",
    "HTML 24 cards (a daily page), rendered cards only",
    "HTML 100 cards (a big page), embedded JSON",
    "HTML 100 cards (a big page), rendered cards only",
    "sink jsonl,",
    "sink sqlite,",
    'sink sqlite {"fts": false}',
    "sink jsonl at",
    "sink sqlite at 0.004M records (scale)",
    "sink sqlite at 0.004M records vs sqlite-utils",
    "sink postgres,",
    "state save at",
    "a run of",
    "end to end, 8 pages, concurrency 8",
    "end to end, 8 pages, 50 ms latency",
    "the whole benchmark run (quick)",
)
RESULT = 6  # the column of PASS/MISS/info/n/a


@pytest.mark.slow
def test_quick_benchmark_prints_every_stage(tmp_path):
    results = tmp_path / "results.md"
    done = subprocess.run(
        [sys.executable, str(ROOT / "bench" / "run.py"), "--quick", "--results", str(results)],
        capture_output=True,
        text=True,
        timeout=480,  # under 60 s on a quiet machine; a bound, not a timing
        cwd=ROOT,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    out = done.stdout
    assert "| stage " in out and "| ratio " in out and "| spread " in out
    assert "load average (1, 5, 15 min) at start: " in out
    table = [line for line in out.splitlines() if line.startswith("| ")]
    for stage in STAGE_ROWS:
        rows = [line for line in table if line.startswith(f"| {stage}")]
        assert rows, f"no row for {stage!r} in:\n{out}"
        for row in rows:
            cells = [c.strip() for c in row.strip("|").split("|")]
            # every row has a figure (or says why not) and a verdict
            assert cells[1] and cells[RESULT] in {"PASS", "MISS", "info", "n/a"}, row
            if cells[1] == "not available":  # something not installed, never a crash
                assert cells[-1].startswith("not available: "), f"a stage failed: {row}"
            elif "pairs)" in cells[4]:  # a paired figure says how many pairs it is the median of
                assert cells[3].endswith("x"), row
    assert sum(1 for line in table if line.startswith("| text dump")) == 3
    assert results.read_text().strip() == out.strip()  # the same table is saved
    assert not (ROOT / "bench" / "_work" / "quick").exists()  # working files removed
