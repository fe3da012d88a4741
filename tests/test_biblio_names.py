"""Names and titles in bibliographies: names split into CSL's parts (particles, suffixes, East
Asian names, single names, hyphenated names) and rendered by a CSL processor (citeproc-py);
BibTeX titles with math kept, capitals protected and braces that never break an entry, read
back by bibtexparser v2 (and bibtool where it is installed)."""

from __future__ import annotations

import datetime as dt
import json
import shutil
import subprocess

import bibtexparser
import pytest
import rispy
from bibtexparser.middlewares import LatexDecodingMiddleware, SeparateCoAuthors, SplitNameParts
from citeproc import (
    Citation,
    CitationItem,
    CitationStylesBibliography,
    CitationStylesStyle,
    formatter,
)
from citeproc.source.json import CiteProcJSON
from harvester_plugins.biblio.formats import csl_item, render_bibtex, render_csl_json, render_ris
from harvester_plugins.biblio.names import parse_name

from harvester.schema import Paper

NAMES = {  # as a listing prints it -> its CSL parts
    "Zoë van der Berg": {"given": "Zoë", "non-dropping-particle": "van der", "family": "Berg"},
    "Ludwig van Beethoven": {
        "given": "Ludwig",
        "non-dropping-particle": "van",
        "family": "Beethoven",
    },
    "Jean de La Fontaine": {
        "given": "Jean",
        "dropping-particle": "de",
        "non-dropping-particle": "La",
        "family": "Fontaine",
    },
    "Martin Luther King Jr.": {"given": "Martin Luther", "family": "King", "suffix": "Jr."},
    "John Smith, III": {"given": "John", "family": "Smith", "suffix": "III"},
    "Jean-Pierre Dupont-Aignan": {"given": "Jean-Pierre", "family": "Dupont-Aignan"},
    "Xiaodong Liu": {"given": "Xiaodong", "family": "Liu"},
    "王小明": {"literal": "王小明"},
    "王 小明": {"family": "王", "given": "小明"},
    "김 민준": {"family": "김", "given": "민준"},
    "Madonna": {"literal": "Madonna"},
    "van Gogh, Vincent": {"given": "Vincent", "non-dropping-particle": "van", "family": "Gogh"},
    "Rowling, J. K.": {"given": "J. K.", "family": "Rowling"},
    "Ahmed bin Rashid": {"given": "Ahmed", "non-dropping-particle": "bin", "family": "Rashid"},
    "bell hooks": {"given": "bell", "family": "hooks"},
    "Research and Development Team": {"literal": "Research and Development Team"},
}


def paper(n: int, authors: list[str], title: str = "A Title") -> Paper:
    arxiv = f"2601.{n:05d}"
    return Paper(
        key=f"arxiv:{arxiv}",
        arxiv_id=arxiv,
        title=title,
        authors=authors,
        published=dt.date(2026, 1, 2),
    )


@pytest.mark.parametrize("name", list(NAMES))
def test_a_name_splits_into_its_csl_parts(name):
    assert parse_name(name).csl() == NAMES[name]


def test_every_particle_is_kept_in_csl_json_bibtex_and_ris():
    names = ["Zoë van der Berg", "Ludwig van Beethoven", "Jean de La Fontaine"]
    papers = [paper(1, names)]
    (item,) = json.loads(render_csl_json(papers))
    assert item["author"] == [NAMES[n] for n in names]
    (record,) = rispy.loads(render_ris(papers))
    assert record["authors"] == [
        "van der Berg, Zoë",
        "van Beethoven, Ludwig",
        "de La Fontaine, Jean",
    ]
    library = bibtexparser.parse_string(
        render_bibtex(papers), append_middleware=[SeparateCoAuthors(), SplitNameParts()]
    )
    parts = [(a.first, a.von, a.last) for a in library.entries[0]["author"]]
    assert parts == [
        (["Zoë"], ["van", "der"], ["Berg"]),
        (["Ludwig"], ["van"], ["Beethoven"]),
        (["Jean"], ["de"], ["La", "Fontaine"]),
    ]


def rendered(items: list[dict]) -> tuple[list[str], list[str]]:
    """(in-text citations, bibliography entries) as citeproc-py renders them."""
    style = CitationStylesStyle("harvard-cite-them-right", validate=False)
    bibliography = CitationStylesBibliography(style, CiteProcJSON(items), formatter.plain)
    citations = [Citation([CitationItem(item["id"])]) for item in items]
    for citation in citations:
        bibliography.register(citation)
    cites = [str(bibliography.cite(c, lambda *_: None)) for c in citations]
    return cites, [str(entry) for entry in bibliography.bibliography()]


def test_citeproc_renders_particles_suffixes_and_single_names():
    names = [
        "Zoë van der Berg",
        "Ludwig van Beethoven",
        "Jean de La Fontaine",
        "Martin Luther King Jr.",
        "Jean-Pierre Dupont-Aignan",
        "王小明",
    ]
    items = [csl_item(f"k{i}", paper(i, [name])) for i, name in enumerate(names)]
    cites, entries = rendered(items)
    assert cites == [
        "(van der Berg, 2026)",
        "(van Beethoven, 2026)",
        "(La Fontaine, 2026)",
        "(King, 2026)",
        "(Dupont-Aignan, 2026)",
        "(王小明, 2026)",
    ]
    starts = sorted(entry.split(" (2026)")[0] for entry in entries)
    assert starts == sorted(
        [
            "van der Berg, Z.",
            "van Beethoven, L.",
            "La Fontaine, J. de",  # the CSL specification's own example
            "King, M.L., Jr.",
            "Dupont-Aignan, J.-P.",
            "王小明",
        ]
    )
    assert not any(". ." in entry or "van ." in entry for entry in entries)


TITLES = {  # title -> what the BibTeX field holds
    "Scaling $\\mathcal{O}(n^2)$ Attention": "Scaling $\\mathcal{O}(n^2)$ Attention",
    "LLMs for R&D at 100% of GPT-4o": "{LLMs} for {R\\&D} at 100\\% of {GPT-4o}",
    "A {Braces} Paper": "A \\{Braces\\} Paper",
    "Unbalanced } brace and $5 costs": "Unbalanced \\textbraceright{} brace and \\$5 costs",
    "Broken $\\frac{a}{b$ math": (  # not math; its braces do not pair up
        "Broken \\$\\textbackslash{}frac\\textbraceleft{}a\\textbraceright{}"
        "\\textbraceleft{}b\\$ math"
    ),
}


def bib_fields(text: str) -> dict:
    library = bibtexparser.parse_string(text)
    assert not library.failed_blocks
    (entry,) = library.entries
    return {field.key: field.value for field in entry.fields}


@pytest.mark.parametrize("title", list(TITLES))
def test_bibtex_titles_keep_math_protect_capitals_and_never_break_the_entry(title):
    text = render_bibtex([paper(1, ["Zoë van der Berg"], title)])
    fields = bib_fields(text)
    assert fields["title"] == TITLES[title]
    # the fields after the title survive: an unbalanced brace would have ended the entry early
    assert {"author", "year", "eprint", "doi", "url"} <= set(fields)
    decoded = bibtexparser.parse_string(text, append_middleware=[LatexDecodingMiddleware()])
    if "{" not in title and "}" not in title and "$" not in title:
        assert decoded.entries[0]["title"] == title  # what a reader decodes is the title


def test_bibtool_keeps_every_field_where_installed(tmp_path):
    """bibtool (Debian's `bibtool`) parses the export without a warning and keeps every field
    of an entry whose title has an unbalanced brace."""
    bibtool = shutil.which("bibtool")
    text = render_bibtex([paper(1, ["Zoë van der Berg"], "Unbalanced } brace $\\alpha$ LLMs")])
    assert bib_fields(text)["doi"] == "10.48550/arXiv.2601.00001"  # bibtexparser v2: always
    if bibtool is None:
        return  # bibtool is not installed here; bibtexparser v2 has checked the entry
    source = tmp_path / "refs.bib"
    source.write_text(text, encoding="utf-8")
    done = subprocess.run(
        [bibtool, "-q", "-i", str(source)], capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0 and "***" not in done.stderr, done.stderr
    for name in ("author", "year", "eprint", "doi", "url"):
        assert name in done.stdout.lower(), done.stdout
