"""The `harvester` command. Library errors become CLI messages and exit statuses only here.

Exit statuses: 0 ok; 1 fatal (a sink failed, nothing new was committed past the failure);
2 usage or config error (nothing ran); 3 partial (some targets or sources failed, the rest written).
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import sys
from pathlib import Path

import click
import msgspec

from . import __version__
from .config import PluginSpec, RunConfig, RunSettings, apply_override, load_config
from .errors import ConfigError, HarvesterError, PluginError, SinkError
from .harvest import Harvest
from .pipeline import (
    EXIT_FATAL,
    EXIT_OK,
    EXIT_PARTIAL,
    EXIT_USAGE,
    RunReport,
    SourceReport,
    build_source,
    iter_source,
    make_context,
)
from .plugins import load_plugins
from .schema import Paper, json_schema_text


def _fail(message: str, status: int) -> None:
    click.echo(f"harvester: error: {message}", err=True)
    sys.exit(status)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="harvester")
@click.option("-v", "--verbose", count=True, help="More log output (-vv for debug).")
def cli(verbose: int) -> None:
    """Harvest research-paper listings into one clean, normalised stream of paper records."""
    level = logging.WARNING - 10 * min(verbose, 2)
    fmt = "%(levelname)s %(name)s: %(message)s"
    logging.basicConfig(level=level, format=fmt, stream=sys.stderr)


@cli.command()
@click.argument("config", type=click.Path(dir_okay=False, path_type=Path))
@click.option(
    "--set",
    "overrides",
    multiple=True,
    metavar="KEY=VALUE",
    help="Override a config value, e.g. --set sources.dumps.captured_on=2025-12-10 (TOML value).",
)
@click.option(
    "--summary-json",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Also write the run summary as JSON to this file.",
)
@click.option(
    "--refresh",
    is_flag=True,
    help="Read every target again, even those done in earlier runs (needs run.state).",
)
@click.option("-q", "--quiet", is_flag=True, help="No progress and no summary on stderr.")
def run(
    config: Path, overrides: tuple[str, ...], summary_json: Path | None, refresh: bool, quiet: bool
) -> None:
    """Run the harvest described by CONFIG (a TOML file, see config/example.toml).

    Exit status: 0 ok, 1 fatal (a sink failed), 2 usage/config error, 3 partial.
    """
    try:
        harvest = Harvest(
            load_config(config, list(overrides)),
            progress=None if quiet else _progress_printer(),
            refresh=refresh,
        )
    except (ConfigError, PluginError) as exc:
        _fail(str(exc), EXIT_USAGE)
    try:
        report = harvest.run()
    except SinkError as exc:
        _fail(
            f"{exc} (the previous output is left intact)",
            EXIT_FATAL,
        )
    except HarvesterError as exc:
        _fail(str(exc), EXIT_FATAL)
    except KeyboardInterrupt:
        _fail("aborted by a second interrupt; uncommitted work was dropped", EXIT_PARTIAL)
    if summary_json:
        summary_json.write_text(json.dumps(report.as_dict(), indent=2) + "\n", encoding="utf-8")
    if not quiet:
        click.echo(format_summary(report), err=True)
    sys.exit(report.exit_status)


@cli.command()
@click.argument("source")
@click.argument("inputs", nargs=-1, required=True)
@click.option(
    "--option",
    "-o",
    "options",
    multiple=True,
    metavar="KEY=VALUE",
    help="A source option, e.g. --option captured_on=2025-12-10 (value read as TOML, else text).",
)
def parse(source: str, inputs: tuple[str, ...], options: tuple[str, ...]) -> None:
    """Run one SOURCE plugin on INPUTS (files or URLs) and print JSONL records to stdout.

    Rejected entries are reported on stderr with their location.
    """
    raw: dict = {}
    for item in options:
        try:
            apply_override(raw, item, file="--option")
        except ConfigError as exc:
            _fail(str(exc), EXIT_USAGE)
    raw["inputs"] = list(inputs)
    fetch = raw.pop("fetch", {})
    config = RunConfig(path=None, base_dir=Path.cwd(), run=RunSettings(), fetch=fetch)
    context = make_context(config)
    spec = PluginSpec(label=source, plugin=source, options=raw, kind="source")
    try:
        src = build_source(load_plugins(), spec, context, "--option")
    except (ConfigError, PluginError) as exc:
        _fail(str(exc), EXIT_USAGE)
    report = SourceReport(label=source, plugin=source)
    encoder = msgspec.json.Encoder()
    out = sys.stdout.buffer
    now = dt.datetime.now(dt.UTC).replace(microsecond=0)
    try:
        for item in iter_source(src, report, now):
            if isinstance(item, Paper):
                out.write(encoder.encode(item) + b"\n")
            else:
                click.echo(f"{item.source_ref}: rejected: {item.reason}", err=True)
        out.flush()
    except BrokenPipeError:  # `| head` closed the pipe: not an error
        sys.stderr.close()
        sys.exit(EXIT_OK)
    finally:
        context.close()
    if report.error:
        _fail(report.error, EXIT_USAGE if not report.targets else EXIT_PARTIAL)
    for target, reason in report.failed:
        click.echo(f"harvester: failed: {target}: {reason}", err=True)
    sys.exit(EXIT_OK if report.ok else EXIT_PARTIAL)


@cli.command()
def plugins() -> None:
    """List installed plugins (name, kind, module, version) as JSON; broken ones show an error."""
    registry = load_plugins()
    rows = []
    for info in registry.plugins:
        base = {
            "plugin": info.plugin,
            "module": info.module,
            "distribution": info.distribution,
            "version": info.version,
        }
        if info.error:
            rows.append({**base, "name": info.plugin, "kind": None, "error": info.error})
            continue
        for kind, names in (("source", info.sources), ("sink", info.sinks)):
            rows.extend({**base, "name": n, "kind": kind, "error": None} for n in names)
    click.echo(json.dumps(rows, indent=2))


@cli.command()
def schema() -> None:
    """Print the JSON Schema of a paper record (the JSONL output contract)."""
    click.echo(json_schema_text(), nl=False)


@cli.command()
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--max-errors", default=50, show_default=True, help="Stop listing after this many.")
def validate(file: Path, max_errors: int) -> None:
    """Check every line of a JSONL FILE against the paper schema; exit 1 if any line fails."""
    from .validate import validate_jsonl

    bad = 0
    for problem in validate_jsonl(file):
        bad += 1
        if bad <= max_errors:
            click.echo(f"{file}:{problem.line}: {problem.field}: {problem.message}", err=True)
    if bad:
        click.echo(f"{file}: {bad} invalid line(s)", err=True)
        sys.exit(EXIT_FATAL)
    click.echo(f"{file}: ok", err=True)


def _progress_printer():
    """Progress on a terminal; nothing in a pipe or a log file."""
    if not sys.stderr.isatty():
        return None

    def show(event: str, r: SourceReport) -> None:
        line = f"{r.label}: {r.targets} targets, {r.written} written, {r.rejected} rejected"
        end = "\n" if event == "done" else ""
        click.echo(f"\r\x1b[2K{line}", err=True, nl=False)
        if end:
            click.echo("", err=True)

    return show


def format_summary(report: RunReport) -> str:
    lines = [f"{'source':<24} {'entries':>8} {'written':>8} {'rejected':>8} {'failed':>7}"]
    for s in report.sources:
        lines.append(
            f"{s.label:<24} {s.entries:>8} {s.written:>8} {s.rejected:>8} {len(s.failed):>7}"
        )
        if s.error:
            lines.append(f"  error: {s.error}")
        lines.extend(f"  failed: {t}: {reason}" for t, reason in s.failed)
        lines.extend(f"  empty: {t}" for t in s.empty)
        if s.skipped or s.unchanged:
            lines.append(f"  skipped (done earlier): {s.skipped}, unchanged: {len(s.unchanged)}")
        if s.not_started:
            lines.append(f"  not started: {len(s.not_started)} targets")
    if report.fetch:
        shown = [f"{k}={v}" for k, v in report.fetch.items() if not isinstance(v, list)]
        lines.append("fetch: " + ", ".join(shown))
    if report.stopped:
        lines.append(f"stopped early ({report.stopped}): {report.resume_hint}")
    status = "ok" if report.exit_status == EXIT_OK else "PARTIAL"
    lines.append(f"status: {status} in {report.seconds:.1f}s")
    return "\n".join(lines)


def main() -> None:
    cli()


if __name__ == "__main__":
    main()
