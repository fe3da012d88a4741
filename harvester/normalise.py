"""Normalisers: small pure functions from listing text to clean field values.

Each function has one parametrised table of cases in tests/test_normalise.py. Invalid input
raises `ValueError` with a message that quotes the input and says what is wrong.

They run once per entry (or per line) in the source parsers, so they are written for speed:
precompiled patterns, cheap checks before regexes, and a fast path for text that is already
clean (the common case).

Date decisions (see `parse_published`):

* HF prints a card's date without a year when it falls in the year the page was rendered, so a
  yearless date takes the reference (capture) year. A page captured shortly after New Year may
  still show last year's yearless dates; such a date lands in the future, so a date more than one
  day after the reference date moves to the previous year. One day of slack because the page
  renders dates in the viewer's timezone: a paper can look dated "tomorrow" relative to a
  capture date taken in UTC.
* A number after a yearless date is the comment count (``Sep 29 2``: Sep 29, 2 comments), except
  a bare 4-digit number from 1900 to 2099 directly after the day, which is read as a year written
  without its comma (``Sep 2 2024`` is 2024-09-02): comment counts of that size do not occur on a
  listing card, while copied text dropping a comma does. ``Sep 2 2024 3`` is that date with 3
  comments.
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from collections.abc import Callable
from decimal import Decimal, InvalidOperation
from typing import Any, NamedTuple
from urllib.parse import unquote

# Control characters (C0, DEL, C1) that are not whitespace, and invisible format characters
# that would make two copies of one title differ (zero-width space, word joiner, soft hyphen,
# byte-order mark): removed. Whitespace-like controls (tab, newline, separators) become spaces
# through str.split(). Zero-width (non-)joiners stay: some scripts need them.
_INVISIBLE = dict.fromkeys(
    [
        *(c for c in range(0x00, 0x20) if not chr(c).isspace()),
        0x7F,
        *(c for c in range(0x80, 0xA0) if not chr(c).isspace()),
        0x00AD,
        0x200B,
        0x2060,
        0xFEFF,
    ]
)


def clean_text(text: str | None) -> str | None:
    """NFC, control and invisible characters removed, whitespace runs (incl. NBSP, tabs,
    newlines) to one space, trimmed; '' becomes None."""
    if text is None:
        return None
    if text.isascii():
        # Fast path: printable ASCII has no whitespace but ' ', so only runs and ends matter.
        if text and text.isprintable() and "  " not in text:
            if text[0] == " " or text[-1] == " ":
                text = text.strip()
            return text or None
        text = text.translate(_INVISIBLE)
    else:
        if not text.isprintable():
            text = text.translate(_INVISIBLE)
        if not unicodedata.is_normalized("NFC", text):
            text = unicodedata.normalize("NFC", text)
    # str.split() splits on exactly the characters `\s` matches (str.isspace), and is faster.
    return " ".join(text.split()) or None


PRINTABLE_ASCII = bytes(range(0x20, 0x7F))  # what clean ASCII text is made of


def clean_names(names: list[str]) -> list[str]:
    """`names` through `clean_text`, the empty ones dropped.

    A list of clean ASCII names (nearly every author list) is told in one pass over all of
    them, joined, and returned as it is (the same list, not a copy): a `clean_text` call per
    name was a tenth of a page's mapping. A name with anything else takes `clean_text`'s path."""
    joined = "\0".join(names)
    if (
        joined.isascii()
        and len(joined.encode().translate(None, PRINTABLE_ASCII)) == len(names) - 1
        and joined[:1] not in ("", " ", "\0")
        and joined[-1] not in (" ", "\0")
        and "  " not in joined
        and " \0" not in joined  # a name ending in a space
        and "\0 " not in joined  # a name starting with one
        and "\0\0" not in joined  # an empty name
    ):
        return names  # printable, non-empty, no space at either end or doubled: kept as is
    return [n for n in map(clean_text, names) if n]


_NOT_WORD = re.compile(r"[\W_]+")
# For ASCII titles: every non-alphanumeric byte becomes a space (what [\W_]+ does), in C.
_ASCII_NOT_WORD = bytes(
    c if (48 <= c <= 57 or 97 <= c <= 122) else 32 for c in range(256)
)  # applied after lower-casing, so A-Z are already a-z


def normalised_title(title: str) -> str:
    """The form two listings of one paper agree on: NFKC, case-folded, punctuation dropped."""
    if title.isascii():  # NFKC is the identity and casefold is lower() on ASCII
        return " ".join(title.lower().encode().translate(_ASCII_NOT_WORD).decode().split())
    folded = unicodedata.normalize("NFKC", title).casefold()
    return " ".join(_NOT_WORD.sub(" ", folded).split())


def title_key(title: str) -> str:
    """The work key of a paper with no known arXiv id: a hash of its normalised title."""
    digest = (_sha1 or _load_sha1())(normalised_title(title).encode()).hexdigest()[:16]
    return f"title:{digest}"


_sha1: Callable[[bytes], Any] | None = None


def _load_sha1() -> Callable[[bytes], Any]:
    """`hashlib.sha1`, imported at the first title key: hashlib loads OpenSSL (~4 ms of a
    start-up), which a run of papers that all have an arXiv id never needs."""
    global _sha1
    import hashlib

    _sha1 = hashlib.sha1
    return _sha1


def arxiv_key(arxiv_id: str) -> str:
    return f"arxiv:{arxiv_id}"


# --- counts -----------------------------------------------------------------------------------

_SUFFIX = {"k": 1000, "K": 1000, "m": 1_000_000, "M": 1_000_000}
_COUNT = re.compile(r"(\d{1,3}(?:,\d{3})+|\d+(?:\.\d+)?)([kKmM]?)")


def parse_count(text: str) -> int:
    """A shown count: '149' -> 149, '1.2k' -> 1200, '1,234' -> 1234, '-' (widget's zero) -> 0."""
    s = text.strip()
    if s.isdigit() and s.isascii():  # the common case
        return int(s)
    if s in ("-", "–", "—"):
        return 0
    m = _COUNT.fullmatch(s)
    if m is None:
        raise ValueError(f"not a count: {text!r} (expected e.g. '12', '1.2k' or '-')")
    number, suffix = m.groups()
    try:
        value = Decimal(number.replace(",", "")) * _SUFFIX.get(suffix, 1)
    except InvalidOperation:  # pragma: no cover - the pattern only admits decimals
        raise ValueError(f"not a count: {text!r}") from None
    if value != value.to_integral_value():
        raise ValueError(f"not a whole count: {text!r}")
    return int(value)


_AUTHORS = re.compile(r"(?:[•\-*–·]\s*)*(\d+)\s+authors?\s*(?:\]\(\S*\))?", re.IGNORECASE)


def parse_author_count(text: str) -> int:
    """'  • 13 authors', '1 author', '- 3 authors', '2 authors](https://…)' -> the number."""
    m = _AUTHORS.fullmatch(text.strip())
    if m is None:
        raise ValueError(f"not an author count: {text!r} (expected e.g. '• 3 authors')")
    return int(m.group(1))


# --- organisations ----------------------------------------------------------------------------

_SLUG = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*")


def parse_organization(text: str, slug: str | None = None) -> str:
    """An organisation line -> the display name.

    The line is the org's slug (the avatar's alt text) then its display name: 'Qwen Qwen' ->
    'Qwen', 'MHUGLab Multimedia and Human Understanding Group' -> the group's name. A single
    word is the name itself. When the org's link gave the `slug`, only that slug is stripped
    ('Google DeepMind' with slug 'google' stays whole). Without it the first word is
    taken as the slug only when it looks like one (letters, digits, '.', '_', '-').
    """
    line = clean_text(text)
    if line is None:
        raise ValueError(f"empty organisation line: {text!r}")
    first, sep, rest = line.partition(" ")
    if not sep:
        return line
    if slug is not None:  # the alt text is the slug exactly as in the link
        return rest if first == slug else line
    return rest if _SLUG.fullmatch(first) else line


# --- dates ------------------------------------------------------------------------------------


class PublishedDate(NamedTuple):
    date: dt.date
    comments: int | None  # the count printed after the date; None when none is shown
    raw: str  # the date text as printed, without the comment count
    inferred: bool  # True when the year was not printed and came from the reference date


_MONTHS: dict[str, int] = {}
for _n, _name in enumerate(
    (
        "january",
        "february",
        "march",
        "april",
        "may",
        "june",
        "july",
        "august",
        "september",
        "october",
        "november",
        "december",
    ),
    1,
):
    _MONTHS[_name] = _MONTHS[_name[:3]] = _n
_MONTHS["sept"] = 9
_MONTH_NAMES = {n: name for name, n in _MONTHS.items() if len(name) > 4 or name == "may"}
_MAX_DAY = (0, 31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31)

_PUBLISHED = re.compile(
    r"(?:published\s+on\s+)?"
    r"(?P<mon>[A-Za-z]{3,9})\.?\s+(?P<day>\d{1,2})"
    r"(?:,\s*(?P<year>\d{4})|\s+(?P<bare_year>(?:19|20)\d\d)(?!\S))?"
    r"(?:\s+(?P<count>\S+))?",
    re.IGNORECASE,
)
_ISO = re.compile(
    r"(\d{4})-(\d\d)-(\d\d)(?:[T ]\d\d:\d\d(?::\d\d(?:\.\d+)?)?(?:Z|[+-]\d\d:?\d\d)?)?"
)


def _month_day(month_text: str, day_text: str, text: str) -> tuple[int, int]:
    month = _MONTHS.get(month_text.lower())
    if month is None:
        raise ValueError(f"invalid date {text!r}: unknown month {month_text!r}")
    day = int(day_text)
    if not 1 <= day <= _MAX_DAY[month]:
        raise ValueError(f"invalid date {text!r}: {_MONTH_NAMES[month].title()} has no day {day}")
    return month, day


def resolve_yearless(month: int, day: int, reference: dt.date) -> dt.date:
    """The date of a yearless 'Mon D' printed on a page captured on `reference` (see module doc)."""
    for year in (reference.year, reference.year - 1):
        try:
            candidate = dt.date(year, month, day)
        except ValueError:  # Feb 29 outside a leap year: try the previous year
            continue
        if year < reference.year or (candidate - reference).days <= 1:
            return candidate
    raise ValueError(
        f"invalid date: month {month} day {day} exists in neither {reference.year} "
        f"nor {reference.year - 1}"
    )


def parse_published(text: str, reference: dt.date | None = None) -> PublishedDate:
    """A card's date line -> `PublishedDate`.

    Accepts 'Sep 25', 'Oct 9, 2023', 'Sep 25, 2023 2' (2 comments), 'Sep 29 2', 'Published on
    Sep 4, 2026' and ISO '2026-02-26T17:08:18.000Z'. Yearless dates need `reference`.
    """
    s = text.strip()
    if s[:1].isdigit():
        m = _ISO.fullmatch(s)
        if m is None:
            raise ValueError(f"not a date: {text!r}")
        try:
            return PublishedDate(dt.date(*map(int, m.groups())), None, s, False)
        except ValueError as exc:
            raise ValueError(f"invalid date {text!r}: {exc}") from None
    m = _PUBLISHED.fullmatch(s)
    if m is None:
        raise ValueError(f"not a date: {text!r} (expected e.g. 'Sep 25' or 'Oct 9, 2023')")
    month, day = _month_day(m["mon"], m["day"], s)
    count = m["count"]
    try:
        comments = parse_count(count) if count is not None else None
    except ValueError:
        raise ValueError(f"not a date: {text!r} ({count!r} is not a comment count)") from None
    raw = s[: m.start("count")].rstrip() if count is not None else s
    year_text = m["year"] or m["bare_year"]
    if year_text is not None:
        try:
            return PublishedDate(dt.date(int(year_text), month, day), comments, raw, False)
        except ValueError:
            raise ValueError(f"invalid date {text!r}: {year_text} is not a leap year") from None
    if reference is None:
        raise ValueError(f"date {text!r} has no year and no reference (capture) date was given")
    return PublishedDate(resolve_yearless(month, day, reference), comments, raw, True)


def is_date_line(text: str) -> bool:
    """Whether a line is a bare date ('Mar 14', 'Oct 9, 2023'), e.g. a listing's date heading."""
    s = text.strip()
    if not s or len(s) > 40 or not s[0].isalpha():
        return False
    m = _PUBLISHED.fullmatch(s)
    return m is not None and m["count"] is None and m["mon"].lower() in _MONTHS


# --- arXiv ids --------------------------------------------------------------------------------

# The one definition of an arXiv identifier: new style (YYMM.NNNNN) and old style
# (archive[.SC]/YYMMNNN), each with an optional version.
_NEW_ID = r"\d\d(?:0[1-9]|1[0-2])\.\d{4,5}"
_OLD_ID = r"[a-z]+(?:-[a-z]+)*(?:\.[A-Z]{2})?/\d{7}"
_ARXIV_NEW = re.compile(rf"(?<![\d.])({_NEW_ID})(?:v\d+)?(?![\d.]\d)")
_ARXIV_OLD = re.compile(rf"(?<![\w.-])({_OLD_ID})(?:v\d+)?(?!\d)")
_ARXIV_EXACT = re.compile(rf"({_NEW_ID}|{_OLD_ID})(?:v\d+)?")


def parse_arxiv_id(text: str | None) -> str | None:
    """`text` if it is exactly an arXiv id (version dropped), else None: '2410.05434v2' ->
    '2410.05434'; an HF paper id that is not an arXiv id (e.g. a hash) -> None."""
    if not text:
        return None
    m = _ARXIV_EXACT.fullmatch(text.strip())
    return m.group(1) if m else None


def arxiv_id_from(text: str | None) -> str | None:
    """The arXiv id (without version) in a text or URL, or None.

    '2410.05434v2' -> '2410.05434'; 'https://huggingface.co/papers/2409.02326#community',
    'login?next=%2Fpapers%2F2410.05434', 'hep-th/9901001'.
    """
    if not text:
        return None
    m = _ARXIV_NEW.search(text)  # a new-style id needs no unquoting: try it first
    if m is not None:
        return m.group(1)
    if "%" in text:
        text = unquote(text)
        m = _ARXIV_NEW.search(text)
        if m is not None:
            return m.group(1)
    if "/" in text:
        m = _ARXIV_OLD.search(text)
        if m is not None:
            return m.group(1)
    return None
