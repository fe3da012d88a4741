"""Workers' throughput: daily pages per second for 1, 2, 4 and 8 `harvester worker` processes
against a local server without a budget, into PostgreSQL (state, queue and the postgres sink).

    python bench/workers.py                    # 160 pages of 30 papers, 1 2 4 8 workers
    python bench/workers.py --pages 80 --workers 1 2 --json out.json

For each worker count: a fresh database, `harvester enqueue`, then N workers `--until-done`.
Two figures: "wall" from starting the workers to the last one exiting (their start-up
included), and "jobs" from the first job's start to the last job's end (procrastinate's
events): the steady rate. Efficiency = rate(N) / (N x rate(1)). A one-process `harvester run`
of the same pages into the same sink is the reference. The server, PostgreSQL and the workers
share this machine's cores: report `nproc` and the load with the figures.
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


def config_text(url: str, site: str, pages: int, state: str) -> str:
    last = FIRST_DAY + dt.timedelta(days=pages - 1)
    return f"""
[run]
state = "{state}"
rejects = "rejects.jsonl"
[fetch]
min_interval = 0
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


def measure_workers(server, site: str, pages: int, workers: int, work: Path) -> dict:
    url = server.url(server.create_database())
    config = work / f"workers-{workers}.toml"
    config.write_text(config_text(url, site, pages, f"{url}?name=bench"), encoding="utf-8")
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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--pages", type=int, default=160)
    parser.add_argument("--papers", type=int, default=30, help="papers per daily page")
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2, 4, 8])
    parser.add_argument("--json", type=Path, help="also write the figures here")
    args = parser.parse_args()
    rows = []
    load_before = os.getloadavg()[0]
    with running_server() as server, LocalServer() as site, tempfile.TemporaryDirectory() as tmp:
        for n in range(args.pages):
            day = FIRST_DAY + dt.timedelta(days=n)
            page = daily_page_2026(make_items(args.papers, day=day, seed=n + 1), day=day)
            site.route(f"/papers/date/{day}", ok(page, content_type="text/html"))
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
