"""The `harvester` command. Library errors become messages and exit statuses here, in one place
(`HarvesterCLI.invoke`), for built-in and plugin commands alike.

Exit statuses: 0 ok; 1 fatal (an output or the run state could not be written; the previous good
output is left intact); 2 usage or config error (nothing ran); 3 partial (some targets or
sources failed, were deferred, or the run was stopped; everything else was written).
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import click

from .authoring import check, new
from .errors import EXIT_FATAL, EXIT_OK, EXIT_PARTIAL, HarvesterError, exit_status
from .masking import mask_secrets, shown
from .plugins import load_plugins
from .version import __version__

GLOBAL_FLAGS = frozenset({"-v", "-vv", "-vvv", "--verbose", "-q", "--quiet"})


class _Context(click.Context):
    """The group's context: its help formatter sized without `shutil` (which imports the
    compression modules: ~5 ms of `harvester --help`)."""

    def make_formatter(self) -> click.HelpFormatter:
        max_width = self.max_content_width or 80
        width = self.terminal_width or click.formatting.FORCED_WIDTH  # CliRunner forces 80
        if width is None:
            width = max(min(_terminal_columns(), max_width) - 2, 50)
        return self.formatter_class(width=width, max_width=max_width)


def _terminal_columns() -> int:
    """The terminal's width as `shutil.get_terminal_size` tells it: $COLUMNS, else stdout's
    terminal, else 80."""
    try:
        columns = int(os.environ.get("COLUMNS", "0"))
    except ValueError:
        columns = 0
    if columns <= 0:
        try:
            columns = os.get_terminal_size(sys.__stdout__.fileno()).columns  # type: ignore[union-attr]
        except (AttributeError, ValueError, OSError):
            columns = 0
    return columns or 80


class HarvesterCLI(click.Group):
    """A click group whose commands' `HarvesterError`s end as `harvester: error: ...` and the
    error class's exit status, never as a traceback; its global flags (`-v`, `-q`) are taken
    before or after the subcommand (`harvester run -v CONFIG`), for every command.

    Plugin commands are added when first asked for: the plugin that declares a command (entry
    point group `harvester.commands`, see `harvester.plugins`) is loaded then, and only it, so
    `harvester --help` and `harvester run` import no plugin they do not use."""

    context_class = _Context

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*self.commands, *load_plugins().command_names()})

    def get_command(self, ctx: click.Context, cmd_name: str):
        if cmd_name not in self.commands:
            registry = load_plugins()
            plugin = registry.command_names().get(cmd_name)
            if plugin is not None:
                registry.load(plugin)
                registry.add_commands(self)
            if cmd_name not in self.commands:  # undeclared: any plugin may add it
                registry.load_all()
                registry.add_commands(self)
        return self.commands.get(cmd_name)

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        """The command list, without loading a plugin to read its commands' help."""
        declared = load_plugins().command_names()
        rows = []
        for name in self.list_commands(ctx):
            command = self.commands.get(name)
            if command is not None and not command.hidden:
                rows.append((name, command.get_short_help_str(formatter.width - 6 - len(name))))
            elif command is None:
                rows.append((name, f"From the {declared[name]} plugin: harvester {name} --help"))
        if rows:
            with formatter.section("Commands"):
                formatter.write_dl(rows)

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        return super().parse_args(ctx, _globals_first(self, ctx, args))

    def resolve_command(self, ctx: click.Context, args: list[str]):
        try:
            return super().resolve_command(ctx, args)
        except click.UsageError as exc:  # a missing command may belong to a broken plugin
            broken = [p for p in load_plugins().load_all() if p.error]
            if not broken:
                raise
            names = "; ".join(f"{p.plugin}: {p.error}" for p in broken)
            raise click.UsageError(
                f"{exc.message} Plugins that failed to load (their commands are missing): {names}",
                exc.ctx,
            ) from None

    def invoke(self, ctx: click.Context):
        try:
            return super().invoke(ctx)
        except HarvesterError as exc:
            click.echo(shown(f"harvester: error: {exc}"), err=True)
            sys.exit(exit_status(exc))
        except KeyboardInterrupt:
            click.echo("harvester: aborted; uncommitted work was dropped", err=True)
            sys.exit(EXIT_PARTIAL)


@click.group(cls=HarvesterCLI, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="harvester")
@click.option("-v", "--verbose", count=True, help="More log output: -v per target, -vv debug.")
@click.option("-q", "--quiet", is_flag=True, help="No progress and no run summary on stderr.")
@click.pass_context
def cli(ctx: click.Context, verbose: int, quiet: bool) -> None:
    """Harvest research-paper listings into one clean, normalised stream of paper records.

    Global options go before or after the command: `harvester -v run CONFIG` and `harvester run
    CONFIG -v` are the same."""
    ctx.obj = {"quiet": quiet}
    import logging  # here, not at the top: `harvester --help` never configures logging

    level = logging.WARNING - 10 * min(verbose, 2)
    logging.basicConfig(level=level, format="%(levelname)s %(name)s: %(message)s")
    logging.getLogger("harvester").setLevel(level)


def _key_values(*names: str, help: str):
    """A repeatable KEY=VALUE option; values are read as TOML, else as text."""
    return click.option(*names, multiple=True, metavar="KEY=VALUE", help=help)


def _cache_option(help: str):
    return click.option("--cache", type=click.Path(file_okay=False, path_type=Path), help=help)


@cli.command()
@click.argument("config", type=click.Path(dir_okay=False, path_type=Path))
@_key_values(
    "--set",
    "overrides",
    help="Override a config value, e.g. --set sources.dumps.captured_on=2025-12-10 (TOML value).",
)
@click.option(
    "--summary-json",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Also write the run summary as JSON to this file (its folder must exist).",
)
@click.option("--refresh", is_flag=True, help="Read every target again, even those done earlier.")
@click.option(
    "--discard-journal",
    is_flag=True,
    help="Start a new run even though an interrupted one could be resumed (drops its output).",
)
@click.option(
    "--ignore-deferrals",
    is_flag=True,
    help="Clear the host deferrals saved by earlier runs (a site's Retry-After) and ask again.",
)
@_cache_option(
    "Development cache: store responses in DIR and replay them on later runs (never on in "
    "scheduled runs unless asked)."
)
@click.pass_context
def run(
    ctx: click.Context,
    config: Path,
    overrides: tuple[str, ...],
    summary_json: Path | None,
    refresh: bool,
    discard_journal: bool,
    ignore_deferrals: bool,
    cache: Path | None,
) -> None:
    """Run the harvest described by CONFIG (a TOML file, see config/example.toml).

    Each target ends with one outcome: complete, empty, incomplete, stale, deferred, stopped,
    failed or skipped (see the README). Exit status: 0 every target complete, empty or skipped;
    1 fatal (an output or the run state could not be written; the previous output is left
    intact); 2 usage or config error (nothing ran); 3 partial (some target ended otherwise, or
    the run was stopped: see the summary).
    """
    from .build import build_plan
    from .config import load_config
    from .report import format_summary
    from .run import Run

    if summary_json is not None and not summary_json.parent.is_dir():
        raise click.BadParameter(
            f"folder {summary_json.parent} does not exist", param_hint="--summary-json"
        )
    plan = build_plan(load_config(config, list(overrides)), cache_dir=cache)
    mask_secrets(plan.redactor)
    quiet = bool(ctx.obj and ctx.obj["quiet"])
    progress = None if quiet else _progress_printer()
    report = Run(
        plan,
        refresh=refresh,
        discard_journal=discard_journal,
        progress=progress,
        ignore_deferrals=ignore_deferrals,
    ).execute()
    if progress is not None:
        click.echo("", err=True)
    if summary_json is not None:
        from .atomic import write_atomic
        from .errors import OutputError

        data = shown(_json(report.as_dict())).encode()
        write_atomic(summary_json, data, OutputError)
    if not quiet:
        click.echo(shown(format_summary(report)), err=True)
    sys.exit(report.exit_status)


@cli.command()
@click.argument("source")
@click.argument("inputs", nargs=-1, required=True)
@_key_values(
    "--option",
    "-o",
    "options",
    help="A source option, e.g. --option captured_on=2025-12-10 (value read as TOML, else text).",
)
@_cache_option("Store responses in DIR and replay them on later calls (for parser development).")
@click.option(
    "--max-entries",
    type=click.IntRange(min=1),
    help="Entries one input may hold (default 100,000, as run.max_entries); an input over it "
    "prints nothing and fails.",
)
def parse(
    source: str,
    inputs: tuple[str, ...],
    options: tuple[str, ...],
    cache: Path | None,
    max_entries: int | None,
) -> None:
    """Run one SOURCE plugin on INPUTS (files or URLs) and print JSONL records to stdout.

    Rejected entries are reported on stderr with their location. Exit status as for `run`.
    """
    from .parse import parse_to_stdout

    status = parse_to_stdout(
        source,
        list(inputs),
        list(options),
        cache_dir=cache,
        on_redactor=mask_secrets,
        max_entries=max_entries,
    )
    sys.exit(status)


@cli.command()
@click.argument("config", type=click.Path(dir_okay=False, path_type=Path))
@_key_values("--set", "overrides", help="Override a config value, as for `harvester run`.")
@click.option("--json", "as_json", is_flag=True, help="Print the ledger as JSON.")
def status(config: Path, overrides: tuple[str, ...], as_json: bool) -> None:
    """Show what the run state of CONFIG says: per source, its targets by last outcome
    (pending: never attempted), the last complete day, the gaps (days not complete, which a
    run reads again) and host deferrals; plugins add sections (the workers' job queue)."""
    from .status import status_report

    sections = status_report(config, list(overrides), on_redactor=mask_secrets)
    if as_json:
        click.echo(_json({s.name: s.data for s in sections}), nl=False)
        return
    for section in sections:
        for line in section.lines:
            click.echo(shown(line))


@cli.command()
def plugins() -> None:
    """List installed plugins' sources, sinks, stores and commands (name, kind, module,
    version) as JSON; broken plugins show their error."""
    registry = load_plugins()
    every = registry.load_all()
    registry.add_commands(cli)  # what each plugin's commands are
    rows = []
    for info in every:
        base = {
            "plugin": info.plugin,
            "module": info.module,
            "distribution": info.distribution,
            "version": info.version,
        }
        if info.error:
            rows.append({**base, "name": info.plugin, "kind": None, "error": info.error})
            continue
        for kind, names in (
            ("source", info.sources),
            ("sink", info.sinks),
            ("store", info.stores),
            ("command", info.commands),
        ):
            rows.extend({**base, "name": n, "kind": kind, "error": None} for n in names)
    click.echo(_json(rows), nl=False)


@cli.command()
def schema() -> None:
    """Print the JSON Schema of a paper record (the JSONL output contract)."""
    from .schema import json_schema_text

    click.echo(json_schema_text(), nl=False)


@cli.command()
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--max-errors", default=50, show_default=True, help="Stop listing after this many.")
def validate(file: Path, max_errors: int) -> None:
    """Check every line of a JSONL FILE against the paper schema; exit 1 if any line fails."""
    from .validate import validate_jsonl

    bad = total = 0
    for line in validate_jsonl(file):
        total += 1
        if not line.problems:
            continue
        bad += 1
        if bad <= max_errors:
            fields = "; ".join(f"{f}: {m}" for f, m in line.problems)
            click.echo(f"{file}:{line.number}: {fields}", err=True)
    if bad:
        click.echo(f"{file}: {bad} invalid line{'s' if bad != 1 else ''} of {total}", err=True)
        sys.exit(EXIT_FATAL)
    click.echo(f"{file}: ok, {total} record{'s' if total != 1 else ''}")


def _json(data) -> str:
    """`data` as indented JSON text, ending with a newline."""
    import json

    return json.dumps(data, indent=2) + "\n"


def _globals_first(group: click.Group, ctx: click.Context, args: list[str]) -> list[str]:
    """`args` with the global flags given after the subcommand moved before it (a flag that is
    the value of the subcommand's own option, `--set -v`, stays where it is)."""
    position = next((i for i, a in enumerate(args) if not a.startswith("-")), None)
    if position is None:
        return args
    command = group.get_command(ctx, args[position])
    takes_value = set()
    for param in getattr(command, "params", []):
        if isinstance(param, click.Option) and not (param.is_flag or param.count):
            takes_value.update(param.opts)
    moved: list[str] = []
    kept: list[str] = []
    for i, arg in enumerate(args[position + 1 :], position + 1):
        is_value = args[i - 1] in takes_value
        (moved if arg in GLOBAL_FLAGS and not is_value else kept).append(arg)
    return [*args[:position], *moved, args[position], *kept]


def _progress_printer():
    """Progress on a terminal (one updating line per source); nothing in a pipe or a log file."""
    if not sys.stderr.isatty() or os.environ.get("TERM") == "dumb":
        return None

    def show(r) -> None:
        line = (
            f"{r.label}: {r.done}/{r.planned} target{'s' if r.planned != 1 else ''}, "
            f"{r.written:,} written, {r.rejected:,} rejected, {len(r.failed)} failed"
        )
        click.echo(f"\r\x1b[2K{line}", err=True, nl=False)

    return show


# The plugin author's commands (harvester.authoring): the core's, whatever plugins load.
cli.add_command(check)
cli.add_command(new)


def main() -> None:
    cli()


__all__ = ["EXIT_OK", "cli", "main", "mask_secrets"]

if __name__ == "__main__":
    main()
