"""`arxiv-oai`: ListRecords over resumption tokens, complete by `completeListSize`, resumed at
the token after an interruption; deleted records and OAI errors as outcomes; the XML parsed
without entities; the real answers in ../shared."""

from __future__ import annotations

import pytest
from harvester_plugins.arxiv.harvest import ArxivOai
from harvester_plugins.arxiv.oai import parse_answer, split_authors

from harvester.api import Target
from harvester.errors import InputError
from harvester.outcomes import TargetOutcome
from tests.arxiv_support import read, source
from tests.fixtures.arxiv_site import make_entries, oai_error, oai_page, raw_record
from tests.localserver import LOOPBACK, LocalServer, ok, status

pytestmark = LOOPBACK

ENTRIES = make_entries(8, month="2609")
XML = "text/xml"


def oai_source(server: LocalServer, **options):
    options = {"from_date": "2026-10-07", "base_url": server.url("/oai"), **options}
    return source(ArxivOai, **options)


def first_url(target: Target) -> str:
    return target.id.split("://", 1)[1].split("/", 1)[1]


def routes(server: LocalServer, target: Target, *, second=None) -> None:
    """Three pages: 3 records -> token T1 -> 3 (one deleted) -> T2 -> 2; completeListSize 8."""
    server.route(
        "/" + first_url(target),
        ok(
            oai_page([raw_record(e, versions=2) for e in ENTRIES[:3]], token="T1", size=8),
            content_type=XML,
        ),
    )
    page2 = oai_page(
        [
            raw_record(ENTRIES[3]),
            raw_record(ENTRIES[4], deleted=True),
            raw_record(ENTRIES[5], doi="10.1103/a.1 10.1103/b.2"),
        ],
        token="T2",
        size=8,
        cursor=3,
    )
    server.route(
        "/oai?verb=ListRecords&resumptionToken=T1", *(second or []), ok(page2, content_type=XML)
    )
    server.route(
        "/oai?verb=ListRecords&resumptionToken=T2",
        ok(oai_page([raw_record(e) for e in ENTRIES[6:]], size=8, cursor=6), content_type=XML),
    )


def test_two_tokens_are_followed_to_complete_list_size():
    with LocalServer() as server:
        src = oai_source(server, sets=["cs"])
        (target,) = src.targets()
        routes(server, target)
        got = read(src, target)
    assert got.verdict.outcome is TargetOutcome.COMPLETE, got.verdict
    assert target.declared.total == 8 and len(got.items) == 8
    assert [r.reason for r in got.rejects] == ["deleted at arXiv (OAI-PMH, datestamp 2026-10-07)"]
    assert got.rejects[0].source_ref.endswith("resumptionToken=T1#oai:arXiv.org:2609.00005")
    assert target.remembered == {"token": "", "read": "8"}  # done: nothing to resume
    assert "set=cs" in target.id and "metadataPrefix=arXivRaw" in target.id


def test_an_interrupted_harvest_resumes_at_the_token():
    """Run 1 reads page 1 and cannot fetch page 2: `incomplete`, the token remembered. Run 2
    (the memo the run state kept) starts at the token and declares what is left: together
    they read completeListSize entries, page 1 once."""
    with LocalServer() as server:
        src = oai_source(server)
        (target,) = src.targets()
        routes(server, target, second=[status(503)])
        first = read(src, target)
        assert first.verdict.outcome is TargetOutcome.INCOMPLETE
        assert "resumes at the token" in first.verdict.reason and len(first.items) == 3
        assert target.remembered == {"token": "T1", "read": "3"}
        again = Target(target.id, date=target.date, memo=dict(target.remembered))
        second = read(src, again)
        assert server.hits("/oai") == 4  # run 1: page 1, T1 refused; run 2: T1, T2
        page1_asked = sum("from=" in r.path for r in server.requests)
    assert page1_asked == 1
    assert second.verdict.outcome is TargetOutcome.COMPLETE, second.verdict
    assert again.declared.total == 5 and len(second.items) == 5
    ids = [p.arxiv_id for p in first.papers + second.papers]
    assert len(ids) + len(second.rejects) == 8 and len(set(ids)) == 7


def test_an_expired_remembered_token_restarts_the_range():
    with LocalServer() as server:
        src = oai_source(server)
        (target,) = src.targets()
        routes(server, target)
        server.route(
            "/oai?verb=ListRecords&resumptionToken=OLD",
            ok(oai_error("badResumptionToken", "expired"), content_type=XML),
        )
        got = read(src, Target(target.id, memo={"token": "OLD", "read": "3"}))
    assert got.verdict.outcome is TargetOutcome.COMPLETE and len(got.items) == 8


def test_a_token_refused_mid_harvest_cuts_the_target_short_and_forgets_it():
    with LocalServer() as server:
        src = oai_source(server)
        (target,) = src.targets()
        routes(server, target, second=[ok(oai_error("badResumptionToken", "gone"))])
        got = read(src, target)
    assert got.verdict.outcome is TargetOutcome.INCOMPLETE and "gone" in got.verdict.reason
    assert target.remembered["token"] == ""


def test_no_records_match_is_empty_and_other_errors_fail():
    with LocalServer() as server:
        src = oai_source(server, sets=["cs", "math"])
        empty, bad = src.targets()
        server.route("/" + first_url(empty), ok(oai_error("noRecordsMatch", "nothing")))
        server.route("/" + first_url(bad), ok(oai_error("badArgument", "until before from")))
        got = read(src, empty)
        with pytest.raises(InputError, match="OAI-PMH error badArgument: until before from"):
            read(src, bad)
    assert got.verdict.outcome is TargetOutcome.EMPTY
    assert got.verdict.reason == "OAI-PMH noRecordsMatch: nothing"


def test_a_503_with_retry_after_is_waited_for():
    with LocalServer() as server:
        src = oai_source(server)
        src.context.fetch_settings = src.context.fetch_settings.__class__(
            min_interval=0, robots=False, max_attempts=3, budgets={}
        )
        (target,) = src.targets()
        page = oai_page([raw_record(ENTRIES[0])])
        server.route(
            "/" + first_url(target),
            status(503, b"<h1>Retry after 1 seconds</h1>", headers={"Retry-After": "1"}),
            ok(page, content_type=XML),
        )
        got = read(src, target)
        first, second = server.requests
    assert got.verdict.outcome is TargetOutcome.COMPLETE and len(got.papers) == 1
    assert second.started - first.started >= 0.99  # the server's Retry-After, honoured


def test_targets_split_the_range_per_set():
    src = source(
        ArxivOai,
        from_date="2026-09-01",
        until_date="2026-09-10",
        days_per_target=4,
        sets=["cs", "physics:hep-th"],
        metadata_prefix="arXiv",
    )
    ids = [t.id for t in src.targets()]
    assert len(ids) == 6 and all(i.startswith("https://oaipmh.arxiv.org/oai?") for i in ids)
    assert "from=2026-09-09&until=2026-09-10&set=physics%3Ahep-th" in ids[-1]
    assert [t.date.day for t in src.targets()][:3] == [4, 8, 10]
    with pytest.raises(Exception, match="until_date"):
        source(ArxivOai, from_date="2026-09-10", until_date="2026-09-01")


# -- the records ----------------------------------------------------------------------------


def test_arxiv_raw_keeps_the_version_history_and_every_doi():
    page = oai_page([raw_record(ENTRIES[0], versions=3, doi="10.1103/x.1 10.1103/x.2")])
    (paper,) = parse_answer(page, "u", "arXivRaw").entries
    assert paper.arxiv_version == 3 and paper.doi == "10.1103/x.1"
    assert paper.extra["arxiv"]["dois"] == ["10.1103/x.1", "10.1103/x.2"]
    versions = paper.extra["arxiv"]["versions"]
    assert [v["version"] for v in versions] == [1, 2, 3]
    assert versions[0] == {"version": 1, "date": "2026-09-01T11:04:11Z", "size": "10kb"}
    assert str(paper.published) == "2026-09-01" and paper.authors == ENTRIES[0].authors
    assert paper.categories == ENTRIES[0].categories and paper.listing_date is None


@pytest.mark.parametrize(
    ("line", "names", "whole"),
    [
        (
            "D.V. Shetty, S.J. Yennello, and G.A. Souliotis",
            ["D.V. Shetty", "S.J. Yennello", "G.A. Souliotis"],
            True,
        ),
        ("A. Smith (1), B. Jones (2) ((1) MIT, (2) CERN)", ["A. Smith", "B. Jones"], True),
        ("John Smith, Jr. and Mary Major", ["John Smith Jr.", "Mary Major"], True),
        (
            "ATLAS Collaboration: A. One, B. Two, et al.",
            ["ATLAS Collaboration: A. One", "B. Two"],
            False,
        ),
    ],
)
def test_arxiv_raw_author_lines_become_names(line, names, whole):
    got, not_whole = split_authors(line)
    assert got == names and (not_whole is None) is whole


def test_xml_with_entities_is_refused():
    bomb = (
        b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "aaaa"><!ENTITY b "&a;&a;&a;">]>'
        b"<OAI-PMH>&b;</OAI-PMH>"
    )
    with pytest.raises(InputError, match="refused XML"):
        parse_answer(bomb, "https://oaipmh.arxiv.org/oai?x", "arXivRaw")


def test_the_real_answers_parse(shared_dir):
    ref = shared_dir / "reference" / "arxiv"
    raw = parse_answer(
        (ref / "oai_ListRecords_arXivRaw_all_2015-01-06_fragment.xml").read_bytes(),
        "raw",
        "arXivRaw",
    )
    assert raw.token == "726959|1001" and raw.complete_size == 58011
    assert len(raw.entries) == 6 and all(p.title and p.authors for p in raw.entries)
    multi = raw.entries[1]  # 0704.0716: v1..v4
    assert (multi.arxiv_id, multi.arxiv_version) == ("0704.0716", 4)
    assert multi.categories == ["math-ph", "math.MP"] and str(multi.published) == "2007-04-05"
    first = raw.entries[0]
    assert first.authors == ["D.V. Shetty", "S.J. Yennello", "G.A. Souliotis"]
    assert first.extra["arxiv"]["dois"] == [
        "10.1103/PhysRevC.76.024606",
        "10.1103/PhysRevC.76.039902",
    ]
    arxiv = parse_answer(
        (ref / "oai_ListRecords_arXiv_all_2018-06-21.xml").read_bytes(), "a", "arXiv"
    )
    assert arxiv.token is None and [p.arxiv_id for p in arxiv.entries] == [
        "1412.8544",
        "hep-th/9504118",
    ]
    assert arxiv.entries[0].authors == ["Sander Uijlen", "Bas Westerbaan"]
    assert arxiv.entries[0].doi == "10.4204/EPTCS.172.11"
    for name, code in [
        ("noRecordsMatch", "noRecordsMatch"),
        ("badResumptionToken", "badResumptionToken"),
    ]:
        answer = parse_answer(
            (ref / f"oai_error_{name}_2015-06-23.xml").read_bytes(), "e", "arXivRaw"
        )
        assert answer.error[0] == code
