"""The one arXiv metadata -> `Paper` mapping the three arXiv sources share, and arXiv ids with
their versions.

Every text goes through `harvester.normalise.clean_text` here, which is why the sources may be
`trusted`. What arXiv says beyond the record's fields goes under `extra.arxiv` (documented in
docs/arxiv.md); an empty value is left out rather than written as null.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable
from typing import Any

from harvester.normalise import arxiv_id_from, clean_text
from harvester.schema import Paper

from .urls import abs_url

_VERSION_AFTER = re.compile(r"v(\d{1,4})(?!\d)")
_DOI = re.compile(r"10\.\d{4,9}/\S+")


def id_and_version(text: str | None) -> tuple[str | None, int | None]:
    """The arXiv id in `text` (a bare id, an /abs/ or /html/ URL) and the version written right
    after it: '2202.12139v1' -> ('2202.12139', 1); no version written -> (id, None)."""
    arxiv_id = arxiv_id_from(text)
    if arxiv_id is None or text is None:
        return None, None
    at = text.find(arxiv_id)
    m = _VERSION_AFTER.match(text, at + len(arxiv_id)) if at >= 0 else None
    return arxiv_id, int(m[1]) if m else None


def split_dois(text: str | None) -> list[str]:
    """The DOIs in a DOI field: arXiv's metadata may hold several, space separated."""
    return _DOI.findall(text or "")


def clean_list(values: Iterable[str | None], *, unique: bool = False) -> list[str]:
    """Cleaned and non-empty, in order; with `unique`, each once."""
    texts = [text for value in values if (text := clean_text(value))]
    return list(dict.fromkeys(texts)) if unique else texts


def arxiv_paper(
    *,
    arxiv_id: str,
    title: str,
    source_ref: str,
    version: int | None = None,
    authors: Iterable[str] = (),
    abstract: str | None = None,
    categories: Iterable[str] = (),
    dois: Iterable[str] = (),
    listing_date: dt.date | None = None,
    published: dt.date | None = None,
    published_raw: str | None = None,
    extra: dict[str, Any] | None = None,
) -> Paper:
    """A paper from arXiv's metadata. `categories` primary first; the first of `dois` is the
    record's `doi` (all of them in `extra.arxiv.dois` when there are several)."""
    doi_list = clean_list(dois, unique=True)
    arxiv = {k: v for k, v in (extra or {}).items() if v is not None and v != [] and v != {}}
    if len(doi_list) > 1:
        arxiv["dois"] = doi_list
    return Paper(
        arxiv_id=arxiv_id,
        arxiv_version=version,
        title=clean_text(title) or "",
        abstract=clean_text(abstract),
        authors=clean_list(authors),
        categories=clean_list(categories, unique=True) or None,
        doi=doi_list[0] if doi_list else None,
        published=published,
        published_raw=clean_text(published_raw),
        listing_date=listing_date,
        url=abs_url(arxiv_id),
        source_ref=source_ref,
        extra={"arxiv": arxiv} if arxiv else {},
    )
