"""Finding where the listing starts, and the page's day: what is before it is page text.

A whole-page copy starts with whatever the export tool and the site put first: front matter
(``---`` … ``---``), site navigation (name lines, link lines), the subscribe banner, the
``Daily Papers`` / ``by`` / ``AK`` header in any of its line splits, the search-query echo,
the Daily / Weekly / Monthly tabs, trending and previous-day links. What they look like is not
known in advance, so nothing is matched against them. The listing starts at whichever comes
first:

* the page's date line (``May 4``; or a week or month heading, ``Week 19, 2026``,
  ``May 2026``) that card structure follows, i.e. within the next lines an upvote widget, its
  login link, a markdown title link, a ``Submitted by`` badge; or a title-shaped line then a
  paper link; or a title-shaped line then text, in a file that showed a Hugging Face papers
  header (``Daily Papers``, ``… and the research community``) or shows a card's meta block.
  A date printed after ``·`` is a card's own date, never the page's;
* card structure without any date line before it (a copy cut at the first card, a trending
  page): a card's anchor (upvote widget, login link, markdown title, ``Submitted by``) or a
  meta block (an author count or organisation line, then ``·``). The listing then starts
  after the page's last header line before it, and the copy shows no day.

A file that shows a papers page's header and a date line, and then only page text, is an
empty listing (`Listing.empty`). Meanwhile the header keeps what it tells about dates: the
front matter's capture date, and the day links (``/papers/date/YYYY-MM-DD``,
``/papers?date=YYYY-MM-DD``: the previous or next day).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import re
from dataclasses import dataclass, field

from harvester.errors import InputError
from harvester.normalise import is_date_line

from .lines import (
    AUTHORS,
    COUNT,
    DOT,
    HEADER_LINES,
    LINK,
    LOGIN,
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
    hf_marker,
)
from .reading import LongLine
from .shapes import title_shaped

LOOKAHEAD = 8  # non-blank lines read after a date line to see whether cards follow
LOOKAHEAD_LINES = 64  # lines, blank ones included
HEADER_MAX = 2000  # non-blank lines before the listing: more means this is not a listing
ABSTRACT_MIN = 200  # characters: a longer text after a date line is a card's abstract
TITLE_SIZE = 300  # characters: a longer paragraph is no title
HELD_MAX = 8 << 20  # characters of header lines kept in case the listing started in them
FRONT_MATTER_MAX = 100
# Front-matter keys that export and clipping tools write the capture time under ("date",
# "published" and "updated" are the page's own dates, not the capture's).
CAPTURE_KEYS = frozenset(
    {
        "captured",
        "captured_on",
        "captured_at",
        "capture_date",
        "clipped",
        "created",
        "exported",
        "exported_at",
        "retrieved",
        "retrieved_at",
        "retrieved_on",
        "saved",
        "saved_at",
        "downloaded",
        "fetched",
    }
)
_CARD_STARTS = frozenset((UPVOTE, LOGIN, MD_UPVOTE, MD_TITLE, SUBMITTED))
_META = frozenset((AUTHORS, OPEN, DOT, UPVOTE, LOGIN, PAPER))
_DATE_LINKS = ("huggingface.co/papers/date/", "huggingface.co/papers?date=")
_FRONT_KEY = re.compile(r"[\w.-]+\s*:|-\s|#")  # a front-matter line: 'key:', '- item', '# note'
# an HTML tag ('<html', '<!DOCTYPE', '</p>') or a JSON object: not a title ('<5% Error …')
_MARKUP = re.compile(r"<(?:[a-z][a-z0-9]*[\s>/]|[!?/])|\{\s*\"")
_MONTHS = "January|February|March|April|May|June|July|August|September|October|November|December"
# The heading of a weekly or monthly listing: 'Week 19', 'Week 19, 2026', '2026-W19',
# 'May 2026' (a month and a year: no day).
_PERIOD = re.compile(
    rf"(?:Week\s+\d{{1,2}}(?:,?\s+\d{{4}})?|\d{{4}}-W\d\d|(?:{_MONTHS})\s+\d{{4}})",
    re.IGNORECASE,
)

Line = tuple[int, "str | LongLine"]


def period_heading(s: str) -> bool:
    """Whether a line is a weekly or monthly listing's heading ('Week 19, 2026', 'May 2026')."""
    return len(s) <= 24 and _PERIOD.fullmatch(s) is not None


@dataclass
class Listing:
    """Where the listing starts, and what the header said about its day."""

    line: int  # the date line's number, or the listing's first line when it shows no day
    date_text: str | None  # the page's date line; None: the copy shows no day
    capture_date: dt.date | None  # from the front matter
    date_links: list[dt.date] = field(default_factory=list)
    replay: list[Line] = field(default_factory=list)  # the lines after the date line, read ahead
    period: str | None = None  # a weekly or monthly heading ('Week 19, 2026'): no one day
    empty: bool = False  # the page shows its heading and no card: an empty listing


class Header:
    """Skips the header line by line; `feed` returns the `Listing` once its start is known."""

    def __init__(self, label: str, *, later: bool = False):
        self.label = label
        self.later = later  # a capture pasted after another: the file is a listing already
        self.first_text: str | None = None  # the first line of text, for the error's hint
        self.lines_seen = 0
        self.front = 0  # front matter: 0 not seen, 1 inside, 2 done
        self.front_lines = 0
        self.capture_date: dt.date | None = None
        self.date_links: list[dt.date] = []
        self.hf_seen = False
        self.candidate: tuple[int, str] | None = None
        self.ahead: list[Line] = []
        self.events: list[tuple[int, str]] = []  # (kind, text) of the non-blank lines ahead
        self.last_kind = TEXT  # of the last non-blank line scanned
        self.held: list[Line] = []  # lines since the page's last header line
        self.held_size = 0
        self.empty_day: tuple[int, str] | None = None  # a date line no card followed
        # paragraphs shaped like cards (see _title_then_abstract)
        self.paragraph_start: str | None = None
        self.paragraph_size = 0
        self.last_title = self.title_before = False
        self.pairs = 0
        self.text_after_day = False  # text that is no page chrome after that date line

    def feed(self, n: int, line: str | LongLine) -> Listing | None:
        if self.candidate is not None:
            self.ahead.append((n, line))
            if isinstance(line, LongLine):
                self.events.append((TEXT, "x" * 400))  # reads as a (too long) abstract
            elif s := line.strip():
                kind = classify(s)[0] if s[0] in SPECIAL_FIRST else TEXT
                self.events.append((kind, s))
            if len(self.events) >= LOOKAHEAD or len(self.ahead) >= LOOKAHEAD_LINES:
                return self._decide()
            return None
        if isinstance(line, LongLine):
            self._hold(n, line, 4096)
            return None
        return self._scan(n, line)

    def finish(self) -> Listing | None:
        """The end of the file: decide on the last date line with what followed it; a papers
        page's date line with no card after it is an empty listing."""
        while self.candidate is not None:
            found = self._decide()
            if found is not None:
                return found
        if self.empty_day is not None and not self.text_after_day:
            n, text = self.empty_day
            period = text if period_heading(text) else None
            return Listing(n, None if period else text, self.capture_date, [], [], period, True)
        if self.later:  # what follows a pasted capture's start is read as cards, day unknown
            replay, self.held, self.held_size = self.held, [], 0
            return Listing(replay[0][0] if replay else 0, None, self.capture_date, [], replay)
        return None

    def failure(self) -> InputError:
        """The error for a file in which no listing starts."""
        if self.first_text is None:
            return InputError(f"{self.label}:1", "empty file: no text in it")
        first = self.first_text
        hint = ""
        if first[0] in "{[":
            hint = " (it looks like JSON)"
        elif first[0] == "<":
            hint = " (it looks like HTML: the hf-papers source reads saved listing pages)"
        elif self.hf_seen:
            hint = (
                " (it shows a Hugging Face papers page, in a layout this reader does not know: "
                "it reads daily, search, trending, weekly and monthly listings as plain text, "
                "links-on-their-own-lines exports and markdown, and the 2024 daily cards)"
            )
        where = f"in its first {HEADER_MAX} lines" if self.lines_seen > HEADER_MAX else "in it"
        return InputError(
            self.label,
            f"not a text dump of a papers listing: no date line (e.g. 'Mar 14') followed by "
            f"paper cards, and no card {where}{hint}",
        )

    # -- scanning --------------------------------------------------------------------------------

    def _scan(self, n: int, line: str) -> Listing | None:
        s = line.strip()
        if not s:
            if self.held:
                self._hold(n, line, 0)
            if self.paragraph_start is not None:  # a paragraph ends: was it a title?
                first = self.paragraph_start
                self.last_title = self.paragraph_size <= TITLE_SIZE and title_shaped(first)
                self.paragraph_start = None
            return None
        self.lines_seen += 1
        if self.lines_seen > HEADER_MAX:
            if self.later:
                return self._dateless(n, line)
            raise self.failure()
        if self.first_text is None:
            self.first_text = s
            if s == "---":
                self.front = 1
                return None
        if self.front == 1 and self._front_matter(s):
            return None
        kind = classify(s)[0] if s[0] in SPECIAL_FIRST else TEXT
        last, self.last_kind = self.last_kind, kind
        if s in HEADER_LINES or hf_marker(s):
            self.hf_seen = True
            self.held, self.held_size = [], 0  # the listing starts after the page's header
            return None
        if self.empty_day is not None and _not_chrome(s):
            self.text_after_day = True
        if "papers" in s and (day := _date_link(s)) is not None:  # a URL or a markdown link
            self.date_links.append(day)
        elif last != DOT and _heading(s):
            self.candidate = (n, s)  # its lookahead decides (a date after '·' is a card's)
            return None
        elif kind in _CARD_STARTS or (kind == DOT and last in (AUTHORS, TEXT) and self.held):
            return self._dateless(n, line)
        self._hold(n, line, len(line))
        if kind == TEXT and self._title_then_abstract(s):
            return self._dateless_from_held()
        return None

    def _title_then_abstract(self, s: str) -> bool:
        """Counts paragraphs shaped like a card (a title, then a long text), the structure of
        a copy cut at its first card that shows no meta block: the second one is evidence."""
        if self.paragraph_start is None:  # a paragraph's first line
            self.title_before = self.last_title
            self.paragraph_start, self.paragraph_size = s, 0
        self.paragraph_size += len(s) + 1
        self.last_title = False
        if self.title_before and self.paragraph_size > ABSTRACT_MIN:
            self.pairs += 1
            self.title_before = False
        return self.pairs >= 2

    def _hold(self, n: int, line: str | LongLine, size: int) -> None:
        """Keep a header line: the listing may turn out to have started at it."""
        self.held.append((n, line))
        self.held_size += size
        if self.held_size > HELD_MAX:
            raise self.failure()

    def _dateless_from_held(self) -> Listing:
        """Cards shaped like a copy's, with no date line: the listing started at the held
        lines' first paragraph."""
        replay, self.held, self.held_size = self.held, [], 0
        start = next(m for m, held in replay if not isinstance(held, str) or held.strip())
        return Listing(start, None, self.capture_date, self.date_links[-3:], replay)

    def _dateless(self, n: int, line: str) -> Listing:
        """Card structure before any date line: the listing started after the page's last
        header line, and the copy shows no day."""
        replay = [*self.held, (n, line)]
        start = next((m for m, held in replay if not isinstance(held, str) or held.strip()), n)
        self.held, self.held_size = [], 0
        return Listing(start, None, self.capture_date, self.date_links[-3:], replay)

    def _front_matter(self, s: str) -> bool:
        """A line of the front matter (True), or the line after it (False: it ended)."""
        self.front_lines += 1
        if s in ("---", "...") or self.front_lines > FRONT_MATTER_MAX:
            self.front = 2
            return True
        if not _FRONT_KEY.match(s) and not s.startswith(("'", '"')):
            self.front = 2  # not YAML: a '---' separator, then text
            return False
        key, sep, value = s.partition(":")
        if sep and key.strip().lower() in CAPTURE_KEYS and self.capture_date is None:
            with contextlib.suppress(ValueError):  # not an ISO date: it stays unknown
                self.capture_date = dt.date.fromisoformat(value.strip().strip("'\"")[:10])
        return True

    def _decide(self) -> Listing | None:
        assert self.candidate is not None
        n, text = self.candidate
        ahead, events = self.ahead, self.events
        self.candidate, self.ahead, self.events = None, [], []
        if _cards_follow(events, self.hf_seen):
            period = text if period_heading(text) else None
            date_text = None if period else text
            return Listing(n, date_text, self.capture_date, self.date_links[-3:], ahead, period)
        if self.hf_seen and self.empty_day is None:
            self.empty_day, self.text_after_day = (n, text), False
        # not the listing's date line: go on scanning the lines read ahead
        self._hold(n, text, len(text))
        self.last_kind = TEXT
        for i, (m, line) in enumerate(ahead):
            found = self.feed(m, line)
            if found is not None:
                found.replay += ahead[i + 1 :]  # read ahead already: the listing's lines
                return found
        return None


def _cards_follow(events: list[tuple[int, str]], hf_seen: bool) -> bool:
    """Whether the lines after a date line (their kinds and text) begin a card."""
    while events and (events[0][1] in HEADER_LINES or events[0][0] in (LINK, SITE)):
        events = events[1:]  # the page's tabs and day links ('Next') after its date line
    if not events:
        return False
    for kind, text in events[:3]:  # a card's anchor, after at most two day links ('Next')
        if kind in _CARD_STARTS or kind == THUMB:
            return True
        if len(text) > 12 or " " in text:
            break
    kind, first = events[0]
    if kind == COUNT and len(events) > 1:  # a 2024 card without its badge: upvotes, title
        events = events[1:]
        kind, first = events[0]
    if kind != TEXT or first in HEADER_LINES or _MARKUP.match(first) or _heading(first):
        return False  # page text, markup or JSON: not a card's title
    if not title_shaped(first):
        # under a papers header, a title that reads oddly ('a study of …') before an abstract
        return hf_seen and any(k == TEXT and len(t) > ABSTRACT_MIN for k, t in events[1:4])
    if len(events) < 2:  # the file ends: a title under a papers header is a (cut) card
        return hf_seen
    kind, second = events[1]
    if kind in (PAPER, DOT):  # a paper link; '·' then an author count (2024 cards)
        return True
    if kind != TEXT or second in HEADER_LINES or _MARKUP.match(second):
        return False
    return hf_seen or any(k in _META for k, _ in events[2:])


def _heading(s: str) -> bool:
    """A date line ('May 4', 'Oct 9, 2023') or a week or month heading."""
    return s[0].isalnum() and len(s) <= 40 and (is_date_line(s) or period_heading(s))


def _date_link(s: str) -> dt.date | None:
    """The day a link to a daily listing names ('…/papers/date/2026-05-03', '…?date=…')."""
    for marker in _DATE_LINKS:
        if marker in s:
            with contextlib.suppress(ValueError):
                return dt.date.fromisoformat(s.split(marker, 1)[1][:10])
    return None


def _not_chrome(s: str) -> bool:
    """Text that is more than page chrome (menus, links, short lines, the copyright line):
    a sentence or a longer line."""
    if s[0] in "h©[" or len(s) < 40:
        return False
    return len(s.split()) > 6
