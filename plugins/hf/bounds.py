"""Bounds on what reaches the HTML parser (issue 11).

Lexbor's tree builder spends time proportional to the depth of the open-element stack on each
block-level start tag (`div`, `section`, ...), so a page of N nested `div`s costs O(N^2): 100,000
(1.1 MB) took 94 s. Pages are never parsed whole here (the JSON path parses one tag, the card path
one card at a time), so bounding each card's depth bounds the whole parse: at most
`MAX_HTML_DEPTH` stack entries per element, linear in the page size.

The check is byte-level and costs about a microsecond per card: a card with no more start tags
than the bound cannot nest deeper than it. Only a card with more start tags gets the exact (and
slower) depth count. JSON nesting is bounded by msgspec itself (`items.decode_json`).
"""

from __future__ import annotations

import re
from array import array
from itertools import accumulate

from harvester.errors import InputError

# A real card nests about 15 deep inside its `article`; 256 leaves room for markup changes
# while keeping a worst-case card cheap (11 MB of 256-deep `div` towers parse in ~0.7 s).
MAX_HTML_DEPTH = 256

_RAW_TEXT = re.compile(
    rb"<(script|style|textarea|title|xmp|iframe|noembed|noframes|noscript)\b[^>]*>.*?</\1\s*>",
    re.IGNORECASE | re.DOTALL,
)
_COMMENT = re.compile(rb"<!--.*?-->", re.DOTALL)
_VOID = re.compile(
    rb"<(?:area|base|br|col|embed|hr|img|input|keygen|link|meta|param|source|track|wbr)"
    rb"(?=[\s/>])[^>]*>",
    re.IGNORECASE,
)
_START = re.compile(rb"<[a-zA-Z][^>]*>")  # `<div/>` opens a div in HTML: counted as a start
_END = re.compile(rb"</[a-zA-Z][^>]*>")
_NOT_MARK = bytes(range(256)).translate(None, b"\x01\x02")
_STEP = bytes.maketrans(b"\x02", b"\xff")  # as signed bytes: start +1, end -1


def start_tags(html: bytes) -> int:
    """How many start tags (void ones included) `html` has at most."""
    return html.count(b"<") - html.count(b"</") - html.count(b"<!")


def nesting_depth(html: bytes) -> int:
    """The deepest element nesting of `html`, counted on its tags (never under the parser's:
    unclosed elements count as open to the end)."""
    marks = html.translate(None, b"\x01\x02")
    for pattern in (_COMMENT, _RAW_TEXT, _VOID):
        marks = pattern.sub(b"", marks)
    marks = _END.sub(b"\x02", _START.sub(b"\x01", marks))
    steps = array("b", marks.translate(None, _NOT_MARK).translate(_STEP))
    return max(accumulate(steps), default=0)


def check_depth(html: bytes, where: str, what: str, limit: int = MAX_HTML_DEPTH) -> None:
    """Raise an `InputError` naming `where` when `html` nests deeper than `limit`."""
    if start_tags(html) <= limit:
        return  # the common case: too few tags to nest that deep
    depth = nesting_depth(html)
    if depth > limit:
        raise InputError(
            where, f"{what} nests HTML elements {depth} deep (more than {limit}): not parsed"
        )
