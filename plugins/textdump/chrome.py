"""Page chrome inside a copied listing: what is never a paper's entry, whatever its language.

A copy holds more than cards: the site's navigation and footer (``Models``, ``Pricing``,
``TOS``, ``Privacy``, ``© Hugging Face``), sign-in prompts, subscription boxes, separators
(``---``, ``* * *``). What they say differs from language to language and from year to year;
their shape does not: short lines, or one short sentence, with none of a card's structure (no
upvote widget, link, author count, ``·``, date or abstract).

* A separator line or a copyright line is skipped wherever it is.
* An entry of that shape is *held*: at the listing's edges (before its first entry, after its
  last one, before a pasted capture starts) it is page chrome, skipped and counted in the
  notes; between two entries it is a reject with its line, since a card lost its parts there.
"""

from __future__ import annotations

from .entries import Card

TITLE_WORDS = 4  # a one-line "title" of at most this many words and characters is a menu item
TITLE_CHARS = 40
SENTENCE_CHARS = 160  # a lone sentence of at most this many characters is a prompt, a notice
NOTICE_CHARS = 100  # a sentence under a menu item's line: a tagline, not an abstract
NOTICE_MAX = 300  # in a footer, a longer text is no notice: an abstract, a card's part
_SEPARATOR = frozenset("-_*=~#·•—–+ ")
_COPYRIGHT = ("©", "(c) ", "(C) ", "Copyright ", "copyright ")
CHROME_FIRST = _SEPARATOR | {c[0] for c in _COPYRIGHT}  # what a skipped line starts with


def separator(s: str) -> bool:
    """A line that only separates ('---', '* * *', '======'); never a single '·'."""
    return 3 <= len(s) <= 80 and s[0] in _SEPARATOR and set(s) <= _SEPARATOR


def copyright_line(s: str) -> bool:
    return s.startswith(_COPYRIGHT)


def has_structure(card: Card) -> bool:
    """Whether a card shows any of a card's structure besides its text."""
    return (
        card.upvotes is not None
        or card.login
        or card.paper is not None
        or card.links > 0
        or card.markdown
        or card.authors is not None
        or card.org is not None
        or card.date_text is not None
        or bool(card.counts)
        or card.community
        or card.submitted_by is not None
    )


def chrome_shaped(card: Card, in_run: bool = False) -> bool:
    """A card with the shape of page chrome, and nothing else of a card: a short line (a menu
    item) with no abstract or with one short sentence after it ('Hugging Face' / 'The AI
    community building the future.'), or one short sentence with no title (a prompt). After
    other chrome (`in_run`: a footer goes on) any line with no abstract is chrome too."""
    abstract = card.abstract
    if (abstract and len(abstract[0]) > NOTICE_MAX) or card.errors or has_structure(card):
        return False  # the common card: a long abstract
    if len(abstract) > 1:
        return False
    text = abstract[0] if abstract else ""
    if card.title is None:
        return len(text) <= (NOTICE_MAX if in_run else SENTENCE_CHARS)
    if not text and in_run:
        return len(card.title) <= NOTICE_MAX
    title = card.title
    short_title = len(title) <= TITLE_CHARS and title.count(" ") < TITLE_WORDS
    return short_title and len(text) <= NOTICE_CHARS


def button(card: Card) -> bool:
    """A one-word line with nothing else (a link's label: 'Next', 'Previous')."""
    return card.title is not None and not card.abstract and " " not in card.title


def lone_line(card: Card) -> bool:
    """A chrome-shaped card of one line: a title with no text, or a text with no title."""
    return card.title is None or not card.abstract


def chrome_lines(cards: list[Card]) -> int:
    return sum(len(c.raw) for c in cards)
