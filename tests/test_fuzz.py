"""Property-based fuzzing (hypothesis, bounded and derandomized) of the listing-page format.

Real-shaped inputs (listing pages from `tests/fixtures/hf_site.py`) get one entry in the
middle mutated. The run must never crash: a target either yields papers and rejects (each
reject naming where it came from), or fails with an `InputError` naming the input; never an
unhandled exception (which the run reports as a bug in the source plugin). Entries far from
the mutation survive with the same titles. The text dumps' fuzzing is in
test_textdump_fuzz.py."""

from __future__ import annotations

import datetime as dt
import json
import tempfile
from pathlib import Path

import pytest
from harvester_plugins.hf.papers import HfPapersSource
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from harvester.report import SourceReport
from harvester.schema import Paper, Rejected
from harvester.testkit import harvest, make_source
from tests.fixtures.hf_site import daily_page_2026, make_items

ENTRIES, MIDDLE = 9, 4
FUZZ = settings(
    max_examples=150,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow],
)


@pytest.fixture(scope="module")
def scratch():
    with tempfile.TemporaryDirectory() as directory:
        yield Path(directory)


def run_source(source, target: str) -> tuple[list[Paper], list[Rejected], SourceReport]:
    """The source through the run loop: papers, rejects, and the report of what failed."""
    out = harvest(source)
    for failed_target, reason in out.report.failed:
        assert "bug in source plugin" not in reason, reason  # an unhandled exception
        assert failed_target == target, (failed_target, reason)
    return out.papers, out.rejected, out.report


# -- listing pages -----------------------------------------------------------------------------

DAY = dt.date(2026, 10, 6)
json_value = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner),
    max_leaves=6,
)
ITEM_PATHS = [
    ("paper",),
    ("paper", "id"),
    ("paper", "title"),
    ("paper", "authors"),
    ("paper", "publishedAt"),
    ("paper", "upvotes"),
    ("paper", "summary"),
    ("title",),
    ("numComments",),
    ("organization",),
    ("submittedBy",),
    ("publishedAt",),
]


def set_path(item: dict, path: tuple[str, ...], value) -> None:
    node = item
    for key in path[:-1]:
        if not isinstance(node.get(key), dict):
            return
        node = node[key]
    if value is ...:
        node.pop(path[-1], None)
    else:
        node[path[-1]] = value


def read_page(scratch: Path, page: bytes):
    path = scratch / "page.html"
    path.write_bytes(page)
    source = make_source(HfPapersSource, [path], base_dir=scratch)
    papers, rejects, report = run_source(source, str(path))
    for reject in rejects:
        assert reject.source_ref == str(path) and reject.reason
    return papers, report


@FUZZ
@given(
    changes=st.lists(
        st.tuples(st.sampled_from(ITEM_PATHS), json_value | st.just(...)), min_size=1, max_size=4
    ),
    embed_json=st.booleans(),
)
def test_listing_item_mutations_never_crash_and_other_items_survive(scratch, changes, embed_json):
    items = make_items(ENTRIES, day=DAY, seed=7)
    good_titles = [item["title"] for item in items]
    for path, value in changes:
        set_path(items[MIDDLE], path, value)
    try:
        page = daily_page_2026(items, day=DAY, embed_json=embed_json).encode()
    except (KeyError, TypeError, AttributeError, ValueError):
        # the generator cannot draw cards for this item: embed only the JSON list
        props = json.dumps({"dailyPapers": items, "dateString": str(DAY)}, default=str)
        page = daily_page_2026([], day=DAY, embed_json=False, props_text=props).encode()
    papers, report = read_page(scratch, page)
    titles = {p.title for p in papers}
    if not report.failed:
        far = [t for k, t in enumerate(good_titles) if abs(k - MIDDLE) > 1]
        assert set(far) <= titles


@FUZZ
@given(
    cuts=st.lists(
        st.tuples(
            st.floats(min_value=0.0, max_value=1.0), st.integers(0, 40), st.binary(max_size=12)
        ),
        min_size=1,
        max_size=3,
    )
)
def test_listing_byte_mutations_never_crash(scratch, cuts):
    items = make_items(ENTRIES, day=DAY, seed=11)
    page = bytearray(daily_page_2026(items, day=DAY).encode())
    for where, length, insert in cuts:
        at = int(where * len(page))
        page[at : at + length] = insert
    papers, report = read_page(scratch, bytes(page))
    # never silently nothing: papers, rejects, or an outcome that says what went wrong
    assert papers or report.rejected or report.outcomes[0].outcome != "complete"
