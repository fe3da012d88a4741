"""What the hf tests share: building a source as a config would, and driving its targets the way
the run does (`fetch` first, possibly elsewhere, then `read`; a failing target does not stop
the others)."""

from __future__ import annotations

import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import msgspec
import pytest

from harvester.api import Source, SourceContext, Target
from harvester.errors import TargetError
from harvester.fetch.runclient import SharedClient
from harvester.fetch.settings import FetchSettings
from harvester.schema import Paper, Rejected

FIXTURES = Path(__file__).resolve().parent / "fixtures"
HF_FIXTURES = FIXTURES / "hf"
REAL = Path(__file__).resolve().parents[2] / "shared" / "reference" / "real"

if str(FIXTURES) not in sys.path:
    sys.path.insert(0, str(FIXTURES))
import hf_site  # noqa: E402  (tests/fixtures/hf_site.py)

__all__ = ["HF_FIXTURES", "REAL", "Outcome", "hf_site", "make_source", "real_response", "run"]


def real_response(name: str) -> Path:
    """A real /api/daily_papers response from ../shared/reference/real (skipped without it)."""
    path = REAL / name
    if not path.is_file():
        pytest.skip(f"{path} is not available here")
    return path


def make_source(cls: type[Source], base_dir: Path | None = None, **options: Any) -> Source:
    """`cls` with `options` converted (and validated) as the config loader does."""
    settings = FetchSettings(min_interval=0, max_attempts=1, backoff_initial=0)
    context = SourceContext(
        label=cls.name,
        fetch_settings=settings,
        client=SharedClient(settings),
        **({"base_dir": base_dir} if base_dir else {}),
    )
    return cls(msgspec.convert(options, cls.Options), context)


@dataclass
class Outcome:
    """What reading one target gave."""

    target: Target
    entries: list[Paper | Rejected] = field(default_factory=list)
    error: TargetError | None = None

    @property
    def papers(self) -> list[Paper]:
        return [e for e in self.entries if isinstance(e, Paper)]

    @property
    def rejected(self) -> list[Rejected]:
        return [e for e in self.entries if isinstance(e, Rejected)]


def run(
    source: Source, targets: list[Target] | None = None, *, prefetch: bool = True
) -> list[Outcome]:
    """Every target of `source`, fetched (when `prefetch`) then read, as the run would."""
    outcomes = []
    try:
        for target in targets if targets is not None else list(source.targets()):
            outcome = Outcome(target)
            try:
                if prefetch:
                    target.fetched = source.fetch(target)
                for entry in source.read(target):
                    outcome.entries.append(entry)
            except TargetError as exc:
                outcome.error = exc
            outcomes.append(outcome)
    finally:
        client = source.context.client
        if isinstance(client, SharedClient):
            client.close()
    return outcomes
