"""The built-in sources pass the same plugin test kit third-party authors use."""

from __future__ import annotations

import datetime as dt
import shutil
import tempfile
from pathlib import Path
from typing import ClassVar

from harvester_plugins.hf_papers import HfPapersSource
from harvester_plugins.textdump import TextDumpSource

from harvester.testkit import SourceContract
from tests.fixtures import hf_gen

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
    required_fields = ("arxiv_id", "url", "upvotes", "listing_date")

    @classmethod
    def setup_class(cls):
        # Saved listing pages, both layouts, written once for the class.
        cls.directory = directory = Path(tempfile.mkdtemp(prefix="hf-contract-"))
        pages = []
        for embed in (True, False):
            page = directory / f"day-{'json' if embed else 'cards'}.html"
            items = hf_gen.make_items(12, day=dt.date(2026, 10, 6), seed=7)
            page.write_text(
                hf_gen.render_page(items, kind="daily", day=dt.date(2026, 10, 6), embed_json=embed),
                encoding="utf-8",
            )
            pages.append(page)
        broken = directory / "not-a-listing.html"
        broken.write_text("<html><body><p>Nothing here</p></body></html>", encoding="utf-8")
        cls.sample_inputs = tuple(pages)
        cls.bad_inputs = (broken, directory / "missing.html")

    @classmethod
    def teardown_class(cls):
        shutil.rmtree(cls.directory, ignore_errors=True)

    def make_large_input(self, directory: Path, scale: int) -> list[str]:
        paths = []
        for page in range(scale):
            path = directory / f"page{page:03d}.html"
            items = hf_gen.make_items(100, day=dt.date(2026, 10, 6), seed=page)
            path.write_text(
                hf_gen.render_page(items, kind="daily", day=dt.date(2026, 10, 6), embed_json=True),
                encoding="utf-8",
            )
            paths.append(str(path))
        return paths
