"""The fetcher against a real local server that misbehaves on purpose (tests/localserver.py)."""

from __future__ import annotations

import datetime as dt
import itertools
import logging
from concurrent.futures import ThreadPoolExecutor

import msgspec
import pytest
import vcr

from harvester.errors import Deferred, InputError
from harvester.fetch import (
    DEFAULT_USER_AGENT,
    Fetcher,
    FetchError,
    FetchSettings,
    FetchTimeout,
    HTTPStatusError,
    RedirectRefused,
    RequestRejected,
    ResponseTooLarge,
    TransportFailure,
    merge_settings,
    parse_retry_after,
    registrable_host,
)
from tests.fetchkit import RecordingClock
from tests.localserver import (
    LOOPBACK,
    OTHER_HOST,
    LocalServer,
    gzipped,
    ok,
    oversized,
    redirect,
    reset,
    retry_after,
    stall,
    status,
    truncated,
)
from tests.proxy import Proxy

pytestmark = LOOPBACK

# Small waits so faults cost milliseconds; no politeness interval or robots.txt unless a test
# wants one (tests/test_fetch_polite.py).
FAST = FetchSettings(
    backoff_initial=0.01, backoff_max=0.1, min_interval=0, timeout=2.0, robots=False
)


def fast(**changes) -> FetchSettings:
    return merge_settings(FAST, changes)


@pytest.fixture
def server():
    with LocalServer() as running:
        yield running


@pytest.fixture
def fetcher():
    with Fetcher(FAST) as client:
        yield client


def fetch_all(fetcher: Fetcher, urls: list[str], threads: int = 8, **kwargs) -> list:
    """GET `urls` from `threads` worker threads, as the run does; a Response or the error."""

    def one(url: str):
        try:
            return fetcher.get(url, **kwargs)
        except FetchError as error:
            return error

    with ThreadPoolExecutor(threads) as pool:
        return list(pool.map(one, urls))


# -- retries ---------------------------------------------------------------------------------


def test_500s_then_200_is_retried_with_backoff(server, fetcher):
    server.route("/flaky", status(500), status(502), ok("finally"))
    response = fetcher.get(server.url("/flaky"))
    assert (response.status, response.text()) == (200, "finally")
    assert server.hits("/flaky") == 3
    assert (fetcher.stats.requests, fetcher.stats.retries, fetcher.stats.give_ups) == (3, 2, 0)
    # backoff 0.01 then 0.02 s, each plus up to 0.01 s jitter
    assert 0.03 <= fetcher.stats.waited_seconds <= 0.05


def test_500s_forever_give_up_after_max_attempts(server, fetcher):
    server.route("/down", status(503))
    with pytest.raises(FetchError) as caught:
        fetcher.get(server.url("/down"), settings=fast(max_attempts=3))
    error = caught.value
    assert (error.status, error.attempts) == (503, 3)
    assert "HTTP 503" in error.reason and "gave up after 3 attempts" in error.reason
    assert isinstance(error, HTTPStatusError)
    assert server.hits("/down") == 3
    assert fetcher.stats.retries == 2 and fetcher.stats.give_ups == 1


def test_429_retry_after_seconds_is_waited_for_real(server, fetcher):
    server.route("/limited", retry_after(1), ok("ok"))
    assert fetcher.get(server.url("/limited")).text() == "ok"
    first, second = server.requests_for("/limited")
    assert second.started - first.started >= 1.0
    assert fetcher.stats.waited_seconds == 1.0 and fetcher.stats.retries == 1


def test_429_retry_after_http_date(server):
    clock = RecordingClock()
    later = dt.datetime.now(dt.UTC) + dt.timedelta(seconds=30)
    server.route("/limited", retry_after(later), ok("ok"))
    with Fetcher(FAST, clock=clock) as fetcher:
        assert fetcher.get(server.url("/limited")).text() == "ok"
        # the date has whole seconds, so the wait is a little under 30 s; the host's pause
        # ends with it, so nothing waits twice
        assert len(clock.sleeps) == 1 and 28 < clock.sleeps[0] <= 30
        assert fetcher.stats.waited_seconds == pytest.approx(sum(clock.sleeps))


@pytest.mark.parametrize("as_date", [False, True], ids=["seconds", "date"])
def test_retry_after_above_cap_defers_at_once(server, as_date):
    clock = RecordingClock()
    # the date is made now, not when the module was collected (a slow suite runs it later)
    when = dt.datetime.now(dt.UTC) + dt.timedelta(hours=1) if as_date else 3600
    server.route("/later", retry_after(when))
    with Fetcher(FAST, clock=clock) as fetcher, pytest.raises(Deferred) as caught:
        fetcher.get(server.url("/later"))
    assert "HTTP 429" in caught.value.reason and "more than retry_after_cap" in caught.value.reason
    waited = (caught.value.until - clock.now()).total_seconds()
    assert 3590 < waited <= 3600  # 3600 s, or a little less for the date
    assert server.hits("/later") == 1 and clock.sleeps == []


def test_connection_reset_is_retried(server, fetcher):
    server.route("/reset", reset(), reset(), ok("up again"))
    assert fetcher.get(server.url("/reset")).text() == "up again"
    assert server.hits("/reset") == 3 and fetcher.stats.retries == 2


def test_stall_past_timeout_is_retried_then_reported(server, fetcher):
    server.route("/slow-once", stall(2), ok("quick now"))
    server.route("/slow", stall(2))
    settings = fast(timeout=0.3, max_attempts=2)
    assert fetcher.get(server.url("/slow-once"), settings=settings).text() == "quick now"
    with pytest.raises(FetchError) as caught:
        fetcher.get(server.url("/slow"), settings=settings)
    assert "Timeout" in caught.value.reason and caught.value.attempts == 2
    assert isinstance(caught.value, FetchTimeout) and caught.value.status is None


def test_truncated_body_is_a_retryable_read_error(server, fetcher):
    server.route("/cut-once", truncated(b"half", 100), ok("whole"))
    server.route("/cut", truncated(b"half", 100))
    assert fetcher.get(server.url("/cut-once")).text() == "whole"
    with pytest.raises(FetchError) as caught:
        fetcher.get(server.url("/cut"), settings=fast(max_attempts=2))
    assert "expected 100" in caught.value.reason and caught.value.attempts == 2
    assert isinstance(caught.value, TransportFailure)


def test_oversized_response_headers_fail_at_once_without_a_retry(server, fetcher):
    """A response head over httpcore's 100 KiB limit (here one 200 KB header) is the same on
    every attempt: one request, a clear reason, no retry (a dropped connection still is
    retried: test_connection_reset_is_retried)."""
    server.route("/big-head", ok("x", headers={"X-Padding": "p" * 200_000}))
    with pytest.raises(ResponseTooLarge) as caught:
        fetcher.get(server.url("/big-head"))
    assert server.hits("/big-head") == 1 and caught.value.attempts == 1
    assert "response headers over 100 KiB" in caught.value.reason
    assert fetcher.stats.retries == 0


def test_oversized_body_is_aborted_while_streaming(server, fetcher):
    server.route("/huge", oversized(50_000_000))  # no Content-Length: only the reader can tell
    with pytest.raises(FetchError) as caught:
        fetcher.get(server.url("/huge"), settings=fast(max_bytes=100_000))
    assert caught.value.reason == "response exceeds max_bytes 100000"
    assert caught.value.attempts == 1  # a size cap is not worth retrying
    assert isinstance(caught.value, ResponseTooLarge)
    assert fetcher.stats.bytes < 5_000_000  # it stopped reading long before 50 MB


def test_declared_length_above_cap_fails_before_reading(server, fetcher):
    server.route("/big", ok(b"x" * 5000))
    with pytest.raises(FetchError, match="response exceeds max_bytes 1000"):
        fetcher.get(server.url("/big"), settings=fast(max_bytes=1000))


@pytest.mark.parametrize("code", [403, 404, 410])
def test_client_errors_fail_at_once(server, fetcher, code):
    server.route("/nope", status(code))
    with pytest.raises(FetchError) as caught:
        fetcher.get(server.url("/nope"))
    assert (caught.value.status, caught.value.attempts, server.hits("/nope")) == (code, 1, 1)
    assert str(caught.value).startswith(server.url("/nope") + ": HTTP " + str(code))
    assert fetcher.stats.retries == 0


def test_deadline_stops_retries(server, fetcher):
    server.route("/down", status(500))
    with pytest.raises(FetchError) as caught:
        fetcher.get(
            server.url("/down"), settings=fast(max_attempts=20, backoff_initial=0.1, deadline=1)
        )
    assert 1 < caught.value.attempts < 20
    # between attempts ("deadline 1 s reached"), or, on a busy machine, during one
    assert "deadline 1 s" in caught.value.reason, caught.value.reason
    assert fetcher.stats.waited_seconds < 1.0


def test_retry_after_beyond_deadline_gives_up_without_waiting(server):
    clock = RecordingClock()
    server.route("/later", retry_after(5), ok("too late"))
    with Fetcher(fast(deadline=2), clock=clock) as fetcher, pytest.raises(FetchError) as caught:
        fetcher.get(server.url("/later"))
    assert caught.value.attempts == 1 and "deadline 2 s" in caught.value.reason
    assert clock.sleeps == []


# -- redirects -------------------------------------------------------------------------------


def test_same_site_redirect_is_followed(server, fetcher):
    server.route("/old", redirect("/middle", code=301))
    server.route("/middle", redirect(server.url("/new"), code=307))
    server.route("/new", ok("moved"))
    response = fetcher.get(server.url("/old"))
    assert response.text() == "moved"
    assert (response.url, response.final_url) == (server.url("/old"), server.url("/new"))


def test_off_site_redirect_is_refused(server, fetcher):
    elsewhere = server.url("/target", host=OTHER_HOST)
    server.route("/jump", redirect(elsewhere))
    server.route("/target", ok("other site"))
    with pytest.raises(FetchError) as caught:
        fetcher.get(server.url("/jump"))
    assert server.url("/jump") in caught.value.reason and elsewhere in caught.value.reason
    assert caught.value.attempts == 1 and server.hits("/target") == 0
    assert isinstance(caught.value, RedirectRefused)


def test_off_site_redirect_allowed_with_any_drops_credentials(server, fetcher):
    elsewhere = server.url("/target", host=OTHER_HOST)
    server.route("/jump", redirect(elsewhere))
    server.route("/target", ok("other site"))
    settings = fast(redirects="any", headers={"Authorization": "Bearer T0KEN", "X-Keep": "1"})
    response = fetcher.get(server.url("/jump"), settings=settings)
    assert (response.text(), response.final_url) == ("other site", elsewhere)
    jump, target = server.requests_for("/jump")[0], server.requests_for("/target")[0]
    assert jump.headers["authorization"] == "Bearer T0KEN"
    assert "authorization" not in target.headers and target.headers["x-keep"] == "1"


def test_redirects_none_and_redirect_loops_fail(server, fetcher):
    server.route("/a", redirect("/b"))
    server.route("/b", redirect("/a"))
    with pytest.raises(RedirectRefused, match="not followed"):
        fetcher.get(server.url("/a"), settings=fast(redirects="none"))
    with pytest.raises(RedirectRefused, match="more than 5 redirects"):
        fetcher.get(server.url("/a"))


def test_unsupported_scheme_and_header_with_newline_are_never_sent(server, fetcher):
    server.route("/", ok("x"))
    with pytest.raises(RequestRejected, match="unsupported URL scheme 'ftp'"):
        fetcher.get("ftp://127.0.0.1/file")
    with pytest.raises(RequestRejected) as caught:
        fetcher.get(server.url("/"), headers={"X-Token": "T0KEN\r\nX-Evil: 1"})
    assert "control character" in caught.value.reason and "T0KEN" not in str(caught.value)
    assert server.hits("/") == 0


# -- politeness and headers ------------------------------------------------------------------


def test_per_host_concurrency_cap(server):
    server.route("/page", ok("x", delay=0.2))
    urls = [server.url(f"/page?n={n}") for n in range(8)]
    with Fetcher(fast(per_host_concurrency=2)) as fetcher:
        results = fetch_all(fetcher, urls)
    assert all(r.status == 200 for r in results)
    assert server.max_in_flight == 2  # 8 threads wanted more; the cap held them to 2


def test_min_interval_between_request_starts(server):
    server.route("/page", ok("x"))
    urls = [server.url(f"/page?n={n}") for n in range(5)]
    with Fetcher(fast(min_interval=0.2)) as fetcher:
        assert all(r.status == 200 for r in fetch_all(fetcher, urls))
    starts = sorted(r.started for r in server.requests_for("/page"))
    gaps = [b - a for a, b in itertools.pairwise(starts)]
    # 0.2 s apart at the client. The server stamps arrivals, which a loaded machine delays by
    # up to ~0.1 s (0.07 s measured beside a second suite), one more than another: the span
    # holds the four intervals but for that delay, and no gap comes near the ~1 ms of requests
    # sent without a pause.
    assert starts[-1] - starts[0] >= 4 * 0.2 - 0.12, gaps
    assert min(gaps) >= 0.05, gaps


# -- proxies -----------------------------------------------------------------------------------


def test_the_environment_proxies_are_used_and_a_redirect_to_a_private_address_is_refused(
    server, monkeypatch
):
    """HTTP_PROXY: the request goes through the proxy (it alone knows `papers.example`); a
    redirect from there to a private or loopback address is refused as off-site and never
    asked for. HTTPS_PROXY: an https URL is tunnelled (CONNECT) through it. NO_PROXY: the
    named host is reached directly."""
    server.route("/page", ok("through the proxy"))
    server.route("/jump", redirect("http://10.1.2.3/admin"))
    server.route("/home", redirect(f"http://127.0.0.1:{server.port}/page"))
    with Proxy({"papers.example": ("127.0.0.1", server.port)}) as proxy:
        monkeypatch.setenv("HTTP_PROXY", proxy.url)
        monkeypatch.setenv("HTTPS_PROXY", proxy.url)
        monkeypatch.setenv("NO_PROXY", "localhost")
        with Fetcher(FAST) as fetcher:
            assert fetcher.get("http://papers.example/page").text() == "through the proxy"
            for path, to in (("/jump", "http://10.1.2.3/admin"), ("/home", "127.0.0.1")):
                with pytest.raises(RedirectRefused) as caught:
                    fetcher.get(f"http://papers.example{path}")
                assert "off-site redirect" in caught.value.reason and to in caught.value.reason
            with pytest.raises(TransportFailure):  # tunnelled to a server that speaks no TLS
                fetcher.get("https://papers.example/page", settings=fast(max_attempts=1))
            assert fetcher.get(server.url("/page", host="localhost")).status == 200
    assert proxy.log == [
        "GET http://papers.example/page",
        "GET http://papers.example/jump",
        "GET http://papers.example/home",
        "CONNECT papers.example:443",
    ]
    assert [r.path for r in server.requests] == ["/page", "/jump", "/home", "/page"]


def test_user_agent_and_headers_are_sent(server, fetcher):
    server.route("/", ok("x"))
    fetcher.get(server.url("/"))
    settings = fast(user_agent="custom/1", headers={"X-Token": "a"})
    fetcher.get(server.url("/"), settings=settings, headers={"X-Token": "b", "Accept": "text/html"})
    default, custom = server.requests_for("/")
    assert default.headers["user-agent"] == DEFAULT_USER_AGENT
    assert DEFAULT_USER_AGENT.startswith("harvester/")
    assert (custom.headers["user-agent"], custom.headers["x-token"]) == ("custom/1", "b")
    assert custom.headers["accept"] == "text/html"


def test_not_modified_is_passed_through(server, fetcher):
    server.route("/feed", status(304, headers={"ETag": '"v1"'}))
    response = fetcher.get(server.url("/feed"), headers={"If-None-Match": '"v1"'})
    assert (response.status, response.content, response.headers["etag"]) == (304, b"", '"v1"')
    assert server.requests_for("/feed")[0].headers["if-none-match"] == '"v1"'
    assert fetcher.stats.retries == 0 and fetcher.stats.give_ups == 0


def test_gzip_json_and_bad_json(server, fetcher):
    server.route("/gz", gzipped('{"papers": [1, 2]}', content_type="application/json"))
    server.route("/bad", ok("{not json", content_type="application/json"))
    assert fetcher.get(server.url("/gz")).json() == {"papers": [1, 2]}
    with pytest.raises(InputError) as caught:
        fetcher.get(server.url("/bad")).json()
    assert caught.value.location == server.url("/bad")


def test_retries_are_logged_without_header_values(server, fetcher, caplog):
    server.route("/flaky", status(500), ok("ok"))
    server.route("/gone", status(404))
    settings = fast(headers={"Authorization": "Bearer S3CRET", "Cookie": "session=C00KIE"})
    with caplog.at_level(logging.WARNING, logger="harvester.fetch"):
        fetcher.get(server.url("/flaky"), settings=settings)
        with pytest.raises(FetchError):
            fetcher.get(server.url("/gone"), settings=settings)
    messages = [r.getMessage() for r in caplog.records if r.name == "harvester.fetch"]
    assert any(server.url("/flaky") in m and "HTTP 500" in m and "waiting" in m for m in messages)
    assert any(server.url("/gone") in m and "giving up" in m for m in messages)
    assert "S3CRET" not in caplog.text and "C00KIE" not in caplog.text


# -- several threads ------------------------------------------------------------------------


def test_threads_with_mixed_faults_each_get_their_outcome(server, fetcher):
    server.route("/slow", ok("slow", delay=0.3))
    server.route("/flaky", status(500), ok("flaky"))
    server.route("/reset", reset(), ok("reset"))
    server.route("/missing", status(404))
    server.route("/huge", oversized(10_000_000))
    server.route("/quick", ok("quick"))
    paths = ["/slow", "/flaky", "/missing", "/reset", "/huge", "/quick"]
    results = fetch_all(fetcher, [server.url(p) for p in paths], settings=fast(max_bytes=10**6))
    outcome = dict(zip(paths, results, strict=True))
    for good in ("/slow", "/flaky", "/reset", "/quick"):
        assert outcome[good].text() == good[1:]
    assert isinstance(outcome["/missing"], HTTPStatusError) and outcome["/missing"].status == 404
    assert outcome["/huge"].reason == "response exceeds max_bytes 1000000"
    assert fetcher.stats.give_ups == 2


# -- settings --------------------------------------------------------------------------------


def test_merge_settings_merges_and_names_bad_keys():
    base = FetchSettings(headers={"A": "1"})
    merged = merge_settings(base, {"timeout": 5, "headers": {"B": "2"}})
    assert merged.timeout == 5.0 and merged.headers == {"A": "1", "B": "2"}
    assert base.timeout == 20.0  # the base is untouched
    with pytest.raises(msgspec.ValidationError, match="timout"):
        merge_settings(base, {"timout": 5})
    with pytest.raises(msgspec.ValidationError, match="max_attempts"):
        merge_settings(base, {"max_attempts": 0})
    with pytest.raises(msgspec.ValidationError, match="redirects"):
        merge_settings(base, {"redirects": "sometimes"})


def test_parse_retry_after_and_sites():
    now = dt.datetime(2025, 1, 1, 12, 0, 0, tzinfo=dt.UTC)
    assert parse_retry_after("120", now) == 120.0
    assert parse_retry_after("Wed, 01 Jan 2025 12:00:30 GMT", now) == 30.0
    assert parse_retry_after("Wed, 01 Jan 2025 11:00:00 GMT", now) == 0.0
    assert parse_retry_after("soon", now) is None and parse_retry_after(None) is None
    assert registrable_host("cdn-lfs.huggingface.co") == "huggingface.co"
    assert registrable_host("www.ox.ac.uk") == "ox.ac.uk"
    assert registrable_host("127.0.0.1") == "127.0.0.1"


# -- cassettes -------------------------------------------------------------------------------


def test_vcr_cassette_records_then_replays_without_the_server(tmp_path):
    cassette = str(tmp_path / "fetch.yaml")
    recorder = vcr.VCR(record_mode="once")
    with LocalServer() as server:
        server.route("/flaky", status(500), ok("second try"))
        server.route("/gz", gzipped("compressed"))
        urls = [server.url("/flaky"), server.url("/gz")]
        with recorder.use_cassette(cassette), Fetcher(FAST) as fetcher:
            live = [fetcher.get(url).text() for url in urls]
    assert live == ["second try", "compressed"]
    # the server is gone: only the cassette can answer now
    with recorder.use_cassette(cassette) as played, Fetcher(FAST) as fetcher:
        replayed = [fetcher.get(url).text() for url in urls]
        assert fetcher.stats.retries == 1  # the recorded 500 is replayed too
    assert replayed == live
    assert played.play_count == 3
