"""Source hf-api over HTTP (a real local server) and on saved responses: pagination, the
listing day, empty and wrong days, one bad page."""

from __future__ import annotations

import datetime as dt
import json

import msgspec
import pytest
from harvester_plugins.hf.api import HfApiOptions, HfApiSource

from tests.hf_support import hf_site, make_source, real_response, run
from tests.localserver import LOOPBACK, LocalServer, json_reply, ok, status

pytestmark = LOOPBACK

DAY = dt.date(2026, 10, 6)


def api_path(day: dt.date, page: int, limit: int = 5) -> str:
    return f"/api/daily_papers?date={day}&limit={limit}&p={page}"


def day_source(server: LocalServer, day: dt.date = DAY, **options):
    options.setdefault("limit", 5)
    return make_source(HfApiSource, base_url=server.url(""), daily_from=day, **options)


def test_follows_pagination_until_a_short_page():
    items = hf_site.make_items(12, day=DAY, seed=99)
    with LocalServer() as server:
        for page in range(3):
            server.route(api_path(DAY, page), json_reply(items[page * 5 : page * 5 + 5]))
        (outcome,) = run(day_source(server))
        hits = [server.hits(api_path(DAY, page)) for page in range(4)]
    assert hits == [1, 1, 1, 0]
    assert [p.arxiv_id for p in outcome.papers] == [i["paper"]["id"] for i in items]
    assert [p.source_ref for p in outcome.papers[::5]] == [
        server.url(api_path(DAY, n)) for n in range(3)
    ]
    assert {p.listing_date for p in outcome.papers} == {DAY}
    assert outcome.target.date == DAY and outcome.target.empty is None


def test_an_api_that_ignores_the_page_number_is_read_once():
    items = hf_site.make_items(5, day=DAY)
    with LocalServer() as server:
        server.route("/api/daily_papers", json_reply(items))  # every page the same
        (outcome,) = run(day_source(server))
    assert [p.arxiv_id for p in outcome.papers] == [i["paper"]["id"] for i in items]


def test_a_day_the_api_answers_with_another_days_papers_is_an_empty_day():
    other = hf_site.make_items(3, day=DAY - dt.timedelta(days=1))
    with LocalServer() as server:
        server.route(api_path(DAY, 0), json_reply(other))
        (outcome,) = run(day_source(server))
    assert outcome.entries == [] and outcome.error is None
    assert (
        outcome.target.empty == "no list for 2026-10-06: the API returned the papers of 2026-10-05"
    )


def test_an_empty_weekend_day_is_marked_empty_and_an_empty_weekday_is_not():
    saturday = dt.date(2026, 10, 10)
    with LocalServer() as server:
        server.route(api_path(saturday, 0), json_reply([]))
        server.route(api_path(DAY, 0), json_reply([]))  # a Tuesday
        (weekend,) = run(day_source(server, saturday))
        (weekday,) = run(day_source(server))
    assert weekend.entries == [] and weekend.target.empty == (
        "the API lists no papers for 2026-10-10 (a weekend)"
    )
    # 0 papers, not "empty": the run's guard judges it against the days before it
    assert weekday.entries == [] and weekday.error is None and weekday.target.empty is None


@pytest.mark.parametrize(
    ("reply", "problem"),
    [
        (ok("<html>Rate limited</html>", content_type="text/html"), "invalid JSON"),
        (status(404), "404"),
    ],
)
def test_a_bad_page_fails_the_whole_listing_naming_its_url(reply, problem):
    items = hf_site.make_items(5, day=DAY)
    with LocalServer() as server:
        server.route(api_path(DAY, 0), json_reply(items))
        server.route(api_path(DAY, 1), reply)
        (outcome,) = run(day_source(server))
    assert outcome.papers == []  # a listing cut by a failed page: none of it is published
    assert outcome.error.location == server.url(api_path(DAY, 1))
    assert problem in outcome.error.problem


def test_json_nested_100000_deep_fails_that_listing_only():
    """Issue 11: reported as a bug with a traceback before."""
    deep = b"[" * 100_000 + b"]" * 100_000
    good = hf_site.make_items(2, day=DAY + dt.timedelta(days=1))
    with LocalServer() as server:
        server.route(api_path(DAY, 0), ok(deep, content_type="application/json"))
        server.route(api_path(DAY + dt.timedelta(days=1), 0), json_reply(good))
        source = day_source(server, daily_to=DAY + dt.timedelta(days=1))
        bad, fine = run(source)
    assert bad.error.location == server.url(api_path(DAY, 0))
    assert "nested too deeply" in bad.error.problem
    assert len(fine.papers) == 2 and fine.error is None


def test_a_listing_url_given_as_input_asks_for_the_page_size_it_judges_by():
    items = hf_site.make_items(3, day=DAY)
    with LocalServer() as server:
        server.route("/api/daily_papers", json_reply(items))
        source = make_source(
            HfApiSource, inputs=[server.url(f"/api/daily_papers?date={DAY}")], limit=7
        )
        (outcome,) = run(source)
        (request,) = [r for r in server.requests if r.path != "/robots.txt"]
    assert request.path == f"/api/daily_papers?date={DAY}&limit=7&p=0"
    assert len(outcome.papers) == 3 and outcome.target.date == DAY


def test_max_pages_cuts_an_endless_listing_short():
    with LocalServer() as server:
        for page in range(3):
            server.route(api_path(DAY, page), json_reply(hf_site.make_items(5, day=DAY, seed=page)))
        (outcome,) = run(day_source(server, max_pages=2))
    assert len(outcome.papers) == 10  # what was read; the run does not publish it (incomplete)
    assert outcome.target.declared.cut_short == ("stopped after max_pages=2, more pages follow")


def test_week_and_month_listings_take_each_items_own_day():
    items = hf_site.make_items(2, day=DAY) + hf_site.make_items(
        2, day=DAY + dt.timedelta(days=2), seed=1
    )
    with LocalServer() as server:
        server.route("/api/daily_papers", json_reply(items))
        source = make_source(HfApiSource, base_url=server.url(""), weeks=["2026-W41"], limit=50)
        (outcome,) = run(source)
    assert outcome.target.date == dt.date(2026, 10, 11)
    later = DAY + dt.timedelta(days=2)
    assert [p.listing_date for p in outcome.papers] == [DAY, DAY, later, later]


@pytest.mark.shared
def test_a_saved_response_listing_a_day_after_its_captured_on_is_an_error():
    path = real_response("daily_papers_2026-07-21.json")
    source = make_source(HfApiSource, inputs=[{"path": str(path), "captured_on": "2026-07-20"}])
    (outcome,) = run(source)
    assert outcome.entries == [] and outcome.error.location == str(path)
    assert "lists 2026-07-21, after its captured_on 2026-07-20" in outcome.error.problem
    (fine,) = run(make_source(HfApiSource, inputs=[str(path)], captured_on="2026-07-21"))
    assert len(fine.papers) == 25


def test_a_saved_file_that_is_no_response_is_an_error(tmp_path):
    saved = tmp_path / "page.json"
    saved.write_text(json.dumps({"error": "Sign in"}), "utf-8")
    (outcome,) = run(make_source(HfApiSource, inputs=[str(saved)]))
    assert outcome.error.location == str(saved)
    assert "expected a JSON list of papers" in outcome.error.problem


@pytest.mark.parametrize(
    ("options", "problem"), [({"limit": 0}, "limit"), ({"max_pages": 0}, "max_pages")]
)
def test_bad_options_fail_when_the_config_loads(options, problem):
    with pytest.raises(msgspec.ValidationError, match=problem):
        msgspec.convert(options, HfApiOptions)


@pytest.mark.vcr("hf_api_daily_2026-10-06.yaml")
def test_the_recorded_listing_replays_page_by_page():
    source = make_source(HfApiSource, daily_from=hf_site.API_DAY, limit=hf_site.API_LIMIT)
    (outcome,) = run(source)
    assert [p.arxiv_id for p in outcome.papers] == [i["paper"]["id"] for i in hf_site.api_items()]
    assert {p.listing_date for p in outcome.papers} == {hf_site.API_DAY}
    pages = sorted({p.source_ref for p in outcome.papers})
    assert pages == [
        f"https://huggingface.co/api/daily_papers?date=2026-10-06&limit=5&p={n}" for n in range(3)
    ]


def test_a_listing_url_with_a_page_size_that_is_no_number_is_an_error():
    source = make_source(HfApiSource, inputs=["https://huggingface.co/api/daily_papers?limit=all"])
    (outcome,) = run(source)  # fails before any request (the network is blocked)
    assert outcome.error.location == "https://huggingface.co/api/daily_papers?limit=all"
    assert "limit='all' in the URL is not a page size" in outcome.error.problem
