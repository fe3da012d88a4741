"""The feed sink: Atom read back by feedparser (what Python feed readers use), JSON Feed by
feedparser-rs (the same API; feedparser 6.0 has no JSON Feed support) plus the JSON Feed 1.1
MUSTs checked directly, since that parser is lenient."""

from __future__ import annotations

import datetime as dt
import html
import json
import re
import time

import feedparser
import feedparser_rs
import msgspec
import pytest
from harvester_plugins.feed import FeedOptions, FeedSink

from harvester.api import Outcome, SinkContext
from harvester.errors import SinkError
from tests.paper_factory import HARVESTED, numbered, sample_papers, title_key

FEED_VERSIONS = {"atom": "atom10", "json": "json11"}
RFC3339 = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)$")


def check_json_feed_musts(feed: dict) -> None:
    """What JSON Feed 1.1 requires of a feed and its items."""
    assert feed["version"] == "https://jsonfeed.org/version/1.1"
    assert isinstance(feed["title"], str) and isinstance(feed["items"], list)
    assert all(k.startswith("_") or k in JSON_FEED_KEYS for k in feed)
    for item in feed["items"]:
        assert isinstance(item["id"], str) and item["id"]
        assert "content_html" in item or "content_text" in item
        for key in ("date_published", "date_modified"):
            assert key not in item or RFC3339.match(item[key]), item[key]
        assert all(isinstance(a["name"], str) for a in item.get("authors", []))


JSON_FEED_KEYS = {
    "version",
    "title",
    "home_page_url",
    "feed_url",
    "description",
    "user_comment",
    "next_url",
    "icon",
    "favicon",
    "authors",
    "language",
    "expired",
    "hubs",
    "items",
}


def feed_run(tmp_path, papers, *, resume=None, outcome=Outcome.DONE, **options):
    opts = msgspec.convert({"path": "out/feed", **options}, FeedOptions)
    sink = FeedSink(opts, SinkContext(base_dir=tmp_path, label="papers"))
    sink.open(resume)
    sink.write(papers)
    checkpoint = sink.commit()
    sink.close(outcome)
    return checkpoint


def parsed(tmp_path, fmt):
    data = (tmp_path / "out/feed").read_bytes()
    if fmt == "json":
        check_json_feed_musts(json.loads(data))
        feed = feedparser_rs.parse(data)
    else:
        feed = feedparser.parse(data, response_headers={"content-type": "application/atom+xml"})
    assert not feed.bozo, feed.get("bozo_exception")
    assert feed.version == FEED_VERSIONS[fmt]
    return feed


def utc(struct: time.struct_time) -> dt.datetime:
    return dt.datetime(*struct[:6], tzinfo=dt.UTC)


@pytest.mark.parametrize("fmt", ["atom", "json"])
def test_feed_readers_read_entries_ids_and_dates(tmp_path, fmt):
    feed_run(tmp_path, sample_papers(), format=fmt, title="Sheep papers")
    feed = parsed(tmp_path, fmt)
    assert feed.feed.title == "Sheep papers"
    entries = {e.id: e for e in feed.entries}
    assert set(entries) == {f"urn:harvester:paper:{p.key}" for p in sample_papers()}
    first = entries["urn:harvester:paper:arxiv:2603.01111"]
    # feedparser-rs hands JSON Feed titles out HTML-escaped; the file holds the plain text.
    assert html.unescape(first.title) == "Sheep Counting at Scale: 100% Recall & {Braces}"
    assert first.link == "https://huggingface.co/papers/2603.01111"
    assert utc(first.published_parsed) == dt.datetime(2026, 3, 14, tzinfo=dt.UTC)
    # new: updated when published (the listing day), whenever the run happened
    assert utc(first.updated_parsed) == dt.datetime(2026, 3, 14, tzinfo=dt.UTC)
    assert [a.name for a in first.authors] == ["Zoë Müller-Łukasiewicz", "José Ñúñez", "王小明"]
    assert "19 upvotes" in first.content[0].value
    unknown = entries["urn:harvester:paper:arxiv:2603.02222"]
    assert "4 authors (names not listed" in unknown.content[0].value
    # Newest first: by listing day.
    days = [utc(e.published_parsed) for e in feed.entries]
    assert days == sorted(days, reverse=True)


def test_atom_entries_without_authors_inherit_the_feed_author(tmp_path):
    feed_run(tmp_path, sample_papers(), format="atom")
    feed = parsed(tmp_path, "atom")
    assert feed.feed.author == "harvester"
    unknown = next(e for e in feed.entries if e.id.endswith("2603.02222"))
    assert [a.get("name") for a in unknown.get("authors", [])] in ([], ["harvester"])


NO_ID = title_key("A Paper Without An Identifier")


@pytest.mark.parametrize(
    ("options", "expected"),
    [
        ({"min_upvotes": 7}, {"arxiv:2603.01111", "arxiv:2603.03333"}),
        ({"organizations": ["acme research"]}, {"arxiv:2603.01111", "arxiv:2603.03333"}),
        ({"words": ["identifier", "café"]}, {"arxiv:2603.02222", NO_ID}),
        ({"words": ["count"]}, {"arxiv:2603.01111"}),  # a word, not part of one ("Counting")
        ({"min_upvotes": 10, "organizations": ["Acme Research"]}, {"arxiv:2603.01111"}),
    ],
)
def test_filters(tmp_path, options, expected):
    feed_run(tmp_path, sample_papers(), format="json", **options)
    feed = parsed(tmp_path, "json")
    assert {e.id.removeprefix("urn:harvester:paper:") for e in feed.entries} == expected


@pytest.mark.parametrize("fmt", ["atom", "json"])
def test_runs_merge_by_id_newest_first_within_the_window(tmp_path, fmt):
    feed_run(tmp_path, [numbered(n) for n in range(4)], format=fmt, max_entries=5)
    before = {e.id: e for e in parsed(tmp_path, fmt).entries}
    seen_again = msgspec.structs.replace(numbered(1), harvested_at=HARVESTED + dt.timedelta(1))
    changed = msgspec.structs.replace(
        numbered(2), upvotes=99, harvested_at=HARVESTED + dt.timedelta(1)
    )
    feed_run(tmp_path, [seen_again, changed, numbered(8), numbered(9)], format=fmt, max_entries=5)
    feed = parsed(tmp_path, fmt)
    ids = [e.id for e in feed.entries]
    assert len(ids) == len(set(ids)) == 5  # a paper seen twice is one entry; window of 5
    entries = {e.id: e for e in feed.entries}
    one, two = (f"urn:harvester:paper:{numbered(n).key}" for n in (1, 2))
    assert entries[one].updated == before[one].updated  # same content: not flagged as changed
    assert utc(entries[two].updated_parsed) == HARVESTED + dt.timedelta(1)
    assert "99 upvotes" in entries[two].content[0].value
    days = [(utc(e.published_parsed), utc(e.updated_parsed)) for e in feed.entries]
    assert days == sorted(days, reverse=True)
    # numbered(0) and numbered(4) share the oldest listing day: one of them fell out.
    assert (
        len(
            {numbered(n).key for n in (0, 4)}
            & {i.removeprefix("urn:harvester:paper:") for i in ids}
        )
        == 1
    )


def test_suspend_abandon_keep_the_feed_and_resume_continues(tmp_path):
    feed_run(tmp_path, [numbered(1)])
    first = (tmp_path / "out/feed").read_bytes()
    feed_run(tmp_path, [numbered(3)], outcome=Outcome.ABANDON)
    assert (tmp_path / "out/feed").read_bytes() == first
    checkpoint = feed_run(tmp_path, [numbered(2)], outcome=Outcome.SUSPEND)
    assert (tmp_path / "out/feed").read_bytes() == first
    feed_run(tmp_path, [numbered(5)], resume=json.loads(json.dumps(checkpoint)))
    ids = {e.id for e in parsed(tmp_path, "atom").entries}
    assert ids == {f"urn:harvester:paper:{numbered(n).key}" for n in (1, 2, 5)}
    assert not list(tmp_path.glob("out/feed.papers.jsonl*"))


def test_a_file_that_is_not_a_feed_is_never_overwritten(tmp_path):
    target = tmp_path / "out/feed"
    target.parent.mkdir()
    target.write_text("my notes, not a feed", encoding="utf-8")
    with pytest.raises(SinkError, match="not an Atom feed"):
        feed_run(tmp_path, [numbered(1)])
    assert target.read_text(encoding="utf-8") == "my notes, not a feed"


@pytest.mark.parametrize("fmt", ["atom", "json"])
def test_two_runs_of_the_same_papers_give_the_same_feed(tmp_path, fmt):
    """Another run, later, reading the papers in another order: the same bytes. Forty papers
    on four listing days tie on day and time: the ids order them."""
    papers = [numbered(n) for n in range(40)]
    later = HARVESTED + dt.timedelta(hours=3)
    again = [msgspec.structs.replace(p, harvested_at=later) for p in reversed(papers)]
    feed_run(tmp_path / "a", papers, format=fmt, max_entries=25)
    feed_run(tmp_path / "b", again, format=fmt, max_entries=25)
    first = (tmp_path / "a/out/feed").read_bytes()
    assert first == (tmp_path / "b/out/feed").read_bytes()
    entries = parsed(tmp_path / "a", fmt).entries
    order = [(-utc(e.published_parsed).timestamp(), e.id) for e in entries]
    assert order == sorted(order) and len(order) == 25  # newest day first, then by id
    feed_run(tmp_path / "a", again, format=fmt, max_entries=25)  # the same data again
    assert (tmp_path / "a/out/feed").read_bytes() == first
