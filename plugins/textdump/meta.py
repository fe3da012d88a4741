"""A card's meta block: what follows its text, in each layout.

* listing pages (2025-2026): an author count or an organisation line, ``·``, the date (with
  its comment count, or the count on its own line and its ``#community`` link);
* the 2026 cards (trending, daily): the same, the date as ``Published on Sep 4, 2026``, then
  ``Upvote`` and its count, ``GitHub`` and its stars, ``arXiv Page``;
* the 2024 daily cards: ``·`` before the author count (``· 9 authors``), no date, then the
  comment count (omitted when 0). The next card's upvote count follows with no word before it:
  a count right before a title is that title's upvotes, not this card's comments.

`MetaBlock` reads the lines of the meta block after ``·`` (the phases DATE and AFTER); the
structural lines before it are `anchors.CardState`'s.
"""

from __future__ import annotations

import re

from harvester.normalise import is_date_line

from .anchors import AFTER, COLLECT, CONTENT, DATE, NAME, CardState
from .entries import RAW_PARTS, Card
from .lines import COMMUNITY, url_kind

_COUNT = re.compile(r"\d[\d,.]*[kKmM]?")  # a count as shown: '3', '1,204', '1.2k'
_MONTH_STARTS = frozenset(
    ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec", "pub")
)  # 'pub': 'Published on …'
CARDS_2026 = "cards-2026-text"
# The words of a 2026 card after its date, and the field the count after each goes to.
_AFTER_WORDS = {"Upvote": "upvotes", "GitHub": "github_stars", "arXiv Page": None}


class MetaBlock(CardState):
    """The meta block after '·' (and open markdown links): `_special` takes its lines."""

    count_for: str | None = None  # the field the next count goes to ('Upvote' came before)

    def _special(self, n: int, s: str) -> bool:
        """Lines in the meta block's date part or in an open link; False: read it as usual."""
        phase = self.phase
        if phase == COLLECT:
            return self._link_line(n, s)
        card = self.card
        assert card is not None
        if phase == NAME:  # the name under a 'Submitted by' badge
            card.submitted_by = s
            card.keep(s)
            self.phase = CONTENT
            return True
        if phase == DATE:
            if not self._date_line(card, s):
                self._end_meta(f"expected the published date after '·', found {s[:60]!r}")
                return False
            if len(card.raw) < RAW_PARTS:
                card.raw.append(s)
            self.phase = AFTER
            return True
        return self._after(card, n, s)

    def _after(self, card: Card, n: int, s: str) -> bool:
        """After the date (or a 2024 card's author count): counts, the '#community' link, the
        2026 card's words."""
        if len(s) <= 12 and (s.isdigit() or _COUNT.fullmatch(s) or s == "-"):
            self._count(card, s)
            card.keep(s)
            return True
        if s in _AFTER_WORDS:
            card.layout = CARDS_2026
            self.count_for = _AFTER_WORDS[s]
            card.keep(s)
            return True
        if self._community(card, s):
            card.keep(s)
            return True
        self.count_for = None
        if card.dot_first and card.counts and not (card.community or s.startswith("Submitted")):
            # a 2024 card: the count right before a title is the next card's upvotes
            upvotes, card.counts = card.counts[-1], card.counts[:-1]
            self._close()
            following = self.card = Card(n)
            following.upvotes = upvotes
            following.raw.append(upvotes)
            return False
        self._close()
        return False

    def _count(self, card: Card, s: str) -> None:
        field, self.count_for = self.count_for, None
        if field == "upvotes":
            card.upvotes = s
        elif field is not None:
            card.extra = {**(card.extra or {}), field: s}
        elif s != "-":
            card.counts = (*card.counts, s)
        else:
            card.errors.append("a '-' where a comment count was expected")

    @staticmethod
    def _community(card: Card, s: str) -> bool:
        """The comment count's link: a URL line, or a markdown link '[3](…#community)'."""
        if s[0] == "h" and s.endswith("#community"):
            kind, paper = url_kind(s)
            if kind == COMMUNITY:
                card.community = True
                card.set_paper(paper)
                return True
        if s[0] == "[" and s.endswith("#community)") and (at := s.find("](")) > 0:
            kind, paper = url_kind(s[at + 2 : -1])
            count = s[1:at].strip()
            if kind == COMMUNITY and _COUNT.fullmatch(count):
                card.counts = (*card.counts, count)
                card.community = True
                card.set_paper(paper)
                return True
        return False

    def _date_line(self, card: Card, s: str) -> bool:
        """The line after '·': the date (plain, or markdown with the comment count's link)."""
        if s[-1] == ")" and (at := s.find("[")) > 0 and "](" in s:
            link = s[at:]
            split = link.rfind("](")
            kind, paper = url_kind(link[split + 2 : -1])
            if kind != COMMUNITY:
                return False
            card.counts = (*card.counts, link[1:split])
            card.community = True
            card.set_paper(paper)
            s = s[:at].strip()
        if not looks_like_date(s):
            return False
        if s[:3].lower() == "pub":
            card.layout = CARDS_2026  # 'Published on …': the 2026 cards' date
        card.date_text = s
        return True

    def _end_meta(self, problem: str) -> None:
        assert self.card is not None
        self.card.errors.append(problem)
        self._close()


def is_bare_date(text: str) -> bool:
    """A bare date ('May 4', 'Oct 9, 2023'): a listing day's heading, or a card's date."""
    return len(text) <= 40 and looks_like_date(text) and is_date_line(text)


def looks_like_date(s: str) -> bool:
    """Cheap check that the line after '·' is meant as a date (its parse may still fail)."""
    return len(s) <= 60 and s[:3].lower() in _MONTH_STARTS
