"""arXiv's URLs: listing pages, OAI-PMH requests and API queries, and the names they take.

Every host here (arxiv.org, export.arxiv.org, oaipmh.arxiv.org) is covered by the fetcher's one
`arxiv.org` budget key (`harvester.fetch.budgets.PRESET_BUDGETS`): arXiv asks for one request
every 3 s across all of them.
"""

from __future__ import annotations

import datetime as dt
import re
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

ARXIV_SITE = "https://arxiv.org"  # canonical paper URLs always point at the real site
OAI_BASE = "https://oaipmh.arxiv.org/oai"
API_BASE = "https://export.arxiv.org/api/query"

# An archive ("cs", "hep-th", "astro-ph") or a category ("cs.CL", "math.AG", "physics.optics").
ARCHIVE_PATTERN = r"^[a-z]+(-[a-z]+)*$"
CATEGORY_PATTERN = r"^[a-z]+(-[a-z]+)*\.[A-Za-z]+(-[A-Za-z]+)*$"
# An OAI set: "cs", "physics:hep-th", "cs:cs:AI" (arXiv's sets since 2025).
OAI_SET_PATTERN = r"^[A-Za-z-]+(:[A-Za-z.-]+)*$"
BASE_URL_PATTERN = r"^https?://[^\s/?#]+(/[^\s?#]*)?$"
LISTINGS = ("new", "recent", "pastweek")

_LISTING_PATH = re.compile(r"/list/([^/?#]+)/(new|recent|pastweek)/?$")


def abs_url(arxiv_id: str) -> str:
    return f"{ARXIV_SITE}/abs/{arxiv_id}"


def listing_url(base_url: str, context: str, listing: str) -> str:
    """The listing of `context` (a category or archive): /list/<context>/<listing>."""
    return f"{base_url.rstrip('/')}/list/{context}/{listing}"


def page_url(listing: str, skip: int, show: int) -> str:
    """One page of a listing: `show` entries from entry `skip` (0-based) on."""
    parts = urlsplit(listing)
    return urlunsplit(parts._replace(query=urlencode({"skip": skip, "show": show}), fragment=""))


def listing_of(url: str) -> tuple[str, str] | None:
    """(context, listing) a listing URL names, e.g. ('cs.CL', 'recent'); None for others."""
    m = _LISTING_PATH.search(urlsplit(url).path)
    return (m[1], m[2]) if m else None


def day_fragment(url: str) -> dt.date | None:
    """The day a day target names in its fragment (`.../recent#2026-07-27`)."""
    fragment = urlsplit(url).fragment
    try:
        return dt.date.fromisoformat(fragment) if fragment else None
    except ValueError:
        return None


def oai_url(base_url: str, **params: str) -> str:
    """An OAI-PMH request: `verb=ListRecords&metadataPrefix=...` or `resumptionToken=...`."""
    return f"{base_url}?{urlencode({'verb': 'ListRecords', **params})}"


def api_url(base_url: str, ids: list[str]) -> str:
    """An API `id_list` query asking for every id at once (`max_results` as many)."""
    query = urlencode({"id_list": ",".join(ids), "max_results": len(ids)}, safe=",/")
    return f"{base_url}?{query}"


def query_params(url: str) -> dict[str, str]:
    return dict(parse_qsl(urlsplit(url).query))
