"""The HTML listing stage: the `hf-papers` source on saved listing pages (through the run loop
into a null sink), against BeautifulSoup + lxml doing the same extraction, as pairs.

Pages of 50 and of many cards, with the embedded JSON and without it (rendered cards only).
The HF sources are being rewritten on another branch (same plugin name and `Source` contract);
until then the old one does not run on the new core, and these rows say so, with the
baseline's figure.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import gen
from harness import interleave, run_stage
from table import Row, not_available, paired_row, rate

CARDS_PER_S = 15_000
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
                what = "embedded JSON" if embed else "rendered cards"
                rows.append(self.row(f"HTML {cards} cards, {what}", path, kind, cards))
        return rows

    def row(self, stage: str, path: Path, kind: str, cards: int) -> Row:
        # about `reps` x 50 cards per sample on both sides (BeautifulSoup takes ~10 s on 5,000)
        args = {"path": str(path), "path_kind": kind, "reps": max(1, self.reps * 50 // cards)}
        target = f">= {CARDS_PER_S:,} cards/s"
        first = run_stage("html_plugin", args)
        if not first.ok:  # the baseline alone, once, so its figure is still known
            base = run_stage("html_bs4", {**args, "reps": 1})
            row = not_available(stage, first.error or "", target)
            if base.ok:
                row.baseline = rate(base.rate, "cards/s")
            return row
        pairs = interleave(
            # BeautifulSoup reads a real-size 5,000-card page in ~30 s: two pairs keep the
            # full run under its 10 minutes
            self.pairs if cards < 1000 else min(self.pairs, 2),
            lambda i: first if i == 0 else run_stage("html_plugin", args),
            lambda _: run_stage("html_bs4", args),
        )
        row = paired_row(stage, pairs, "cards/s", "cards/s", target)
        ok = pairs.ok and pairs.median("ours") >= CARDS_PER_S
        row.result = "PASS" if ok else "MISS"
        row.note = f"baseline: BeautifulSoup + lxml, same fields; {row.note}"
        return row
