"""A card's structural lines (its anchors) and the state the card reader keeps about a card.

`CardState` holds the card being read and handles its anchors: the upvote widget and login
link that start a card, paper links, the author count or organisation, ``·``, navigation
links between cards, and markdown links, which may run over several lines (``[`` … ``](url)``).
`cards.Assembler` adds the text: lines, paragraphs and their roles.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from harvester.schema import Paper, Rejected

from .chrome import NOTICE_MAX, button, chrome_lines, chrome_shaped, has_structure, lone_line
from .entries import RAW_PARTS, Card, Item
from .lines import (
    AUTHORS,
    COMMUNITY,
    COUNT,
    DOT,
    KIND_NAMES,
    LINK,
    LOGIN,
    MD_ORG,
    MD_TEXT,
    MD_TITLE,
    MD_UPVOTE,
    OPEN,
    PAPER,
    SITE,
    SPECIAL_FIRST,
    SUBMITTED,
    TEXT,
    THUMB,
    UPVOTE,
    classify,
    markdown_link,
)

CONTENT, META, DATE, AFTER, COLLECT, NAME = range(6)  # where in a card the reader is
EOF = -1  # "what comes next" at the end of the file
COLLECT_MAX = 200  # lines of one multi-line markdown link
_STARTS = (UPVOTE, LOGIN, MD_UPVOTE, SUBMITTED)
_BREAKS_LINK = frozenset((UPVOTE, LOGIN, MD_UPVOTE, MD_TITLE, DOT))


class CardState:
    """The card being read, its anchors, and where finished cards go (`out`)."""

    def __init__(
        self, build: Callable[[Card], Paper | Rejected], new_listing: Callable[[str], bool]
    ):
        self.build = build
        self.new_listing = new_listing  # a date heading between cards: True if it is one
        self.out: list[Paper | Rejected] = []
        self.card: Card | None = None
        self.phase = CONTENT
        self.item: Item | None = None  # the paragraph being read
        self.pending: Item | None = None  # the paragraph before it, its role not yet decided
        self.blank = False  # a blank line since the last line of text
        self.plain = False  # the lines being fed are plain (see reading.Chunk)
        self.collected: list[str] = []  # the lines of an open '[' link (phase COLLECT)
        self.collect_from = (0, CONTENT)  # its first line, and the phase to return to
        self.skipped = 0  # lines of page text between cards (header lines, navigation)
        self.wrap_width = 0  # the widest wrapped paragraph seen: the file's wrap width
        self.column = 0  # the longest wrapped line holding a space: the column wrapped at
        self.after_header = False  # header lines were just skipped: a date line may follow
        self.chrome: list[Card] = []  # chrome-shaped entries held (see `chrome`)
        self.entries = 0  # entries of this listing sent to `out`
        self.cut_at = 0  # the line of an entry the copy ends inside (0: none)
        self.leading_chrome = False  # no date line: what comes before the first card may be
        self.structured = False  # its cards show their structure (widgets, links, markdown)

    # -- provided by the text reader (cards.Assembler) -------------------------------------------

    def _close_item(self) -> None:
        raise NotImplementedError

    def _flush(self, following: int) -> None:
        raise NotImplementedError

    def _resolve(self, p: Item, following: Item | int) -> None:
        raise NotImplementedError

    # -- cards -----------------------------------------------------------------------------------

    def _close(self) -> None:
        card = self.card
        self.card = None
        self.phase = CONTENT
        self.after_header = False  # a listing's heading is header lines, then its date line
        if card is None:
            return
        abstract = card.abstract
        if not (abstract and len(abstract[0]) > NOTICE_MAX) and chrome_shaped(  # common: skip
            card, bool(self.chrome) and self.in_chrome_run()
        ):
            self.chrome.append(card)  # page chrome at the listing's edges, else a reject
            return
        if self.structured and not has_structure(card) and not card.errors:
            card.orphan = True  # text among cards that all show their structure: a banner
            self.chrome.append(card)
            return
        if card.login or card.upvotes is not None or card.markdown:
            self.structured = True
        self.settle_chrome(edge=False)
        self.entries += 1
        self.out.append(self.build(card))

    def in_chrome_run(self) -> bool:
        """Whether the entries held make a run of page chrome (a menu line among them)."""
        return any(lone_line(card) or card.orphan for card in self.chrome)

    def settle_chrome(self, *, edge: bool) -> None:
        """The chrome-shaped entries held: before the first entry or at the end (`edge`) they
        are page chrome, skipped; between two entries, rejects (see `chrome`)."""
        held = self.chrome
        if not held:
            return
        self.chrome = []
        leading = not self.entries
        at_edge = edge or (leading and (self.leading_chrome or all(map(button, held))))
        # one title and one short sentence alone is a (short) card; in a run, a footer's
        if at_edge and (len(held) > 1 or lone_line(held[0]) or held[0].orphan):
            self.skipped += chrome_lines(held)
            return
        for card in held:
            self.entries += 1
            self.out.append(self.build(card))

    # -- anchors ---------------------------------------------------------------------------------

    def _anchor(self, n: int, s: str, kind: int, payload: Any) -> None:
        if kind == OPEN:
            self._open_link(n, payload)
            return
        if self.item is not None:  # _flush(kind), inline: this runs for most anchors
            self._close_item()
        if self.pending is not None:
            pending, self.pending = self.pending, None
            self._resolve(pending, kind)
        card = self.card
        if kind in _STARTS:
            card = self._card_start(kind, n)
        elif kind == COUNT and card is not None and (card.title is not None or card.abstract):
            self._close()  # a 2024 card without its badge: its upvote count starts it
            card = None
        elif kind in (SITE, LINK) and self._navigation(card, kind):
            self.skipped += 1
            return
        if card is None:
            card = self.card = Card(n)
        if len(card.raw) < RAW_PARTS:
            card.raw.append(s)
        if kind == UPVOTE:
            card.upvotes = payload
        elif kind == LOGIN:
            card.login = True
            if card.paper is None:
                card.paper = payload
            else:
                card.set_paper(payload)
        elif kind == MD_UPVOTE:
            card.upvotes, paper = payload
            card.login = card.markdown = True
            card.plain = False
            card.set_paper(paper)
        elif kind == THUMB:  # a markdown card's thumbnail: it names the paper, nothing more
            card.set_paper(payload)
        elif kind == SUBMITTED:  # 'Submitted by NAME', or the name on the next line
            card.submitted_by = payload
            if not payload:
                self.phase = NAME
        else:
            self._card_anchor(card, n, kind, payload, s)

    def _card_start(self, kind: int, n: int) -> Card:
        """The upvote widget, its login link, a 'Submitted by' badge: a new card, unless this
        one has only markers that come before them."""
        card = self.card
        if (
            card is None
            or self.phase != CONTENT
            or card.title is not None
            or card.abstract
            or (kind != LOGIN and card.upvotes is not None)
            or (kind != UPVOTE and card.login)
            or (kind == SUBMITTED and (card.submitted_by is not None or card.login))
        ):
            if card is not None:
                if self.phase != CONTENT:
                    card.errors.append("truncated entry: the meta block ends before its date")
                self._close()
            card = self.card = Card(n)
        return card

    def _navigation(self, card: Card | None, kind: int) -> bool:
        """Whether a link line is page text around the cards (navigation), not a card's."""
        if card is None:
            return True
        if self.phase != CONTENT or card.links or card.markdown or card.title is None:
            return False
        if not card.abstract and not (card.login or card.upvotes is not None):
            self.skipped += len(card.raw)  # a name line and its link
            self.card = None
            return True
        if card.abstract and kind == LINK:  # after a card that shows no meta block
            self._close()
            return True
        return False

    def _card_anchor(self, card: Card, n: int, kind: int, payload: Any, s: str) -> None:
        phase = self.phase
        if kind in (PAPER, MD_TEXT, MD_TITLE):
            paper = payload if kind == PAPER else payload[1]
            if phase != CONTENT:
                card.errors.append(f"a {KIND_NAMES[kind]} inside the meta block")
            elif kind == MD_TITLE:
                self._md_title(card, n, payload[0])
                started = self.card  # the title began a card of its own
                assert started is not None
                card = started
            elif kind == MD_TEXT:
                if card.title is None or card.abstract:
                    card.errors.append("an abstract link out of place")
                card.abstract.append(payload[0])
                card.plain = False
            card.links += 1
            card.set_paper(paper)
        elif kind in (AUTHORS, MD_ORG):
            self._authors(card, kind, payload, "·" in s)
        elif kind == DOT:
            if card.authors is None and card.org is None:
                if phase == CONTENT and card.title is not None and not card.abstract:
                    card.dot_first = True  # a 2024 card: '·', then its author count
                    self.phase = META
                    return
                card.errors.append("'·' without an author count or organisation line before it")
            self.phase = DATE
        elif kind == COUNT and phase == CONTENT and card.upvotes is None and card.title is None:
            card.upvotes = payload  # a 2024 card's upvote count, before its title
        elif kind == SITE and phase == META and card.org is not None and card.org_slug is None:
            card.org_slug = payload
        else:
            card.errors.append(f"a {KIND_NAMES[kind]} out of place: {payload!s:.60}")

    def _authors(self, card: Card, kind: int, payload: Any, dotted: bool) -> None:
        """An author count (or an organisation): before '·', or after it on a 2024 card."""
        phase = self.phase
        after_dot = card.dot_first and phase == META
        if (phase != CONTENT and not after_dot) or card.authors is not None or card.org:
            card.errors.append(f"a second author count or organisation ({KIND_NAMES[kind]})")
        if kind == AUTHORS:
            card.authors, paper = payload
            if paper is not None:
                card.set_paper(paper)
        else:
            card.org, card.org_slug = payload
        self.phase = META
        if card.markdown and dotted and card.title is not None and not card.abstract:
            card.dot_first = True  # a 2024 markdown card: '[… · 9 authors](…)', no date
        if card.dot_first:
            self.phase = AFTER  # its comment count may follow; it shows no date

    def _md_title(self, card: Card, n: int, title: str) -> None:
        """A markdown title line: the title of this card, or of a new one."""
        if card.title is not None or card.abstract or card.links:
            self._close()
            card = self.card = Card(n)
        card.title = title
        card.title_line = n
        card.markdown = True
        card.plain = False

    # -- multi-line links: '[' … '](url)' --------------------------------------------------------

    def _open_link(self, n: int, text: str) -> None:
        self.collected = [text] if text else []
        self.collect_from = (n, self.phase)
        self.phase = COLLECT

    def _link_line(self, n: int, s: str) -> bool:
        if s[0] in SPECIAL_FIRST and classify(s)[0] in _BREAKS_LINK:
            self._abort_link(f"a '[' link not closed before line {n}")
            return False  # the card's next anchor: read it as usual
        self.collected.append(s)
        if s.endswith(")") and "](" in s:
            start, self.phase = self.collect_from
            whole = "\n".join(self.collected)
            at = whole.rfind("](")
            kind, payload = markdown_link(whole[:at], whole[at + 2 : -1])
            if kind in (TEXT, LINK, COMMUNITY):
                self._abort_link(f"a '[' link that is not part of a card: {whole[:60]!r}")
            else:
                self._anchor(start, "[" + whole, kind, payload)
        elif len(self.collected) > COLLECT_MAX:
            self._abort_link(f"a '[' link not closed after {COLLECT_MAX} lines")
        return True

    def _abort_link(self, problem: str) -> None:
        start, self.phase = self.collect_from
        self._flush(OPEN)
        card = self.card
        if card is None:
            card = self.card = Card(start)
        card.errors.append(problem)
        for line in self.collected:
            card.keep(line)
        self.collected = []
