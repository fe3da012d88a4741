"""Responses that try to escape the fetcher's bounds, against a real local server: each ends
with a clear error for its URL, in bounded time and memory, while the other pages are fetched.

The attacks are the ones measured in issue 11: stacked Content-Encodings inflating in memory,
a single deflate layer of 130 MB, a 1-byte-per-second sender, and ~900 cookies that poisoned
every later request.
"""

from __future__ import annotations

import gzip
import re
import resource
import time
import zlib
from concurrent.futures import ThreadPoolExecutor

import pytest

from harvester.fetch import (
    ContentDecodingError,
    Fetcher,
    FetchError,
    FetchSettings,
    FetchTimeout,
    ResponseTooLarge,
    merge_settings,
)
from harvester.fetch.body import accept_encoding
from tests.localserver import LOOPBACK, LocalServer, Reply, drip, ok

pytestmark = [LOOPBACK, pytest.mark.timeout(60)]

MAX_BYTES = 2_000_000
BOUNDED = FetchSettings(
    backoff_initial=0.01,
    backoff_max=0.1,
    min_interval=0,
    timeout=2.0,
    robots=False,
    max_bytes=MAX_BYTES,
    max_attempts=2,
)
BOMB_SIZE = 300_000_000  # what each bomb inflates to: 150 times the cap


def bounded(**changes) -> FetchSettings:
    return merge_settings(BOUNDED, changes)


def encoded(body: bytes, encoding: str) -> Reply:
    return Reply(200, body, {"Content-Type": "text/plain", "Content-Encoding": encoding})


def zeros_gzip(size: int, level: int = 9) -> bytes:
    """`size` zero bytes, gzip-compressed in pieces (never `size` bytes in memory)."""
    out = zlib.compressobj(level, zlib.DEFLATED, zlib.MAX_WBITS | 16)
    piece = bytes(1 << 20)
    parts = [out.compress(piece) for _ in range(size // len(piece))]
    return b"".join([*parts, out.flush()])


@pytest.fixture(scope="module")
def gzip_bomb() -> bytes:
    return zeros_gzip(BOMB_SIZE)


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def fetch_with_neighbours(server: LocalServer, attack: str, settings: FetchSettings):
    """The attack URL and five healthy pages from four threads: (attack outcome, others)."""
    for n in range(5):
        server.route(f"/page{n}", ok(f"page {n}"))
    paths = [attack, *(f"/page{n}" for n in range(5))]

    def one(path: str):
        try:
            return fetcher.get(server.url(path))
        except FetchError as error:
            return error

    with Fetcher(settings) as fetcher, ThreadPoolExecutor(4) as pool:
        outcomes = list(pool.map(one, paths))
    others = [o.text() for o in outcomes[1:]]
    assert others == [f"page {n}" for n in range(5)]  # the healthy pages are all there
    return outcomes[0]


@pytest.mark.parametrize("layers", ["gzip", "gzip, gzip"])
def test_gzip_bombs_stop_at_the_cap(gzip_bomb, layers):
    body = gzip_bomb if layers == "gzip" else gzip.compress(gzip_bomb, 9)
    before = peak_rss_mb()
    with LocalServer() as server:
        server.route("/bomb", encoded(body, layers))
        started = time.monotonic()
        error = fetch_with_neighbours(server, "/bomb", BOUNDED)
    assert isinstance(error, ResponseTooLarge) and error.attempts == 1
    assert error.reason == f"response exceeds max_bytes {MAX_BYTES} decoded from {layers}"
    assert time.monotonic() - started < 10
    assert peak_rss_mb() - before < 200  # the body never grew past the cap


def test_brotli_bomb_stops_at_the_cap():
    brotli = pytest.importorskip("brotli")
    assert "br" in accept_encoding()
    bomb = brotli.compress(bytes(BOMB_SIZE // 4), quality=5)
    assert len(bomb) < 100_000
    with LocalServer() as server:
        server.route("/bomb", encoded(bomb, "br"))
        error = fetch_with_neighbours(server, "/bomb", BOUNDED)
    assert isinstance(error, ResponseTooLarge) and "decoded from br" in error.reason


def test_zstd_bomb_stops_at_the_cap():
    from harvester.fetch import body as body_module

    if body_module.zstd is None:
        pytest.skip("no zstd module (Python 3.14's compression.zstd or backports.zstd)")
    bomb = body_module.zstd.compress(bytes(BOMB_SIZE // 4))
    with LocalServer() as server:
        server.route("/bomb", encoded(bomb, "zstd"))
        error = fetch_with_neighbours(server, "/bomb", BOUNDED)
    assert isinstance(error, ResponseTooLarge) and "decoded from zstd" in error.reason


def test_unknown_and_corrupt_encodings_are_decoding_errors():
    with LocalServer() as server:
        server.route("/compress", encoded(b"whatever", "compress"))
        server.route("/corrupt", encoded(b"not gzip at all", "gzip"))
        unknown = fetch_with_neighbours(server, "/compress", BOUNDED)
        corrupt = fetch_with_neighbours(server, "/corrupt", BOUNDED)
    assert isinstance(unknown, ContentDecodingError) and "'compress'" in unknown.reason
    assert isinstance(corrupt, ContentDecodingError) and "corrupt gzip" in corrupt.reason


@pytest.mark.parametrize("head", [True, False], ids=["slow-headers", "slow-body"])
def test_a_slow_sender_is_cut_at_the_request_deadline(head):
    """One byte every 0.1 s never trips the 2 s read timeout; request_deadline cuts it."""
    settings = bounded(request_deadline=1.5, max_attempts=1)
    with LocalServer() as server:
        server.route("/drip", drip(b"x" * 1000, 0.1, head=head))
        started = time.monotonic()
        error = fetch_with_neighbours(server, "/drip", settings)
        elapsed = time.monotonic() - started
    assert isinstance(error, FetchTimeout) and "request_deadline 1.5 s" in error.reason
    assert elapsed < 5  # 1.5 s and the neighbours, not the 100 s the drip would take


def test_the_url_deadline_bounds_every_attempt_together():
    """request_deadline alone would allow 5 x 3 s; the URL's deadline of 2 s cuts it."""
    settings = bounded(request_deadline=3, deadline=2, max_attempts=5)
    with LocalServer() as server:
        server.route("/drip", drip(b"x" * 1000, 0.1, head=False))
        started = time.monotonic()
        error = fetch_with_neighbours(server, "/drip", settings)
        elapsed = time.monotonic() - started
    assert isinstance(error, FetchTimeout) and error.attempts == 1
    assert elapsed < 5


def cookie_flood(count: int) -> Reply:
    lines = tuple(("Set-Cookie", f"c{n}=v{n}; Path=/") for n in range(count))
    return Reply(200, b"flood", {"Content-Type": "text/plain"}, header_lines=lines)


def test_900_cookies_fail_their_url_and_poison_nothing():
    with LocalServer() as server:
        server.route("/flood", cookie_flood(900))
        error = fetch_with_neighbours(server, "/flood", BOUNDED)
        later = [r.headers for r in server.requests if r.path.startswith("/page")]
    assert isinstance(error, ResponseTooLarge)
    assert re.search(r"has 9\d\d header lines, more than max_headers 100", error.reason)
    assert all("cookie" not in headers for headers in later)  # no jar unless configured


def test_with_cookies_on_the_jar_stays_within_max_cookies():
    settings = bounded(cookies=True, max_cookies=50, max_headers=2000)
    with LocalServer() as server:
        server.route("/few", cookie_flood(3))
        server.route("/flood", cookie_flood(900))
        with Fetcher(settings) as fetcher:
            assert fetcher.get(server.url("/few")).text() == "flood"
            with pytest.raises(ResponseTooLarge, match="sets 900 cookies, more than max_cookies"):
                fetcher.get(server.url("/flood"))
            server.route("/next", ok("next"))
            assert fetcher.get(server.url("/next")).text() == "next"
        sent = server.requests_for("/next")[0].headers["cookie"]
    assert sent.count("=") <= 50 and "c0=v0" in sent  # the first three, and never 900
