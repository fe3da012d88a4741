"""What the arXiv tests share: building an arXiv source, and reading a target the way the run
loop does (counting entries as they come, so each declared part gets its own), then judging
its outcome with `harvester.outcomes`."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from harvester.api import Source, Target
from harvester.fetch import FetchSettings
from harvester.outcomes import Verdict, close_parts, judge
from harvester.schema import Paper, Rejected
from harvester.testkit import make_source

# A local server is not arXiv: no budget, no robots.txt, one attempt.
LOCAL_FETCH = {"min_interval": 0, "robots": False, "max_attempts": 1, "budgets": {}}


@dataclass
class Read:
    items: list[Paper | Rejected]
    verdict: Verdict

    @property
    def papers(self) -> list[Paper]:
        return [i for i in self.items if isinstance(i, Paper)]

    @property
    def rejects(self) -> list[Rejected]:
        return [i for i in self.items if isinstance(i, Rejected)]


def source(cls: type[Source], inputs=(), *, base_dir: Path | None = None, **options: Any):
    built = make_source(cls, list(inputs), options, base_dir=base_dir)
    built.context.fetch_settings = FetchSettings(**LOCAL_FETCH)
    return built


def read(src: Source, target: Target) -> Read:
    """`src.read(target)` counted as the run counts it, and the outcome it names."""
    items: list[Paper | Rejected] = []
    for item in src.read(target):
        items.append(item)
        target.entries = len(items)
    close_parts(target.declared, len(items))
    rejected = sum(isinstance(i, Rejected) for i in items)
    verdict = judge(target.declared, entries=len(items), rejected=rejected, asked_day=target.date)
    return Read(items, verdict)


def parts(target: Target) -> list[tuple[str, int, int]]:
    """The target's declared parts: (name, declared, got)."""
    return [(p.name, p.total, p.got) for p in target.declared.parts]
