"""The `harvester` command. Library errors become CLI messages and exit statuses only here.

Exit statuses: 0 ok; 1 fatal (a sink failed, nothing new was committed past the failure);
2 usage or config error (nothing ran); 3 partial (some targets or sources failed, the rest written).
"""

from __future__ import annotations

import json
import logging
import sys
from pathlib import Path

import click

from . import __version__
from .errors import EXIT_FATAL
from .plugins import load_plugins
from .schema import json_schema_text


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
def run(config: Path) -> None:
    """Run the harvest described by CONFIG (being rebuilt: core v2)."""
    _fail("harvester run is being rebuilt (core v2)", EXIT_FATAL)


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


def main() -> None:
    load_plugins().add_commands(cli)
    cli()


if __name__ == "__main__":
    main()
