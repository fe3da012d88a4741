"""End to end: `harvester run` (a process) against a local server, vs a bare HTTP client (httpx,
the same URLs, the same concurrency, also a process: `bare_client.py`), as interleaved pairs;
both timed from start to exit, so neither side's start-up is left out; once as fast as
the server goes (the run is then bound by parsing, so the row is information) and once with
server latency (a remote site's think time: the network row, graded). A Scrapy project doing
the same extraction is run once for comparison (information).

The harvester side is written against the `Source` contract: a source (by default `hf-papers`)
whose `fetch(target)` downloads a listing page, which the run prefetches on
`per_host_concurrency` threads, and whose `read(target)` parses it. A source without `fetch()`
would fetch in `read()`, one page at a time, so the stage reports it as not available rather
than a figure at concurrency 1. Both sides' concurrency is read from the server: the most
requests in flight at once and the most connections open at once, for each process.
"""

from __future__ import annotations

import json
import subprocess
import sys
import urllib.request
from pathlib import Path
from typing import Any

import gen
import scrapy_baseline
from dump import harvester
from harness import HERE, Sample, count_lines, interleave, last_line, run_process, run_stage
from table import Row, mb, not_available, paired_row, rate

BARE_SHARE = 0.90  # ours against a bare client at the same concurrency, with latency


class Server:
    """`bench/server.py` on a free port, for the duration of a `with` block."""

    def __init__(self, site: Path, latency: float):
        self.site, self.latency = site, latency

    def __enter__(self) -> Server:
        cmd = [sys.executable, str(HERE / "server.py"), str(self.site), str(self.latency)]
        self.proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, text=True)
        self.base = f"http://127.0.0.1:{int(self.proc.stdout.readline())}"
        return self

    def __exit__(self, *exc: object) -> None:
        self.proc.terminate()
        self.proc.wait(timeout=10)

    def stats(self, reset: bool = False) -> dict[str, int]:
        url = f"{self.base}/__{'reset' if reset else 'stats'}"
        with urllib.request.urlopen(url, timeout=10) as response:
            return json.loads(response.read())


class EndToEnd:
    def __init__(self, work: Path, *, pages, latency_pages, cards, concurrency, latency, pairs,
                 source: str = "hf-papers", options: dict[str, Any] | None = None,
                 scrapy: bool = True):  # fmt: skip
        self.work, self.dir = work, work / "e2e"
        self.dir.mkdir(parents=True, exist_ok=True)
        self.pages, self.latency_pages, self.cards = pages, latency_pages, cards
        self.n, self.latency, self.pairs = concurrency, latency, pairs
        self.source, self.options, self.scrapy = source, options or {}, scrapy
        self.notes: list[str] = []

    def rows(self) -> list[Row]:
        site = self.work / f"site-{self.pages}x{self.cards}"
        size = gen.write_site(site, self.pages, self.cards)
        info = run_stage("source_info", {"plugin": self.source})
        why = info.error or (None if info.data.get("has_fetch") else _no_fetch(self.source))
        self.notes.append(
            f"end to end: {self.pages:,} daily pages of {self.cards} papers ({size / 1e6:.0f} MB) "
            f"on 127.0.0.1, concurrency {self.n}; the latency variant serves the first "
            f"{self.latency_pages:,} with {self.latency * 1e3:.0f} ms before each response"
        )
        rows, fields = [], info.data.get("options", [])
        with Server(site, 0.0) as server:
            rows.append(self._variant(server, self.pages, why, fields))
            if self.scrapy:
                rows.append(self._scrapy_row(server, self.pages))
        with Server(site, self.latency) as server:
            rows.append(self._variant(server, self.latency_pages, why, fields))
        return rows

    def _urls(self, server: Server, pages: int) -> tuple[list[str], Path]:
        urls = [f"{server.base}/papers/date/{d.isoformat()}" for d in gen.site_days(pages)]
        urls_file = self.dir / f"urls-{pages}.txt"
        urls_file.write_text("\n".join(urls) + "\n")
        return urls, urls_file

    def _bare(self, server: Server, urls_file: Path, pages: int) -> Sample:
        cmd = [sys.executable, str(HERE / "bare_client.py"), str(urls_file), str(self.n)]
        out = self.dir / "bare.json"
        server.stats(reset=True)
        done = run_process(cmd, cwd=self.dir, timeout=900, stdout=out, log=self.dir / "bare.log")
        bare = Sample(
            work=pages,
            seconds=done["seconds"],
            cpu=done["cpu"],
            maxrss_mb=done["maxrss_mb"],
            data=server.stats(),
        )
        try:
            read = json.loads(out.read_text()).get("pages")
        except (OSError, ValueError):
            read = None
        if done["status"] != 0 or read != pages:
            bare.error = f"bare client exit {done['status']}: {last_line(self.dir / 'bare.log')}"
        return bare

    def _variant(self, server: Server, pages: int, why: str | None, fields: list[str]) -> Row:
        urls, urls_file = self._urls(server, pages)
        lag = f", {self.latency * 1e3:.0f} ms latency" if server.latency else ""
        stage = f"end to end, {pages:,} pages{lag}, concurrency {self.n} (pages/s)"
        graded = bool(server.latency)  # without latency the run is bound by parsing
        target = f">= {BARE_SHARE:.2f}x bare client" if graded else "-"

        def ours(_: int) -> Sample:
            return self._harvester(server, urls, fields, pages)

        if why:
            return not_available(stage, why, target)
        count = self.pairs if graded else 1  # the info row: one pair keeps the full run short
        pairs = interleave(count, ours, lambda _: self._bare(server, urls_file, pages))
        row = paired_row(stage, pairs, "pages/s", "pages/s", target, BARE_SHARE if graded else 0.0)
        if pairs.ok:
            row.note = (
                f"ours {_side(pairs.ours[0])}; bare httpx client (a process, {self.n} threads, "
                f"no parsing) {_side(pairs.base[0])}; {row.note}"
            )
            if graded:
                row.note += f"; ideal at this latency: {self.n / server.latency:.0f} pages/s"
            else:
                row.note += "; information: without latency both are bound by CPU (ours parses)"
        return row

    def _scrapy_row(self, server: Server, pages: int) -> Row:
        _, urls_file = self._urls(server, pages)
        stage = f"Scrapy, the same {pages:,} pages, concurrency {self.n} (pages/s)"
        sample = self._scrapy(server, urls_file, pages)
        if not sample.ok:
            return not_available(stage, sample.error or "")
        return Row(
            stage,
            rate(sample.rate, "pages/s"),
            result="info",
            rss=mb(sample.maxrss_mb),
            note=f"one run, for comparison with the row above: {_side(sample)}",
        )

    def _process(self, server: Server, cmd, cwd: Path, out: Path, pages: int, log: Path) -> Sample:
        out.unlink(missing_ok=True)
        server.stats(reset=True)
        done = run_process(cmd, cwd=cwd, timeout=900, log=log)
        stats = server.stats()
        records = count_lines(out)
        sample = Sample(
            work=pages,
            seconds=done["seconds"],
            cpu=done["cpu"],
            maxrss_mb=done["maxrss_mb"],
            data={"records": records, **stats},
        )
        if done["status"] != 0 or records != pages * self.cards:
            sample.error = (
                f"{cmd[0].rsplit('/', 1)[-1]} exit {done['status']}, {records:,} of "
                f"{pages * self.cards:,} records: {last_line(log)} (log: {log})"
            )
        return sample

    def _harvester(self, server: Server, urls: list[str], fields: list[str], pages: int) -> Sample:
        config = self.dir / "harvest.toml"
        options = dict(self.options)
        if "base_url" in fields:
            options.setdefault("base_url", server.base)
        lines = [f"{k} = {json.dumps(v)}" for k, v in options.items()]
        inputs = ",\n  ".join(json.dumps(u) for u in urls)
        config.write_text(
            '[run]\nrejects = "rejects.jsonl"\n\n'
            f"[fetch]\nmin_interval = 0\nper_host_concurrency = {self.n}\nmax_attempts = 1\n\n"
            f'[sources.site]\nplugin = "{self.source}"\n' + "\n".join(lines) + "\n"
            f"inputs = [\n  {inputs}\n]\n\n"
            '[sinks.papers]\nplugin = "jsonl"\npath = "papers.jsonl"\n'
        )
        cmd = [*harvester(), "run", "-q", str(config)]
        log = self.dir / "harvester.log"
        return self._process(server, cmd, self.dir, self.dir / "papers.jsonl", pages, log)

    def _scrapy(self, server: Server, urls_file: Path, pages: int) -> Sample:
        try:
            import scrapy  # noqa: F401
        except ImportError:
            return Sample(
                error="not available: scrapy is not installed (pip install -e '.[bench]')"
            )
        project, feed = self.dir / "scrapy_project", self.dir / "scrapy.jsonl"
        scrapy_baseline.write_project(project, urls_file=urls_file, feed=feed, concurrency=self.n)
        cmd = [sys.executable, "-m", "scrapy", "crawl", "listing"]
        return self._process(server, cmd, project, feed, pages, self.dir / "scrapy.log")


def _no_fetch(source: str) -> str:
    return (
        f"source {source!r} here has no fetch(): it is the old source, which does not run on "
        "the new core; the stage runs once the new HF sources land (same plugin name)"
    )


def _side(sample: Sample) -> str:
    """What one side reached: pages/s, CPU share, and its server-side concurrency."""
    busy = sample.cpu / sample.seconds if sample.cpu and sample.seconds else 0.0
    return (
        f"{sample.rate:.0f} pages/s on {busy:.0%} of a core, server-side max in flight "
        f"{sample.data.get('max_in_flight', '?')} over {sample.data.get('max_connections', '?')} "
        "connections"
    )
