"""Secrets never leak: a token in the config's fetch headers and a cookie the server sets reach
the server (they are used) but never the logs (-vv), the summary, rejects, state or output."""

from __future__ import annotations

import datetime as dt
import sys
from pathlib import Path

from tests.fixtures.hf_site import daily_page_2026, make_items
from tests.localserver import LOOPBACK, LocalServer, ok, redirect, status

from . import clirun

pytestmark = LOOPBACK

TOKEN = "SECRET-TOKEN-7f3a9c"
COOKIE = "COOKIE-SECRET-51d2e8"
DAY = dt.date(2024, 5, 1)
HARVESTER = [sys.executable, "-m", "harvester.cli"]


def page(day: dt.date, *, bad_item: bool = False, **kwargs) -> bytes:
    items = make_items(4, day=day, seed=day.day)
    if bad_item:
        items[2]["paper"]["upvotes"] = "lots"  # rejected: the reject must not carry secrets
    return daily_page_2026(items, day=day).encode()


def serve(server: LocalServer) -> list[dt.date]:
    days = [DAY + dt.timedelta(days=n) for n in range(4)]
    html = "text/html; charset=utf-8"
    cookie = {"Set-Cookie": f"session={COOKIE}; Path=/; HttpOnly"}
    server.route(f"/papers/date/{days[0]}", ok(page(days[0]), content_type=html, headers=cookie))
    server.route(  # a retry is logged
        f"/papers/date/{days[1]}", status(500), ok(page(days[1], bad_item=True), content_type=html)
    )
    server.route(f"/papers/date/{days[2]}", status(404, b"gone"))  # a failure is reported
    server.route(f"/papers/date/{days[3]}", redirect(f"/papers/date/{days[0]}"))  # an empty day
    return days


def test_tokens_and_cookies_never_reach_logs_summary_rejects_state_or_output(tmp_path: Path):
    with LocalServer() as server:
        days = serve(server)
        config = tmp_path / "run.toml"
        config.write_text(
            f"""
[run]
state = "state"
rejects = "out/rejects.jsonl"

[fetch]
min_interval = 0
backoff_initial = 0
max_attempts = 2
cookies = true   # a jar, so the server's cookie is sent back (and must never be written)
per_host_concurrency = 1   # one page at a time: the cookie is known before the next request
headers = {{Authorization = "Bearer {TOKEN}", X-Api-Key = "{TOKEN}", Private-Token = "{TOKEN}"}}

[sources.hf]
plugin = "hf-papers"
base_url = "{server.url("")}"
daily_from = {days[0]}
daily_to = {days[-1]}

[sinks.jsonl]
path = "out/papers.jsonl"

[sinks.db]
plugin = "sqlite"
path = "out/papers.db"
""",
            encoding="utf-8",
        )
        summary = tmp_path / "summary.json"
        proc = clirun.run(
            [*HARVESTER, "-vv", "run", str(config), "--summary-json", str(summary)],
            capture_output=True,
            text=True,
            timeout=60,
        )
        sent = [r.headers for r in server.requests]
        server_paths = [r.path for r in server.requests]
    assert proc.returncode == 3, proc.stderr  # the 404 day failed
    # The secrets were really in play: sent to the server, and the cookie sent back.
    pages = [h for h, r in zip(sent, server_paths, strict=True) if r != "/robots.txt"]
    assert all(h.get("authorization") == f"Bearer {TOKEN}" for h in pages)
    assert all(h.get("private-token") == TOKEN for h in pages)
    assert any(COOKIE in h.get("cookie", "") for h in sent)
    # The run did log at length (-vv), including the retried and the failed URLs.
    assert "INFO" in proc.stderr and "500" in proc.stderr and "404" in proc.stderr
    out = tmp_path / "out"
    assert (out / "rejects.jsonl").read_text().count("\n") == 1
    files = [p for p in tmp_path.rglob("*") if p.is_file()]
    places = {
        "stderr": proc.stderr.encode(),
        "stdout": proc.stdout.encode(),
        "summary": summary.read_bytes(),
        **{str(p.relative_to(tmp_path)): p.read_bytes() for p in files},
    }
    places.pop("run.toml")  # where the token is configured
    assert "state/state.json" in places and "out/papers.db" in places
    for where, data in places.items():
        for secret in (TOKEN, COOKIE):
            assert secret.encode() not in data, f"{secret} leaked into {where}"
