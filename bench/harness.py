"""Measuring on a shared, noisy machine: processes, samples and interleaved pairs.

Every figure is measured in a process of its own (so its peak RSS and CPU time are its own):
either `bench/stages.py NAME ARGS` (an in-process measurement that times only the work) or a
whole command as a user runs it (`harvester parse ...`, wall time, start-up included).

A stage compares ours with a baseline as interleaved pairs: ours, baseline, ours, baseline, ...
The figure reported is the median of the per-pair ratios, with their spread (min-max), so a
burst of load from other work on the machine hits one pair rather than one side of the table.
Both sides are timed over the same repetitions.
"""

from __future__ import annotations

import contextlib
import json
import os
import platform
import signal
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent


@dataclass
class Sample:
    """One measurement: `work` units done in `seconds` (wall), with the CPU time it took."""

    work: float = 0.0
    seconds: float = 0.0
    cpu: float | None = None  # user + system seconds of the measured process
    maxrss_mb: float | None = None
    data: dict[str, Any] = field(default_factory=dict)  # whatever else the measurement returned
    error: str | None = None

    @property
    def ok(self) -> bool:
        return self.error is None and self.seconds > 0

    @property
    def rate(self) -> float:
        return self.work / self.seconds if self.ok else 0.0

    @property
    def cpu_rate(self) -> float:
        return self.work / self.cpu if self.ok and self.cpu else 0.0


@dataclass
class Pairs:
    """Interleaved samples of ours and a baseline; ratios are ours' rate / the baseline's."""

    ours: list[Sample] = field(default_factory=list)
    base: list[Sample] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return bool(self.ours) and all(s.ok for s in self.ours + self.base)

    @property
    def error(self) -> str | None:
        return next((s.error for s in self.ours + self.base if s.error), None)

    @property
    def ratios(self) -> list[float]:
        return [o.rate / b.rate for o, b in zip(self.ours, self.base, strict=True) if b.rate]

    @property
    def cpu_ratios(self) -> list[float]:
        pairs = zip(self.ours, self.base, strict=True)
        return [o.cpu_rate / b.cpu_rate for o, b in pairs if o.cpu_rate and b.cpu_rate]

    def median(self, side: str = "ours") -> float:
        """Median rate of one side (work per wall second)."""
        return statistics.median(s.rate for s in getattr(self, side))


def median_spread(values: list[float]) -> tuple[float, float, float]:
    """(median, min, max); zeros when there are no values."""
    if not values:
        return 0.0, 0.0, 0.0
    return statistics.median(values), min(values), max(values)


def interleave(count: int, ours: Callable[[int], Sample], base: Callable[[int], Sample]) -> Pairs:
    """`count` pairs, ours first in each; stops early once a side fails (the error is kept)."""
    pairs = Pairs()
    for i in range(count):
        pairs.ours.append(ours(i))
        pairs.base.append(base(i))
        if not (pairs.ours[-1].ok and pairs.base[-1].ok):
            break
    return pairs


# -- processes ---------------------------------------------------------------------------------


def peak_rss_mb(pid: int | str = "self") -> float | None:
    """Peak RSS in MB: VmHWM, which a new program image starts afresh (`ru_maxrss` is carried
    over `execve` from the forking parent on Linux, so a child would report the parent's)."""
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return None


def run_process(
    cmd: list[str],
    *,
    cwd: Path,
    timeout: float,
    stdout: Path | None = None,
    log: Path | None = None,
    env: dict[str, str] | None = None,
) -> dict[str, Any]:
    """Run `cmd` to its end: wall seconds, CPU seconds (rusage), exit status, peak RSS.

    stdout goes to `stdout` (a file, as `> out.jsonl` would), stderr to `log`."""
    out = open(stdout, "wb") if stdout else subprocess.DEVNULL  # noqa: SIM115
    err = open(log, "wb") if log else subprocess.DEVNULL  # noqa: SIM115
    try:
        started = time.perf_counter()
        proc = subprocess.Popen(cmd, cwd=cwd, stdout=out, stderr=err, env=env)
        try:
            status, rusage, peak, timed_out = _wait(proc, started + timeout)
        except BaseException:  # interrupted: the measured process does not outlive the bench
            proc.kill()
            proc.wait()
            raise
        seconds = time.perf_counter() - started
    finally:
        for f in (out, err):
            if f is not subprocess.DEVNULL:
                f.close()
    return {
        "seconds": seconds,
        "cpu": rusage.ru_utime + rusage.ru_stime,
        "status": status,
        "maxrss_mb": peak,
        "timed_out": timed_out,
    }


def _wait(proc: subprocess.Popen, deadline: float):
    """Poll until the child exits (sampling its VmHWM, which only grows), then reap it with
    wait4 for its own CPU time. Kills it past `deadline`."""
    peak, timed_out = 0.0, False
    while True:
        pid, status, rusage = os.wait4(proc.pid, os.WNOHANG)
        if pid:
            break
        peak = max(peak, peak_rss_mb(proc.pid) or 0.0)
        if time.perf_counter() > deadline and not timed_out:
            os.kill(proc.pid, signal.SIGKILL)
            timed_out = True
        time.sleep(0.005)
    proc.returncode = os.waitstatus_to_exitcode(status)
    return proc.returncode, rusage, peak or None, timed_out


def run_stage(name: str, args: dict[str, Any], *, timeout: float = 900) -> Sample:
    """`bench/stages.py NAME ARGS` in its own process; its result as a `Sample`.

    The stage prints one JSON object: `work` and `seconds` (only the work measured), any other
    figures, or `error`."""
    cmd = [sys.executable, str(HERE / "stages.py"), name, json.dumps(args)]
    log = Path(os.environ.get("BENCH_LOG_DIR", "/tmp")) / f"stage-{name}.log"
    env = dict(os.environ)
    if os.environ.get("BENCH_STAGE_PLUGINS"):
        # a stage loads only the plugins it measures: its start-up is not timed, only the
        # bench's own wall time pays it (the command-line stages load every plugin, as users do)
        env["HARVESTER_PLUGINS"] = os.environ["BENCH_STAGE_PLUGINS"]
    done = run_process(
        cmd, cwd=ROOT, timeout=timeout, stdout=log.with_suffix(".out"), log=log, env=env
    )
    lines = [ln for ln in log.with_suffix(".out").read_text().splitlines() if ln.startswith("{")]
    if done["timed_out"]:
        return Sample(error=f"{name}: timed out after {timeout:.0f} s")
    if not lines:
        tail = (log.read_text(errors="replace").strip().splitlines() or ["no output"])[-1]
        return Sample(error=f"{name}: exit {done['status']}: {tail}")
    result = json.loads(lines[-1])
    return Sample(
        work=result.pop("work", 0.0),
        seconds=result.pop("seconds", 0.0),
        cpu=result.pop("cpu", None),  # the stage's own CPU time over the timed work
        maxrss_mb=result.pop("maxrss_mb", None) or done["maxrss_mb"],
        error=result.pop("error", None),
        data=result,
    )


# -- the machine -------------------------------------------------------------------------------


def load_average() -> str:
    try:
        return " ".join(f"{x:.2f}" for x in os.getloadavg())
    except OSError:
        return "?"


def machine() -> str:
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
    cpu = model or platform.processor() or "unknown CPU"
    return f"{os.cpu_count()} cores, {cpu}{mem}"


def tree_size(path: Path) -> int:
    """Bytes under `path` (0 when it does not exist)."""
    total = 0
    for dirpath, _, files in os.walk(path):
        for name in files:
            with contextlib.suppress(OSError):  # removed while walking
                total += os.lstat(os.path.join(dirpath, name)).st_size
    return total


def count_lines(path: Path) -> int:
    if not path.exists():
        return 0
    with open(path, "rb") as f:
        return sum(block.count(b"\n") for block in iter(lambda: f.read(1 << 22), b""))


def last_line(log: Path) -> str:
    """The last line of a log that is not a warning, a reject or a traceback's inner line:
    usually the error itself."""
    if not log.exists():
        return "no output"
    lines = [ln for ln in log.read_text(errors="replace").splitlines() if ln.strip()]
    skip = ("Warning", "rejected:")
    lines = [ln for ln in lines if not ln.startswith(" ") and not any(w in ln for w in skip)]
    return lines[-1].strip()[:300] if lines else "no output"
