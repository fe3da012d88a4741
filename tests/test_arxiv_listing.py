"""`arxiv-listing`: pages read to the counts they print, in both layouts, saved and fetched (a
local server in the real pages' shapes), and the real pages in ../shared."""

from __future__ import annotations

import datetime as dt
import json
import os
import sys
from collections import Counter

import pytest
from harvester_plugins.arxiv.calendar import current_listing_day
from harvester_plugins.arxiv.listing import ArxivListing

from harvester.api import Target
from harvester.errors import InputError
from harvester.outcomes import TargetOutcome
from tests.arxiv_support import parts, read, source
from tests.conftest import BUILTIN_PLUGINS
from tests.fixtures.arxiv_site import Recent, make_entries, new_page
from tests.localserver import LOOPBACK, LocalServer, ok, status

from . import clirun

FRIDAY = dt.date(2026, 10, 9)
SECTIONS = {
    "new": make_entries(5),
    "cross-list": make_entries(3, start=40, kind="cross-list"),
    "replacement": make_entries(4, month="2609", start=7, kind="replacement"),
}


def saved(tmp_path, content: bytes, name: str = "page.html"):
    (tmp_path / name).write_bytes(content)
    src = source(ArxivListing, [name], base_dir=tmp_path)
    return src, src.targets()[0]


@pytest.mark.parametrize("layout", [2024, 2026])
def test_a_complete_new_page_is_read_to_its_declared_totals(tmp_path, layout):
    src, target = saved(tmp_path, new_page(FRIDAY, SECTIONS, context="cs.CL", layout=layout))
    got = read(src, target)
    assert got.verdict.outcome is TargetOutcome.COMPLETE, got.verdict
    assert parts(target) == [
        ("new submissions", 5, 5),
        ("cross-lists", 3, 3),
        ("replacements", 4, 4),
    ]
    assert target.declared.total == 12 and target.declared.day == FRIDAY
    kinds = Counter(p.extra["arxiv"]["announced_as"] for p in got.papers)
    assert kinds == {"new": 5, "cross-list": 3, "replacement": 4}
    assert {p.listing_date for p in got.papers} == {FRIDAY}
    assert all(p.abstract and p.extra["arxiv"]["listed_in"] == "cs.CL" for p in got.papers)


def test_every_field_an_entry_shows(tmp_path):
    src, target = saved(tmp_path, new_page(FRIDAY, SECTIONS, layout=2026))
    papers = {p.arxiv_id: p for p in read(src, target).papers}
    first = papers["2610.00001"]  # a new submission: v1 named by its html link
    assert (first.arxiv_version, first.categories) == (1, ["cs.CL", "cs.LG"])
    assert first.authors == SECTIONS["new"][0].authors and len(first.authors) == 2
    assert first.url == "https://arxiv.org/abs/2610.00001" and first.doi is None
    assert first.source_ref.startswith("page.html:")  # the line of its <dt>
    line = int(first.source_ref.rsplit(":", 1)[1])
    assert "2610.00001" in (tmp_path / "page.html").read_text().splitlines()[line + 2]
    no_link = papers["2610.00004"]  # a new submission without an html link: still v1
    assert no_link.arxiv_version == 1
    commented = papers["2610.00003"]
    assert commented.extra["arxiv"]["comment"] == "13 pages"
    assert papers["2610.00005"].extra["arxiv"]["journal_ref"] == "J. Invented 1, 5 (2026)"
    cross = papers["2610.00040"]  # cross-listed from its primary, cs.LG
    assert cross.categories == ["cs.LG", "cs.CL"] and cross.extra["arxiv"]["announced_as"] == (
        "cross-list"
    )
    replaced = papers["2609.00007"]  # a replacement names its version: the same key, v2+
    assert replaced.arxiv_version == 3 and replaced.key == ""  # the core derives the key
    unknown = papers["2609.00008"]  # a replacement without an html link: version not shown
    assert unknown.arxiv_version is None
    assert "v2 or later" in unknown.extra["arxiv"]["version_unknown"]
    assert "comments" not in unknown.extra["arxiv"] and unknown.comments is None


def test_a_page_cut_in_the_middle_is_incomplete_naming_the_section(tmp_path):
    whole = new_page(FRIDAY, SECTIONS, layout=2024)
    cut = whole[: whole.index(b"2610.00041")]  # inside the cross-lists' second entry
    src, target = saved(tmp_path, cut)
    got = read(src, target)
    assert got.verdict.outcome is TargetOutcome.INCOMPLETE
    assert "cross-lists: got 2 of 3" in got.verdict.reason
    assert "replacements" not in got.verdict.reason  # never began: short of the page's total
    assert "got 7 of 12" in got.verdict.reason


def test_a_page_cut_before_a_section_falls_short_of_the_pages_total(tmp_path):
    whole = new_page(FRIDAY, SECTIONS, layout=2026)
    cut = whole[: whole.index(b"<h3>Replacement")]
    src, target = saved(tmp_path, cut)
    got = read(src, target)
    assert got.verdict.outcome is TargetOutcome.INCOMPLETE
    assert got.verdict.reason == "got 8 of 12 declared entries"


def test_a_page_saying_no_updates_is_empty(tmp_path):
    src, target = saved(tmp_path, new_page(FRIDAY, {}, layout=2026))
    got = read(src, target)
    assert got.verdict.outcome is TargetOutcome.EMPTY and got.items == []
    assert "no updates" in got.verdict.reason


def test_a_file_that_is_not_a_listing_fails_naming_it(tmp_path):
    src, target = saved(tmp_path, b"<html><body><p>Nothing here</p></body></html>", "x.html")
    with pytest.raises(InputError, match=r"x.html: not an arXiv listing page"):
        read(src, target)


def test_authors_a_listing_may_have_cut_are_not_the_author_list(tmp_path):
    long = make_entries(1)
    long[0].authors = [f"Author Number{i}" for i in range(101)]
    src, target = saved(tmp_path, new_page(FRIDAY, {"new": long}))
    paper = read(src, target).papers[0]
    assert paper.authors == [] and len(paper.extra["arxiv"]["authors_shown"]) == 101
    assert "at most 101" in paper.extra["arxiv"]["authors_not_whole"]


def test_options_are_checked():
    with pytest.raises(Exception, match="categories"):
        source(ArxivListing, categories=["cs.CL/new"])
    with pytest.raises(Exception, match="days_to"):
        source(ArxivListing, categories=["cs.CL"], days_from="2026-10-09", days_to="2026-10-01")
    with pytest.raises(Exception, match="need categories or archives"):
        source(ArxivListing, listings=["recent"])


# -- fetched: a local server in arXiv's shapes --------------------------------------------------


def listing_source(server: LocalServer, **options):
    return source(ArxivListing, base_url=server.url(""), **options)


@LOOPBACK
def test_recent_over_two_pages_declares_every_day_and_the_total():
    days = [
        (dt.date(2026, 10, 9), make_entries(30)),
        (dt.date(2026, 10, 8), make_entries(40, start=100)),
        (dt.date(2026, 10, 7), make_entries(20, start=200)),
    ]
    listing = Recent("cs.CL", days, show=50)
    with LocalServer() as server:
        for path, page in listing.routes().items():
            server.route(path, ok(page, content_type="text/html"))
        src = listing_source(server, categories=["cs.CL"], listings=["recent"], page_size=50)
        (target,) = src.targets()
        got = read(src, target)
        assert server.hits("/list/cs.CL/recent") == 2  # two pages: skip=0 and skip=50
    assert got.verdict.outcome is TargetOutcome.COMPLETE, got.verdict
    assert parts(target) == [("2026-10-09", 30, 30), ("2026-10-08", 40, 40), ("2026-10-07", 20, 20)]
    assert target.declared.total == 90 and len(got.papers) == 90
    by_day = Counter(p.listing_date for p in got.papers)
    assert by_day == {d: len(e) for d, e in days}
    assert got.papers[50].source_ref.endswith("?skip=50&show=50#2610.00120")


@LOOPBACK
def test_a_listing_that_changes_between_its_pages_is_cut_short():
    days = [
        (dt.date(2026, 10, 9), make_entries(30)),
        (dt.date(2026, 10, 8), make_entries(40, start=100)),
    ]
    listing = Recent("cs.CL", days, show=50, changes={50: 95})  # a new announcement meanwhile
    with LocalServer() as server:
        for path, page in listing.routes().items():
            server.route(path, ok(page, content_type="text/html"))
        src = listing_source(server, categories=["cs.CL"], listings=["recent"], page_size=50)
        got = read(src, src.targets()[0])
    assert got.verdict.outcome is TargetOutcome.INCOMPLETE
    assert "the listing changed while it was read" in got.verdict.reason


@LOOPBACK
def test_a_later_page_that_cannot_be_fetched_cuts_the_listing_short():
    days = [(dt.date(2026, 10, 9), make_entries(60))]
    listing = Recent("cs.CL", days, show=50)
    with LocalServer() as server:
        server.route("/list/cs.CL/recent?skip=0&show=50", ok(listing.page(0)))
        server.route("/list/cs.CL/recent?skip=50&show=50", status(500))
        src = listing_source(server, categories=["cs.CL"], listings=["recent"], page_size=50)
        got = read(src, src.targets()[0])
    assert got.verdict.outcome is TargetOutcome.INCOMPLETE and len(got.papers) == 50
    assert "skip=50&show=50 could not be read" in got.verdict.reason


@LOOPBACK
def test_a_new_page_of_an_older_day_is_stale():
    with LocalServer() as server:
        old = new_page(dt.date(2024, 8, 9), SECTIONS, layout=2024)
        server.route("/list/hep-th/new?skip=0&show=2000", ok(old, content_type="text/html"))
        src = listing_source(server, archives=["hep-th"])
        (target,) = src.targets()
        got = read(src, target)
    assert target.date == current_listing_day(dt.datetime.now(dt.UTC))
    assert got.verdict.outcome is TargetOutcome.STALE
    assert "answered for 2024-08-09" in got.verdict.reason


@LOOPBACK
def test_the_current_new_page_is_complete():
    today = current_listing_day(dt.datetime.now(dt.UTC))
    with LocalServer() as server:
        page = new_page(today, SECTIONS, layout=2026)
        server.route("/list/cs.CL/new?skip=0&show=2000", ok(page, content_type="text/html"))
        src = listing_source(server, categories=["cs.CL"])
        got = read(src, src.targets()[0])
    assert got.verdict.outcome is TargetOutcome.COMPLETE, got.verdict
    assert got.verdict.expected == 12 and {p.listing_date for p in got.papers} == {today}


@LOOPBACK
def test_a_week_of_days_names_each_day_and_asks_for_the_weekend_nothing():
    """Saturday 2026-10-03 to Friday 2026-10-09 from /recent: the weekend is `empty` with the
    calendar's reason (never asked), Monday a holiday named in the options, the listed days
    `complete`, and one request for the whole week."""
    listed = [dt.date(2026, 10, d) for d in (9, 8, 7, 6)]
    days = [(d, make_entries(3 + n, start=10 * n + 1)) for n, d in enumerate(listed)]
    with LocalServer() as server:
        for path, page in Recent("cs.CL", days, show=2000).routes().items():
            server.route(path, ok(page, content_type="text/html"))
        src = listing_source(
            server,
            categories=["cs.CL"],
            days_from="2026-10-03",
            days_to="2026-10-09",
            holidays=["2026-10-05"],
        )
        outcomes = {}
        for target in src.targets():
            got = read(src, target)
            outcomes[target.date] = (got.verdict.outcome, got.verdict.reason, len(got.papers))
        assert len(server.requests) == 1
    saturday, sunday, monday = (dt.date(2026, 10, d) for d in (3, 4, 5))
    assert outcomes[saturday][0] is TargetOutcome.EMPTY
    assert "no listing dated Saturday" in outcomes[saturday][1]
    assert outcomes[sunday][0] is TargetOutcome.EMPTY
    assert outcomes[monday][0] is TargetOutcome.EMPTY and "holiday" in outcomes[monday][1]
    for n, day in enumerate(listed):
        assert outcomes[day] == (TargetOutcome.COMPLETE, None, 3 + n), day


@LOOPBACK
def test_a_day_recent_does_not_list_yet_is_stale_and_one_it_skipped_is_empty():
    days = [(dt.date(2026, 10, 8), make_entries(2)), (dt.date(2026, 10, 6), make_entries(2))]
    with LocalServer() as server:
        for path, page in Recent("cs.CL", days, show=2000).routes().items():
            server.route(path, ok(page, content_type="text/html"))
        src = listing_source(
            server, categories=["cs.CL"], days_from="2026-10-07", days_to="2026-10-09"
        )
        got = {t.date: read(src, t).verdict for t in src.targets()}
    assert got[dt.date(2026, 10, 9)].outcome is TargetOutcome.STALE
    assert got[dt.date(2026, 10, 7)].outcome is TargetOutcome.EMPTY
    assert "2026-10-06, 2026-10-08" in got[dt.date(2026, 10, 7)].reason
    assert got[dt.date(2026, 10, 8)].outcome is TargetOutcome.COMPLETE


@LOOPBACK
def test_a_day_spanning_two_pages_is_read_whole():
    days = [
        (dt.date(2026, 10, 9), make_entries(30)),
        (dt.date(2026, 10, 8), make_entries(40, start=100)),
        (dt.date(2026, 10, 7), make_entries(5, start=300)),
    ]
    with LocalServer() as server:
        for path, page in Recent("cs.CL", days, show=50).routes().items():
            server.route(path, ok(page, content_type="text/html"))
        src = listing_source(server, categories=["cs.CL"], days_from="2026-10-08", page_size=50)
        (target,) = src.targets()
        got = read(src, target)
    assert got.verdict.outcome is TargetOutcome.COMPLETE, got.verdict
    assert parts(target) == [("2026-10-08", 40, 40)]
    assert {p.arxiv_id for p in got.papers} == {f"2610.{i:05d}" for i in range(100, 140)}


def test_a_target_for_another_site_page_fails_clearly():
    src = source(ArxivListing, ["https://arxiv.org/abs/2408.04000"])
    with pytest.raises(InputError, match="not an arXiv listing URL"):
        read(src, Target("https://arxiv.org/abs/2408.04000"))


# -- the real pages (../shared/reference/arxiv) --------------------------------------------------

REAL = {
    "list_hep-th_new_2024-08-09_complete.html": (
        49,
        {"new": 14, "cross-list": 22, "replacement": 13},
    ),
    "list_cs.CL_recent_2026-07-27_complete.html": (
        50,
        {dt.date(2026, 7, 27): 47, dt.date(2026, 7, 24): 3},
    ),
}


@pytest.mark.parametrize("name", sorted(REAL))
def test_harvester_parse_gives_the_real_pages_declared_counts(shared_dir, tmp_path, name):
    total, per_section = REAL[name]
    done = clirun.run(
        [
            sys.executable,
            "-m",
            "harvester.cli",
            "parse",
            "arxiv-listing",
            str(shared_dir / "reference" / "arxiv" / name),
        ],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=tmp_path,
        env={**os.environ, "HARVESTER_PLUGINS": BUILTIN_PLUGINS},
    )
    assert done.returncode == 0, done.stderr
    records = [json.loads(line) for line in done.stdout.splitlines()]
    assert len(records) == total and done.stderr == ""
    if "new" in name:
        counts = Counter(r["extra"]["arxiv"]["announced_as"] for r in records)
    else:
        counts = Counter(dt.date.fromisoformat(r["listing_date"]) for r in records)
    assert counts == per_section
    for r in records:
        assert r["arxiv_id"] and r["title"] and r["authors"] and r["categories"], r
        assert r["schema_version"] == "1.1" and r["source"] == "arxiv-listing"
    versions = [r for r in records if r["arxiv_version"] is None]
    if "new" in name:  # two replacements whose page links no version: null, with the reason
        assert sorted(r["arxiv_id"] for r in versions) == ["2405.03459", "2406.15860"]
        assert all("v2 or later" in r["extra"]["arxiv"]["version_unknown"] for r in versions)
        assert {r["listing_date"] for r in records} == {"2024-08-09"}
    else:
        assert versions == []
