"""The database sinks in detail: fresh load, replay and re-read, per FTS level, against the bare
loop (the postgres sink: against a plain COPY). Each measurement runs in its own process through
`stages.py`, like `run.py` does.

    python bench/db_sinks.py --count 1000000           # the sqlite figures in docs/sqlite.md
    python bench/db_sinks.py --count 200000 --fts full

* fresh: a new database, `count` distinct records (batches of 1,000, a commit every 50,000);
* replay: the same records again, same `harvested_at` (a resumed run, a repeated input);
* re-read: the same records harvested a day later (a new run reading unchanged listings).
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
WORK = HERE / "_work" / "db_sinks"


def measure(stage: str, **args) -> dict:
    out = subprocess.run(
        [sys.executable, str(HERE / "stages.py"), stage, json.dumps(args)],
        capture_output=True,
        text=True,
        check=False,
    )
    lines = out.stdout.strip().splitlines()
    result = json.loads(lines[-1]) if lines else {"error": "no output"}
    if result.get("error"):
        sys.exit(f"{stage} {args}: {result['error']}\n{out.stderr}")
    return result


def fresh_path(name: str) -> str:
    path = WORK / name
    for suffix in ("", "-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)
    return str(path)


def best(runs: list[dict]) -> dict:
    """The fastest of repeated measurements: the machine is shared, noise only slows."""
    return min(runs, key=lambda r: r["seconds"])


def sqlite_rows(count: int, levels: list[str], repeat: int) -> list[str]:
    lines = []
    for level in levels:
        fts = False if level == "off" else level
        bares, fresh_runs = [], []
        for _ in range(repeat):  # alternated, so that a busy spell hits both alike
            bare_path, path = fresh_path("bare.db"), fresh_path("sink.db")
            options = {"fts": fts}
            bares.append(
                measure("sink_bare", kind="sqlite", path=bare_path, count=count, options=options)
            )
            fresh_runs.append(
                measure("sink_plugin", kind="sqlite", path=path, count=count, options=options)
            )
        bare = best(bares)
        runs = {
            "fresh": best(fresh_runs),
            "replay": measure(
                "sink_plugin", kind="sqlite", path=path, count=count, options=options
            ),
            "re-read": measure(
                "sink_plugin",
                kind="sqlite",
                path=path,
                count=count,
                options=options,
                shift_hours=24,
            ),
        }
        size = Path(path).stat().st_size / 1e6
        base = count / bare["seconds"]
        fresh = count / runs["fresh"]["seconds"]
        # CPU time of the process (SQLite runs in it): what the work costs, the box's load aside.
        cpu = min(r["cpu"] for r in bares) / min(r["cpu"] for r in fresh_runs)
        again = [runs[k]["seconds"] for k in ("replay", "re-read")]
        share = [s / runs["fresh"]["seconds"] for s in again]
        lines.append(
            f"| {level} | {fresh:,.0f} | {base:,.0f} | {fresh / base:.2f}x | {cpu:.2f}x "
            f"| {again[0]:.1f} s ({share[0]:.0%}) | {again[1]:.1f} s ({share[1]:.0%}) "
            f"| {size:,.0f} MB | {runs['fresh']['maxrss_mb']:.0f} MB |"
        )
        print(lines[-1], flush=True)
    return lines


def postgres_rows(count: int) -> list[str]:
    """The postgres sink against a plain COPY of its rows, on a throw-away server."""
    sys.path.insert(0, str(HERE.parent))
    from tests.pg import running_server

    with running_server() as server:
        bare = measure("sink_bare", kind="postgres", path=server.url(server.create_database()),
                       count=count)  # fmt: skip
        url = server.url(server.create_database())
        runs = {
            "fresh": measure("sink_plugin", kind="postgres", path=url, count=count),
            "replay": measure("sink_plugin", kind="postgres", path=url, count=count),
            "re-read": measure(
                "sink_plugin", kind="postgres", path=url, count=count, shift_hours=24
            ),
        }
    base, fresh = count / bare["seconds"], count / runs["fresh"]["seconds"]
    again = [runs[k]["seconds"] for k in ("replay", "re-read")]
    share = [s / runs["fresh"]["seconds"] for s in again]
    line = (
        f"| postgres | {fresh:,.0f} | {base:,.0f} | {fresh / base:.2f}x "
        f"| {again[0]:.1f} s ({share[0]:.0%}) | {again[1]:.1f} s ({share[1]:.0%}) "
        f"| {runs['fresh']['rows']:,} rows, {runs['fresh']['fts_hits']:,} search hits "
        f"(bare: {bare['fts_hits']:,}) | {runs['fresh']['maxrss_mb']:.0f} MB |"
    )
    print(line, flush=True)
    return [line]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=200_000)
    parser.add_argument("--fts", action="append", choices=["full", "column", "none", "off"])
    parser.add_argument("--postgres", action="store_true", help="the postgres sink only")
    parser.add_argument("--repeat", type=int, default=1, help="fresh loads: the best of N")
    args = parser.parse_args()
    WORK.mkdir(parents=True, exist_ok=True)
    if args.postgres:
        print(f"postgres sink, {args.count:,} records")
        print("| sink | ours rec/s | bare rec/s | ratio | replay | re-read | check | peak RSS |")
        print("|---|---|---|---|---|---|---|---|")
        postgres_rows(args.count)
        return
    print(f"sqlite sink, {args.count:,} records")
    print("| fts | ours rec/s | bare rec/s | ratio | ratio (CPU) | replay (of fresh) |", end="")
    print(" re-read (of fresh) | db size | peak RSS |")
    print("|---|---|---|---|---|---|---|---|---|")
    sqlite_rows(args.count, args.fts or ["full", "column", "none", "off"], args.repeat)


if __name__ == "__main__":
    main()
