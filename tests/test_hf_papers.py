"""The hf-papers source: embedded JSON and card fallback, wrong-day pages, errors, cassettes."""

from __future__ import annotations

import datetime as dt
import json

import msgspec
import pytest
from harvester_plugins import hf_common
from harvester_plugins.hf_papers import HfPapersSource

from harvester.api import RunContext
from harvester.errors import ConfigError, InputError
from harvester.fetch import Fetcher, FetchSettings
from harvester.schema import Paper, Rejected
from tests.fixtures import hf_gen

DAY = dt.date(2026, 10, 6)
JSON_ONLY = ("abstract", "authors", "author_count", "published_raw", "extra")


def source(**options) -> HfPapersSource:
    context = RunContext(fetcher_factory=lambda: Fetcher(FetchSettings(min_interval=0)))
    return HfPapersSource(HfPapersSource.Options(**options), context)


def parse(page: str, *, ref: str = "page.html", requested: dt.date | None = DAY):
    return list(source().parse_page(page.encode(), source_ref=ref, requested=requested))


def test_embedded_json_gives_full_records():
    items = hf_gen.make_items(6, day=DAY)
    papers = parse(hf_gen.render_page(items, day=DAY))
    assert [p.arxiv_id for p in papers] == [i["paper"]["id"] for i in items]
    for paper, item in zip(papers, items, strict=True):
        assert paper.key == f"arxiv:{item['paper']['id']}"
        assert paper.authors == [a["name"] for a in item["paper"]["authors"]]
        assert paper.author_count == len(item["paper"]["authors"])
        assert paper.upvotes == item["paper"]["upvotes"]
        assert paper.comments == item["numComments"]
        assert paper.published == dt.date.fromisoformat(item["paper"]["publishedAt"][:10])
        assert paper.listing_date == DAY
        assert paper.url == f"https://huggingface.co/papers/{item['paper']['id']}"
        assert paper.extra["hf"]["parsed_from"] == "embedded-json"
        assert paper.extra["hf"].get("github_stars") == item["paper"].get("githubStars")
        org = item.get("organization")
        assert paper.organization == (org["fullname"] if org else None)


def test_cards_give_the_same_records_as_the_json_except_json_only_fields():
    items = hf_gen.make_items(12, day=DAY, seed=3)
    from_json = parse(hf_gen.render_page(items, day=DAY))
    from_cards = parse(hf_gen.render_page(items, day=DAY, embed_json=False))
    assert len(from_cards) == len(from_json) == 12
    for j, c in zip(from_json, from_cards, strict=True):
        assert c.extra["hf"]["parsed_from"] == "cards"
        common_j = {k: v for k, v in msgspec.structs.asdict(j).items() if k not in JSON_ONLY}
        common_c = {k: v for k, v in msgspec.structs.asdict(c).items() if k not in JSON_ONLY}
        assert common_c == common_j
        # cards show a few avatars (a prefix of the authors) and the "N authors" count
        assert j.authors[: len(c.authors)] == c.authors
        assert c.author_count in (None, j.author_count)
        assert c.extra["hf"]["ai_summary"] == j.extra["hf"]["ai_summary"]
        assert c.extra["hf"].get("github_stars") == j.extra["hf"].get("github_stars")


def test_desktop_and_mobile_renderings_are_one_paper():
    items = hf_gen.make_items(4, day=DAY)
    page = hf_gen.render_page(items, day=DAY, embed_json=False)
    assert page.count(f'href="/papers/{items[0]["paper"]["id"]}"') >= 4  # rendered twice
    papers = parse(page)
    assert [p.arxiv_id for p in papers] == [i["paper"]["id"] for i in items]


def test_unreadable_json_falls_back_to_cards(caplog):
    items = hf_gen.make_items(3, day=DAY)
    papers = parse(hf_gen.render_page(items, day=DAY, props_override='{"dailyPapers": [broken'))
    assert [p.extra["hf"]["parsed_from"] for p in papers] == ["cards"] * 3
    assert "unreadable DailyPapers JSON" in caplog.text


def test_one_bad_item_is_rejected_and_the_others_kept():
    items = hf_gen.make_items(3, day=DAY)
    items[1]["paper"]["upvotes"] = "many"
    out = parse(hf_gen.render_page(items, day=DAY))
    assert [type(x) for x in out] == [Paper, Rejected, Paper]
    assert "upvotes" in out[1].reason and out[1].source_ref == "page.html"


@pytest.mark.parametrize("embed_json", [True, False])
def test_a_page_showing_another_day_is_an_empty_day(embed_json):
    src = source()
    other = DAY - dt.timedelta(days=1)
    page = hf_gen.render_page(hf_gen.make_items(3, day=other), day=other, embed_json=embed_json)
    out = list(src.parse_page(page.encode(), source_ref="u", requested=DAY))
    assert out == []
    assert src.empty_targets == ["u"]


def test_zero_papers_is_an_error_naming_the_page():
    with pytest.raises(InputError) as err:
        parse(hf_gen.render_page([], day=DAY), ref="https://huggingface.co/papers/date/2026-10-06")
    assert err.value.location == "https://huggingface.co/papers/date/2026-10-06"


def test_unrecognised_markup_is_an_error_naming_the_page():
    with pytest.raises(InputError, match="no paper list") as err:
        parse("<html><body><h1>Sign in</h1></body></html>", ref="https://x.test/papers")
    assert err.value.location == "https://x.test/papers"


def test_reads_a_saved_file(tmp_path):
    items = hf_gen.make_items(5, day=DAY)
    saved = tmp_path / "daily.html"
    saved.write_text(hf_gen.render_page(items, day=DAY, embed_json=False), encoding="utf-8")
    src = source(inputs=[str(saved)])
    papers = [p for t in src.targets() for p in src.read(t)]
    assert [p.arxiv_id for p in papers] == [i["paper"]["id"] for i in items]
    assert {p.source_ref for p in papers} == {str(saved)}
    assert {p.listing_date for p in papers} == {DAY}  # from the page's day links


def test_missing_file_is_an_input_error(tmp_path):
    with pytest.raises(InputError, match="cannot read"):
        list(source().read(str(tmp_path / "nope.html")))


@pytest.mark.parametrize(
    ("kind", "extra"), [("trending", {}), ("search", {"query": "sparse agents"})]
)
def test_trending_and_search_pages_parse(kind, extra):
    items = hf_gen.make_items(4, day=DAY, seed=7)
    for embed in (True, False):
        page = hf_gen.render_page(
            items, kind=kind, label="Trending Papers", embed_json=embed, **extra
        )
        papers = parse(page, requested=None)
        assert [p.arxiv_id for p in papers] == [i["paper"]["id"] for i in items]
        assert {p.listing_date for p in papers} == {None}


def test_targets_cover_every_listing_kind():
    src = source(
        daily_from=dt.date(2026, 10, 30),
        daily_to=dt.date(2026, 11, 1),
        weeks=["2026-W41"],
        months=["2026-10"],
        trending=True,
        search=["a b"],
    )
    assert src.targets() == [
        "https://huggingface.co/papers/date/2026-10-30",
        "https://huggingface.co/papers/date/2026-10-31",
        "https://huggingface.co/papers/date/2026-11-01",
        "https://huggingface.co/papers/week/2026-W41",
        "https://huggingface.co/papers/month/2026-10",
        "https://huggingface.co/papers/trending",
        "https://huggingface.co/papers?q=a%20b",
    ]
    with pytest.raises(ConfigError, match="YYYY-Www"):
        source(weeks=["41"]).targets()


@pytest.mark.parametrize(
    ("text", "value"), [("149", 149), ("1.54k", 1540), ("110k", 110_000), ("-", 0), ("x", None)]
)
def test_parse_count(text, value):
    assert hf_common.parse_count(text) == value


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Published on Dec 28, 2024", (dt.date(2024, 12, 28), False)),
        ("Sep 4, 2026", (dt.date(2026, 9, 4), False)),
        ("May 29", (dt.date(2026, 5, 29), True)),
        ("Dec 30", (dt.date(2025, 12, 30), True)),  # no year, later than the reference day
        ("4 authors", (None, False)),
    ],
)
def test_parse_shown_date(text, expected):
    assert hf_common.parse_shown_date(text, DAY) == expected


@pytest.mark.vcr("hf_papers_week_2026-10-05.yaml")
def test_a_recorded_week_is_harvested_once_per_paper_with_full_fields():
    src = source(daily_from=hf_gen.WEEK[0], daily_to=hf_gen.WEEK[-1])
    try:
        papers = [p for t in src.targets() for p in src.read(t)]
    finally:
        src.context.close()
    expected = {i["paper"]["id"]: (d, i) for d in hf_gen.WEEK for i in hf_gen.week_day_items(d)}
    assert len(papers) == len(expected) == len({p.key for p in papers})
    for paper in papers:
        day, item = expected[paper.arxiv_id]
        assert paper.listing_date == day
        assert paper.authors == [a["name"] for a in item["paper"]["authors"]]
        assert paper.author_count == len(paper.authors)
        assert (paper.upvotes, paper.comments) == (item["paper"]["upvotes"], item["numComments"])
        assert paper.organization == (item.get("organization") or {}).get("fullname")
        assert paper.published.isoformat() == item["paper"]["publishedAt"][:10]
        assert paper.source_ref == f"https://huggingface.co/papers/date/{day}"
    redirected = f"https://huggingface.co/papers/date/{hf_gen.REDIRECTED_DAY}"
    assert src.empty_targets == [redirected]
    assert all(p.listing_date != hf_gen.REDIRECTED_DAY for p in papers)


def test_records_pass_the_json_schema():
    import jsonschema

    from harvester.schema import json_schema

    items = hf_gen.make_items(5, day=DAY)
    for embed in (True, False):
        papers = parse(hf_gen.render_page(items, day=DAY, embed_json=embed))
        assert len(papers) == 5
        for paper in papers:
            paper.source = "hf-papers"
            jsonschema.validate(json.loads(msgspec.json.encode(paper)), json_schema())
