"""What one line of a dump is: its kind (a card's structural lines) and, for text, its shape.

Structural lines are recognised by their first character before anything else (most lines of
a dump are titles and abstracts, which start with a letter), so the common line costs one set
lookup. Both captures HF listing pages come in are read:

* plain text (the page's text, links on their own lines)::

     [-] 12                                              UPVOTE ('-' is 0)
    https://huggingface.co/login?next=%2Fpapers%2FID     LOGIN
    https://huggingface.co/papers/ID                     PAPER (ID: an arXiv id)
    [  /  4 authors](https://huggingface.co/papers/ID)   OPEN, then the link's end
      • 3 authors                                        AUTHORS
    ·                                                    DOT
    https://huggingface.co/papers/ID#community           COMMUNITY
    https://huggingface.co/google                        SITE (an organisation, or navigation)

* markdown (links inline, style A of the reference captures)::

    [101](https://huggingface.co/login?next=…)           MD_UPVOTE
    ### [Title](https://huggingface.co/papers/ID)        MD_TITLE
    [Abstract text](https://huggingface.co/papers/ID)    MD_TEXT
    [- 10 authors](https://huggingface.co/papers/ID)     AUTHORS
    [![slug](avatar)Name](https://huggingface.co/slug)   MD_ORG
"""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import unquote

from harvester.normalise import parse_arxiv_id, parse_author_count

(
    TEXT,
    DOT,
    AUTHORS,
    OPEN,
    UPVOTE,
    LOGIN,
    PAPER,
    COMMUNITY,
    SITE,
    LINK,
    MD_UPVOTE,
    MD_TITLE,
    MD_TEXT,
    MD_ORG,
    SUBMITTED,
    COUNT,
    THUMB,
) = range(17)
KIND_NAMES = (
    "text",
    "'·'",
    "author count",
    "'['",
    "upvote widget",
    "login link",
    "paper link",
    "comments link",
    "site link",
    "link",
    "upvote link",
    "title link",
    "abstract link",
    "organisation link",
    "'Submitted by'",
    "count",
    "thumbnail link",
)
# The first characters of structural lines; any other line is text.
SPECIAL_FIRST = frozenset("·•[#h-0123456789S")
HF_HOST = "huggingface.co"

# Lines of the page around the listing (header, tabs): never a paper's title.
HEADER_LINES = frozenset(
    {
        "new",
        "Get trending papers in your email inbox!",
        "Get trending papers in your email inbox once a day!",
        "Subscribe",
        "Daily Papers",
        "# Daily Papers",
        "Trending Papers",
        "byAK and the research community",
        "by AK and the research community",
        "by",
        "AK",
        "and the research community",
        "Daily",
        "Weekly",
        "Monthly",
        "- Daily",
        "- Weekly",
        "- Monthly",
    }
)
# Header lines that only a Hugging Face papers page shows: evidence that a file is a listing.
# Whole lines, so that markup quoting them (an HTML page's <title>) is no evidence.
HF_MARKERS = frozenset(
    {
        "Daily Papers",
        "# Daily Papers",
        "Get trending papers in your email inbox!",
        "Get trending papers in your email inbox once a day!",
        "byAK and the research community",
        "by AK and the research community",
        "and the research community",
    }
)


def hf_marker(s: str) -> bool:
    """A header line of a Hugging Face papers page (the markdown one links AK's avatar)."""
    return s in HF_MARKERS or (s.startswith("## by ") and s.endswith(" and the research community"))


_LOGIN_URL = "https://huggingface.co/login?next=%2Fpapers%2F"
_COUNT_LINE = re.compile(r"\d{1,3}(?:,\d{3})+|\d+(?:\.\d+)?[kKmM]?")
_IMAGE = re.compile(r"!\[[^\]]*\]\([^)\s]*\)")
_MD_ESCAPE = re.compile(r"\\([\\`*_{}\[\]()#+\-.!|~<> ])")


def classify(s: str) -> tuple[int, Any]:
    """The kind of a stripped, non-empty line starting with a SPECIAL_FIRST character, and its
    payload: an id, a slug, a count's text, or (text, id / slug) for markdown links."""
    if len(s) > 24:
        return _classify(s)
    found = _cache.get(s)
    if found is None:  # short structural lines ('·', '• 3 authors', '[-] 19') repeat a lot
        found = _classify(s)
        if len(_cache) >= 4096:
            _cache.clear()
        _cache[s] = found
    return found


_cache: dict[str, tuple[int, Any]] = {}


def _classify(s: str) -> tuple[int, Any]:
    c = s[0]
    if c == "·":
        return (DOT, None) if s == "·" else (TEXT, None)
    if c == "[":
        return _bracket(s)
    if c == "h":
        return url_kind(s)
    if c == "S":
        if s.startswith("Submitted by"):  # a card's submitter badge (2024 and 2026 cards)
            return SUBMITTED, unescape(_IMAGE.sub("", s[12:])).strip()
        return TEXT, None
    if c.isdigit() and len(s) <= 12 and _COUNT_LINE.fullmatch(s):
        return COUNT, s  # an upvote, comment or star count on its own line
    if c == "#":
        if s.startswith("### [") and s.endswith(")"):
            kind, payload = _bracket(s[4:])
            if kind == MD_TEXT:
                return MD_TITLE, payload
        return TEXT, None
    if "author" in s and len(s) < 200:  # '• 3 authors', '- 3 authors', '3 authors](…)'
        try:
            return AUTHORS, (parse_author_count(s), link_id(s))
        except ValueError:
            return TEXT, None
    return TEXT, None


def url_kind(s: str) -> tuple[int, Any]:
    """A line that is one URL: its kind and the paper id or slug it names."""
    if s.startswith(_LOGIN_URL) and (paper := arxiv_id(s[len(_LOGIN_URL) :])) is not None:
        return LOGIN, paper  # the most common link
    if " " in s or not s.startswith(("https://", "http://")):
        return TEXT, None
    host, _, path = s.partition("://")[2].partition("/")
    if not (host == HF_HOST or host.endswith("." + HF_HOST)):
        return LINK, s
    if path.startswith("login?next="):
        target = unquote(path[len("login?next=") :])
        paper = arxiv_id(target[8:].rstrip("/")) if target.startswith("/papers/") else None
        return (LOGIN, paper) if paper else (LINK, s)
    if path.startswith("papers/"):
        paper, _, fragment = path[7:].partition("#")
        paper = arxiv_id(paper.rstrip("/"))
        if paper is None:
            return LINK, s  # /papers/trending, /papers/date/2026-05-03: not a paper
        if fragment == "community":
            return COMMUNITY, paper
        return (PAPER, paper) if not fragment else (LINK, s)
    slug = path.rstrip("/")
    if slug and "/" not in slug and "?" not in slug and "#" not in slug:
        return SITE, slug
    return LINK, s


def arxiv_id(paper: str) -> str | None:
    """The arXiv id a link names ('2604.01234', version dropped), or None: 'YYMM.NNNNN' is
    checked without a regex (the common case), anything else by `parse_arxiv_id`."""
    if (
        len(paper) in (9, 10)
        and paper[4] == "."
        and paper[:4].isdigit()
        and paper[5:].isdigit()
        and "01" <= paper[2:4] <= "12"
        and paper.isascii()
    ):
        return paper
    return parse_arxiv_id(paper)


def link_id(s: str) -> str | None:
    """The paper id of a line ending in a markdown link to a paper ('… authors](…/papers/ID)')."""
    at = s.rfind("](")
    if at < 0 or not s.endswith(")"):
        return None
    kind, payload = url_kind(s[at + 2 : -1])
    return payload if kind == PAPER else None


def _bracket(s: str) -> tuple[int, Any]:
    if s == "[":
        return OPEN, ""
    if s.startswith("[-]") and not s.startswith("[-]("):
        return UPVOTE, s[3:].strip()
    at = s.rfind("](")
    if at > 0 and s.endswith(")") and " " not in s[at + 2 : -1]:
        return markdown_link(s[1:at], s[at + 2 : -1])
    if s.startswith(("[-", "[!")):  # the first line of a markdown author block or org link
        return OPEN, s[1:]
    return TEXT, None


def markdown_link(text: str, url: str) -> tuple[int, Any]:
    """The kind of a markdown link `[text](url)` that makes up a line (or a block of lines)."""
    kind, payload = url_kind(url)
    if kind == LOGIN:
        return MD_UPVOTE, (text.strip(), payload)
    if kind == PAPER:
        count = author_count(text)
        if count is not None:
            return AUTHORS, (count, payload)
        if "![" in text and not _IMAGE.sub("", text).strip():
            return THUMB, payload  # a thumbnail linking the paper
        if text.startswith("Submitted by"):
            return SUBMITTED, unescape(_IMAGE.sub("", text[12:])).strip()
        return MD_TEXT, (unescape(text), payload)
    if kind == COMMUNITY:
        return COMMUNITY, payload
    if kind == SITE and "![" in text:
        return MD_ORG, (unescape(_IMAGE.sub("", text)).strip(), payload)
    return LINK, url


def author_count(text: str) -> int | None:
    """'4 authors', '- 10 authors', or a markdown author block (avatars, then '- 3 authors')."""
    if "author" not in text:
        return None
    if "![" in text:
        text = _IMAGE.sub("", text)
    last = text.replace("\\", "\n").strip().rsplit("\n", 1)[-1]
    try:
        return parse_author_count(last)
    except ValueError:
        return None


def unescape(text: str) -> str:
    """Markdown text without its backslash escapes ('Engage\\  with' -> 'Engage  with')."""
    return _MD_ESCAPE.sub(r"\1", text) if "\\" in text else text
