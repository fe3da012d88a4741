"""The rendered paper cards of a listing page (`article` elements), in both layouts.

A card shows: the paper id (title link), title, upvotes (the box in the login link), an author
count, a comment count (a `#community` link, omitted when 0), an organisation chip, a
published date, a submitter badge, a short text, and a row of avatars. What each field becomes:

* Avatars are not authors: their `title`s are the account names of the authors who claimed
  the paper (and, in the 2026 layout, some authors' names), never the author list.
  `authors` stays [] and the names go to `extra.hf.avatar_names`.
* The card's text is the AI summary when the paper has one, not the abstract: `abstract` stays
  null and the text goes to `extra.hf.card_summary`.
* `comments` is the linked count, 0 when the card shows its date line without one (the site
  omits a zero count), null when the card shows neither (the 2024 layout has no date line).
* `submitted_by` is the badge's name, the submitter's account name (as on the JSON path).
* A yearless date never resolves after the listing day it is printed under.

2026 layout: a desktop block then a mobile block repeating it (only the desktop block is
parsed). 2024 layout: one block; upvotes in `div.leading-none`, "· N authors" in an `li`.

Speed and memory (issue 15): the page is never parsed whole. Each card's desktop block is cut
out at byte level, checked against the nesting bound, and parsed in batches of `BATCH` cards
with one selector query per batch.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from selectolax.lexbor import LexborHTMLParser, LexborNode

from harvester.errors import InputError, RejectEntry
from harvester.normalise import PublishedDate, clean_text, is_date_line, parse_count
from harvester.normalise import parse_published as parse_date_text
from harvester.schema import Paper, Rejected

from .bounds import MAX_HTML_DEPTH, check_depth
from .items import new_paper

BATCH = 64  # cards per parse: large enough to amortise the parser, small enough for memory
_ARTICLE = b"<article"
_ARTICLE_END = b"</article>"
# 2026: what a card shows ends before the upvote box's `dialog` (the GitHub and arXiv buttons
# follow it, then the mobile rendering repeats the card): the card is cut at the first of these.
_CARD_ENDS = (b"<dialog", b'<div class="flex flex-col md:hidden"')
# One query per batch; lexbor returns matches in document order, so each node belongs to the
# last `article` seen.
_NODES = 'article, h3 a, a[href^="/login?next="], a[href$="#community"], li, span, p, div.absolute'
_PAPER_HREF = re.compile(r"/papers/([^/?#]+)")
_AUTHORS = re.compile(r"·?\s*(\d[\d,]*)\s+authors?")
_YEAR = re.compile(r"\d{4}")


@dataclass(slots=True)
class Card:
    """What one card shows, as text."""

    hf_id: str | None = None
    title: str | None = None
    summary: str | None = None
    upvotes: str | None = None
    upvotes_for: str | None = None  # the paper path the upvote box logs in to
    author_count: int | None = None
    comments: str | None = None
    comments_for: str | None = None  # the paper path the comment link points at
    organization: str | None = None
    organization_id: str | None = None
    date_text: str | None = None
    submitter: str | None = None
    avatars: list[str] = field(default_factory=list)
    complete: bool = False  # its title link was seen again: the rest is a repeated rendering
    problem: str | None = None  # why it cannot become a paper


def card_blocks(content: bytes) -> Iterator[tuple[int, int, int, int]]:
    """Where each `article`'s first rendering lies: content[start:end], less the thumbnail link
    content[skip:resume] that opens it in both layouts (a fifth of the bytes, nothing shown)."""
    pos = 0
    while (start := content.find(_ARTICLE, pos)) >= 0:
        if content[start + 8 : start + 9] not in (b" ", b">", b"\n", b"\t", b"\r"):
            pos = start + 8  # another tag that begins with "article"
            continue
        close = content.find(_ARTICLE_END, start)
        end = close = len(content) if close < 0 else close
        for marker in _CARD_ENDS:
            if (cut := content.find(marker, start, end)) >= 0:
                end = cut
                break
        skip = content.find(b">", start, end) + 1
        resume = _thumbnail_end(content, skip, end)
        yield start, skip, resume, end
        pos = close + len(_ARTICLE_END)


def _thumbnail_end(content: bytes, start: int, end: int) -> int:
    """Where the card's opening thumbnail link ends, or `start` when the card does not open
    with one (then nothing is skipped)."""
    link = content.find(b'<a href="/papers/', start, end)
    close = content.find(b"</a>", link, end) if link >= 0 else -1
    if close < 0 or content.find(b"<h3", start, link) >= 0:
        return start
    for shown in (b"<h3", b"/login?next=", b"Submitted by"):
        if content.find(shown, link, close) >= 0:
            return start  # not a bare thumbnail: read it all
    return close + 4


def read_cards(content: bytes, where: str) -> Iterator[Card]:
    """The cards of a page, in order; one per `article` (a card that is no paper card has a
    `problem`).

    Raises `InputError` naming `where` when a card nests too deeply or the markup cannot be
    cut into cards (a card would be lost silently otherwise)."""
    view = memoryview(content)
    pieces: list[memoryview | bytes] = []
    for n, (start, skip, resume, end) in enumerate(card_blocks(content), 1):
        if content.count(b"<", start, end) > MAX_HTML_DEPTH:  # else it cannot nest that deep
            check_depth(content[start:end], where, f"card {n}")
        # each block closed: an element a block leaves open must not swallow the next card
        pieces += (view[start:skip], view[resume:end], _ARTICLE_END)
        if len(pieces) == 3 * BATCH:
            yield from _read_batch(pieces, where)
            pieces = []
    if pieces:
        yield from _read_batch(pieces, where)


def _read_batch(pieces: list[memoryview | bytes], where: str) -> Iterator[Card]:
    tree = LexborHTMLParser(b"".join(pieces))
    blocks = len(pieces) // 3
    cards: list[Card] = []
    card = Card()  # never read: nodes before the first article do not exist (blocks start with one)
    for node in tree.css(_NODES):  # dispatched inline: this loop runs ~11 times per card
        tag = node.tag
        if tag == "article":
            card = Card()
            cards.append(card)
        elif card.complete:
            continue
        elif tag == "span":
            _read_span(node, card)
        elif tag == "li":
            title = node.attrs.get("title")
            if title is not None:
                card.avatars.append(title)
            elif card.author_count is None and (m := _AUTHORS.fullmatch(node.text(strip=True))):
                card.author_count = int(m[1].replace(",", ""))
        elif tag == "a":
            _read_link(node, card)
        elif tag == "p":
            if card.summary is None:
                card.summary = node.text()
        elif "Submitted by" in node.text():  # div.absolute: the badge, or a placeholder
            card.submitter = _words(node).removeprefix("Submitted by").strip()
    if len(cards) != blocks:
        raise InputError(
            where, f"the markup does not split into cards ({blocks} articles, {len(cards)} read)"
        )
    for card in cards:
        if card.hf_id is None and card.problem is None:  # never drop an article silently
            card.problem = "an article without a paper title link (h3 a)"
    yield from cards


def _read_link(node: LexborNode, card: Card) -> None:
    href = node.attrs.get("href") or ""
    if href.startswith("/papers/") and "#" not in href:  # the title link (h3 a)
        if card.hf_id is not None or card.problem is not None:
            card.complete = True  # a second rendering of the same card begins
        elif m := _PAPER_HREF.fullmatch(href):
            card.hf_id, card.title = m[1], node.text()
        else:
            card.problem, card.title = f"card title link {href!r} is not a paper page", node.text()
    elif href.startswith("/login?next="):  # the upvote box (2024: before the title link)
        if card.upvotes is None:
            card.upvotes_for = href[12:].replace("%2F", "/")
            card.upvotes = _words(node).rpartition(" ")[2]
    elif card.comments is None and href.endswith("#community"):
        card.comments_for, card.comments = href[:-10], node.text(strip=True)


def _words(node: LexborNode) -> str:
    """The node's text, whitespace runs to one space (lexbor keeps the separators of empty
    text nodes)."""
    return " ".join(node.text(separator=" ").split())


def _read_span(node: LexborNode, card: Card) -> None:
    text = node.text(strip=True)
    if not text or not text[0].isalnum():
        return
    if "truncate" in (node.attrs.get("class") or ""):  # the organisation chip
        card.organization = text
        chip = node.parent
        if chip is not None and chip.tag == "a":
            card.organization_id = (chip.attrs.get("href") or "").strip("/") or None
    elif card.date_text is None and (text.startswith("Published on") or is_date_line(text)):
        card.date_text = text.removeprefix("Published on").strip()


# --- card -> Paper --------------------------------------------------------------------------


def card_to_paper(
    card: Card,
    *,
    source: str,
    source_ref: str,
    listing_date: dt.date | None,
    reference: Callable[[], dt.date],
) -> Paper:
    """The `Paper` of one card. `reference`: the day yearless dates resolve against when there is
    no listing day (the capture day of a saved page, today for a fetched one).

    Raises `RejectEntry` when a shown value cannot be read."""
    if card.problem is not None:
        raise RejectEntry(card.problem)
    for what, path in (("upvote box", card.upvotes_for), ("comment link", card.comments_for)):
        if path is not None and path != f"/papers/{card.hf_id}":
            raise RejectEntry(f"the card's {what} is for {path}, not /papers/{card.hf_id}")
    hf: dict[str, Any] = {"parsed_from": "cards"}
    if card.summary and (summary := clean_text(card.summary)):
        hf["card_summary"] = summary
    if card.avatars:  # laid out flex-row-reverse: reading order is the reverse of the DOM's
        hf["avatar_names"] = [n for n in map(clean_text, reversed(card.avatars)) if n]
    if card.organization_id:
        hf["organization_id"] = card.organization_id
    published = _published(card.date_text, listing_date, reference) if card.date_text else None
    return new_paper(
        hf_id=card.hf_id,
        title=card.title,
        source=source,
        source_ref=source_ref,
        hf=hf,
        author_count=card.author_count,
        organization=card.organization,
        submitted_by=card.submitter,
        published=published.date if published else None,
        published_raw=published.raw if published else None,
        published_inferred=published.inferred if published else False,
        upvotes=_shown_count(card.upvotes, "upvote count"),
        comments=_comments(card),
        listing_date=listing_date,
    )


def _comments(card: Card) -> int | None:
    if card.comments is not None:
        return _shown_count(card.comments, "comment count")
    return 0 if card.date_text is not None else None  # the site omits a zero count


def _shown_count(text: str | None, what: str) -> int | None:
    if text is None:
        return None
    try:
        return parse_count(text)
    except ValueError:
        raise RejectEntry(f"the card's {what} {text!r} is not a number") from None


def _published(
    text: str, listing_date: dt.date | None, reference: Callable[[], dt.date]
) -> PublishedDate:
    """A shown date; a yearless one takes the latest year that keeps it on or before the listing
    day (or, without a listing day, the reference day, with its one day of slack)."""
    try:
        if listing_date is None:  # the capture day is looked up only for a yearless date
            return parse_date_text(text, None if _YEAR.search(text) else reference())
        shown = parse_date_text(text, listing_date)
        if shown.inferred and shown.date > listing_date:  # the day after: last year's
            shown = shown._replace(date=shown.date.replace(year=shown.date.year - 1))
        return shown
    except ValueError as exc:
        raise RejectEntry(f"the card's date is not understood: {exc}") from None


def cards_to_papers(
    content: bytes,
    *,
    source: str,
    source_ref: str,
    listing_date: dt.date | None,
    reference: Callable[[], dt.date],
) -> Iterator[Paper | Rejected]:
    """Every paper card of a page as a `Paper` (a repeated card once), or a `Rejected`."""
    seen: set[str] = set()
    for card in read_cards(content, source_ref):
        if card.hf_id is not None and card.hf_id in seen:
            continue  # the same paper rendered again
        if card.hf_id is not None:
            seen.add(card.hf_id)
        try:
            yield card_to_paper(
                card,
                source=source,
                source_ref=source_ref,
                listing_date=listing_date,
                reference=reference,
            )
        except RejectEntry as exc:
            raw = f"card of {card.hf_id}: {card.title!r}"
            yield Rejected(reason=exc.reason, source_ref=source_ref, raw=raw)
