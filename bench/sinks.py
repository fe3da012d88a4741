"""The sink stages: each sink against the strongest plain loop doing the same writes, and its
scale figures.

* paired: the sink plugin (driven as the run drives it: open, write batches of 1,000, commit
  every 50,000, close) against a bare loop (msgspec encode_lines + write + fsync; executemany
  upsert into the sqlite sink's own tables with the FTS index filled per batch), interleaved,
  for each variant of sink options (`--sink-variant 'sqlite:{"fts": false}'` adds one).
* scale: one pass of each sink over 1M records (5M with `--scale-5m`): rows/s per segment
  (per million from 2M up, per quarter below), so a slowdown as the output grows shows, and
  bytes per row on disk.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from harness import Sample, interleave, run_stage
from table import Row, not_available, paired_row, rate, verdict

BARE_SHARE = 0.70  # a sink must reach this share of the bare loop's rate
DEFAULT_VARIANTS = [("jsonl", {}), ("sqlite", {}), ("sqlite", {"fts": False})]


def parse_variant(text: str) -> tuple[str, dict[str, Any]]:
    """`KIND:{json options}` (or just `KIND`) from the command line."""
    kind, _, options = text.partition(":")
    return kind, json.loads(options) if options else {}


class SinkStages:
    def __init__(self, work: Path, *, records: int, scale: int, pairs: int, variants=None):
        self.dir = work / "sinks"
        self.dir.mkdir(parents=True, exist_ok=True)
        self.records, self.scale, self.pairs = records, scale, pairs
        self.variants = variants or DEFAULT_VARIANTS

    def rows(self) -> list[Row]:
        rows = [self.paired(kind, options) for kind, options in self.variants]
        for kind in ("jsonl", "sqlite"):
            rows.append(self.scaled(kind))
        return rows

    def _path(self, kind: str, who: str) -> Path:
        path = self.dir / f"{who}.{'jsonl' if kind == 'jsonl' else 'db'}"
        for p in self.dir.glob(path.name + "*"):
            p.unlink()
        return path

    def _run(self, stage: str, kind: str, who: str, **args: Any) -> Sample:
        path = self._path(kind, who)
        sample = run_stage(stage, {"kind": kind, "path": str(path), **args})
        self._path(kind, who)  # the files are not needed once counted: keep the disk low
        return sample

    def paired(self, kind: str, options: dict[str, Any]) -> Row:
        args = {"count": self.records, "options": options}
        pairs = interleave(
            self.pairs,
            lambda _: self._run("sink_plugin", kind, "ours", **args),
            lambda _: self._run("sink_bare", kind, "bare", **args),
        )
        what = "upsert + FTS" if kind == "sqlite" else "encode + write"
        if kind == "sqlite" and options.get("fts") is False:
            what = "upsert, no FTS"
        shown = f" {json.dumps(options)}" if options else ""
        stage = f"sink {kind}{shown}, {self.records:,} records ({what})"
        target = f">= {BARE_SHARE:.2f}x bare loop"
        row = paired_row(stage, pairs, "rec/s", "rec/s", target, BARE_SHARE)
        if not pairs.ok:
            return row
        rows = pairs.ours[0].data.get("rows")
        if rows != self.records:
            row.result = "MISS"
            row.note = f"{rows:,} rows written, expected {self.records:,}; " + row.note
        else:
            row.note = f"{rows:,} rows read back; {row.note}"
        known = {"fts"}
        if set(options) - known:
            row.note += f"; the bare loop ignores {sorted(set(options) - known)}"
        return row

    def scaled(self, kind: str) -> Row:
        count = self.scale
        segments = count // 1_000_000 if count >= 2_000_000 else 4
        sample = self._run("sink_plugin", kind, "scale", count=count, segments=segments)
        stage = f"sink {kind} at {count / 1e6:g}M records (scale)"
        if not sample.ok:
            return not_available(stage, sample.error or "", "flat rows/s")
        rates = sample.data["segment_rates"]
        unit = "million" if segments == count // 1_000_000 else "quarter"
        drop = rates[-1] / rates[0] if rates and rates[0] else 0.0
        per_row = sample.data["bytes"] / max(sample.data["rows"], 1)
        return Row(
            stage,
            rate(sample.rate, "rec/s"),
            target=">= 0.80x first segment",
            ratio=f"{drop:.2f}x",
            result=verdict(drop >= 0.8 and sample.data["rows"] == count),
            rss=f"{sample.maxrss_mb:.0f} MB" if sample.maxrss_mb else "-",
            note=f"rows/s per {unit}: "
            + ", ".join(f"{r:,.0f}" for r in rates)
            + f"; {per_row:,.0f} bytes per row on disk; {sample.data['rows']:,} rows; "
            "ratio: last segment's rate / the first's (one pass)",
        )
