"""Workers' throughput: daily pages per second for 1, 2, 4 and 8 `harvester worker` processes,
into PostgreSQL (state, queue and the postgres sink).

    python bench/workers.py                    # 160 pages of 30 papers, 1 2 4 8 workers
    python bench/workers.py --pages 80 --workers 1 2 --json out.json
    python bench/workers.py --budget 10/4s     # one shared budget that binds
    python bench/workers.py --status 100000    # `harvester status` of a queue that long

Without `--budget`, against a local server without a budget: for each worker count a fresh
database, `harvester enqueue`, then N workers `--until-done`. Two figures: "wall" from
starting the workers to the last one exiting (their start-up included), and "jobs" from the
first job's start to the last job's end (procrastinate's events): the steady rate. Efficiency
= rate(N) / (N x rate(1)). A one-process `harvester run` of the same pages into the same sink
is the reference.

With `--budget N/Ws`: the server allows exactly that (fixed windows, advertising nothing) and
the config says the same (`min_interval = 0`; no `budget_store`: the state's database holds
the budget). The aggregate rate is pages / T, T from the first page request to the moment the
budget admits the next one (the start of page n-N+1, plus W): the rate the budget sees,
exact for bursts and even pacing alike; it is given as a share of N/W, with the 429s.

With `--status JOBS`: `harvester status CONFIG --json` as a process, its wall time and peak
memory, on a queue of JOBS finished jobs (inserted directly, a day old) and on an empty one,
as interleaved pairs.

The server, PostgreSQL and the workers share this machine's cores: report `nproc` and the load
with the figures.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.fixtures.hf_site import daily_page_2026, make_items  # noqa: E402
from tests.localserver import LocalServer, ok  # noqa: E402
from tests.pg import running_server  # noqa: E402

HARVESTER = [sys.executable, "-m", "harvester.cli"]
FIRST_DAY = dt.date(2023, 1, 1)


def config_text(url: str, site: str, pages: int, state: str, budget: str | None = None) -> str:
    last = FIRST_DAY + dt.timedelta(days=pages - 1)
    budgets = f'budgets = {{ "127.0.0.1" = "{budget}" }}' if budget else ""
    return f"""
[run]
state = "{state}"
rejects = "rejects.jsonl"
[fetch]
min_interval = 0
robots = false
{budgets}
[sources.hf]
plugin = "hf-papers"
base_url = "{site}"
daily_from = {FIRST_DAY}
daily_to = {last}
[sinks.db]
plugin = "postgres"
url = "{url}"
"""


def harvester(*args: str) -> None:
    proc = subprocess.run([*HARVESTER, *args], capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        sys.exit(f"harvester {args[0]} failed:\n{proc.stderr}")


def job_window(url: str) -> float:
    import psycopg

    with psycopg.connect(url) as con:
        first, last = con.execute(
            "SELECT min(at) FILTER (WHERE type = 'started'), "
            "max(at) FILTER (WHERE type = 'succeeded') FROM procrastinate_events"
        ).fetchone()
    return (last - first).total_seconds()


def measure_workers(
    server, site: str, pages: int, workers: int, work: Path, budget: str | None = None
) -> dict:
    url = server.url(server.create_database())
    config = work / f"workers-{workers}.toml"
    text = config_text(url, site, pages, f"{url}?name=bench", budget)
    config.write_text(text, encoding="utf-8")
    harvester("enqueue", str(config))
    started = time.perf_counter()
    command = [*HARVESTER, "worker", str(config), "--until-done"]
    procs = [subprocess.Popen(command, stderr=subprocess.PIPE, text=True) for _ in range(workers)]
    for proc in procs:
        _, stderr = proc.communicate()
        if proc.returncode != 0:
            sys.exit(f"a worker failed:\n{stderr}")
    wall = time.perf_counter() - started
    jobs = job_window(url)
    return {"workers": workers, "pages": pages, "wall_s": round(wall, 2),
            "jobs_s": round(jobs, 2), "wall_pages_s": round(pages / wall, 1),
            "jobs_pages_s": round(pages / jobs, 1)}  # fmt: skip


def measure_single_run(server, site: str, pages: int, work: Path) -> dict:
    url = server.url(server.create_database())
    config = work / "single.toml"
    config.write_text(config_text(url, site, pages, str(work / "state")), encoding="utf-8")
    started = time.perf_counter()
    harvester("run", "-q", str(config))
    wall = time.perf_counter() - started
    return {"workers": "run", "pages": pages, "wall_s": round(wall, 2),
            "wall_pages_s": round(pages / wall, 1)}  # fmt: skip


def budget_rate(starts: list[float], limit: int, window: float) -> float:
    """Pages per second as the budget sees them: n pages over the time from the first start
    to the moment a sliding window of `window` s admits page n+1."""
    starts = sorted(starts)
    admits_next = starts[len(starts) - limit] + window if len(starts) >= limit else starts[0]
    return len(starts) / max(admits_next - starts[0], window)


def measure_budget(args) -> list[dict]:
    """N workers under one shared budget that binds (see the module docstring)."""
    from harvester.fetch.budgets import parse_rate

    rate = parse_rate(args.budget)
    rows = []
    with running_server() as server, tempfile.TemporaryDirectory() as tmp:
        for workers in args.workers:
            with LocalServer() as site:
                site.enforce_budget(rate.limit, int(rate.window), advertise=args.advertise)
                serve(site, args.pages, args.papers)
                told = None if args.advertise else args.budget  # else learned from the server
                row = measure_workers(server, site.url(""), args.pages, workers, Path(tmp), told)
                starts = [r.started for r in site.requests if r.path.startswith("/papers/")]
                achieved = budget_rate(starts, rate.limit, rate.window)
                row.update(rate=round(achieved, 3), share=round(achieved * rate.window /
                           rate.limit, 3), refused=site.rejected)  # fmt: skip
                rows.append(row)
    one = next((r["wall_s"] for r in rows if r["workers"] == 1), None)
    print(f"budget {args.budget} ({rate.limit / rate.window:g} pages/s); cores: "
          f"{os.cpu_count()}, load average after: {os.getloadavg()[0]:.2f}")  # fmt: skip
    jobs_one = next((r["jobs_s"] for r in rows if r["workers"] == 1), None)
    print("workers  pages  rate/s  of budget  429s  jobs s  vs 1 worker  wall s  vs 1 worker")
    for r in rows:
        jobs_vs = f"{r['jobs_s'] / jobs_one:.2f}" if jobs_one else "-"
        wall_vs = f"{r['wall_s'] / one:.2f}" if one else "-"
        print(f"{r['workers']:>7}  {r['pages']:>5}  {r['rate']:>6}  {r['share']:>9.1%}  "
              f"{r['refused']:>4}  {r['jobs_s']:>6}  {jobs_vs:>11}  {r['wall_s']:>6}  "
              f"{wall_vs:>11}")  # fmt: skip
    return rows


def serve(site: LocalServer, pages: int, papers: int) -> None:
    for n in range(pages):
        day = FIRST_DAY + dt.timedelta(days=n)
        page = daily_page_2026(make_items(papers, day=day, seed=n + 1), day=day)
        site.route(f"/papers/date/{day}", ok(page, content_type="text/html"))


def measure_status(args) -> list[dict]:
    """`harvester status --json` of a queue of `args.status` finished jobs and of an empty
    one, as interleaved pairs: wall time and peak memory (the process's maxrss); and the
    queue's own queries (`queue_status`), timed in this process."""

    from tests.test_workers import insert_finished_jobs

    rows: list[dict] = []
    with running_server() as server, LocalServer() as site, tempfile.TemporaryDirectory() as tmp:
        configs, urls = {}, {}
        for size in (0, args.status):
            url = server.url(server.create_database())
            config = Path(tmp) / f"status-{size}.toml"
            config.write_text(config_text(url, site.url(""), 1, f"{url}?name=bench"), "utf-8")
            harvester("enqueue", str(config))
            if size:
                insert_finished_jobs(url, "bench", size)
            configs[size], urls[size] = config, url
        for _pair in range(args.pairs):
            for size, config in configs.items():
                rows.append(status_process(config, size) | {"queries_s": queries(urls[size])})
    print(f"cores: {os.cpu_count()}, load average after: {os.getloadavg()[0]:.2f}")
    print("finished jobs  status s (median)  ratio to empty  peak MB  queue queries ms")
    for size in configs:
        mine = [r for r in rows if r["jobs"] == size]
        empty = [r for r in rows if r["jobs"] == 0]
        print(f"{size:>13}  {median(mine, 'wall_s'):>17}  "
              f"{median(mine, 'wall_s') / median(empty, 'wall_s'):>14.2f}  "
              f"{max(r['peak_mb'] for r in mine):>7}  "
              f"{median(mine, 'queries_s') * 1000:>16.0f}")  # fmt: skip
    return rows


def status_process(config: Path, size: int) -> dict:
    """One `harvester status --json`: its wall time and its own peak memory (wait4)."""
    started = time.perf_counter()
    proc = subprocess.Popen([*HARVESTER, "status", str(config), "--json"],
                            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)  # fmt: skip
    out = proc.stdout.read()
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - started
    proc.returncode = os.waitstatus_to_exitcode(status)
    assert proc.returncode == 0
    done = json.loads(out)["queue"]["done"]
    return {"jobs": size, "done": done, "wall_s": round(wall, 3),
            "peak_mb": round(usage.ru_maxrss / 1024, 1)}  # fmt: skip


def queries(url: str) -> float:
    from harvester_plugins.workers.queue import queue_status

    started = time.perf_counter()
    queue_status(url, "bench")
    return time.perf_counter() - started


def median(rows: list[dict], key: str) -> float:
    values = sorted(r[key] for r in rows)
    return values[len(values) // 2]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--pages", type=int, default=160)
    parser.add_argument("--papers", type=int, default=30, help="papers per daily page")
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2, 4, 8])
    parser.add_argument("--budget", help="one shared budget that binds, e.g. 10/4s")
    parser.add_argument(
        "--advertise",
        action="store_true",
        help="with --budget: the server advertises it, the config says nothing",
    )
    parser.add_argument("--status", type=int, help="finished jobs in the queue for status")
    parser.add_argument("--pairs", type=int, default=5, help="status: interleaved pairs")
    parser.add_argument("--json", type=Path, help="also write the figures here")
    args = parser.parse_args()
    if args.budget or args.status:
        rows = measure_budget(args) if args.budget else measure_status(args)
        if args.json:
            args.json.write_text(json.dumps(rows, indent=2) + "\n", encoding="utf-8")
        return
    rows = []
    load_before = os.getloadavg()[0]
    with running_server() as server, LocalServer() as site, tempfile.TemporaryDirectory() as tmp:
        serve(site, args.pages, args.papers)
        rows.append(measure_single_run(server, site.url(""), args.pages, Path(tmp)))
        for workers in args.workers:
            rows.append(measure_workers(server, site.url(""), args.pages, workers, Path(tmp)))
    base = next((r["jobs_pages_s"] for r in rows if r["workers"] == 1), None)
    print(f"cores: {os.cpu_count()}, load average before: {load_before:.2f}, after: "
          f"{os.getloadavg()[0]:.2f}")  # fmt: skip
    print("workers  pages  wall s  pages/s (wall)  jobs s  pages/s (jobs)  efficiency")
    for r in rows:
        if r["workers"] == "run":
            print(f"{'run':>7}  {r['pages']:>5}  {r['wall_s']:>6}  {r['wall_pages_s']:>14}")
            continue
        r["efficiency"] = round(r["jobs_pages_s"] / (r["workers"] * base), 2) if base else None
        print(f"{r['workers']:>7}  {r['pages']:>5}  {r['wall_s']:>6}  {r['wall_pages_s']:>14}  "
              f"{r['jobs_s']:>6}  {r['jobs_pages_s']:>14}  {r['efficiency']:>10}")  # fmt: skip
    if args.json:
        args.json.write_text(json.dumps(rows, indent=2) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
