"""Normalisers: small pure functions from listing text to clean field values.

Each function has one parametrised table of cases in tests/test_normalise.py.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata

_WS = re.compile(r"\s+")


def clean_text(text: str | None) -> str | None:
    """NFC, whitespace runs (incl. NBSP, tabs, newlines) to one space, trimmed; '' becomes None."""
    if text is None:
        return None
    if not text.isascii():
        text = unicodedata.normalize("NFC", text)
    text = _WS.sub(" ", text).strip()
    return text or None


_NOT_WORD = re.compile(r"[\W_]+")


def normalised_title(title: str) -> str:
    """The form two listings of one paper agree on: NFKC, case-folded, punctuation dropped."""
    folded = unicodedata.normalize("NFKC", title).casefold()
    return " ".join(_NOT_WORD.sub(" ", folded).split())


def title_key(title: str) -> str:
    """The work key of a paper with no known arXiv id: a hash of its normalised title."""
    digest = hashlib.sha1(normalised_title(title).encode()).hexdigest()[:16]
    return f"title:{digest}"


def arxiv_key(arxiv_id: str) -> str:
    return f"arxiv:{arxiv_id}"
