"""Papers as CSL-JSON, BibTeX (arXiv's conventions) and RIS, one whole document each.

Entries are sorted by citation key (`keys.citation_keys`), so the same papers always give the
same file. An arXiv paper is a preprint with arXiv's DOI (``10.48550/arXiv.<id>``), its
abs page as URL, and in BibTeX ``eprint``/``archivePrefix``/``primaryClass`` (where a source
recorded the category), as arXiv's own BibTeX export writes them; a paper without an arXiv id
has none of these. Unknown authors are said so in a note; no name is made up. Names are split
into their parts (`.names`: particles and suffixes kept) the same way in all three formats;
BibTeX text is escaped, with math kept and capitals protected (`.tex`).
"""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Callable, Sequence
from typing import Any

from harvester.schema import Paper

from . import keys as k
from . import tex
from .names import Name, parse_name

FORMATS = ("csl-json", "bibtex", "ris")


def _keyed(papers: Sequence[Paper]) -> list[tuple[str, Paper]]:
    cite = k.citation_keys(papers)
    return sorted(((cite[p.key], p) for p in papers), key=lambda pair: pair[0])


# -- CSL-JSON ---------------------------------------------------------------------------------


def csl_item(cite_key: str, paper: Paper) -> dict[str, Any]:
    item: dict[str, Any] = {"id": cite_key, "type": "article", "title": paper.title}
    if paper.authors:
        item["author"] = [_csl_name(n) for n in paper.authors]
    parts = k.date_parts(paper)
    if parts:
        item["issued"] = {"date-parts": [parts]}
    if paper.arxiv_id:
        item.update(
            {
                "publisher": "arXiv",
                "number": f"arXiv:{paper.arxiv_id}",
                "genre": "Preprint",
                "DOI": k.doi(paper),
            }
        )
    url = k.abs_url(paper)
    if url:
        item["URL"] = url
    if paper.abstract:
        item["abstract"] = paper.abstract
    if (category := k.primary_class(paper)) is not None:
        item["keyword"] = category
    if (note := k.authors_note(paper)) is not None:
        item["note"] = note
    if (day := k.accessed(paper)) is not None:
        item["accessed"] = {"date-parts": [[day.year, day.month, day.day]]}
    return item


def _csl_name(name: str) -> dict[str, str]:
    return parse_name(name).csl()


def render_csl_json(papers: Sequence[Paper]) -> str:
    items = [csl_item(key, paper) for key, paper in _keyed(papers)]
    return json.dumps(items, ensure_ascii=False, indent=2) + "\n"


# -- BibTeX -----------------------------------------------------------------------------------


def _bib_author(name: str) -> str:
    """'von Last, Jr, First' (BibTeX's own form: no part is guessed again); a literal name in
    braces, as one unit."""
    parts = parse_name(name)
    if parts.literal is not None:
        return "{" + tex.escape(parts.literal) + "}"
    pieces = [parts.family_with_particles(), parts.suffix, parts.given]
    return ", ".join(_bib_part(p) for p in pieces if p)


def _bib_part(text: str) -> str:
    escaped = tex.escape(text)
    # ' and ' separates names: protect a part using it
    return "{" + escaped + "}" if re.search(r"\band\b", text, re.IGNORECASE) else escaped


def bibtex_entry(cite_key: str, paper: Paper):
    from bibtexparser import model  # imported when a bibliography is written, not at start-up

    fields: list[tuple[str, str | None]] = [
        ("title", tex.title(paper.title)),
        ("author", " and ".join(_bib_author(n) for n in paper.authors) or None),
        ("year", str(y) if (y := k.year(paper)) else None),
    ]
    if paper.arxiv_id:
        fields += [
            ("eprint", paper.arxiv_id),
            ("archivePrefix", "arXiv"),
            ("primaryClass", k.primary_class(paper)),
            ("doi", k.doi(paper)),
        ]
    url = k.abs_url(paper)
    fields += [
        ("url", url.replace("{", "%7B").replace("}", "%7D") if url else None),
        ("note", tex.escape(note) if (note := k.authors_note(paper)) else None),
    ]
    return model.Entry(
        "misc", cite_key, [model.Field(name, value) for name, value in fields if value]
    )


def render_bibtex(papers: Sequence[Paper]) -> str:
    import bibtexparser

    library = bibtexparser.Library([bibtex_entry(key, paper) for key, paper in _keyed(papers)])
    return bibtexparser.write_string(library)


# -- RIS --------------------------------------------------------------------------------------


def ris_record(cite_key: str, paper: Paper) -> dict[str, Any]:
    record: dict[str, Any] = {
        "type_of_reference": "UNPB" if paper.arxiv_id else "GEN",
        "id": cite_key,
        "title": paper.title,
    }
    if paper.authors:
        record["authors"] = [_ris_name(n) for n in paper.authors]
    parts = k.date_parts(paper)
    if parts:
        record["year"] = str(parts[0])
        record["date"] = "/".join(f"{p:02d}" for p in parts) + ("/" if len(parts) < 3 else "")
    if paper.arxiv_id:
        record.update({"publisher": "arXiv", "doi": k.doi(paper), "number": paper.arxiv_id})
    url = k.abs_url(paper)
    if url:
        record["urls"] = [url]
    if paper.abstract:
        record["abstract"] = paper.abstract
    if (note := k.authors_note(paper)) is not None:
        record["notes"] = [note]
    if (category := k.primary_class(paper)) is not None:
        record["keywords"] = [category]
    return record


def _ris_name(name: str) -> str:
    """RIS's 'Last, First, Suffix', the particles with the family name."""
    parts: Name = parse_name(name)
    if parts.literal is not None:
        return parts.literal
    return ", ".join(p for p in (parts.family_with_particles(), parts.given, parts.suffix) if p)


@functools.cache
def _ris_writer():
    import rispy

    class RisWriter(rispy.RisWriter):
        def set_header(self, count: int) -> str:
            return ""  # no "1." counter line before each record: plain RIS, as managers write

    return RisWriter


def render_ris(papers: Sequence[Paper]) -> str:
    import rispy

    records = [ris_record(key, paper) for key, paper in _keyed(papers)]
    return rispy.dumps(records, implementation=_ris_writer())


RENDERERS: dict[str, Callable[[Sequence[Paper]], str]] = {
    "csl-json": render_csl_json,
    "bibtex": render_bibtex,
    "ris": render_ris,
}
