"""Bibliographic exports: `harvester export --format csl-json|bibtex|ris SOURCE`, and the
same three formats as sinks (`csl-json`, `bibtex`, `ris`; see `.sink`).

SOURCE is any store `harvester.store` opens: a SQLite file, a ``postgresql://`` URL, a JSONL
file, a Parquet folder; a bibliography lists each paper once (a record log is merged as the
database sinks merge it).
"""

from __future__ import annotations

import sys
from pathlib import Path

import click

from harvester.atomic import write_atomic
from harvester.errors import OutputError
from harvester.hookspecs import hookimpl
from harvester.readback import open_store

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
    @click.argument("source")
    def export(fmt: str, output: Path | None, source: str) -> None:
        """Export the papers in SOURCE (a SQLite file, a postgresql:// URL, a JSONL file or a
        Parquet folder) as a bibliography, one entry per paper."""
        with open_store(source) as store:
            papers = store.papers()
        text = RENDERERS[fmt](papers)
        if output is None:
            sys.stdout.write(text)
        else:
            write_atomic(output, text.encode(), OutputError)
