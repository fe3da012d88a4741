"""Incremental run state: which targets are done, their validators, recent counts, and the
journal of an interrupted run. One JSON file, replaced atomically, and saved only after the
sinks committed the records it covers, so state never claims more than the outputs hold.

    state/state.json
    {
      "version": 1,
      "sources": {"<label>": {"done": {"<target>": {...TargetState}}, "history": [40, 38, ...]}},
      "run": {"started_at": ..., "sinks": {"<label>": <resume token>}, "rejects": <token>} | null
    }

`run` is present while a run is in progress: a run killed at any moment resumes from it (same
`harvested_at` stamp, sinks cut back to their last committed checkpoint), so the final outputs
hold exactly the records of one clean run.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import os
from pathlib import Path
from typing import Any

import msgspec

from .errors import HarvesterError
from .jsonl import fsync_dir

STATE_VERSION = 1
HISTORY = 20  # record counts kept per source for the suspicious-output guard


class TargetState(msgspec.Struct, kw_only=True):
    done_at: dt.datetime
    run_started_at: dt.datetime  # the stamp of the run that completed it
    # Which run completed it: a resumed run skips its own targets. Not the stamp, which has
    # one-second resolution: two runs may start within the same second.
    run_id: str = ""
    records: int
    fingerprint: str | None = None  # e.g. a file's size and mtime: changed input is read again
    memo: dict[str, str] = {}  # source-owned validators, e.g. ETag and Last-Modified


class SourceState(msgspec.Struct, kw_only=True):
    done: dict[str, TargetState] = {}
    history: list[int] = []


class RunJournal(msgspec.Struct, kw_only=True):
    started_at: dt.datetime
    run_id: str = ""  # unique per run ("" in journals written before run ids existed)
    sinks: dict[str, Any] = {}
    rejects: Any = None


class State(msgspec.Struct, kw_only=True):
    version: int = STATE_VERSION
    sources: dict[str, SourceState] = {}
    run: RunJournal | None = None

    def source(self, label: str) -> SourceState:
        return self.sources.setdefault(label, SourceState())


def done_in_run(target: TargetState, journal: RunJournal) -> bool:
    """Was `target` completed by the run `journal` describes (so a resume skips it)?"""
    if journal.run_id:
        return target.run_id == journal.run_id
    return target.run_started_at == journal.started_at  # a journal from before run ids


class StateStore:
    """Loads and atomically saves `State` in a directory."""

    def __init__(self, directory: Path):
        self.directory = directory
        self.path = directory / "state.json"

    def load(self) -> State:
        try:
            raw = self.path.read_bytes()
        except FileNotFoundError:
            return State()
        except OSError as exc:
            raise HarvesterError(f"{self.path}: cannot read state: {exc.strerror or exc}") from exc
        try:
            state = msgspec.json.decode(raw, type=State)
        except msgspec.DecodeError as exc:
            raise HarvesterError(
                f"{self.path}: state file is damaged ({exc}); move it away to start afresh"
            ) from exc
        if state.version != STATE_VERSION:
            raise HarvesterError(f"{self.path}: state version {state.version} is not supported")
        return state

    def save(self, state: State) -> None:
        """Write to a temporary file, fsync, rename over the old one, fsync the directory.
        A failure (read-only directory, disk full) is a `HarvesterError` naming the path; the
        previous state file is left as it was."""
        tmp = self.path.with_name(self.path.name + ".tmp")
        data = msgspec.json.format(msgspec.json.encode(state), indent=1)
        try:
            self.directory.mkdir(parents=True, exist_ok=True)
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
            try:
                view = memoryview(data)
                while view:
                    view = view[os.write(fd, view) :]
                os.fsync(fd)
            finally:
                os.close(fd)
            os.replace(tmp, self.path)
        except OSError as exc:
            with contextlib.suppress(OSError):
                tmp.unlink(missing_ok=True)
            raise HarvesterError(
                f"{self.path}: cannot save the run state: {exc.strerror or exc}"
            ) from exc
        fsync_dir(self.directory)
