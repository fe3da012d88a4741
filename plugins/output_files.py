"""What the output plugins share: `latest_by_key` (one paper per key, as the SQLite sink
merges), `StagedPapers`, the crash-safe staging of a run's papers for outputs that can only be
written whole at the end, and `WholeFileSink`, the sink built on it (a bibliography, a feed).
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
from harvester.jsonl import JsonlOutput, read_jsonl
from harvester.schema import Paper

STAGED_SUFFIX = ".papers.jsonl"


def latest_by_key(papers: Sequence[Paper]) -> list[Paper]:
    """One paper per key: the last sighting, with the gaps it leaves filled from earlier ones
    (as the SQLite sink merges: a null or empty value never erases a known one)."""
    merged: dict[str, Paper] = {}
    for paper in papers:
        old = merged.get(paper.key)
        if old is None:
            merged[paper.key] = paper
            continue
        gaps = {
            name: getattr(old, name)
            for name in Paper.__struct_fields__
            if getattr(paper, name) in (None, [], {}) and getattr(old, name) not in (None, [], {})
        }
        merged[paper.key] = _replace(paper, gaps)
    return list(merged.values())


def _replace(paper: Paper, changes: dict[str, Any]) -> Paper:
    return msgspec.structs.replace(paper, **changes) if changes else paper


class StagedPapers:
    """A run's papers kept in a JSONL file next to the output until the output is rendered.

    `persistent=False` (a feed, a replaced bibliography): the staging file is a `.partial` that
    `take()` reads after a successful run and deletes. `persistent=True` (a bibliography that
    accumulates across runs): the staging file is kept and appended to; it is the record the
    output is rendered from, compacted to one line per key at each `take()`.
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

    def take(self) -> list[Paper]:
        """Close (publishing the staged papers) and return them, one per key."""
        self.jsonl.close(Outcome.DONE)
        try:
            papers = latest_by_key([p for _, p in read_jsonl(self.path, Paper)])
        except FileNotFoundError:
            papers = []
        except OSError as exc:
            raise SinkError(f"{self.path}: cannot read the staged papers: {exc}") from exc
        return papers

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
            papers = staged.take()
            self.render(papers)
            staged.finish(papers)

    def _staged(self) -> StagedPapers:
        if self.staged is None:
            raise SinkError(f"{self.name} sink {self.context.label}: used before open()")
        return self.staged
