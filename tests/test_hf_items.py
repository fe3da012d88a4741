"""The daily-papers item mapping (shared by hf-api and the page's JSON), on the real API
responses in ../shared/reference/real and on small hand-made items."""

from __future__ import annotations

import datetime as dt
import json

import msgspec
import pytest
from harvester_plugins.hf.api import HfApiSource
from harvester_plugins.hf.items import (
    HfItem,
    TooDeep,
    decode_items,
    item_to_paper,
    listing_days,
    new_paper,
)

from harvester.errors import InputError, RejectEntry
from harvester.normalise import clean_names, clean_text
from harvester.schema import Paper, Rejected
from tests.hf_support import make_source, real_response, run


def read_saved_response(path, **options):
    (outcome,) = run(make_source(HfApiSource, inputs=[str(path)], **options))
    assert outcome.error is None, outcome.error
    assert outcome.rejected == []
    return outcome


@pytest.mark.shared
def test_real_2026_response_maps_every_field_with_one_meaning():
    path = real_response("daily_papers_2026-07-21.json")
    raw = json.loads(path.read_text(encoding="utf-8"))
    papers = read_saved_response(path).papers
    assert len(papers) == 25
    for paper, item in zip(papers, raw, strict=True):
        p = item["paper"]
        assert paper.arxiv_id == p["id"]
        assert paper.listing_date == dt.date(2026, 7, 21)  # every item's submittedOnDailyAt
        assert paper.authors == [a["name"] for a in p["authors"]]
        assert paper.author_count == len(p["authors"])
        assert paper.published == dt.date.fromisoformat(p["publishedAt"][:10])
        assert (paper.upvotes, paper.comments) == (p["upvotes"], item["numComments"])
        # submitted_by: the account name (what a card shows); the display name in extra
        assert paper.submitted_by == item["submittedBy"]["name"]
        assert paper.extra["hf"]["submitter_name"] == item["submittedBy"]["fullname"]
        org = item.get("organization")
        assert paper.organization == (org["fullname"] if org else None)
        assert paper.extra["hf"].get("organization_id") == (org["name"] if org else None)
        assert paper.abstract == " ".join(p["summary"].split())
        assert paper.key == ""  # the core derives keys
    assert sum(p.submitted_by != p.extra["hf"]["submitter_name"] for p in papers) > 10
    hidden = {
        p.arxiv_id: p.extra["hf"]["hidden_authors"]
        for p in papers
        if "hidden_authors" in p.extra["hf"]
    }
    assert hidden == {"2607.18227": ["Dingyun Zhang"]}


@pytest.mark.shared
def test_real_2024_response_has_no_listing_day_and_says_why():
    path = real_response("daily_papers_2024-05-27.json")
    raw = json.loads(path.read_text(encoding="utf-8"))
    papers = read_saved_response(path).papers
    assert len(papers) == 13
    for paper, item in zip(papers, raw, strict=True):
        assert paper.listing_date is None
        assert paper.extra["hf"]["listing_date_unknown"] == "the item has no submittedOnDailyAt"
        # the paper's own date, not the item's top-level publishedAt (the day it was listed)
        assert paper.published == dt.date.fromisoformat(item["paper"]["publishedAt"][:10])
        assert paper.published != dt.date.fromisoformat(item["publishedAt"][:10])
        assert paper.submitted_by is None and paper.comments == item["numComments"]


def stamped(paper_id: str, stamp: str | None) -> HfItem:
    return msgspec.convert({"paper": {"id": paper_id, "submittedOnDailyAt": stamp}}, HfItem)


def test_a_day_stamp_names_each_items_day():
    items = [stamped("a", "2026-07-21T00:00:00.000Z"), stamped("b", "2026-07-20T00:00:00.000Z")]
    assert listing_days(items, None) == [(dt.date(2026, 7, 21), None), (dt.date(2026, 7, 20), None)]


def test_time_stamps_count_only_when_the_response_agrees_on_one_utc_day():
    agreeing = [stamped("a", "2026-03-06T03:55:12.777Z"), stamped("b", "2026-03-06T09:01:00.000Z")]
    assert [d for d, _ in listing_days(agreeing, None)] == [dt.date(2026, 3, 6)] * 2
    # a submission late in UTC carries the previous day: the list's day is ambiguous
    split = [stamped("a", "2026-03-05T23:50:00.000Z"), stamped("b", "2026-03-06T03:55:12.777Z")]
    days = listing_days(split, None)
    assert [d for d, _ in days] == [None, None]
    assert "several UTC days (2026-03-05, 2026-03-06)" in days[0][1]
    # a day the list is known to be (asked for and confirmed) holds for every item
    assert [d for d, _ in listing_days(split, dt.date(2026, 3, 6))] == [dt.date(2026, 3, 6)] * 2


def test_a_malformed_item_is_rejected_naming_where_and_the_others_kept():
    raw = json.dumps(
        [
            {"paper": {"id": "2607.00001", "title": "Fine"}},
            {"paper": {"id": "2607.00002", "upvotes": "many"}},
            {"paper": {"id": "2607.00003", "title": "Also fine"}},
        ]
    )
    items = decode_items(raw, "resp.json")
    assert [type(i) for i in items] == [HfItem, Rejected, HfItem]
    assert "upvotes" in items[1].reason and items[1].source_ref == "resp.json"
    assert '"many"' in items[1].raw


@pytest.mark.parametrize(
    ("raw", "problem"),
    [
        (b'{"dailyPapers": []}', "expected a JSON list of papers, got dict"),
        (b"[{]", "invalid JSON"),
        (b"<html>Sign in</html>", "invalid JSON"),
    ],
)
def test_a_response_that_is_no_list_of_items_is_an_input_error(raw, problem):
    with pytest.raises(InputError, match=problem) as err:
        decode_items(raw, "https://hf.test/api/daily_papers?p=0")
    assert err.value.location == "https://hf.test/api/daily_papers?p=0"


def test_json_nested_100000_deep_is_an_input_error_not_a_recursion_error():
    deep = b'[{"paper": {"id": "2607.00001", "x": ' + b"[" * 100_000 + b"]" * 100_000 + b"}}]"
    with pytest.raises(TooDeep, match="nested too deeply") as err:
        decode_items(deep, "deep.json")
    assert isinstance(err.value, InputError) and err.value.location == "deep.json"


def test_a_paper_needs_a_title_and_an_id():
    with pytest.raises(RejectEntry, match="has no title"):
        new_paper(hf_id="2607.00001", title="  ", source="s", source_ref="r", hf={})
    with pytest.raises(RejectEntry, match="has no id"):
        new_paper(hf_id=None, title="A title", source="s", source_ref="r", hf={})
    with pytest.raises(RejectEntry, match="negative count"):
        new_paper(hf_id="2607.00001", title="T", source="s", source_ref="r", hf={}, upvotes=-1)


def test_an_hf_id_that_is_no_arxiv_id_keeps_its_page_url():
    item = msgspec.convert({"paper": {"id": "66a1b2c3d4", "title": "No arXiv"}}, HfItem)
    paper = item_to_paper(item, source="s", source_ref="r", listing_date=None, parsed_from="api")
    assert isinstance(paper, Paper)
    assert paper.arxiv_id is None and paper.url == "https://huggingface.co/papers/66a1b2c3d4"
    assert paper.author_count is None  # no author list given: unknown, not zero


@pytest.mark.parametrize(
    "names",
    [
        ["Ada Lovelace", "Alan Turing"],  # clean: the one-pass check keeps them
        ["Ada"],
        ["Ada ", "Alan"],  # a space at a name's end
        ["Ada", " Alan"],  # ... or at its start
        ["Ada  Lovelace"],  # a doubled space
        ["Ada", "", "Alan"],  # an empty name is dropped
        ["", "Ada"],
        ["Ada", ""],
        ["Ada\tLovelace"],  # a control character
        ["Ada\x00Lovelace", "Alan"],  # the join's own separator inside a name
        ["Zoë Ångström", "Ada"],  # not ASCII
        ["Jose\u0301"],  # not NFC
        ["Ada\u200bLovelace"],  # an invisible character
        ["   "],
    ],
)
def test_author_names_are_cleaned_as_clean_text_cleans_each(names):
    assert clean_names(list(names)) == [n for n in map(clean_text, names) if n]
