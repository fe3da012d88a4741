"""What every bibliographic format needs from a paper: a citation key, the year, name parts.

Citation keys: first author's surname, year, first significant title word, ASCII lower case
(``muller2026sheep``): ``anon`` stands for the surname when the authors are unknown or the name
has no Latin letters, ``nd`` for an unknown year. When several papers of one export share a
key, each of them gets a suffix derived from its paper key (``muller2026sheep-3fa1``), so a key
depends only on the papers in the export, never on their order.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
import unicodedata
from collections.abc import Iterable, Sequence
from typing import Any

from harvester.schema import Paper

from .names import parse_name

STOP_WORDS = frozenset(
    {
        "a",
        "an",
        "the",
        "on",
        "of",
        "in",
        "for",
        "and",
        "to",
        "with",
        "from",
        "at",
        "by",
        "via",
        "is",
        "are",
        "towards",
        "toward",
        "do",
        "does",
    }
)
_NEW_STYLE_ID = re.compile(r"^(\d{2})(\d{2})\.\d{4,5}$")


def ascii_fold(text: str) -> str:
    """Lower-case ASCII letters and digits only: 'Müller-Łukasiewicz' -> 'mullerlukasiewicz'."""
    text = text.replace("ł", "l").replace("Ł", "L").replace("ø", "o").replace("Ø", "O")
    decomposed = unicodedata.normalize("NFKD", text)
    return re.sub(r"[^a-z0-9]", "", decomposed.encode("ascii", "ignore").decode().lower())


def arxiv_month(arxiv_id: str | None) -> tuple[int, int] | None:
    """(year, month) a new-style arXiv id (YYMM.NNNNN, since 2007) was submitted in."""
    match = _NEW_STYLE_ID.match(arxiv_id or "")
    if not match:
        return None
    return 2000 + int(match[1]), int(match[2])


def date_parts(paper: Paper) -> list[int] | None:
    """[year, month, day] of publication, or [year, month] from the arXiv id; None if unknown."""
    if paper.published is not None:
        d = paper.published
        return [d.year, d.month, d.day]
    month = arxiv_month(paper.arxiv_id)
    return list(month) if month else None


def year(paper: Paper) -> int | None:
    parts = date_parts(paper)
    return parts[0] if parts else None


def primary_class(paper: Paper) -> str | None:
    """The arXiv primary category, where a source recorded it in `extra` (at the top or under
    its namespace: `primary_subject`, `primary_category` or `primaryClass`)."""
    candidates: list[dict[str, Any]] = [paper.extra]
    candidates += [v for v in paper.extra.values() if isinstance(v, dict)]
    for table in candidates:
        for name in ("primary_subject", "primary_category", "primaryClass"):
            value = table.get(name)
            if isinstance(value, str) and value:
                return value
    return None


def doi(paper: Paper) -> str | None:
    """arXiv's DOI for the paper (DataCite registers one per arXiv id)."""
    return f"10.48550/arXiv.{paper.arxiv_id}" if paper.arxiv_id else None


def abs_url(paper: Paper) -> str | None:
    return f"https://arxiv.org/abs/{paper.arxiv_id}" if paper.arxiv_id else paper.url


def authors_note(paper: Paper) -> str | None:
    """What is known when the author names are not: never a made-up name."""
    if paper.authors:
        return None
    if paper.author_count:
        return f"Author names not listed by the source ({paper.author_count} authors)"
    return "Authors unknown: not listed by the source"


def base_key(paper: Paper) -> str:
    surname = ascii_fold(_surname(paper.authors[0])) if paper.authors else ""
    text = re.sub(r"\$[^$]*\$", " ", paper.title)  # math is no word
    words = (ascii_fold(w) for w in re.split(r"[\s\-–—:/]+", text))
    word = next((w for w in words if w and w not in STOP_WORDS), "untitled")
    found = year(paper)
    return f"{surname or 'anon'}{found if found else 'nd'}{word}"


def _surname(author: str) -> str:
    name = parse_name(author)
    return name.literal if name.literal is not None else name.family or ""


def citation_keys(papers: Iterable[Paper]) -> dict[str, str]:
    """paper key -> citation key, unique within `papers`, independent of their order."""
    by_base: dict[str, list[str]] = {}
    for paper in papers:
        group = by_base.setdefault(base_key(paper), [])
        if paper.key not in group:
            group.append(paper.key)
    keys: dict[str, str] = {}
    for base, paper_keys in by_base.items():
        if len(paper_keys) == 1:
            keys[paper_keys[0]] = base
            continue
        keys.update(_suffixed(base, paper_keys))
    return keys


def _suffixed(base: str, paper_keys: Sequence[str]) -> dict[str, str]:
    digests = {k: hashlib.sha256(k.encode()).hexdigest() for k in paper_keys}
    for length in range(4, 65, 2):
        suffixes = {k: d[:length] for k, d in digests.items()}
        if len(set(suffixes.values())) == len(suffixes):
            return {k: f"{base}-{s}" for k, s in suffixes.items()}
    raise AssertionError("distinct paper keys have distinct SHA-256 digests")


def accessed(paper: Paper) -> dt.date | None:
    return paper.harvested_at.date() if paper.harvested_at else None
