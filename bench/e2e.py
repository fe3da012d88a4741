"""End to end: `harvester run` (a real subprocess) against a local server, vs a Scrapy project.

Both crawl the same generated daily listing pages on 127.0.0.1 at the same concurrency, extract
the papers from each page's embedded JSON and write JSON lines. The server's own ceiling (a bare
httpx loop, same concurrency) is measured too, to show it is not the bottleneck.
"""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import gen
import scrapy_baseline
from stages import peak_rss_mb
from table import Row, mb, not_available, rate, ratio

HERE = Path(__file__).resolve().parent


def _count_lines(path: Path) -> int:
    if not path.exists():
        return 0
    with open(path, "rb") as f:
        return sum(block.count(b"\n") for block in iter(lambda: f.read(1 << 22), b""))


def _last_line(log: Path) -> str:
    """The last non-warning line of a log: usually the error itself."""
    lines = [ln for ln in log.read_text(errors="replace").splitlines() if ln.strip()]
    lines = [ln for ln in lines if "Warning" not in ln and not ln.startswith(" ")] or lines
    return lines[-1].strip()[:300] if lines else "no output"


def timed_process(cmd: list[str], *, cwd: Path, timeout: float, log: Path) -> dict[str, Any]:
    """Run `cmd`; wall seconds, exit status and the child's own peak RSS (VmHWM, sampled)."""
    with open(log, "wb") as out:
        t = time.perf_counter()
        proc = subprocess.Popen(cmd, cwd=cwd, stdout=out, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + timeout
        peak, timed_out = 0.0, False
        while proc.poll() is None:
            # VmHWM only grows: the last sample before exit is the process's peak RSS
            peak = max(peak, peak_rss_mb(proc.pid) or 0.0)
            if time.monotonic() > deadline:
                proc.kill()
                proc.wait()
                timed_out = True
                break
            time.sleep(0.01)
        seconds = time.perf_counter() - t
    return {
        "seconds": seconds,
        "status": proc.returncode,
        "maxrss_mb": peak or None,
        "timed_out": timed_out,
    }


class EndToEnd:
    def __init__(
        self,
        work: Path,
        *,
        pages: int,
        cards: int,
        concurrency: int,
        measure: Callable[..., dict[str, Any]],
    ):
        self.work, self.pages, self.cards, self.n = work, pages, cards, concurrency
        self.measure = measure
        self.notes: list[str] = []
        self.dir = work / "e2e"
        self.dir.mkdir(parents=True, exist_ok=True)

    def rows(self) -> list[Row]:
        site = self.work / f"site-{self.pages}x{self.cards}"
        size = gen.write_site(site, self.pages, self.cards)
        self.notes.append(
            f"end to end: {self.pages:,} daily pages of {self.cards} papers "
            f"({size / 1e6:.0f} MB) on 127.0.0.1, concurrency {self.n}"
        )
        server = subprocess.Popen(
            [sys.executable, str(HERE / "server.py"), str(site)], stdout=subprocess.PIPE, text=True
        )
        try:
            port = int(server.stdout.readline())
            base = f"http://127.0.0.1:{port}"
            urls = [f"{base}/papers/date/{d.isoformat()}" for d in gen.site_days(self.pages)]
            urls_file = self.dir / "urls.txt"
            urls_file.write_text("\n".join(urls) + "\n")
            ceiling = self.measure(
                "e2e-server-alone", "http_bare", urls_file=str(urls_file), concurrency=self.n
            )
            ours = self._harvester(base, urls)
            scrapy = self._scrapy(urls_file)
        finally:
            server.terminate()
            server.wait(timeout=10)
        return self._table(ours, scrapy, ceiling)

    def _harvester(self, base: str, urls: list[str]) -> dict[str, Any]:
        out = self.dir / "papers.jsonl"
        out.unlink(missing_ok=True)
        config = self.dir / "harvest.toml"
        inputs = ",\n  ".join(f'"{u}"' for u in urls)
        config.write_text(
            '[run]\nrejects = "rejects.jsonl"\n\n'
            f"[fetch]\nmin_interval = 0\nper_host_concurrency = {self.n}\nmax_attempts = 1\n\n"
            f'[sources.site]\nplugin = "hf-papers"\nbase_url = "{base}"\n'
            f"inputs = [\n  {inputs}\n]\n\n"
            '[sinks.papers]\nplugin = "jsonl"\npath = "papers.jsonl"\n'
        )
        cmd = [
            sys.executable,
            "-m",
            "harvester.cli",
            "run",
            "-q",
            str(config),
            "--summary-json",
            str(self.dir / "summary.json"),
        ]
        result = timed_process(cmd, cwd=self.dir, timeout=600, log=self.dir / "harvester.log")
        result["records"] = _count_lines(out)
        if result["status"] != 0 or not result["records"]:
            why = _last_line(self.dir / "harvester.log")
            result["error"] = (
                f"harvester run exit {result['status']}: {why} (log: e2e/harvester.log)"
            )
        return result

    def _scrapy(self, urls_file: Path) -> dict[str, Any]:
        try:
            import scrapy  # noqa: F401
        except ImportError:
            return {
                "error": "not available: scrapy is not installed ("
                "the bench extra: pip install -e '.[bench]')"
            }
        project = self.dir / "scrapy_project"
        feed = self.dir / "scrapy.jsonl"
        feed.unlink(missing_ok=True)
        scrapy_baseline.write_project(project, urls_file=urls_file, feed=feed, concurrency=self.n)
        cmd = [sys.executable, "-m", "scrapy", "crawl", "listing"]
        result = timed_process(cmd, cwd=project, timeout=600, log=self.dir / "scrapy.log")
        result["records"] = _count_lines(feed)
        if result["status"] != 0 or not result["records"]:
            why = _last_line(self.dir / "scrapy.log")
            result["error"] = f"scrapy exit {result['status']}: {why} (log: e2e/scrapy.log)"
        return result

    def _table(self, ours: dict, scrapy: dict, ceiling: dict) -> list[Row]:
        rows = []
        expected = self.pages * self.cards
        if ceiling.get("ok"):
            cps = ceiling["pages"] / ceiling["seconds"]
            rows.append(
                Row(
                    "server alone (bare httpx loop)",
                    rate(cps, "pages/s"),
                    target="-",
                    result="info",
                    rss=mb(ceiling["maxrss_mb"]),
                    note=f"{ceiling['bytes'] / ceiling['seconds'] / 1e6:.0f} MB/s: the "
                    "ceiling any client can reach here",
                )
            )
        stage = f"end to end, {self.pages:,} pages (pages/s)"
        target = ">= 2x Scrapy"
        sps = self.pages / scrapy["seconds"] if "error" not in scrapy else 0.0
        if "error" in ours:
            row = not_available(stage, ours["error"], target)
            row.baseline = rate(sps, "pages/s") if sps else scrapy["error"]
            rows.append(row)
            return rows
        pps = self.pages / ours["seconds"]
        share = pps / sps if sps else 0.0
        ok = share >= 2 and ours["records"] == expected
        note = "wall time of the process, start-up included"
        if ours["records"] != expected:
            note += f"; {ours['records']:,} of {expected:,} records"
        if "error" in scrapy:
            note += f"; Scrapy: {scrapy['error']}"
        elif share < 2:
            note += f"; MISS by {(2 - share) / 2:.0%}"
            if ceiling.get("ok") and pps < 0.5 * ceiling["pages"] / ceiling["seconds"]:
                note += (
                    ": the server is not the limit; hf-papers fetches its URLs one by one "
                    "(Fetcher.get), so the configured concurrency is not used"
                )
        rows.append(
            Row(
                stage,
                rate(pps, "pages/s"),
                rate(sps, "pages/s") if sps else "failed",
                ratio(pps, sps),
                target,
                "PASS" if ok else "MISS",
                f"{mb(ours['maxrss_mb'])} / {mb(scrapy.get('maxrss_mb'))}",
                note,
            )
        )
        rps = ours["records"] / ours["seconds"]
        srps = scrapy.get("records", 0) / scrapy["seconds"] if sps else 0.0
        rows.append(
            Row(
                f"end to end, {self.pages:,} pages (records/s)",
                rate(rps, "rec/s"),
                rate(srps, "rec/s") if srps else "-",
                ratio(rps, srps),
                "-",
                "info",
                note=f"{ours['records']:,} records (Scrapy {scrapy.get('records', 0):,})",
            )
        )
        return rows
