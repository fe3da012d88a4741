"""The hf-api source: pagination (cassette), the shared mapping, bad responses."""

from __future__ import annotations

import datetime as dt
import json

import msgspec
import pytest
from harvester_plugins import hf_common
from harvester_plugins.hf_api import HfApiSource, page_url
from harvester_plugins.hf_papers import HfPapersSource

from harvester.api import RunContext
from harvester.errors import InputError
from harvester.fetch import Fetcher, FetchSettings
from harvester.schema import Paper, Rejected
from tests.fixtures import hf_gen


def source(**options) -> HfApiSource:
    context = RunContext(fetcher_factory=lambda: Fetcher(FetchSettings(min_interval=0)))
    return HfApiSource(HfApiSource.Options(**options), context)


@pytest.mark.vcr("hf_api_daily_2026-10-06.yaml")
def test_follows_pagination_until_a_short_page():
    src = source(daily_from=hf_gen.API_DAY, limit=hf_gen.API_LIMIT)
    try:
        papers = [p for t in src.targets() for p in src.read(t)]
    finally:
        src.context.close()
    items = hf_gen.api_items()
    assert [p.arxiv_id for p in papers] == [i["paper"]["id"] for i in items]
    assert {p.source_ref for p in papers} == {
        f"https://huggingface.co/api/daily_papers?date=2026-10-06&limit=5&p={n}" for n in range(3)
    }
    assert {p.listing_date for p in papers} == {hf_gen.API_DAY}
    assert src.empty_targets == []


def test_both_sources_use_the_one_mapping(tmp_path):
    """The same items give the same records from the API and from the page's embedded JSON."""
    day = dt.date(2026, 10, 7)
    items = hf_gen.make_items(5, day=day, seed=4)
    api_file = tmp_path / "api.json"
    api_file.write_text(json.dumps(items), encoding="utf-8")
    from_api = list(source().parse_items(api_file.read_bytes(), source_ref="r", listing_date=day))
    page = hf_gen.render_page(items, day=day).encode()
    html_src = HfPapersSource(HfPapersSource.Options(), RunContext())
    from_html = list(html_src.parse_page(page, source_ref="r", requested=day))
    expected = [
        hf_common.item_to_paper(
            hf_common.decode_items(json.dumps([i]))[0],
            source="x",
            source_ref="r",
            listing_date=day,
            parsed_from="p",
        )
        for i in items
    ]

    def comparable(paper: Paper) -> dict:
        record = msgspec.structs.asdict(paper)
        record["extra"] = {**record["extra"]["hf"], "parsed_from": None}
        return {**record, "source": None}

    assert [comparable(p) for p in from_api] == [comparable(p) for p in expected]
    assert [comparable(p) for p in from_html] == [comparable(p) for p in expected]


def test_reads_a_saved_json_file_and_rejects_only_the_bad_item(tmp_path):
    items = hf_gen.make_items(3, day=dt.date(2026, 10, 8))
    items[1]["paper"]["authors"] = "nobody"
    saved = tmp_path / "daily.json"
    saved.write_text(json.dumps(items), encoding="utf-8")
    out = list(source().read(str(saved)))
    assert [type(x) for x in out] == [Paper, Rejected, Paper]
    assert out[1].source_ref == str(saved) and "authors" in out[1].reason


def test_a_response_that_is_not_a_list_is_an_input_error():
    with pytest.raises(InputError) as err:
        list(source().parse_items(b'{"error": "x"}', source_ref="https://h/api", listing_date=None))
    assert err.value.location == "https://h/api"


def test_targets_and_page_urls():
    src = source(
        daily_from=dt.date(2026, 10, 5),
        daily_to=dt.date(2026, 10, 6),
        weeks=["2026-W41"],
        months=["2026-10"],
        limit=20,
    )
    assert src.targets() == [
        "https://huggingface.co/api/daily_papers?date=2026-10-05&limit=20",
        "https://huggingface.co/api/daily_papers?date=2026-10-06&limit=20",
        "https://huggingface.co/api/daily_papers?week=2026-W41&limit=20",
        "https://huggingface.co/api/daily_papers?month=2026-10&limit=20",
    ]
    assert page_url(src.targets()[0], 2).endswith("date=2026-10-05&limit=20&p=2")
