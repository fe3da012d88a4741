"""An API day that lists nothing: a weekend (no daily list) is an empty day, done; an empty
weekday against a history of full days is held back by the guard: not written, not done, read
again by the next run (it used to be marked done and never fetched again)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from harvester.build import build_plan
from harvester.config import load_config
from harvester.outcomes import TargetOutcome
from harvester.run import Run
from harvester.state import StateStore
from tests.fixtures import hf_site
from tests.localserver import LOOPBACK, LocalServer, json_reply

pytestmark = LOOPBACK

FIRST = dt.date(2024, 3, 4)  # a Monday, long past: outside the refresh window
DAYS = [FIRST + dt.timedelta(days=n) for n in range(7)]  # Monday .. Sunday
EMPTY_WEEKDAY = DAYS[3]  # Thursday


def serve(server: LocalServer, empty: set[dt.date]) -> None:
    for day in DAYS:
        items = [] if day in empty else hf_site.make_items(6, day=day, seed=day.day)
        server.route(f"/api/daily_papers?date={day}&limit=50&p=0", json_reply(items))


def config(tmp: Path, server: LocalServer) -> Path:
    path = tmp / "run.toml"
    path.write_text(
        f'[run]\nstate = "state"\n[fetch]\nmin_interval = 0\nper_host_concurrency = 1\n'
        f'[sources.api]\nplugin = "hf-api"\nbase_url = "{server.url("")}"\n'
        f"daily_from = {DAYS[0]}\ndaily_to = {DAYS[-1]}\n"
        '[sinks.jsonl]\npath = "out/papers.jsonl"\n',
        encoding="utf-8",
    )
    return path


def test_an_empty_weekday_is_held_and_read_again_while_a_weekend_is_empty(tmp_path):
    weekend = {DAYS[5], DAYS[6]}
    with LocalServer() as server:
        serve(server, weekend | {EMPTY_WEEKDAY})
        cfg = config(tmp_path, server)
        first = Run(build_plan(load_config(cfg))).execute().sources[0]
        url = {day: server.url(f"/api/daily_papers?date={day}&limit=50") for day in DAYS}
        [incomplete] = first.with_outcome(TargetOutcome.INCOMPLETE)
        assert incomplete.target == url[EMPTY_WEEKDAY] and not incomplete.published
        assert incomplete.reason.startswith("held back: 0 papers, far fewer than the recent")
        assert sorted(t for t, _ in first.empty) == sorted(url[d] for d in weekend)
        done = StateStore(tmp_path / "state").load().sources["api"].done
        assert url[EMPTY_WEEKDAY] not in done and all(url[d] in done for d in weekend)

        # The next run asks for the held day again (only it); the list is there now.
        serve(server, weekend)
        before = len(server.requests)
        second = Run(build_plan(load_config(cfg))).execute().sources[0]
        asked = [r.path for r in server.requests[before:] if r.path != "/robots.txt"]
    assert asked == [f"/api/daily_papers?date={EMPTY_WEEKDAY}&limit=50&p=0"]
    assert second.counts() == {"complete": 1, "skipped": 6} and second.written == 6
