"""What a paragraph of a dump looks like: a title, an abstract, an organisation line; and how
wrapped lines are read back whole.

Shapes: a title is short, has no sentence punctuation at its end and holds no sentence end
inside; an organisation line is short and may start with a slug; a title-cased line
capitalises most of its longer words. Wrapping: two lines wrap into one paragraph only when
the first is as full as a wrapping tool leaves a line (`fits_wrap`); the lines are joined
back as the tool found them (`join_wrapped`): a word broken at its hyphen without a space, a
suspended hyphen ('token- and') with one, a URL, DOI, e-mail or path cut anywhere without one.
"""

from __future__ import annotations

import re

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
