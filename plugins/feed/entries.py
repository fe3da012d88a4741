"""Feed entries: what one paper becomes in a feed, the filters, and how runs combine.

A feed is a window of recent items. Each run's papers (those passing the filters) are merged
into the entries already in the feed by their stable id (``urn:harvester:paper:<paper key>``:
a feed reader never shows a paper twice). A new entry's ``updated`` is its ``published`` (the
listing day); an entry whose content changed gets the ``harvested_at`` of the sighting that
changed it; an unchanged one keeps its time, so readers do not flag it. Nothing depends on when
the run ran: two runs over the same data give the same entries. Entries are ordered newest
first (listing day, then last update), ties by id: one total order; the newest
``max_entries`` are kept.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import html
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from harvester.schema import Paper

ID_PREFIX = "urn:harvester:paper:"


@dataclass(frozen=True)
class FeedEntry:
    id: str
    title: str
    published: dt.datetime
    updated: dt.datetime
    content_html: str
    url: str | None = None
    summary: str | None = None
    authors: tuple[str, ...] = ()
    categories: tuple[str, ...] = field(default=())

    def same_content(self, other: FeedEntry) -> bool:
        return dataclasses.replace(self, updated=other.updated) == other


def _midnight(day: dt.date) -> dt.datetime:
    return dt.datetime(day.year, day.month, day.day, tzinfo=dt.UTC)


def _utc(moment: dt.datetime) -> dt.datetime:
    return moment.replace(tzinfo=dt.UTC) if moment.tzinfo is None else moment.astimezone(dt.UTC)


def entry_from_paper(paper: Paper, now: dt.datetime) -> FeedEntry:
    """`now` stands in for the dates of a paper that has none (never the case after a run)."""
    day = paper.listing_date or paper.published
    updated = _utc(paper.harvested_at) if paper.harvested_at else None
    published = _midnight(day) if day else (updated or now)
    url = paper.url or (f"https://arxiv.org/abs/{paper.arxiv_id}" if paper.arxiv_id else None)
    categories = tuple(c for c in (paper.organization,) if c)
    return FeedEntry(
        id=ID_PREFIX + paper.key,
        title=paper.title,
        published=published,
        updated=max(updated or published, published),
        content_html=content_html(paper),
        url=url,
        summary=paper.abstract,
        authors=tuple(paper.authors),
        categories=categories,
    )


def content_html(paper: Paper) -> str:
    """The entry's body: abstract, authors (or what is known of them), counts and links."""
    esc = html.escape
    parts = []
    if paper.abstract:
        parts.append(f"<p>{esc(paper.abstract)}</p>")
    if paper.authors:
        parts.append(f"<p>Authors: {esc(', '.join(paper.authors))}</p>")
    elif paper.author_count:
        parts.append(f"<p>{paper.author_count} authors (names not listed by the source)</p>")
    facts = []
    if paper.organization:
        facts.append(f"Organisation: {esc(paper.organization)}")
    if paper.upvotes is not None:
        facts.append(f"{paper.upvotes} upvotes")
    if paper.listing_date:
        facts.append(f"listed {paper.listing_date.isoformat()}")
    if facts:
        parts.append(f"<p>{' · '.join(facts)}</p>")
    links = []
    if paper.arxiv_id:
        arxiv = esc(paper.arxiv_id)
        links.append(f'<a href="https://arxiv.org/abs/{arxiv}">arXiv:{arxiv}</a>')
    if paper.url:
        links.append(f'<a href="{esc(paper.url)}">{esc(paper.url)}</a>')
    if links:
        parts.append(f"<p>{' · '.join(links)}</p>")
    return "".join(parts) or f"<p>{esc(paper.title)}</p>"


@dataclass(frozen=True)
class Filters:
    """A paper enters the feed when it passes every filter that is set."""

    min_upvotes: int | None = None
    organizations: Sequence[str] = ()
    words: Sequence[str] = ()

    def passes(self, paper: Paper) -> bool:
        if self.min_upvotes is not None and (paper.upvotes or 0) < self.min_upvotes:
            return False
        if self.organizations:
            wanted = {o.casefold() for o in self.organizations}
            if (paper.organization or "").casefold() not in wanted:
                return False
        if self.words:
            text = f"{paper.title} {paper.abstract or ''}"
            pattern = "|".join(re.escape(w) for w in self.words)
            if not re.search(rf"\b(?:{pattern})\b", text, re.IGNORECASE):
                return False
        return True


def merge(old: Iterable[FeedEntry], new: Iterable[FeedEntry], max_entries: int) -> list[FeedEntry]:
    """Old and new entries by id (a new one replaces an old one unless only its time
    differs), newest first, ties by id, at most `max_entries`."""
    by_id = {entry.id: entry for entry in old}
    for entry in new:
        before = by_id.get(entry.id)
        if before is None:  # new: updated when published, whenever the run happened
            by_id[entry.id] = dataclasses.replace(entry, updated=entry.published)
        elif not before.same_content(entry):  # changed: when the change was seen
            by_id[entry.id] = entry
    ordered = sorted(by_id.values(), key=lambda e: e.id)
    ordered.sort(key=lambda e: (e.published, e.updated), reverse=True)  # stable: ids stay
    return ordered[:max_entries]
