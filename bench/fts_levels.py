"""What each FTS5 `detail` level costs on its own: the index over the title and abstract of a
sink database built from scratch ('rebuild'), best of N, CPU and wall time, and its size.

    python bench/fts_levels.py bench/_work/db_sinks/sink.db [--repeat 3]
"""

from __future__ import annotations

import argparse
import shutil
import sqlite3
import tempfile
import time
from pathlib import Path


def build(path: Path, level: str) -> tuple[float, float, int]:
    db = sqlite3.connect(path, isolation_level=None)
    db.execute("PRAGMA cache_size = -65536")
    db.execute("DROP TABLE IF EXISTS papers_fts")
    db.execute("VACUUM")
    before = db.execute("PRAGMA page_count").fetchone()[0]
    db.execute("BEGIN")
    db.execute(
        "CREATE VIRTUAL TABLE papers_fts USING fts5(title, abstract, content='papers', "
        f"content_rowid='id', detail={level})"
    )
    wall, cpu = time.perf_counter(), time.process_time()
    db.execute("INSERT INTO papers_fts (papers_fts) VALUES ('rebuild')")
    db.execute("COMMIT")
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    pages = db.execute("PRAGMA page_count").fetchone()[0] - before
    size = pages * db.execute("PRAGMA page_size").fetchone()[0]
    db.close()
    return wall, cpu, size


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("database", type=Path)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp) / "fts.db"
        shutil.copy(args.database, work)
        rows = sqlite3.connect(work).execute("SELECT count(*) FROM papers").fetchone()[0]
        print(f"FTS5 index over {rows:,} papers (title + abstract), best of {args.repeat}")
        print("| detail | build, CPU | build, wall | index size |")
        print("|---|---|---|---|")
        results = {}
        for _ in range(args.repeat):  # levels interleaved: a busy spell hits all alike
            for level in ("full", "column", "none"):
                wall, cpu, size = build(work, level)
                old = results.get(level, (wall, cpu, size))
                results[level] = (min(wall, old[0]), min(cpu, old[1]), size)
        full_cpu = results["full"][1]
        for level, (wall, cpu, size) in results.items():
            print(
                f"| {level} | {cpu:.1f} s ({cpu / full_cpu:.0%}) | {wall:.1f} s "
                f"| {size / 1e6:,.0f} MB |"
            )


if __name__ == "__main__":
    main()
