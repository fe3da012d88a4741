"""One paper from Hugging Face and from arXiv is one row, through real runs (`harvester.run`) into
SQLite and PostgreSQL: each field from the family that leads it (docs/arxiv.md), whichever
source ran first; `arxiv-api` then looks up the store's papers that lack a field (served by a
local server), a newer version updating the row; an older listing read again downgrades
nothing; and a paper the API answered for is not asked again."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest

from harvester.build import build_plan
from harvester.config import load_config
from harvester.outcomes import TargetOutcome
from harvester.readback import open_store
from harvester.run import Run
from harvester.schema import Paper
from tests import pg
from tests.fixtures import hf_site
from tests.fixtures.arxiv_site import Entry, api_entry, api_feed, make_entries, new_page
from tests.localserver import LOOPBACK, LocalServer, ok

pytestmark = LOOPBACK
pg_server = pg.pg_server

DAY = dt.date(2026, 10, 7)  # a Wednesday
NEW = make_entries(2, month="2610")  # 2610.00001-2, version 1
CROSS = make_entries(1, month="2610", start=3, kind="cross-list")  # 2610.00003, version 1
REPLACED = make_entries(1, month="2610", start=4, kind="replacement")  # no version shown
IDS = [e.arxiv_id for e in NEW + CROSS + REPLACED]
KEYS = [f"arxiv:{i}" for i in IDS]
HF_IDS = IDS[:3]  # Hugging Face lists the first three


def hf_items() -> list[dict]:
    """The HF API's items for the papers HF lists: arXiv's id and title, HF's own copy of the
    authors and abstract, and what only HF knows (upvotes, organisation, submitter)."""
    items = hf_site.make_items(len(HF_IDS), day=DAY - dt.timedelta(days=1), seed=7)
    for item, entry in zip(items, NEW + CROSS, strict=True):
        item["paper"]["id"] = entry.arxiv_id
        item["title"] = item["paper"]["title"] = entry.title
        item["organization"] = item["paper"]["organization"] = {
            "_id": "o1", "name": "inventlab", "fullname": "Invent Lab",
        }  # fmt: skip
    return items


def write_configs(tmp: Path, sink: str, base_url: str) -> dict[str, Path]:
    (tmp / "hf.json").write_text(json.dumps(hf_items()), encoding="utf-8")
    page = new_page(DAY, {"new": NEW, "cross-list": CROSS, "replacement": REPLACED})
    (tmp / "new.html").write_bytes(page)
    fetch = "[fetch]\nmin_interval = 0\nrobots = false\nmax_attempts = 1\nbudgets = {}\n"
    store = json.dumps(sink_store(sink))
    configs = {
        "hf": '[sources.hf]\nplugin = "hf-api"\ninputs = ["hf.json"]\n',
        "arxiv": '[sources.arxiv]\nplugin = "arxiv-listing"\ninputs = ["new.html"]\n',
        "lookup": (
            f'{fetch}[sources.lookup]\nplugin = "arxiv-api"\nstore = {store}\n'
            f'lacking = ["arxiv_version", "doi"]\nbase_url = "{base_url}"\n'
        ),
    }
    paths = {}
    for name, text in configs.items():
        paths[name] = tmp / f"{name}.toml"
        paths[name].write_text(f"{text}{sink}", encoding="utf-8")
    return paths


def sink_store(sink: str) -> str:
    """The store the sink section writes: what `store =` names (relative to the config)."""
    return "papers.db" if 'plugin = "sqlite"' in sink else sink.split('url = "')[1].split('"')[0]


def run(config: Path):
    report = Run(build_plan(load_config(config))).execute()
    (source,) = report.sources
    assert source.error is None, source.error
    return source


def papers(location: str) -> dict[str, Paper]:
    with open_store(location) as store:
        return {p.key: p for p in store.papers()}


@pytest.fixture(params=["sqlite", "postgres"])
def sink(request, tmp_path) -> str:
    if request.param == "sqlite":
        return '[sinks.db]\nplugin = "sqlite"\npath = "papers.db"\n'
    server = request.getfixturevalue("pg_server")
    return f'[sinks.db]\nplugin = "postgres"\nurl = "{server.url(server.create_database())}"\n'


def api_answer(server: LocalServer, ids: list[str], entries: list[str]) -> str:
    path = f"/api/query?id_list={','.join(ids)}&max_results={len(ids)}"
    server.route(path, ok(api_feed(entries), content_type="application/atom+xml"))
    return path


def revised(entry: Entry, version: int, abstract: str) -> Entry:
    return Entry(**{**entry.__dict__, "version": version, "abstract": abstract})


def check_one_row_per_paper(rows: dict[str, Paper], items: dict[str, dict]) -> None:
    assert sorted(rows) == KEYS  # one row per paper: HF's three merged into arXiv's
    for entry in NEW + CROSS:
        row, item = rows[f"arxiv:{entry.arxiv_id}"], items[entry.arxiv_id]
        assert row.authors == entry.authors and row.abstract == entry.abstract  # arXiv's
        assert row.categories == entry.categories and row.arxiv_version == 1
        assert row.upvotes == item["paper"]["upvotes"]  # HF's
        assert row.organization == "Invent Lab"
        assert row.submitted_by == item["submittedBy"]["name"]
    assert rows[KEYS[3]].arxiv_version is None and rows[KEYS[3]].upvotes is None


@pytest.mark.parametrize("hf_first", [True, False], ids=["HF first", "arXiv first"])
def test_hf_and_arxiv_make_one_row_each_field_from_its_leader(tmp_path, sink, hf_first):
    with LocalServer() as server:
        configs = write_configs(tmp_path, sink, server.url("/api/query"))
        location = sink_store(sink)
        location = str(tmp_path / location) if "://" not in location else location
        for name in ("hf", "arxiv") if hf_first else ("arxiv", "hf"):
            assert run(configs[name]).counts() == {"complete": 1}
        items = {i["paper"]["id"]: i for i in hf_items()}
        check_one_row_per_paper(papers(location), items)

        # arxiv-api looks up what the store lacks (every DOI, the replacement's version); the
        # API has v2 of the first paper and no record of the third.
        v2 = revised(NEW[0], 2, "The revised abstract of v2.")
        answer = [
            api_entry(v2, doi="10.1000/v2"),
            api_entry(NEW[1]),
            api_entry(revised(REPLACED[0], 3, REPLACED[0].abstract)),
        ]
        path = api_answer(server, IDS, answer)
        lookup = run(configs["lookup"])
        assert server.hits(path) == 1 and lookup.counts() == {"complete": 1}
        rows = papers(location)
        first = rows[KEYS[0]]
        assert (first.arxiv_version, first.abstract, first.doi) == (
            2, "The revised abstract of v2.", "10.1000/v2",
        )  # fmt: skip
        assert first.upvotes == items[IDS[0]]["paper"]["upvotes"]  # HF's counts untouched
        assert rows[KEYS[3]].arxiv_version == 3

        # Next lookup: only the paper the API had no record of; the others were answered.
        retry = api_answer(server, [IDS[2]], [api_entry(CROSS[0], doi="10.1000/c3")])
        assert run(configs["lookup"]).counts() == {"complete": 1}
        assert server.hits(retry) == 1 and papers(location)[KEYS[2]].doi == "10.1000/c3"

        # The v1 listing read again: nothing goes back to v1.
        run(configs["arxiv"])
        again = papers(location)[KEYS[0]]
        assert (again.arxiv_version, again.abstract, again.doi) == (
            2, "The revised abstract of v2.", "10.1000/v2",
        )  # fmt: skip
        assert again.upvotes == first.upvotes and again.organization == "Invent Lab"


def test_a_missing_store_is_a_clear_error(tmp_path):
    config = tmp_path / "lookup.toml"
    config.write_text(
        '[sources.lookup]\nplugin = "arxiv-api"\nstore = "nowhere.db"\n'
        '[sinks.out]\nplugin = "jsonl"\npath = "out.jsonl"\n',
        encoding="utf-8",
    )
    source = Run(build_plan(load_config(config))).execute().sources[0]
    assert source.error == f"{tmp_path / 'nowhere.db'}: no such file or folder"
    assert not source.outcomes


def test_the_missing_reply_is_a_reject_and_no_paper_is_lost(tmp_path):
    """The lookup's per-batch count: an id the API does not return is a reject naming it."""
    sink = '[sinks.db]\nplugin = "sqlite"\npath = "papers.db"\n'
    with LocalServer() as server:
        configs = write_configs(tmp_path, sink, server.url("/api/query"))
        run(configs["arxiv"])
        api_answer(server, IDS, [api_entry(e) for e in NEW + CROSS])
        report = run(configs["lookup"])
    (target,) = report.outcomes
    assert target.outcome is TargetOutcome.COMPLETE and report.written == 3
    rejects = (tmp_path / "out" / "rejects.jsonl").read_text(encoding="utf-8")
    assert f"the arXiv API returned no record for {IDS[3]}" in rejects
