"""Bibliographic exports: `harvester export --format csl-json|bibtex|ris SOURCE`, and the
same three formats as sinks (`csl-json`, `bibtex`, `ris`; see `.sink`).

SOURCE is a JSONL file of papers (sightings of one key merged, the latest winning) or a
database written by the sqlite sink.
"""

from __future__ import annotations

import sys
from pathlib import Path

import click

from harvester.atomic import write_atomic
from harvester.errors import OutputError
from harvester.hookspecs import hookimpl

from ..paper_sources import read_papers
from .formats import FORMATS, RENDERERS
from .sink import SINKS


@hookimpl
def register_sinks(register) -> None:
    for sink in SINKS:
        register(sink)


@hookimpl
def register_commands(cli) -> None:
    @cli.command()
    @click.option(
        "--format", "-f", "fmt", type=click.Choice(FORMATS), required=True, help="Output format."
    )
    @click.option(
        "-o",
        "--output",
        type=click.Path(dir_okay=False, path_type=Path),
        help="Write to FILE (replaced atomically) instead of standard output.",
    )
    @click.argument("source", type=click.Path(exists=True, dir_okay=False, path_type=Path))
    def export(fmt: str, output: Path | None, source: Path) -> None:
        """Export the papers in SOURCE (JSONL or a harvester SQLite database) as a bibliography."""
        text = RENDERERS[fmt](read_papers(source))
        if output is None:
            sys.stdout.write(text)
        else:
            write_atomic(output, text.encode(), OutputError)
