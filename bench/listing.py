"""The HTML listing stage: the `hf-papers` source on saved listing pages (through the run loop
into a null sink, a run per page as a real run reads a page), against a minimal selectolax loop
doing the same extraction (`baselines.selectolax_json`, `selectolax_cards`), as pairs.

A real-size daily page (24 cards, ~9 KB each, embedded JSON and rendered cards both) and a big
one (5,000 cards in a full run), each read by its embedded JSON and by its rendered cards only.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import gen
from harness import interleave, run_stage
from table import Row, not_available, paired_row, rate

FLOOR_SHARE = 0.9  # ours against the minimal selectolax loop
DAY = dt.date(2026, 10, 6)


class ListingStages:
    def __init__(self, work: Path, *, cards: tuple[int, ...], reps: int, pairs: int):
        self.dir = work / "html"
        self.dir.mkdir(parents=True, exist_ok=True)
        self.cards, self.reps, self.pairs = cards, reps, pairs

    def rows(self) -> list[Row]:
        rows = []
        for cards in self.cards:
            for kind, embed in (("json", True), ("cards", False)):
                path = self.dir / f"page-{cards}-{kind}.html"
                if not path.exists():
                    path.write_bytes(gen.listing_page(cards, embed_json=embed, day=DAY))
                what = "embedded JSON" if embed else "rendered cards only"
                size = "a daily page" if cards < 100 else "a big page"
                rows.append(self.row(f"HTML {cards} cards ({size}), {what}", path, kind))
        return rows

    def row(self, stage: str, path: Path, kind: str) -> Row:
        # about `reps` x 50 cards per sample on both sides, whatever the page's size
        cards = int(path.name.split("-")[1])
        args = {"path": str(path), "path_kind": kind, "reps": max(1, self.reps * 50 // cards)}
        target = f">= {FLOOR_SHARE:.2f}x selectolax loop"
        first = run_stage("html_plugin", args)
        if not first.ok:  # the baseline alone, once, so its figure is still known
            base = run_stage("html_floor", {**args, "reps": 1})
            row = not_available(stage, first.error or "", target)
            if base.ok:
                row.baseline = rate(base.rate, "cards/s")
            return row
        pairs = interleave(
            self.pairs,
            lambda i: first if i == 0 else run_stage("html_plugin", args),
            lambda _: run_stage("html_floor", args),
        )
        row = paired_row(stage, pairs, "cards/s", "cards/s", target, FLOOR_SHARE)
        size = path.stat().st_size / 1e6
        row.note = (
            f"{size:.1f} MB page; ours: a run per page through the run loop; baseline: the "
            f"whole page parsed by selectolax, the same fields; {row.note}"
        )
        return row
