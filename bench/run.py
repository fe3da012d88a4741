"""The benchmark: `python bench/run.py` (full, under 10 minutes) or `python bench/run.py --quick`.

Generates its inputs under bench/_work/, measures every figure in its own process as
interleaved pairs (ours, baseline, ours, baseline, ...), prints a table (medians, the median
pair ratio and its spread, target, PASS/MISS) with the load average at start and end, profiles
the command-line paths, and removes its working files at the end. The full run writes
bench/results.md. See bench/README.md for what each stage measures.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import json
import os
import platform
import shutil
import signal
import sys
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from harness import load_average, machine, tree_size  # noqa: E402
from table import Row, markdown  # noqa: E402

FULL: dict[str, Any] = {
    "dump_mb": 60,
    "big_factor": 6,  # peak RSS flat from 60 to 360 MB of dump
    "pairs": 5,  # state saves; the text-dump stages take `dump_pairs`
    "dump_pairs": 3,  # the last 5-pair runs' ratios lay within 0.06 of their medians
    "cards": [24, 5000],
    "html_reps": 20,
    "sink_records": 50_000,
    "sink_pairs": 2,
    "scale": 1_000_000,
    "pg_records": 20_000,
    "state_targets": 20_000,
    "state_saves": 200,
    "pages": 400,  # the unthrottled row (information) on the same 400 pages as the graded one
    "latency_pages": 400,
    "cards_per_page": 50,
    "concurrency": 8,
    "latency": 0.05,
    "e2e_pairs": 3,
    "scrapy": False,  # --scrapy: one Scrapy run beside the end-to-end row (~30 s more)
}
QUICK: dict[str, Any] = {  # smoke sizes: every stage runs, in the fewest seconds that do it
    **FULL,
    "dump_mb": 1,
    "big_factor": 2,
    "pairs": 1,
    "dump_pairs": 1,
    "cards": [24, 100],
    "html_reps": 1,
    "sink_records": 1_000,
    "sink_pairs": 1,
    "scale": 4_000,
    "pg_records": 500,
    "state_targets": 100,
    "state_saves": 10,
    "pages": 8,
    "latency_pages": 8,
    "e2e_pairs": 1,
    "scrapy": False,
}
WALL_TARGET = {"full": 600, "quick": 60}  # seconds for the whole run
STAGES = ("dump", "html", "sinks", "state", "e2e")


class Bench:
    def __init__(self, work: Path, sizes: dict[str, Any], args: argparse.Namespace):
        self.work, self.sizes, self.args = work, sizes, args
        self.rows: list[Row] = []
        self.notes: list[str] = []
        self.profiles: list[str] = []
        self.peak_disk = 0
        self.load_start = load_average()

    def stage(self, name: str) -> None:
        print(f"stage {name} ... (load {load_average()})", file=sys.stderr, flush=True)
        started = time.monotonic()
        before = len(self.rows)
        getattr(self, f"stage_{name}")()
        for row in self.rows[before:]:
            print(f"  {row.stage}: {row.ours} / {row.baseline} {row.ratio} {row.result}",
                  file=sys.stderr, flush=True)  # fmt: skip
        self.peak_disk = max(self.peak_disk, tree_size(self.work))
        print(f"  ({time.monotonic() - started:.0f} s)", file=sys.stderr, flush=True)

    def stage_dump(self) -> None:
        from dump import DumpStages

        s = self.sizes
        stages = DumpStages(
            self.work, dump_mb=s["dump_mb"], big_factor=s["big_factor"], pairs=s["dump_pairs"]
        )
        self.rows.extend(stages.rows(profiles=self.args.profile))
        self.profiles.extend(stages.profile_texts)

    def stage_html(self) -> None:
        from listing import ListingStages

        s = self.sizes
        stages = ListingStages(
            self.work, cards=tuple(s["cards"]), reps=s["html_reps"], pairs=min(s["pairs"], 3)
        )
        self.rows.extend(stages.rows())

    def stage_sinks(self) -> None:
        from sinks import DEFAULT_VARIANTS, SinkStages, parse_variant

        s = self.sizes
        extra = [parse_variant(v) for v in self.args.sink_variant or []]
        stages = SinkStages(
            self.work,
            records=s["sink_records"],
            scale=5_000_000 if self.args.scale_5m else s["scale"],
            pairs=s["sink_pairs"],
            pg_records=s["pg_records"],
            variants=DEFAULT_VARIANTS + extra,
        )
        self.rows.extend(stages.rows())

    def stage_state(self) -> None:
        from statebench import state_rows

        s = self.sizes
        self.rows.extend(
            state_rows(
                self.work, targets=s["state_targets"], saves=s["state_saves"], pairs=s["pairs"]
            )
        )

    def stage_e2e(self) -> None:
        from e2e import EndToEnd

        s = self.sizes
        options = dict(o.split("=", 1) for o in self.args.e2e_option or [])
        run = EndToEnd(
            self.work,
            pages=s["pages"],
            latency_pages=s["latency_pages"],
            cards=s["cards_per_page"],
            concurrency=s["concurrency"],
            latency=s["latency"],
            pairs=s["e2e_pairs"],
            source=self.args.e2e_source,
            options=options,
            scrapy=s["scrapy"] or self.args.scrapy,
        )
        self.rows.extend(run.rows())
        self.notes.extend(run.notes)

    def wall_row(self, seconds: float) -> None:
        mode = "quick" if self.args.quick else "full"
        limit = WALL_TARGET[mode]
        graded = not self.args.only  # a partial run says nothing of the whole run's time
        self.rows.append(
            Row(
                f"the whole benchmark run ({mode})",
                f"{seconds:.0f} s",
                target=f"< {limit} s" if graded else "-",
                result=("PASS" if seconds < limit else "MISS") if graded else "info",
                note="every stage, inputs generated and removed, profiles included",
            )
        )

    def report(self, seconds: float, removed: str) -> str:
        mode = "quick (smoke sizes, not the targets' sizes)" if self.args.quick else "full"
        head = [
            "# harvester benchmark results",
            "",
            f"- date: {dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC",
            f"- machine: {machine()}",
            f"- python: {platform.python_version()} ({platform.platform()})",
            f"- mode: {mode}; sizes: {json.dumps(self.sizes)}",
            f"- wall time: {seconds:.0f} s (target < 600 s for the full run)",
            f"- load average (1, 5, 15 min) at start: {self.load_start}; at end: "
            f"{load_average()} (on {os.cpu_count()} cores; other work on the machine slows "
            "both sides of a pair alike, which the pair ratios absorb)",
            f"- working files: {self.peak_disk / 1e6:,.0f} MB at most, {removed}",
            "- ratio: median of the per-pair ratios ours / baseline (rates); spread: their "
            "min-max; 'per CPU-second': the same ratio on CPU time instead of wall time",
            "",
        ]
        tail = ["", *(f"- {n}" for n in self.notes)] if self.notes else []
        if self.profiles:
            tail += ["", "### Where the time goes (py-spy, one run each)", "", *self.profiles]
        return "\n".join(head) + markdown(self.rows) + "\n" + "\n".join(tail) + "\n"


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="small smoke run (for CI)")
    parser.add_argument("--only", choices=STAGES, action="append", help="run only these stages")
    parser.add_argument(
        "--profile",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="profile the command-line paths with py-spy (default: on for a full run)",
    )
    parser.add_argument("--scale-5m", action="store_true", help="sink scale run at 5M records")
    parser.add_argument(
        "--sink-variant",
        action="append",
        metavar="KIND:JSON",
        help="another sink options variant, e.g. 'sqlite:{\"fts\": false}'",
    )
    parser.add_argument("--e2e-source", default="hf-papers", help="source plugin end to end")
    parser.add_argument("--scrapy", action="store_true", help="also one Scrapy run end to end")
    parser.add_argument("--e2e-option", action="append", metavar="KEY=VALUE")
    parser.add_argument("--keep-work", action="store_true", help="keep bench/_work/ at the end")
    parser.add_argument("--results", type=Path, help="where to write the report")
    args = parser.parse_args(argv)
    if args.profile is None:
        args.profile = not args.quick
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    work = HERE / "_work" / ("quick" if args.quick else "full")
    shutil.rmtree(work, ignore_errors=True)
    (work / "logs").mkdir(parents=True)
    os.environ["BENCH_LOG_DIR"] = str(work / "logs")
    _bytecode()
    os.environ["BENCH_STAGE_PLUGINS"] = (
        f"textdump,jsonl,sqlite,postgres,hf-papers,{args.e2e_source}"
    )
    bench = Bench(work, dict(QUICK if args.quick else FULL), args)
    started = time.monotonic()
    signal.signal(signal.SIGTERM, _interrupted)
    try:
        for name in STAGES:
            if not args.only or name in args.only:
                bench.stage(name)
    except KeyboardInterrupt:  # Ctrl-C or SIGTERM: report what was measured, then clean up
        bench.notes.append("interrupted: the stages after the last row did not run")
    finally:
        size = tree_size(work)
        if args.keep_work:
            removed = f"{size / 1e6:,.0f} MB kept in {work}"
        else:
            shutil.rmtree(work, ignore_errors=True)
            with contextlib.suppress(OSError):
                work.parent.rmdir()  # bench/_work itself, when nothing else is in it
            removed = f"all removed at the end ({size / 1e6:,.0f} MB left before)"
    seconds = time.monotonic() - started
    bench.wall_row(seconds)
    text = bench.report(seconds, removed)
    print(text)
    out = args.results or (None if args.quick or args.only else HERE / "results.md")
    if out is not None:
        out.write_text(text + _analysis(out))
    return 0


ANALYSIS = "<!-- analysis: written by hand, kept when the figures above are rewritten -->"


def _analysis(results: Path) -> str:
    """The hand-written reading of the figures that follows them in bench/results.md."""
    try:
        old = results.read_text()
    except OSError:
        return ""
    at = old.find(ANALYSIS)
    return "\n" + old[at:] if at >= 0 else ""


def _bytecode() -> None:
    """Measure as an installed harvester runs: from bytecode. The package's modules are
    compiled once here, and the measured processes may read (and write) bytecode caches even
    where PYTHONDONTWRITEBYTECODE is set (compiling every module at each start-up would add
    ~0.2 s to every command)."""
    import compileall

    os.environ.pop("PYTHONDONTWRITEBYTECODE", None)
    sys.dont_write_bytecode = False
    for folder in ("harvester", "plugins", "bench", "tests"):
        compileall.compile_dir(HERE.parent / folder, quiet=2)


def _interrupted(signum: int, frame: Any) -> None:
    raise KeyboardInterrupt


if __name__ == "__main__":
    sys.exit(main())
