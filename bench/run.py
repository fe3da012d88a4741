"""The benchmark: `python bench/run.py` (full, a few minutes) or `python bench/run.py --quick`.

Generates its inputs under bench/_work/, runs every measurement in its own process (so each
peak RSS is its own), and prints a table: our figure, the baseline measured in the same run, the
ratio, the target and PASS/MISS with the reason. The full run also writes bench/results.md.
See bench/README.md for what each stage measures.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(HERE))

import gen  # noqa: E402
from table import Row, markdown, mb, not_available, rate, ratio  # noqa: E402

WORK = HERE / "_work"
RSS_LIMIT_MB = 150.0
RSS_GROWTH_MB = 20.0  # "flat": the 10x input may cost at most this much more memory

FULL = {
    "dump_mb": 100,
    "big_factor": 10,
    "cards_small": 50,
    "cards_large": 5000,
    "sink_records": 1_000_000,
    "pages": 2000,
    "cards_per_page": 50,
    "concurrency": 8,
    "min_seconds": 1.0,
}
QUICK = {
    "dump_mb": 3,
    "big_factor": 10,
    "cards_small": 50,
    "cards_large": 200,
    "sink_records": 20_000,
    "pages": 40,
    "cards_per_page": 50,
    "concurrency": 8,
    "min_seconds": 0.2,
}


class Bench:
    def __init__(self, sizes: dict[str, Any], *, profile: bool, quick: bool):
        self.sizes, self.profile, self.quick = sizes, profile, quick
        self.rows: list[Row] = []
        self.raw: dict[str, Any] = {}
        self.notes: list[str] = []
        self.load_start = _load()

    # -- running one measurement ---------------------------------------------------------------

    def measure(self, label: str, name: str, timeout: float = 900, **args: Any) -> dict[str, Any]:
        """Run `bench/stages.py NAME` in its own process; its JSON result (ok False on failure)."""
        cmd = [sys.executable, str(HERE / "stages.py"), name, json.dumps(args)]
        if self.profile:
            out = WORK / f"profile-{label}.txt"
            cmd = [sys.executable, "-m", "pyinstrument", "-o", str(out), *cmd[1:]]
        try:
            done = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, cwd=ROOT)
        except subprocess.TimeoutExpired:
            result = {"ok": False, "error": f"timed out after {timeout:.0f} s"}
        else:
            lines = [ln for ln in done.stdout.splitlines() if ln.startswith("{")]
            if lines:
                result = json.loads(lines[-1])
            else:
                tail = (done.stderr.strip().splitlines() or ["no output"])[-1]
                result = {"ok": False, "error": f"exit {done.returncode}: {tail}"}
            if not result.get("ok") and done.stderr:
                (WORK / f"error-{label}.txt").write_text(done.stderr)
        self.raw[label] = result
        print(f"  {label}: {_brief(result)}", file=sys.stderr, flush=True)
        return result

    # -- stages -------------------------------------------------------------------------------

    def text_dump(self) -> None:
        s = self.sizes
        small = WORK / f"dump-{s['dump_mb']}mb.txt"
        big = WORK / f"dump-{s['dump_mb'] * s['big_factor']}mb.txt"
        if not small.exists():
            gen.write_textdump(small, s["dump_mb"] * 1_000_000)
        if not big.exists():
            gen.repeat_file(small, big, s["big_factor"])
        for path, tag in ((small, "dump"), (big, "dump-big")):
            reps = 2 if tag == "dump" else 1  # best of 2 on 100 MB; one pass over the 1 GB
            floor = self.measure(f"{tag}-floor", "dump_floor", path=str(path), reps=reps + 1)
            ours = self.measure(f"{tag}-plugin", "dump_plugin", path=str(path), reps=reps)
            self.raw[tag] = (floor, ours)
        floor, ours = self.raw["dump"]
        size = f"{small.stat().st_size / 1e6:.0f} MB"
        stage = f"text dump {size} (MB/s)"
        target = ">= 0.33x floor"
        if not ours["ok"]:
            self.rows.append(not_available(stage, ours["error"], target))
        else:
            ours_mbs = ours["bytes"] / 1e6 / ours["seconds"]
            floor_mbs = floor["bytes"] / 1e6 / floor["seconds"]
            share = ours_mbs / floor_mbs
            ok = share >= 1 / 3
            note = (
                f"{ours['entries']:,} entries, {ours['rejected']} rejected; floor = read+split "
                "lines"
            )
            if not ok:
                note += (
                    f"; MISS by {(1 / 3 - share) / (1 / 3):.0%}: per-line Python loop + "
                    "normalise + Paper build cost more than 3x the split"
                )
            self.rows.append(
                Row(
                    stage,
                    rate(ours_mbs, "MB/s"),
                    rate(floor_mbs, "MB/s"),
                    ratio(ours_mbs, floor_mbs),
                    target,
                    _verdict(ok),
                    f"{mb(ours['maxrss_mb'])} / {mb(floor['maxrss_mb'])}",
                    note,
                )
            )
            eps = ours["entries"] / ours["seconds"]
            self.rows.append(
                Row(
                    f"text dump {size} (entries/s)",
                    rate(eps, "entries/s"),
                    rate(floor["lines"] / floor["seconds"], "lines/s"),
                    "-",
                    "-",
                    "info",
                    note="entries out as finalised Paper records",
                )
            )
        big_floor, big_ours = self.raw["dump-big"]
        bsize = f"{big.stat().st_size / 1e6:.0f} MB"
        stage = f"text dump {bsize} (peak RSS)"
        target = f"< {RSS_LIMIT_MB:.0f} MB, flat"
        if not big_ours["ok"] or not ours["ok"]:
            self.rows.append(not_available(stage, big_ours.get("error", ""), target))
            return
        growth = big_ours["maxrss_mb"] - ours["maxrss_mb"]
        ok = big_ours["maxrss_mb"] < RSS_LIMIT_MB and growth <= RSS_GROWTH_MB
        mbs = big_ours["bytes"] / 1e6 / big_ours["seconds"]
        note = (
            f"{big_ours['entries']:,} entries at {mbs:.0f} MB/s; RSS {growth:+.1f} MB vs the "
            f"{size} dump"
        )
        self.rows.append(
            Row(
                stage,
                mb(big_ours["maxrss_mb"]),
                mb(big_floor["maxrss_mb"]),
                "-",
                target,
                _verdict(ok),
                f"{mb(big_ours['maxrss_mb'])} / {mb(big_floor['maxrss_mb'])}",
                note,
            )
        )

    def html(self) -> None:
        s = self.sizes
        for cards in (s["cards_small"], s["cards_large"]):
            for kind, embed in (("json", True), ("cards", False)):
                path = WORK / f"page-{cards}-{kind}.html"
                if not path.exists():
                    self.measure(
                        f"make-{path.stem}",
                        "make_page",
                        path=str(path),
                        cards=cards,
                        embed_json=embed,
                    )
                stage = f"HTML {cards} cards, {'embedded JSON' if embed else 'rendered cards'}"
                ours = self.measure(
                    f"html-{cards}-{kind}",
                    "html_plugin",
                    path=str(path),
                    path_kind=kind,
                    min_seconds=s["min_seconds"],
                )
                base = self.measure(
                    f"html-{cards}-{kind}-bs4",
                    "html_bs4",
                    path=str(path),
                    path_kind=kind,
                    min_seconds=s["min_seconds"],
                )
                self.rows.append(self._html_row(stage, ours, base))

    def _html_row(self, stage: str, ours: dict, base: dict) -> Row:
        target = ">= 15,000 cards/s"
        if not ours["ok"]:
            return not_available(stage, ours["error"], target)
        cps = ours["cards"] / ours["seconds"]
        bcps = base["cards"] / base["seconds"] if base["ok"] else 0.0
        ok = cps >= 15_000
        note = "baseline: BeautifulSoup + lxml, same fields"
        if not ok:
            note += f"; MISS by {1 - cps / 15_000:.0%}"
        return Row(
            stage,
            rate(cps, "cards/s"),
            rate(bcps, "cards/s") if bcps else "failed",
            ratio(cps, bcps),
            target,
            _verdict(ok),
            f"{mb(ours['maxrss_mb'])} / {mb(base.get('maxrss_mb'))}",
            note,
        )

    def sinks(self) -> None:
        count = self.sizes["sink_records"]
        for kind in ("jsonl", "sqlite"):
            suffix = "jsonl" if kind == "jsonl" else "db"
            ours_path, base_path = WORK / f"sink.{suffix}", WORK / f"bare.{suffix}"
            for p in (ours_path, base_path):
                for extra in ("", "-wal", "-shm", ".partial"):
                    Path(f"{p}{extra}").unlink(missing_ok=True)
            ours = self.measure(
                f"sink-{kind}", "sink_plugin", kind=kind, path=str(ours_path), count=count
            )
            base = self.measure(
                f"sink-{kind}-bare", "sink_bare", kind=kind, path=str(base_path), count=count
            )
            what = "upsert + FTS" if kind == "sqlite" else "encode + write"
            stage = f"sink {kind} {count:,} records ({what})"
            target = ">= 0.70x bare loop"
            if not ours["ok"]:
                self.rows.append(not_available(stage, ours["error"], target))
                continue
            rps = ours["records"] / ours["seconds"]
            brps = base["records"] / base["seconds"] if base["ok"] else 0.0
            share = rps / brps if brps else 0.0
            ok = share >= 0.70 and ours["rows"] == count
            note = f"{ours['rows']:,} rows written"
            if kind == "sqlite":
                note += ", FTS index checked"
            if ours["rows"] != count:
                note += f"; expected {count:,}"
            if share < 0.70:
                note += f"; MISS by {(0.70 - share) / 0.70:.0%} of the target"
            note += f"; peak RSS {'<' if ours['maxrss_mb'] < RSS_LIMIT_MB else '>='} 150 MB"
            self.rows.append(
                Row(
                    stage,
                    rate(rps, "rec/s"),
                    rate(brps, "rec/s"),
                    ratio(rps, brps),
                    target,
                    _verdict(ok),
                    f"{mb(ours['maxrss_mb'])} / {mb(base.get('maxrss_mb'))}",
                    note,
                )
            )

    def end_to_end(self) -> None:
        from e2e import EndToEnd

        s = self.sizes
        run = EndToEnd(
            WORK,
            pages=s["pages"],
            cards=s["cards_per_page"],
            concurrency=s["concurrency"],
            measure=self.measure,
        )
        self.rows.extend(run.rows())
        self.notes.extend(run.notes)

    # -- output -------------------------------------------------------------------------------

    def report(self, seconds: float) -> str:
        mode = "quick (smoke sizes, not the targets' sizes)" if self.quick else "full"
        head = [
            "# harvester benchmark results",
            "",
            f"- date: {dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC",
            f"- machine: {_machine()}",
            f"- python: {platform.python_version()} ({platform.platform()})",
            f"- mode: {mode}; sizes: {json.dumps(self.sizes)}",
            f"- wall time: {seconds:.0f} s (target < 600 s); load average at start / end: "
            f"{self.load_start} / {_load()} (other work on the machine skews the figures)",
            "",
        ]
        tail = ["", *(f"- {n}" for n in self.notes)] if self.notes else []
        return "\n".join(head) + markdown(self.rows) + "\n" + "\n".join(tail) + "\n"


def _load() -> str:
    try:
        return " ".join(f"{x:.1f}" for x in os.getloadavg())
    except OSError:
        return "?"


def _verdict(ok: bool) -> str:
    return "PASS" if ok else "MISS"


def _brief(result: dict[str, Any]) -> str:
    if not result.get("ok"):
        return result.get("error", "failed")
    keys = ("seconds", "papers", "entries", "cards", "records", "pages", "maxrss_mb")
    return ", ".join(
        f"{k}={result[k]:.3g}" if isinstance(result[k], float) else f"{k}={result[k]}"
        for k in keys
        if k in result
    )


def _machine() -> str:
    model = ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem = ""
    try:
        kb = int(Path("/proc/meminfo").read_text().split()[1])
        mem = f", {kb / 1024 / 1024:.0f} GB RAM"
    except (OSError, ValueError, IndexError):
        pass
    return f"{os.cpu_count()} cores, {model or platform.processor() or 'unknown CPU'}{mem}"


STAGES = ("dump", "html", "sinks", "e2e")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="small smoke run (seconds)")
    parser.add_argument("--only", choices=STAGES, action="append", help="run only these stages")
    parser.add_argument(
        "--profile",
        action="store_true",
        help="profile every measurement with pyinstrument (bench/_work/profile-*)",
    )
    parser.add_argument(
        "--results",
        type=Path,
        default=None,
        help="write the report here (default: bench/results.md for a full run, "
        "bench/_work/results-quick.md for --quick)",
    )
    args = parser.parse_args(argv)
    sizes = dict(QUICK if args.quick else FULL)
    global WORK
    if args.quick:
        WORK = WORK / "quick"
    WORK.mkdir(parents=True, exist_ok=True)
    bench = Bench(sizes, profile=args.profile, quick=args.quick)
    started = time.monotonic()
    chosen = args.only or list(STAGES)
    steps = {
        "dump": bench.text_dump,
        "html": bench.html,
        "sinks": bench.sinks,
        "e2e": bench.end_to_end,
    }
    for name in STAGES:
        if name in chosen:
            print(f"stage {name} ...", file=sys.stderr, flush=True)
            steps[name]()
    text = bench.report(time.monotonic() - started)
    print(text)
    out = args.results or (WORK / "results-quick.md" if args.quick else HERE / "results.md")
    out.write_text(text)
    (WORK / "results.json").write_text(json.dumps(bench.raw, indent=2, default=str))
    return 0


if __name__ == "__main__":
    sys.exit(main())
