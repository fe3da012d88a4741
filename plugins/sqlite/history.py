"""`harvester history DB KEY [--json]`: the metric series (upvotes, comments, GitHub stars) of
one paper, from a SQLite database file or a PostgreSQL URL (``postgresql://...``)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import click
import msgspec
from harvester_plugins.store.metrics import OBSERVATION_COLUMNS

from harvester.errors import UsageError

_SHOWN = OBSERVATION_COLUMNS[1:]  # the key is given: every row has it


def series_reader(db: str) -> Callable[[str, str], list[dict[str, Any]]]:
    if db.startswith(("postgresql://", "postgres://")):
        try:
            from harvester_plugins.postgres.read import read_series
        except ImportError as exc:
            raise UsageError(f"a PostgreSQL URL needs the postgres sink: {exc}") from exc
        return read_series
    from .read import read_series as read_sqlite

    return read_sqlite


def normalise_key(key: str) -> str:
    """A bare arXiv id names its row too: '2501.00001' is 'arxiv:2501.00001'."""
    return key if ":" in key else f"arxiv:{key}"


def render_table(points: list[dict[str, Any]]) -> str:
    cells = [[("" if p[c] is None else str(p[c])) for c in _SHOWN] for p in points]
    widths = [max([len(c), *(len(row[i]) for row in cells)]) for i, c in enumerate(_SHOWN)]
    lines = ["  ".join(c.ljust(w) for c, w in zip(_SHOWN, widths, strict=True)).rstrip()]
    for row in cells:
        lines.append("  ".join(v.ljust(w) for v, w in zip(row, widths, strict=True)).rstrip())
    return "\n".join(lines)


@click.command()
@click.argument("db")
@click.argument("key")
@click.option("--json", "as_json", is_flag=True, help="One JSON object per observation.")
def history(db: str, key: str, as_json: bool) -> None:
    """Print the upvotes, comments and GitHub stars series of the paper KEY stored in DB (a
    SQLite file or a postgresql:// URL). KEY is a row key ('arxiv:2501.00001', 'title:...') or
    a bare arXiv id. A point is stored only when a value changed."""
    points = series_reader(db)(db, normalise_key(key))  # errors: the CLI says and exits
    if as_json:
        encode = msgspec.json.encode
        for point in points:
            click.echo(encode(point).decode())
        return
    if not points:
        click.echo(f"{normalise_key(key)}: no observations", err=True)
        return
    click.echo(render_table(points))
