"""Papers for tests: `make_paper(i, **fields)` (complete, distinct) and `tricky_papers()`
(Unicode, nulls, empty lists, nested extras: what a round trip must preserve)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from harvester.normalise import title_key
from harvester.schema import Paper


def make_paper(i: int, **fields: Any) -> Paper:
    """A complete, distinct paper; `fields` override any value."""
    title = fields.pop("title", f"Paper number {i}: attention is all you need")
    arxiv_id = fields.pop("arxiv_id", f"2401.{i:05d}")
    values: dict[str, Any] = {
        "key": f"arxiv:{arxiv_id}" if arxiv_id else title_key(title),
        "arxiv_id": arxiv_id,
        "title": title,
        "abstract": f"Abstract of paper {i}.",
        "authors": [f"Author {i}", "Second Author"],
        "author_count": 2,
        "organization": "Example Lab",
        "submitted_by": "someone",
        "published": dt.date(2024, 1, 1 + i % 28),
        "published_raw": "Jan 1",
        "published_inferred": i % 2 == 0,
        "upvotes": i,
        "comments": i % 7,
        "listing_date": dt.date(2024, 2, 1),
        "url": f"https://example.org/papers/{i}",
        "source": "test",
        "source_ref": f"fixture.txt:{i + 1}",
        "harvested_at": dt.datetime(2024, 2, 1, 12, 30, i % 60, tzinfo=dt.UTC),
        "extra": {"test": {"rank": i}},
    }
    values.update(fields)
    return Paper(**values)


def tricky_papers() -> list[Paper]:
    """Unicode, nulls, empty lists and nested extras: what a round trip must preserve."""
    return [
        make_paper(
            1,
            title="Über 𝔘nicode — 日本語の論文 “quoted” \\ back\\slash",
            abstract='Line one\nline two\ttab "quote" \u2028 separator, emoji 🧪',
            authors=["Zoë Ünlü", "李小龙", "O'Brien"],
            extra={"test": {"nested": [1, 2.5, None, True, "ü"], "null": None}},
        ),
        make_paper(
            2,
            arxiv_id=None,
            abstract=None,
            authors=[],
            author_count=None,
            organization=None,
            submitted_by=None,
            published=None,
            published_raw=None,
            upvotes=None,
            comments=None,
            listing_date=None,
            url=None,
            harvested_at=None,
            extra={},
        ),
        make_paper(3, upvotes=0, comments=0, author_count=0, published_inferred=True),
    ]
