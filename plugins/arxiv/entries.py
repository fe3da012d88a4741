"""One listing entry (`<dt>` id line, `<dd>` metadata) -> a `Paper`, or a `Rejected` saying
what is missing.

What an entry shows and where it goes:

* the id from the `<dt>`'s abstract link; the version from a link that names one (the HTML
  link, `.../html/2408.04000v1`); without one, a new submission or a cross-list is version 1 (it
  is announced as its first version) and a replacement's version is null (`version_unknown`);
* "(cross-list from X)" / "(replaced)" and the section say how it was announced
  (`extra.arxiv.announced_as`: "new", "cross-list", "replacement");
* title, authors (the author links), comments (`extra.arxiv.comment`), journal reference
  (`extra.arxiv.journal_ref`), subjects (`categories`, the primary first) and, on /new pages
  only, the abstract (`p.mathjax`).

A listing prints at most 101 author names (arXiv truncates longer lists without saying so);
such a list, or one the submitter ended with "et al.", is not the full author list: `authors`
stays empty and the names shown go to `extra.arxiv.authors_shown`.
"""

from __future__ import annotations

import datetime as dt
import re

from selectolax.lexbor import LexborNode

from harvester.normalise import clean_text
from harvester.schema import Paper, Rejected

from .page import Entry, Heading
from .records import arxiv_paper, id_and_version

RAW_LIMIT = 2000  # characters of an unusable entry's HTML kept in its Rejected record
SHOWN_AUTHORS_MAX = 101  # arXiv's listings cut author lists after 101 names
_DESCRIPTOR = re.compile(r"^\s*[A-Za-z -]+:\s*")  # "Title:", "Comments:", "Subjects:"
_CODE = re.compile(r"\(([a-z]+(?:-[a-z]+)*(?:\.[A-Za-z]+(?:-[A-Za-z]+)*)?)\)\s*$")
_CROSS = re.compile(r"\(cross-list from ([^)]+)\)", re.IGNORECASE)
_REPLACED = re.compile(r"\(replaced\)", re.IGNORECASE)
_ET_AL = re.compile(r"\bet\.? al\b", re.IGNORECASE)


def field_text(dd: LexborNode, selector: str) -> str | None:
    node = dd.css_first(selector)
    if node is None:
        return None
    return clean_text(_DESCRIPTOR.sub("", node.text(deep=True), count=1))


def entry_id(head: LexborNode) -> tuple[str | None, int | None]:
    """The entry's arXiv id, and the version a link of its id line names (None: none does)."""
    link = head.css_first('a[title="Abstract"]') or head.css_first('a[href*="/abs/"]')
    arxiv_id, _ = id_and_version(link.attributes.get("href") if link is not None else None)
    if arxiv_id is None:
        arxiv_id, _ = id_and_version(head.text(deep=True))
    if arxiv_id is None:
        return None, None
    for a in head.css("a[href]"):
        found, version = id_and_version(a.attributes.get("href"))
        if found == arxiv_id and version is not None:
            return arxiv_id, version
    return arxiv_id, None


def categories(dd: LexborNode) -> list[str]:
    """The subject codes, the primary first: 'High Energy Physics - Theory (hep-th); ...'."""
    text = field_text(dd, "div.list-subjects") or ""
    codes = [m[1] for part in text.split(";") if (m := _CODE.search(part.strip()))]
    primary = dd.css_first("span.primary-subject")
    m = _CODE.search(primary.text().strip()) if primary is not None else None
    if m and m[1] in codes:
        codes.remove(m[1])
        codes.insert(0, m[1])
    return codes


def authors(dd: LexborNode) -> tuple[list[str], str | None]:
    """(the full author list, or [] when the page does not show it whole; why not whole)."""
    node = dd.css_first("div.list-authors")
    if node is None:
        return [], "the entry shows no author list"
    names = [n for a in node.css("a") if (n := clean_text(a.text(deep=True)))]
    if not names:  # an author line without links: names separated by commas
        text = _DESCRIPTOR.sub("", node.text(deep=True), count=1)
        names = [n for part in text.split(",") if (n := clean_text(part))]
    if len(names) >= SHOWN_AUTHORS_MAX:
        return names, f"listings show at most {SHOWN_AUTHORS_MAX} authors; the list may go on"
    if _ET_AL.search(node.text(deep=False) or ""):  # the text between the author links
        return names, "the author line ends with 'et al.'"
    return names, None


def announced_as(head: LexborNode, heading: Heading | None) -> tuple[str, str | None]:
    """How the entry was announced, and the category it was cross-listed from."""
    text = head.text(deep=True)
    cross = _CROSS.search(text)
    if cross:
        return "cross-list", clean_text(cross[1])
    if _REPLACED.search(text):
        return "replacement", None
    return (heading.kind if heading and heading.kind else "new"), None


def entry_to_paper(
    entry: Entry, heading: Heading | None, *, ref: str, listing_date: dt.date | None, listed_in
) -> Paper | Rejected:
    head, body = entry.head, entry.body
    arxiv_id, version = entry_id(head)
    title = field_text(body, "div.list-title") if body is not None else None
    if arxiv_id is None or title is None or body is None:
        reason = (
            "entry has no arXiv id"
            if arxiv_id is None
            else "entry has no <dd> (title, authors)"
            if body is None
            else "entry has no title"
        )
        raw = (head.html or "") + (body.html or "" if body is not None else "")
        return Rejected(reason=reason, source_ref=ref, raw=raw[:RAW_LIMIT])
    kind, _ = announced_as(head, heading)
    names, not_whole = authors(body)
    version_unknown = None
    if version is None:
        if kind == "replacement":
            version_unknown = "a replacement (v2 or later); the page names no version"
        else:
            version = 1  # a new submission or cross-list is announced as its first version
    abstract = body.css_first("p.mathjax")
    return arxiv_paper(
        arxiv_id=arxiv_id,
        version=version,
        title=title,
        source_ref=ref,
        authors=[] if not_whole else names,
        abstract=abstract.text(deep=True) if abstract is not None else None,
        categories=categories(body),
        listing_date=listing_date,
        extra={
            "announced_as": kind,
            "listed_in": listed_in,
            "comment": field_text(body, "div.list-comments"),
            "journal_ref": field_text(body, "div.list-journal-ref"),
            "version_unknown": version_unknown,
            "authors_shown": names if not_whole else None,
            "authors_not_whole": not_whole if names else None,
        },
    )
