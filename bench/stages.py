"""One measurement per process: `python bench/stages.py NAME '<json args>'`.

Prints one JSON object on stdout: the counts and seconds of the measurement, the process's peak
RSS (`maxrss_mb`), or `{"ok": false, "error": ...}` when the piece measured is not available
(a plugin not installed yet) or failed. Running each measurement in its own process keeps the
peak RSS of one from hiding in another's.
"""

from __future__ import annotations

import datetime as dt
import json
import resource
import sys
import time
import traceback
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

import baselines
import gen


class Timer:
    """Accumulates the time spent inside `with timer:` blocks (only the work measured)."""

    def __init__(self) -> None:
        self.seconds = 0.0
        self.cpu_seconds = 0.0  # this process's CPU time: steadier than wall time on a busy box

    def __enter__(self) -> Timer:
        self._t, self._c = time.perf_counter(), time.process_time()
        return self

    def __exit__(self, *exc: object) -> None:
        self.seconds += time.perf_counter() - self._t
        self.cpu_seconds += time.process_time() - self._c


class NotAvailable(Exception):
    pass


def _source(plugin: str, inputs: list[str], **options: Any):
    """A source built exactly as the pipeline builds one; NotAvailable if it is not there."""
    from harvester.api import RunContext
    from harvester.config import PluginSpec
    from harvester.pipeline import build_source
    from harvester.plugins import load_plugins

    registry = load_plugins()
    try:
        registry.source(plugin)
    except Exception as exc:
        raise NotAvailable(f"plugin {plugin!r} not available: {exc}") from None
    spec = PluginSpec(
        label=plugin, plugin=plugin, options={"inputs": inputs, **options}, kind="sources"
    )
    return build_source(registry, spec, RunContext(base_dir=Path.cwd()), "<bench>")


def _drain(source) -> tuple[int, int, list[Any]]:
    """(papers, rejected, failures) of one pass of `source` through the pipeline's finalise."""
    from harvester.pipeline import SourceReport, iter_source
    from harvester.schema import Paper

    report = SourceReport(label="bench", plugin=source.name)
    now = dt.datetime.now(dt.UTC).replace(microsecond=0)
    papers = 0
    for item in iter_source(source, report, now):
        if type(item) is Paper:
            papers += 1
    return papers, report.rejected, report.failed


# --- text dump --------------------------------------------------------------------------------


def _warm(path: str) -> None:
    """Read the file once, in small blocks (so the warm-up adds nothing to the peak RSS)."""
    with open(path, "rb") as f:
        while f.read(1 << 20):
            pass


def dump_floor(path: str, reps: int = 3) -> dict[str, Any]:
    _warm(path)  # both sides read the file from the page cache, not the disk
    seconds, lines = _best(lambda: baselines.read_split_floor(Path(path)), 0.0, reps, reps)
    return {"seconds": seconds, "lines": lines, "bytes": Path(path).stat().st_size}


def dump_plugin(path: str, reps: int = 1) -> dict[str, Any]:
    source = _source("textdump", [path], captured_on="2026-03-14")
    _warm(path)  # the same warm page cache as the floor
    best = float("inf")
    for _ in range(reps):
        t = time.perf_counter()
        papers, rejected, failed = _drain(source)
        best = min(best, time.perf_counter() - t)
        if failed:
            raise RuntimeError(f"textdump failed: {failed[:1]}")
    return {
        "seconds": best,
        "papers": papers,
        "rejected": rejected,
        "entries": papers + rejected,
        "bytes": Path(path).stat().st_size,
    }


# --- HTML listing -----------------------------------------------------------------------------


def _best(fn, min_seconds: float, min_reps: int, max_reps: int) -> tuple[float, int]:
    """Best time of repeated runs of fn() (its result: cards), and the cards of one run."""
    best, spent, reps, cards = float("inf"), 0.0, 0, 0
    while reps < min_reps or (spent < min_seconds and reps < max_reps):
        t = time.perf_counter()
        cards = fn()
        elapsed = time.perf_counter() - t
        best, spent, reps = min(best, elapsed), spent + elapsed, reps + 1
    return best, cards


def html_plugin(path: str, path_kind: str, min_seconds: float = 1.0) -> dict[str, Any]:
    source = _source("hf-papers", [path])
    expected = "embedded-json" if path_kind == "json" else "cards"

    def once() -> int:
        papers, rejected, failed = _drain(source)
        if failed or rejected:
            raise RuntimeError(f"hf-papers: {rejected} rejected, failed: {failed[:1]}")
        return papers

    # check once that the plugin took the path this row is about
    from harvester.pipeline import SourceReport, iter_source

    first = next(iter_source(source, SourceReport("bench", "hf-papers"), dt.datetime.now(dt.UTC)))
    taken = first.extra.get("hf", {}).get("parsed_from")
    if taken != expected:
        raise RuntimeError(f"hf-papers parsed {path_kind} page from {taken!r}, not {expected!r}")
    seconds, cards = _best(once, min_seconds, 1, 200)
    return {"seconds": seconds, "cards": cards}


def html_bs4(path: str, path_kind: str, min_seconds: float = 1.0) -> dict[str, Any]:
    content = Path(path).read_bytes()
    extract = baselines.bs4_json if path_kind == "json" else baselines.bs4_cards
    seconds, cards = _best(lambda: len(extract(content)), min_seconds, 1, 50)
    return {"seconds": seconds, "cards": cards}


# --- sinks ------------------------------------------------------------------------------------

BATCH, COMMIT_EVERY = 1000, 50  # the pipeline's batch size; a commit every 50,000 records


def sink_plugin(
    kind: str, path: str, count: int, shift_hours: int = 0, **options: Any
) -> dict[str, Any]:
    """The registered sink, driven through open/write/commit/close as the run drives it.
    `shift_hours`: the records are harvested that much later (a re-read, not a replay)."""
    import msgspec

    from harvester.api import Outcome, SinkContext
    from harvester.plugins import load_plugins

    try:
        cls = load_plugins().sink(kind)
    except Exception as exc:
        raise NotAvailable(f"sink {kind!r} not available: {exc}") from None
    where = {"url": path} if kind == "postgres" else {"path": path}
    opts = msgspec.convert({**where, **options}, cls.Options)
    sink = cls(opts, SinkContext(label=kind, base_dir=Path.cwd()))
    timer, written = Timer(), 0
    with timer:
        sink.open()
    later = dt.timedelta(hours=shift_hours)
    for n, batch in enumerate(gen.sink_papers(count, BATCH), 1):
        if later:
            for paper in batch:
                paper.harvested_at += later
        with timer:
            sink.write(batch)
            if n % COMMIT_EVERY == 0:
                sink.commit()
        written += len(batch)
    with timer:
        sink.commit()
        sink.close(Outcome.DONE)
    return {
        "seconds": timer.seconds,
        "cpu_seconds": timer.cpu_seconds,
        "records": written,
        **_check_output(kind, path),
    }


def sink_bare(kind: str, path: str, count: int, **options: Any) -> dict[str, Any]:
    if kind in ("sqlite", "postgres"):
        try:
            __import__(f"harvester_plugins.{kind}")  # its tables are the ones written
        except ImportError as exc:
            raise NotAvailable(f"{kind} sink not available: {exc}") from None
    loop = {
        "jsonl": baselines.bare_jsonl,
        "sqlite": baselines.bare_sqlite,
        "postgres": baselines.bare_postgres,
    }[kind]
    if kind != "postgres":
        Path(path).unlink(missing_ok=True)
    timer = Timer()
    written = loop(path, gen.sink_papers(count, BATCH), COMMIT_EVERY, timer, **options)
    return {
        "seconds": timer.seconds,
        "cpu_seconds": timer.cpu_seconds,
        "records": written,
        **_check_output(kind, path),
    }


def _check_output(kind: str, path: str) -> dict[str, Any]:
    """Rows really written (and, for the databases, found by their full-text index)."""
    if kind == "postgres":
        import psycopg

        with psycopg.connect(path) as con:
            rows = con.execute("SELECT count(*) FROM papers").fetchone()[0]
            hits = con.execute(
                "SELECT count(*) FROM papers WHERE search @@ to_tsquery('english', 'learning')"
            ).fetchone()[0]
        return {"rows": rows, "fts_hits": hits}
    if kind == "jsonl":
        with open(path, "rb") as f:
            return {"rows": sum(block.count(b"\n") for block in iter(lambda: f.read(1 << 22), b""))}
    import sqlite3

    db = sqlite3.connect(path)
    try:
        rows = db.execute("SELECT count(*) FROM papers").fetchone()[0]
        if not db.execute("SELECT 1 FROM sqlite_master WHERE name = 'papers_fts'").fetchone():
            return {"rows": rows, "fts_hits": None}  # fts = false
        fts = db.execute("SELECT count(*) FROM papers_fts WHERE papers_fts MATCH 'learning'")
        return {"rows": rows, "fts_hits": fts.fetchone()[0]}
    finally:
        db.close()


# --- the local server alone -------------------------------------------------------------------


def http_bare(urls_file: str, concurrency: int) -> dict[str, Any]:
    """A bare httpx loop over the site's URLs with `concurrency` threads: the server's ceiling."""
    from concurrent.futures import ThreadPoolExecutor

    import httpx

    urls = Path(urls_file).read_text().split()
    client = httpx.Client(limits=httpx.Limits(max_keepalive_connections=concurrency))

    def get(url: str) -> int:
        response = client.get(url)
        response.raise_for_status()
        return len(response.content)

    t = time.perf_counter()
    with ThreadPoolExecutor(concurrency) as pool:
        total = sum(pool.map(get, urls))
    seconds = time.perf_counter() - t
    client.close()
    return {"seconds": seconds, "pages": len(urls), "bytes": total}


def peak_rss_mb(pid: int | str = "self") -> float | None:
    """Peak RSS of a process in MB: VmHWM, which a new program image starts afresh.

    (`ru_maxrss` is not used: Linux carries it over `execve` from the forking parent, so a child
    of a big parent would report the parent's size.)
    """
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    if pid == "self":
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return None


def make_page(path: str, cards: int, embed_json: bool) -> dict[str, Any]:
    """Write a listing page (here, not in run.py, so the harness itself stays small)."""
    page = gen.listing_page(cards, embed_json=embed_json, day=dt.date(2026, 10, 6))
    Path(path).write_bytes(page)
    return {"bytes": len(page)}


STAGES = {
    "make_page": make_page,
    "dump_floor": dump_floor,
    "dump_plugin": dump_plugin,
    "html_plugin": html_plugin,
    "html_bs4": html_bs4,
    "sink_plugin": sink_plugin,
    "sink_bare": sink_bare,
    "http_bare": http_bare,
}


def main() -> None:
    name, args = sys.argv[1], json.loads(sys.argv[2] if len(sys.argv) > 2 else "{}")
    try:
        result: dict[str, Any] = {"ok": True, **STAGES[name](**args)}
    except NotAvailable as exc:
        result = {"ok": False, "error": f"not available: {exc}"}
    except Exception as exc:
        traceback.print_exc()
        result = {"ok": False, "error": f"{type(exc).__name__}: {exc}"}
    result["maxrss_mb"] = peak_rss_mb()
    print(json.dumps(result, default=str))


if __name__ == "__main__":
    main()
