"""arXiv's one budget across processes: two `harvester run`s of arxiv-listing, each on its own
categories, sharing `[fetch] budget_store` at the arXiv preset, arrive at most one request per
3 s (arXiv's terms) between them, as the server sees them."""

from __future__ import annotations

import datetime as dt
import itertools
import json
import subprocess
import sys

import pytest
from harvester_plugins.arxiv.calendar import current_listing_day

from harvester.fetch.budgets import PRESET_BUDGETS, Rate
from tests.fixtures.arxiv_site import make_entries, new_page
from tests.localserver import LOOPBACK, LocalServer, ok
from tests.test_budget_shared import within

from . import clirun

pytestmark = [LOOPBACK, pytest.mark.slow]
SHARDS = (["cs.CL", "cs.LG"], ["cs.AI", "cs.CV"])


def test_two_processes_at_the_arxiv_preset_arrive_one_per_3_s(tmp_path):
    today = current_listing_day(dt.datetime.now(dt.UTC))
    with LocalServer() as server:
        for n, context in enumerate(c for shard in SHARDS for c in shard):
            page = new_page(today, {"new": make_entries(2, start=10 * n + 1)}, context=context)
            server.route(
                f"/list/{context}/new?skip=0&show=2000", ok(page, content_type="text/html")
            )
        runs = []
        for n, categories in enumerate(SHARDS):
            config = tmp_path / f"shard{n}.toml"
            config.write_text(
                f"""
[run]
rejects = "out/rejects-{n}.jsonl"
[fetch]
min_interval = 0
robots = false
budget_store = "sqlite:///{tmp_path / "budget.db"}"
budgets = {{ "127.0.0.1" = "{PRESET_BUDGETS["arxiv.org"]}" }}
[sources.arxiv]
plugin = "arxiv-listing"
base_url = "{server.url("")}"
categories = {json.dumps(categories)}
fetch = {{ per_host_concurrency = 1 }}
[sinks.out]
plugin = "jsonl"
path = "out/{n}.jsonl"
""",
                encoding="utf-8",
            )
            runs.append(clirun.popen(
                [sys.executable, "-m", "harvester.cli", "run", "-q", str(config)],
                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=tmp_path,
            ))  # fmt: skip
        ended = [run.communicate(timeout=120) for run in runs]
        starts = [r.started for r in server.requests]
    for run, (_, stderr) in zip(runs, ended, strict=True):
        assert run.returncode == 0, stderr
    assert len(starts) == 4
    gaps = [b - a for a, b in itertools.pairwise(sorted(starts))]
    assert within(starts, Rate(1, 3)), gaps
    for n in range(2):
        records = (tmp_path / "out" / f"{n}.jsonl").read_text().splitlines()
        assert len(records) == 4 and all(json.loads(r)["listing_date"] == str(today)
                                          for r in records)  # fmt: skip
