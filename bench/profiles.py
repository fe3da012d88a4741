"""Where the time goes in a command: py-spy samples it from outside (no instrumentation, so
small functions are not inflated) and the samples are put into the run's parts. Every thread
is sampled: a sink's background thread has its own part, and the shares add up to more than
the main thread's time when the threads run at once.

A sample goes to the first part below whose frame is on its stack, most specific first: the
cheap check of trusted sources before "finalise", a sink's own code before the run loop. The
per-record cost of a part is its share of the process's CPU time over the entries read.
"""

from __future__ import annotations

import shutil
import sys
from collections import Counter
from pathlib import Path
from typing import Any

from harness import run_process

# (part, frame names that put a sample into it), most specific first
PARTS: list[tuple[str, tuple[str, ...]]] = [
    ("finalise: cheap check (looks_final)", ("looks_final",)),
    ("finalise: full clean + schema check", ("clean_fields", "convert", "to_builtins")),
    ("finalise: limits (check_limits)", ("check_limits",)),
    ("finalise: key (title_key, arxiv ids)", ("title_key", "arxiv_key", "parse_arxiv_id")),
    ("finalise: rest", ("Finaliser.__call__",)),
    ("source: textdump read + parse", ("TextDumpSource.read",)),
    ("sink: sqlite, its background thread (statements, FTS)", ("SqliteSink._run",)),
    ("sink: sqlite, planning (rows, matching)", ("SqliteSink.write",)),
    (
        "sink: sqlite, commit and close (waits for its thread)",
        ("SqliteSink.commit", "SqliteSink.close"),
    ),
    ("sink: jsonl (encode + write)", ("JsonlSink.write",)),
    ("sink: jsonl commit/close (fsync, rename)", ("JsonlSink.commit", "JsonlSink.close")),
    ("parse: stdout (encode + write)", ("StdoutSink.write", "StdoutSink.commit")),
    ("rejects output", ("StderrRejects.write", "JsonlOutput.write", "JsonlOutput.commit")),
    ("checkpoints (state, commits)", ("Run._checkpoint",)),
    ("run loop (its own code)", ("Run.execute",)),
    ("start-up: plugin loading", ("load_plugins",)),
    ("start-up: imports", ("_find_and_load",)),
]
OTHER = "other (interpreter, click, exit)"


def available() -> str | None:
    """Why profiling cannot run here, or None."""
    if shutil.which("py-spy") or (Path(sys.executable).parent / "py-spy").exists():
        return None
    return "py-spy is not installed (pip install -e '.[bench]')"


def _py_spy() -> str:
    local = Path(sys.executable).parent / "py-spy"
    return str(local) if local.exists() else "py-spy"


def profile_command(
    cmd: list[str], *, cwd: Path, raw: Path, stdout: Path | None, rate: int = 250
) -> dict[str, Any]:
    """Run `cmd` under py-spy; its samples per part."""
    spy = [_py_spy(), "record", "-r", str(rate), "-f", "raw", "-o", str(raw), "--", *cmd]
    done = run_process(spy, cwd=cwd, timeout=600, stdout=stdout, log=raw.with_suffix(".log"))
    if done["status"] != 0 or not raw.exists():
        tail = raw.with_suffix(".log").read_text(errors="replace").strip().splitlines()
        return {"error": f"py-spy exit {done['status']}: {(tail or ['no output'])[-1]}"}
    parts, total = summarise(raw)
    return {"parts": parts, "samples": total, "seconds": done["seconds"]}


def summarise(raw: Path) -> tuple[dict[str, int], int]:
    """Samples per part from py-spy's raw (collapsed stacks) output."""
    parts: Counter[str] = Counter()
    total = 0
    for line in raw.read_text(errors="replace").splitlines():
        stack, _, count = line.rpartition(" ")
        if not count.isdigit():
            continue
        names = {frame.split(" (", 1)[0] for frame in stack.split(";")}
        part = next((p for p, frames in PARTS if not names.isdisjoint(frames)), OTHER)
        parts[part] += int(count)
        total += int(count)
    return dict(parts), total


def markdown(title: str, result: dict[str, Any], entries: int, cpu: float) -> str:
    """A table of the parts: share of the samples, and CPU microseconds per entry, from `cpu`:
    the median CPU seconds of the same command measured without the profiler (py-spy's own
    process does not see its child's CPU time)."""
    if "error" in result:
        return f"#### {title}\n\nnot profiled: {result['error']}\n"
    total = result["samples"] or 1
    lines = [
        f"#### {title}",
        "",
        f"{result['samples']:,} samples; {cpu:.2f} s CPU (median of the unprofiled runs), "
        f"{entries:,} entries: {cpu / max(entries, 1) * 1e6:.1f} CPU us per entry",
        "",
        "| part | share | CPU us per entry |",
        "|---|---|---|",
    ]
    order = [p for p, _ in PARTS] + [OTHER]
    for part in sorted(result["parts"], key=lambda p: -result["parts"][p]):
        share = result["parts"][part] / total
        if share < 0.005 and part in order:
            continue
        lines.append(f"| {part} | {share:.1%} | {share * cpu / max(entries, 1) * 1e6:.1f} |")
    return "\n".join(lines) + "\n"


def top_frames(raw: Path, limit: int = 15) -> list[tuple[str, float]]:
    """The functions with the most samples on their own (self time), with their shares."""
    own: Counter[str] = Counter()
    total = 0
    for line in raw.read_text(errors="replace").splitlines():
        stack, _, count = line.rpartition(" ")
        if count.isdigit():
            leaf = stack.split(";")[-1]
            name, _, where = leaf.partition(" (")
            own[f"{name} ({where.split('/')[-1].split(':')[0]})"] += int(count)
            total += int(count)
    return [(name, n / max(total, 1)) for name, n in own.most_common(limit)]


if __name__ == "__main__":  # summarise a saved raw profile: python bench/profiles.py FILE.txt
    parts, total = summarise(Path(sys.argv[1]))
    for part, n in sorted(parts.items(), key=lambda kv: -kv[1]):
        print(f"{n / total:6.1%}  {part}")
