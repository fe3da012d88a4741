"""One politeness budget across processes (`[fetch] budget_store`), in SQLite and in a real
PostgreSQL server: bookings from several limiters share one sliding log, a Retry-After pause
and what a server advertised; real `harvester run` shards splitting a date range with --set
(the static sharding recipe of docs/scaling.md) stay within a budget the local server enforces.
"""

from __future__ import annotations

import datetime as dt
import itertools
import json
import subprocess
import sys
import time
from pathlib import Path

import psycopg
import pytest

from harvester.errors import ConfigError
from harvester.fetch.advertised import ServerAdvice
from harvester.fetch.budgets import Rate
from harvester.fetch.limiter import ServerCooldown
from harvester.fetch.shared import open_budget
from tests import clirun
from tests.fixtures.hf_site import daily_page_2026, make_items
from tests.localserver import LOOPBACK, LocalServer, ok
from tests.pg import PASSWORD

FIRST_DAY = dt.date(2024, 5, 1)


@pytest.fixture(params=["sqlite", "postgresql"])
def budget_spec(request, tmp_path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'budget.db'}"
    return request.getfixturevalue("pg_url")


@pytest.fixture
def limiters(budget_spec, tmp_path):
    made = []

    def make():
        limiter = open_budget(budget_spec, tmp_path)
        made.append(limiter)
        return limiter

    yield make
    for limiter in made:
        limiter.close()


def within(starts: list[float], rate: Rate) -> bool:
    """Whether every window of `rate.window` seconds holds at most `rate.limit` starts (give
    or take the 10 ms a conversion between two clocks may be off)."""
    starts = sorted(starts)
    pairs = zip(starts, starts[rate.limit :], strict=False)
    return all(b - a >= rate.window - 0.01 for a, b in pairs)


def test_limiters_book_one_sliding_log_in_turn(limiters):
    """Two limiters (as two processes would) book on one key: the starts they get keep the
    rate and the interval together, and their tickets count every booking."""
    first, second = limiters(), limiters()
    rate = Rate(3, 10.0)
    now = time.monotonic()
    booked = [
        limiter.reserve("example.org", [rate], 0.5, now=now, max_cooldown=60)
        for limiter in (first, second, first, second, second, first, second)
    ]
    starts = [b.start for b in booked]
    assert within(starts, rate)
    assert all(b - a >= 0.5 - 0.01 for a, b in itertools.pairwise(starts))
    assert starts[3] >= starts[0] + 10 - 0.01  # the fourth waits for the first's window
    assert [b.ticket for b in booked] == list(range(7))
    # Another key is another budget.
    other = second.reserve("other.org", [rate], 0.5, now=time.monotonic(), max_cooldown=60)
    assert other.ticket == 0 and other.start <= time.monotonic() + 1


def test_a_pause_and_advertised_limits_hold_for_every_process(limiters):
    first, second = limiters(), limiters()
    now = time.monotonic()
    first.pause("slow.org", now + 600, "Retry-After: 600")
    with pytest.raises(ServerCooldown) as info:
        second.reserve("slow.org", [], 0, now=time.monotonic(), max_cooldown=120)
    assert info.value.reason == "Retry-After: 600"
    assert info.value.until == pytest.approx(now + 600, abs=2)
    # A server's advertised policy (2 per 60 s, less the margin: 1) learned by one limiter
    # paces the other.
    ticket = first.reserve("api.org", [], 0, now=time.monotonic(), max_cooldown=120).ticket
    first.learn("api.org", ServerAdvice(policies=(Rate(2, 60.0),)), ticket, now=time.monotonic())
    with pytest.raises(ServerCooldown, match="advertised"):
        second.reserve("api.org", [], 0, now=time.monotonic(), max_cooldown=30)


def test_a_lost_database_connection_is_an_error_or_a_new_connection_never_a_hang(pg_url, tmp_path):
    """The server ends the budget's session (as a restart does): the next booking reconnects;
    a session lost in the middle of a booking fails it with `BudgetStoreError` and leaves the
    limiter usable (it used to wait forever on its own lock)."""
    import threading

    from harvester.fetch.shared import BudgetStoreError

    limiter = open_budget(pg_url, tmp_path)
    store = limiter.store

    def end_its_session() -> None:
        with psycopg.connect(pg_url, autocommit=True) as con:
            con.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                        "WHERE application_name = 'harvester budget'")  # fmt: skip

    try:
        limiter.reserve("a.org", [], 0, now=time.monotonic(), max_cooldown=60)
        end_its_session()
        assert limiter.reserve("a.org", [], 0, now=time.monotonic(), max_cooldown=60).ticket == 1
        failed: list[BaseException] = []

        def book_while_the_session_ends() -> None:
            try:
                with store.bucket("a.org"):
                    end_its_session()
            except BudgetStoreError as exc:
                failed.append(exc)

        booking = threading.Thread(target=book_while_the_session_ends)
        booking.start()
        booking.join(30)
        assert not booking.is_alive(), "the booking hangs"
        assert failed and PASSWORD not in str(failed[0])
        assert limiter.reserve("a.org", [], 0, now=time.monotonic(), max_cooldown=60).ticket == 2
    finally:
        limiter.close()


def test_budget_store_is_checked_when_the_config_loads(tmp_path):
    from harvester.config import parse_config

    base = {"sources": {"a": {"plugin": "textdump"}}, "sinks": {"b": {"plugin": "jsonl"}}}
    with pytest.raises(ConfigError, match=r"\[fetch\]: budget_store must be postgresql"):
        parse_config({**base, "fetch": {"budget_store": "redis://x"}})
    with pytest.raises(ConfigError, match=r"sources.a.fetch.budget_store"):
        parse_config({**base, "sources": {"a": {"fetch": {"budget_store": "sqlite:///x.db"}}}})


# -- static shards: real processes, one budget ----------------------------------------------------

DAYS_PER_SHARD, SHARDS = 6, 3
BUDGET = (8, 2)  # the server allows 8 requests per 2-second window, for everyone together


def shard_config(tmp_path: Path, server: LocalServer, budget_store: str, sink: str) -> Path:
    config = tmp_path / "shard.toml"
    config.write_text(
        f"""
[run]
rejects = "out/rejects.jsonl"
[fetch]
min_interval = 0
max_attempts = 1
budget_store = "{budget_store}"
budgets = {{ "127.0.0.1" = "8/2s" }}
[sources.hf]
plugin = "hf-papers"
base_url = "{server.url("")}"
daily_from = {FIRST_DAY}
{sink}
""",
        encoding="utf-8",
    )
    return config


def start_shard(config: Path, n: int, *extra: str) -> subprocess.Popen | clirun.ForkedPopen:
    first = FIRST_DAY + dt.timedelta(days=n * DAYS_PER_SHARD)
    last = first + dt.timedelta(days=DAYS_PER_SHARD - 1)
    return clirun.popen(
        [sys.executable, "-m", "harvester.cli", "run", str(config),
         "--set", f"sources.hf.daily_from={first}", "--set", f"sources.hf.daily_to={last}",
         *extra],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip


@LOOPBACK
@pytest.mark.parametrize("store", ["sqlite", "postgresql"])
def test_shards_splitting_a_range_share_one_budget(tmp_path, store, request):
    with LocalServer() as server:
        server.enforce_budget(*BUDGET)
        days = [FIRST_DAY + dt.timedelta(days=n) for n in range(DAYS_PER_SHARD * SHARDS)]
        for n, day in enumerate(days):
            page = daily_page_2026(make_items(3, day=day, seed=n + 1), day=day)
            server.route(f"/papers/date/{day}", ok(page, content_type="text/html"))
        if store == "postgresql":  # the recipe: state, sink and budget in one database
            url = request.getfixturevalue("pg_url")
            sink = f'[sinks.db]\nplugin = "postgres"\nurl = "{url}"\n'
            config = shard_config(tmp_path, server, url, sink)
            shards = [start_shard(config, n, "--set", f'run.state="{url}?name=shard-{n}"',
                                  "--set", f'run.rejects="out/rejects-{n}.jsonl"')
                      for n in range(SHARDS)]  # fmt: skip
        else:
            sink = '[sinks.out]\nplugin = "jsonl"\npath = "out/papers.jsonl"\n'
            config = shard_config(tmp_path, server, f"sqlite:///{tmp_path / 'b.db'}", sink)
            shards = [start_shard(config, n, "--set", f'sinks.out.path="out/{n}.jsonl"',
                                  "--set", f'run.rejects="out/rejects-{n}.jsonl"')
                      for n in range(SHARDS)]  # fmt: skip
        results = [shard.communicate(timeout=120) for shard in shards]
        rejected, requests = server.rejected, len(server.requests)
    for shard, (_, stderr) in zip(shards, results, strict=True):
        assert shard.returncode == 0, stderr
        assert PASSWORD not in stderr
    assert rejected == 0, f"{rejected} of {requests} requests were refused with 429"
    assert requests == len(days) + SHARDS  # each page once, and each shard's robots.txt
    if store == "postgresql":
        with psycopg.connect(url) as con:
            refs = [r[0] for r in con.execute("SELECT source_ref FROM sightings")]
            assert PASSWORD not in json.dumps(
                con.execute("SELECT array_agg(bucket::text) FROM harvester_budget").fetchone()
            )
    else:
        refs = [json.loads(line)["source_ref"] for n in range(SHARDS)
                for line in (tmp_path / "out" / f"{n}.jsonl").read_text().splitlines()]  # fmt: skip
    assert len(refs) == 3 * len(days) and {r.rsplit("/", 1)[-1].split("#")[0] for r in refs} >= {
        str(d) for d in days
    }
