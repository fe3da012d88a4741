"""Numbered lines of a listing -> cards, resynchronised on a card's structure.

A card's structural lines anchor it (`anchors`, `meta`): the upvote widget, its login link or
a 'Submitted by' badge start a card; its paper links separate the title from the abstract;
the meta block (an author count or an organisation line, ``·``, the date, a comment count and
its ``#community`` link) ends it. The text between anchors is cut here into paragraphs (blank
lines, and wrapping that does not fit: see `shapes.fits_wrap`), and `roles` gives each its
role. So a missing or extra blank line changes at most the entry it is in, and a paragraph
that fits no role makes its card a reject naming its line, never a shifted record.
"""

from __future__ import annotations

from .anchors import AFTER, COLLECT, CONTENT, DATE, EOF, META
from .chrome import chrome_shaped
from .entries import ITEM_MAX, Item
from .lines import (
    HEADER_LINES,
    LINK,
    SITE,
    SPECIAL_FIRST,
    TEXT,
    classify,
)
from .meta import looks_like_date
from .reading import LongLine
from .roles import Roles
from .shapes import (
    ORG_MAX,
    SENTENCE_END,
    TITLE_MAX,
    ends_sentence,
    fits_wrap,
    title_cased,
    title_shaped,
)

_PROSE_LINKS = frozenset((LINK, SITE))  # URL lines that may be part of a paragraph's text


class Assembler(Roles):
    """Feeds on chunks of lines; finished cards go through `build` into `out`."""

    # -- lines -----------------------------------------------------------------------------------

    def feed(
        self, first: int, lines: list[str], plain: bool = False, bad: dict[int, str] | None = None
    ) -> int:
        """Read lines numbered from `first`; returns the index in `lines` of the line where a
        pasted capture starts (its front matter or its page header after this listing's
        cards: the caller reads the rest as a new capture), or -1. `bad`: lines holding bytes
        that are not text, and why: the entry holding one is rejected."""
        if not bad:
            return self._feed(first, lines, plain)
        for i, line in enumerate(lines):
            if self._feed(first + i, [line], plain) >= 0:
                return i
            if first + i in bad:
                self._mark_bad(bad[first + i])
        return -1

    def _mark_bad(self, problem: str) -> None:
        """The line just read holds bytes that are not text: its entry is rejected."""
        if self.item is not None:
            self.item.bad = problem
        elif self.card is not None:
            self.card.errors.append(problem)

    def _feed(self, first: int, lines: list[str], plain: bool) -> int:
        self.plain = plain
        blank = self.blank
        n = first - 1
        for line in lines:
            n += 1
            s = line.strip()
            if not s:
                blank = True
                continue
            if len(s) < 64 and (s == "---" or s in HEADER_LINES) and self._capture_starts(blank):
                self.blank = blank
                return n - first
            phase = self.phase
            if phase != CONTENT:
                # fast lanes for the meta block's most common lines ('·', a plain date)
                if phase == META and s == "·" and self.item is self.pending is None:
                    self.card.raw.append(s)  # type: ignore[union-attr]
                    self.phase = DATE  # an author count or organisation came before it
                    blank = False
                    continue
                if phase == DATE and s[-1] != ")" and looks_like_date(s):
                    self.card.date_text = s  # type: ignore[union-attr]
                    self.card.raw.append(s)  # type: ignore[union-attr]
                    self.phase = AFTER
                    blank = False
                    continue
                if phase != META and self._special(n, s):
                    blank = False
                    continue
            if (c := s[0]) in SPECIAL_FIRST and (found := classify(s))[0] != TEXT:
                if (
                    c == "h"
                    and found[0] in _PROSE_LINKS
                    and self._link_in_text(s, line, found[0], blank)
                ):
                    blank = False
                    continue
                self._anchor(n, s, *found)
            elif (self.item is None or (blank and not _may_go_on(self.item, s))) and c != "[":
                self._close_item()  # the common case: a paragraph after a blank line
                self.item = Item(n, s, plain, raw=line)
            else:
                self.blank = blank
                self._text(n, s, line)
            blank = False
        self.blank = blank
        return -1

    def _capture_starts(self, blank: bool) -> bool:
        """Whether a '---' or a page header line starts a pasted capture: after this
        listing's first entry, at a card's end or between paragraphs."""
        if not (self.entries or self.card is not None) or not (blank or self.item is None):
            return False
        return self.phase in (CONTENT, AFTER)

    def long_line(self, line: LongLine) -> None:
        """An over-long line: a paragraph that can only make its card a reject."""
        if self.phase == COLLECT:
            self._abort_link("an over-long line inside a '[' link")
        elif self.phase == DATE:
            self._end_meta("expected the published date after '·', found an over-long line")
        elif self.phase == AFTER:
            self._close()  # the card ended with its date
        self._close_item()
        item = Item(line.number, f"{line.head} … [cut: a line of {line.size:,} bytes]", False)
        item.error = f"line {line.number} is {line.size:,} bytes long, over the line limit"
        self.item = item
        self.blank = False

    def finish(self) -> None:
        if self.phase == COLLECT:
            self._abort_link("a '[' link not closed at the end of the file")
        self._flush(EOF)
        card = self.card
        if card is not None:
            if self.phase in (META, DATE):
                card.errors.append("truncated entry: the meta block ends before its date")
                self.cut_at = card.first
            elif (
                self.phase == CONTENT
                and card.title is not None
                and not card.abstract
                and not (self.in_chrome_run() and chrome_shaped(card, True))  # a footer's
            ):
                card.errors.append("truncated entry: the file ends after its title")
                self.cut_at = card.title_line or card.first
            self._close()
        self.settle_chrome(edge=True)

    def _text(self, n: int, s: str, raw: str) -> None:
        """A line of text: more of the paragraph before it, or the next one."""
        card, item = self.card, self.item
        if s[0] == "[" and card is not None and card.markdown and not card.abstract:
            self._open_link(n, s[1:])  # a markdown abstract link over several lines
            return
        if (
            item is not None
            and (not self.blank or _broken_sentence(item, s))
            and (item.size >= ITEM_MAX or fits_wrap(item.lines[-1], item.width, s))
        ):
            if self.blank or not _maybe_new_paragraph(item, s):
                item.add(s, raw)
                if not self.plain:
                    item.plain = False
                return
            # the line may start the next paragraph: the paragraph after it decides
            self._close_item()
            self.item = Item(n, s, self.plain, soft=True, raw=raw)
            return
        self._close_item()
        self.item = Item(n, s, self.plain, raw=raw)

    def _link_in_text(self, s: str, raw: str, kind: int, blank: bool) -> bool:
        """A URL line inside a paragraph ('Code is available at' / 'https://github.com/…'),
        wrapped onto a line of its own: more of the paragraph, not a link of the page. True
        when it was added to the paragraph."""
        item = self.item
        if self.phase != CONTENT or item is None or item.error is not None:
            return False
        if (blank or kind == SITE) and item.size <= ORG_MAX:
            return False  # a name line, then its link (a menu, an organisation)
        if blank and item.lines[-1][-1] in SENTENCE_END:
            return False  # the paragraph ended: a link of the page after it
        item.add(s, raw)
        if not self.plain:
            item.plain = False
        return True

    # -- paragraphs ------------------------------------------------------------------------------

    def _close_item(self) -> None:
        item = self.item
        if item is None:
            return
        self.item = None
        if item.size > TITLE_MAX and len(item.lines) == 1:  # a one-line abstract, the most common
            item.text = item.lines[0]
            item.title_like = item.org_like = False
        else:
            item.finish(self.column)
            if len(item.lines) > 1 and item.error is None:
                if item.width > self.wrap_width:
                    self.wrap_width = item.width  # the file's text is wrapped: at least this wide
                if item.wrap_width > self.column:
                    self.column = item.wrap_width
        pending, self.pending = self.pending, item
        if pending is not None:
            self._resolve(pending, item)

    def _flush(self, following: int) -> None:
        """Decide the role of the paragraphs read so far: `following` (an anchor) comes next."""
        self._close_item()
        pending = self.pending
        if pending is not None:
            self.pending = None
            self._resolve(pending, following)


def _may_go_on(item: Item, s: str) -> bool:
    """Cheap check (after a blank line) that `s` may go on with paragraph `item`."""
    return s[0].islower() or s[0] in "(\"'“‘" or item.lines[-1][-1] == "-"


def _broken_sentence(item: Item, s: str) -> bool:
    """A blank line inside a wrapped sentence: the paragraph stops mid-sentence and the line
    after the blank goes on in lower case ('and', 'state/action', 'post-training'; fits_wrap
    checks the widths)."""
    last = item.lines[-1][-1]
    return last == "-" or (last not in SENTENCE_END and (s[0].islower() or s[0] in "(\"'“‘"))


def _maybe_new_paragraph(item: Item, s: str) -> bool:
    """A line that wraps on from the one before but may start a new paragraph (a deleted blank
    line): after a finished sentence, a title-shaped line (the next title, an organisation
    line); after a one-line Title Cased title, a line reading like an abstract."""
    previous = item.lines[-1]
    if ends_sentence(previous):
        return title_shaped(s)
    return (
        len(item.lines) == 1
        and s[0].isupper()
        and not title_shaped(s)
        and title_shaped(previous)
        and title_cased(previous)
    )
