"""File helpers the output plugins share: one atomic whole-file write, and `StagedPapers`, the
crash-safe staging of a run's papers for outputs that can only be written whole at the end
(a bibliography, a feed).

`atomic_write` belongs in the core (``harvester.jsonl`` has the pieces, not the function); it
lives here until the core has one.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import msgspec

from harvester.errors import SinkError
from harvester.jsonl import JsonlOutput, fsync_dir, read_jsonl
from harvester.schema import Paper

STAGED_SUFFIX = ".papers.jsonl"


def atomic_write(path: Path, data: bytes) -> None:
    """Replace `path` with `data` all at once: a temporary sibling, fsync, rename, fsync of the
    directory. A crash leaves either the old file or the new one, never a mix."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, 0o644)  # mkstemp makes it 0600; outputs are for other tools to read
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
    fsync_dir(path.parent)


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
        self.jsonl.commit()
        return self.jsonl.checkpoint_token()

    def suspend(self) -> None:
        self.jsonl.suspend()

    def abandon(self) -> None:
        self.jsonl.close(ok=False)

    def take(self) -> list[Paper]:
        """Close (publishing the staged papers) and return them, one per key."""
        self.jsonl.close(ok=True)
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
        atomic_write(self.path, b"".join(encoder.encode(p) + b"\n" for p in papers))
