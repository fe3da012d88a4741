"""Whole runs (`harvester run config/hf-daily.toml`, a real subprocess) against a local server
whose daily pages misbehave on purpose.

Each scenario harvests four daily pages: the first and last are healthy, the middle two fail
in the scenario's way (some recover on a retry). The summary JSON must show the configured
retries and waits, name every failed URL with its reason, and say "partial" (exit 3) whenever
a page failed; every paper of every page that was served whole must be in the JSONL, once.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import re
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from harvester.state import StateStore
from tests.fixtures.hf_site import daily_page_2024, daily_page_2026, make_items
from tests.localserver import (
    LOOPBACK,
    OTHER_HOST,
    LocalServer,
    Reply,
    free_port,
    ok,
    oversized,
    redirect,
    reset,
    retry_after,
    stall,
    status,
    truncated,
)
from tests.summaries import ended, ended_ids

from . import clirun

pytestmark = LOOPBACK  # the test process talks to 127.0.0.1 only; the subprocess is not blocked

ROOT = Path(__file__).resolve().parent.parent
CONFIG = ROOT / "config" / "hf-daily.toml"
HARVESTER = Path(sys.executable).parent / "harvester"
DAYS = [dt.date(2026, 9, 7) + dt.timedelta(days=n) for n in range(4)]
HTML = "text/html; charset=utf-8"
MAX_BYTES = 200_000  # a generated page is ~20 kB
# Small waits so every fault costs well under a second (the backoff doubles: 0.05, 0.1, ...).
FAST_FETCH = {
    "timeout": 1.0,
    "max_attempts": 3,
    "backoff_initial": 0.05,
    "backoff_max": 1.0,
    "retry_after_cap": 5,
    "deadline": 30,
    "min_interval": 0,
    "max_bytes": MAX_BYTES,
    "per_host_concurrency": 1,  # one page at a time: which page meets which fault is fixed
}


def items(day: dt.date) -> list[dict]:
    return make_items(2 + day.day % 3, day=day, seed=day.day)


def page(day: dt.date) -> bytes:
    return daily_page_2026(items(day), day=day).encode()


def path(day: dt.date) -> str:
    return f"/papers/date/{day}"


def ids(*days: dt.date) -> list[str]:
    return sorted(i["paper"]["id"] for d in days for i in items(d))


def backoff(retries: int) -> tuple[float, float]:
    """Bounds of the waits of `retries` consecutive retries of one URL (jitter: 0..initial)."""
    base = sum(FAST_FETCH["backoff_initial"] * 2**n for n in range(retries))
    return base, base + retries * FAST_FETCH["backoff_initial"]


def plus(*bounds: tuple[float, float]) -> tuple[float, float]:
    return sum(b[0] for b in bounds), sum(b[1] for b in bounds)


@dataclasses.dataclass
class Run:
    status: int
    summary: dict
    records: list[dict]
    stderr: str

    @property
    def source(self) -> dict:
        (source,) = self.summary["sources"]
        return source

    @property
    def failed(self) -> dict[str, str]:
        return {t["target"]: t["reason"] for t in ended(self.source, "failed")}


def harvest(server: LocalServer, out: Path, *options: str, fetch: dict | None = None) -> Run:
    """`harvester run config/hf-daily.toml` over DAYS from `server`, writing under `out`."""
    summary = out / "summary.json"
    summary.unlink(missing_ok=True)
    settings = [f"fetch.{k}={v}" for k, v in (FAST_FETCH | (fetch or {})).items()]
    sets = [
        f'run.base_dir="{out}"',
        f'sources.hf-daily.base_url="{server.url("")}"',
        f"sources.hf-daily.daily_from={DAYS[0]}",
        f"sources.hf-daily.daily_to={DAYS[-1]}",
        *settings,
    ]
    command = [str(HARVESTER), "run", str(CONFIG), "-q", "--summary-json", str(summary)]
    for item in sets:
        command += ["--set", item]
    done = clirun.run([*command, *options], capture_output=True, text=True, timeout=60, check=False)
    jsonl = out / "out" / "hf-daily.jsonl"
    lines = jsonl.read_text().splitlines() if jsonl.exists() else []
    records = [json.loads(line) for line in lines]
    assert summary.exists(), done.stderr
    return Run(done.returncode, json.loads(summary.read_text()), records, done.stderr)


def next_second() -> None:
    """Wait (at most 1 s) for the wall clock's next second. The run journal tells runs apart by
    their start time to the second, so a run started in the same second as the previous one
    would take that run's targets for its own and skip them, even with --refresh."""
    now = dt.datetime.now(dt.UTC).replace(microsecond=0)
    while dt.datetime.now(dt.UTC).replace(microsecond=0) == now:
        time.sleep(0.02)


@dataclasses.dataclass
class Scenario:
    script: Callable[[LocalServer], None]  # routes for the faulty days (others serve the page)
    written: list[int]  # indexes of the days whose papers must all be written
    failed: dict[int, str]  # day index -> regex its reason must match
    retries: int
    waited: tuple[float, float]
    exit_status: int
    empty: list[int] = dataclasses.field(default_factory=list)
    deferred: list[int] = dataclasses.field(default_factory=list)
    incomplete: list[int] = dataclasses.field(default_factory=list)
    fetch: dict = dataclasses.field(default_factory=dict)


def both(first: list[Reply], second: list[Reply]) -> Callable[[LocalServer], None]:
    def script(server: LocalServer) -> None:
        server.route(path(DAYS[1]), *first)
        server.route(path(DAYS[2]), *second)

    return script


def served(day: dt.date) -> Reply:
    return ok(page(day), content_type=HTML)


D1, D2 = DAYS[1], DAYS[2]
HALF = len(page(D1)) // 2


def cut_midway(day: dt.date) -> bytes:
    """A page read from its cards (the 2024 layout, no JSON), cut in the middle of its cards:
    served whole by the server (its length is right), but the page ends before `</html>`."""
    whole = daily_page_2024(items(day), day=day, embed_json=False).encode()
    return whole[: whole.index(b"</section>") - 200]


FILLER_HEADERS = tuple(("X-Filler", "f" * 60) for _ in range(3000))  # 200 KB of header lines

SCENARIOS = {
    # 500s then a success; a 503 that never ends gives up after max_attempts
    "server-errors": Scenario(
        both([status(500), status(502), served(D1)], [status(503)]),
        written=[0, 1, 3],
        failed={2: r"HTTP 503 .*gave up after 3 attempts"},
        retries=2 + 2,
        waited=plus(backoff(2), backoff(2)),
        exit_status=3,
    ),
    # Retry-After in seconds replaces the backoff; one above the cap defers the host: that
    # page and the host's later ones wait for a later run (not failed, not slept through)
    "retry-after-seconds": Scenario(
        both([retry_after(0.25), served(D1)], [retry_after(3600)]),
        written=[0, 1],
        failed={},
        deferred=[2, 3],
        retries=1,
        waited=(0.25, 0.25),
        exit_status=3,
    ),
    # connection reset without a response: retried like any transport error
    "reset": Scenario(
        both([reset(), served(D1)], [reset()]),
        written=[0, 1, 3],
        failed={2: r"(Error|Exception): .*gave up after 3 attempts"},
        retries=1 + 2,
        waited=plus(backoff(1), backoff(2)),
        exit_status=3,
    ),
    # a stall past the 1 s timeout; two attempts each to keep the run short
    "stall": Scenario(
        both([stall(3, served(D1)), served(D1)], [stall(3, served(D2))]),
        written=[0, 1, 3],
        failed={2: r"ReadTimeout.*gave up after 2 attempts"},
        retries=1 + 1,
        waited=plus(backoff(1), backoff(1)),
        exit_status=3,
        fetch={"max_attempts": 2},
    ),
    # a body cut short of its Content-Length
    "truncated": Scenario(
        both([truncated(page(D1)[:HALF], len(page(D1))), served(D1)], [truncated(b"<ht", 9000)]),
        written=[0, 1, 3],
        failed={2: r"RemoteProtocolError.*gave up after 3 attempts"},
        retries=1 + 2,
        waited=plus(backoff(1), backoff(2)),
        exit_status=3,
    ),
    # over max_bytes, streamed without a length, or declared: not retried
    "oversized": Scenario(
        both([oversized(2 * MAX_BYTES)], [ok(b"x" * (MAX_BYTES + 1), content_type=HTML)]),
        written=[0, 3],
        failed={1: rf"exceeds max_bytes {MAX_BYTES}", 2: rf"exceeds max_bytes {MAX_BYTES}"},
        retries=0,
        waited=(0.0, 0.0),
        exit_status=3,
    ),
    # response headers over httpcore's 100 KiB (one huge header, or thousands): the same answer
    # every time, so not retried
    "huge-head": Scenario(
        both(
            [ok(page(D1), content_type=HTML, headers={"X-Padding": "p" * 200_000})],
            [Reply(200, page(D2), {"Content-Type": HTML}, header_lines=FILLER_HEADERS)],
        ),
        written=[0, 3],
        failed={1: r"response headers over 100 KiB", 2: r"response headers over 100 KiB"},
        retries=0,
        waited=(0.0, 0.0),
        exit_status=3,
    ),
    # a page cut in the middle of its cards: incomplete, published nowhere, read again next run
    "cut-midway": Scenario(
        both([ok(cut_midway(D1), content_type=HTML)], [served(D2)]),
        written=[0, 2, 3],
        failed={},
        incomplete=[1],
        retries=0,
        waited=(0.0, 0.0),
        exit_status=3,
    ),
    # a page from another day (200, or a same-site redirect to it): an empty day, not a failure
    "wrong-date": Scenario(
        both([ok(page(DAYS[0]), content_type=HTML)], [redirect(path(DAYS[0]))]),
        written=[0, 3],
        failed={},
        empty=[1, 2],
        retries=0,
        waited=(0.0, 0.0),
        exit_status=0,
    ),
}


@pytest.mark.parametrize("name", list(SCENARIOS))
def test_a_fault_fails_only_its_page(tmp_path, name):
    scenario = SCENARIOS[name]
    with LocalServer() as server:
        for day in DAYS:
            server.route(path(day), served(day))
        scenario.script(server)
        run = harvest(server, tmp_path, fetch=scenario.fetch)

    assert run.status == scenario.exit_status, run.stderr
    assert run.summary["status"] == ("ok" if scenario.exit_status == 0 else "partial")
    url = {i: server.url(path(day)) for i, day in enumerate(DAYS)}
    assert set(run.failed) == {url[i] for i in scenario.failed}
    for i, pattern in scenario.failed.items():
        assert re.search(pattern, run.failed[url[i]]), run.failed[url[i]]
    assert ended_ids(run.source, "empty") == [url[i] for i in scenario.empty]
    assert ended_ids(run.source, "deferred") == [url[i] for i in scenario.deferred]
    assert ended_ids(run.source, "incomplete") == [url[i] for i in scenario.incomplete]
    # every paper of every page served whole, each once
    assert sorted(r["arxiv_id"] for r in run.records) == ids(*(DAYS[i] for i in scenario.written))
    fetch = run.summary["fetch"]
    assert fetch["retries"] == scenario.retries
    assert fetch["give_ups"] == len(scenario.failed)
    assert fetch["deferred"] == len(scenario.deferred)
    low, high = scenario.waited
    assert low - 0.002 <= fetch["waited_seconds"] <= high + 0.002


def test_retry_after_as_an_http_date_is_waited_for_or_defers_the_host(tmp_path):
    # A date whole seconds ahead (HTTP dates have no fractions) is waited for; a date an hour
    # ahead is over the 5 s cap: the page and the host's later pages are deferred, not failed.
    when = (dt.datetime.now(dt.UTC) + dt.timedelta(seconds=2)).replace(microsecond=0)
    later = when + dt.timedelta(hours=1)
    wall0, mono0 = time.time(), time.monotonic()
    with LocalServer() as server:
        for day in DAYS:
            server.route(path(day), served(day))
        server.route(path(D1), retry_after(when), served(D1))
        server.route(path(D2), retry_after(later))
        run = harvest(server, tmp_path)
        _, second = server.requests_for(path(D1))
        asked_d3 = server.hits(path(DAYS[3]))

    assert run.status == 3 and run.failed == {}
    deferred = {d["target"]: d["until"] for d in ended(run.source, "deferred")}
    assert list(deferred) == [server.url(path(D2)), server.url(path(DAYS[3]))]
    assert all(dt.datetime.fromisoformat(u) >= later for u in deferred.values())
    assert asked_d3 == 0  # a deferred host is not asked again in the same run
    assert sorted(r["arxiv_id"] for r in run.records) == ids(DAYS[0], D1)
    assert run.summary["fetch"]["retries"] == 1
    assert 0 <= run.summary["fetch"]["waited_seconds"] <= 2.0
    # the retry was sent no earlier than the date the server asked for
    retried_at = wall0 + (second.started - mono0)
    assert retried_at >= when.timestamp() - 0.05


def test_a_deferral_is_kept_in_the_state_until_its_time_has_come(tmp_path):
    with LocalServer() as server:
        for day in DAYS:
            server.route(path(day), served(day))
        server.route(path(D1), retry_after(1800), served(D1))  # "come back in 30 minutes"
        first = harvest(server, tmp_path)
        assert first.status == 3 and first.failed == {}
        deferred = ended_ids(first.source, "deferred")
        assert deferred == [server.url(path(d)) for d in DAYS[1:]]
        store = StateStore(tmp_path / "out" / "state" / "hf-daily")
        [(host, until)] = store.load().deferrals.items()
        assert until > dt.datetime.now(dt.UTC) + dt.timedelta(minutes=29)

        hits = len(server.requests)
        second = harvest(server, tmp_path)  # before the time: skipped, saying until when
        assert second.status == 3 and len(server.requests) == hits  # the host is not asked
        assert ended_ids(second.source, "deferred") == deferred
        assert "until" in ended(second.source, "deferred")[0]

        state = store.load()  # the time has come (the clock moved on)
        state.deferrals[host] = dt.datetime.now(dt.UTC) - dt.timedelta(seconds=1)
        store.compact(state)
        third = harvest(server, tmp_path)
    assert third.status == 0, third.stderr
    assert third.source["outcomes"] == {"complete": 3, "skipped": 1}
    assert not store.load().deferrals  # a deferral whose time has passed is dropped


def test_an_off_site_redirect_is_refused_and_not_followed(tmp_path):
    with LocalServer() as server:
        for day in DAYS:
            server.route(path(day), served(day))
        elsewhere = server.url(path(D1), host=OTHER_HOST)  # another site, same server
        server.route(path(D1), redirect(elsewhere))
        run = harvest(server, tmp_path)
        hits = server.hits(path(D1))

    assert run.status == 3
    assert run.failed == {
        server.url(path(D1)): (
            f"off-site redirect from {server.url(path(D1))} "
            f"to {elsewhere} refused (redirects = same-site)"
        )
    }
    assert hits == 1  # the redirect target was never requested
    assert run.summary["fetch"]["retries"] == 0
    assert sorted(r["arxiv_id"] for r in run.records) == ids(DAYS[0], D2, DAYS[3])


# "0.2" is the default guard: a 304's zero papers must not count as a suspiciously short page.
@pytest.mark.parametrize("guard_ratio", ["0", "0.2"])
def test_a_second_run_asks_conditionally_and_a_304_is_unchanged(tmp_path, guard_ratio):
    modified = "Mon, 07 Sep 2026 10:00:00 GMT"
    with LocalServer() as server:
        for day in DAYS:
            server.route(path(day), served(day))
        validators = {"ETag": '"d1-v1"', "Last-Modified": modified}
        server.route(path(D1), ok(page(D1), content_type=HTML, headers=validators), status(304))
        guard = f"run.guard_ratio={guard_ratio}"
        first = harvest(server, tmp_path, "--set", guard)
        next_second()
        second = harvest(server, tmp_path, "--set", guard, "--refresh")
        asked = server.requests_for(path(D1))

    assert first.status == 0 and first.source["written"] == len(ids(*DAYS))
    # the first request was plain; the second carried what the first response said
    assert "if-none-match" not in asked[0].headers
    assert asked[1].headers["if-none-match"] == '"d1-v1"'
    assert asked[1].headers["if-modified-since"] == modified
    assert second.status == 0, second.stderr
    assert ended(second.source, "skipped") == [
        {"target": server.url(path(D1)), "outcome": "skipped", "day": str(D1),
         "reason": "not modified since the last run"}
    ]  # fmt: skip
    assert ended(second.source, "failed") == []
    assert second.source["written"] == len(ids(DAYS[0], D2, DAYS[3]))
    # the log holds the first run's papers, then the re-read days' (not the unchanged one)
    assert sorted(r["arxiv_id"] for r in second.records) == sorted(
        ids(*DAYS) + ids(DAYS[0], D2, DAYS[3])
    )
    state = StateStore(tmp_path / "out" / "state" / "hf-daily").load()
    done = state.sources["hf-daily"].done
    assert done[server.url(path(D1))].memo == {"etag": '"d1-v1"', "last_modified": modified}


@dataclasses.dataclass
class NoServer:
    """A base URL where nothing listens: every connection is refused."""

    port: int

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{path}"


def test_a_refused_connection_fails_this_run_only_and_the_next_run_writes_everything(tmp_path):
    down = NoServer(free_port())
    first = harvest(down, tmp_path, fetch={"max_attempts": 1})
    assert first.status == 3
    assert first.source["outcomes"] == {"failed": len(DAYS)}
    assert all("robots.txt unreachable: ConnectError" in r for r in first.failed.values())
    state = StateStore(tmp_path / "out" / "state" / "hf-daily").load()
    assert state.deferrals == {}  # a network failure is not the site asking us to wait
    assert [g["outcome"] for g in ledger(tmp_path, down)["gaps"]] == ["failed"] * len(DAYS)

    with LocalServer(port=down.port) as server:  # the site is back, on the same address
        for day in DAYS:
            server.route(path(day), served(day))
        second = harvest(server, tmp_path)
    assert second.status == 0, second.stderr
    assert sorted(r["arxiv_id"] for r in second.records) == ids(*DAYS)
    gone = ledger(tmp_path, down)
    assert gone["gaps"] == [] and gone["last_complete_day"] == str(DAYS[-1])


def test_a_long_retry_after_defers_the_host_until_the_clearing_switch(tmp_path):
    with LocalServer() as server:
        server.route("/robots.txt", retry_after(3600))  # the site's own answer: come back later
        first = harvest(server, tmp_path)
        assert first.status == 3 and first.source["outcomes"] == {"deferred": len(DAYS)}
        until = {t["until"] for t in ended(first.source, "deferred")}
        assert len(until) == 1
        hits = len(server.requests)
        second = harvest(server, tmp_path)  # still deferred: not a single request
        assert second.source["outcomes"] == {"deferred": len(DAYS)}
        assert len(server.requests) == hits
        status_text = harvester_status(tmp_path, server)
        assert f"deferred: 127.0.0.1:{server.port} until {until.pop()}" in status_text

        server.route("/robots.txt", ok("User-agent: *\nAllow: /\n"))
        for day in DAYS:
            server.route(path(day), served(day))
        third = harvest(server, tmp_path, "--ignore-deferrals")
    assert third.status == 0, third.stderr
    assert sorted(r["arxiv_id"] for r in third.records) == ids(*DAYS)
    assert StateStore(tmp_path / "out" / "state" / "hf-daily").load().deferrals == {}


def harvester_status(out: Path, site, *args: str) -> str:
    done = clirun.run(
        [str(HARVESTER), "status", str(CONFIG), "--set", f'run.base_dir="{out}"',
         "--set", f'sources.hf-daily.base_url="{site.url("")}"',
         "--set", f"sources.hf-daily.daily_from={DAYS[0]}",
         "--set", f"sources.hf-daily.daily_to={DAYS[-1]}", *args],
        capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    return done.stdout


def ledger(out: Path, site) -> dict:
    """The `hf-daily` source's ledger, from `harvester status --json`."""
    [source] = json.loads(harvester_status(out, site, "--json"))["ledger"]["sources"]
    return source
