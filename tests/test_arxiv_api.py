"""`arxiv-api`: id_list batches, one entry per id asked (a missing id named), the API's
totalResults checked and its error entries failing the batch; the real answers in ../shared."""

from __future__ import annotations

import pytest
from harvester_plugins.arxiv.api import ArxivApi
from harvester_plugins.arxiv.atom import parse_feed

from harvester.errors import InputError
from harvester.outcomes import TargetOutcome
from tests.arxiv_support import read, source
from tests.fixtures.arxiv_site import api_entry, api_error, api_feed, make_entries
from tests.localserver import LOOPBACK, LocalServer, ok

pytestmark = LOOPBACK

ENTRIES = make_entries(3, month="2609")
ATOM = "application/atom+xml"


def api_source(server: LocalServer, ids, **options):
    return source(ArxivApi, ids=ids, base_url=server.url("/api/query"), **options)


def path_of(url: str) -> str:
    return "/" + url.split("://", 1)[1].split("/", 1)[1]


def test_a_batch_with_a_missing_id_names_it_and_is_complete():
    ids = ["2609.00001", "2609.00002v2", "2609.09999", "2609.00003"]
    with LocalServer() as server:
        src = api_source(server, ids, batch_size=10)
        (target,) = src.targets()
        found = [
            api_entry(ENTRIES[0], doi="10.1103/x.76"),
            api_entry(ENTRIES[1]),
            api_entry(ENTRIES[2]),
        ]
        server.route(path_of(target.id), ok(api_feed(found), content_type=ATOM))
        got = read(src, target)
    assert "id_list=2609.00001,2609.00002v2,2609.09999,2609.00003&max_results=4" in target.id
    assert got.verdict.outcome is TargetOutcome.COMPLETE and target.declared.total == 4
    assert [p.arxiv_id for p in got.papers] == ["2609.00001", "2609.00002", "2609.00003"]
    (missing,) = got.rejects
    assert missing.reason == "the arXiv API returned no record for 2609.09999"
    assert missing.source_ref.endswith("#2609.09999")
    first = got.papers[0]
    assert first.doi == "10.1103/x.76" and first.categories == ENTRIES[0].categories
    assert str(first.published) == "2026-10-01" and first.arxiv_version == ENTRIES[0].version
    assert first.abstract and first.authors == ENTRIES[0].authors


def test_ids_are_batched():
    src = source(
        ArxivApi, ids=[f"2609.{i:05d}" for i in range(1, 6)] + ["2609.00001"], batch_size=2
    )
    assert [len(t.data) for t in src.targets()] == [2, 2, 1]  # the repeated id asked once
    with pytest.raises(Exception, match="not arXiv ids"):
        source(ArxivApi, ids=["abc"])


def test_an_error_entry_fails_the_batch_with_the_apis_message():
    with LocalServer() as server:
        src = api_source(server, ["2609.00001"])
        (target,) = src.targets()
        server.route(path_of(target.id), ok(api_error("incorrect id format for x")))
        with pytest.raises(InputError, match="answered an error: incorrect id format for x"):
            read(src, target)


def test_fewer_entries_than_total_results_is_incomplete():
    with LocalServer() as server:
        src = api_source(server, ["2609.00001", "2609.00002"])
        (target,) = src.targets()
        server.route(path_of(target.id), ok(api_feed([api_entry(ENTRIES[0])], total=2)))
        got = read(src, target)
    assert got.verdict.outcome is TargetOutcome.INCOMPLETE
    assert "totalResults is 2, the answer holds 1" in got.verdict.reason


def test_the_real_answers_parse(shared_dir):
    ref = shared_dir / "reference" / "arxiv"
    feed = parse_feed((ref / "api_query_all-testing_start0_max10_2026-04-12.xml").read_bytes(), "q")
    assert feed.total_results == 214881 and len(feed.entries) == 10 and feed.error is None
    first = feed.entries[0]
    assert (first.arxiv_id, first.arxiv_version) == ("2202.12139", 1)
    assert first.categories == ["cs.SE", "cs.LG"] and first.doi == "10.1109/ICSTW55395.2022.00035"
    assert first.extra["arxiv"]["comment"].startswith("Artificial Intelligence in Software")
    assert all(p.title and p.authors and p.categories for p in feed.entries)
    empty = parse_feed((ref / "api_idlist_0000.0000_empty_2026-04-12.xml").read_bytes(), "e")
    assert (empty.total_results, empty.entries) == (0, [])
    error = parse_feed((ref / "api_idlist_abc_error400_2026-04-12.xml").read_bytes(), "x")
    assert error.error == "incorrect id format for abc"
