"""Page-level parsing of a huggingface.co/papers listing page: the embedded DailyPapers JSON and
the day the page shows.

The list sits twice in a page: as HTML-escaped JSON in `data-props` of the element with
`data-target="DailyPapers"` (complete: every author, ISO dates, exact counts) and as rendered
cards (`cards`). Only that one tag is handed to the HTML parser for the JSON; the cards are read
only when there is no readable JSON list.

The page's day, always (issue 10):

* from the JSON: `dateString` (current pages, with `periodType` and `prevDate`) or `date` (the
  2024 layout, with `prevDate` and `nextDate`), as a plain `YYYY-MM-DD`;
* otherwise from its day links, in both forms (`/papers/date/D`, `/papers?date=D`): a page
  linking the day before and the day after shows the day between them. A current page links
  only the previous day: on its own that link does not tell the page's day (days without a
  list are skipped), so such a page has no known day.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from logging import Logger

import msgspec
from selectolax.lexbor import LexborHTMLParser

from harvester.errors import InputError
from harvester.schema import Rejected

from .items import HfItem, TooDeep, decode_items
from .urls import iso_day, linked_days

_HOLDER_MARK = b'data-target="DailyPapers"'
_PROPS_ATTR = b'data-props="'
# `periodType` values that name more than one day: their `dateString` is not the page's day.
_MULTI_DAY = frozenset({"week", "weekly", "month", "monthly"})


class PageProps(msgspec.Struct, gc=False):  # no cycles (see items)
    """The top level of the embedded JSON; `dailyPapers` is decoded separately (per item)."""

    dailyPapers: msgspec.Raw = msgspec.Raw()
    dateString: str | None = None
    date: str | None = None
    periodType: str | None = None


_PROPS = msgspec.json.Decoder(PageProps)


@dataclass(frozen=True)
class PageDay:
    day: dt.date | None
    shown_by: str  # what told it: "dateString", "date", "day links", or why it is unknown


def props_text(content: bytes) -> str | None:
    """The DailyPapers `data-props` value, unescaped; None when the page has none.

    Only the holder's start tag goes through the parser (it unescapes the attribute in C): the
    rest of the page, most of its bytes, is never parsed for the JSON.
    """
    mark = content.find(_HOLDER_MARK)
    if mark < 0:
        return None
    tag_start = content.rfind(b"<", 0, mark)
    # the attribute starts inside the holder's start tag: before its first ">" (a raw ">" in
    # an attribute value can only come after the attribute's start)
    first_close = content.find(b">", mark)
    value = content.find(_PROPS_ATTR, tag_start, first_close) if first_close >= 0 else -1
    value_end = content.find(b'"', value + len(_PROPS_ATTR)) if value >= 0 else -1
    tag_end = content.find(b">", value_end) if value_end >= 0 else -1
    if tag_start < 0 or tag_end < 0:
        return None  # no data-props in the holder's start tag
    parsed = LexborHTMLParser(content[tag_start : tag_end + 1])
    # a body-level tag (a div, as on every page) is the body's first child: found without the
    # CSS engine, whose set-up took ~50 us a page; any other tag is found by the selector
    holder = parsed.body.child if parsed.body is not None else None
    if holder is None or holder.attrs.get("data-props") is None:
        holder = parsed.css_first("[data-props]")
    return holder.attrs.get("data-props") if holder is not None else None


def read_props(content: bytes, where: str, log: Logger) -> PageProps | None:
    """The page's DailyPapers props; None when absent or not JSON (then the cards are read).

    JSON nested too deeply is a `TooDeep` error naming `where`."""
    text = props_text(content)
    if not text:
        return None
    try:
        return _PROPS.decode(text)
    except RecursionError:
        raise TooDeep(where, "DailyPapers JSON nested too deeply to be a paper list") from None
    except (msgspec.DecodeError, msgspec.ValidationError) as exc:
        log.warning("%s: unreadable DailyPapers JSON (%s); reading the cards", where, exc)
    return None


def embedded_items(
    props: PageProps | None, where: str, log: Logger
) -> list[HfItem | Rejected] | None:
    """The embedded list's items (malformed ones as `Rejected`), or None when there is no
    readable list (then the cards are read)."""
    if props is None or not len(props.dailyPapers):
        return None
    try:
        return decode_items(props.dailyPapers, where)
    except TooDeep:
        raise
    except InputError as exc:
        log.warning("%s: unreadable dailyPapers list (%s); reading the cards", where, exc.problem)
        return None


def ends_whole(content: bytes) -> bool:
    """Whether the page ends with its closing `</html>` (a page cut midway does not)."""
    return content[-1024:].rstrip().lower().endswith(b"</html>")


def page_day(props: PageProps | None, content: bytes) -> PageDay:
    """The day the page shows (see the module doc); `day` None when the page does not say."""
    if props is not None:
        one_day = (props.periodType or "").lower() not in _MULTI_DAY
        if one_day and (day := iso_day(props.dateString)) is not None:
            return PageDay(day, "dateString")
        if (day := iso_day(props.date)) is not None:
            return PageDay(day, "date")
    linked = sorted(linked_days(content))
    if len(linked) == 2 and (linked[1] - linked[0]).days == 2:
        return PageDay(linked[0] + dt.timedelta(days=1), "day links")
    if linked:
        shown = ", ".join(d.isoformat() for d in linked)
        return PageDay(None, f"the page links {shown} but not both neighbours of one day")
    return PageDay(None, "the page names no day (no dateString, date or day links)")
