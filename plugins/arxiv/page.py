"""The structure of one arXiv listing page (/list/<context>/new, /recent, /pastweek): what it
promises and where its entries are. The entries themselves become papers in `entries`.

Both layouts are read:

* 2024 /new: three `<dl id='articles'>`, each headed `<h3>New submissions for Friday, 9 August
  2024 (showing 14 of 14 entries )</h3>` (then "Cross submissions", "Replacement submissions");
* 2026 (/recent, and /new since the redesign): day groups `<h3>Mon, 27 Jul 2026 (showing 47 of
  47 entries )</h3>`; /new heads its list `<h3>Showing new listings for Wednesday, 7 October
  2026</h3>` and its sections "New submissions (showing 14 of 14 entries)".

A heading says "showing X of Y": X entries of the section are on this page, Y in the whole
listing; "showing first X" when the section goes on on the next page, "continued, showing
[last] X" on the pages after. The page says "Total of N entries" (the whole listing, every
page) and, when the listing spans pages, which entries it holds ("1-50").
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field

from harvester_plugins.hf.bounds import check_depth
from selectolax.lexbor import LexborHTMLParser, LexborNode

from harvester.errors import InputError
from harvester.normalise import clean_text

_SHOWING = re.compile(
    r"^(?P<label>.*?)\s*\(\s*(?P<continued>continued,\s*)?showing\s+(?:(?:first|last)\s+)?"
    r"(?P<shown>\d+)(?:\s*-\s*(?P<shown_to>\d+))?\s+of\s+(?P<total>\d+)\s+entr(?:y|ies)\s*\)$",
    re.IGNORECASE,
)
_FIRST = re.compile(r"showing\s+first\s", re.IGNORECASE)
_TOTAL = re.compile(r"Total of (\d+) entr", re.IGNORECASE)
_RANGE = re.compile(r"^(\d+)\s*-\s*(\d+)$")
_PER_PAGE = re.compile(r"Showing up to (\d+) entries per page", re.IGNORECASE)
_NEW_LISTINGS = re.compile(r"Showing new listings for (.+)", re.IGNORECASE)
_NO_UPDATES = re.compile(r"No updates (today|for this time period)", re.IGNORECASE)
_DATE = re.compile(r"(\d{1,2})\s+([A-Za-z]{3,9})\.?,?\s+(\d{4})")
_MONTHS = {
    m: i
    for i, m in enumerate(
        ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"), 1
    )
}
_DT_TAG = re.compile(rb"<dt[\s>]", re.IGNORECASE)
_KINDS = (("new", "new"), ("cross", "cross-list"), ("replace", "replacement"))


def heading_date(text: str) -> dt.date | None:
    """The date in a heading: 'Mon, 27 Jul 2026', 'Friday, 9 August 2024'."""
    m = _DATE.search(text)
    month = _MONTHS.get(m[2][:3].lower()) if m else None
    if m is None or month is None:
        return None
    try:
        return dt.date(int(m[3]), month, int(m[1]))
    except ValueError:
        return None


@dataclass(frozen=True)
class Heading:
    """A section or day heading, as printed."""

    text: str
    label: str  # the text before "(showing ...)": what a continued heading repeats
    day: dt.date | None  # the day it names, if any
    kind: str | None  # /new sections: "new", "cross-list", "replacement"; day groups: None
    shown: int | None  # X of "showing X of Y": entries of the section on this page
    total: int | None  # Y: entries of the section in the whole listing
    continued: bool = False  # the section began on an earlier page
    goes_on: bool = False  # "showing first X": it goes on on the next page

    @property
    def name(self) -> str:
        """How declared parts are named: the kind, else the day, else the text."""
        if self.kind is not None:
            return {"new": "new submissions", "cross-list": "cross-lists"}.get(
                self.kind, "replacements"
            )
        return self.day.isoformat() if self.day else self.text


@dataclass
class Entry:
    """One `<dt>` (the id line) and its `<dd>` (the metadata), numbered in page order."""

    number: int
    head: LexborNode
    body: LexborNode | None = None


@dataclass
class Section:
    heading: Heading | None
    entries: list[Entry] = field(default_factory=list)


@dataclass
class ListingPage:
    total: int | None  # "Total of N entries": the whole listing
    shown_range: tuple[int, int] | None  # the entries on this page, 1-based ("1-50")
    per_page: int | None  # "Showing up to N entries per page"
    page_day: dt.date | None  # "Showing new listings for ..." (2026 /new)
    no_updates: bool  # the page says there is nothing ("No updates today.")
    listed_in: str | None  # the category or archive the page lists
    day_index: list[tuple[dt.date, int]]  # /recent: each day and the `skip` it starts at
    sections: list[Section]
    dt_lines: list[int]  # the line of each entry's <dt>, by entry number (files' locations)

    @property
    def entry_count(self) -> int:
        return sum(len(s.entries) for s in self.sections)

    def on_page(self) -> int | None:
        """How many entries this page should hold: its range, else the listing's total (up to
        the page size); None when the page says neither."""
        if self.shown_range is not None:
            return self.shown_range[1] - self.shown_range[0] + 1
        if self.total is not None and self.per_page is not None:
            return min(self.total, self.per_page)
        return self.total

    def day(self) -> dt.date | None:
        """The announcement day the page prints for all of it (a /new page), if one."""
        if self.page_day is not None:
            return self.page_day
        days = {s.heading.day for s in self.sections if s.heading and s.heading.kind}
        return days.pop() if len(days) == 1 else None


def parse_heading(text: str) -> Heading:
    text = clean_text(text) or ""
    m = _SHOWING.match(text)
    label = m["label"] if m else text
    kind = next((k for word, k in _KINDS if label.lower().startswith(word)), None)
    shown = total = None
    if m:
        total = int(m["total"])
        shown = int(m["shown"])
        if m["shown_to"]:
            shown = int(m["shown_to"]) - shown + 1
    return Heading(
        text=text,
        label=label,
        day=heading_date(label),
        kind=kind,
        shown=shown,
        total=total,
        continued=bool(m and m["continued"]),
        goes_on=bool(m and _FIRST.search(text)),
    )


def parse_page(content: bytes, where: str) -> ListingPage:
    """The page's structure; `InputError` naming `where` when it is not an arXiv listing."""
    check_depth(content, where, "the page")
    try:
        tree = LexborHTMLParser(content)
    except Exception as exc:  # lexbor refuses only what is not text at all
        raise InputError(where, f"cannot parse the page as HTML: {exc}") from None
    root = tree.css_first("#dlpage") or tree.body
    lists = root.css("dl") if root is not None else []
    if root is None or not (lists or _NO_UPDATES.search(root.text())):
        raise InputError(where, "not an arXiv listing page: no <dl> list of articles")
    paging = " ".join(n.text() for n in root.css("div.paging")[:1])
    total = _TOTAL.search(paging)
    per_page = _PER_PAGE.search(" ".join(n.text() for n in root.css("div.morefewer")[:1]))
    return ListingPage(
        total=int(total[1]) if total else None,
        shown_range=_shown_range(root),
        per_page=int(per_page[1]) if per_page else None,
        page_day=_page_day(root),
        no_updates=bool(_NO_UPDATES.search(root.text())),
        listed_in=_listed_in(root),
        day_index=_day_index(root),
        sections=_sections(lists),
        dt_lines=_dt_lines(content),
    )


def _shown_range(root: LexborNode) -> tuple[int, int] | None:
    paging = root.css_first("div.paging")
    for span in paging.css("span") if paging is not None else []:
        m = _RANGE.match(span.text().strip())
        if m:
            return int(m[1]), int(m[2])
    return None


def _page_day(root: LexborNode) -> dt.date | None:
    for h3 in root.css("h3"):
        m = _NEW_LISTINGS.search(h3.text())
        if m:
            return heading_date(m[1])
    return None


def _listed_in(root: LexborNode) -> str | None:
    """The context from the page's own link to its other listing (`id="recent-hep-th"`)."""
    for prefix in ("recent-", "new-"):
        node = root.css_first(f'a[id^="{prefix}"]')
        if node is not None:
            return (node.attributes.get("id") or "")[len(prefix) :] or None
    return None


def _day_index(root: LexborNode) -> list[tuple[dt.date, int]]:
    days = []
    for link in root.css("ul li a"):
        href = link.attributes.get("href") or ""
        m = re.search(r"/(?:recent|pastweek)\?skip=(\d+)", href)
        day = heading_date(link.text()) if m else None
        if m and day is not None:
            days.append((day, int(m[1])))
    return days


def _sections(lists: list[LexborNode]) -> list[Section]:
    """The headed sections of the page's lists, entries numbered in page order (a section
    without a heading holds entries before the first heading)."""
    sections: list[Section] = []
    number = 0
    for dl in lists:
        for child in dl.iter():
            if child.tag == "h3":
                sections.append(Section(parse_heading(child.text())))
            elif child.tag == "dt":
                if not sections:
                    sections.append(Section(None))
                number += 1
                sections[-1].entries.append(Entry(number, child))
            elif child.tag == "dd" and sections and sections[-1].entries:
                last = sections[-1].entries[-1]
                if last.body is None:
                    last.body = child
    return sections


def _dt_lines(content: bytes) -> list[int]:
    """1-based line of every `<dt` tag, in document order."""
    lines, last, line = [], 0, 1
    for m in _DT_TAG.finditer(content):
        line += content.count(b"\n", last, m.start())
        last = m.start()
        lines.append(line)
    return lines
