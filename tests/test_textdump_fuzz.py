"""Property-based fuzzing (hypothesis, bounded and derandomized) of the textdump source.

A real-shaped dump (seed-style cards and plain-text export cards) gets one entry in the middle
mutated. Reading never crashes: the target yields papers and rejects (each reject naming its
file:line), or fails with an `InputError` naming file:line (binary or non-UTF-8 bytes) after the
entries before it. Entries away from the mutated one come out exactly as without it (but for
their listing day, when the mutation wrote a new listing's heading before them).
"""

from __future__ import annotations

import datetime as dt
import re
import tempfile
from pathlib import Path

import msgspec
import pytest
from harvester_plugins.textdump import TextDumpOptions, TextDumpSource
from harvester_plugins.textdump.lines import HEADER_LINES
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from harvester.api import SourceContext
from harvester.errors import InputError
from harvester.schema import Paper, Rejected

ENTRIES, MIDDLE = 9, 4
FUZZ = settings(
    max_examples=200,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow],
)
HEADER = ["Daily Papers", "", "Dec 10", ""]


def entry(k: int) -> list[str]:
    if k % 3 == 0:  # a plain-text export card
        paper = f"https://huggingface.co/papers/2511.{k:05d}"
        return [
            f" [-] {k}",
            f"https://huggingface.co/login?next=%2Fpapers%2F2511.{k:05d}",
            f"Fuzz Paper Number {k}",
            paper,
            f"Abstract number {k}, which is a sentence of some length to read as one.",
            paper,
            "[",
            f"{k + 1} authors]({paper})",
            "·",
            "Sep 25 ",
            "2",
            f"{paper}#community",
            "",
        ]
    meta = ["  • 3 authors", "·", "Sep 25 2"] if k % 3 == 1 else ["Some Org", "·", "Sep 29"]
    return [f"Fuzz Paper Number {k}", "", f"Abstract number {k}, one sentence.", "", *meta, ""]


REAL_LINES = [
    "",
    "·",
    "  • 3 authors",
    "Sep 25",
    "Feb 30",
    "Sep 25, 2023 2",
    " [-] 19",
    "[-] -",
    "[",
    "2 authors](https://huggingface.co/papers/2511.00001)",
    "https://huggingface.co/login?next=%2Fpapers%2F2511.00001",
    "https://huggingface.co/papers/2511.00001",
    "https://huggingface.co/papers/2511.00001#community",
    "https://huggingface.co/quillworks",
    "https://huggingface.co/papers/trending",
    "Dec 10",
    "Daily Papers",
    "[88](https://huggingface.co/login?next=%2Fpapers%2F2511.00002)",
    "### [A Title](https://huggingface.co/papers/2511.00002)",
    "---",
    "0",
    "x" * 400,
]
line_text = st.one_of(
    st.sampled_from(REAL_LINES),
    st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=40).map(
        lambda s: s.replace("\n", " ").replace("\r", " ")
    ),
    st.text(alphabet="·•[]()h-–0123456789 /:#authorsSepDec,", max_size=24),
)
mutation = st.tuples(
    st.sampled_from(["delete", "insert", "replace", "dup", "cut"]),
    st.integers(min_value=0, max_value=20),
    line_text,
)


def mutate(lines: list[str], mutations) -> list[str]:
    lines = list(lines)
    for op, at, text in mutations:
        i = at % (len(lines) + 1)
        if op == "insert":
            lines.insert(i, text)
        elif lines and op == "delete":
            del lines[i % len(lines)]
        elif lines and op == "replace":
            lines[i % len(lines)] = text
        elif lines and op == "dup":
            lines.insert(i % len(lines), lines[i % len(lines)])
        elif lines and op == "cut":
            j = i % len(lines)
            lines[j] = lines[j][: len(lines[j]) // 2]
    return lines


@pytest.fixture(scope="module")
def scratch():
    with tempfile.TemporaryDirectory() as directory:
        yield Path(directory)


def read(scratch: Path, lines: list[str]) -> tuple[list[Paper | Rejected], InputError | None]:
    path = scratch / "dump.txt"
    path.write_text("\n".join(lines), encoding="utf-8")
    options = TextDumpOptions(inputs=["dump.txt"], captured_on=dt.date(2025, 12, 10))
    src = TextDumpSource(options, SourceContext(base_dir=scratch))
    found: list[Paper | Rejected] = []
    try:
        for target in src.targets():
            found.extend(src.read(target))
    except InputError as exc:
        return found, exc
    return found, None


def by_title(found, *, dates: bool = True) -> dict[str, bytes]:
    """Papers by title, as comparable JSON (without line numbers; without the dates that
    depend on the listing day when `dates` is false)."""
    out = {}
    for r in found:
        if isinstance(r, Paper):
            r = msgspec.structs.replace(r, source_ref="")
            if not dates:
                r = msgspec.structs.replace(r, listing_date=None, published=None)
            out[r.title] = msgspec.json.encode(r)
    return out


def capture_starts(lines: list[str]) -> bool:
    """A '---' line or a page header line: a capture pasted after the listing starts there
    (issue 20), with the day it shows (or none). The cards after it take that day."""
    return any(line.strip() == "---" or line.strip() in HEADER_LINES for line in lines)


@FUZZ
@given(mutations=st.lists(mutation, min_size=1, max_size=4))
def test_text_dump_mutations_never_crash_and_far_entries_survive(scratch, mutations):
    entries = [entry(k) for k in range(ENTRIES)]
    clean, _ = read(scratch, HEADER + [line for e in entries for line in e])
    entries[MIDDLE] = mutate(entries[MIDDLE], mutations)
    found, failed = read(scratch, HEADER + [line for e in entries for line in e])
    for reject in found:
        if isinstance(reject, Rejected):
            assert re.fullmatch(r"dump\.txt:\d+", reject.source_ref), reject
            assert reject.reason and len(reject.raw or "") <= 4200
    if failed is not None:  # only bytes that are no text fail the file, at their line
        assert re.fullmatch(r"dump\.txt:\d+", failed.location), failed
    new_day = capture_starts(entries[MIDDLE])
    near = {MIDDLE - 1, MIDDLE, MIDDLE + 1}
    for k in (k for k in range(ENTRIES) if k not in near):
        if failed is not None and k > MIDDLE:
            continue  # the file failed at the mutated entry
        dates = k < MIDDLE or not new_day
        expected, got = by_title(clean, dates=dates), by_title(found, dates=dates)
        title = f"Fuzz Paper Number {k}"
        assert got.get(title) == expected[title], (title, mutations)
