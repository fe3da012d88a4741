"""`harvester parse SOURCE INPUT...`: one source's records as JSONL on stdout, through the same
run loop as `harvester run` (finalisation, limits, failures), without state or files.

Records go to stdout as they are batched; rejects are reported on stderr, one line each, with
their location; a closed pipe (`| head`) ends the command quietly.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import msgspec

from .api import Outcome, Sink
from .build import Plan, build_source
from .config import PluginSpec, RunConfig, RunSettings, apply_override, source_fetch_settings
from .errors import EXIT_OK
from .fetch.redact import Redactor
from .fetch.runclient import SharedClient
from .fetch.settings import FetchSettings
from .plugins import load_plugins
from .report import RunReport
from .schema import Paper, Rejected


class StdoutSink(Sink):
    """Papers as JSON lines on stdout, flushed at each commit."""

    name = "stdout"

    def open(self, resume: Any = None) -> None:
        self.out = sys.stdout.buffer
        self.encoder = msgspec.json.Encoder()
        self.buf = bytearray()

    def write(self, papers: Sequence[Paper]) -> None:
        encode_into, buf = self.encoder.encode_into, self.buf
        for paper in papers:
            encode_into(paper, buf, -1)
            buf.append(10)
        if len(buf) >= 1 << 20:
            self.commit()

    def commit(self) -> None:
        self.out.write(self.buf)
        self.out.flush()
        self.buf.clear()

    def close(self, outcome: Outcome) -> None:
        if outcome is Outcome.DONE:
            self.commit()


class StderrRejects:
    """Rejects as `location: rejected: reason` lines on stderr (the rejects output of `parse`)."""

    def open(self, resume: Any = None) -> None:
        pass

    def write(self, rejects: Sequence[Rejected]) -> None:
        for r in rejects:
            sys.stderr.write(f"{r.source_ref}: rejected: {r.reason}\n")

    def commit(self) -> None:
        sys.stderr.flush()

    def close(self, outcome: Outcome) -> None:
        sys.stderr.flush()


def parse_to_stdout(
    source: str,
    inputs: list[str],
    options: list[str],
    *,
    cache_dir: Path | None = None,
    on_redactor=None,
) -> int:
    """Run `source` on `inputs`; returns the exit status (raises `HarvesterError` like `run`).
    `on_redactor(redactor)` is told the run's redactor as soon as the options are known."""
    from .run import Run

    raw: dict[str, Any] = {}
    for item in options:
        apply_override(raw, item, file="--option")
    raw["inputs"] = list(inputs)
    fetch = source_fetch_settings(FetchSettings(), raw.pop("fetch", {}), "--option", source)
    spec = PluginSpec(label=source, plugin=source, options=raw, kind="sources", fetch=fetch)
    config = RunConfig(path=None, base_dir=Path.cwd())
    redactor = Redactor.from_settings(fetch)
    if on_redactor is not None:
        on_redactor(redactor)
    client = SharedClient(fetch, redactor=redactor, cache_dir=cache_dir)
    built = build_source(load_plugins(), spec, config, client)
    settings = RunSettings(checkpoint_seconds=1.0)
    sinks = [("stdout", StdoutSink(None, None))]  # type: ignore[arg-type]
    plan = Plan(settings, Path.cwd(), [(source, built)], sinks, client, redactor=redactor)
    try:
        report = Run(plan, rejects=StderrRejects()).execute()
    except BrokenPipeError:  # `| head` closed the pipe: not an error
        sys.stderr.close()
        return EXIT_OK
    _print_failures(report)
    return report.exit_status


def _print_failures(report: RunReport) -> None:
    """One line per target that did not end complete, with its outcome and why."""
    for s in report.sources:
        if s.error:
            sys.stderr.write(f"harvester: error: {s.error}\n")
        for r in s.outcomes:
            if r.outcome != "complete":
                why = f": {r.reason}" if r.reason else ""
                sys.stderr.write(f"harvester: {r.outcome}: {r.target}{why}\n")
