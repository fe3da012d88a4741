"""arXiv's announcement calendar and its one budget across hosts."""

from __future__ import annotations

import datetime as dt

import pytest
from harvester_plugins.arxiv import urls
from harvester_plugins.arxiv.calendar import (
    current_listing_day,
    no_listing_reason,
    previous_listing_day,
)

from harvester.fetch.budgets import PRESET_BUDGETS, match_budget, parse_rate

EDT, EST = dt.timezone(dt.timedelta(hours=-4)), dt.timezone(dt.timedelta(hours=-5))


@pytest.mark.parametrize(
    ("now", "day"),
    [
        (dt.datetime(2024, 8, 8, 19, 59, tzinfo=EDT), dt.date(2024, 8, 8)),  # Thu before 20:00
        (dt.datetime(2024, 8, 8, 20, 0, tzinfo=EDT), dt.date(2024, 8, 9)),  # Thu evening: Fri
        (dt.datetime(2024, 8, 10, 12, 0, tzinfo=EDT), dt.date(2024, 8, 9)),  # Saturday: Friday
        (dt.datetime(2024, 8, 11, 19, 0, tzinfo=EDT), dt.date(2024, 8, 9)),  # Sunday afternoon
        (dt.datetime(2024, 8, 11, 20, 30, tzinfo=EDT), dt.date(2024, 8, 12)),  # Sunday evening
        (dt.datetime(2024, 8, 9, 0, 30, tzinfo=dt.UTC), dt.date(2024, 8, 9)),  # 20:30 EDT Thu
        (dt.datetime(2024, 12, 5, 0, 30, tzinfo=dt.UTC), dt.date(2024, 12, 4)),  # 19:30 EST Wed
        (dt.datetime(2024, 12, 4, 20, 0, tzinfo=EST), dt.date(2024, 12, 5)),
    ],
)
def test_the_listing_new_shows(now, day):
    assert current_listing_day(now) == day


def test_weekends_and_named_holidays_have_no_listing():
    assert "no listing dated Saturday 2026-10-03" in no_listing_reason(dt.date(2026, 10, 3))
    assert no_listing_reason(dt.date(2026, 10, 4)).startswith("arXiv has no listing dated Sunday")
    assert no_listing_reason(dt.date(2026, 10, 5)) is None
    holiday = dt.date(2026, 11, 26)
    assert "holiday" in no_listing_reason(holiday, {holiday})
    assert previous_listing_day(dt.date(2026, 11, 27), {dt.date(2026, 11, 27), holiday}) == (
        dt.date(2026, 11, 25)
    )
    with pytest.raises(ValueError, match="aware"):
        current_listing_day(dt.datetime(2026, 1, 1))


@pytest.mark.parametrize(
    "url",
    [
        "https://arxiv.org/list/cs.CL/new?skip=0&show=2000",
        urls.oai_url(urls.OAI_BASE, resumptionToken="t"),
        urls.api_url(urls.API_BASE, ["2408.04000"]),
        "http://export.arxiv.org/oai2?verb=Identify",
    ],
)
def test_every_arxiv_host_shares_one_budget_of_at_most_one_request_per_3_s(url):
    from urllib.parse import urlsplit

    parts = urlsplit(url)
    key, rate = match_budget(PRESET_BUDGETS, parts.hostname, parts.port, parts.path)
    assert key == "arxiv.org" and rate == parse_rate(PRESET_BUDGETS["arxiv.org"])
    assert rate.limit == 1 and rate.window >= 3


@pytest.mark.parametrize("name", ["arxiv-daily.toml", "arxiv-backfill.toml"])
def test_the_arxiv_configs_build_politely(name):
    """The shipped configs load, build their targets, and keep arXiv's pace: the preset budget,
    robots.txt, one connection."""
    from harvester.build import build_plan
    from harvester.config import load_config

    from .conftest import ROOT

    plan = build_plan(load_config(ROOT / "config" / name))
    ((_, source),) = plan.sources
    settings = source.context.fetch_settings
    assert settings.budgets["arxiv.org"] == PRESET_BUDGETS["arxiv.org"] and settings.robots
    assert settings.per_host_concurrency == 1
    targets = source.targets()
    assert targets and all(t.id.startswith(("https://arxiv.org/", urls.OAI_BASE)) for t in targets)
    plan.client.close()


def test_the_option_tables_in_docs_arxiv_md_are_valid(tmp_path):
    """Every ```toml block of docs/arxiv.md is a source table its plugin accepts as written."""
    import re

    from harvester.build import build_plan
    from harvester.config import load_config

    from .conftest import ROOT

    blocks = re.findall(r"```toml\n(.*?)```", (ROOT / "docs" / "arxiv.md").read_text(), re.S)
    assert len(blocks) == 3
    for n, block in enumerate(blocks):
        config = tmp_path / f"doc{n}.toml"
        config.write_text(block + '\n[sinks.out]\nplugin = "jsonl"\npath = "out.jsonl"\n')
        plan = build_plan(load_config(config))
        assert plan.sources[0][1].targets()
        plan.client.close()
