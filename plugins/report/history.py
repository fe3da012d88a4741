"""`harvester history STORE KEY [--json]`: the metric series (upvotes, comments, GitHub stars) of
one paper, from any store `harvester.store` opens (a SQLite file, a ``postgresql://`` URL, a
JSONL file, a Parquet folder)."""

from __future__ import annotations

import dataclasses
import datetime as dt

import click
import msgspec
from harvester_plugins.store.rules import iso_utc

from harvester.readback import open_store
from harvester.store import Observation, StoreError

SHOWN = ("source", "observed_at", "seq", "upvotes", "comments", "github_stars")


def normalise_key(key: str) -> str:
    """A bare arXiv id names its row too: '2501.00001' is 'arxiv:2501.00001'."""
    return key if ":" in key else f"arxiv:{key}"


def render_table(points: list[Observation]) -> str:
    cells = [[_cell(getattr(p, c)) for c in SHOWN] for p in points]
    widths = [max([len(c), *(len(row[i]) for row in cells)]) for i, c in enumerate(SHOWN)]
    lines = ["  ".join(c.ljust(w) for c, w in zip(SHOWN, widths, strict=True)).rstrip()]
    for row in cells:
        lines.append("  ".join(v.ljust(w) for v, w in zip(row, widths, strict=True)).rstrip())
    return "\n".join(lines)


def _cell(value) -> str:
    if value is None:
        return ""
    return iso_utc(value) or "" if isinstance(value, dt.datetime) else str(value)


@click.command()
@click.argument("store")
@click.argument("key")
@click.option("--json", "as_json", is_flag=True, help="One JSON object per observation.")
def history(store: str, key: str, as_json: bool) -> None:
    """Print the upvotes, comments and GitHub stars series of the paper KEY in STORE (a SQLite
    file, a postgresql:// URL, a JSONL file or a Parquet folder). KEY is a paper key
    ('arxiv:2501.00001', 'title:...') or a bare arXiv id. A point is kept only when a value
    changed."""
    key = normalise_key(key)
    with open_store(store) as opened:  # errors: the CLI says and exits
        if not opened.keeps_history:
            raise StoreError(f"{opened.describe()}: keeps no metric history")
        points = opened.observations(key)
        if not points and opened.paper(key) is None:
            raise StoreError(f"{opened.describe()}: no paper with key {key!r}")
    if as_json:
        encode = msgspec.json.encode
        for point in points:
            click.echo(encode(dataclasses.asdict(point)).decode())
        return
    if not points:
        click.echo(f"{key}: no observations", err=True)
        return
    click.echo(render_table(points))
