"""Every store reads back the same harvest: the five real seeds run once into SQLite, PostgreSQL,
JSONL and Parquet (records and papers), then read through `harvester.store` and through
`harvester export`, `report` and `history` as real subprocesses: the same 316 papers, the same
bibliographies byte for byte, the same history. Also: the record-log replay against the SQLite
sink on random dump/listing batches, and two identical runs giving identical outputs."""

from __future__ import annotations

import json
import re
import tempfile
from pathlib import Path

import pytest
from harvester_plugins.store.replay import replay
from hypothesis import HealthCheck, given, settings

from harvester import open_store
from tests import pg
from tests.conftest import SHARED
from tests.paper_factory import run_harvester
from tests.store_cases import dump_and_listing_batches, make_batches, make_paper
from tests.test_sqlite_sink import run as sqlite_run

SEED_PAPERS = 316  # the five seeds hold 369 entries of 316 papers


def seeds_config(folder: Path, pg: str | None, *, extra: str = "") -> Path:
    seeds = sorted(str(p) for p in (SHARED / "seeds").glob("*.txt"))
    postgres = f'\n[sinks.pg]\nplugin = "postgres"\nurl = "{pg}"\n' if pg else ""
    config = folder / "run.toml"
    config.write_text(
        f"""
[sources.dumps]
plugin = "textdump"
inputs = {json.dumps(seeds)}
captured_on = 2025-12-10

[sinks.jsonl]
path = "out/papers.jsonl"

[sinks.sqlite]
path = "out/papers.db"

[sinks.parquet]
path = "out/records"

[sinks.parquet-papers]
plugin = "parquet"
path = "out/papers"
rows = "papers"
{postgres}{extra}""",
        encoding="utf-8",
    )
    return config


@pytest.fixture(scope="module")
def stores(tmp_path_factory, pg_server) -> dict[str, str]:
    """The seeds run once into every store: kind -> location."""
    if not (SHARED / "seeds").is_dir():
        pytest.skip("../shared is not available here")
    folder = tmp_path_factory.mktemp("seed-stores")
    pg = pg_server.url(pg_server.create_database())
    run_harvester("run", "-q", seeds_config(folder, pg))
    out = folder / "out"
    return {
        "sqlite": str(out / "papers.db"),
        "postgres": pg,
        "jsonl": str(out / "papers.jsonl"),
        "parquet": str(out / "records"),
        "parquet-papers": str(out / "papers"),
    }


def test_every_store_gives_the_same_papers_sightings_and_history(shared_dir, stores):
    read = {}
    for kind, location in stores.items():
        with open_store(location) as store:
            assert store.name == kind.removesuffix("-papers")
            read[kind] = (store.papers(), store.sightings(), store.observations())
    papers, sightings, observations = read["sqlite"]
    assert len(papers) == SEED_PAPERS and len(sightings) == 369 and observations
    for kind, (got_papers, got_sightings, got_observations) in read.items():
        assert got_papers == papers, kind
        if kind != "parquet-papers":  # a papers folder keeps each paper's latest sighting
            assert got_sightings == sightings, kind
            assert got_observations == observations, kind


@pytest.mark.parametrize("fmt", ["bibtex", "csl-json", "ris"])
def test_export_from_every_store_is_the_same_file(shared_dir, stores, fmt):
    exported = {k: run_harvester("export", "-f", fmt, v).stdout for k, v in stores.items()}
    first = exported["sqlite"]
    assert all(text == first for text in exported.values())
    if fmt == "bibtex":
        assert first.count("\n@misc{") + first.startswith("@misc{") == SEED_PAPERS


def test_report_from_every_store_lists_the_same_papers(shared_dir, stores, tmp_path):
    listed = {}
    for kind, location in stores.items():
        page = tmp_path / f"{kind}.html"
        done = run_harvester("report", location, "--html", page)
        assert f"report of {SEED_PAPERS} papers" in done.stderr
        html = page.read_text(encoding="utf-8")
        table = html[html.index('<table id="papers-table">') :]
        listed[kind] = table
    keys = re.findall(r'<tr data-key="([^"]+)"', listed["sqlite"])
    assert len(keys) == len(set(keys)) == SEED_PAPERS
    assert all(table == listed["sqlite"] for table in listed.values())


def test_history_from_every_store_is_the_same(shared_dir, stores):
    with open_store(stores["sqlite"]) as store:
        key = store.observations()[0].key
    answers = {k: run_harvester("history", v, key, "--json").stdout for k, v in stores.items()}
    assert answers["sqlite"].strip() and all(a == answers["sqlite"] for a in answers.values())


def test_two_identical_runs_give_identical_exports_and_feeds(shared_dir, tmp_path):
    extra = """
[sinks.feed]
path = "out/papers.atom"

[sinks.json-feed]
plugin = "feed"
path = "out/papers.json"
format = "json"

[sinks.bib]
plugin = "bibtex"
path = "out/papers.bib"
"""
    outputs = []
    for name in ("first", "second"):
        folder = tmp_path / name
        folder.mkdir()
        run_harvester("run", "-q", seeds_config(folder, None, extra=extra))
        out = folder / "out"
        files = {f: (out / f).read_bytes() for f in ("papers.atom", "papers.json", "papers.bib")}
        for fmt in ("bibtex", "ris"):
            files[fmt] = run_harvester("export", "-f", fmt, out / "records").stdout.encode()
        outputs.append(files)
    assert outputs[0] == outputs[1]


# -- the record-log replay is the database merge ----------------------------------------------


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(dump_and_listing_batches())
def test_a_replayed_log_holds_what_the_sqlite_sink_holds(spec):
    batches = make_batches(spec, 1)
    log = replay(batches)
    with tempfile.TemporaryDirectory() as tmp:
        sqlite_run(Path(tmp), *batches)
        with open_store(str(Path(tmp) / "papers.db")) as store:
            assert log.papers() == store.papers()
            assert log.sightings() == store.sightings()
            assert log.observations() == store.observations()


def test_a_jsonl_log_keeps_two_points_of_one_second(tmp_path):
    from tests.paper_factory import write_jsonl

    records = [make_paper(1, upvotes=10), make_paper(1, upvotes=12), make_paper(1, upvotes=12)]
    sqlite_run(tmp_path, *([r] for r in records))
    path = write_jsonl(tmp_path / "log.jsonl", records)
    with open_store(str(path)) as log, open_store(str(tmp_path / "papers.db")) as db:
        points = [(o.seq, o.upvotes) for o in log.observations()]
        assert points == [(0, 10), (1, 12)]
        assert log.observations() == db.observations() and log.papers() == db.papers()


def test_a_location_no_store_claims_is_a_usage_error(tmp_path):
    (tmp_path / "notes.txt").write_text("not papers\n", encoding="utf-8")
    done = run_harvester("export", "-f", "bibtex", tmp_path / "notes.txt", check=False)
    assert done.returncode == 2 and "not a store harvester can read" in done.stderr
    missing = run_harvester("report", tmp_path / "gone", "--html", tmp_path / "r.html", check=False)
    assert missing.returncode == 2 and "no such file or folder" in missing.stderr
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"key": "x"}\n', encoding="utf-8")
    done = run_harvester("history", bad, "x", check=False)
    assert done.returncode == 2 and f"{bad}:1" in done.stderr


def test_plugins_lists_the_store_kinds():
    rows = json.loads(run_harvester("plugins").stdout)
    stores = {r["name"] for r in rows if r["kind"] == "store"}
    assert stores == {"sqlite", "postgres", "jsonl", "parquet"}


def test_export_from_postgres_and_a_closed_port_is_a_clear_error(pg_url, tmp_path):
    sqlite_run(tmp_path, [make_paper(1), make_paper(2)])
    from tests.test_postgres_sink import run as pg_run

    pg_run(pg_url, [make_paper(1), make_paper(2)])
    assert (
        run_harvester("export", "-f", "ris", pg_url).stdout
        == run_harvester("export", "-f", "ris", tmp_path / "papers.db").stdout
    )
    closed = re.sub(r":\d+/", ":1/", pg_url)  # nothing listens on port 1
    failed = run_harvester("export", "-f", "ris", closed, check=False)
    assert failed.returncode == 2 and "cannot connect" in failed.stderr
    assert pg.PASSWORD not in failed.stderr  # the URL is named without its password


@pytest.mark.parametrize(
    ("day", "items", "listed"),
    [("2024-05-27", 13, None), ("2026-07-21", 25, "2026-07-21")],
)
def test_pandas_reads_the_parquet_of_the_real_api_days(shared_dir, tmp_path, day, items, listed):
    """The real API responses through a run into both Parquet layouts: `pandas.read_parquet`
    on the folder, as it is called plainly (the oldest day's items carry no listing day)."""
    import pandas as pd

    response = shared_dir / "reference/real" / f"daily_papers_{day}.json"
    config = tmp_path / "api.toml"
    config.write_text(
        f"""
[sources.api]
plugin = "hf-api"
inputs = ["{response}"]

[sinks.records]
plugin = "parquet"
path = "out/records"

[sinks.papers]
plugin = "parquet"
path = "out/papers"
rows = "papers"
""",
        encoding="utf-8",
    )
    run_harvester("run", "-q", config)
    for folder in ("records", "papers"):
        frame = pd.read_parquet(tmp_path / "out" / folder)
        assert len(frame) == items and frame["key"].is_unique
        days = {None if pd.isna(d) else d.isoformat() for d in frame["listing_date"]}
        assert days == {listed}
