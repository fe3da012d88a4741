"""The built-in sources pass the same plugin test kit third-party authors use."""

from __future__ import annotations

import datetime as dt
import json
import shutil
import tempfile
from pathlib import Path
from typing import ClassVar

from harvester_plugins.arxiv.listing import ArxivListing
from harvester_plugins.hf.api import HfApiSource
from harvester_plugins.hf.papers import HfPapersSource
from harvester_plugins.textdump import TextDumpSource

from harvester.testkit import SourceContract
from tests.fixtures import arxiv_site, hf_site

from .conftest import FIXTURES, ROOT

EXAMPLE = ROOT / "examples" / "textdump" / "sample-listing.txt"
DUMPS = FIXTURES / "textdump"

ENTRY = (
    """Paper number {n}: a  study of things

We study things, number {n}, at length. """
    + "More words about the things. " * 30
    + """

  • {authors} authors
·
Sep {day}
"""
)


class TestTextDumpContract(SourceContract):
    source_class = TextDumpSource
    sample_inputs = (EXAMPLE, DUMPS / "seed-style.txt", DUMPS / "bad-date.txt")
    bad_inputs = (DUMPS / "misplaced-dot.txt", DUMPS / "truncated.txt", DUMPS / "missing.txt")
    options: ClassVar[dict] = {"captured_on": dt.date(2026, 3, 14)}
    required_fields = ("title", "abstract", "listing_date")
    # The reader holds one 1 MiB chunk of lines: both sizes must be past that to compare growth.
    small_scale, large_scale = 20, 100

    def make_large_input(self, directory: Path, scale: int) -> list[str]:
        path = directory / f"dump-{scale}.txt"
        with path.open("w", encoding="utf-8") as f:
            f.write("new\n\nSubscribe\n\nMar 14\n\n")
            for n in range(100 * scale):
                f.write(ENTRY.format(n=n, authors=n % 9 + 1, day=n % 28 + 1) + "\n")
        return [str(path)]


class TestHfPapersContract(SourceContract):
    source_class = HfPapersSource
    # no listing_date: a saved modern page without its JSON cannot tell its own day (docs/hf.md)
    required_fields = ("arxiv_id", "url", "upvotes")

    @classmethod
    def setup_class(cls):
        # Saved listing pages, both layouts, written once for the class.
        cls.directory = directory = Path(tempfile.mkdtemp(prefix="hf-contract-"))
        pages = []
        for embed in (True, False):
            page = directory / f"day-{'json' if embed else 'cards'}.html"
            items = hf_site.make_items(12, day=dt.date(2026, 10, 6), seed=7)
            page.write_text(
                hf_site.daily_page_2026(items, day=dt.date(2026, 10, 6), embed_json=embed),
                encoding="utf-8",
            )
            pages.append(page)
        broken = directory / "not-a-listing.html"
        broken.write_text("<html><body><p>Nothing here</p></body></html>", encoding="utf-8")
        cut = directory / "cut-midway.html"
        whole = pages[1].read_bytes()  # the cards page, cut in the middle of its cards
        cut.write_bytes(whole[: len(whole) * 2 // 3])
        cls.sample_inputs = tuple(pages)
        cls.bad_inputs = (broken, directory / "missing.html")
        cls.cut_inputs = (cut,)

    @classmethod
    def teardown_class(cls):
        shutil.rmtree(cls.directory, ignore_errors=True)

    def make_large_input(self, directory: Path, scale: int) -> list[str]:
        paths = []
        for page in range(scale):
            path = directory / f"page{page:03d}.html"
            items = hf_site.make_items(100, day=dt.date(2026, 10, 6), seed=page)
            path.write_text(
                hf_site.daily_page_2026(items, day=dt.date(2026, 10, 6), embed_json=True),
                encoding="utf-8",
            )
            paths.append(str(path))
        return paths


class TestHfApiContract(SourceContract):
    """Saved API responses, as `harvester parse hf-api FILE` reads them."""

    source_class = HfApiSource
    required_fields = ("arxiv_id", "url", "upvotes", "listing_date", "authors")
    declares_totals = True

    @classmethod
    def setup_class(cls):
        cls.directory = directory = Path(tempfile.mkdtemp(prefix="hf-api-contract-"))
        saved = directory / "2026-10-06.json"
        saved.write_text(json.dumps(hf_site.make_items(12, day=dt.date(2026, 10, 6), seed=3)))
        broken = directory / "not-a-list.json"
        broken.write_text('{"error": "not found"}')
        cut = directory / "cut-midway.json"
        cut.write_bytes(saved.read_bytes()[: saved.stat().st_size // 2])
        cls.sample_inputs = (saved,)
        cls.bad_inputs = (broken, directory / "missing.json")
        cls.cut_inputs = (cut,)

    @classmethod
    def teardown_class(cls):
        shutil.rmtree(cls.directory, ignore_errors=True)

    def make_large_input(self, directory: Path, scale: int) -> list[str]:
        paths = []
        for n in range(scale):
            path = directory / f"day{n:03d}.json"
            items = hf_site.make_items(100, day=dt.date(2026, 10, 6), seed=n)
            path.write_text(json.dumps(items), encoding="utf-8")
            paths.append(str(path))
        return paths


class TestArxivListingContract(SourceContract):
    """Saved arXiv listing pages, both /new layouts and a /recent page, as `harvester parse
    arxiv-listing FILE` reads them."""

    source_class = ArxivListing
    required_fields = ("arxiv_id", "arxiv_version", "url", "listing_date", "authors", "categories")
    expected_records = 12 + 12 + 7

    @classmethod
    def setup_class(cls):
        cls.directory = directory = Path(tempfile.mkdtemp(prefix="arxiv-contract-"))
        day = dt.date(2026, 10, 9)
        sections = {
            "new": arxiv_site.make_entries(6),
            "cross-list": arxiv_site.make_entries(3, start=40, kind="cross-list"),
            # versions named by every entry: a replacement without one has a null version
            "replacement": arxiv_site.make_entries(3, month="2609", start=5, kind="replacement"),
        }
        pages = []
        for layout in (2024, 2026):
            page = directory / f"new-{layout}.html"
            page.write_bytes(arxiv_site.new_page(day, sections, layout=layout))
            pages.append(page)
        recent = directory / "recent.html"
        days = [(day, arxiv_site.make_entries(4, start=101)), (dt.date(2026, 10, 8),
                arxiv_site.make_entries(3, start=201))]  # fmt: skip
        recent.write_bytes(arxiv_site.Recent("cs.CL", days).page(0))
        broken = directory / "not-a-listing.html"
        broken.write_text("<html><body><p>Nothing here</p></body></html>", encoding="utf-8")
        cls.sample_inputs = (*pages, recent)
        cls.bad_inputs = (broken, directory / "missing.html")

    @classmethod
    def teardown_class(cls):
        shutil.rmtree(cls.directory, ignore_errors=True)

    def make_large_input(self, directory: Path, scale: int) -> list[str]:
        paths = []
        for n in range(scale):
            path = directory / f"new{n:03d}.html"
            entries = arxiv_site.make_entries(100, start=100 * n + 1)
            path.write_bytes(arxiv_site.new_page(dt.date(2026, 10, 9), {"new": entries}))
            paths.append(str(path))
        return paths
