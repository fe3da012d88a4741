"""The development cache (hishel, SQLite): a second run replays stored responses without
touching the site, skips budgets and robots.txt for them, and keeps the body bounds."""

from __future__ import annotations

import gzip
import time

import pytest

from harvester.fetch import Fetcher, FetchSettings, ResponseTooLarge, merge_settings
from tests.localserver import LOOPBACK, LocalServer, Reply, ok, status

pytestmark = LOOPBACK

SETTINGS = FetchSettings(min_interval=0, backoff_initial=0.01, max_attempts=1)


def test_a_second_run_replays_from_the_cache_without_the_site(tmp_path):
    cache = tmp_path / "cache"
    urls = {}
    with LocalServer() as server:
        server.route("/robots.txt", ok("User-agent: *\nDisallow: /private\n"))
        for n in range(3):
            server.route(f"/page{n}", ok(f"page {n}"))
        server.route("/missing", status(404))
        urls = {n: server.url(f"/page{n}") for n in range(3)}
        with Fetcher(SETTINGS, cache_dir=cache) as first:
            assert [first.get(u).from_cache for u in urls.values()] == [False] * 3
            with pytest.raises(Exception, match="HTTP 404"):
                first.get(server.url("/missing"))
            assert first.stats.cache_hits == 0
    # the server is gone; a budget of one request per minute would hold a live run for minutes
    slow = merge_settings(SETTINGS, {"budgets": {"127.0.0.1": "1/60s"}})
    with Fetcher(slow, cache_dir=cache) as second:
        started = time.monotonic()
        replayed = [second.get(u) for u in urls.values()]
        assert time.monotonic() - started < 5
        assert [r.text() for r in replayed] == ["page 0", "page 1", "page 2"]
        assert all(r.from_cache for r in replayed) and second.stats.cache_hits == 3
        assert second.stats.requests == 0 and second.stats.throttled_seconds == 0


def test_the_cache_is_off_unless_asked(tmp_path):
    with LocalServer() as server:
        server.route("/page", ok("live"))
        with Fetcher(SETTINGS) as fetcher:
            assert fetcher.cache is None
            assert [fetcher.get(server.url("/page")).text() for _ in range(2)] == ["live"] * 2
        assert server.hits("/page") == 2


def test_bounds_hold_on_what_the_cache_stores_and_replays(tmp_path):
    body = gzip.compress(bytes(5_000_000))
    bomb = Reply(200, body, {"Content-Type": "text/plain", "Content-Encoding": "gzip"})
    capped = merge_settings(SETTINGS, {"max_bytes": 1_000_000, "robots": False})
    roomy = merge_settings(capped, {"max_bytes": 10_000_000})
    with LocalServer() as server:
        server.route("/big", bomb)
        with Fetcher(roomy, cache_dir=tmp_path) as fetcher:
            assert len(fetcher.get(server.url("/big")).content) == 5_000_000  # stored
        with Fetcher(capped, cache_dir=tmp_path) as fetcher, pytest.raises(ResponseTooLarge):
            fetcher.get(server.url("/big"))  # replayed, still decoded under the cap
        assert server.hits("/big") == 1


def test_configured_header_values_never_reach_the_cache_files(tmp_path):
    """Tokens under any header name (`Authorization`, `Private-Token`, a made-up one) are sent
    to the site, and no byte of them is in any file of the cache directory; the replay works
    without them."""
    tokens = {
        "Authorization": "Bearer hf_tok3n-AUTH-0001",
        "Private-Token": "glpat-tok3n-PRIV-0002",
        "X-Harvest-Credential": "cred-tok3n-MADEUP-0003",
    }
    settings = merge_settings(SETTINGS, {"robots": False, "headers": tokens})
    with LocalServer() as server:
        server.route("/page", ok("the page"))
        with Fetcher(settings, cache_dir=tmp_path) as fetcher:
            assert fetcher.get(server.url("/page")).text() == "the page"
        sent = server.requests[0].headers
        assert all(sent[name.lower()] == value for name, value in tokens.items())
        with Fetcher(settings, cache_dir=tmp_path) as replay:
            assert replay.get(server.url("/page")).from_cache
    files = [p for p in tmp_path.rglob("*") if p.is_file()]
    assert any(p.name.startswith("http-cache.sqlite") for p in files)
    for path in files:
        data = path.read_bytes()
        for value in tokens.values():
            for part in (p for p in value.split() if "tok3n" in p):  # a token on its own too
                assert part.encode() not in data, f"{part} in {path.name}"
