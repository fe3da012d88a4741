"""Source hf-papers over HTTP (a real local server) and on saved files: the page's day, the
conditional GET, targets and options, and one bad page among healthy ones."""

from __future__ import annotations

import datetime as dt
import html
import json

import msgspec
import pytest
from harvester_plugins.hf.papers import HfPapersOptions, HfPapersSource

from harvester.errors import InputError
from tests.hf_support import HF_FIXTURES, hf_site, make_source, run
from tests.localserver import LOOPBACK, LocalServer, ok, redirect, status

pytestmark = LOOPBACK

JSON_PAGE = (HF_FIXTURES / "daily_2025-12-10_json.html").read_bytes()  # dateString 2025-12-10
HTML = "text/html; charset=utf-8"


def serve(server: LocalServer, path: str, body: bytes, **headers: str) -> None:
    server.route(path, ok(body, content_type=HTML, headers=headers))


def days_source(server: LocalServer, first: dt.date, last: dt.date | None = None, **options):
    return make_source(
        HfPapersSource, base_url=server.url(""), daily_from=first, daily_to=last or first, **options
    )


def test_a_daily_page_gives_its_json_papers_on_its_day():
    with LocalServer() as server:
        serve(server, "/papers/date/2025-12-10", JSON_PAGE)
        (outcome,) = run(days_source(server, dt.date(2025, 12, 10)))
    assert outcome.error is None and outcome.target.empty is None
    assert outcome.target.date == dt.date(2025, 12, 10)  # the refresh window's day
    a, b = outcome.papers
    assert [p.listing_date for p in (a, b)] == [dt.date(2025, 12, 10)] * 2
    assert a.extra["hf"]["parsed_from"] == "embedded-json"
    assert (a.title, a.abstract, a.authors) == (
        "Sparse Graph Memory",
        "We store a graph sparsely.",
        ["Hana Ingram", "Jomo Abara", "Oskar Lind"],
    )
    assert (a.organization, a.submitted_by, a.upvotes, a.comments) == (
        "Northfen Institute & Co.",
        "nadiaf",
        31,
        2,
    )
    assert a.extra["hf"]["submitter_name"] == "Nadia F."
    assert a.extra["hf"]["hidden_authors"] == ["Oskar Lind"]
    assert a.extra["hf"]["github_stars"] == 1543  # exact on the JSON path
    assert a.extra["hf"]["ai_summary"] == "Sparse graphs make memory cheap."
    assert (b.title, b.published, b.upvotes, b.comments) == (
        "Token Budgets <for> Agents",
        dt.date(2025, 12, 9),
        0,
        0,
    )
    assert outcome.papers[0].source_ref == outcome.target.id


def test_a_modern_page_served_for_another_day_is_an_empty_day():
    """Issue 10 §5: a page of 2025-12-10 served for /papers/date/2025-12-13."""
    with LocalServer() as server:
        serve(server, "/papers/date/2025-12-13", JSON_PAGE)
        (outcome,) = run(days_source(server, dt.date(2025, 12, 13)))
    assert outcome.entries == [] and outcome.error is None
    assert outcome.target.empty == "no list for 2025-12-13: the page shows 2025-12-10"


def test_a_redirect_to_another_day_is_an_empty_day():
    with LocalServer() as server:
        server.route("/papers/date/2025-12-13", redirect("/papers/date/2025-12-10"))
        serve(server, "/papers/date/2025-12-10", JSON_PAGE)
        (outcome,) = run(days_source(server, dt.date(2025, 12, 13)))
    assert outcome.entries == [] and outcome.error is None
    assert outcome.target.empty.startswith("no list for 2025-12-13: redirected to http://127.0.0.1")


def test_a_requested_day_whose_page_day_cannot_be_told_is_an_error():
    cards_only = (HF_FIXTURES / "cards_2026.html").read_bytes()  # links only the day before
    with LocalServer() as server:
        serve(server, "/papers/date/2025-12-10", cards_only)
        (outcome,) = run(days_source(server, dt.date(2025, 12, 10)))
    assert outcome.entries == []
    assert outcome.error.location == server.url("/papers/date/2025-12-10")
    assert "cannot tell the page's day: the page links 2025-12-09 but not both" in str(
        outcome.error
    )


def test_2024_cards_are_attributed_by_their_query_form_day_links():
    cards_2024 = (HF_FIXTURES / "cards_2024.html").read_bytes()  # links 05-26 and 05-28
    with LocalServer() as server:
        serve(server, "/papers/date/2024-05-27", cards_2024)
        serve(server, "/papers/date/2024-05-28", cards_2024)
        right, wrong = run(days_source(server, dt.date(2024, 5, 27), dt.date(2024, 5, 28)))
    assert [p.listing_date for p in right.papers] == [dt.date(2024, 5, 27)] * 3
    assert wrong.entries == [] and wrong.target.empty.endswith("the page shows 2024-05-27")


def test_validators_are_remembered_and_a_304_leaves_the_day_unchanged():
    path = "/papers/date/2025-12-10"
    modified = "Wed, 10 Dec 2025 08:00:00 GMT"
    with LocalServer() as server:
        server.route(
            path,
            ok(JSON_PAGE, content_type=HTML, headers={"ETag": '"v1"', "Last-Modified": modified}),
            status(304),
        )
        source = days_source(server, dt.date(2025, 12, 10))
        (first,) = run(source)
        assert first.target.remembered == {"etag": '"v1"', "last_modified": modified}
        target = days_source(server, dt.date(2025, 12, 10)).targets()[0]
        target.memo = first.target.remembered  # what the run keeps for the next run
        (second,) = run(days_source(server, dt.date(2025, 12, 10)), [target])
        sent = server.requests_for(path)[-1].headers
    assert len(first.papers) == 2
    assert second.target.unchanged and second.entries == [] and second.error is None
    assert (sent["if-none-match"], sent["if-modified-since"]) == ('"v1"', modified)


def test_a_304_to_a_request_without_validators_is_an_error_and_dropped_ones_are_forgotten():
    with LocalServer() as server:
        server.route("/papers/date/2025-12-10", status(304))
        serve(server, "/papers/date/2025-12-11", JSON_PAGE.replace(b"2025-12-10", b"2025-12-11"))
        source = days_source(server, dt.date(2025, 12, 10), dt.date(2025, 12, 11))
        targets = source.targets()
        targets[1].memo = {"etag": '"old"'}
        bad, good = run(source, targets)
    assert "304 Not Modified to a request that was not conditional" in str(bad.error)
    assert len(good.papers) == 2 and good.target.remembered == {}  # the server sent none


def test_read_fetches_itself_when_the_run_did_not_prefetch():
    with LocalServer() as server:
        serve(server, "/papers/date/2025-12-10", JSON_PAGE)
        (outcome,) = run(days_source(server, dt.date(2025, 12, 10)), prefetch=False)
    assert len(outcome.papers) == 2


def deep_props_page(depth: int) -> bytes:
    props = '{"dateString":"2025-12-10","dailyPapers":[' + "[" * depth + "]" * depth + "]}"
    return (
        hf_site.daily_page_2026([], day=dt.date(2025, 12, 10), embed_json=False)
        .replace(
            'data-target="DailyPapers"',
            f'data-target="DailyPapers" data-props="{html.escape(props)}"',
        )
        .encode()
    )


def test_one_bad_page_fails_alone_and_names_its_url():
    """Issue 11: JSON nested 100,000 deep; the healthy pages are still read."""
    days = [dt.date(2025, 12, 9), dt.date(2025, 12, 10), dt.date(2025, 12, 11)]
    with LocalServer() as server:
        for day in (days[0], days[2]):
            items = hf_site.make_items(3, day=day, seed=day.day)
            serve(server, f"/papers/date/{day}", hf_site.daily_page_2026(items, day=day).encode())
        serve(server, f"/papers/date/{days[1]}", deep_props_page(100_000))
        outcomes = run(days_source(server, days[0], days[2]))
    assert [len(o.papers) for o in outcomes] == [3, 0, 3]
    assert outcomes[1].error.location == server.url("/papers/date/2025-12-10")
    assert "nested too deeply" in outcomes[1].error.problem
    assert [o.error for o in (outcomes[0], outcomes[2])] == [None, None]


def test_an_empty_list_is_an_empty_day_and_no_list_at_all_is_an_error():
    empty = hf_site.daily_page_2026([], day=dt.date(2025, 12, 10)).encode()
    nothing = b"<html><body><h1>Sign in</h1></body></html>"
    with LocalServer() as server:
        serve(server, "/papers/trending", empty)
        serve(server, "/papers", nothing)
        source = make_source(
            HfPapersSource, inputs=[server.url("/papers/trending"), server.url("/papers")]
        )
        listed, broken = run(source)
    assert listed.entries == [] and listed.target.empty == "the page's list is empty"
    assert broken.error.location == server.url("/papers")
    assert "no paper list found" in broken.error.problem


def test_unreadable_json_falls_back_to_the_cards(tmp_path, caplog):
    items = hf_site.make_items(3, day=dt.date(2025, 12, 10))
    page = hf_site.daily_page_2026(
        items, day=dt.date(2025, 12, 10), embed_json=False, props_text='{"dailyPapers": [broken'
    )
    saved = tmp_path / "page.html"
    saved.write_text(page, "utf-8")
    (outcome,) = run(make_source(HfPapersSource, inputs=[str(saved)], captured_on="2025-12-10"))
    assert [p.extra["hf"]["parsed_from"] for p in outcome.papers] == ["cards"] * 3
    assert "unreadable DailyPapers JSON" in caplog.text


def test_a_saved_page_of_a_day_after_its_captured_on_is_an_error(tmp_path):
    saved = tmp_path / "page.html"
    saved.write_bytes(JSON_PAGE)
    (outcome,) = run(
        make_source(HfPapersSource, inputs=[{"path": str(saved), "captured_on": "2025-12-09"}])
    )
    assert outcome.entries == [] and outcome.error.location == str(saved)
    assert "lists 2025-12-10, after its captured_on 2025-12-09" in outcome.error.problem


def test_targets_name_their_listings_and_their_latest_day():
    source = make_source(
        HfPapersSource,
        inputs=["https://huggingface.co/papers?date=2024-05-27"],
        daily_from="2026-10-05",
        daily_to="2026-10-06",
        weeks=["2026-W41"],
        months=["2026-02"],
        trending=True,
        search=["graph memory"],
    )
    got = [(t.id, t.date) for t in source.targets()]
    assert got == [
        ("https://huggingface.co/papers?date=2024-05-27", dt.date(2024, 5, 27)),
        ("https://huggingface.co/papers/date/2026-10-05", dt.date(2026, 10, 5)),
        ("https://huggingface.co/papers/date/2026-10-06", dt.date(2026, 10, 6)),
        ("https://huggingface.co/papers/week/2026-W41", dt.date(2026, 10, 11)),
        ("https://huggingface.co/papers/month/2026-02", dt.date(2026, 2, 28)),
        ("https://huggingface.co/papers/trending", dt.date.today()),
        ("https://huggingface.co/papers?q=graph%20memory", dt.date.today()),
    ]


@pytest.mark.parametrize(
    ("options", "problem"),
    [
        ({"weeks": ["2026-41"]}, "weeks"),
        ({"weeks": ["2025-W53"]}, "2025-W53"),
        ({"months": ["2026-13"]}, "months"),
        ({"daily_from": "2026-10-06", "daily_to": "2026-10-05"}, "before daily_from"),
        ({"daily_to": "2026-10-05"}, "daily_to needs daily_from"),
        ({"base_url": "ftp://huggingface.co"}, "base_url"),
        ({"fetch": {"min_interval": 2}}, "fetch"),  # the core handles a source's fetch table
    ],
)
def test_bad_options_fail_when_the_config_loads(options, problem):
    with pytest.raises(msgspec.ValidationError, match=problem):
        msgspec.convert(options, HfPapersOptions)


def test_the_date_string_of_a_week_page_is_not_a_day():
    props = {"dateString": "2026-10-05", "periodType": "week", "dailyPapers": []}
    page = hf_site.daily_page_2026([], day=dt.date(2026, 10, 5), embed_json=False).replace(
        'data-target="DailyPapers"',
        f'data-target="DailyPapers" data-props="{html.escape(json.dumps(props))}"',
    )
    with LocalServer() as server:
        serve(server, "/papers/date/2026-10-05", page.encode())
        (outcome,) = run(days_source(server, dt.date(2026, 10, 5)))
    assert (
        isinstance(outcome.error, InputError)
        and "cannot tell the page's day" in outcome.error.problem
    )


@pytest.mark.vcr("hf_papers_week_2026-10-05.yaml")
def test_the_recorded_week_replays_with_its_other_day_served_as_an_empty_day():
    week = hf_site.WEEK
    outcomes = run(make_source(HfPapersSource, daily_from=week[0], daily_to=week[-1]))
    got = {o.target.id.rsplit("/", 1)[1]: [p.arxiv_id for p in o.papers] for o in outcomes}
    expected = {str(d): [i["paper"]["id"] for i in hf_site.week_day_items(d)] for d in week}
    assert got == expected and sum(map(len, got.values())) == 27
    assert [o.error for o in outcomes] == [None] * 7
    last = outcomes[-1].target
    assert last.empty == f"no list for {hf_site.OTHER_DAY_SERVED}: the page shows 2026-10-10"
    assert outcomes[0].target.remembered == {"etag": '"2026-10-05"'}


def test_the_json_is_found_whatever_the_order_of_the_holders_attributes(tmp_path):
    page = JSON_PAGE.decode()
    start = page.index('data-target="DailyPapers" data-props="')
    end = page.index('"', start + len('data-target="DailyPapers" data-props="')) + 1
    props = page[start + len('data-target="DailyPapers" ') : end]
    swapped = page[:start] + props + ' data-target="DailyPapers"' + page[end:]
    saved = tmp_path / "page.html"
    saved.write_text(swapped, "utf-8")
    (outcome,) = run(make_source(HfPapersSource, inputs=[str(saved)]))
    assert [p.extra["hf"]["parsed_from"] for p in outcome.papers] == ["embedded-json"] * 2
    assert {p.listing_date for p in outcome.papers} == {dt.date(2025, 12, 10)}


def test_a_page_without_a_day_takes_each_items_own_listing_day():
    early, late = dt.date(2026, 10, 1), dt.date(2026, 10, 3)
    items = hf_site.make_items(2, day=early) + hf_site.make_items(1, day=late, seed=4)
    page = hf_site.trending_page(items, rendered_on=dt.date(2026, 10, 7), embed_json=True)
    with LocalServer() as server:
        serve(server, "/papers/trending", page.encode())
        (outcome,) = run(make_source(HfPapersSource, base_url=server.url(""), trending=True))
    assert [p.listing_date for p in outcome.papers] == [early, early, late]
    assert outcome.target.date == dt.date.today()  # trending always shows the present


def test_a_saved_page_is_read_up_to_max_bytes_and_refused_past_it(tmp_path):
    saved = tmp_path / "page.html"
    saved.write_bytes(JSON_PAGE)
    source = make_source(HfPapersSource, inputs=[str(saved)], captured_on="2025-12-10")
    source.context.fetch_settings = msgspec.structs.replace(
        source.context.fetch_settings, max_bytes=len(JSON_PAGE)
    )
    (whole,) = run(source)
    assert whole.error is None and len(whole.entries) > 0
    source.context.fetch_settings = msgspec.structs.replace(
        source.context.fetch_settings, max_bytes=len(JSON_PAGE) - 1
    )
    (refused,) = run(source)
    assert refused.entries == [] and refused.error.location == str(saved)
    assert refused.error.problem == f"file is over {len(JSON_PAGE) - 1} bytes"
