"""`harvester report` as a real subprocess; the page opened in a real headless browser (Debian's
chromium): every chart must be laid out with its marks drawn. A screenshot is kept in the test's
temporary directory (report.png). Skips only where chromium is not installed."""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import html
import json
import re
import shutil
import subprocess
from html.parser import HTMLParser
from pathlib import Path

import msgspec
import pytest

from tests.paper_factory import (
    HARVESTED,
    example_papers,
    numbered,
    run_harvester,
    sample_papers,
    write_jsonl,
    write_sqlite,
)

CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
# Appended to a copy of the report: measures what the browser laid out and writes it into the DOM
# (read back with --dump-dom).
PROBE = """<script>
const charts = [...document.querySelectorAll("svg.chart")].map((svg) => {
  const box = svg.getBoundingClientRect();
  const marks = [...svg.querySelectorAll("rect.bar, polyline.line, circle.point")].map((m) => {
    const b = m.getBBox();
    return [m.getAttribute("class"), b.width, b.height];
  });
  return {chart: svg.dataset.chart, width: box.width, height: box.height, marks};
});
const pre = document.createElement("pre");
pre.id = "probe";
pre.textContent = JSON.stringify(charts);
document.body.appendChild(pre);
</script>"""
REJECTS = [
    {"reason": "date 'Feb 30' is not a date", "source": "textdump", "source_ref": "a.txt:3"},
    {"reason": "date 'Feb 31' is not a date", "source": "textdump", "source_ref": "a.txt:9"},
    {"reason": "paper 'x' has no id", "source": "hf-api", "source_ref": "https://h/api"},
]


def chromium() -> str:
    found = shutil.which("chromium")
    if found is None:
        pytest.skip("chromium is not installed (CI installs Debian's chromium)")
    return found


def browse(tmp_path: Path, page: Path, *args: str) -> str:
    profile = tmp_path / "chromium-profile"
    profile.mkdir(exist_ok=True)
    done = subprocess.run(
        [chromium(), *CHROMIUM_FLAGS, f"--user-data-dir={profile}", *args, page.as_uri()],
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    return done.stdout


def rendered_charts(tmp_path: Path, report: Path) -> dict[str, dict]:
    """The report with the probe appended, its CSP removed (the CSP allows only the report's
    own script: the probe would not run)."""
    page = re.sub(r'<meta http-equiv="Content-Security-Policy"[^>]*>', "", report.read_text())
    probe = tmp_path / "probe.html"
    probe.write_text(page.replace("</body>", PROBE + "</body>"))
    dom = browse(tmp_path, probe, "--dump-dom")
    found = re.search(r'<pre id="probe">(.*?)</pre>', dom, re.S)
    assert found, "the probe did not run"
    return {c["chart"]: c for c in json.loads(html.unescape(found[1]))}


def bars_drawn(chart: dict) -> int:
    return sum(1 for kind, w, h in chart["marks"] if kind == "bar" and w > 0 and h > 0)


SIX_HOURS_LATER = HARVESTED + dt.timedelta(hours=6)


def sightings() -> list:
    """A JSONL stream: every paper seen once, the first six again six hours later."""
    papers = sample_papers() + [numbered(n) for n in range(20)]
    later = [
        msgspec.structs.replace(
            p, upvotes=(p.upvotes or 0) + 10, harvested_at=HARVESTED + dt.timedelta(hours=6)
        )
        for p in papers[:6]
    ]
    return papers + later


@pytest.fixture
def rejects(tmp_path) -> Path:
    path = tmp_path / "rejects.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in REJECTS), encoding="utf-8")
    return path


def test_report_from_jsonl_renders_every_chart_in_chromium(tmp_path, rejects):
    source = write_jsonl(tmp_path / "papers.jsonl", sightings())
    report = tmp_path / "report.html"
    run_harvester("report", source, "--html", report, "--rejects", rejects)
    charts = rendered_charts(tmp_path, report)
    assert set(charts) == {"per-day", "upvotes", "organisations", "history", "rejects"}
    for chart in charts.values():
        assert chart["width"] > 300 and chart["height"] >= 30, chart
    assert bars_drawn(charts["per-day"]) == 7  # 2026-03-01..04, 03-13, 03-14, no date
    assert bars_drawn(charts["organisations"]) == 1
    assert bars_drawn(charts["rejects"]) == 2  # two 'date ... is not a date' are one reason
    history = charts["history"]["marks"]
    lines = [m for m in history if m[0] == "line"]
    points = [m for m in history if m[0] == "point" and m[1] > 0]
    assert len(lines) >= 1 and all(w > 100 for _, w, _ in lines)  # seen twice: a line
    # The five papers with the most upvotes (their last sighting), one point per sighting.
    latest = {p.key: p.upvotes for p in sightings()}
    top = sorted(latest, key=lambda k: (-(latest[k] or 0), k))[:5]
    assert len(points) == sum(1 for p in sightings() if p.key in top)
    screenshot = tmp_path / "report.png"
    browse(tmp_path, report, f"--screenshot={screenshot}", "--window-size=900,2400")
    assert screenshot.stat().st_size > 10_000


def observations_db(tmp_path: Path) -> Path:
    """A database the sqlite sink wrote over five runs: one paper re-read on four days with
    its upvotes growing (four points), another seen once (one point)."""
    db = tmp_path / "papers.db"
    by_key = {p.key: p for p in sample_papers()}
    growing, once = by_key["arxiv:2603.01111"], by_key["arxiv:2603.03333"]
    for d in range(4):
        at = dt.datetime(2026, 3, 10 + d, 9, tzinfo=dt.UTC)
        write_sqlite(db, [msgspec.structs.replace(growing, upvotes=5 + 7 * d, harvested_at=at)])
    at = dt.datetime(2026, 3, 13, 9, tzinfo=dt.UTC)
    write_sqlite(db, [msgspec.structs.replace(once, upvotes=7, comments=1, harvested_at=at)])
    return db


def test_report_from_a_database_draws_its_observations(tmp_path):
    report = tmp_path / "report.html"
    run_harvester("report", observations_db(tmp_path), "--html", report)
    charts = rendered_charts(tmp_path, report)
    history = charts["history"]["marks"]
    assert sum(1 for kind, *_ in history if kind == "point") == 5
    assert sum(1 for kind, *_ in history if kind == "line") == 1  # one paper seen once: a dot
    assert "rejects" not in charts
    assert "No rejects file given" in report.read_text(encoding="utf-8")


class _Loads(HTMLParser):
    """Everything in a page that would make a browser fetch something, its scripts' texts and
    its Content-Security-Policy."""

    def __init__(self) -> None:
        super().__init__()
        self.fetches: list[tuple[str, str]] = []
        self.scripts: list[str] = []
        self.csp: str | None = None
        self._in_script = False

    def handle_starttag(self, tag, attrs):
        values = dict(attrs)
        for name, value in attrs:
            if name in ("src", "srcset") or (tag == "link" and name == "href"):
                self.fetches.append((tag, value or ""))
        if tag == "meta" and values.get("http-equiv") == "Content-Security-Policy":
            self.csp = values.get("content")
        if tag == "script":
            self._in_script = True
            self.scripts.append("")

    def handle_endtag(self, tag):
        self._in_script = self._in_script and tag != "script"

    def handle_data(self, data):
        if self._in_script:
            self.scripts[-1] += data


def test_the_report_loads_nothing_and_allows_only_its_own_script(tmp_path, rejects):
    papers = sightings()
    papers[0] = msgspec.structs.replace(papers[0], title='<script src="https://x.invalid/a.js">')
    source = write_jsonl(tmp_path / "papers.jsonl", papers)
    report = tmp_path / "report.html"
    run_harvester("report", source, "--html", report, "--rejects", rejects)
    parser = _Loads()
    parser.feed(report.read_text(encoding="utf-8"))
    assert parser.fetches == []  # the title's <script src> is text, not an element
    (script,) = parser.scripts
    digest = base64.b64encode(hashlib.sha256(script.encode()).digest()).decode()
    assert parser.csp is not None and "default-src 'none'" in parser.csp
    assert f"script-src 'sha256-{digest}';" in parser.csp  # that script and no other
    assert "x.invalid" not in script and "unsafe-inline" not in parser.csp


def test_report_on_the_example_runs_database(tmp_path):
    db = write_sqlite(tmp_path / "papers.db", example_papers())
    report = tmp_path / "report.html"
    done = run_harvester("report", db, "--html", report)
    assert f"report of {len(example_papers())} papers" in done.stderr
    page = report.read_text(encoding="utf-8")
    assert 'data-chart="per-day"' in page and 'data-chart="history"' in page
    assert "keeps no history" not in page  # the sink keeps observations


def test_a_bad_rejects_file_is_a_usage_error(tmp_path):
    source = write_jsonl(tmp_path / "papers.jsonl", sample_papers())
    bad = tmp_path / "rejects.jsonl"
    bad.write_text('{"no_reason": 1}\n', encoding="utf-8")
    done = run_harvester(
        "report", source, "--html", tmp_path / "r.html", "--rejects", bad, check=False
    )
    assert done.returncode == 2 and "rejects" in done.stderr
    assert not (tmp_path / "r.html").exists()
