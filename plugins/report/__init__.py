"""`harvester report STORE --html FILE [--rejects REJECTS]`: one self-contained HTML page about
a harvest: papers per listing day, the upvote distribution, top organisations, the upvote
history of the top papers, rejects by reason, and the papers themselves in a table that can be
searched and sorted (`.table`). Also `harvester history STORE KEY` (`.history`).

STORE is anything `harvester.store` opens: a SQLite file, a ``postgresql://`` URL, a JSONL file,
a Parquet folder; the upvote history is its observations. Charts are inline SVG drawn when the
report is made; the one script (search and sort) is inline and the only one the page's
Content-Security-Policy allows: the page loads nothing and works offline from the one file.
"""

from __future__ import annotations

import datetime as dt
from html import escape
from pathlib import Path

import click

from harvester.atomic import write_atomic
from harvester.errors import OutputError
from harvester.hookspecs import hookimpl
from harvester.version import __version__

from . import svg, table
from .data import ReportData, build
from .history import history

STYLE = (
    """
body { font-family: system-ui, sans-serif; margin: 2rem auto; max-width: 820px; color: #222; }
h1 { font-size: 1.5rem; } h2 { font-size: 1.15rem; margin-top: 2rem; }
p.note { color: #666; } svg.chart { display: block; margin: 0.5rem 0; }
table { border-collapse: collapse; } td, th { padding: 2px 8px; text-align: left; }
"""
    + table.STYLE
)
# Nothing but the page's own style and script; no fetch of anything, no form, no base.
CSP = (
    f"default-src 'none'; style-src {table.csp_hash(STYLE)}; "
    f"script-src {table.csp_hash(table.SCRIPT)}; img-src data:; base-uri 'none'; "
    "form-action 'none'"
)


def render(data: ReportData, now: dt.datetime) -> str:
    upvoted = data.papers - data.no_upvotes
    charts = [  # (title, chart id, chart title, values, bar direction, text when empty)
        ("Papers per listing day", "per-day", "Papers per listing day", data.per_day, "up",
         "No papers."),
        ("Upvotes", "upvotes", "Papers by upvote count", data.upvotes if upvoted else None,
         "up", "No paper shows an upvote count."),
        ("Top organisations", "organisations", "Papers per organisation", data.organisations,
         "right", "No paper names an organisation."),
    ]  # fmt: skip
    no_upvotes = f"{data.no_upvotes} papers show no upvote count." if data.no_upvotes else None
    sections = [
        *(
            _section(
                title,
                _chart(cid, label, values, way),
                empty,
                no_upvotes if cid == "upvotes" else None,
            )
            for title, cid, label, values, way, empty in charts
        ),
        _history_section(data),
        _rejects_section(data),
        table.papers_section(data),
    ]
    generated = now.strftime("%Y-%m-%d %H:%M UTC")
    return (
        '<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        f'<meta http-equiv="Content-Security-Policy" content="{CSP}">\n'
        f"<title>Harvest report: {escape(data.source)}</title>\n"
        f"<style>{STYLE}</style>\n</head>\n<body>\n"
        f"<h1>Harvest report</h1>\n<p>{data.papers} papers in <code>{escape(data.source)}</code>"
        f". Made {generated} by harvester {escape(__version__)}.</p>\n"
        + "\n".join(sections)
        + f"\n<script>{table.SCRIPT}</script>\n</body>\n</html>\n"
    )


def _chart(chart_id: str, title: str, values, direction: str) -> str | None:
    if not values:
        return None
    draw = svg.bar_chart if direction == "up" else svg.hbar_chart
    return draw(chart_id, title, values)


def _section(title: str, chart: str | None, empty: str, note: str | None = None) -> str:
    body = chart if chart is not None else f'<p class="note">{escape(empty)}</p>'
    extra = f'<p class="note">{escape(note)}</p>' if note else ""
    return f"<section>\n<h2>{escape(title)}</h2>\n{body}\n{extra}</section>"


def _history_section(data: ReportData) -> str:
    title = "Upvote history of the top papers"
    if data.history is None:
        return _section(title, None, "This database keeps no history (no observations table).")
    series = [s for s in data.history if s.points]
    if not series:
        return _section(title, None, "No upvote observations for the top papers.")
    single = sum(1 for s in series if len(s.points) == 1)
    note = f"{single} of them seen only once so far." if single else None
    return _section(title, svg.line_chart("history", title, series), "", note)


def _rejects_section(data: ReportData) -> str:
    title = "Rejects by reason"
    if data.rejects is None:
        return _section(title, None, "No rejects file given (--rejects).")
    if not data.rejects:
        return _section(title, None, "No rejects.")
    chart = svg.hbar_chart("rejects", "Rejected entries by reason", data.rejects)
    return _section(title, chart, "", f"{data.rejects_total} rejected entries in all.")


@hookimpl
def register_commands(cli) -> None:
    cli.add_command(history)

    @cli.command()
    @click.argument("source")
    @click.option(
        "--html",
        "html_path",
        type=click.Path(dir_okay=False, path_type=Path),
        required=True,
        help="Write the report to this HTML file (replaced atomically).",
    )
    @click.option(
        "--rejects",
        type=click.Path(exists=True, dir_okay=False, path_type=Path),
        help="The run's rejects JSONL, for the rejects by reason.",
    )
    @click.option("--top", default=10, show_default=True, help="Organisations and reasons shown.")
    def report(source: str, html_path: Path, rejects: Path | None, top: int) -> None:
        """Write an HTML report of SOURCE: a SQLite file, a postgresql:// URL, a JSONL file or
        a Parquet folder."""
        data = build(source, rejects, top=top)
        write_atomic(html_path, render(data, dt.datetime.now(dt.UTC)).encode(), OutputError)
        click.echo(f"{html_path}: report of {data.papers} papers", err=True)
