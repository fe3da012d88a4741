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


# -- text shapes ----------------------------------------------------------------------------------

TITLE_MAX = 300  # characters: a longer paragraph is an abstract
TITLE_MAX_LINES = 8  # a 300-character title wrapped at 40 columns
ORG_MAX = 100
WRAP_MAX = 240  # a longer line was not wrapped by a tool: the next line starts something new
WRAP_MIN = 40  # columns: text is never wrapped narrower (tools wrap at 60-100)
WRAP_SLACK = 2  # a wrapped line plus the next line's first word exceeds the width, give or take
_NOT_TITLE_END = frozenset(".;,:")
SENTENCE_END = frozenset(".!?")


def title_shaped(text: str, lines: int = 1) -> bool:
    """Whether a paragraph can be a title: short, no sentence punctuation at its end, and not
    starting with a plain lower-case word (a wrapped sentence's tail; 'mPLUG' is a title), nor
    holding the end of a sentence ('… ML systems. What would …': titles end a question or an
    exclamation inside, 'Skill-it! A …', never a sentence)."""
    if lines > TITLE_MAX_LINES or len(text) > TITLE_MAX or text[-1] in _NOT_TITLE_END:
        return False
    if text[0].islower() and starts_lowercase_word(text):
        return False
    if "://" in text:
        return False  # a link: a sentence of an abstract ('Code is at https://…')
    return ". " not in text or _SENTENCE_INSIDE.search(text) is None


_SENTENCE_INSIDE = re.compile(r"[a-z]{4}\. [A-Z]")


_NOT_SENTENCE_END = frozenset(("e.g.", "i.e.", "al.", "vs.", "cf.", "Fig.", "Eq.", "approx."))


def ends_sentence(line: str) -> bool:
    """Whether a line ends a sentence: '.', '!' or '?', not after a list number ('2.'), an
    initial ('A.') or an abbreviation ('e.g.')."""
    if line[-1] not in SENTENCE_END:
        return False
    word = line[line.rfind(" ") + 1 :]
    abbreviated = word[:-1].isdigit() or len(word) == 2 or word in _NOT_SENTENCE_END
    return not (line[-1] == "." and abbreviated)


def starts_lowercase_word(text: str) -> bool:
    """'rising. We …', 'and show …' (a sentence going on), not 'mPLUG-Owl' or 'e5'."""
    if not text[0].islower():
        return False
    word = text.split(" ", 1)[0].rstrip(".,;:!?")
    return word.isalpha() and word.islower()


def title_cased(text: str) -> bool:
    """Most of its longer words capitalised ('Sparse Lantern Networks for Video'): a title's
    style, seldom a sentence's."""
    words = [w for w in text.split() if len(w) >= 4]
    return bool(words) and 3 * sum(w[0].isupper() for w in words) >= 2 * len(words)


def org_shaped(text: str) -> bool:
    """An organisation line: the avatar's slug then the name ('acme Acme Research', 'Qwen
    Qwen'), so unlike a title it may start with a lower-case word; short, no sentence end."""
    return len(text) <= ORG_MAX and text[-1] not in _NOT_TITLE_END


def first_word_length(s: str) -> int:
    space = s.find(" ")
    return len(s) if space < 0 else space


def fits_wrap(previous: str, width: int, following: str) -> bool:
    """Whether `following` can be the next line of a paragraph wrapped at about `width` whose
    line `previous` is: a wrapping tool moves a word to the next line only when it did not fit,
    so the previous line plus the next line's first word must exceed the width."""
    if len(previous) > WRAP_MAX:
        return False
    width = max(width, len(following), WRAP_MIN)
    return len(previous) + 1 + first_word_length(following) > width - WRAP_SLACK


def join_wrapped(lines: list[str], width: int = 0, ends: list[int] | None = None) -> str:
    """A wrapped paragraph's lines as one text, read whole: a line ending in a hyphen joins the
    next without a space ('high-' + 'fidelity'), unless the next line starts a separate word
    ('token-' + 'and response-level': a suspended hyphen); a URL, DOI, e-mail or path broken
    over lines joins without a space; other wraps join with one.

    `width`: the column the text is wrapped at (0: its longest line), where a tool cuts a
    token too long for a line; `ends`: the lines' lengths as the file has them, negative for
    a line ending in a space (a tool broke it at that space: it joins with one)."""
    if len(lines) == 1:
        return lines[0]
    width = width or max(map(len, lines))
    ends = ends or [len(line) for line in lines]
    parts = [lines[0]]
    for i, line in enumerate(lines[1:]):
        last = parts[-1]
        if ends[i] > 0 and _joins_unspaced(last, line, width if _cut(lines, ends, i, width) else 0):
            parts[-1] = last + line
        else:
            parts.append(line)
    return " ".join(parts)


def _cut(lines: list[str], ends: list[int], i: int, width: int) -> bool:
    """Whether a tool may have cut line `i` in the middle of a token: it ends at the wrapping
    column, and the token started on it after a space (Python's textwrap fills the line with
    a long token's head), or it is a line of one token after a line that `fold -s` broke at
    a space or that was cut too (a line of one URL that `fmt` left whole is not)."""
    if ends[i] != width:
        return False
    if " " in lines[i]:
        return True
    return i > 0 and (ends[i - 1] < 0 or ends[i - 1] == width)


# Words after which a line-end hyphen is a suspended one ('pre- and post-training').
_SUSPENDED_BEFORE = frozenset(("and", "or", "nor", "to", "vs", "vs.", "versus"))
_URL_INNER_END = frozenset("/-_.=&?#%~@:+")
_URL_STARTS = ("http:", "https:", "ftp:", "www.", "doi:")


def _joins_unspaced(last: str, line: str, full: int) -> bool:
    """Whether a wrapped line `line` goes on with the token `last` ends with (no space);
    `full`: the wrapping column when the line before ends there (a tool may have cut a long
    token there), else 0."""
    token = last[last.rfind(" ") + 1 :]
    following = line.split(" ", 1)
    if url_like(token):
        if token[-1] in _URL_INNER_END:
            return not (token[-1] == "." and line[:1].isupper())  # a sentence ends there
        # a tool cuts a token only when it is longer than a line
        return bool(full) and len(token) + len(following[0]) > full
    if last.endswith("--") and last[-3:-2].isalnum():  # an em dash written '--'
        return True
    if line.startswith("--") and line[2:3].isalnum() and last[-1].isalnum():
        return True
    if last.endswith("-") and len(last) > 1 and last[-2].isalnum():
        # 'token-' + 'and response-level': the hyphen stands for '-level' (a suspended
        # hyphen), kept with its space; 'high-' + 'fidelity': one word broken at its hyphen
        after = line.split(" ", 4)[1:4]  # 'and learned dynamics-induced'
        suspended = following[0] in _SUSPENDED_BEFORE and any("-" in w for w in after)
        return not suspended
    return False


def url_like(token: str) -> bool:
    """A URL, DOI, e-mail address or file path ('https://…', 'www.…', '10.1000/x', 'a@b',
    'src/x/y.py'): text a wrapping tool may cut anywhere, never with a space."""
    token = token.lstrip("([{<'\"")
    if "://" in token or token.startswith(_URL_STARTS) or token.count("/") >= 2:
        return True
    if token.startswith("10.") and "/" in token:  # a DOI
        return True
    at = token.find("@")
    return 0 < at < len(token) - 1 and token[at + 1].isalpha()  # an e-mail address
