"""A finished card -> a `Paper` (every field through `harvester.normalise`) or a `Rejected`.

Field meanings (issue 10 §8-9):

* ``upvotes``: the widget's count (``-`` is 0); null when the card shows no widget.
* ``comments``: the count after the date (on the date line or its own line); 0 when the card
  shows its date and no count; null when it shows no meta block at all, or a ``#community``
  link without its count.
* ``published``: a yearless date resolves to the latest such day that is not after the listing
  day it is printed under (so never after it); the listing day itself comes from the page (see
  `parsing`).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from harvester.normalise import (
    PublishedDate,
    clean_text,
    parse_count,
    parse_organization,
    parse_published,
)
from harvester.schema import Paper, Rejected

from .days import ONE_DAY, CaptureDays
from .entries import Card

NAME = "textdump"
# What each layout a copy comes in shows (`extra.textdump.layout` of each record).
LAYOUTS = {
    "listing-text": "a listing's text (daily, search pages): title, abstract, author count or "
    "organisation, '·', date and comment count",
    "listing-links": "the same with its links on lines of their own (upvote widget, login "
    "link, paper links, '#community' link): also upvotes and the arXiv id",
    "listing-markdown": "the same as markdown: '[upvotes](login)', '### [title](paper)', "
    "'[abstract](paper)', '[- N authors](paper)' or an organisation link",
    "daily-2024-text": "the 2024 daily page as text: 'Submitted by NAME', upvotes, title, "
    "'·', 'N authors', comment count; no abstract and no date",
    "daily-2024-markdown": "the same as markdown",
    "cards-2026-text": "the 2026 cards (trending, daily, weekly, monthly pages): title, AI "
    "summary (`card_text`: not the abstract), author count or organisation, '·', 'Published "
    "on DATE', comment count, 'Upvote N', 'GitHub N' (`github_stars`)",
}
NO_ABSTRACT = frozenset(("daily-2024-text", "daily-2024-markdown", "cards-2026-text"))
SUMMARY_LAYOUTS = frozenset(("cards-2026-text",))
PAPER_URL = "https://huggingface.co/papers/"
_CACHE_MAX = 8192


def _plain(text: str | None) -> bool:
    """Whether text from plain chunks is clean already (`clean_text` would not change it):
    its lines are stripped and joined by single spaces, so ASCII text is clean unless a run of
    spaces is left inside a line."""
    return text is None or (text != "" and text.isascii() and "  " not in text)


class RecordBuilder:
    """Builds the records of one capture; knows its listing day (which a date heading can
    change) and the layouts of the cards it built."""

    def __init__(self, label: str, days: CaptureDays):
        self.label = label
        self.prefix = label + ":"  # of each record's source_ref
        self.days = days
        self.listing = days.listing
        self.period = days.found.period
        self._bound: dt.date | None = None  # what yearless card dates resolve against
        self._dates: dict[str, PublishedDate | str] = {}  # date lines repeat a lot
        self.layouts: dict[str, None] = {}
        self._extras: dict[str, dict[str, Any]] = {}

    def new_listing(self, text: str) -> bool:
        """A date heading between cards (dumps of several days pasted together)."""
        try:
            day = parse_published(text, self.days.reference()).date
        except ValueError:
            return False
        self.listing, self._bound = day, None
        self._dates.clear()
        return True

    def _day_bound(self) -> dt.date:
        """What a yearless card date resolves against (`parse_published` allows one day
        after it): the day before the listing day, or without one the day before the capture
        day, so that a card's date is never after the day it was shown on."""
        if self._bound is None:
            self._bound = (self.listing or self.days.reference()) - ONE_DAY
        return self._bound

    def published(self, text: str) -> PublishedDate | str:
        """The date line parsed (never after the listing day), or why it cannot be.

        Cached by the date without its comment count ('Sep 25, 2023 2' -> 'Sep 25, 2023'):
        a listing repeats few dates, with many counts. A 4-digit 19xx/20xx last number may
        be a year written without its comma ('Sep 2 2024'): that text is parsed whole."""
        head, _, count = text.rpartition(" ")
        if not (head and count.isdigit() and count.isascii()) or (
            len(count) == 4 and count[:2] in ("19", "20")
        ):
            return self._parse_date(text)
        base = self._parse_date(head)
        if isinstance(base, str) or base.comments is not None:
            return self._parse_date(text)  # the whole text says what is wrong with it
        return PublishedDate(base.date, int(count), base.raw, base.inferred)

    def _parse_date(self, text: str) -> PublishedDate | str:
        found = self._dates.get(text)
        if found is None:
            try:
                found = parse_published(text, self._day_bound())
            except ValueError as exc:
                found = str(exc)
            if len(self._dates) >= _CACHE_MAX:
                self._dates.clear()
            self._dates[text] = found
        return found

    def __call__(self, card: Card) -> Paper | Rejected:
        title, parts = card.title, card.abstract
        abstract = (parts[0] if len(parts) == 1 else " ".join(parts)) if parts else None
        if not (card.plain and _plain(title) and _plain(abstract)):
            title, abstract = clean_text(title), clean_text(abstract)
        layout = layout_of(card)
        errors = card.errors
        missing = title is None or (abstract is None and layout not in NO_ABSTRACT)
        if missing and not (errors and title is abstract is None):
            errors.insert(0, _missing(title, abstract))  # unless its errors say what it is
        date: PublishedDate | None = None
        comments = upvotes = organization = None
        if card.dot_first:  # 2024 cards: no date; a comment count when one is shown
            comments = _count(card.counts[0], "comments", errors) if card.counts else None
            if len(card.counts) > 1:
                errors.append(f"two comment counts: {' and '.join(card.counts)}")
        if card.date_text is not None:
            parsed = self.published(card.date_text)
            if isinstance(parsed, str):
                errors.append(parsed)
            else:
                date = parsed
                comments = self._comments(card, date, errors)
        if card.upvotes is not None:
            upvotes = _count(card.upvotes, "upvotes", errors)
        if card.org is not None and layout in SUMMARY_LAYOUTS:
            organization = clean_text(card.org)  # the chip's name alone: no avatar text
        elif card.org is not None:
            try:
                organization = parse_organization(card.org, card.org_slug)
            except ValueError as exc:
                errors.append(str(exc))
        ref = self.prefix + str(card.title_line or card.first)
        if errors or title is None:
            reason = "; ".join(errors)
            return Rejected(reason=reason, source=NAME, source_ref=ref, raw=card.raw_text())
        paper = card.paper
        extra = self._extra(card, layout)
        if layout in SUMMARY_LAYOUTS and abstract is not None:
            extra["card_text"], abstract = abstract, None  # the AI summary, or the abstract's start
        return Paper(
            arxiv_id=paper,
            title=title,
            abstract=abstract,
            author_count=card.authors,
            organization=organization,
            published=date.date if date else None,
            published_raw=date.raw if date else None,
            published_inferred=date.inferred if date else False,
            upvotes=upvotes,
            comments=comments,
            listing_date=self.listing,
            url=PAPER_URL + paper if paper else None,
            source=NAME,
            source_ref=ref,
            submitted_by=card.submitted_by or None,
            extra={NAME: extra},
        )

    def _extra(self, card: Card, layout: str) -> dict[str, Any]:
        """`extra.textdump`: the layout read, and what it shows besides the record's fields."""
        self.layouts[layout] = None
        extra: dict[str, Any] = {"layout": layout}
        if self.period is not None:
            extra["period"] = self.period
        if card.extra:
            extra.update(card.extra)
        return extra

    def _comments(self, card: Card, date: PublishedDate, errors: list[str]) -> int | None:
        counts = card.counts
        if not counts:
            # a '#community' link whose count is missing: the count cannot be known
            return None if card.community else (date.comments or 0)
        if len(counts) > 1 or date.comments is not None:
            shown = [str(date.comments)] if date.comments is not None else []
            errors.append(f"two comment counts: {' and '.join([*shown, *counts])}")
            return None
        return _count(counts[0], "comments", errors)


def layout_of(card: Card) -> str:
    """The layout a card's structure shows (see `LAYOUTS`)."""
    if card.layout is not None:
        return card.layout
    if card.dot_first:
        return "daily-2024-markdown" if card.markdown else "daily-2024-text"
    if card.markdown:
        return "listing-markdown"
    if card.login or card.upvotes is not None or card.links:
        return "listing-links"
    return "listing-text"


def _missing(title: str | None, abstract: str | None) -> str:
    if title is not None:
        return "no abstract after the title"
    if abstract is not None:
        return "text with no title before it (a paragraph shaped like an abstract)"
    return "card lines with no title"


def _count(text: str, field: str, errors: list[str]) -> int | None:
    try:
        return parse_count(text)
    except ValueError as exc:
        errors.append(f"{field}: {exc}")
        return None
