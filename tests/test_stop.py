"""Prompt stops through the CLI: a `harvester run` waiting on a slow server, a retry's back-off
or a budget wait stops within moments of SIGTERM or SIGINT, not when the wait is over. The
target it was waiting for ends `stopped` (nothing of it published), the targets done before it
stay done, and the next run does the rest.

Each wait below would hold the run 60 s or more; the bound asserted is 15 s, far from both
(the stop itself takes well under 2 s: see the figure in docs/fetching.md)."""

from __future__ import annotations

import datetime as dt
import json
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.fixtures.hf_site import daily_page_2026, make_items
from tests.localserver import LOOPBACK, LocalServer, Reply, ok

from . import clirun

pytestmark = LOOPBACK

HARVESTER = [sys.executable, "-m", "harvester.cli"]
FIRST_DAY = dt.date(2024, 2, 1)
HELD_FOR = 60.0  # seconds each wait below would hold the run


def page(n: int) -> bytes:
    day = FIRST_DAY + dt.timedelta(days=n)
    return daily_page_2026(make_items(3, day=day, seed=n + 1), day=day).encode()


def slow_body(n: int) -> Reply:
    """The headers at once, then the body one byte every 0.5 s (`HELD_FOR` s in all)."""
    body = page(n)[: int(HELD_FOR * 2)]
    return Reply(200, body, {}, "drip", drip_interval=0.5, drip_head=False)


# what blocks the second day's fetch: (its replies, extra [fetch] settings)
WAITS = {
    "a slow body": ([slow_body(1)], ""),
    "a retry back-off": (
        [Reply(503, b"busy", {"Retry-After": f"{HELD_FOR:g}"}), ok(page(1))],
        "",
    ),
    "a budget wait": ([ok(page(1))], f'budgets = {{ "127.0.0.1" = "1/{HELD_FOR:g}s" }}'),
}


def write_config(tmp: Path, server: LocalServer, fetch: str) -> Path:
    config = tmp / "run.toml"
    config.write_text(
        f"""
[run]
state = "state"
rejects = "out/rejects.jsonl"
[fetch]
min_interval = 0
robots = false
per_host_concurrency = 1  # the days in order: the first takes a budget of one at once
{fetch}
[sources.hf]
plugin = "hf-papers"
base_url = "{server.url("")}"
daily_from = {FIRST_DAY}
daily_to = {FIRST_DAY + dt.timedelta(days=1)}
[sinks.out]
plugin = "jsonl"
path = "out/papers.jsonl"
""",
        encoding="utf-8",
    )
    return config


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT])
@pytest.mark.parametrize("wait", list(WAITS))
def test_a_stop_cuts_a_wait_short_and_the_next_run_does_the_rest(tmp_path, wait, signum):
    replies, fetch = WAITS[wait]
    days = [FIRST_DAY + dt.timedelta(days=n) for n in range(2)]
    with LocalServer() as server:
        server.route(f"/papers/date/{days[0]}", ok(page(0), content_type="text/html"))
        server.route(f"/papers/date/{days[1]}", *replies)
        config = write_config(tmp_path, server, fetch)
        summary = tmp_path / "summary.json"
        proc = clirun.popen(
            [*HARVESTER, "run", str(config), "--summary-json", str(summary)],
            stderr=subprocess.PIPE, text=True,
        )  # fmt: skip
        try:
            limit = time.monotonic() + 60
            while server.hits(f"/papers/date/{days[0]}") < 1:  # under way
                assert proc.poll() is None and time.monotonic() < limit
                time.sleep(0.01)
            time.sleep(1.0)  # the second day is now waiting
            stopped_at = time.monotonic()
            proc.send_signal(signum)
            _, stderr = proc.communicate(timeout=HELD_FOR)
            took = time.monotonic() - stopped_at
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
        assert proc.returncode == 3, stderr
        assert took < 15, f"took {took:.1f} s to stop"
        assert "Traceback" not in stderr
        outcomes = {
            t["target"].rsplit("/", 1)[-1]: t["outcome"]
            for t in json.loads(summary.read_text())["sources"][0]["targets"]
        }
        assert outcomes == {str(days[0]): "complete", str(days[1]): "stopped"}
        # the first day's papers were committed (an append output, with state); none of the
        # second day's: a stopped target publishes nothing
        assert sightings(tmp_path) == [str(days[0])] * 3
        # The next run (the site now answers at once) does the second day only.
        server.route(f"/papers/date/{days[1]}", ok(page(1), content_type="text/html"))
        fetch = fetch.replace(f"1/{HELD_FOR:g}s", "none")
        write_config(tmp_path, server, fetch)
        rerun = clirun.run([*HARVESTER, "run", str(config)], capture_output=True,
                               text=True, timeout=120)  # fmt: skip
    assert rerun.returncode == 0, rerun.stderr
    assert sightings(tmp_path) == [str(days[0])] * 3 + [str(days[1])] * 3
    assert server.hits(f"/papers/date/{days[0]}") == 1


def sightings(tmp: Path) -> list[str]:
    """The listing day of every record in the JSONL output, in order."""
    out = tmp / "out" / "papers.jsonl"
    lines = out.read_text().splitlines() if out.exists() else []
    return [json.loads(line)["source_ref"].rsplit("/", 1)[-1].split("#")[0] for line in lines]
