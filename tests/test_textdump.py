"""The textdump source (a FileSource): the real seeds, every capture shape, bad input, memory.

The source is built directly, as the run will build it, and read target by target. Module
tests: test_textdump_reading.py, test_textdump_parsing.py, test_textdump_lines.py; the
blank-line property: test_textdump_blank_lines.py; fuzzing: test_textdump_fuzz.py.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import msgspec
import pytest
from harvester_plugins.textdump import TextDumpOptions, TextDumpSource

from harvester.api import SourceContext
from harvester.errors import InputError
from harvester.plugins import load_plugins
from harvester.schema import Paper, Rejected

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = ROOT / "examples" / "textdump" / "sample-listing.txt"
CAPTURED = dt.date(2025, 12, 10)
SEED_COUNTS = {"000": 75, "001": 91, "002": 44, "003": 104, "004": 55}


def source(base: Path, *inputs, captured_on: dt.date | None = CAPTURED) -> TextDumpSource:
    options = TextDumpOptions(inputs=list(inputs), captured_on=captured_on)
    return TextDumpSource(options, SourceContext(base_dir=base))


def read_all(path: Path, captured_on: dt.date | None = CAPTURED) -> list[Paper | Rejected]:
    src = source(path.parent, path.name, captured_on=captured_on)
    return [record for target in src.targets() for record in src.read(target)]


def without_ref(records) -> list:
    return [msgspec.structs.replace(r, source_ref="") for r in records]


@pytest.fixture
def dumps(fixtures_dir) -> Path:
    return fixtures_dir / "textdump"


def test_registered_as_a_builtin_plugin():
    assert load_plugins().source("textdump") is TextDumpSource
    assert TextDumpSource.trusted and TextDumpSource.name == "textdump"


def test_options_take_per_input_capture_dates(tmp_path):
    for name in ("a.txt", "b.txt"):
        (tmp_path / name).write_text("Daily Papers\n\nMar 14\n\nT\n\nAbstract.\n", "utf-8")
    table = {"inputs": ["a.txt", {"path": "b.txt", "captured_on": "2024-06-01"}]}
    options = msgspec.convert({**table, "captured_on": "2025-12-10"}, TextDumpOptions, strict=False)
    src = TextDumpSource(options, SourceContext(base_dir=tmp_path))
    days = [r.listing_date for target in src.targets() for r in src.read(target)]
    assert days == [dt.date(2025, 3, 14), dt.date(2024, 3, 14)]


# -- the real seeds (skipped without ../shared) --------------------------------------------------


@pytest.mark.shared
@pytest.mark.parametrize(("prefix", "count"), sorted(SEED_COUNTS.items()))
def test_seed_entry_counts(seeds_dir, prefix, count):
    (path,) = seeds_dir.glob(f"{prefix}_*.txt")
    records = read_all(path)
    assert len(records) == count
    assert all(isinstance(r, Paper) for r in records)
    assert all(r.title and r.abstract for r in records)
    assert all(r.published is None or r.published <= r.listing_date for r in records)
    lines = path.read_text(encoding="utf-8").split("\n")
    for r in records:  # source_ref points at the title's line
        file, line = r.source_ref.rsplit(":", 1)
        assert file == path.name and lines[int(line) - 1] == r.title


@pytest.mark.shared
def test_seed_002_breakdown_and_values(seeds_dir):
    (path,) = seeds_dir.glob("002_*.txt")
    found = read_all(path)
    assert sum(p.author_count is not None for p in found) == 40
    assert [p.organization for p in found if p.organization] == ["Qwen"]
    assert sum(p.published is None for p in found) == 3  # no meta block
    # issue 10 §8: a date without a count is 0 comments; no meta block at all is unknown.
    # The file shows 6 counts (lines 83, 139, 147, 211, 251, 343).
    assert sorted(p.comments for p in found if p.comments) == [1, 2, 2, 2, 2, 2]
    assert sum(p.comments == 0 for p in found) == 35
    assert [p.comments for p in found if p.published is None] == [None] * 3
    assert {p.listing_date for p in found} == {CAPTURED}
    assert all(p.upvotes is None and p.arxiv_id is None and p.url is None for p in found)
    by_raw = {p.published_raw: p for p in found if p.published_raw}
    sep25 = by_raw["Sep 25"]
    assert (sep25.published, sep25.published_inferred) == (dt.date(2025, 9, 25), True)
    dec20 = by_raw["Dec 20, 2013"]
    assert (dec20.published, dec20.published_inferred) == (dt.date(2013, 12, 20), False)
    qwen = next(p for p in found if p.organization)
    assert (qwen.published, qwen.comments, qwen.author_count) == (dt.date(2025, 9, 29), 2, None)
    sep2 = by_raw["Sep 2"]
    assert (sep2.published, sep2.comments) == (dt.date(2025, 9, 2), 2)


@pytest.mark.shared
def test_seed_002_without_captured_on_is_never_published_after_its_listing_day(
    seeds_dir, tmp_path, caplog
):
    """Issue 10 §9: without captured_on, 13 of 44 records were published after their listing
    day. The fallback (the file's date, here months later) now only picks the listing's year."""
    (seed,) = seeds_dir.glob("002_*.txt")
    path = tmp_path / seed.name  # a copy, to set its modification date
    shutil.copyfile(seed, path)
    stamp = dt.datetime(2026, 3, 1, 12, 0).timestamp()
    os.utime(path, (stamp, stamp))
    with caplog.at_level(logging.WARNING, logger="harvester"):
        found = read_all(path, captured_on=None)
    assert {p.listing_date for p in found} == {dt.date(2025, 12, 10)}
    assert all(p.published <= p.listing_date for p in found if p.published)
    assert seed.name in caplog.text and "captured_on" in caplog.text


# -- own fixtures: every capture shape ----------------------------------------------------------


def test_whole_page_plain_text_export(dumps):
    found = read_all(dumps / "whole-page.txt", captured_on=None)  # the page says its day
    assert [r.title for r in found] == [
        "Pruning Tokens Without Regret",
        "Lantern: Sparse Attention for Dim Sequences",
        "Which Tokens Matter? Probing Pruned Prompts",
        "Token Budgets for Agents",
    ]
    assert {r.listing_date for r in found} == {dt.date(2026, 5, 4)}  # /papers/date/2026-05-03
    pruning, lantern, which, budgets = found
    assert (pruning.upvotes, pruning.author_count, pruning.comments) == (12, 4, 3)
    assert (pruning.published, pruning.arxiv_id, pruning.source_ref) == (
        dt.date(2026, 4, 2),
        "2604.01234",
        "whole-page.txt:78",
    )
    assert pruning.abstract.startswith("We study token pruning") and pruning.abstract.endswith(
        "retrieval benchmarks."
    )
    assert (lantern.upvotes, lantern.organization, lantern.author_count) == (0, "Lumen Lab", None)
    assert (lantern.published, lantern.published_inferred, lantern.comments) == (
        dt.date(2025, 12, 30),
        False,
        0,
    )
    assert which.published == dt.date(2025, 5, 9)  # 'May 9' is never after the May 4 listing
    assert (budgets.upvotes, budgets.comments, budgets.published) == (31, 2, dt.date(2024, 10, 7))
    assert all(r.url == f"https://huggingface.co/papers/{r.arxiv_id}" for r in found)


def test_whole_page_front_matter_gives_the_capture_day(dumps, tmp_path, caplog):
    text = (dumps / "whole-page.txt").read_text(encoding="utf-8")
    path = tmp_path / "no-link.txt"  # without the previous-day link, the year is unknown
    path.write_text(text.replace("https://huggingface.co/papers/date/2026-05-03\n", ""), "utf-8")
    with caplog.at_level(logging.INFO, logger="harvester"):
        found = read_all(path, captured_on=None)
    assert {r.listing_date for r in found} == {dt.date(2026, 5, 4)}  # created: 2026-05-04
    assert "capture day 2026-05-04 from the front matter" in caplog.text
    assert "modification date" not in caplog.text
    assert {r.listing_date for r in read_all(path, captured_on=dt.date(2025, 6, 1))} == {
        dt.date(2025, 5, 4)  # the option says otherwise
    }


def test_markdown_capture(dumps):
    found = read_all(dumps / "markdown.md", captured_on=dt.date(2026, 10, 2))
    citations, tracing, auditing = found
    assert (citations.title, citations.upvotes, citations.organization) == (
        "Citation Graphs for Faithful Answers",
        88,
        "Quill Lab",
    )
    assert (citations.published, citations.comments) == (dt.date(2026, 9, 29), 4)
    assert tracing.title == "From Source to Citation: Tracing Quotes Across Papers"
    assert (tracing.upvotes, tracing.author_count, tracing.comments) == (0, 3, 0)
    assert tracing.published == dt.date(2025, 2, 27)
    assert (auditing.author_count, auditing.published) == (10, dt.date(2025, 10, 3))
    assert [r.arxiv_id for r in found] == ["2606.00411", "2502.20999", "2609.00123"]
    assert {r.listing_date for r in found} == {dt.date(2026, 10, 2)}


def test_wrapped_text(dumps):
    found = read_all(dumps / "wrapped.txt", captured_on=dt.date(2026, 5, 4))
    assert [type(r) for r in found] == [Paper] * 4
    depth, tables, differences, quiet = found
    assert "produces high-fidelity depth at thirty" in depth.abstract
    assert "a pre-trained encoder of modest size" in tables.abstract
    assert "high- fidelity" not in depth.abstract and "\n" not in depth.abstract
    assert differences.title == (
        "Understanding the Differences Between Attention, State Space Models and Recurrent Networks"
    )
    assert (differences.published, differences.comments) == (dt.date(2025, 2, 11), 5)
    assert (quiet.organization, quiet.comments) == ("Quillworks", 2)
    assert quiet.abstract.endswith("predicts how well a model will generalise.")


@pytest.mark.parametrize("variant", ["blank-lines-missing.txt", "blank-lines-extra.txt"])
def test_missing_and_extra_blank_lines_change_nothing(dumps, variant):
    assert without_ref(read_all(dumps / variant)) == without_ref(read_all(dumps / "seed-style.txt"))


def test_seed_style_fixture(dumps):
    one, two, three, four, five = read_all(dumps / "seed-style.txt")
    assert (one.published, one.author_count, one.comments) == (None, None, None)
    assert (two.author_count, two.published, two.comments) == (3, dt.date(2025, 9, 25), 0)
    assert (three.organization, three.published, three.comments) == (
        "Qwen",
        dt.date(2025, 9, 29),
        2,
    )
    assert (four.published, four.published_raw, four.comments) == (
        dt.date(2023, 9, 25),
        "Sep 25, 2023",
        2,
    )
    assert five.published == dt.date(2013, 12, 20)  # the file ends without a newline
    assert [r.source_ref for r in (one, two, three, four, five)] == [
        f"seed-style.txt:{n}" for n in (13, 17, 25, 33, 41)
    ]
    assert all(r.key == "" for r in (one, two))  # keys are the core's to derive


def test_example_dump_has_every_variant():
    found = read_all(EXAMPLE, captured_on=dt.date(2026, 3, 14))
    assert len(found) == 10 and all(isinstance(r, Paper) for r in found)
    by_title = {p.title.split(":")[0]: p for p in found}
    quiet = by_title["Quiet Gradients"]  # abstract wrapped over three lines
    assert "keeps rising, and show" in quiet.abstract and "\n" not in quiet.abstract
    assert (quiet.comments, quiet.published) == (12, dt.date(2026, 2, 27))
    assert by_title["Cartographer"].organization == "Lumen Research Lab"
    assert by_title["Über-Tokenisierung"].published is None
    assert by_title["Über-Tokenisierung"].comments is None  # no meta block: unknown
    orchard = by_title["Orchard"]  # upvotes, login link, '[' / 'N authors](…)', comment line
    assert (orchard.upvotes, orchard.arxiv_id, orchard.author_count, orchard.comments) == (
        19,
        "2603.01234",
        3,
        2,
    )
    slow = by_title["Slow Reading"]  # '[-] -' = 0 upvotes, org line with its link
    assert (slow.upvotes, slow.organization, slow.published, slow.comments) == (
        0,
        "Lumen",
        dt.date(2025, 12, 21),
        0,
    )
    assert by_title["Lighthouse"].published_raw == "Published on Mar 12, 2026"
    assert by_title["Sparse Lantern Networks for Low-Light Video Denoising"].upvotes is None


def test_crlf_bom_and_trailing_spaces_read_the_same(tmp_path):
    plain = EXAMPLE.read_bytes()
    (tmp_path / "sample-listing.txt").write_bytes(b"\xef\xbb\xbf" + plain.replace(b"\n", b"  \r\n"))
    day = dt.date(2026, 3, 14)
    assert read_all(tmp_path / "sample-listing.txt", day) == read_all(EXAMPLE, day)


# -- bad input ----------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["papers.jsonl", "todo-note.txt", "saved-page.html"])
def test_a_file_that_is_no_listing_fails_its_target(dumps, name):
    src = source(dumps, name)
    (target,) = src.targets()
    got = []
    with pytest.raises(InputError) as failed:
        got.extend(src.read(target))
    assert got == [] and failed.value.location == name
    assert "not a text dump of a papers listing" in str(failed.value)


def test_bad_entries_are_rejected_and_their_neighbours_kept(dumps):
    before, bad, after = read_all(dumps / "bad-date.txt")
    assert (before.title, after.published) == ("Good Before", dt.date(2024, 3, 2))
    assert isinstance(bad, Rejected) and (bad.source, bad.source_ref) == (
        "textdump",
        "bad-date.txt:11",
    )
    complete, cut = read_all(dumps / "truncated.txt")
    assert complete.abstract == "Its abstract." and cut.source_ref == "truncated.txt:9"
    (dot,) = read_all(dumps / "misplaced-dot.txt")
    assert isinstance(dot, Rejected) and dot.source_ref == "misplaced-dot.txt:3"


def test_over_long_line_rejects_its_entry_not_the_file(tmp_path):
    path = tmp_path / "long.txt"
    with path.open("w", encoding="utf-8") as f:
        f.write("Daily Papers\n\nMar 14\n\nBefore\n\nAbstract before.\n\nHuge\n\n")
        f.write("x" * (3 << 20) + "\n\n  • 2 authors\n·\nMar 2\n\nAfter\n\nAbstract after.\n")
    before, huge, after = read_all(path)
    assert (before.title, after.title) == ("Before", "After")
    assert isinstance(huge, Rejected) and huge.source_ref == "long.txt:9"
    assert "line 11 is 3,145,728 bytes long, over the line limit" in huge.reason
    assert len(huge.raw.encode()) < 4200 and huge.raw.endswith("[cut]")


def test_targets_globs_and_missing_inputs(tmp_path):
    (tmp_path / "dumps").mkdir()
    for name in ("b.txt", "a.txt"):
        shutil.copyfile(EXAMPLE, tmp_path / "dumps" / name)
    src = source(tmp_path, "dumps/*.txt", "nope.txt", "*.dump", captured_on=dt.date(2026, 3, 14))
    targets = src.targets()
    assert [t.id for t in targets] == [os.path.join("dumps", n) for n in ("a.txt", "b.txt")] + [
        "nope.txt",
        "*.dump",
    ]
    first = next(iter(src.read(targets[0])))
    assert first.source_ref == os.path.join("dumps", "a.txt") + ":13"
    with pytest.raises(InputError, match=r"nope\.txt: no such file"):
        list(src.read(targets[2]))
    with pytest.raises(InputError, match=r"\*\.dump: the pattern matches no files"):
        list(src.read(targets[3]))


# -- memory stays flat ---------------------------------------------------------------------------

MEMORY_SCRIPT = textwrap.dedent(
    """
    import datetime as dt, resource, sys
    from pathlib import Path
    from harvester.api import SourceContext
    from harvester_plugins.textdump import TextDumpOptions, TextDumpSource

    example, out, megabytes = Path(sys.argv[1]), Path(sys.argv[2]), int(sys.argv[3])
    text = example.read_text(encoding="utf-8")
    body = text[text.index("Sparse Lantern"):] + "\\n\\n"
    blocks = megabytes * 1_000_000 // len(body.encode()) + 1
    with out.open("w", encoding="utf-8") as f:
        f.write(text[: text.index("Sparse Lantern")])
        for _ in range(blocks):
            f.write(body)
    options = TextDumpOptions(inputs=[str(out)], captured_on=dt.date(2026, 3, 14))
    src = TextDumpSource(options, SourceContext())
    count = sum(1 for target in src.targets() for _ in src.read(target))
    print(blocks * 10, count, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)
    """
)


@pytest.mark.slow
def test_memory_does_not_grow_with_input(tmp_path):
    def peak(megabytes: int) -> int:
        args = [sys.executable, "-c", MEMORY_SCRIPT, str(EXAMPLE), str(tmp_path / "big.txt")]
        out = subprocess.run(
            [*args, str(megabytes)], capture_output=True, text=True, check=True, timeout=240
        ).stdout.split()
        expected, count, rss_kib = map(int, out)
        assert count == expected
        return rss_kib

    small, large = peak(3), peak(30)
    assert large - small < 16 * 1024, (small, large)  # KiB; the 27 MB more text would show
