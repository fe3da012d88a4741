"""What the whole-file output plugins share: `StagedPapers`, the crash-safe staging of a run's
records for outputs that can only be written whole at the end, and `WholeFileSink`, the sink
built on it (a bibliography, a feed). The staged records are read back through the JSONL store
(`harvester_plugins.jsonl_store`): one paper per paper, merged as the database sinks merge.
"""

from __future__ import annotations

import contextlib
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import msgspec

from harvester.api import Outcome, Sink
from harvester.atomic import write_atomic
from harvester.errors import SinkError
from harvester.jsonl import JsonlOutput
from harvester.schema import Paper
from harvester.store import StoreError

from .jsonl_store import JsonlStore
from .store.replay import RecordLog

STAGED_SUFFIX = ".papers.jsonl"


class StagedPapers:
    """A run's papers kept in a JSONL file next to the output until the output is rendered.

    `persistent=False` (a feed, a replaced bibliography): the staging file is a `.partial` that
    `take()` reads after a successful run and deletes. `persistent=True` (a bibliography that
    accumulates across runs): the staging file is kept and appended to; it is the record the
    output is rendered from, compacted to one line per paper (merged) at each `take()`.
    Commits, resume and suspend are `harvester.jsonl.JsonlOutput`'s: a killed run resumed from
    its checkpoint holds exactly what it committed.
    """

    def __init__(self, output: Path, *, persistent: bool):
        self.path = output.with_name(output.name + STAGED_SUFFIX)
        self.persistent = persistent
        self.jsonl = JsonlOutput(self.path, mode="append" if persistent else "replace")

    def open(self, resume: Any = None) -> None:
        self.jsonl.open(resume)

    def write(self, papers: Sequence[Paper]) -> None:
        self.jsonl.write(papers)

    def commit(self) -> dict[str, Any]:
        return self.jsonl.commit()

    def suspend(self) -> None:
        self.jsonl.close(Outcome.SUSPEND)

    def abandon(self) -> None:
        self.jsonl.close(Outcome.ABANDON)

    def take(self) -> RecordLog:
        """Close (publishing the staged papers) and return them merged: one row per paper."""
        self.jsonl.close(Outcome.DONE)
        if not self.path.exists():
            return RecordLog()
        try:
            return JsonlStore(str(self.path)).log
        except StoreError as exc:
            raise SinkError(f"cannot read the staged papers: {exc}") from exc

    def finish(self, papers: Sequence[Paper]) -> None:
        """After the output was written: drop the staging file, or keep it compacted."""
        if not self.persistent:
            with contextlib.suppress(OSError):
                self.path.unlink(missing_ok=True)
            return
        encoder = msgspec.json.Encoder()
        write_atomic(self.path, b"".join(encoder.encode(p) + b"\n" for p in papers), SinkError)


class WholeFileSink(Sink):
    """A sink whose output is rendered whole when the run is done: papers are staged
    (`StagedPapers`, resumable) and `render(papers)` writes the file at DONE. `persistent()`
    says whether the staged papers accumulate across runs."""

    staged: StagedPapers | None = None

    def persistent(self) -> bool:
        return False

    @property
    def replaces(self) -> bool:
        return not self.persistent()

    def render(self, papers: Sequence[Paper]) -> None:
        raise NotImplementedError

    def render_merged(self, merged: RecordLog) -> None:
        """Write the output from the run's records merged; most sinks need only the papers."""
        self.render(merged.papers())

    def open(self, resume: Any = None) -> None:
        self.path = self.context.resolve(self.options.path)  # type: ignore[attr-defined]
        self.staged = StagedPapers(self.path, persistent=self.persistent())
        self.staged.open(resume)

    def write(self, papers: Sequence[Paper]) -> None:
        self._staged().write(papers)

    def commit(self) -> dict[str, Any]:
        return self._staged().commit()

    def close(self, outcome: Outcome) -> None:
        staged, self.staged = self.staged, None
        if staged is None:
            return
        if outcome is Outcome.SUSPEND:
            staged.suspend()
        elif outcome is Outcome.ABANDON:
            staged.abandon()
        else:
            merged = staged.take()
            self.render_merged(merged)
            staged.finish(merged.papers())

    def _staged(self) -> StagedPapers:
        if self.staged is None:
            raise SinkError(f"{self.name} sink {self.context.label}: used before open()")
        return self.staged
