"""What saving the run state costs as done targets pile up (`harvester.state`).

* `state_save`: one checkpoint saved the way the run saves it (`apply` + `StateStore.append`:
  one fsynced log line) on a state already holding `done` targets; timed over `saves` saves.
  Paired at 20,000 and at 20 done targets, the ratio says whether saving is linear.
* `state_run`: a real run of many small targets (one tiny text dump each) with `[run] state`,
  checkpointing every `checkpoint_seconds`; every save is timed with the number of targets done
  when it ran, so the first saves (tens done) compare with the last (thousands done). Then the
  same run again, where every target is skipped as done.
"""

from __future__ import annotations

import datetime as dt
import random
import shutil
import statistics
import time
from pathlib import Path
from typing import Any

import gen


def _entry(i: int, now: dt.datetime):
    from harvester.state import TargetState

    return TargetState(
        done_at=now, run_id="bench-run", records=50, fingerprint=f"{1000 + i}:{i * 7919}"
    )


def state_save(directory: str, done: int, saves: int) -> dict[str, Any]:
    from harvester.state import Checkpoint, RunJournal, State, StateStore, apply

    root = Path(directory)
    shutil.rmtree(root, ignore_errors=True)
    store, now = StateStore(root), dt.datetime(2026, 11, 21, 12, 0, tzinfo=dt.UTC)
    journal = RunJournal(started_at=now, run_id="bench-run", sinks={"papers": {"offset": 0}})
    state = State(run=journal)
    state.source("files").done.update((f"files/{i:06d}.txt", _entry(i, now)) for i in range(done))
    started = time.perf_counter()
    store.compact(state)  # the snapshot a resumed or long run starts from
    compact = time.perf_counter() - started
    started, cpu = time.perf_counter(), time.process_time()
    for i in range(saves):
        journal.sinks = {"papers": {"offset": 1000 * i}}
        change = Checkpoint(
            generation=state.generation,
            done=[("files", f"new/{i:06d}.txt", _entry(i, now))],
            run=journal,
        )
        apply(state, change)
        store.append(change, state)
    seconds, cpu = time.perf_counter() - started, time.process_time() - cpu
    line = store.log.stat().st_size / saves
    shutil.rmtree(root, ignore_errors=True)
    return {
        "work": saves,
        "seconds": seconds,
        "cpu": cpu,
        "compact_ms": compact * 1e3,
        "log_line_bytes": line,
    }


def write_small_dumps(directory: Path, count: int) -> None:
    """`count` tiny dumps (a header and one entry each): many small targets."""
    directory.mkdir(parents=True, exist_ok=True)
    rng = random.Random(3)
    for i in range(count):
        path = directory / f"{i:06d}.txt"
        if not path.exists():
            # every file a whole listing: one without its only title is not a dump at all
            path.write_text(gen.HEADER + gen.entry(rng, i, lose_titles=False), encoding="utf-8")


def state_run(directory: str, targets: int, checkpoint_seconds: float) -> dict[str, Any]:
    from harvester.build import build_plan
    from harvester.config import parse_config

    root = Path(directory)
    write_small_dumps(root / "files", targets)
    for stale in ("state", "out"):
        shutil.rmtree(root / stale, ignore_errors=True)
    config = {
        "run": {"state": "state", "checkpoint_seconds": checkpoint_seconds},
        "sources": {"files": {"plugin": "textdump", "inputs": ["files/*.txt"]}},
        "sinks": {"papers": {"plugin": "jsonl", "path": "out/papers.jsonl"}},
    }
    config["sources"]["files"]["captured_on"] = dt.date(2026, 3, 14)
    first = _timed_run(build_plan(parse_config(config, path=root / "harvest.toml")))
    again = _timed_run(build_plan(parse_config(config, path=root / "harvest.toml")))
    saves = first.pop("saves")
    head, tail = saves[:10], saves[-10:]
    return {
        "work": targets,
        "seconds": first["seconds"],
        "cpu": first["cpu"],
        "saves": len(saves),
        "first_saves_ms": statistics.median(s for _, s in head) * 1e3,
        "first_saves_done": [head[0][0], head[-1][0]],
        "last_saves_ms": statistics.median(s for _, s in tail) * 1e3,
        "last_saves_done": [tail[0][0], tail[-1][0]],
        "final_compact_ms": first["compact_ms"],
        "rerun_seconds": again["seconds"],
        "rerun_skipped": again["skipped"],
        "written": first["written"],
    }


def _timed_run(plan) -> dict[str, Any]:
    """Run `plan`, timing every state save (with the done targets at that save)."""
    from harvester.run import Run

    run = Run(plan)
    store, saves, compacts = run.store, [], []
    append, compact = store.append, store.compact

    def timed_append(change, state) -> None:
        t = time.perf_counter()
        append(change, state)
        saves.append((sum(len(s.done) for s in state.sources.values()), time.perf_counter() - t))

    def timed_compact(state) -> None:
        t = time.perf_counter()
        compact(state)
        compacts.append(time.perf_counter() - t)

    store.append, store.compact = timed_append, timed_compact
    started, cpu = time.perf_counter(), time.process_time()
    report = run.execute()
    source = report.sources[0]
    if source.failed or source.error:
        raise RuntimeError(f"state run failed: {source.error or source.failed[:1]}")
    return {
        "seconds": time.perf_counter() - started,
        "cpu": time.process_time() - cpu,
        "saves": saves,
        "compact_ms": compacts[-1] * 1e3 if compacts else None,
        "skipped": source.skipped,
        "written": source.written,
    }


# -- the rows (in the bench's own process) ------------------------------------------------------


def state_rows(work: Path, *, targets: int, saves: int, pairs: int) -> list:
    from harness import interleave, run_stage
    from table import Row, not_available, paired_row

    root = work / "state"
    many, few = {"done": targets, "saves": saves}, {"done": 20, "saves": saves}
    pair = interleave(
        pairs,
        lambda _: run_stage("state_save", {"directory": str(root / "many"), **many}),
        lambda _: run_stage("state_save", {"directory": str(root / "few"), **few}),
    )
    stage = f"state save at {targets:,} done targets vs at 20"
    row = paired_row(stage, pair, "saves/s", "saves/s", ">= 0.80x (linear)", 0.8)
    if pair.ok:
        ours, base = pair.ours[0], pair.base[0]
        row.note = (
            f"one save (apply + one fsynced log line of {ours.data['log_line_bytes']:.0f} B): "
            f"{1e3 / pair.median('ours'):.2f} ms at {targets:,} done, "
            f"{1e3 / pair.median('base'):.2f} ms at 20 (CPU {ours.cpu / ours.work * 1e6:.0f} vs "
            f"{base.cpu / base.work * 1e6:.0f} us; the rest is fsync); a snapshot (every 5,000 "
            f"saves and at the end) costs {ours.data['compact_ms']:.0f} ms at {targets:,}; "
            + row.note
        )
    rows = [row]
    run = run_stage(
        "state_run",
        {"directory": str(root / "run"), "targets": targets, "checkpoint_seconds": 0.01},
    )
    stage = f"a run of {targets:,} small targets with [run] state"
    if not run.ok:
        return [*rows, not_available(stage, run.error or "")]
    d = run.data
    rows.append(
        Row(
            stage,
            f"{run.rate:,.0f} targets/s",
            result="info",
            rss=f"{run.maxrss_mb:.0f} MB" if run.maxrss_mb else "-",
            note=(
                f"{d['saves']} saves (checkpoint every 10 ms): {d['first_saves_ms']:.2f} ms each "
                f"at {d['first_saves_done'][0]:,}-{d['first_saves_done'][1]:,} done, "
                f"{d['last_saves_ms']:.2f} ms at {d['last_saves_done'][0]:,}-"
                f"{d['last_saves_done'][1]:,} (medians of 10); final snapshot "
                f"{d['final_compact_ms']:.0f} ms; the same run again skips all "
                f"{d['rerun_skipped']:,} in {d['rerun_seconds']:.2f} s"
            ),
        )
    )
    return rows
