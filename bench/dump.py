"""The text-dump stages: the plugin alone, the command-line paths as a user runs them, what
trusting a source saves, start-up, and memory on a 10x dump.

Every figure is a ratio to the msgspec floor (`baselines.msgspec_floor`: the records the dump
holds, read from JSONL into `Paper`s and encoded and written again) measured in the same run,
as interleaved pairs, in records per second.

* plugin only: `textdump` through the core's run loop into a null sink (`drive.run_null`).
* `harvester parse textdump FILE > out.jsonl`, `harvester run` into JSONL, and into JSONL and
  SQLite together: each a process, timed on the wall from start to exit (start-up included),
  its output checked (every paper written).
* trusted: the same source class with `trusted = False` (full finalisation) as the baseline,
  and the cheap check's own time as a share of the run.
"""

from __future__ import annotations

import random
import shutil
import statistics
import sys
from pathlib import Path

import gen
import profiles
from harness import Sample, count_lines, interleave, last_line, run_process, run_stage
from table import Row, mb, not_available, paired_row, verdict

RSS_LIMIT_MB, RSS_GROWTH_MB = 150.0, 20.0
HELP_SECONDS = 0.12
CAPTURED_ON = "2026-03-14"

CLI_PATHS = {  # name -> (row label, sinks in the config, target share of the floor)
    "parse": ("`harvester parse textdump FILE > out.jsonl`", (), 1 / 3),
    "run-jsonl": ("`harvester run` into JSONL", ("jsonl",), 1 / 3),
    "run-both": ("`harvester run` into JSONL + SQLite", ("jsonl", "sqlite"), 1 / 4),
}


class DumpStages:
    def __init__(self, work: Path, *, dump_mb: int, big_factor: int, pairs: int):
        self.dir = work / "dump"
        self.dir.mkdir(parents=True, exist_ok=True)
        self.dump_mb, self.big_factor, self.pairs = dump_mb, big_factor, pairs
        self.path = self.dir / f"dump-{dump_mb}mb.txt"
        self.papers: int | None = None  # records the dump holds (make_records)
        self.entries: int | None = None
        self.profile_texts: list[str] = []
        self.cli_cpu: dict[str, float] = {}  # median CPU seconds of each command-line path

    def rows(self, *, profiles: bool) -> list[Row]:
        if not self.path.exists():
            gen.write_textdump(self.path, self.dump_mb * 1_000_000)
        why = self.make_records()
        if why:
            return [not_available("text dump stages", why)]
        rows = self.plugin_only() + self.trusted_cost() + self.core_only()
        for name in CLI_PATHS:
            rows.append(self.cli(name))
        rows.extend(self.startup())
        rows.extend(self.big_dump())
        if profiles:
            self.profile_cli()
        return rows

    @property
    def size(self) -> str:
        return f"{self.path.stat().st_size / 1e6:.0f} MB"

    def make_records(self) -> str | None:
        """The records the dump holds, as JSONL (`harvester parse`, untimed): what the floor
        reads and writes. None, or why they could not be made."""
        argv, cwd, stdout = self.command("parse")
        done = run_process(argv, cwd=cwd, timeout=900, stdout=stdout, log=cwd / "stderr.txt")
        if done["status"] != 0:
            return f"harvester parse failed: {last_line(cwd / 'stderr.txt')}"
        self.records = self.dir / "records.jsonl"
        stdout.replace(self.records)
        self.papers = count_lines(self.records)
        return None

    def floor(self, _: int = 0) -> Sample:
        out = self.dir / "floor-out.jsonl"
        return run_stage("dump_floor", {"records": str(self.records), "out": str(out)})

    # -- in process ----------------------------------------------------------------------------

    def plugin_only(self) -> list[Row]:
        args = {"path": str(self.path)}
        # an info row (nothing written, no target): one pair, as the other info rows
        pairs = interleave(1, lambda _: run_stage("dump_plugin", args), self.floor)
        stage = f"text dump {self.size}, plugin only (through the run loop, null sink)"
        row = paired_row(stage, pairs, "rec/s", "rec/s")
        if not pairs.ok:
            return [row]
        first = pairs.ours[0].data
        self.entries = first["entries"]
        mb_s = statistics.median(s.data["bytes"] / s.seconds for s in pairs.ours) / 1e6
        row.note = (
            f"{first['entries']:,} entries, {first['rejected']} rejected, {mb_s:.0f} MB/s of "
            f"dump; nothing written, so no target; {row.note}"
        )
        per_entry = [s.seconds / first["entries"] * 1e6 for s in pairs.ours]
        floor_entry = [s.seconds / first["entries"] * 1e6 for s in pairs.base]
        info = Row(
            f"text dump {self.size}, plugin only (us per entry)",
            f"{sorted(per_entry)[len(per_entry) // 2]:.1f} us",
            f"{sorted(floor_entry)[len(floor_entry) // 2]:.1f} us",
            result="info",
            note="wall time per entry; the floor's: its time over the same entry count",
        )
        return [row, info]

    def trusted_cost(self) -> list[Row]:
        trusted = {"path": str(self.path), "time_check": True}
        untrusted = {"path": str(self.path), "trusted": False}
        pairs = interleave(
            1,  # info rows: one pair keeps the full run under 10 minutes
            lambda _: run_stage("dump_plugin", trusted),
            lambda _: run_stage("dump_plugin", untrusted),
        )
        stage = "textdump trusted vs the same class with trusted = False"
        row = paired_row(stage, pairs, "rec/s", "rec/s")
        if pairs.ok:
            shares = [s.data["check_seconds"] / s.seconds for s in pairs.ours]
            per = [s.data["check_seconds"] / s.data["check_calls"] * 1e6 for s in pairs.ours]
            row.note = (
                f"the cheap check (looks_final) takes {sorted(shares)[len(shares) // 2]:.0%} "
                f"of the trusted run, {sorted(per)[len(per) // 2]:.1f} us per record; "
                f"{row.note}"
            )
        return [row]

    def core_only(self) -> list[Row]:
        """The core's own cost per record, without any parser: the papers textdump built,
        replayed (copies) through the run loop into a null sink, against the bare replay."""
        args = {"path": str(self.path), "records": 50_000}
        pairs = interleave(
            1,
            lambda _: run_stage("core_only", args),
            lambda _: run_stage("core_only", {**args, "bare": True}),
        )
        row = paired_row("core alone: run loop + finalise per record", pairs, "rec/s", "rec/s")
        if pairs.ok:
            ours = statistics.median(s.cpu / s.work for s in pairs.ours) * 1e6
            bare = statistics.median(s.cpu / s.work for s in pairs.base) * 1e6
            row.note = (
                f"{ours - bare:.1f} CPU us per record for the core (trusted source, no parser, "
                f"no encoding): papers replayed from the dump, {bare:.1f} us for the bare replay "
                f"subtracted; {row.note}"
            )
        return [row]

    # -- as a user runs it ---------------------------------------------------------------------

    def command(self, name: str) -> tuple[list[str], Path, Path | None]:
        """(argv, working directory, where stdout goes) of one command-line path."""
        cwd = self.dir / name
        shutil.rmtree(cwd, ignore_errors=True)
        cwd.mkdir()
        if name == "parse":
            argv = [
                *harvester(),
                "parse",
                "textdump",
                str(self.path),
                "-o",
                f"captured_on={CAPTURED_ON}",
            ]
            return argv, cwd, cwd / "out.jsonl"
        sinks = CLI_PATHS[name][1]
        config = cwd / "harvest.toml"
        text = (
            '[run]\nrejects = "out/rejects.jsonl"\n\n[sources.dump]\nplugin = "textdump"\n'
            f'inputs = ["{self.path}"]\ncaptured_on = {CAPTURED_ON}\n'
        )
        for sink in sinks:
            ext = "jsonl" if sink == "jsonl" else "db"
            text += f'\n[sinks.{sink}]\npath = "out/papers.{ext}"\n'
        config.write_text(text)
        return [*harvester(), "run", "-q", str(config)], cwd, None

    def run_cli(self, name: str, env: dict[str, str] | None = None) -> Sample:
        argv, cwd, stdout = self.command(name)
        log = cwd / "stderr.txt"
        done = run_process(argv, cwd=cwd, timeout=900, stdout=stdout, log=log, env=env)
        out = stdout or cwd / "out" / "papers.jsonl"
        lines = count_lines(out)
        sample = Sample(
            work=lines,
            seconds=done["seconds"],
            cpu=done["cpu"],
            maxrss_mb=done["maxrss_mb"],
            data={"lines": lines},
        )
        if done["status"] != 0 or (self.papers is not None and lines != self.papers):
            why = last_line(cwd / "stderr.txt")
            sample.error = f"exit {done['status']}, {lines:,} of {self.papers} papers: {why}"
        shutil.rmtree(cwd / "out", ignore_errors=True)
        if stdout:
            stdout.unlink(missing_ok=True)
        return sample

    def cli(self, name: str) -> Row:
        label, _, need = CLI_PATHS[name]
        pairs = interleave(self.pairs, lambda _: self.run_cli(name), self.floor)
        stage = f"{label}, {self.size} dump"
        row = paired_row(stage, pairs, "rec/s", "rec/s", f">= {need:.2f}x floor", need)
        if pairs.ok:
            self.cli_cpu[name] = statistics.median(s.cpu or 0.0 for s in pairs.ours)
            seconds = statistics.median(s.seconds for s in pairs.ours)
            row.note = (
                f"{self.papers:,} records in {seconds:.2f} s: a process, wall time from start to "
                f"exit (the floor's in-process); {row.note}"
            )
        return row

    def startup(self) -> list[Row]:
        """What a command costs before any work: `harvester --help` (graded), `parse` on a
        one-entry dump and `run` of it into JSONL (the plugins they use loaded, no other)."""
        tiny = self.dir / "tiny.txt"
        tiny.write_text(gen.HEADER + gen.entry(random.Random(1), 1))
        config = self.dir / "tiny.toml"
        config.write_text(
            f'[sources.dump]\nplugin = "textdump"\ninputs = ["{tiny}"]\n'
            f'captured_on = {CAPTURED_ON}\n\n[sinks.jsonl]\npath = "tiny-out/papers.jsonl"\n'
        )
        commands = {
            "`harvester --help`": [*harvester(), "--help"],
            "`harvester parse` on a one-entry dump": [
                *harvester(), "parse", "textdump", str(tiny), "-o", f"captured_on={CAPTURED_ON}"
            ],
            "`harvester run` of it into JSONL": [*harvester(), "run", "-q", str(config)],
        }  # fmt: skip
        rows = []
        for label, argv in commands.items():
            times = [run_process(argv, cwd=self.dir, timeout=60) for _ in range(max(3, self.pairs))]
            if any(t["status"] != 0 for t in times):
                rows.append(not_available(f"start-up: {label}", "the command failed"))
                continue
            wall = statistics.median(t["seconds"] for t in times)
            cpu = statistics.median(t["cpu"] for t in times)
            graded = label == "`harvester --help`"
            rows.append(
                Row(
                    f"start-up: {label}",
                    f"{wall:.3f} s",
                    target=f"< {HELP_SECONDS} s" if graded else "-",
                    result=verdict(wall < HELP_SECONDS) if graded else "info",
                    note=f"median of {len(times)} (min {min(t['seconds'] for t in times):.3f} s); "
                    f"{cpu:.3f} s CPU; a process from start to exit",
                )
            )
        shutil.rmtree(self.dir / "tiny-out", ignore_errors=True)
        return rows

    def big_dump(self) -> list[Row]:
        big = self.dir / f"dump-{self.dump_mb * self.big_factor}mb.txt"
        gen.repeat_file(self.path, big, self.big_factor)
        try:  # one file of more entries than a run takes by default (run.max_entries)
            ours = run_stage("dump_plugin", {"path": str(big), "max_entries": 10_000_000})
        finally:
            big.unlink(missing_ok=True)
        small = run_stage("dump_plugin", {"path": str(self.path)})
        stage = f"text dump {self.dump_mb * self.big_factor} MB, plugin only (peak RSS)"
        target = f"< {RSS_LIMIT_MB:.0f} MB, flat"
        if not (ours.ok and small.ok):
            return [not_available(stage, ours.error or small.error or "", target)]
        growth = ours.maxrss_mb - small.maxrss_mb
        ok = ours.maxrss_mb < RSS_LIMIT_MB and growth <= RSS_GROWTH_MB
        note = (
            f"{ours.data['entries']:,} entries at {ours.rate:,.0f} records/s (one pass); RSS "
            f"{growth:+.1f} MB vs the {self.size} dump"
        )
        return [Row(stage, mb(ours.maxrss_mb), target=target, result=verdict(ok),
                    rss=mb(ours.maxrss_mb), note=note)]  # fmt: skip

    # -- profiles ------------------------------------------------------------------------------

    def profile_cli(self) -> None:
        why = profiles.available()
        for name, (label, _, _) in CLI_PATHS.items():
            title = f"{label}, {self.size} dump"
            if why:
                self.profile_texts.append(f"#### {title}\n\nnot profiled: {why}\n")
                continue
            argv, cwd, stdout = self.command(name)
            raw = self.dir / f"profile-{name}.txt"
            result = profiles.profile_command(argv, cwd=cwd, raw=raw, stdout=stdout)
            cpu = self.cli_cpu.get(name, 0.0)
            text = profiles.markdown(title, result, self.entries or 1, cpu)
            if "error" not in result:
                top = profiles.top_frames(raw, 8)
                text += "\nmost self time: " + ", ".join(f"{n} {s:.0%}" for n, s in top) + "\n"
            self.profile_texts.append(text)
            shutil.rmtree(cwd, ignore_errors=True)


def harvester() -> list[str]:
    """The `harvester` command of this interpreter's environment, as a user runs it."""
    script = Path(sys.executable).parent / "harvester"
    return [str(script)] if script.exists() else [sys.executable, "-m", "harvester.cli"]
