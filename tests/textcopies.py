"""Copies of a listing's text as people make them by hand, for the textdump tests.

Each function takes a dump's text and returns the text a person would have saved: wrapped by
an editor or a tool at some width, cut where a mouse selection starts, with the page's footer,
two captures pasted into one file, a blank line slipped into a paragraph. They only move text
around the way those tools do; no paper's content is made up here.
"""

from __future__ import annotations

import textwrap
from collections.abc import Callable

# How tools wrap a paragraph: Python's textwrap (the default breaks words longer than the width
# and breaks at hyphens), `fmt`/an editor (never breaks a word), `fold -s` (breaks at the last
# space that fits, and in the middle of a word longer than the width).
WRAPPERS = ("textwrap", "fmt", "fold")


def wrap_paragraph(line: str, width: int, how: str = "textwrap") -> list[str]:
    """One line of text as the wrapping tool `how` leaves it at `width` columns."""
    if len(line) <= width or not line.strip():
        return [line]
    if how == "textwrap":
        return textwrap.wrap(line, width)
    if how == "fmt":
        return textwrap.wrap(line, width, break_long_words=False, break_on_hyphens=False)
    if how == "fold":
        return _fold(line, width)
    raise ValueError(how)


def _fold(line: str, width: int) -> list[str]:
    """`fold -s -w WIDTH`: cut at the last space within the width (the space stays at the end
    of the line), or at the width when there is none."""
    out = []
    while len(line) > width:
        cut = line.rfind(" ", 0, width)
        cut = width if cut <= 0 else cut + 1
        out.append(line[:cut])
        line = line[cut:]
    out.append(line)
    return out


def wrap(text: str, width: int, how: str = "textwrap") -> str:
    """Every line of a dump wrapped at `width` (blank lines and short lines unchanged)."""
    return "\n".join(
        wrapped for line in text.split("\n") for wrapped in wrap_paragraph(line, width, how)
    )


def blocks(text: str) -> list[str]:
    """The paragraphs of a dump (runs of non-blank lines)."""
    return [b for b in text.split("\n\n") if b.strip()]


def cut_before(text: str, first_line: str) -> str:
    """The copy a mouse selection starting at `first_line` makes: everything before it gone."""
    at = text.index(first_line)
    return text[at:]


def blank_line_inside(text: str, paragraph_start: str, after_words: int) -> str:
    """A blank line slipped into a paragraph (wrapped or not) after its first `after_words`
    words: the paragraph starting with `paragraph_start`."""
    at = text.index(paragraph_start)
    end = text.find("\n\n", at)
    end = len(text) if end < 0 else end
    words = text[at:end].split(" ")
    head, tail = " ".join(words[:after_words]), " ".join(words[after_words:])
    return text[:at] + head + "\n\n" + tail + text[end:]


def each_line(text: str, change: Callable[[str], str]) -> str:
    return "\n".join(change(line) for line in text.split("\n"))
