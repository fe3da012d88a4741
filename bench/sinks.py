"""The sink stages: each sink against the strongest plain loop doing the same writes, and its
scale figures.

* paired: the sink plugin (driven as the run drives it: open, write batches of 1,000, commit
  every 50,000, close) against a bare loop (msgspec encode_lines + write + fsync; executemany
  upsert into the sqlite sink's own tables with the FTS index filled per batch), interleaved,
  for each variant of sink options (`--sink-variant 'sqlite:{"fts": false}'` adds one).
* scale: one pass of each sink over 1M records (5M with `--scale-5m`): rows/s per segment
  (per million from 2M up, per quarter below), so a slowdown as the output grows shows, and
  bytes per row on disk; the sqlite pass against `sqlite-utils` upsert + enable-fts of the
  same records into a fresh database (`baselines.sqlite_utils_load`), one pair.
* postgres: the sink into a fresh database on a throw-away server (`tests/pg.py`) against a
  plain COPY of the same rows into the same schema (`baselines.plain_copy`), as pairs.

Every side is timed over its whole loop, the making of each batch included: the database
sinks merge on a background thread, which keeps working while the next batch is made.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

from harness import ROOT, Pairs, Sample, interleave, run_stage
from table import Row, not_available, paired_row, rate, verdict

BARE_SHARE = 0.70  # a sink must reach this share of the bare loop's rate
SQLITE_UTILS_FACTOR = 2.0  # the sqlite sink at scale against sqlite-utils
COPY_SHARE = 0.5  # the postgres sink against a plain COPY
DEFAULT_VARIANTS = [("jsonl", {}), ("sqlite", {}), ("sqlite", {"fts": False})]


def parse_variant(text: str) -> tuple[str, dict[str, Any]]:
    """`KIND:{json options}` (or just `KIND`) from the command line."""
    kind, _, options = text.partition(":")
    return kind, json.loads(options) if options else {}


class SinkStages:
    def __init__(
        self, work: Path, *, records: int, scale: int, pairs: int, pg_records: int, variants=None
    ):
        self.dir = work / "sinks"
        self.dir.mkdir(parents=True, exist_ok=True)
        self.records, self.scale, self.pairs = records, scale, pairs
        self.pg_records = pg_records
        self.variants = variants or DEFAULT_VARIANTS

    def rows(self) -> list[Row]:
        rows = [self.paired(kind, options) for kind, options in self.variants]
        rows.append(self.scaled("jsonl")[0])
        rows.extend(self.scaled("sqlite", against="sqlite-utils"))
        rows.append(self.postgres())
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

    def scaled(self, kind: str, against: str | None = None) -> list[Row]:
        count = self.scale
        segments = count // 1_000_000 if count >= 2_000_000 else 4
        sample = self._run("sink_plugin", kind, "scale", count=count, segments=segments)
        stage = f"sink {kind} at {count / 1e6:g}M records (scale)"
        if not sample.ok:
            return [not_available(stage, sample.error or "", "flat rows/s")]
        rates = sample.data["segment_rates"]
        unit = "million" if segments == count // 1_000_000 else "quarter"
        drop = rates[-1] / rates[0] if rates and rates[0] else 0.0
        per_row = sample.data["bytes"] / max(sample.data["rows"], 1)
        rows = [
            Row(
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
        ]
        if against:
            rows.append(self.against_tool(kind, against, sample, count))
        return rows

    def against_tool(self, kind: str, tool: str, ours: Sample, count: int) -> Row:
        """The scale pass against another tool loading the same records (one pair)."""
        base = self._run("sink_bare", tool, "tool", count=count)
        pairs = Pairs(ours=[ours], base=[base])
        stage = f"sink {kind} at {count / 1e6:g}M records vs {tool} upsert + enable-fts"
        target = f">= {SQLITE_UTILS_FACTOR:.1f}x {tool}"
        row = paired_row(stage, pairs, "rec/s", "rec/s", target, SQLITE_UTILS_FACTOR)
        if pairs.ok:
            hits = (ours.data.get("fts_hits"), base.data.get("fts_hits"))
            row.note = (
                f"fresh database each; one pair (the scale pass, then {tool}); full-text "
                f"hits for 'learning': {hits[0]:,} / {hits[1]:,}; {row.note}"
            )
        return row

    def postgres(self) -> Row:
        """The postgres sink against a plain COPY into the same schema, fresh databases."""
        stage = f"sink postgres, {self.pg_records:,} records vs a plain COPY"
        target = f">= {COPY_SHARE:.2f}x plain COPY"
        try:
            sys.path.insert(0, str(ROOT))
            from tests.pg import running_server

            server_cm = running_server()
            server = server_cm.__enter__()
        except (ImportError, LookupError, OSError, subprocess.SubprocessError) as exc:
            return not_available(stage, f"no PostgreSQL server: {exc}", target)
        try:
            args = {"kind": "postgres", "count": self.pg_records}

            def side(name: str) -> Sample:
                url = server.url(server.create_database())
                return run_stage(name, {**args, "path": url})

            pairs = interleave(
                min(self.pairs, 2), lambda _: side("sink_plugin"), lambda _: side("sink_bare")
            )
        finally:
            server_cm.__exit__(None, None, None)
        row = paired_row(stage, pairs, "rec/s", "rec/s", target, COPY_SHARE)
        if pairs.ok:
            rows, hits = pairs.ours[0].data["rows"], pairs.ours[0].data["fts_hits"]
            row.note = (
                f"{rows:,} rows, {hits:,} full-text hits (COPY: "
                f"{pairs.base[0].data['fts_hits']:,}); the server (fsync off, as in the tests) "
                f"on the same machine; {row.note}"
            )
        return row
