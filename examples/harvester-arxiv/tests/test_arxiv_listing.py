"""Tests of the arxiv-listing-example source: the plugin test kit, plus the page details."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from harvester_arxiv import ArxivListing
from harvester_arxiv.listing import heading_date

from harvester.errors import InputError
from harvester.schema import Paper, Rejected
from harvester.testkit import SourceContract, harvest, make_source, read_raw

FIXTURES = Path(__file__).parent / "fixtures"
NEW = FIXTURES / "cs.XX_new.html"
RECENT = FIXTURES / "cs.XX_recent.html"

ENTRY = """    <dt>
      <a name='item{n}'>[{n}]</a>
      <a href="/abs/2604.{n:05d}" title="Abstract" id="2604.{n:05d}">arXiv:2604.{n:05d}</a>
    </dt>
    <dd>
      <div class='meta'>
        <div class='list-title mathjax'><span class='descriptor'>Title:</span>
          Generated paper number {n}
        </div>
        <div class='list-authors'><a href="/a/{n}">Author {n}</a>, <a href="/b">Co Author</a></div>
        <div class='list-subjects'><span class='descriptor'>Subjects:</span>
          <span class="primary-subject">Synthetic Learning (cs.XX)</span>
        </div>
        <p class='mathjax'>{abstract}</p>
      </div>
    </dd>
"""


def write_listing(path: Path, first: int, count: int) -> None:
    """A /new page with `count` generated entries numbered from `first`."""
    entries = "".join(
        ENTRY.format(n=n, abstract=f"Abstract {n}. " + "Words go here. " * 40)
        for n in range(first, first + count)
    )
    path.write_text(
        "<div id='dlpage'><h3>Showing new listings for Monday, 6 April 2026</h3>\n"
        f"<dl id='articles'>\n<h3>New submissions</h3>\n{entries}</dl></div>\n",
        encoding="utf-8",
    )


class TestArxivListingContract(SourceContract):
    source_class = ArxivListing
    sample_inputs = (NEW, RECENT)
    bad_inputs = (FIXTURES / "not_a_listing.html", FIXTURES / "missing.html")
    required_fields = ("arxiv_id", "url", "listing_date", "authors")
    expected_records = 5

    def make_large_input(self, directory: Path, scale: int) -> list[str]:
        # An HTML page is parsed whole, so "large" means many pages: memory must be bounded by
        # one page, not by the run.
        paths = []
        for page in range(scale):
            path = directory / f"page{page:03d}.html"
            write_listing(path, page * 100 + 1, 100)
            paths.append(str(path))
        return paths


class UntrustedArxivListing(ArxivListing):
    """The same source without `trusted`: the pipeline cleans and type-checks its records."""

    trusted = False


class TestUntrustedArxivListingContract(TestArxivListingContract):
    """The kit passes for the untrusted path too (the pipeline's cleaning and type check)."""

    source_class = UntrustedArxivListing


def _papers(*inputs) -> tuple[list[Paper], list[Rejected]]:
    out = harvest(make_source(ArxivListing, inputs))
    return out.papers, out.rejected


def test_new_page_fields():
    papers, _ = _papers(NEW)
    first = papers[0]
    assert first.key == "arxiv:2603.01234"
    assert first.title == "Counting Sheep with Transformers"
    assert first.authors == ["Ada Example", "Bruno Café"]  # whitespace collapsed, NFC
    assert first.author_count == 2
    assert first.abstract == "We count sheep. Then we count them again, faster."
    assert first.url == "https://arxiv.org/abs/2603.01234"
    assert first.listing_date == dt.date(2026, 3, 3)
    assert first.source == "arxiv-listing-example"
    assert first.extra["arxiv"] == {
        "subjects": ["cs.XX", "cs.CL"],
        "primary_subject": "cs.XX",
        "comments": "12 pages, 3 figures",
        "section": "New submissions",
    }
    assert papers[1].title == "Naïve Baselines & Their Discontents"
    old = papers[2]
    assert old.arxiv_id == "hep-th/9901001"  # version dropped
    assert old.extra["arxiv"]["primary_subject"] == "hep-th"
    assert old.extra["arxiv"]["section"] == "Cross submissions"


def test_entry_without_title_is_rejected_with_its_line_and_the_rest_kept():
    papers, rejected = _papers(NEW)
    assert [p.arxiv_id for p in papers] == ["2603.01234", "2603.05678", "hep-th/9901001"]
    assert len(rejected) == 1
    assert rejected[0].reason == "entry has no title"
    line = NEW.read_text().splitlines().index("    <dt>", 40) + 1  # the third <dt>
    assert rejected[0].source_ref == f"{NEW}:{line}"
    assert "2603.09999" in rejected[0].raw


def test_source_ref_is_the_line_of_the_entry():
    papers, _ = _papers(NEW)
    lines = NEW.read_text().splitlines()
    for paper in papers:
        path, _, line = paper.source_ref.rpartition(":")
        assert path == str(NEW)
        assert lines[int(line) - 1].strip() == "<dt>"
        assert paper.arxiv_id in lines[int(line) + 1]


def test_recent_page_takes_each_days_date():
    papers, rejected = _papers(RECENT)
    assert not rejected
    assert [(p.arxiv_id, p.listing_date) for p in papers] == [
        ("2603.00011", dt.date(2026, 3, 2)),
        ("2602.22222", dt.date(2026, 2, 27)),
    ]
    assert papers[1].abstract is None  # /recent pages carry no abstracts
    assert papers[1].extra["arxiv"]["subjects"] == ["cs.LG", "cs.XX"]
    assert papers[1].extra["arxiv"]["primary_subject"] == "cs.XX"


def test_not_a_listing_raises_input_error_naming_the_file():
    source = make_source(ArxivListing, [FIXTURES / "not_a_listing.html"])
    with pytest.raises(InputError, match="no <dl id='articles'>") as info:
        read_raw(source)
    assert info.value.location == str(FIXTURES / "not_a_listing.html")


def test_a_day_without_papers_is_an_empty_target_not_a_failure():
    source = make_source(ArxivListing, [FIXTURES / "empty_day.html"])
    out = harvest(source)
    assert out.papers == [] and out.report.failed == []
    empty_day = str(FIXTURES / "empty_day.html")
    assert out.report.empty == [(empty_day, "the page lists no papers (a quiet day)")]


def test_globs_expand_and_a_glob_matching_nothing_fails_alone(tmp_path):
    write_listing(tmp_path / "a.html", 1, 2)
    write_listing(tmp_path / "b.html", 3, 2)
    out = harvest(make_source(ArxivListing, ["*.html", "none/*.html"], base_dir=tmp_path))
    assert len(out.papers) == 4
    assert out.report.failed == [("none/*.html", "the pattern matches no files")]


@pytest.mark.parametrize(
    ("heading", "expected"),
    [
        ("Showing new listings for Wednesday, 7 October 2026", dt.date(2026, 10, 7)),
        ("Wed, 7 Oct 2026 (showing first 50 of 350 entries )", dt.date(2026, 10, 7)),
        ("Fri, 31 Feb 2026", None),
        ("New submissions (showing 3 of 3 entries)", None),
    ],
)
def test_heading_date(heading, expected):
    assert heading_date(heading) == expected
