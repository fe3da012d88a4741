"""Whole runs of config/hf-daily.toml, in process, replayed from the recorded week's cassette.

The week (hf_gen.WEEK, 2026-10-05..11) lies more than `refresh_days` before any date these tests
run on, so a second run with state skips it unless the refresh window is widened on purpose.
"""

from __future__ import annotations

import datetime as dt
import json
import re
import sqlite3
import time
import tomllib
from pathlib import Path

import pytest
from harvester_plugins.hf_api import HfApiSource
from harvester_plugins.hf_papers import HfPapersSource

from harvester.api import RunContext
from harvester.config import RunConfig, apply_override, load_config, parse_config
from harvester.harvest import Harvest
from harvester.normalise import title_key
from tests.fixtures import hf_gen

ROOT = Path(__file__).resolve().parent.parent
CONFIG = ROOT / "config" / "hf-daily.toml"
CASSETTE = "hf_papers_week_2026-10-05.yaml"
SITE = "https://huggingface.co"
WEEK = hf_gen.WEEK
REDIRECTED = f"{SITE}/papers/date/{hf_gen.REDIRECTED_DAY}"
ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
# every paper of the recorded week: arXiv id -> (listing day, generator item)
EXPECTED = {i["paper"]["id"]: (d, i) for d in WEEK for i in hf_gen.week_day_items(d)}


@pytest.fixture(scope="module")
def vcr_config():
    return {
        "filter_headers": ["authorization", "cookie", "set-cookie"],
        "decode_compressed_response": True,
        "record_mode": "none",
        "allow_playback_repeats": True,  # a second run in the same test re-reads recent days
    }


@pytest.fixture(scope="module")
def vcr_cassette_dir():
    return str(ROOT / "cassettes")


def overrides(tmp_path: Path, *extra: str) -> list[str]:
    """The shipped config, writing under tmp_path, over the recorded week, without waits."""
    return [
        f'run.base_dir="{tmp_path}"',
        f"sources.hf-daily.daily_from={WEEK[0]}",
        f"sources.hf-daily.daily_to={WEEK[-1]}",
        "fetch.min_interval=0",
        *extra,
    ]


def config_with(tmp_path: Path, sources: dict[str, dict], *extra: str) -> RunConfig:
    """The shipped config with `sources` (label -> table, in this order) instead of its own."""
    data = tomllib.loads(CONFIG.read_text(encoding="utf-8"))
    shipped = data["sources"]["hf-daily"]
    data["sources"] = {
        label: (shipped | table if label == "hf-daily" else table)
        for label, table in sources.items()
    }
    for item in overrides(tmp_path, *extra):
        if item.startswith("sources.hf-daily.") and "hf-daily" not in sources:
            continue
        apply_override(data, item, file=str(CONFIG))
    return parse_config(data, path=CONFIG)


def harvest(config: RunConfig):
    """Run `config`, in a later wall-clock second than any earlier run of the test.

    The run journal identifies a run by its start time to the second (harvest.py), and a target
    done by a run that started in the same second counts as "done earlier in this same resumed
    run"; two runs in one second would look like one. Waiting for the next second keeps the runs
    distinct (at most 1 s) until the journal carries a run id.
    """
    started = dt.datetime.now(dt.UTC).replace(microsecond=0)
    while dt.datetime.now(dt.UTC).replace(microsecond=0) == started:
        time.sleep(0.02)
    return Harvest(config).run()


def jsonl(tmp_path: Path) -> list[dict]:
    path = tmp_path / "out" / "hf-daily.jsonl"
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def rows(tmp_path: Path, where: str = "", params: tuple = ()) -> list[dict]:
    con = sqlite3.connect(tmp_path / "out" / "hf-daily.db")
    con.row_factory = sqlite3.Row
    try:
        return [dict(r) for r in con.execute(f"SELECT * FROM papers {where}", params)]
    finally:
        con.close()


def write_dump(path: Path, title: str, day: dt.date) -> Path:
    """A tiny text dump (textdump format) listing one paper, without an arXiv id."""
    path.write_text(
        f"Daily Papers\n\n{hf_gen.shown_date(day, with_year=False)}\n\n{title}\n\n"
        "An abstract copied from the page text.\n",
        encoding="utf-8",
    )
    return path


def check_record(record: dict) -> None:
    """One JSONL record or SQLite row against the generator item it came from."""
    day, item = EXPECTED[record["arxiv_id"]]
    paper = item["paper"]
    authors = record["authors"]
    if isinstance(authors, str):  # SQLite stores the list as JSON text
        authors = json.loads(authors)
    assert record["key"] == f"arxiv:{paper['id']}"
    assert authors == [a["name"] for a in paper["authors"]]
    assert record["author_count"] == len(paper["authors"])
    assert (record["upvotes"], record["comments"]) == (paper["upvotes"], item["numComments"])
    assert record["organization"] == (item.get("organization") or {}).get("fullname")
    assert record["published"] == paper["publishedAt"][:10]
    assert record["listing_date"] == day.isoformat()
    assert ISO_DATE.match(record["published"]) and ISO_DATE.match(record["listing_date"])
    assert record["url"] == f"{SITE}/papers/{paper['id']}"


@pytest.mark.vcr(CASSETTE)
def test_a_recorded_week_is_written_once_with_full_fields(tmp_path):
    report = Harvest(load_config(CONFIG, overrides(tmp_path))).run()

    assert report.exit_status == 0
    (source,) = report.sources
    assert (source.targets, source.written, source.failed) == (7, len(EXPECTED), [])
    assert source.empty == [REDIRECTED]  # reported empty, not as the previous day's papers
    assert report.fetch["requests"] == 8  # 7 days + the redirect hop, no retries
    assert (report.fetch["retries"], report.fetch["give_ups"]) == (0, 0)

    records = jsonl(tmp_path)
    assert len(records) == len(EXPECTED)
    per_day: dict[str, list[str]] = {}
    for record in records:
        per_day.setdefault(record["listing_date"], []).append(record["key"])
        check_record(record)
        assert record["source"] == "hf-papers"
        assert dt.datetime.fromisoformat(record["harvested_at"]).tzinfo is not None
    assert all(len(keys) == len(set(keys)) for keys in per_day.values())
    assert {r["arxiv_id"] for r in records} == set(EXPECTED)
    assert str(hf_gen.REDIRECTED_DAY) not in per_day

    stored = rows(tmp_path)
    assert len(stored) == len({r["arxiv_id"] for r in stored}) == len(EXPECTED)
    for row in stored:
        check_record(row)
    assert (tmp_path / "out" / "hf-daily.rejects.jsonl").read_text() == ""


@pytest.mark.vcr(CASSETTE)
def test_a_second_run_skips_done_days_outside_the_refresh_window(tmp_path):
    assert Harvest(load_config(CONFIG, overrides(tmp_path))).run().exit_status == 0
    first_jsonl = (tmp_path / "out" / "hf-daily.jsonl").read_bytes()
    first_rows = rows(tmp_path)
    state = json.loads((tmp_path / "out" / "state" / "hf-daily" / "state.json").read_text())
    assert len(state["sources"]["hf-daily"]["done"]) == 7

    # Widen the window to the week's last two days: only they are read again.
    today = dt.datetime.now(dt.UTC).date()
    window = f"run.refresh_days={(today - WEEK[-2]).days}"
    report = harvest(load_config(CONFIG, overrides(tmp_path, window)))
    (source,) = report.sources
    assert report.exit_status == 0
    assert (source.skipped, source.targets, source.failed) == (5, 2, [])
    assert source.empty == [REDIRECTED]
    refreshed = hf_gen.week_day_items(WEEK[-2])
    assert source.written == len(refreshed)
    # the JSONL is an append-only log: the first run's lines stay, the re-read day is appended
    after = (tmp_path / "out" / "hf-daily.jsonl").read_bytes()
    assert after.startswith(first_jsonl)
    appended = [json.loads(line) for line in after[len(first_jsonl) :].splitlines()]
    assert sorted(r["arxiv_id"] for r in appended) == sorted(i["paper"]["id"] for i in refreshed)
    for record in appended:
        check_record(record)
    # SQLite: still one row per paper, with the same values
    second_rows = rows(tmp_path)
    assert len(second_rows) == len(EXPECTED)
    drop = ("last_seen", "harvested_at")
    assert [{k: v for k, v in r.items() if k not in drop} for r in second_rows] == [
        {k: v for k, v in r.items() if k not in drop} for r in first_rows
    ]

    # refresh_days = 0: every day of the week is done and old, nothing is fetched
    report = harvest(load_config(CONFIG, overrides(tmp_path, "run.refresh_days=0")))
    (source,) = report.sources
    assert (source.skipped, source.targets, source.written) == (7, 0, 0)
    assert report.exit_status == 0 and report.fetch is None  # no fetcher was even built
    assert (tmp_path / "out" / "hf-daily.jsonl").read_bytes() == after
    assert len(rows(tmp_path)) == len(EXPECTED)


@pytest.mark.parametrize("dump_first", [True, False], ids=["dump-first", "listing-first"])
@pytest.mark.vcr(CASSETTE)
def test_a_dump_record_and_a_listing_record_of_one_paper_are_one_row(tmp_path, dump_first):
    day = WEEK[1]
    item = hf_gen.week_day_items(day)[0]
    title, arxiv_id = item["title"], item["paper"]["id"]
    dump = write_dump(tmp_path / "dump.txt", title, day)
    sources = {
        "dump": {"plugin": "textdump", "inputs": [str(dump)], "captured_on": day},
        "hf-daily": {},
    }
    if not dump_first:
        sources = dict(reversed(sources.items()))
    report = Harvest(config_with(tmp_path, sources)).run()
    assert report.exit_status == 0

    # the JSONL is the stream: the dump's record keeps its own (title) key there
    dumped = [r for r in jsonl(tmp_path) if r["source"] == "textdump"]
    assert [(r["key"], r["arxiv_id"]) for r in dumped] == [(title_key(title), None)]
    # SQLite: one row, joined on the title, carrying the listing's arXiv id and authors
    (row,) = rows(tmp_path, "WHERE title_key = ?", (title_key(title),))
    assert (row["key"], row["arxiv_id"]) == (f"arxiv:{arxiv_id}", arxiv_id)
    assert json.loads(row["authors"]) == [a["name"] for a in item["paper"]["authors"]]
    assert row["upvotes"] == item["paper"]["upvotes"]
    assert len(rows(tmp_path)) == len(EXPECTED)


@pytest.mark.vcr(CASSETTE)
def test_two_papers_with_one_title_and_different_arxiv_ids_stay_two_rows(tmp_path):
    day = WEEK[1]
    item = hf_gen.week_day_items(day)[0]
    title, arxiv_id = item["title"], item["paper"]["id"]
    namesake = hf_gen.make_item(0, day=day, seed=42)
    namesake["title"] = namesake["paper"]["title"] = title
    namesake["paper"]["id"] = other_id = "2609.99999"
    saved = tmp_path / "saved.html"  # a saved listing page: local files work in a run too
    saved.write_text(hf_gen.render_page([namesake], day=day), encoding="utf-8")
    dump = write_dump(tmp_path / "dump.txt", title, day)  # matches both: ambiguous
    sources = {
        "hf-daily": {},
        "saved": {"plugin": "hf-papers", "inputs": [str(saved)]},
        "dump": {"plugin": "textdump", "inputs": [str(dump)], "captured_on": day},
    }
    report = Harvest(config_with(tmp_path, sources)).run()
    assert report.exit_status == 0
    assert [s.written for s in report.sources] == [len(EXPECTED), 1, 1]

    same_title = rows(tmp_path, "WHERE title_key = ?", (title_key(title),))
    assert sorted((r["arxiv_id"] or "") for r in same_title) == ["", other_id, arxiv_id]
    assert len(rows(tmp_path)) == len(EXPECTED) + 2


def test_a_saved_page_is_read_again_only_when_it_changes(tmp_path):
    day = WEEK[2]
    saved = tmp_path / "saved.html"
    saved.write_text(hf_gen.render_page(hf_gen.make_items(3, day=day), day=day), "utf-8")
    sources = {"saved": {"plugin": "hf-papers", "inputs": ["saved.html"]}}  # base_dir-relative

    def run():
        (source,) = harvest(config_with(tmp_path, sources)).sources
        return source.skipped, source.written

    assert run() == (0, 3)
    assert run() == (1, 0)  # done, unchanged, and not dated: skipped
    saved.write_text(hf_gen.render_page(hf_gen.make_items(4, day=day), day=day), "utf-8")
    assert run() == (0, 4)
    assert len(rows(tmp_path)) == 4


@pytest.mark.parametrize(
    ("target", "day"),
    [
        (f"{SITE}/papers/date/2026-10-06", dt.date(2026, 10, 6)),
        (f"{SITE}/papers/week/2026-W41", dt.date(2026, 10, 11)),  # the week's Sunday
        (f"{SITE}/papers/month/2026-02", dt.date(2026, 2, 28)),
        (f"{SITE}/papers/trending", "today"),  # always the present: always refreshed
        (f"{SITE}/papers?q=sparse", "today"),
        (f"{SITE}/api/daily_papers?date=2026-10-06&limit=50", dt.date(2026, 10, 6)),
        (f"{SITE}/api/daily_papers?week=2026-W41&limit=50", dt.date(2026, 10, 11)),
        (f"{SITE}/api/daily_papers?month=2026-10&limit=50", dt.date(2026, 10, 31)),
        ("saved/2026-10-06.html", None),  # files: their fingerprint decides instead
    ],
)
def test_target_dates_put_recent_listings_in_the_refresh_window(tmp_path, target, day):
    cls = HfApiSource if "/api/" in target else HfPapersSource
    src = cls(cls.Options(), RunContext(base_dir=tmp_path))
    expected = dt.date.today() if day == "today" else day
    assert src.target_date(target) == expected
    assert src.guard_counts
