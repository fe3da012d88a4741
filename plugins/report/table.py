"""The report's list of papers: one table row per paper (title linked to its page, authors or
their count, organisation, listing day, upvotes and their trend), with search and sort done by
one small inline script.

Nothing from the data is ever code: every value is HTML-escaped text, links are only ``http``
and ``https`` URLs, and the script is a constant (no data in it) whose SHA-256 is the only
script the page's Content-Security-Policy allows; it reads the rows the page already shows.
Without the script the table is all there, unsorted by clicks.
"""

from __future__ import annotations

import base64
import hashlib
from html import escape

from harvester.schema import Paper

from .data import ReportData, Trend

SCRIPT = """
(() => {
  "use strict";
  const table = document.getElementById("papers-table");
  if (!table) return;
  const body = table.tBodies[0];
  const rows = Array.from(body.rows);
  const search = document.getElementById("paper-search");
  const shown = document.getElementById("papers-shown");
  const texts = new Map(rows.map((row) => [row, row.textContent.toLowerCase()]));
  search.addEventListener("input", () => {
    const terms = search.value.toLowerCase().split(/\\s+/).filter(Boolean);
    let count = 0;
    for (const row of rows) {
      row.hidden = !terms.every((term) => texts.get(row).includes(term));
      if (!row.hidden) count += 1;
    }
    shown.textContent = `${count} of ${rows.length} papers`;
  });
  const headers = Array.from(table.tHead.rows[0].cells);
  headers.forEach((th, column) => {
    th.querySelector("button").addEventListener("click", () => {
      const ascending = th.getAttribute("aria-sort") !== "ascending";
      headers.forEach((other) => other.removeAttribute("aria-sort"));
      th.setAttribute("aria-sort", ascending ? "ascending" : "descending");
      const numeric = th.dataset.type === "number";
      const value = (row) => {
        const text = row.cells[column].dataset.value ?? row.cells[column].textContent;
        return numeric ? (text === "" ? -Infinity : Number(text)) : text.toLowerCase();
      };
      const order = (a, b) => {
        const x = value(a), y = value(b);
        const by = numeric ? x - y : x.localeCompare(y);
        const tie = a.dataset.key < b.dataset.key ? -1 : 1;  // a total order: ties by key
        return (ascending ? by : -by) || tie;
      };
      body.append(...rows.slice().sort(order));
    });
  });
})();
"""
STYLE = """
#paper-search { width: 24rem; max-width: 100%; padding: 4px; }
#papers-table { width: 100%; font-size: 0.9rem; }
#papers-table th button { font: inherit; font-weight: bold; border: 0; background: none;
  padding: 0; cursor: pointer; }
#papers-table th[aria-sort=ascending] button::after { content: " ▲"; }
#papers-table th[aria-sort=descending] button::after { content: " ▼"; }
#papers-table tbody tr:nth-child(even) { background: #f6f6f6; }
td.number { text-align: right; }
"""
COLUMNS = (  # (heading, type for sorting)
    ("Title", "text"),
    ("Authors", "text"),
    ("Organisation", "text"),
    ("Day", "text"),
    ("Upvotes", "number"),
    ("Trend", "number"),
)
AUTHORS_SHOWN = 3


def csp_hash(text: str) -> str:
    """A CSP source for an inline element with exactly this text."""
    return "'sha256-" + base64.b64encode(hashlib.sha256(text.encode()).digest()).decode() + "'"


def papers_section(data: ReportData) -> str:
    """The section: a search box, how many papers show, the table (newest day first, then the
    most upvoted, then by key)."""
    ordered = sorted(data.listed, key=lambda p: p.key)
    ordered.sort(key=lambda p: -(p.upvotes if p.upvotes is not None else -1))
    ordered.sort(key=lambda p: p.listing_date.isoformat() if p.listing_date else "", reverse=True)
    head = "".join(
        f'<th scope="col" data-type="{kind}"><button type="button">{name}</button></th>'
        for name, kind in COLUMNS
    )
    rows = "\n".join(_row(p, data.trends.get(p.key)) for p in ordered)
    total = len(ordered)
    return (
        '<section id="papers">\n<h2>Papers</h2>\n'
        '<p><label for="paper-search">Search </label><input id="paper-search" type="search" '
        'placeholder="title, author, organisation, day" autocomplete="off"> '
        f'<span id="papers-shown">{total} of {total} papers</span></p>\n'
        f'<table id="papers-table">\n<thead><tr>{head}</tr></thead>\n<tbody>\n{rows}\n'
        "</tbody>\n</table>\n</section>"
    )


def _row(paper: Paper, trend: Trend | None) -> str:
    day = paper.listing_date.isoformat() if paper.listing_date else ""
    upvotes = "" if paper.upvotes is None else str(paper.upvotes)
    cells = [
        f'<td data-value="{escape(paper.title)}">{_title(paper)}</td>',
        f"<td>{escape(_authors(paper))}</td>",
        f"<td>{escape(paper.organization or '')}</td>",
        f"<td>{day}</td>",
        f'<td class="number" data-value="{upvotes}">{upvotes}</td>',
        _trend(trend),
    ]
    return f'<tr data-key="{escape(paper.key)}">{"".join(cells)}</tr>'


def _title(paper: Paper) -> str:
    url = paper.url or (f"https://arxiv.org/abs/{paper.arxiv_id}" if paper.arxiv_id else None)
    if url is None or not url.startswith(("https://", "http://")):  # never javascript: etc.
        return escape(paper.title)
    return f'<a href="{escape(url)}" rel="noopener noreferrer">{escape(paper.title)}</a>'


def _authors(paper: Paper) -> str:
    if paper.authors:
        shown = ", ".join(paper.authors[:AUTHORS_SHOWN])
        more = len(paper.authors) - AUTHORS_SHOWN
        return shown + (f" and {more} more" if more > 0 else "")
    if paper.author_count:
        return f"{paper.author_count} authors (names not listed)"
    return ""


def _trend(trend: Trend | None) -> str:
    if trend is None:
        return '<td class="number" data-value=""></td>'
    since = trend.since.strftime("%Y-%m-%d %H:%M UTC")
    label = f"{trend.change:+d}"
    note = f"{trend.points} observations since {since}"
    return f'<td class="number" data-value="{trend.change}" title="{note}">{label}</td>'
