"""Sample papers for sink checks, and two measures of what a source yields: unclean text fields
and peak Python memory."""

from __future__ import annotations

import datetime as dt
import gc
import tracemalloc
from collections.abc import Callable

from ..normalise import clean_text
from ..schema import TEXT_FIELDS, Paper

NOW = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)


def raw_papers(n: int = 3, *, start: int = 0) -> list[Paper]:
    """Papers as a source yields them: the first with every field (non-ASCII text, nested
    extra), the others sparse (nulls, empty lists)."""
    papers = []
    for i in range(start, start + n):
        if i == start:
            paper = Paper(
                arxiv_id=f"2601.{i:05d}",
                title=f"Ünïcode title {i} — “quoted” 日本語",
                abstract="An abstract.",
                authors=["Ada Lovelace", "Émile Borel", "李小龙"],
                organization="Org",
                submitted_by="someone",
                published=dt.date(2026, 1, 1),
                published_raw="Jan 1",
                published_inferred=True,
                upvotes=5,
                comments=0,
                listing_date=dt.date(2026, 1, 2),
                url=f"https://arxiv.org/abs/2601.{i:05d}",
                source_ref=f"kit.txt:{i}",
                extra={"kit": {"n": i, "nested": [1, 2.5, None, True, "ü"]}},
                arxiv_version=2,
                categories=["cs.CL", "cs.AI"],
                doi="10.1000/kit.ü1",
            )
        else:
            paper = Paper(title=f"Paper {i}", source_ref=f"kit.txt:{i}")
        papers.append(paper)
    return papers


def sample_papers(n: int = 3, *, start: int = 0) -> list[Paper]:
    """`raw_papers`, finalised as a run finalises them (key, source `kit`, harvested_at)."""
    from ..finalise import Finaliser, clean_fields

    finalise = Finaliser("kit", NOW, trusted=False)
    papers = []
    for paper in raw_papers(n, start=start):
        clean_fields(paper)
        out = finalise(paper, "kit.txt")
        if not isinstance(out, Paper):
            raise AssertionError(f"a sample paper did not finalise: {out}")
        papers.append(out)
    return papers


def unclean_fields(paper: Paper) -> list[str]:
    """Text fields of `paper` that `harvester.normalise.clean_text` would change."""
    bad = [
        name
        for name in TEXT_FIELDS
        if (value := getattr(paper, name)) is not None and clean_text(value) != value
    ]
    bad += [f"authors[{i}]" for i, a in enumerate(paper.authors) if clean_text(a) != a]
    bad += [f"categories[{i}]" for i, c in enumerate(paper.categories or []) if clean_text(c) != c]
    return bad


def peak_python_memory(run: Callable[[], object]) -> int:
    """Peak bytes of Python allocations while `run()` executes (tracemalloc).

    Memory a C parser allocates for its own tree is not seen; what this catches is the common
    failure: records or lines kept in Python lists.
    """
    gc.collect()
    was_tracing = tracemalloc.is_tracing()
    if not was_tracing:
        tracemalloc.start()
    tracemalloc.reset_peak()
    base, _ = tracemalloc.get_traced_memory()
    try:
        run()
        _, peak = tracemalloc.get_traced_memory()
    finally:
        if not was_tracing:
            tracemalloc.stop()
    return max(0, peak - base)
