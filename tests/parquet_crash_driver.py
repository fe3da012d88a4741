"""Drives the parquet sink through a run, as the core does, for tests/test_parquet_kill.py.

    python -m tests.parquet_crash_driver BASE MODE TOTAL BATCH

The run state is BASE/state.json (written atomically): the papers committed so far and the
sink's checkpoint, saved only after `commit()` returned, as the run saves its state. A restart
resumes from it. The first checkpoint is taken right after `open()`, before anything is written,
so that a run killed before its first batch is resumed too, never started afresh over files it
had committed. Prints one line per step so the test can kill it at chosen points.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from harvester_plugins.parquet import ParquetSink, ParquetSinkOptions

from harvester.api import Outcome, SinkContext
from harvester.atomic import write_atomic
from tests.paper_factory import numbered


def save(state_file: Path, state: dict) -> None:
    write_atomic(state_file, json.dumps(state).encode())


def main(base: Path, mode: str, total: int, batch: int) -> None:
    state_file = base / "state.json"
    state = json.loads(state_file.read_text()) if state_file.exists() else {}
    if state.get("done"):
        print("done", flush=True)
        return
    sink = ParquetSink(
        ParquetSinkOptions(path="out/papers", mode=mode),  # type: ignore[arg-type]
        SinkContext(base_dir=base),
    )
    sink.open(state.get("checkpoint"))
    committed, checkpoint = state.get("committed", 0), state.get("checkpoint")
    if "checkpoint" not in state:
        save(state_file, {"committed": 0, "checkpoint": sink.commit()})
    print("open", flush=True)
    while committed < total:
        papers = [numbered(n) for n in range(committed, min(committed + batch, total))]
        sink.write(papers)
        checkpoint = sink.commit()
        committed += len(papers)
        save(state_file, {"committed": committed, "checkpoint": checkpoint})
        print("commit", committed, flush=True)
    sink.close(Outcome.DONE)
    save(state_file, {"committed": committed, "checkpoint": checkpoint, "done": True})
    print("done", flush=True)


if __name__ == "__main__":
    main(Path(sys.argv[1]), sys.argv[2], int(sys.argv[3]), int(sys.argv[4]))
