"""arXiv API answers (Atom) -> papers, the declared `opensearch:totalResults`, and errors.

Parsed with defusedxml (no entities, no DTD). An entry whose id is under
`https://arxiv.org/api/errors` is the API's error report (a malformed id, a bad query), not a
paper: the answer's `error` holds its message.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from dataclasses import dataclass, field

from harvester.errors import InputError
from harvester.schema import Paper, Rejected

from .oai import _day, _text, _texts, _xml
from .records import arxiv_paper, id_and_version, split_dois

ATOM = "{http://www.w3.org/2005/Atom}"
OPENSEARCH = "{http://a9.com/-/spec/opensearch/1.1/}"
ARXIV = "{http://arxiv.org/schemas/atom}"
_ERRORS = ("http://arxiv.org/api/errors", "https://arxiv.org/api/errors")


@dataclass
class Feed:
    total_results: int | None = None
    entries: list[Paper | Rejected] = field(default_factory=list)
    error: str | None = None


def parse_feed(content: bytes, where: str) -> Feed:
    root = _xml(content, where)
    if root.tag != f"{ATOM}feed":
        raise InputError(where, f"not an arXiv API answer (its root is <{root.tag}>)")
    feed = Feed()
    total = _text(root, f"{OPENSEARCH}totalResults")
    feed.total_results = int(total) if total and total.isdigit() else None
    for entry in root.iterfind(f"{ATOM}entry"):
        entry_id = _text(entry, f"{ATOM}id") or ""
        if entry_id.startswith(_ERRORS):
            feed.error = _text(entry, f"{ATOM}summary") or entry_id
            return feed
        feed.entries.append(_entry(entry, entry_id, where))
    return feed


def _entry(entry: ET.Element, entry_id: str, where: str) -> Paper | Rejected:
    arxiv_id, version = id_and_version(entry_id)
    ref = f"{where}#{arxiv_id or entry_id}"
    title = _text(entry, f"{ATOM}title")
    if arxiv_id is None or title is None:
        what = "an arXiv id" if arxiv_id is None else "a title"
        return Rejected(
            reason=f"an API entry without {what}",
            source_ref=ref,
            raw=ET.tostring(entry, encoding="unicode")[:2000],
        )
    primary = entry.find(f"{ARXIV}primary_category")
    terms = [c.get("term") for c in entry.iterfind(f"{ATOM}category")]
    categories = [primary.get("term") if primary is not None else None, *terms]
    published = _text(entry, f"{ATOM}published")
    return arxiv_paper(
        arxiv_id=arxiv_id,
        version=version,
        title=title,
        source_ref=ref,
        authors=_texts(entry, f"{ATOM}author/{ATOM}name"),
        abstract=_text(entry, f"{ATOM}summary"),
        categories=[c for c in categories if c],
        dois=split_dois(_text(entry, f"{ARXIV}doi")),
        published=_day(published),
        published_raw=published,
        extra={
            "updated": _text(entry, f"{ATOM}updated"),
            "comment": _text(entry, f"{ARXIV}comment"),
            "journal_ref": _text(entry, f"{ARXIV}journal_ref"),
        },
    )
