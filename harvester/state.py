"""Incremental run state: done targets, their validators, recent counts, host deferrals, and
the journal of a run in progress. Saved only after every sink committed the records it
covers, so the state never claims more than the outputs hold.

    <state dir>/state.json   a snapshot, replaced atomically
    <state dir>/state.log    one JSON line per checkpoint since the snapshot (appended, fsynced)
    <state dir>/lock         held (flock) by the run using this state

A checkpoint appends only what changed (the targets done since the last one, the sinks'
checkpoints), so saving costs the same at 20,000 done targets as at 20; the log is folded into
the snapshot when a run ends (and when it grows long). A torn last line, left by a kill while
it was written, is ignored: its sinks' records are cut back on resume.

`run` (the journal) is present while a run is in progress: a run killed at any moment resumes
from it (same `harvested_at`, sinks cut back to their last committed checkpoint).

Where the state lives is `[run] state`'s form, and `harvester.state_stores.open_state_store`
picks the implementation: a
directory (`StateStore`, above) or ``postgresql://...`` (`harvester.pgstate.PostgresStateStore`:
the same model, snapshot and appended checkpoints as rows, the lock an advisory lock). Both
follow `Store`; the run loop knows no other.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
from contextlib import AbstractContextManager
from pathlib import Path
from typing import Any, Protocol

import msgspec

from .atomic import fsync_dir, open_nofollow, write_all, write_atomic
from .errors import StateError, UsageError
from .lock import DirectoryLock

log = logging.getLogger("harvester")

STATE_VERSION = 2
HISTORY = 20  # record counts kept per source for the suspicious-output guard
COMPACT_AFTER = 5_000  # log lines before a checkpoint folds the log into the snapshot


class TargetState(msgspec.Struct, kw_only=True, omit_defaults=True):
    done_at: dt.datetime
    # Which run completed it: a resumed run skips its own targets (run stamps have one-second
    # resolution, two runs may start within the same second).
    run_id: str
    records: int
    fingerprint: str | None = None  # e.g. a file's size and mtime: changed input is read again
    memo: dict[str, str] = {}  # source-owned validators, e.g. ETag and Last-Modified
    outcome: str = "complete"  # complete, empty, or incomplete where its source publishes those
    resume: bool = False  # incomplete, to be continued: a later run reads it again (from its memo)


class Unfinished(msgspec.Struct, kw_only=True, omit_defaults=True):
    """A target whose last attempt did not finish it (failed, incomplete, stale, deferred,
    stopped): the ledger's gaps. A later run reads it again."""

    outcome: str
    at: dt.datetime
    reason: str | None = None
    until: dt.datetime | None = None  # deferred: not before


class SourceState(msgspec.Struct, kw_only=True, omit_defaults=True):
    done: dict[str, TargetState] = {}
    unfinished: dict[str, Unfinished] = {}
    history: list[int] = []


class RunJournal(msgspec.Struct, kw_only=True):
    started_at: dt.datetime  # the run's `harvested_at`, kept by a resumed run
    run_id: str
    sinks: dict[str, Any] = {}  # sink label -> its last committed checkpoint
    rejects: Any = None  # the rejects output's last committed checkpoint
    papers: int = 0  # papers committed so far (a resumed run that adds none still publishes)


class State(msgspec.Struct, kw_only=True):
    version: int = STATE_VERSION
    generation: int = 0  # bumped by each snapshot; log lines of older generations are folded in
    sources: dict[str, SourceState] = {}
    deferrals: dict[str, dt.datetime] = {}  # host -> not before (UTC)
    run: RunJournal | None = None

    def source(self, label: str) -> SourceState:
        return self.sources.setdefault(label, SourceState())


class Checkpoint(msgspec.Struct, kw_only=True, omit_defaults=True):
    """One line of state.log: what changed at one checkpoint."""

    generation: int  # the snapshot it applies to (a kill after a snapshot leaves old lines)
    done: list[tuple[str, str, TargetState]] = []  # (source label, target id, entry)
    unfinished: list[tuple[str, str, Unfinished]] = []  # (source label, target id, attempt)
    history: list[tuple[str, int]] = []  # (source label, a guarded target's paper count)
    deferrals: dict[str, dt.datetime | None] = {}  # host -> until, or None once cleared
    run: RunJournal | msgspec.UnsetType | None = msgspec.UNSET  # the journal after it


def apply(state: State, change: Checkpoint) -> None:
    for label, target, attempt in change.unfinished:
        state.source(label).unfinished[target] = attempt
    for label, target, entry in change.done:
        source = state.source(label)
        source.done[target] = entry
        source.unfinished.pop(target, None)
    for label, count in change.history:
        source = state.source(label)
        source.history = [*source.history, count][-HISTORY:]
    for host, until in change.deferrals.items():
        if until is None:
            state.deferrals.pop(host, None)
        else:
            state.deferrals[host] = until
    if change.run is not msgspec.UNSET:
        state.run = change.run


def deferral_changes(
    saved: dict[str, dt.datetime], current: dict[str, dt.datetime]
) -> dict[str, dt.datetime | None]:
    """What a checkpoint changes in the saved host deferrals to make them `current` (those
    still in force): new or later ones set, the others cleared (None)."""
    now = dt.datetime.now(dt.UTC)
    live = {h: u for h, u in current.items() if u > now}
    changes: dict[str, dt.datetime | None] = dict(live)
    changes.update({h: None for h in saved if h not in live})
    return {h: u for h, u in changes.items() if saved.get(h) != u}


_decode_state = msgspec.json.Decoder(State)
_decode_change = msgspec.json.Decoder(Checkpoint)
_encode = msgspec.json.Encoder()


def decode_state(raw: bytes | str, where: object, start_afresh: str) -> State:
    """A saved state snapshot; `StateError` naming `where` when it is damaged or of another
    version (`start_afresh` says how to drop it, in that store's terms)."""
    try:
        state = _decode_state.decode(raw)
    except msgspec.DecodeError as exc:
        raise StateError(
            f"{where}: the state snapshot is damaged ({exc}); {start_afresh} to start afresh"
        ) from None
    if state.version != STATE_VERSION:
        raise StateError(
            f"{where}: state version {state.version} is not supported (this harvester writes "
            f"version {STATE_VERSION}); {start_afresh} to start afresh"
        )
    return state


class Store(Protocol):
    """What the run loop needs of a state store."""

    where: str  # how messages name it (never a password)

    def lock(self, *, shared: bool = False) -> AbstractContextManager[object]:
        """Hold the state for a run: at once, or `LockedError` naming the holder. `shared`:
        for a job among concurrent ones (`harvester worker`), which excludes only runs."""
        ...

    def load(self, *, readonly: bool = False, salvage: bool = False) -> State:
        """The saved state. `readonly`: a look from outside the run holding it (`harvester
        status`), which changes nothing, not even a torn last line. `salvage` (`harvester run
        --discard-journal`): damaged checkpoints are dropped (and set aside) instead of
        failing with a `StateError` that names this remedy."""
        ...

    def append(self, change: Checkpoint, state: State) -> None:
        """Save one checkpoint, already applied to `state`."""
        ...

    def compact(self, state: State) -> None:
        """Fold the saved checkpoints into a new snapshot (the store's, which is `state`
        where only one run writes)."""
        ...

    def close(self) -> None:
        """Let go of what `load` or `append` opened (the lock's context does it too)."""
        ...


class StateStore:
    """Loads and saves `State` in a directory (see the module docstring for the layout)."""

    def __init__(self, directory: Path):
        self.directory = directory
        self.where = str(directory)
        self.snapshot = directory / "state.json"
        self.log = directory / "state.log"
        self.lock_path = directory / "lock"
        self._log_lines = 0

    def lock(self, *, shared: bool = False) -> DirectoryLock:
        if shared:
            raise UsageError(
                f"{self.directory}: a state directory serves one run at a time; concurrent "
                'jobs need [run] state = "postgresql://..."'
            )
        return DirectoryLock(self.directory)

    def close(self) -> None:
        pass  # every call opens and closes its own files

    def load(self, *, readonly: bool = False, salvage: bool = False) -> State:
        state = self._load_snapshot()
        self._log_lines = 0
        changes, damaged = self._read_log(readonly, salvage)
        for change in changes:
            if change.generation == state.generation:
                apply(state, change)
            self._log_lines += 1
        if damaged:
            self._set_aside(state, damaged)
        return state

    def _load_snapshot(self) -> State:
        try:
            fd = open_nofollow(self.snapshot, os.O_RDONLY, StateError)
            with os.fdopen(fd, "rb") as f:
                raw = f.read()
        except FileNotFoundError:
            return State()
        except OSError as exc:
            raise StateError(f"{self.snapshot}: cannot read state: {exc.strerror or exc}") from exc
        return decode_state(raw, self.snapshot, "move the state directory away")

    def _read_log(self, readonly: bool, salvage: bool) -> tuple[list[Checkpoint], list[int]]:
        """The log's complete lines, and the numbers of the damaged ones (`salvage`; else a
        damaged line is a `StateError` naming the remedy). A torn last line (a kill or a full
        disk while it was written) was never a committed checkpoint: it is cut off (unless
        `readonly`), so later lines follow a whole one."""
        try:
            fd = open_nofollow(self.log, os.O_RDONLY if readonly else os.O_RDWR, StateError)
        except FileNotFoundError:
            return [], []
        except OSError as exc:
            raise StateError(f"{self.log}: cannot read state: {exc.strerror or exc}") from exc
        try:
            with os.fdopen(os.dup(fd), "rb") as f:
                data = f.read()
            end = data.rfind(b"\n") + 1
            changes, damaged = [], []
            for number, line in enumerate(data[:end].split(b"\n")[:-1], 1):
                try:
                    changes.append(_decode_change.decode(line))
                except msgspec.DecodeError as exc:
                    if not salvage:
                        raise StateError(self._damaged(number, exc)) from exc
                    damaged.append(number)
            if end < len(data) and not readonly:
                os.ftruncate(fd, end)
        except OSError as exc:
            raise StateError(f"{self.log}: cannot read state: {exc.strerror or exc}") from exc
        finally:
            os.close(fd)
        return changes, damaged

    def _damaged(self, number: int, exc: Exception) -> str:
        return (
            f"{self.log}:{number}: the state log is damaged ({exc}); `harvester run "
            "--discard-journal` drops the damaged lines, keeps every other checkpoint, sets the "
            "log aside and starts a new run (the targets the dropped lines recorded are read "
            "again)"
        )

    def _set_aside(self, state: State, damaged: list[int]) -> None:
        """A salvaged load: `state` (without the damaged lines) becomes the snapshot and the
        damaged log is kept beside it, renamed, for whoever wants to look at it."""
        stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%SZ")
        aside = self.log.with_name(f"{self.log.name}.damaged-{stamp}")
        self.compact(state, keep_log_as=aside)
        lines = ", ".join(map(str, damaged))
        log.warning("%s: dropped damaged line(s) %s; the log is kept as %s", self.log, lines,
                    aside.name)  # fmt: skip

    def append(self, change: Checkpoint, state: State) -> None:
        """Save one checkpoint (already applied to `state`, and made for its generation): one
        fsynced line, or, when the log has grown long, a new snapshot."""
        if self._log_lines >= COMPACT_AFTER:
            self.compact(state)
            return
        try:
            self.directory.mkdir(parents=True, exist_ok=True)
            fd = open_nofollow(self.log, os.O_WRONLY | os.O_CREAT | os.O_APPEND, StateError)
            try:
                write_all(fd, _encode.encode(change) + b"\n")
                os.fsync(fd)
            finally:
                os.close(fd)
        except OSError as exc:
            raise StateError(
                f"{self.log}: cannot save the run state: {exc.strerror or exc}"
            ) from exc
        if self._log_lines == 0:
            fsync_dir(self.directory)  # the log file was just created
        self._log_lines += 1

    def compact(self, state: State, *, keep_log_as: Path | None = None) -> None:
        """Write `state` as the new snapshot and empty the log (renamed `keep_log_as`, if
        given, instead of removed)."""
        state.generation += 1
        data = msgspec.json.format(_encode.encode(state), indent=1)
        write_atomic(self.snapshot, data, StateError)
        try:
            if keep_log_as is not None:
                os.replace(self.log, keep_log_as)
            else:
                os.unlink(self.log)
        except FileNotFoundError:
            pass
        except OSError as exc:
            raise StateError(
                f"{self.log}: cannot reset the state log: {exc.strerror or exc}"
            ) from exc
        self._log_lines = 0
