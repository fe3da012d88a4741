"""The report's list of papers in a real headless chromium, driven over the DevTools protocol
(tests/browser.py): typing into the search box filters the table, clicking a heading sorts it,
and a title that is HTML stays text (nothing from the data runs)."""

from __future__ import annotations

import datetime as dt

import msgspec
import pytest

from tests.browser import Browser
from tests.paper_factory import HARVESTED, numbered, run_harvester, sample_papers, write_jsonl

XSS = '<script>window.__pwned = 1</script><img src="x" onerror="window.__pwned = 2">'


def papers():
    """The sample papers, twenty numbered ones, a title that is HTML; the first six seen again
    six hours later with more upvotes (a trend)."""
    first = [*sample_papers(), *(numbered(n) for n in range(20))]
    first.append(msgspec.structs.replace(numbered(99), title=XSS))
    later = HARVESTED + dt.timedelta(hours=6)
    again = [
        msgspec.structs.replace(p, upvotes=(p.upvotes or 0) + 10, harvested_at=later)
        for p in first[:6]
    ]
    return first + again


@pytest.fixture
def browser(tmp_path):
    opened = Browser(tmp_path / "profile")
    yield opened
    opened.close()


ROWS = "[...document.querySelectorAll('#papers-table tbody tr')]"
VISIBLE = f"{ROWS}.filter((r) => !r.hidden).map((r) => r.dataset.key)"


def test_typing_filters_the_table_and_headings_sort_it(tmp_path, browser):
    source = write_jsonl(tmp_path / "papers.jsonl", papers())
    report = tmp_path / "report.html"
    run_harvester("report", source, "--html", report)
    browser.open(report.as_uri())
    assert browser.evaluate(f"{ROWS}.length") == 25
    assert browser.evaluate("document.getElementById('papers-shown').textContent") == (
        "25 of 25 papers"
    )

    browser.evaluate("document.getElementById('paper-search').focus()")
    browser.type_text("sheep counting")
    assert sorted(browser.evaluate(VISIBLE)) == ["arxiv:2603.01111", "arxiv:2603.03333"]
    assert browser.evaluate("document.getElementById('papers-shown').textContent") == (
        "2 of 25 papers"
    )
    browser.type_text(" revisited")  # every word must match
    assert browser.evaluate(VISIBLE) == ["arxiv:2603.03333"]
    for _ in "sheep counting revisited":
        browser.press("Backspace", 8)
    assert len(browser.evaluate(VISIBLE)) == 25

    browser.click("#papers-table th:nth-child(5) button")  # Upvotes, ascending
    upvotes = browser.evaluate(f"{ROWS}.map((r) => r.cells[4].textContent)")
    numbers = [int(u) for u in upvotes if u]
    assert numbers == sorted(numbers) and upvotes.index("29") > upvotes.index("0")
    browser.click("#papers-table th:nth-child(5) button")  # and descending
    again = [int(u) for u in browser.evaluate(f"{ROWS}.map((r) => r.cells[4].textContent)") if u]
    assert again == sorted(numbers, reverse=True)
    assert (
        browser.evaluate(
            "document.querySelector('#papers-table th:nth-child(5)').getAttribute('aria-sort')"
        )
        == "descending"
    )

    trend = browser.evaluate(
        "document.querySelector('tr[data-key=\"arxiv:2603.01111\"]').cells[5].textContent"
    )
    assert trend == "+10"  # 19 -> 29 between the two sightings


def test_a_title_that_is_html_stays_text(tmp_path, browser):
    source = write_jsonl(tmp_path / "papers.jsonl", papers())
    report = tmp_path / "report.html"
    run_harvester("report", source, "--html", report)
    browser.open(report.as_uri())
    key = numbered(99).key
    cell = f"document.querySelector('tr[data-key=\"{key}\"]').cells[0]"
    assert browser.evaluate(f"{cell}.textContent") == XSS
    assert browser.evaluate(f"{cell}.querySelectorAll('script, img').length") == 0
    assert browser.evaluate("typeof window.__pwned") == "undefined"
    browser.evaluate("document.getElementById('paper-search').focus()")
    browser.type_text("onerror")  # the text is searchable as text
    assert browser.evaluate(VISIBLE) == [key]
    assert browser.evaluate("typeof window.__pwned") == "undefined"
