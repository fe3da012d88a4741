"""One in-process measurement per process: `python bench/stages.py NAME '<json args>'`.

Prints one JSON object on stdout: `work` (bytes, records, saves...) done in `seconds` (only the
work measured, never the set-up), `cpu` (this process's CPU seconds over the same work), other
figures, or `error` when the piece measured is not available (a plugin not installed or not
yet ported to the new core) or failed. See harness.py for how these become pairs.
"""

from __future__ import annotations

import json
import sys
import time
import traceback
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

import baselines
import drive
import gen
import statebench
from drive import NotAvailable
from harness import peak_rss_mb


class Timer:
    """Wall and CPU time spent inside `with timer:` blocks (only the work measured)."""

    def __init__(self) -> None:
        self.seconds = self.cpu = 0.0

    def __enter__(self) -> Timer:
        self._t, self._c = time.perf_counter(), time.process_time()
        return self

    def __exit__(self, *exc: object) -> None:
        self.seconds += time.perf_counter() - self._t
        self.cpu += time.process_time() - self._c


def _warm(path: str) -> None:
    """Read the file once in small blocks: both sides read it from the page cache, and the
    warm-up adds nothing to the peak RSS."""
    with open(path, "rb") as f:
        while f.read(1 << 20):
            pass


# --- text dump --------------------------------------------------------------------------------


def dump_floor(records: str, out: str) -> dict[str, Any]:
    """The msgspec floor (`baselines.msgspec_floor`) on the records a path wrote."""
    _warm(records)
    timer = Timer()
    with timer:
        count = baselines.msgspec_floor(Path(records), Path(out))
    Path(out).unlink(missing_ok=True)
    return {"work": count, "seconds": timer.seconds, "cpu": timer.cpu}


def dump_plugin(
    path: str, trusted: bool = True, time_check: bool = False, max_entries: int | None = None
) -> dict[str, Any]:
    """The textdump source through the core's run loop (`harvester.run.Run`: finalisation,
    limits, batching) into a null sink: records out of the plugin, finalised, nothing written.
    `trusted=False` runs the same class with the full finalisation; `time_check` also times
    the cheap check of trusted sources (`harvester.finalise.looks_final`); `max_entries`
    raises `run.max_entries` (100,000 entries per target by default) for the 10x dump."""
    import harvester.finalise as finalise

    source = drive.build_source("textdump", [path], captured_on="2026-03-14")
    if not trusted:
        source.__class__ = type("UntrustedTextDump", (type(source),), {"trusted": False})
    check = _timed_check(finalise) if time_check else None
    run = drive.null_run(source, **({"max_entries": max_entries} if max_entries else {}))
    _warm(path)
    timer = Timer()
    with timer:
        report = run.execute().sources[0]
    if report.failed or report.error:
        raise RuntimeError(f"textdump failed: {report.error or report.failed[:1]}")
    result = {
        "work": report.written,  # records, as the floor's
        "bytes": Path(path).stat().st_size,
        "seconds": timer.seconds,
        "cpu": timer.cpu,
        "entries": report.entries,
        "papers": report.written,
        "rejected": report.rejected,
    }
    if check is not None:
        result["check_seconds"], result["check_calls"] = check()
    return result


def _timed_check(finalise):
    """Wrap `finalise.looks_final` to add up its time (two perf_counter calls, ~0.1 us, on a
    check of several us); returns a function giving (seconds, calls)."""
    inner, spent = finalise.looks_final, [0.0, 0]

    def looks_final(paper):
        t = time.perf_counter()
        try:
            return inner(paper)
        finally:
            spent[0] += time.perf_counter() - t
            spent[1] += 1

    finalise.looks_final = looks_final
    return lambda: (spent[0], spent[1])


def core_only(path: str, records: int, trusted: bool = True, bare: bool = False) -> dict:
    """The core's own per-record cost: a source that replays the papers `textdump` built from
    `path` (copies, `records` in all) through the run loop into a null sink; `bare`: the same
    replay with no run loop, to subtract."""
    import msgspec

    from harvester.api import Source
    from harvester.schema import Paper
    from harvester.testkit import read_raw

    dump = drive.build_source("textdump", [path], captured_on="2026-03-14")
    pool = [p for p in read_raw(dump) if type(p) is Paper]
    replace = msgspec.structs.replace

    class Replay(Source):
        name = "replay"

        def read(self, target):
            for n in range(records):
                yield replace(pool[n % len(pool)])

    Replay.trusted = trusted
    source = Replay(dump.options, dump.context)
    run = drive.null_run(source, max_entries=records + 1)
    timer = Timer()
    with timer:
        if bare:
            for _ in source.read(None):
                pass
        else:
            report = run.execute().sources[0]
    if not bare and report.written + report.rejected != records:
        raise RuntimeError(f"replay: {report.written} written of {records}: {report.failed[:1]}")
    return {"work": records, "seconds": timer.seconds, "cpu": timer.cpu}


# --- HTML listing -----------------------------------------------------------------------------


def html_plugin(path: str, path_kind: str, reps: int = 20) -> dict[str, Any]:
    """`hf-papers` on a saved listing page, through the run loop into a null sink (the same
    `Source` contract the rewritten HF sources keep)."""
    # a 5,000-card page of real-size cards is ~50 MB: over the default 20 MB response cap,
    # which a saved page is held to as well
    source = drive.build_source("hf-papers", [path], fetch={"max_bytes": 200_000_000})
    report = drive.run_null(source)  # once untimed: a source that cannot run says so
    if report.error or report.failed or not report.written:
        why = report.error or (report.failed[0][1] if report.failed else "no papers")
        raise NotAvailable(f"hf-papers did not read the page: {why}")
    timer = Timer()
    for _ in range(reps):
        run = drive.null_run(source)
        with timer:
            report = run.execute().sources[0]
    return {"work": report.written * reps, "seconds": timer.seconds, "cpu": timer.cpu}


def html_floor(path: str, path_kind: str, reps: int = 20) -> dict[str, Any]:
    """The minimal selectolax loop (`baselines.selectolax_json` / `selectolax_cards`)."""
    content = Path(path).read_bytes()
    extract = baselines.selectolax_json if path_kind == "json" else baselines.selectolax_cards
    timer, cards = Timer(), 0
    for _ in range(reps):
        with timer:
            cards += len(extract(content))
    return {"work": cards, "seconds": timer.seconds, "cpu": timer.cpu}


# --- sinks ------------------------------------------------------------------------------------

BATCH, COMMIT_EVERY = 1000, 50  # the run's batch size; a commit every 50,000 records


def sink_plugin(
    kind: str,
    path: str,
    count: int,
    options: dict | None = None,
    segments: int = 1,
    shift_hours: int = 0,
) -> dict[str, Any]:
    """The sink plugin, driven as the run drives it (open, write batches, commit every 50,000,
    close DONE); `segments`: also the rate of each 1/segments of the records (scale runs);
    `shift_hours`: the records harvested that much later (a re-read)."""
    from harvester.api import Outcome

    where = {"url": path} if kind == "postgres" else {"path": path}
    sink = drive.build_sink(kind, {**where, **(options or {})})
    timer, written, marks = Timer(), 0, []
    every = max(1, count // segments)
    with timer:
        sink.open(None)
    papers = gen.sink_papers(count, BATCH, shift_hours=shift_hours)
    for n, batch in enumerate(_timed(papers, timer), 1):
        with timer:
            sink.write(batch)
            if n % COMMIT_EVERY == 0:
                sink.commit()
        written += len(batch)
        if written % every == 0:
            marks.append(timer.seconds)
    with timer:
        sink.commit()
        sink.close(Outcome.DONE)
    segment_rates = [every / (b - a) for a, b in zip([0.0, *marks], marks, strict=False)]
    return {
        "work": written,
        "seconds": timer.seconds,
        "cpu": timer.cpu,
        "segment_rates": segment_rates,
        **_check_output(kind, path),
    }


def sink_bare(kind: str, path: str, count: int, options: dict | None = None) -> dict[str, Any]:
    """The baseline of a sink: the bare loop (`jsonl`, `sqlite`), `sqlite-utils` upsert and
    enable-fts, or a plain COPY (`postgres`)."""
    if kind == "sqlite":
        try:
            import harvester_plugins.sqlite  # noqa: F401  (its tables are the ones written)
        except ImportError as exc:
            raise NotAvailable(f"sqlite sink not available: {exc}") from None
    if kind != "postgres":
        Path(path).unlink(missing_ok=True)
    timer = Timer()
    batches = _timed(gen.sink_papers(count, BATCH), timer)
    if kind == "jsonl":
        written = baselines.bare_jsonl(Path(path), batches, COMMIT_EVERY, timer)
    elif kind == "sqlite-utils":
        written = baselines.sqlite_utils_load(Path(path), batches, timer)
    elif kind == "postgres":
        written = baselines.plain_copy(path, batches, COMMIT_EVERY, timer)
    else:
        fts = (options or {}).get("fts", "full")  # the sink's option: a level, or true/false
        level = {True: "full", False: "off"}.get(fts, fts)
        written = baselines.bare_sqlite(Path(path), batches, COMMIT_EVERY, timer, fts=level)
    return {
        "work": written,
        "seconds": timer.seconds,
        "cpu": timer.cpu,
        **_check_output("sqlite" if kind == "sqlite-utils" else kind, path),
    }


def _timed(batches, timer):
    """The batches, each one's making timed too: the sinks' background threads work while the
    next batch is made, so that time is counted on both sides."""
    it = iter(batches)
    while True:
        with timer:
            batch = next(it, None)
        if batch is None:
            return
        yield batch


def _check_output(kind: str, path: str) -> dict[str, Any]:
    """Rows really written (SQLite, PostgreSQL: and found by the full-text index), and bytes on
    disk (files)."""
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
            rows = sum(block.count(b"\n") for block in iter(lambda: f.read(1 << 22), b""))
        return {"rows": rows, "bytes": Path(path).stat().st_size}
    import sqlite3

    db = sqlite3.connect(path)
    try:
        rows = db.execute("SELECT count(*) FROM papers").fetchone()[0]
        try:
            fts = db.execute("SELECT count(*) FROM papers_fts WHERE papers_fts MATCH 'learning'")
            hits = fts.fetchone()[0]
        except sqlite3.Error:
            hits = None
    finally:
        db.close()
    size = sum(p.stat().st_size for p in Path(path).parent.glob(Path(path).name + "*"))
    return {"rows": rows, "fts_hits": hits, "bytes": size}


def source_info(plugin: str) -> dict[str, Any]:
    """Whether a source plugin implements `fetch()` (so the run prefetches it concurrently),
    and its option names."""
    from harvester.api import Source
    from harvester.plugins import load_plugins

    try:
        cls = load_plugins().source(plugin)
    except Exception as exc:
        raise NotAvailable(f"source {plugin!r}: {exc}") from None
    options = list(getattr(cls.Options, "__struct_fields__", ()))
    return {
        "work": 1,
        "seconds": 1.0,
        "has_fetch": cls.fetch is not Source.fetch,
        "options": options,
    }


STAGES = {
    "source_info": source_info,
    "dump_floor": dump_floor,
    "dump_plugin": dump_plugin,
    "core_only": core_only,
    "html_plugin": html_plugin,
    "html_floor": html_floor,
    "sink_plugin": sink_plugin,
    "sink_bare": sink_bare,
    "state_save": statebench.state_save,
    "state_run": statebench.state_run,
}


def main() -> None:
    name, args = sys.argv[1], json.loads(sys.argv[2] if len(sys.argv) > 2 else "{}")
    try:
        result: dict[str, Any] = STAGES[name](**args)
    except NotAvailable as exc:
        result = {"error": f"not available: {exc}"}
    except Exception as exc:
        traceback.print_exc()
        result = {"error": f"{type(exc).__name__}: {exc}"}
    result["maxrss_mb"] = peak_rss_mb()
    print(json.dumps(result, default=str))


if __name__ == "__main__":
    main()
