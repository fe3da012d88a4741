"""A target's entries while it is read: held until the target ends, so that only a target that
ends published reaches the outputs.

Papers are held in memory up to `run.hold_papers`; past that the run checkpoints and streams
them (`streamed` counts them), and cuts them back from the outputs if the target then ends
unpublished. Rejects are held whole: they are written whatever the outcome.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import msgspec

from .schema import Paper, Rejected

_encode = msgspec.json.Encoder().encode


@dataclass
class Held:
    papers: list[Paper] = field(default_factory=list)  # read, not yet handed to the outputs
    rejects: list[Rejected] = field(default_factory=list)
    entries: int = 0  # entries read: papers + rejects
    paper_count: int = 0  # papers read, held and streamed
    streamed: int = 0  # papers handed to the outputs before the target ended

    def unpublished(self, source: str, target: str, why: str) -> list[Rejected]:
        """What a target that failed read, as rejects saying why it was not published: each
        held paper (its record as `raw`), and one line for the papers that had streamed."""
        gone = [
            Rejected(
                reason=f"not published: {why}",
                source=source,
                source_ref=paper.source_ref,
                raw=_encode(paper).decode(),
                rejected_at=paper.harvested_at,
            )
            for paper in self.papers
        ]
        if self.streamed:
            gone.append(
                Rejected(
                    reason=f"not published: {why}; {self.streamed} papers read before it were "
                    "cut back from the outputs (too many to keep here)",
                    source=source,
                    source_ref=target,
                )
            )
        return gone
