"""Before/after for a change to the core: `python bench/ab.py BEFORE AFTER [--path NAME]...`.

BEFORE and AFTER are commits (anything `git archive` takes). Each one's `harvester/` package
is unpacked under bench/_work/ab/ and put first on PYTHONPATH of the commands (the plugins stay
those of the working tree), then the command-line paths run as interleaved pairs: before,
after, before, after, ... on the same generated dump. Prints each path's median ratio
after/before (> 1: the change is faster) with its spread, on wall and on CPU time. Meant for
deciding on a cherry-pick; the working files are removed at the end.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import gen  # noqa: E402
from dump import CLI_PATHS, DumpStages  # noqa: E402
from harness import ROOT, interleave, load_average, median_spread  # noqa: E402


def unpack(commit: str, into: Path) -> dict[str, str]:
    """The environment that runs `commit`'s core: its harvester/ first on PYTHONPATH."""
    into.mkdir(parents=True)
    archive = subprocess.run(
        ["git", "archive", commit, "harvester"], cwd=ROOT, check=True, capture_output=True
    ).stdout
    subprocess.run(["tar", "-x", "-C", str(into)], input=archive, check=True)
    return {**os.environ, "PYTHONPATH": str(into)}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("before")
    parser.add_argument("after")
    parser.add_argument("--path", choices=list(CLI_PATHS), action="append")
    parser.add_argument("--pairs", type=int, default=5)
    parser.add_argument("--dump-mb", type=int, default=60)
    args = parser.parse_args(argv)
    work = HERE / "_work" / "ab"
    shutil.rmtree(work, ignore_errors=True)
    try:
        envs = [unpack(c, work / side) for c, side in ((args.before, "a"), (args.after, "b"))]
        stages = DumpStages(work, dump_mb=args.dump_mb, big_factor=1, pairs=args.pairs)
        gen.write_textdump(stages.path, args.dump_mb * 1_000_000)
        print(f"load at start: {load_average()}")
        for name in args.path or list(CLI_PATHS):
            pairs = interleave(
                args.pairs,
                lambda _, n=name: stages.run_cli(n, envs[1]),  # "ours" = after
                lambda _, n=name: stages.run_cli(n, envs[0]),
            )
            if not pairs.ok:
                print(f"{name}: failed: {pairs.error}")
                continue
            wall, low, high = median_spread(pairs.ratios)
            cpu, _, _ = median_spread(pairs.cpu_ratios)
            print(
                f"{name}: after/before {wall:.3f}x wall ({low:.3f}-{high:.3f}, "
                f"{len(pairs.ratios)} pairs), {cpu:.3f}x CPU; after "
                f"{pairs.median('ours') / 1e6:.1f} MB/s, before {pairs.median('base') / 1e6:.1f}"
            )
        print(f"load at end: {load_average()}")
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
