"""The role of each paragraph of a card: its title, its abstract, its organisation line, or
the start of the next card.

A paragraph's role is decided when what follows it is known (the next paragraph, or an
anchor): a title is short and followed by an abstract (or a paper link); an abstract is long
or ends a sentence; a short line right before ``·`` or an organisation's link is the
organisation line; a paragraph that goes on with the one before it across a blank line (a
wrapped sentence, a line cut by a blank) is more of it. A paragraph that fits no role makes
its card a reject naming its line, never a shifted record.
"""

from __future__ import annotations

from .anchors import CONTENT, META
from .chrome import CHROME_FIRST, copyright_line, separator
from .entries import Card, Item
from .lines import DOT, HEADER_LINES, LINK, LOGIN, MD_TITLE, MD_UPVOTE, PAPER, SITE, UPVOTE
from .meta import MetaBlock, is_bare_date
from .shapes import SENTENCE_END, ends_sentence, fits_wrap, join_wrapped

ABSTRACT_PARTS = 64  # paragraphs joined into one abstract (blank lines inside wrapped text)


class Roles(MetaBlock):
    """Gives paragraphs their roles in the card being read (`cards.Assembler` cuts them)."""

    def _resolve(self, p: Item, following: Item | int) -> None:
        """Give paragraph `p` its role, knowing what `following` it: a paragraph or an anchor."""
        if (
            len(p.lines) == 1
            and p.text[0] in CHROME_FIRST
            and (copyright_line(p.text) or separator(p.text))
        ):
            self.skipped += 1  # page chrome wherever it is: never a title or an abstract
            return
        card = self.card
        if card is None or self.phase != CONTENT:
            if card is None:
                self._start(p, following)
            elif len(p.lines) == 1 and is_bare_date(p.text):  # its '·' line is missing
                card.raw.append(p)
                self._end_meta(f"no '·' before the date {p.text!r}")
            else:
                self._end_meta(
                    f"expected '·' after the author count or organisation, found {p.text[:60]!r}"
                )
                self._start(p, following)
        elif card.title is None:
            if card.abstract and not (p.soft or continues(card.abstract_tail, p, self.wrap_width)):
                self._close()
                self._start(p, following)
            elif card.abstract or not (p.title_like or (following == PAPER and not card.links)):
                self._add_abstract(card, p)  # text with no title: the card is rejected
            else:
                self._set_title(card, p)
        elif not card.abstract:
            goes_on = isinstance(following, Item) and self._goes_on(p, following)
            if p.title_like and (
                continues(card.title_tail, p, self.wrap_width)
                or (p.soft and _title_then_abstract(p, following))
            ):
                self._extend_title(card, p)  # a wrapped title broken by a blank line
            elif (
                p.title_like
                and not (card.links or card.markdown)
                and _no_card_end(following)
                and not goes_on
            ):
                self._close()  # the card has no abstract: rejected
                self._start(p, following)
            else:
                self._add_abstract(card, p)
        elif p.org_like and (following == SITE or (following == DOT and card.authors is None)):
            self._set_org(card, p)
        elif (
            not card.links
            and _title_then_abstract(p, following)
            and not (p.soft and self._goes_on(p, following))  # type: ignore[arg-type]
            and not self._resumes(card, p, following)
        ):
            self._close()
            self._start(p, following)
        elif p.soft or continues(card.abstract_tail, p, self.wrap_width):
            self._add_abstract(card, p)
        else:
            self._close()
            self._start(p, following)

    def _set_org(self, card: Card, p: Item) -> None:
        card.org = p.text  # an org-shaped paragraph has no error
        card.raw.append(p)
        if p.bad is not None:
            card.errors.append(p.bad)
        self.phase = META

    def _resumes(self, card: Card, p: Item, following: Item | int) -> bool:
        """A blank line inside a wrapped abstract, before a title-cased line with the text
        after it split off by shape only ('… capable of 1)' / 'Continuous Learning, 2) …' /
        'Scalability. Unfortunately, …'): the abstract going on, not a title."""
        tail = card.abstract_tail
        return (
            isinstance(following, Item)
            and following.soft
            and tail is not None
            and not ends_sentence(tail.lines[-1])
            and continues(tail, p, self.wrap_width)
        )

    def _goes_on(self, p: Item, following: Item) -> bool:
        """Whether `following` is more of paragraph `p` (split from it by shape only, or by a
        blank line inside wrapped text): `p` is then an abstract's start, not a title."""
        return following.soft or (
            not following.title_like and continues(p, following, self.wrap_width)
        )

    def _start(self, p: Item, following: Item | int) -> None:
        """A paragraph between cards: a new card's title (or text with no title)."""
        after_header, self.after_header = self.after_header, False
        if len(p.lines) == 1 and p.error is None and not p.soft:
            if p.text in HEADER_LINES:  # the header of a dump pasted after this one
                self.skipped += 1
                self.after_header = True
                return
            text = p.text
            if is_bare_date(text):
                if not (after_header and _starts_card(following) and self.new_listing(text)):
                    self._reject(p, "a date line where a title was expected")
                return  # a new listing day: it applies to the cards after it
        card = self.card = Card(p.line)
        if p.title_like or following == PAPER:
            self._set_title(card, p)
        else:
            self._add_abstract(card, p)

    def _reject(self, p: Item, problem: str) -> None:
        card = self.card = Card(p.line)
        card.errors.append(problem)
        card.raw.append(p)
        self._close()

    @staticmethod
    def _extend_title(card: Card, p: Item) -> None:
        assert card.title is not None
        card.title = join_wrapped([card.title, p.text])
        card.title_tail = p
        card.raw.append(p)
        if p.bad is not None:
            card.errors.append(p.bad)

    @staticmethod
    def _set_title(card: Card, p: Item) -> None:
        card.title = p.text
        card.title_tail = p
        card.title_line = p.line
        _take(card, p)

    @staticmethod
    def _add_abstract(card: Card, p: Item) -> None:
        if len(card.abstract) >= ABSTRACT_PARTS:
            if len(card.abstract) == ABSTRACT_PARTS:
                card.errors.append(f"an abstract of over {ABSTRACT_PARTS} paragraphs")
                card.abstract.append("")
            return
        card.abstract.append(p.text)
        card.abstract_tail = p
        _take(card, p)


def continues(tail: Item | None, p: Item, wrap_width: int) -> bool:
    """Whether `p` goes on with paragraph `tail` across a blank line: only text wrapped by a
    tool (at the paragraph's width, or the width seen in the file) breaks where a blank line
    could have slipped in, and only a full line is followed by more of its paragraph."""
    if tail is None or p.error is not None:
        return False
    width = tail.width if len(tail.lines) > 1 else wrap_width
    last = tail.lines[-1]
    if last[-1] in SENTENCE_END and p.title_like:
        return False  # a finished sentence, then a title: the next card
    return bool(width) and len(last) <= width and fits_wrap(last, width, p.lines[0])


def _starts_card(following: Item | int) -> bool:
    """Whether a card starts with what follows: a title-shaped paragraph, or the upvote
    widget, its login link, a markdown title."""
    if isinstance(following, Item):
        return following.title_like
    return following in (UPVOTE, LOGIN, MD_UPVOTE, MD_TITLE)


def _no_card_end(following: Item | int) -> bool:
    """Whether what follows a title-shaped paragraph leaves it short of being an abstract:
    such a paragraph is taken as the abstract only when the card's meta, the next card or
    the end of the file follows it."""
    return isinstance(following, Item) or following in (PAPER, SITE, LINK)


def _title_then_abstract(p: Item, following: Item | int) -> bool:
    """`p` is a title: title-shaped, and an abstract-shaped paragraph or a paper link follows."""
    if not p.title_like:
        return False
    if following == PAPER:
        return True
    return isinstance(following, Item) and not following.title_like


def _take(card: Card, p: Item) -> None:
    """`p` becomes part of `card`: its raw text, whether it is plain, what is wrong with it.
    (A card holds one title and a bounded number of paragraphs.)"""
    card.raw.append(p)
    if not p.plain:
        card.plain = False
    if p.error is not None:
        card.errors.append(p.error)
    if p.bad is not None:
        card.errors.append(p.bad)
