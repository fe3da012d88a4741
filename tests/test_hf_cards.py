"""Rendered cards, both layouts: they give what the card shows and nothing more (issue 10 §6-9)
and are read card by card under a nesting bound (issues 11, 15)."""

from __future__ import annotations

import datetime as dt
import os
import shutil

import pytest
from harvester_plugins.hf.cards import cards_to_papers
from harvester_plugins.hf.papers import HfPapersSource

from tests.hf_support import HF_FIXTURES, hf_site, make_source, run

DAY = dt.date(2025, 12, 10)


def parse_saved(path, **options):
    options.setdefault("inputs", [str(path)])
    (outcome,) = run(make_source(HfPapersSource, **options))
    return outcome


def fields(paper, *names):
    return {name: getattr(paper, name) for name in names}


def test_2024_cards_read_upvotes_author_count_and_the_day_from_query_links():
    outcome = parse_saved(HF_FIXTURES / "cards_2024.html")
    assert outcome.error is None and outcome.rejected == []
    a, b, c = outcome.papers
    common = {
        "listing_date": dt.date(2024, 5, 27),
        "abstract": None,
        "authors": [],
        "published": None,
        "organization": None,
        "submitted_by": None,
    }
    assert fields(a, *common) == common
    assert fields(a, "arxiv_id", "title", "upvotes", "author_count", "comments") == {
        "arxiv_id": "2405.10001",
        "title": "Tiered Caches for Sparse Attention",
        "upvotes": 94,
        "author_count": 533,
        "comments": 3,
    }
    # the avatars' titles are account names of the authors who claimed it: not the authors
    assert a.extra["hf"]["avatar_names"] == ["adacast", "t-halvorsen", "hkowal"]
    # no date line and no comment link: the count is not shown, so it is unknown
    assert fields(b, "upvotes", "author_count", "comments") == {
        "upvotes": 0,
        "author_count": 1,
        "comments": None,
    }
    assert "avatar_names" not in b.extra["hf"]
    assert fields(c, "title", "upvotes", "author_count", "comments") == {
        "title": "Speech & Memory: Two Views",
        "upvotes": 1200,
        "author_count": 12,
        "comments": 41,
    }


def test_2026_cards_give_what_the_card_shows_and_no_more():
    outcome = parse_saved(HF_FIXTURES / "cards_2026.html", captured_on=DAY)
    assert outcome.error is None and outcome.rejected == []
    a, b, c = outcome.papers  # desktop and mobile renderings are one paper each
    for paper in (a, b, c):
        assert paper.abstract is None and paper.authors == []
        assert paper.listing_date is None  # a current page without its JSON links only back
        assert paper.extra["hf"]["parsed_from"] == "cards"
    assert a.extra["hf"]["card_summary"].startswith("Agents that reason in latent space")
    assert a.extra["hf"]["avatar_names"] == ["Wei Qing", "mira-s", "Tomás Rey"]
    assert fields(
        a,
        "arxiv_id",
        "upvotes",
        "author_count",
        "comments",
        "published",
        "published_raw",
        "published_inferred",
    ) == {
        "arxiv_id": "2512.03001",
        "upvotes": 149,
        "author_count": 7,
        "comments": 0,  # the date line is shown and no count: the site omits a zero count
        "published": dt.date(2025, 12, 8),
        "published_raw": "Dec 8",
        "published_inferred": True,
    }
    assert fields(
        b,
        "organization",
        "submitted_by",
        "upvotes",
        "comments",
        "author_count",
        "published",
        "published_inferred",
    ) == {
        "organization": "Northfen Institute & Co.",
        "submitted_by": "akowal",
        "upvotes": 22,
        "comments": 6,
        "author_count": None,  # the organisation chip replaces the count
        "published": dt.date(2024, 11, 28),
        "published_inferred": False,
    }
    assert b.extra["hf"]["organization_id"] == "northfen"
    assert fields(c, "upvotes", "comments", "author_count", "published") == {
        "upvotes": 0,
        "comments": 0,
        "author_count": 1,
        "published": dt.date(2025, 1, 3),
    }
    assert "card_summary" not in c.extra["hf"]


def test_yearless_dates_of_a_saved_page_resolve_against_its_captured_on(tmp_path):
    later = parse_saved(HF_FIXTURES / "cards_2026.html", captured_on=dt.date(2026, 1, 5))
    assert [p.published for p in later.papers] == [
        dt.date(2025, 12, 8),
        dt.date(2024, 11, 28),
        dt.date(2026, 1, 3),
    ]
    per_input = parse_saved(
        None,
        inputs=[{"path": str(HF_FIXTURES / "cards_2026.html"), "captured_on": "2026-01-05"}],
        captured_on=DAY,  # the input's own wins
    )
    assert per_input.papers[2].published == dt.date(2026, 1, 3)


def test_without_captured_on_the_files_date_stands_in_with_a_warning(tmp_path, caplog):
    saved = tmp_path / "page.html"
    shutil.copy(HF_FIXTURES / "cards_2026.html", saved)
    noon = dt.datetime(2026, 1, 5, 12, 0).timestamp()
    os.utime(saved, (noon, noon))
    outcome = parse_saved(saved)
    assert outcome.papers[2].published == dt.date(2026, 1, 3)
    (warning,) = [r.getMessage() for r in caplog.records if "captured_on" in r.getMessage()]
    assert warning.startswith(f"{saved}: no captured_on option")  # once, not once per card


def test_a_saved_page_of_24_cards_never_dates_a_paper_after_its_day(tmp_path):
    """Issue 10 §9: yearless card dates of a saved 2025-12-10 page fell in 2026."""
    items = hf_site.make_items(24, day=DAY, seed=9)
    saved = tmp_path / "2025-12-10.html"
    saved.write_text(hf_site.daily_page_2026(items, day=DAY, embed_json=False), "utf-8")
    papers = parse_saved(saved, captured_on=DAY).papers
    assert [p.published for p in papers] == [hf_site.published_day(i) for i in items]
    assert any(p.published_inferred for p in papers)


@pytest.mark.parametrize(
    ("listing_day", "shown", "expected"),
    [
        (dt.date(2025, 12, 10), "Dec 10", dt.date(2025, 12, 10)),
        (dt.date(2025, 12, 10), "Dec 11", dt.date(2024, 12, 11)),  # never after the list's day
        (dt.date(2026, 1, 2), "Jan 3", dt.date(2025, 1, 3)),
        (dt.date(2026, 1, 2), "Dec 30", dt.date(2025, 12, 30)),
        (dt.date(2026, 1, 2), "Jan 2", dt.date(2026, 1, 2)),
    ],
)
def test_a_yearless_date_never_resolves_after_the_listing_day(listing_day, shown, expected):
    item = hf_site.make_item(0, day=listing_day)
    card = hf_site.card_2026(item, rendered_in=listing_day.year)
    printed = hf_site.shown_date(hf_site.published_day(item), rendered_in=listing_day.year)
    card = card.replace(printed, shown)
    (paper,) = cards_to_papers(
        card.encode(),
        source="hf-papers",
        source_ref="p",
        listing_date=listing_day,
        reference=lambda: pytest.fail("the listing day decides"),
    )
    assert (paper.published, paper.published_raw, paper.published_inferred) == (
        expected,
        shown,
        True,
    )


@pytest.mark.parametrize("layout", ["2026", "2024"])
def test_cards_agree_with_the_items_they_render_across_batches(layout):
    items = hf_site.make_items(130, day=DAY, seed=5)  # more than two parse batches
    if layout == "2026":
        page = hf_site.daily_page_2026(items, day=DAY, embed_json=False)
    else:
        page = hf_site.daily_page_2024(items, day=DAY, embed_json=False)
    out = list(
        cards_to_papers(
            page.encode(),
            source="hf-papers",
            source_ref="p",
            listing_date=DAY,
            reference=lambda: DAY,
        )
    )
    assert len(out) == len(items)
    for paper, item in zip(out, items, strict=True):
        p, org = item["paper"], item.get("organization")
        assert (paper.arxiv_id, paper.title, paper.upvotes) == (
            p["id"],
            item["title"],
            p["upvotes"],
        )
        assert paper.abstract is None and paper.authors == []
        if layout == "2024":
            assert paper.author_count == len(p["authors"]) and paper.published is None
            assert paper.comments == (item["numComments"] or None)  # no date line: 0 unknown
            continue
        assert paper.comments == item["numComments"]
        assert paper.published == hf_site.published_day(item)
        assert paper.organization == (org["fullname"] if org else None)
        assert paper.author_count == (None if org else len(p["authors"]))
        assert paper.extra["hf"].get("avatar_names") == (
            None if org else hf_site.avatar_names(item)
        )
        assert paper.submitted_by == item["submittedBy"]["name"]  # the account name
        assert paper.extra["hf"].get("card_summary") == p.get("ai_summary")


def test_submitted_by_is_the_account_name_on_both_paths(tmp_path):
    items = hf_site.make_items(8, day=DAY, seed=2)
    by_path = {}
    for embed in (True, False):
        saved = tmp_path / f"{embed}.html"
        saved.write_text(hf_site.daily_page_2026(items, day=DAY, embed_json=embed), "utf-8")
        by_path[embed] = [p.submitted_by for p in parse_saved(saved, captured_on=DAY).papers]
    assert by_path[True] == by_path[False] == [i["submittedBy"]["name"] for i in items]


def nested(depth: int) -> str:
    return "<div>" * depth + "deep" + "</div>" * depth


def test_a_deeply_nested_card_fails_its_page_by_name_and_other_pages_are_read(tmp_path):
    """Issue 11: 100,000 nested divs (1.1 MB) took 94 s to parse."""
    page = (HF_FIXTURES / "cards_2026.html").read_text("utf-8")
    cut = page.index("<!--[0--><article", page.index("2512.03001"))
    bad = tmp_path / "bad.html"
    bad.write_text(page[:cut] + "<article>" + nested(100_000) + "</article>" + page[cut:], "utf-8")
    good = tmp_path / "good.html"
    good.write_text(page, "utf-8")
    source = make_source(HfPapersSource, inputs=[str(bad), str(good)], captured_on=DAY)
    bad_out, good_out = run(source)
    assert bad_out.papers == [] and bad_out.error is not None
    assert bad_out.error.location == str(bad)
    assert "card 2 nests HTML elements 100" in bad_out.error.problem
    assert len(good_out.papers) == 3 and good_out.error is None


def test_deep_nesting_outside_the_cards_is_never_parsed(tmp_path):
    page = (HF_FIXTURES / "cards_2026.html").read_text("utf-8")
    saved = tmp_path / "page.html"
    saved.write_text(page.replace("<main", nested(100_000) + "<main", 1), "utf-8")
    assert len(parse_saved(saved, captured_on=DAY).papers) == 3


def test_a_card_that_cannot_be_read_is_rejected_and_the_others_kept(tmp_path):
    page = (HF_FIXTURES / "cards_2026.html").read_text("utf-8")
    page = page.replace('text-orange-500">22<', 'text-orange-500">lots<', 1)
    page = page.replace(
        "</div></section>", "<article><p>An advert, no paper</p></article></div></section>"
    )
    saved = tmp_path / "page.html"
    saved.write_text(page, "utf-8")
    outcome = parse_saved(saved, captured_on=DAY)
    assert [p.arxiv_id for p in outcome.papers] == ["2512.03001", "2512.03003"]
    reasons = [r.reason for r in outcome.rejected]
    assert reasons == [
        "the card's upvote count 'lots' is not a number",
        "an article without a paper title link (h3 a)",
    ]
    assert {r.source_ref for r in outcome.rejected} == {str(saved)}


def test_markup_that_does_not_split_into_cards_is_an_error_not_a_silent_loss(tmp_path):
    page = (HF_FIXTURES / "cards_2024.html").read_text("utf-8")
    saved = tmp_path / "page.html"
    # a card that swallows the rest of its batch: the cards after it would vanish
    saved.write_text(page.replace("A Note on Curriculum Drift", "A Note<plaintext>", 1), "utf-8")
    outcome = parse_saved(saved)
    assert outcome.papers == [] and outcome.error.location == str(saved)
    assert "does not split into cards (3 articles, 2 read)" in outcome.error.problem


def test_a_count_linked_to_another_paper_rejects_the_card(tmp_path):
    page = (HF_FIXTURES / "cards_2024.html").read_text("utf-8")
    saved = tmp_path / "page.html"
    saved.write_text(
        page.replace("/papers/2405.10003#community", "/papers/2405.10001#community"), "utf-8"
    )
    outcome = parse_saved(saved)
    assert [p.arxiv_id for p in outcome.papers] == ["2405.10001", "2405.10002"]
    (rejected,) = outcome.rejected
    assert (
        rejected.reason
        == "the card's comment link is for /papers/2405.10001, not /papers/2405.10003"
    )


def test_a_page_whose_dates_all_carry_their_year_needs_no_capture_day(tmp_path, caplog):
    page = (HF_FIXTURES / "cards_2026.html").read_text("utf-8")
    page = page.replace("Published on Dec 8<", "Published on Dec 8, 2025<")
    page = page.replace("Published on Jan 3<", "Published on Jan 3, 2025<")
    saved = tmp_path / "page.html"
    saved.write_text(page, "utf-8")
    outcome = parse_saved(saved)  # no captured_on: not needed, so no warning
    assert [p.published for p in outcome.papers] == [
        dt.date(2025, 12, 8),
        dt.date(2024, 11, 28),
        dt.date(2025, 1, 3),
    ]
    assert "captured_on" not in caplog.text
