"""Finding where the listing starts: everything before it is page text, never a record.

A whole-page copy starts with whatever the export tool and the site put first: front matter
(``---`` … ``---``), site navigation (name lines, link lines), the subscribe banner, the
``Daily Papers`` / ``by`` / ``AK`` header in any of its line splits, the search-query echo,
the Daily / Weekly / Monthly tabs, trending and previous-day links. What they look like is not
known in advance, so nothing is matched against them: the header is skipped up to the first
date line (``May 4``) that card structure follows, i.e. within the next lines:

* an upvote widget or its login link, or a markdown title link: a card starts; or
* a title-shaped line, then a paper link; or
* a title-shaped line, then text, in a file that showed a Hugging Face papers header
  (``Daily Papers``, ``… and the research community``) or shows a card's meta block there.

Meanwhile it keeps what the header tells about dates: the front matter's capture date, and
the ``/papers/date/YYYY-MM-DD`` links (the previous or next day: they give the listing day's
year).
"""

from __future__ import annotations

import contextlib
import datetime as dt
from dataclasses import dataclass, field

from harvester.errors import InputError
from harvester.normalise import is_date_line

from .lines import (
    AUTHORS,
    DOT,
    HEADER_LINES,
    LOGIN,
    MD_TITLE,
    MD_UPVOTE,
    OPEN,
    PAPER,
    SPECIAL_FIRST,
    TEXT,
    UPVOTE,
    classify,
    hf_marker,
    title_shaped,
)
from .reading import LongLine

LOOKAHEAD = 8  # non-blank lines read after a date line to see whether cards follow
LOOKAHEAD_LINES = 64  # lines, blank ones included
HEADER_MAX = 2000  # non-blank lines before the listing: more means this is not a listing
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
_CARD_STARTS = frozenset((UPVOTE, LOGIN, MD_UPVOTE, MD_TITLE))
_META = frozenset((AUTHORS, OPEN, DOT, UPVOTE, LOGIN, PAPER))
_DATE_LINK = "huggingface.co/papers/date/"

Line = tuple[int, "str | LongLine"]


@dataclass
class Listing:
    """Where the listing starts, and what the header said about its date."""

    line: int  # the date line's number
    date_text: str
    capture_date: dt.date | None  # from the front matter
    date_links: list[dt.date] = field(default_factory=list)
    replay: list[Line] = field(default_factory=list)  # the lines after the date line, read ahead


class Header:
    """Skips the header line by line; `feed` returns the `Listing` once its start is known."""

    def __init__(self, label: str):
        self.label = label
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
        if not isinstance(line, LongLine):
            self._scan(n, line.strip())
        return None

    def finish(self) -> Listing | None:
        """The end of the file: decide on the last date line with what followed it."""
        while self.candidate is not None:
            found = self._decide()
            if found is not None:
                return found
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
        where = f"in its first {HEADER_MAX} lines" if self.lines_seen > HEADER_MAX else "in it"
        return InputError(
            self.label,
            f"not a text dump of a papers listing: no date line (e.g. 'Mar 14') followed by "
            f"paper cards {where}{hint}",
        )

    def _scan(self, n: int, s: str) -> None:
        if not s:
            return
        self.lines_seen += 1
        if self.lines_seen > HEADER_MAX:
            raise self.failure()
        if self.first_text is None:
            self.first_text = s
            if s == "---":
                self.front = 1
                return
        if self.front == 1:
            self._front_matter(s)
            return
        if not self.hf_seen:
            self.hf_seen = hf_marker(s)
        if s[0] == "h" and _DATE_LINK in s:
            try:
                day = dt.date.fromisoformat(s.split(_DATE_LINK, 1)[1][:10])
            except ValueError:
                return
            self.date_links.append(day)
        elif s[0].isalpha() and len(s) <= 40 and is_date_line(s):
            self.candidate = (n, s)

    def _front_matter(self, s: str) -> None:
        self.front_lines += 1
        if s in ("---", "...") or self.front_lines > FRONT_MATTER_MAX:
            self.front = 2
            return
        key, sep, value = s.partition(":")
        if sep and key.strip().lower() in CAPTURE_KEYS and self.capture_date is None:
            with contextlib.suppress(ValueError):  # not an ISO date: it stays unknown
                self.capture_date = dt.date.fromisoformat(value.strip().strip("'\"")[:10])

    def _decide(self) -> Listing | None:
        assert self.candidate is not None
        n, text = self.candidate
        ahead = self.ahead
        if self._cards_follow():
            listing = Listing(n, text, self.capture_date, self.date_links[-3:], ahead)
            self.candidate, self.ahead, self.events = None, [], []
            return listing
        # not the listing's date line: go on scanning the lines read ahead
        self.candidate, self.ahead, self.events = None, [], []
        for m, line in ahead:
            found = self.feed(m, line)
            if found is not None:
                return found
        return None

    def _cards_follow(self) -> bool:
        events = self.events
        if not events:
            return False
        kind, first = events[0]
        if kind in _CARD_STARTS:
            return True
        if kind != TEXT or first in HEADER_LINES or first[0] in "<{" or is_date_line(first):
            return False  # page text, markup or JSON: not a card's title
        if not title_shaped(first):
            return False
        if len(events) < 2:  # the file ends: a title under a papers header is a (cut) card
            return self.hf_seen
        kind, second = events[1]
        if kind == PAPER:
            return True
        if kind != TEXT or second in HEADER_LINES or second[0] in "<{":
            return False
        return self.hf_seen or any(k in _META for k, _ in events[2:])
