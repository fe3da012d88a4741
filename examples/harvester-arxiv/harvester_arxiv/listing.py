"""Parse an arXiv listing page (``/list/<category>/new`` or ``/recent``) into papers.

The markup: ``<dl id='articles'>`` holds ``<h3>`` section or day headings, then one ``<dt>``
(the arXiv id, in an ``<a title="Abstract">`` link) and one ``<dd>`` per paper. The ``<dd>``
has ``div.list-title``, ``div.list-authors`` (one link per author), optional
``div.list-comments``, ``div.list-subjects`` (``span.primary-subject`` first) and, on ``/new``
pages only, the abstract in ``p.mathjax``.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator
from typing import Any

from selectolax.lexbor import LexborHTMLParser, LexborNode

from harvester.errors import InputError
from harvester.normalise import arxiv_id_from, clean_text
from harvester.schema import Paper, Rejected

_DESCRIPTOR = re.compile(r"^\s*[A-Za-z -]+:\s*")  # "Title:", "Comments:", "Subjects:"
_DATE = re.compile(r"(\d{1,2})\s+([A-Z][a-z]+)\.?,?\s+(\d{4})")
_SUBJECT_CODE = re.compile(r"\(([^()]+)\)\s*$")
_DT_TAG = re.compile(rb"<dt[\s>]", re.IGNORECASE)
_MONTHS = {
    m: i
    for i, m in enumerate(
        ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"), 1
    )
}
RAW_LIMIT = 2000  # characters of an unusable entry's HTML kept in its Rejected record


def heading_date(text: str) -> dt.date | None:
    """The date in a listing heading: 'Wed, 7 Oct 2026 (showing ...)' or
    'Showing new listings for Wednesday, 7 October 2026'."""
    m = _DATE.search(text)
    if not m:
        return None
    month = _MONTHS.get(m.group(2)[:3].lower())
    if month is None:
        return None
    try:
        return dt.date(int(m.group(3)), month, int(m.group(1)))
    except ValueError:
        return None


def _field_text(dd: LexborNode, selector: str) -> str | None:
    node = dd.css_first(selector)
    if node is None:
        return None
    return clean_text(_DESCRIPTOR.sub("", node.text(deep=True), count=1))


def _arxiv_id(dt_node: LexborNode) -> str | None:
    link = dt_node.css_first('a[title="Abstract"]') or dt_node.css_first('a[href*="/abs/"]')
    candidates = [dt_node.text(deep=True)]
    if link is not None:
        candidates = [
            link.attributes.get("id") or "",
            link.attributes.get("href") or "",
            link.text(deep=True),
            *candidates,
        ]
    for text in candidates:
        found = arxiv_id_from(text)  # harvester's one arXiv-id pattern, version dropped
        if found:
            return found
    return None


def _subjects(dd: LexborNode) -> tuple[str | None, list[str]]:
    """(primary subject code, all subject codes) from div.list-subjects."""
    text = _field_text(dd, "div.list-subjects")
    if not text:
        return None, []
    codes = []
    for part in text.split(";"):
        m = _SUBJECT_CODE.search(part.strip())
        codes.append(m.group(1) if m else part.strip())
    primary_node = dd.css_first("span.primary-subject")
    primary = codes[0] if codes else None
    if primary_node is not None and (m := _SUBJECT_CODE.search(primary_node.text().strip())):
        primary = m.group(1)
    return primary, [c for c in codes if c]


def entry_to_paper(
    dt_node: LexborNode,
    dd: LexborNode,
    *,
    ref: str,
    listing_date: dt.date | None,
    section: str | None,
    base_url: str,
) -> Paper | Rejected:
    """One dt/dd pair as a `Paper`, or a `Rejected` saying what is missing."""
    arxiv_id = _arxiv_id(dt_node)
    title = _field_text(dd, "div.list-title")
    if arxiv_id is None or title is None:
        reason = "entry has no arXiv id" if arxiv_id is None else "entry has no title"
        raw = (dt_node.html or "") + (dd.html or "")
        return Rejected(reason=reason, source_ref=ref, raw=raw[:RAW_LIMIT])
    authors_node = dd.css_first("div.list-authors")
    authors: list[str] = []
    if authors_node is not None:
        links = authors_node.css("a")
        names = (
            [a.text(deep=True) for a in links]
            if links
            else (_DESCRIPTOR.sub("", authors_node.text(deep=True), count=1).split(","))
        )
        authors = [n for n in map(clean_text, names) if n]
    abstract_node = dd.css_first("p.mathjax")
    primary, subjects = _subjects(dd)
    extra: dict[str, Any] = {"subjects": subjects}
    if primary:
        extra["primary_subject"] = primary
    if comments := _field_text(dd, "div.list-comments"):
        extra["comments"] = comments
    if section:
        extra["section"] = section
    return Paper(
        arxiv_id=arxiv_id,
        title=title,
        abstract=clean_text(abstract_node.text(deep=True)) if abstract_node else None,
        authors=authors,
        author_count=len(authors) if authors else None,
        listing_date=listing_date,
        url=f"{base_url}/abs/{arxiv_id}",
        source_ref=ref,
        extra={"arxiv": extra},
    )


def _dt_lines(content: bytes) -> list[int]:
    """1-based line of every ``<dt`` tag, in document order (for file:line locations)."""
    lines, last_pos, line = [], 0, 1
    for m in _DT_TAG.finditer(content):
        line += content.count(b"\n", last_pos, m.start())
        last_pos = m.start()
        lines.append(line)
    return lines


def parse_listing(
    content: bytes, where: str, *, is_url: bool, base_url: str = "https://arxiv.org"
) -> Iterator[Paper | Rejected]:
    """Papers (and rejects) of one listing page, in page order.

    `where` names the page in locations: entries of a file are 'file:line' (the line of the
    entry's ``<dt>``), entries of a URL are 'url#<arxiv id>' (the page's own anchors).
    Raises `InputError` when the page is not an arXiv listing at all.
    """
    try:
        text = content.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise InputError(where, f"not UTF-8 text ({exc.reason} at byte {exc.start})") from None
    tree = LexborHTMLParser(text)
    lists = tree.css("dl#articles")
    if not lists:
        raise InputError(where, "not an arXiv listing page: it has no <dl id='articles'>")
    page_heading = next((h.text() for h in tree.css("h3") if heading_date(h.text())), "")
    page_date = heading_date(page_heading)
    lines = _dt_lines(content)
    if len(lines) != len(tree.css("dt")):
        lines = []  # '<dt' inside a comment or script: fall back to item numbers
    number = 0
    for dl in lists:
        listing_date, section = page_date, None
        pending_dt: LexborNode | None = None
        for child in dl.iter():
            if child.tag == "h3":
                heading = clean_text(child.text()) or ""
                listing_date = heading_date(heading) or page_date
                section = heading.split("(")[0].strip() or None
            elif child.tag == "dt":
                if pending_dt is not None:  # a <dt> without its <dd>
                    yield Rejected(
                        reason="entry has no <dd> (title, authors)",
                        source_ref=_ref(where, is_url, lines, number, pending_dt),
                        raw=(pending_dt.html or "")[:RAW_LIMIT],
                    )
                number += 1
                pending_dt = child
            elif child.tag == "dd" and pending_dt is not None:
                ref = _ref(where, is_url, lines, number, pending_dt)
                yield entry_to_paper(
                    pending_dt,
                    child,
                    ref=ref,
                    listing_date=listing_date,
                    section=section,
                    base_url=base_url,
                )
                pending_dt = None
        if pending_dt is not None:
            yield Rejected(
                reason="entry has no <dd> (title, authors)",
                source_ref=_ref(where, is_url, lines, number, pending_dt),
                raw=(pending_dt.html or "")[:RAW_LIMIT],
            )


def _ref(where: str, is_url: bool, lines: list[int], number: int, dt_node: LexborNode) -> str:
    if is_url:
        arxiv_id = _arxiv_id(dt_node)
        return f"{where}#{arxiv_id}" if arxiv_id else f"{where}#item{number}"
    if lines and number <= len(lines):
        return f"{where}:{lines[number - 1]}"
    return f"{where}#item{number}"
