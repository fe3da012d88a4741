"""A run's outputs: its sinks and its rejects file, driven together through the sink lifecycle.

Papers and rejects are batched; a full batch is written to every sink at once. `commit()`
commits every output and returns their checkpoints. A sink that fails (or has a bug: any
exception) stops the run with a `SinkError` naming it, never a traceback. When the file system
under an output is full or read-only, the message says so, whatever words the sink's library
found for it (SQLite's "unable to open database file").
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

from .api import Outcome, Sink
from .errors import HarvesterError, SinkError, UsageError
from .schema import Paper, Rejected
from .state import State

log = logging.getLogger("harvester")


class Outputs:
    """The sinks (label, instance) and the rejects output of one run."""

    def __init__(
        self,
        sinks: list[tuple[str, Sink]],
        rejects: Any,
        batch_size: int,
        places: dict[str, Path] | None = None,
    ):
        """`places`: output label -> the local path it writes (its file system is examined
        when it fails)."""
        self.sinks = sinks
        self.rejects = rejects  # a harvester.jsonl.JsonlOutput (or anything with its lifecycle)
        self.batch_size = batch_size
        self.places = places or {}
        self.papers: list[Paper] = []
        self.rejected: list[Rejected] = []
        self.opened: list[tuple[str, Any]] = []

    def open(self, sink_checkpoints: dict[str, Any] | None, rejects_checkpoint: Any) -> None:
        """Open every output, resuming from the checkpoints of an interrupted run if given."""
        for label, sink in self.sinks:
            resume = sink_checkpoints.get(label) if sink_checkpoints is not None else None
            self._call(label, "open", sink.open, resume)
            self.opened.append((label, sink))
        self._call("rejects", "open", self.rejects.open, rejects_checkpoint)
        self.opened.append(("rejects", self.rejects))

    def add(self, item: Paper | Rejected) -> None:
        if isinstance(item, Paper):
            self.add_paper(item)
        else:
            self.add_reject(item)

    def add_paper(self, paper: Paper) -> None:
        papers = self.papers
        papers.append(paper)
        if len(papers) >= self.batch_size:
            self.flush()

    def add_reject(self, reject: Rejected) -> None:
        self.rejected.append(reject)

    def flush(self) -> None:
        if self.papers:
            batch, self.papers = self.papers, []
            for label, sink in self.sinks:
                self._call(label, "write", sink.write, batch)
        if self.rejected:
            rejected, self.rejected = self.rejected, []
            self._call("rejects", "write", self.rejects.write, rejected)

    def commit(self) -> tuple[dict[str, Any], Any]:
        """Flush, then commit every output: (sink checkpoints by label, rejects checkpoint)."""
        self.flush()
        tokens = {label: self._call(label, "commit", sink.commit) for label, sink in self.sinks}
        return tokens, self._call("rejects", "commit", self.rejects.commit)

    def cut_back(self, checkpoints: dict[str, Any]) -> None:
        """Drop every paper written since the sinks' last commit (their `checkpoints`): each
        sink is suspended and opened again from its checkpoint, as a resumed run would be."""
        self.papers = []
        for label, sink in self.sinks:
            self._call(label, "close", sink.close, Outcome.SUSPEND)
            self._call(label, "open", sink.open, checkpoints.get(label))

    def close(
        self, papers: Outcome, rejects: Outcome, *, keep: frozenset[str] | set[str] = frozenset()
    ) -> None:
        """Close in reverse order; the sinks labelled in `keep` abandon (keep their previous
        output). Failures publishing (DONE) raise, others are logged."""
        errors = []
        for label, output in reversed(self.opened):
            outcome = rejects if output is self.rejects else papers
            if label in keep and output is not self.rejects:
                outcome = Outcome.ABANDON
            try:
                self._call(label, "close", output.close, outcome)
            except SinkError as exc:
                if outcome is Outcome.DONE:
                    errors.append(str(exc))
                else:
                    log.error("closing after a failure: %s", exc)
        self.opened = []
        if errors:
            raise SinkError("; ".join(errors))

    def _call(self, label: str, action: str, fn: Callable[..., Any], *args: Any) -> Any:
        """Run an output's method; any failure becomes a `SinkError` naming the output, and
        the cause when its file system is full or read-only."""
        try:
            return fn(*args)
        except SinkError as exc:
            cause = _file_system_trouble(self.places.get(label), str(exc))
            if cause is None:
                raise
            raise SinkError(f"{exc} ({cause})") from exc
        except HarvesterError:
            raise
        except OSError as exc:
            message = f"sink {label!r}: {action} failed: {exc}"
            cause = _file_system_trouble(self.places.get(label), message)
            raise SinkError(message + (f" ({cause})" if cause else "")) from exc
        except Exception as exc:
            raise SinkError(
                f"sink {label!r}: {action} failed: {type(exc).__name__}: {exc} (a bug in its "
                "plugin?)"
            ) from exc


def check_against_state(
    sinks: list[tuple[str, Sink]], where: dict[str, str], state: State, state_where: str
) -> None:
    """Compare outputs that add to what they hold with what the state says was written,
    before they open: one that appends and holds papers while the state is new is refused
    (`UsageError`: the run would write them all again); one that holds fewer papers than a
    single target wrote was moved, replaced or emptied since (a warning says how to rebuild
    it). Outputs that `replace` hold the last run's papers only: nothing to compare."""
    sources = state.sources.values()
    fresh = not any(s.done or s.unfinished for s in sources)
    largest = max((t.records for s in sources for t in s.done.values()), default=0)
    for label, sink in sinks:
        if sink.replaces:
            continue
        name = f"sink {label!r} ({where.get(label, label)})"
        if fresh and not sink.merges and sink.holds_at_least(1):
            raise UsageError(
                f"{name} already holds papers, but the run state ({state_where}) is new: this "
                "run would write them again. Restore the state, or move the output away (or "
                'set the sink\'s mode = "replace") to start afresh'
            )
        if largest and sink.holds_at_least(largest) is False:
            log.warning(
                "%s holds fewer papers than the state says one target wrote (%d): it was "
                "moved, replaced or emptied since the state was saved. `harvester run "
                "--refresh` reads every target again and rebuilds it",
                name, largest,
            )  # fmt: skip


def _file_system_trouble(place: Path | None, message: str) -> str | None:
    """Why nothing can be written at `place`, when its file system says so (read-only, or no
    space left) and `message` does not already; None otherwise."""
    if place is None:
        return None
    folder = place
    while not folder.is_dir() and folder != folder.parent:
        folder = folder.parent
    try:
        stats = os.statvfs(folder)
    except OSError:
        return None
    if stats.f_flag & os.ST_RDONLY and "read-only" not in message.lower():
        return f"EROFS: the file system of {folder} is read-only"
    if stats.f_bavail * stats.f_frsize < _NEARLY_FULL and "space" not in message.lower():
        return f"ENOSPC: no space left on the device of {folder}"
    return None


_NEARLY_FULL = 64 * 1024  # bytes free below which a failed write is put down to a full disk
