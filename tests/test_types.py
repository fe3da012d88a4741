"""Types are checked: mypy over `harvester/` and `plugins/` (the `[tool.mypy]` table of
pyproject.toml) reports no error.

A test, not a step of the test command: mypy runs on one core for ~15 s, and as the suite's first
test it runs beside the other workers instead of before them all."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_mypy_reports_no_error():
    done = subprocess.run(
        [sys.executable, "-m", "mypy"], cwd=ROOT, capture_output=True, text=True, timeout=280
    )
    assert done.returncode == 0, done.stdout[-6000:] + done.stderr[-2000:]
    assert "Success: no issues found" in done.stdout
