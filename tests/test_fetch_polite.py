"""Politeness against a real local server: budgets, server-advertised limits, robots.txt and
deferral across runs (fetch level, several threads; the run loop adds whole-run versions)."""

from __future__ import annotations

import datetime as dt
import itertools
import time
from concurrent.futures import ThreadPoolExecutor

import httpx
import msgspec
import pytest

from harvester.errors import Deferred
from harvester.fetch import (
    PRESET_BUDGETS,
    Fetcher,
    FetchError,
    FetchSettings,
    Rate,
    RobotsDisallowed,
    RobotsUnreachable,
    merge_settings,
    parse_rate,
)
from harvester.fetch.advertised import read_advice
from harvester.fetch.budgets import match_budget
from tests.fetchkit import RecordingClock
from tests.localserver import LOOPBACK, LocalServer, free_port, ok, retry_after, status

pytestmark = LOOPBACK

QUICK = FetchSettings(backoff_initial=0.01, backoff_max=0.1, min_interval=0, timeout=2.0)
NOW = dt.datetime(2026, 10, 6, 12, 0, tzinfo=dt.UTC)


def quick(**changes) -> FetchSettings:
    return merge_settings(QUICK, changes)


@pytest.fixture
def server():
    with LocalServer() as running:
        yield running


def fetch_all(fetcher: Fetcher, urls: list[str], threads: int = 8, **kwargs) -> list:
    def one(url: str):
        try:
            return fetcher.get(url, **kwargs)
        except (FetchError, Deferred) as outcome:
            return outcome

    with ThreadPoolExecutor(threads) as pool:
        return list(pool.map(one, urls))


# -- budgets ---------------------------------------------------------------------------------


def test_rates_parse_and_bad_budgets_are_config_errors():
    assert parse_rate("100/300s") == Rate(100, 300.0)
    assert parse_rate("1/3s") == Rate(1, 3.0)
    assert parse_rate("10/m") == Rate(10, 60.0) and parse_rate("5000/1h") == Rate(5000, 3600.0)
    assert parse_rate("none") is None
    for bad in ("100", "0/5s", "ten/s", "1/0s", "5 per minute"):
        with pytest.raises(ValueError):
            parse_rate(bad)
    with pytest.raises(msgspec.ValidationError, match="5 per minute"):
        merge_settings(FetchSettings(), {"budgets": {"arxiv.org": "5 per minute"}})
    with pytest.raises(msgspec.ValidationError, match="budget key"):
        merge_settings(FetchSettings(), {"budgets": {"https://arxiv.org": "1/3s"}})


def test_presets_stay_inside_the_published_anonymous_budgets():
    budgets = FetchSettings().budgets
    assert budgets == PRESET_BUDGETS
    pages, api, arxiv = (parse_rate(budgets[k]) for k in PRESET_BUDGETS)
    assert pages.window == api.window == 300 and pages.limit < 100 and api.limit < 500
    assert arxiv.limit == 1 and arxiv.window > 3
    # a default run's pace: the interval alone would allow 300 pages in 5 minutes; the budget
    # holds any 5 minutes to 80
    assert 300 / FetchSettings().min_interval > 100


def test_longest_budget_key_wins_and_covers_subdomains():
    budgets = {**PRESET_BUDGETS, "127.0.0.1:8080/slow": "1/s"}
    assert match_budget(budgets, "huggingface.co", None, "/papers/date/2026-10-06") == (
        "huggingface.co",
        Rate(80, 300.0),
    )
    assert match_budget(budgets, "huggingface.co", None, "/api/daily_papers")[0] == (
        "huggingface.co/api"
    )
    assert match_budget(budgets, "huggingface.co", None, "/apis")[0] == "huggingface.co"
    assert match_budget(budgets, "export.arxiv.org", None, "/api/query")[0] == "arxiv.org"
    assert match_budget(budgets, "notarxiv.org", None, "/") is None
    assert match_budget(budgets, "127.0.0.1", 8080, "/slow/x")[0] == "127.0.0.1:8080/slow"
    assert match_budget(budgets, "127.0.0.1", 9090, "/slow/x") is None
    raised = merge_settings(FetchSettings(), {"budgets": {"huggingface.co": "160/300s"}})
    assert raised.budgets["huggingface.co"] == "160/300s"  # authenticated: raise it
    assert raised.budgets["huggingface.co/api"] == "400/300s"  # the other presets stay


def test_a_configured_budget_holds_every_window(server):
    server.route("/page", ok("x"))
    settings = quick(budgets={"127.0.0.1": "5/1s"})
    with Fetcher(settings) as fetcher:
        started = time.monotonic()
        results = fetch_all(fetcher, [server.url(f"/page?n={n}") for n in range(12)])
        elapsed = time.monotonic() - started
    assert all(r.status == 200 for r in results)
    starts = sorted(r.started for r in server.requests)
    # any 1-second window holds at most 5 starts (a little slack for server-side timing)
    assert all(b - a >= 0.95 for a, b in zip(starts, starts[5:], strict=False))
    assert elapsed >= 1.9  # 12 requests at 5 per second need two full windows


def test_bookings_keep_every_fixed_window_within_the_rate_whatever_the_arrival_delay():
    """Worst-case alignment, on the rules alone: bursts booked with `min_interval = 0`, each
    request arriving anywhere up to 5 % of the window after its start (the documented
    tolerance, at most 0.25 s), counted in fixed windows at every offset: no window ever holds
    more than the rate."""
    import random
    from collections import Counter

    from harvester.fetch.limiter import Bucket, book

    rate = Rate(5, 4.0)
    slack = min(0.25, 0.05 * rate.window)
    bucket = Bucket()
    starts = [book(bucket, [rate], 0.0, now=0.0, max_cooldown=60).start for _ in range(40)]
    assert starts[5] - starts[4] <= rate.window + slack  # no slower than that
    chance = random.Random(7)
    for _trial in range(200):
        arrivals = [s + chance.uniform(0, slack * 0.999) for s in starts]
        for offset in (x * rate.window / 40 for x in range(40)):
            windows = Counter(int((a + offset) // rate.window) for a in arrivals)
            assert max(windows.values()) <= rate.limit


def test_a_burst_budget_equal_to_a_fixed_window_quota_gets_no_429(server):
    """A server allowing 5 requests per fixed 5-second window, which advertises nothing; the
    budget says exactly that, with no interval between starts, and the first burst starts a
    few milliseconds before one of the server's windows ends (the worst alignment: part of
    each burst arrives in the next window)."""
    server.route("/page", ok("x"))
    server.enforce_budget(limit=5, window=5, advertise=False)
    # A 15 s timeout, not quick()'s 2 s: this is about the budget, and on a loaded machine one
    # of these requests once failed (its error unrecorded) with only a timeout left to explain it.
    settings = quick(robots=False, max_attempts=1, per_host_concurrency=5, timeout=15.0,
                     budgets={"127.0.0.1": "5/5s"})  # fmt: skip
    with Fetcher(settings) as fetcher:
        time.sleep(5 - time.time() % 5 - 0.004)
        results = fetch_all(fetcher, [server.url(f"/page?n={n}") for n in range(16)], threads=5)
    assert [r for r in results if not hasattr(r, "status")] == []
    assert server.rejected == 0 and len(server.requests) == 16


def test_a_budget_spans_subdomains_and_ports_share_nothing(server):
    """One budget key covers both loopback names? No: 127.0.0.1 and localhost are different
    hosts; a key naming one leaves the other unpaced."""
    server.route("/page", ok("x"))
    settings = quick(budgets={"localhost": "1/10s"})
    with Fetcher(settings) as fetcher:
        started = time.monotonic()
        for n in range(3):
            fetcher.get(server.url(f"/page?n={n}"))  # 127.0.0.1: no budget applies
        assert time.monotonic() - started < 2


# -- server-advertised budgets ---------------------------------------------------------------


def test_advertised_headers_of_every_draft_are_read():
    def advice(**headers):
        return read_advice({k.replace("_", "-"): v for k, v in headers.items()}, NOW)

    new = advice(
        ratelimit_policy='"fixed window";"pages";q=100;w=300', ratelimit='"pages";r=7;t=42'
    )
    assert (new.policies, new.remaining, new.reset) == ((Rate(100, 300.0),), 7, 42.0)
    old = advice(
        ratelimit_policy="100;w=300, 1000;w=3600", ratelimit="limit=100, remaining=3, reset=9"
    )
    assert old.policies == (Rate(100, 300.0), Rate(1000, 3600.0))
    assert (old.remaining, old.reset) == (3, 9.0)
    split = advice(ratelimit_limit="50", ratelimit_remaining="0", ratelimit_reset="30")
    assert (split.remaining, split.reset) == (0, 30.0)
    epoch = NOW.timestamp() + 60
    github = advice(x_ratelimit_limit="60", x_ratelimit_remaining="2", x_ratelimit_reset=f"{epoch}")
    assert (github.remaining, github.reset) == (2, 60.0)
    assert advice(retry_after="120").retry_after == 120.0
    assert not advice(ratelimit="garbage;;==", ratelimit_policy="q=;w=x")


def test_200_requests_that_know_nothing_of_the_budget_get_no_429(server):
    """The server allows 40 requests per fixed 2-second window and says so in RateLimit /
    RateLimit-Policy; the fetcher has no budget for it and learns it from the first answers.
    (With 20 per 1 s, a 2-core machine under heavy load occasionally delayed three requests
    booked late in one window into the next: the learned 10 % margin is two requests there.)"""
    server.route("/page", ok("x"))
    server.enforce_budget(limit=40, window=2)
    with Fetcher(quick(robots=False, max_attempts=1)) as fetcher:
        results = fetch_all(fetcher, [server.url(f"/page?n={n}") for n in range(200)])
    failed = [r for r in results if not hasattr(r, "status") or r.status != 200]
    assert failed == [] and server.rejected == 0
    assert len(server.requests) == 200


def test_a_429_with_a_short_retry_after_holds_the_whole_host(server):
    server.route("/limited", retry_after(1), ok("ok"))
    server.route("/other", ok("other"))
    with Fetcher(quick(robots=False)) as fetcher:
        first = fetcher.get(server.url("/limited"))  # 429, waits 1 s, then 200
        with ThreadPoolExecutor(2) as pool:
            limited = pool.submit(fetcher.get, server.url("/limited"))
            time.sleep(0.05)
            other = pool.submit(fetcher.get, server.url("/other"))
            assert limited.result().text() == "ok" and other.result().text() == "other"
    assert first.text() == "ok"
    first_try, retry = server.requests_for("/limited")[:2]
    assert retry.started - first_try.started >= 1.0


def test_an_exhausted_advertised_quota_with_a_long_reset_defers_the_host(server):
    headers = {"RateLimit": '"pages";r=0;t=1800', "RateLimit-Policy": '"pages";q=100;w=3600'}
    server.route("/last", ok("the last one", headers=headers))
    server.route("/next", ok("never asked"))
    clock = RecordingClock(NOW)
    with Fetcher(quick(robots=False), clock=clock) as fetcher:
        assert fetcher.get(server.url("/last")).text() == "the last one"
        with pytest.raises(Deferred) as caught:
            fetcher.get(server.url("/next"))
    assert server.hits("/next") == 0
    assert 1790 < (caught.value.until - NOW).total_seconds() <= 1801
    assert "rate limit is used up" in caught.value.reason


# -- deferral across runs ----------------------------------------------------------------------


def test_deferral_and_resume_across_two_runs_with_a_fake_clock(server):
    """Run 1 meets a 30-minute Retry-After: the URL and the host's other URLs are deferred, not
    failed, not slept through. Run 2 (10 minutes later, deferrals restored from run 1) skips
    the host without a request; run 3 (after the time) fetches everything."""
    server.route("/a", retry_after(1800), ok("a"))
    server.route("/b", ok("b"))
    host = f"127.0.0.1:{server.port}"
    first = RecordingClock(NOW)
    with Fetcher(quick(), clock=first) as run1:
        with pytest.raises(Deferred) as deferred_a:
            run1.get(server.url("/a"))
        with pytest.raises(Deferred) as deferred_b:
            run1.get(server.url("/b"))
        saved = run1.deferrals()
    until = NOW + dt.timedelta(seconds=1800)
    assert abs((deferred_a.value.until - until).total_seconds()) < 2
    assert deferred_b.value.until == deferred_a.value.until and first.sleeps == []
    assert saved == {host: deferred_a.value.until} and run1.stats.give_ups == 0
    asked = len(server.requests)

    with Fetcher(quick(), clock=RecordingClock(NOW + dt.timedelta(minutes=10))) as run2:
        for host_name, when in saved.items():
            run2.defer(host_name, when)
        for path in ("/a", "/b"):
            with pytest.raises(Deferred, match="until"):
                run2.get(server.url(path))
    assert len(server.requests) == asked  # not one request

    with Fetcher(quick(), clock=RecordingClock(NOW + dt.timedelta(minutes=31))) as run3:
        for host_name, when in saved.items():
            run3.defer(host_name, when)
        assert [run3.get(server.url(p)).text() for p in ("/a", "/b")] == ["a", "b"]
        assert run3.deferrals() == {}


def test_defer_needs_an_aware_time():
    with Fetcher(QUICK) as fetcher, pytest.raises(ValueError, match="aware"):
        fetcher.defer("example.org", dt.datetime(2030, 1, 1))


# -- robots.txt ------------------------------------------------------------------------------


ROBOTS = """
User-agent: *
Disallow: /private
Crawl-delay: 0.3

User-agent: otherbot
Disallow: /
"""


def test_robots_disallow_and_crawl_delay(server):
    server.route("/robots.txt", ok(ROBOTS))
    server.route("/private/page", ok("secret"))
    server.route("/public", ok("public"))
    with Fetcher(quick()) as fetcher:
        with pytest.raises(RobotsDisallowed) as caught:
            fetcher.get(server.url("/private/page"))
        results = [fetcher.get(server.url(f"/public?n={n}")) for n in range(4)]
    assert "disallowed by robots.txt" in caught.value.reason and caught.value.attempts == 1
    assert all(r.text() == "public" for r in results)
    assert server.hits("/robots.txt") == 1 and server.hits("/private/page") == 0
    starts = [r.started for r in server.requests_for("/public")]
    gaps = [b - a for a, b in itertools.pairwise(starts)]
    # Crawl-delay 0.3 raised min_interval 0 (the server's own timing jitters by some ms)
    assert min(gaps) >= 0.24


def test_robots_off_and_missing_robots_allow_everything(server):
    server.route("/private/page", ok("mine"))
    with Fetcher(quick()) as fetcher:  # no robots.txt route: 404, "unavailable": allow all
        assert fetcher.get(server.url("/private/page")).text() == "mine"
    server.route("/robots.txt", ok("User-agent: *\nDisallow: /\n"))
    with Fetcher(quick(robots=False)) as fetcher:
        assert fetcher.get(server.url("/private/page")).text() == "mine"
    assert server.hits("/robots.txt") == 1  # the second fetcher never asked


def test_robots_user_agent_groups_are_matched_by_product_token(server):
    server.route("/robots.txt", ok(ROBOTS))
    server.route("/page", ok("x"))
    settings = quick(user_agent="OtherBot/2.0 (+https://example.org)")
    with Fetcher(settings) as fetcher, pytest.raises(RobotsDisallowed):
        fetcher.get(server.url("/page"))


def test_unreachable_robots_txt_disallows_the_host_for_this_client_only(server):
    # RFC 9309: an unreachable robots.txt means complete disallow, but a server's bad moment
    # (or a network failure) is not the site's answer: no deferral, and the next run asks again.
    server.route("/robots.txt", status(503), status(503), ok("User-agent: *\nAllow: /\n"))
    server.route("/page", ok("x"))
    clock = RecordingClock(NOW)
    with Fetcher(quick(max_attempts=2), clock=clock) as fetcher:
        with pytest.raises(RobotsUnreachable, match=r"robots\.txt unreachable: HTTP 503"):
            fetcher.get(server.url("/page"))
        with pytest.raises(RobotsUnreachable):  # remembered: not asked again by this client
            fetcher.get(server.url("/page"))
        assert fetcher.deferrals() == {}
    assert server.hits("/page") == 0 and server.hits("/robots.txt") == 2  # retried once, once
    with Fetcher(quick(max_attempts=2), clock=clock) as fetcher:  # the next run
        assert fetcher.get(server.url("/page")).status == 200
    assert server.hits("/robots.txt") == 3


def test_a_refused_robots_txt_connection_fails_the_url_without_a_deferral():
    port = free_port()  # nothing listens there
    with Fetcher(quick(max_attempts=1)) as fetcher:
        with pytest.raises(RobotsUnreachable, match="ConnectError") as caught:
            fetcher.get(f"http://127.0.0.1:{port}/page")
        assert fetcher.deferrals() == {}
    assert isinstance(caught.value, FetchError) and not isinstance(caught.value, Deferred)


def test_robots_txt_is_read_once_by_many_threads(server):
    server.route("/robots.txt", ok("User-agent: *\nDisallow: /no\n", delay=0.2))
    server.route("/page", ok("x"))
    with Fetcher(quick()) as fetcher:
        results = fetch_all(fetcher, [server.url(f"/page?n={n}") for n in range(8)])
    assert all(r.status == 200 for r in results) and server.hits("/robots.txt") == 1


def test_robots_txt_redirect_is_followed_to_another_host(server):
    server.route("/robots.txt", ok("", headers={}))  # replaced below on the other name
    elsewhere = server.url("/real-robots.txt", host="localhost")
    server.route("/robots.txt", status(301, headers={"Location": elsewhere}))
    server.route("/real-robots.txt", ok("User-agent: *\nDisallow: /x\n"))
    server.route("/x", ok("x"))
    with Fetcher(quick()) as fetcher, pytest.raises(RobotsDisallowed):
        fetcher.get(server.url("/x"))
    assert httpx.URL(elsewhere).path == "/real-robots.txt" and server.hits("/x") == 0


def test_robots_request_rate_becomes_a_budget(server):
    server.route("/robots.txt", ok("User-agent: *\nRequest-rate: 2/1s\n"))
    server.route("/page", ok("x"))
    with Fetcher(quick()) as fetcher:
        started = time.monotonic()
        results = fetch_all(fetcher, [server.url(f"/page?n={n}") for n in range(5)])
        elapsed = time.monotonic() - started
    assert all(r.status == 200 for r in results)
    assert elapsed >= 1.9  # 5 requests at 2 per second need three windows


def test_an_advertised_daily_quota_defers_instead_of_sleeping_a_day(server):
    server.route("/daily", ok("x", headers={"RateLimit-Policy": "2;w=86400"}))
    clock = RecordingClock(NOW)
    with Fetcher(quick(robots=False), clock=clock) as fetcher:
        fetcher.get(server.url("/daily?n=1"))  # learned: 1 a day (2, less the margin)
        with pytest.raises(Deferred, match="advertised rate limit") as caught:
            fetcher.get(server.url("/daily?n=2"))
    assert clock.sleeps == [] and server.hits("/daily") == 1
    assert (caught.value.until - NOW).total_seconds() == pytest.approx(86400, abs=5)
