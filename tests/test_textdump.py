"""The textdump source: real seeds, every capture variant, bad input, flat memory."""

from __future__ import annotations

import datetime as dt
import logging
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from harvester_plugins.textdump import TextDumpOptions, TextDumpSource

from harvester.api import RunContext, parse_options
from harvester.errors import InputError
from harvester.plugins import load_plugins
from harvester.schema import Paper, Rejected

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = ROOT / "examples" / "textdump" / "sample-listing.txt"
SEED_COUNTS = {"000": 75, "001": 91, "002": 44, "003": 104, "004": 55}


def source(base: Path, *inputs: str, captured_on: dt.date | None = dt.date(2025, 12, 10)):
    options = TextDumpOptions(inputs=list(inputs), captured_on=captured_on)
    return TextDumpSource(options, RunContext(base_dir=base))


def read_all(path: Path, captured_on: dt.date | None = dt.date(2025, 12, 10)) -> list:
    src = source(path.parent, path.name, captured_on=captured_on)
    return [r for target in src.targets() for r in src.read(target)]


def papers(records) -> list[Paper]:
    return [r for r in records if isinstance(r, Paper)]


@pytest.fixture
def dumps(fixtures_dir) -> Path:
    return fixtures_dir / "textdump"


def test_registered_as_a_builtin_plugin():
    assert load_plugins().source("textdump") is TextDumpSource


def test_captured_on_option_converts_from_cli_text():
    options = parse_options(TextDumpOptions, {"captured_on": "2025-12-10"}, strict=False)
    assert options.captured_on == dt.date(2025, 12, 10)


# --- the real seeds (skipped without ../shared) -----------------------------------------------


@pytest.mark.shared
@pytest.mark.parametrize(("prefix", "count"), sorted(SEED_COUNTS.items()))
def test_seed_entry_counts(seeds_dir, prefix, count):
    (path,) = seeds_dir.glob(f"{prefix}_*.txt")
    records = read_all(path)
    assert len(records) == count
    assert all(isinstance(r, Paper) for r in records)
    assert all(r.title and r.abstract for r in records)
    lines = path.read_text(encoding="utf-8").split("\n")
    for r in records:  # source_ref points at the title's line
        file, line = r.source_ref.rsplit(":", 1)
        assert file == path.name and lines[int(line) - 1] == r.title


@pytest.mark.shared
def test_seed_002_breakdown_and_values(seeds_dir):
    (path,) = seeds_dir.glob("002_*.txt")
    found = papers(read_all(path, captured_on=dt.date(2025, 12, 10)))
    assert len(found) == 44
    assert sum(p.author_count is not None for p in found) == 40
    assert [p.organization for p in found if p.organization] == ["Qwen"]
    assert sum(p.published is None for p in found) == 3  # no meta block
    # The brief said 5 comment counts; the file has 6 (lines 83, 139, 147, 211, 251, 343).
    assert sorted(p.comments for p in found if p.comments is not None) == [1, 2, 2, 2, 2, 2]
    assert {p.listing_date for p in found} == {dt.date(2025, 12, 10)}
    by_raw = {p.published_raw: p for p in found if p.published_raw}
    sep25 = by_raw["Sep 25"]
    assert (sep25.published, sep25.published_inferred) == (dt.date(2025, 9, 25), True)
    dec20 = by_raw["Dec 20, 2013"]
    assert (dec20.published, dec20.published_inferred) == (dt.date(2013, 12, 20), False)
    qwen = next(p for p in found if p.organization)
    assert (qwen.published, qwen.comments, qwen.author_count) == (dt.date(2025, 9, 29), 2, None)
    sep2 = by_raw["Sep 2"]
    assert (sep2.published, sep2.comments) == (dt.date(2025, 9, 2), 2)


# --- own fixtures: every format variant -------------------------------------------------------


def test_seed_style_fixture(dumps):
    found = read_all(dumps / "seed-style.txt")
    assert [type(r) for r in found] == [Paper] * 5
    one, two, three, four, five = found
    assert one.published is None and one.author_count is None and one.comments is None
    assert one.abstract == "Abstract one is a single line."
    assert (two.author_count, two.published, two.published_inferred) == (
        3,
        dt.date(2025, 9, 25),
        True,
    )
    assert (three.organization, three.author_count, three.published, three.comments) == (
        "Qwen",
        None,
        dt.date(2025, 9, 29),
        2,
    )
    assert (four.published, four.published_raw, four.comments, four.published_inferred) == (
        dt.date(2023, 9, 25),
        "Sep 25, 2023",
        2,
        False,
    )
    assert five.published == dt.date(2013, 12, 20)  # the file ends without a newline
    assert all(r.listing_date == dt.date(2025, 12, 10) for r in found)
    assert all(r.source == "textdump" and r.upvotes is None and r.url is None for r in found)
    assert [r.source_ref for r in found] == [f"seed-style.txt:{n}" for n in (13, 17, 25, 33, 41)]
    assert one.key.startswith("title:") and len({r.key for r in found}) == 5


def test_example_dump_has_every_variant():
    found = read_all(EXAMPLE, captured_on=dt.date(2026, 3, 14))
    assert len(found) == 10 and all(isinstance(r, Paper) for r in found)
    by_title = {p.title.split(":")[0]: p for p in found}
    assert {p.listing_date for p in found} == {dt.date(2026, 3, 14)}
    quiet = by_title["Quiet Gradients"]  # abstract wrapped over three lines
    assert quiet.abstract.startswith("We study the late phase of training, where updates")
    assert "keeps rising, and show" in quiet.abstract and "\n" not in quiet.abstract
    assert (quiet.comments, quiet.published) == (12, dt.date(2026, 2, 27))
    assert by_title["Cartographer"].organization == "Lumen Research Lab"
    assert by_title["Über-Tokenisierung"].published is None
    orchard = by_title["Orchard"]  # upvotes, login link, '[' / 'N authors](…)', comment line
    assert (orchard.upvotes, orchard.arxiv_id, orchard.key, orchard.url) == (
        19,
        "2603.01234",
        "arxiv:2603.01234",
        "https://huggingface.co/papers/2603.01234",
    )
    assert (orchard.author_count, orchard.published, orchard.published_raw, orchard.comments) == (
        3,
        dt.date(2026, 3, 10),
        "Mar 10",
        2,
    )
    slow = by_title["Slow Reading"]  # '[-] -' = 0 upvotes, org line with its link
    assert (slow.upvotes, slow.organization, slow.published, slow.comments) == (
        0,
        "Lumen",
        dt.date(2025, 12, 21),
        None,
    )
    assert by_title["Weathervane"].upvotes == 5
    light = by_title["Lighthouse"]
    assert (light.published, light.published_raw) == (
        dt.date(2026, 3, 12),
        "Published on Mar 12, 2026",
    )
    assert by_title["Tidewater"].published_raw == "Nov 18, 2025"


def test_crlf_bom_and_trailing_spaces_read_the_same(tmp_path):
    plain = EXAMPLE.read_bytes()
    variant = b"\xef\xbb\xbf" + plain.replace(b"\n", b"  \r\n")
    (tmp_path / "sample-listing.txt").write_bytes(variant)
    day = dt.date(2026, 3, 14)
    assert read_all(tmp_path / "sample-listing.txt", day) == read_all(EXAMPLE, day)


def test_non_nfc_and_odd_whitespace_are_cleaned(tmp_path):
    path = tmp_path / "odd.txt"
    path.write_text(
        "Mar 14\n\nCafe\u0301\u00a0Title\t here\n\nAn\u2009abstract  with  gaps.\n",
        encoding="utf-8",
    )
    (paper,) = read_all(path)
    assert (paper.title, paper.abstract) == ("Café Title here", "An abstract with gaps.")


def test_glob_targets_and_relative_labels(tmp_path):
    (tmp_path / "dumps").mkdir()
    for name in ("b.txt", "a.txt"):
        (tmp_path / "dumps" / name).write_bytes(EXAMPLE.read_bytes())
    src = source(tmp_path, "dumps/*.txt")
    assert src.targets() == [os.path.join("dumps", "a.txt"), os.path.join("dumps", "b.txt")]
    first = next(iter(src.read(src.targets()[0])))
    assert first.source_ref == os.path.join("dumps", "a.txt") + ":13"


def test_captured_on_falls_back_to_file_date_with_a_warning(tmp_path, caplog):
    path = tmp_path / "dump.txt"
    path.write_bytes(EXAMPLE.read_bytes())
    stamp = dt.datetime(2026, 3, 14, 12, 0).timestamp()
    os.utime(path, (stamp, stamp))
    with caplog.at_level(logging.WARNING, logger="harvester"):
        found = read_all(path, captured_on=None)
    assert found[0].published == dt.date(2026, 3, 2) and found[0].published_inferred
    assert "dump.txt" in caplog.text and "captured_on" in caplog.text


# --- bad input --------------------------------------------------------------------------------


def test_invalid_date_rejects_one_entry_and_keeps_its_neighbours(dumps):
    good_before, bad, good_after = read_all(dumps / "bad-date.txt")
    assert isinstance(good_before, Paper) and good_before.title == "Good Before"
    assert isinstance(good_after, Paper) and good_after.published == dt.date(2024, 3, 2)
    assert isinstance(bad, Rejected)
    assert "February has no day 30" in bad.reason
    assert (bad.source, bad.source_ref) == ("textdump", "bad-date.txt:11")
    assert bad.raw.splitlines() == [
        "Bad Date Paper",
        "Abstract of the bad one.",
        "• 2 authors",
        "·",
        "Feb 30",
    ]


def test_truncated_last_entry_is_rejected_not_lost(dumps):
    complete, cut = read_all(dumps / "truncated.txt")
    assert isinstance(complete, Paper) and complete.abstract == "Its abstract."
    assert isinstance(cut, Rejected) and "truncated" in cut.reason
    assert cut.source_ref == "truncated.txt:7" and cut.raw == "Cut Off Title"


def test_misplaced_meta_line_names_file_and_line(dumps):
    with pytest.raises(InputError, match=r"misplaced-dot\.txt:7: '·' without an author"):
        read_all(dumps / "misplaced-dot.txt")


@pytest.mark.parametrize("content", [b"", b"\n\n   \n", b"\xef\xbb\xbf"])
def test_empty_file(tmp_path, content):
    (tmp_path / "empty.txt").write_bytes(content)
    with pytest.raises(InputError, match=r"empty\.txt:1: empty file"):
        read_all(tmp_path / "empty.txt")


def test_binary_junk(tmp_path):
    (tmp_path / "junk.bin").write_bytes(bytes(range(256)) * 40)
    with pytest.raises(InputError, match=r"junk\.bin:1: binary data"):
        read_all(tmp_path / "junk.bin")


def test_mostly_undecodable_bytes(tmp_path):
    (tmp_path / "junk.txt").write_bytes(bytes(range(0x80, 0x100)) * 40)
    with pytest.raises(InputError, match=r"junk\.txt:1: not UTF-8 text \(byte 0x80"):
        read_all(tmp_path / "junk.txt")


def test_non_utf8_file_fails_at_its_line_after_the_good_entries(tmp_path):
    text = "Mar 14\n\nFirst Title\n\nFirst abstract.\n\nCaf\xe9 Title\n\nAbstract.\n"
    path = tmp_path / "latin1.txt"
    path.write_bytes(text.encode("latin-1"))
    src = source(tmp_path, "latin1.txt")
    got = []
    with pytest.raises(InputError, match=r"latin1\.txt:7: not UTF-8 text \(byte 0xe9 at column 4"):
        got.extend(src.read("latin1.txt"))
    assert got == []  # "First Title" was still open when the bad line came
    good = "Mar 14\n\nA\n\nB\n\n  • 1 authors\n·\nMar 1\n\n".encode()
    path.write_bytes(good + text[8:].encode("latin-1"))
    with pytest.raises(InputError, match=r"latin1\.txt:15:"):
        got.extend(src.read("latin1.txt"))
    assert [p.title for p in got] == ["A"]


def test_missing_file_and_empty_pattern_fail_as_their_own_targets(tmp_path):
    # listed as targets, so that one missing input fails only itself and the others go on
    src = source(tmp_path, "nope.txt", "*.dump")
    assert src.targets() == ["nope.txt", "*.dump"]
    with pytest.raises(InputError, match=r"nope\.txt: no such file"):
        list(src.read("nope.txt"))
    with pytest.raises(InputError, match=r"\*\.dump: the pattern matches no files"):
        list(src.read("*.dump"))


# --- memory stays flat ------------------------------------------------------------------------

MEMORY_SCRIPT = textwrap.dedent(
    """
    import datetime as dt, resource, sys
    from pathlib import Path
    from harvester.api import RunContext
    from harvester_plugins.textdump import TextDumpOptions, TextDumpSource

    example, out, megabytes = Path(sys.argv[1]), Path(sys.argv[2]), int(sys.argv[3])
    text = example.read_text(encoding="utf-8")
    body = text[text.index("Sparse Lantern"):] + "\\n\\n"
    blocks = megabytes * 1_000_000 // len(body.encode()) + 1
    with out.open("w", encoding="utf-8") as f:
        f.write(text[: text.index("Sparse Lantern")])
        for _ in range(blocks):
            f.write(body)
    src = TextDumpSource(TextDumpOptions(captured_on=dt.date(2026, 3, 14)), RunContext())
    count = sum(1 for _ in src.read(str(out)))
    print(blocks * 10, count, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)
    """
)


@pytest.mark.slow
def test_memory_does_not_grow_with_input(tmp_path):
    def peak(megabytes: int) -> int:
        out = subprocess.run(
            [
                sys.executable,
                "-c",
                MEMORY_SCRIPT,
                str(EXAMPLE),
                str(tmp_path / "big.txt"),
                str(megabytes),
            ],
            capture_output=True,
            text=True,
            check=True,
            timeout=120,
        ).stdout.split()
        expected, count, rss_kib = map(int, out)
        assert count == expected
        return rss_kib

    small, large = peak(5), peak(50)
    assert large - small < 16 * 1024, (small, large)  # KiB; a 45 MB difference would show
