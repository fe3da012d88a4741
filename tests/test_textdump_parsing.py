"""textdump.parsing: numbered lines -> Paper | Rejected (pure), on small dumps written here."""

from __future__ import annotations

import datetime as dt
import io
import textwrap

import pytest
from harvester_plugins.textdump.parsing import DumpParser
from harvester_plugins.textdump.reading import RAW_LIMIT, read_lines

from harvester.errors import InputError
from harvester.schema import Paper, Rejected

DAY = dt.date(2026, 5, 4)
HEADER = "Daily Papers\n\nMay 4\n\n"


def run(text: str, *, captured_on=DAY, fallback=None, label="dump.txt", **sizes) -> DumpParser:
    parser = DumpParser(label, captured_on=captured_on, fallback=fallback)
    parser.records = list(parser.parse(read_lines(io.BytesIO(text.encode()), label, **sizes)))
    return parser


def records(text: str, **kw) -> list[Paper | Rejected]:
    return run(text, **kw).records


def one(text: str, **kw) -> Paper:
    (found,) = records(text, **kw)
    assert isinstance(found, Paper), found
    return found


def titles(found) -> list[str]:
    return [r.title if isinstance(r, Paper) else f"REJECTED {r.source_ref}" for r in found]


def card(title: str, meta: str = "  • 3 authors\n·\nApr 2\n") -> str:
    return f"{title}\n\nThe abstract of {title.lower()}, one sentence long.\n\n{meta}\n"


# -- where the listing starts -------------------------------------------------------------------


def test_nothing_before_the_listing_date_line_becomes_a_record():
    header = (
        "---\ntitle: Daily Papers\n---\n\nModels\n\nhttps://huggingface.co/models\n\n"
        "An Announcement Shaped Like A Title\n\n"
        "A paragraph about the community event that is long and reads like an abstract.\n\n"
        "Get trending papers in your email inbox once a day!\n\nSubscribe\n\nDaily Papers\n\n"
        "by\n\nAK\n\nhttps://huggingface.co/akhaliq\n\n and the research community\n\n"
        "May 4\n\nDaily\n\nWeekly\n\nMonthly\n\n"  # a search for 'May 4' echoes it: not the date
        "https://huggingface.co/papers/trending\n\n"
        "May 4\n\n"
    )
    found = records(header + card("Real Paper"))
    assert titles(found) == ["Real Paper"]
    assert found[0].source_ref == "dump.txt:39"


def test_listing_needs_card_structure_after_its_date_line():
    note = "Reading list\n\nMar 14\n\nRead the pruning paper again\n\nThen write notes.\n"
    with pytest.raises(InputError) as failed:
        records(note)
    assert failed.value.location == "dump.txt"
    assert "not a text dump of a papers listing" in failed.value.problem


@pytest.mark.parametrize(
    ("text", "hint"),
    [
        ('{"title": "A", "published": "Mar 14"}\n{"title": "B"}\n', "it looks like JSON"),
        ("<!DOCTYPE html>\n<title>Daily Papers</title>\nMar 14\n<h3>T</h3>\n<p>A.</p>\n", "HTML"),
    ],
)
def test_other_formats_fail_with_a_hint(text, hint):
    with pytest.raises(InputError, match=hint):
        records(text)


@pytest.mark.parametrize("text", ["", "\n\n  \n"])
def test_empty_file_fails(text):
    with pytest.raises(InputError, match=r"dump\.txt:1: empty file"):
        records(text)


def test_a_long_file_without_a_listing_fails_early():
    with pytest.raises(InputError, match="in its first 2000 lines"):
        records("a line of a note\n" * 5000)


def test_card_structure_alone_identifies_a_listing_without_a_header():
    assert titles(records("Mar 14\n\n" + card("Headerless"))) == ["Headerless"]
    found = records(
        "Mar 14\n\n [-] 3\n\nhttps://huggingface.co/login?next=%2Fpapers%2F2604.00001\n\nT\n"
    )
    assert [type(r) for r in found] == [Rejected]  # a listing; its one card has no abstract


# -- the listing day and published dates --------------------------------------------------------


def test_listing_day_from_the_previous_day_link_wins_over_captured_on():
    text = "Daily Papers\n\nhttps://huggingface.co/papers/date/2024-02-28\n\nFeb 29\n\n" + card("T")
    parser = run(text, captured_on=dt.date(2026, 1, 1))
    assert parser.records[0].listing_date == dt.date(2024, 2, 29) == parser.listing
    assert "link" in parser.notes[0]


def test_a_link_that_does_not_match_the_date_line_is_ignored():
    text = "Daily Papers\n\nhttps://huggingface.co/papers/date/2025-01-10\n\nMay 4\n\n" + card("T")
    assert one(text).listing_date == DAY


@pytest.mark.parametrize(
    ("captured", "listing"),
    [
        (dt.date(2026, 5, 4), dt.date(2026, 5, 4)),
        (dt.date(2026, 5, 3), dt.date(2026, 5, 4)),  # one day of timezone slack
        (dt.date(2026, 5, 2), dt.date(2025, 5, 4)),
        (dt.date(2027, 1, 2), dt.date(2026, 5, 4)),
    ],
)
def test_listing_day_resolves_against_captured_on(captured, listing):
    assert one(HEADER + card("T"), captured_on=captured).listing_date == listing


def test_front_matter_capture_date_when_no_option_says_otherwise():
    front = "---\npublished: 2020-01-01\ncreated: 2026-05-04T10:22:13\n---\n\n"
    parser = run(front + HEADER + card("T"), captured_on=None)
    assert parser.records[0].listing_date == DAY
    assert "front matter" in parser.notes[0]
    # the option wins
    assert one(front + HEADER + card("T"), captured_on=dt.date(2025, 6, 1)).listing_date == (
        dt.date(2025, 5, 4)
    )


def test_fallback_is_asked_only_when_the_year_is_unknown():
    asked = []

    def fallback():
        asked.append(1)
        return DAY

    assert one(HEADER + card("T"), captured_on=None, fallback=fallback).listing_date == DAY
    assert asked == [1]
    one("Daily Papers\n\nMay 4, 2026\n\n" + card("T"), captured_on=None, fallback=fallback)
    assert asked == [1]  # a year on the date line: nothing to ask
    with pytest.raises(InputError, match=r"dump\.txt:3: the date line 'May 4' has no year"):
        records(HEADER + card("T"), captured_on=None)


def test_yearless_published_date_is_never_after_its_listing_day():
    text = (
        HEADER
        + card("Same Day", "  • 1 authors\n·\nMay 4\n")
        + card("Later", "  • 1 authors\n·\nMay 5\n")
    )
    same, later = records(text)
    assert (same.published, same.published_inferred) == (dt.date(2026, 5, 4), True)
    assert later.published == dt.date(2025, 5, 5)  # not the day after the listing
    assert later.published_raw == "May 5"


def test_a_date_heading_between_cards_starts_a_new_listing_day():
    second_header = "new\n\nSubscribe\n\nDaily Papers\n\nMay 3\n\n"
    a, b = records(HEADER + card("First") + second_header + card("Second"))
    assert (a.title, a.listing_date, b.title, b.listing_date) == (
        "First",
        DAY,
        "Second",
        dt.date(2026, 5, 3),
    )


def test_a_stray_date_line_between_cards_is_rejected_and_changes_no_listing_day():
    found = records(HEADER + card("First") + "Sep 25\n\n" + card("Second"))
    assert titles(found) == ["First", "REJECTED dump.txt:13", "Second"]
    assert found[1].reason == "a date line where a title was expected"
    assert found[2].listing_date == DAY


def test_a_header_line_after_cards_starts_a_capture_that_must_show_its_own_day():
    """Issue 20: a page header after cards is a pasted capture; a date after '·' is a card's
    date, never the page's, so this capture shows no day: null, not the first one's."""
    stray = "Daily Papers\n\n  • 2 authors\n·\nApr 2\n\nSep 25\n\n"  # meta between them
    found = records(HEADER + card("First") + stray + card("Second"))
    assert [r.listing_date for r in found if isinstance(r, Paper)] == [DAY, None]
    assert [r.reason for r in found if isinstance(r, Rejected)] == [
        "card lines with no title",
        "a date line where a title was expected",
    ]


def test_a_date_after_the_author_count_without_its_dot_is_that_cards_reject():
    found = records(HEADER + card("No Dot", "  • 2 authors\nApr 2\n") + card("Next"))
    assert titles(found) == ["REJECTED dump.txt:5", "Next"]
    assert found[0].reason == "no '·' before the date 'Apr 2'"


# -- field meanings (issue 10 §8) ---------------------------------------------------------------

LOGIN = "https://huggingface.co/login?next=%2Fpapers%2F2604.01234"
PAPER = "https://huggingface.co/papers/2604.01234"


@pytest.mark.parametrize(
    ("meta", "comments"),
    [
        ("  • 2 authors\n·\nApr 2\n", 0),  # a date and no count: 0
        ("  • 2 authors\n·\nApr 2 5\n", 5),
        (f"  • 2 authors\n·\nApr 2 \n\n7\n\n{PAPER}#community\n", 7),
        (f"  • 2 authors\n·\nApr 2\n\n{PAPER}#community\n", None),  # the count is missing
        ("", None),  # no meta at all: unknown
    ],
)
def test_comments(meta, comments):
    assert one(HEADER + card("T", meta)).comments == comments


@pytest.mark.parametrize(("widget", "upvotes"), [(" [-] 12", 12), (" [-] -", 0), ("", None)])
def test_upvotes(widget, upvotes):
    paper = one(f"{HEADER}{widget}\n\n{LOGIN}\n\n{card('T')}")
    assert paper.upvotes == upvotes
    assert (paper.arxiv_id, paper.url) == ("2604.01234", PAPER)


def test_bad_counts_reject_their_entry():
    found = records(HEADER + " [-] lots\n\n" + card("Bad") + card("Good"))
    assert titles(found) == ["REJECTED dump.txt:7", "Good"]
    assert "upvotes: not a count: 'lots'" in found[0].reason
    found = records(HEADER + card("Twice", "  • 1 authors\n·\nApr 2 3\n4\n") + card("Good"))
    assert "two comment counts: 3 and 4" in found[0].reason


def test_links_naming_two_papers_reject_the_entry():
    text = f"{HEADER}{LOGIN}\n\nT\n\nhttps://huggingface.co/papers/2604.09999\n\nAbstract.\n"
    (rejected,) = records(text)
    assert "its links name two papers: 2604.01234 and 2604.09999" in rejected.reason


# -- resynchronising on structure ---------------------------------------------------------------


def test_title_without_abstract_is_rejected_and_the_next_card_is_read():
    found = records(HEADER + "Lonely Title\n\n" + card("Next One"))
    assert titles(found) == ["REJECTED dump.txt:5", "Next One"]
    assert found[0].reason == "no abstract after the title"
    assert found[0].raw == "Lonely Title"


def test_paragraph_without_title_is_rejected_not_shifted():
    lost = "A lost abstract without its title, long enough to read as one sentence.\n\n"
    found = records(HEADER + card("Before", "") + lost + card("After"))
    assert titles(found) == ["Before", "REJECTED dump.txt:10", "After"]
    assert found[0].abstract.startswith("The abstract of before")
    assert "no title" in found[1].reason


def test_dot_without_author_count_is_rejected():
    found = records(HEADER + card("Bare Dot", "·\nApr 2\n") + card("Fine"))
    assert titles(found) == ["REJECTED dump.txt:5", "Fine"]
    assert "'·' without an author count or organisation line" in found[0].reason


def test_missing_date_after_the_dot_keeps_the_next_card():
    found = records(HEADER + card("No Date", "  • 1 authors\n·\n") + card("Next"))
    assert titles(found) == ["REJECTED dump.txt:5", "Next"]
    assert "expected the published date after '·', found 'Next'" in found[0].reason


def test_meta_block_cut_by_the_next_card_is_rejected():
    text = f"{HEADER}T\n\nAbstract.\n\n  • 2 authors\n·\n [-] 4\n\n{LOGIN}\n\n{card('Next')}"
    found = records(text)
    assert titles(found) == ["REJECTED dump.txt:5", "Next"]
    assert found[1].upvotes == 4


def test_invalid_date_rejects_one_entry():
    found = records(HEADER + card("A") + card("Bad", "  • 2 authors\n·\nFeb 30\n") + card("B"))
    assert titles(found) == ["A", "REJECTED dump.txt:13", "B"]
    assert "February has no day 30" in found[1].reason
    assert found[1].raw.splitlines() == [
        "Bad",
        "The abstract of bad, one sentence long.",
        "• 2 authors",
        "·",
        "Feb 30",
    ]


def test_truncated_entries_at_the_end_of_the_file():
    (cut,) = records(HEADER + "Cut Off Title\n")
    assert "truncated entry: the file ends after its title" in cut.reason
    (cut,) = records(HEADER + "T\n\nAbstract.\n\n  • 2 authors\n·\n")
    assert "the meta block ends before its date" in cut.reason


def test_over_long_line_rejects_its_entry_with_a_short_raw():
    huge = "x" * 50_000
    text = (
        HEADER
        + card("Before")
        + f"Huge One\n\n{huge}\n\n  • 1 authors\n·\nApr 2\n\n"
        + card("After")
    )
    found = records(text, max_line=20_000)
    assert titles(found) == ["Before", "REJECTED dump.txt:13", "After"]
    reject = found[1]
    assert "line 15 is 50,000 bytes long, over the line limit" in reject.reason
    assert len(reject.raw) <= RAW_LIMIT + 20 and reject.raw.endswith("[cut]")
    assert reject.raw.startswith("Huge One\nxxxx")


def test_a_link_after_a_card_without_meta_ends_the_card():
    found = records(HEADER + card("No Meta", "") + "https://github.com/org/repo\n\n" + card("B"))
    assert titles(found) == ["No Meta", "B"]


def test_over_long_line_after_a_date_belongs_to_the_next_entry():
    text = HEADER + card("Dated") + "y" * 3000 + "\n\n" + card("After")
    found = records(text, max_line=1000)
    assert titles(found) == ["Dated", "REJECTED dump.txt:13", "After"]


def test_navigation_between_cards_is_skipped():
    nav = "Models\n\nhttps://huggingface.co/models\n\nhttps://huggingface.co/papers/trending\n\n"
    parser = run(HEADER + card("A") + nav + card("B") + nav)
    assert titles(parser.records) == ["A", "B"]
    assert "skipped 6 line(s)" in parser.notes[-1]


# -- text ---------------------------------------------------------------------------------------


ABSTRACT = (
    "We recover sharp depth maps from the blur of handheld phone videos. A small network, "
    "trained on synthetic sequences, turns motion blur into a cue rather than noise and "
    "produces high-fidelity depth at thirty frames per second on a laptop."
)


def test_wrapped_lines_join_and_hyphen_breaks_join_without_a_space():
    lines = textwrap.wrap(ABSTRACT, 64)  # as a tool wraps it: '… produces high-' / 'fidelity …'
    assert "high-" in [line.rsplit(" ", 1)[-1] for line in lines]
    paper = one(f"{HEADER}Depth From Blur\n\n" + "\n".join(lines) + "\n\n  • 1 authors\n·\nApr 2\n")
    assert (paper.title, paper.abstract) == ("Depth From Blur", ABSTRACT)


@pytest.mark.parametrize("width", [40, 60, 72, 100])
def test_wrapped_title_and_abstract_at_any_width(width):
    title = "Understanding the Differences Between Attention, State Space Models and RNNs"
    text = (
        "\n".join(textwrap.wrap(title, width)) + "\n\n" + "\n".join(textwrap.wrap(ABSTRACT, width))
    )
    paper = one(f"{HEADER}{text}\n")
    assert (paper.title, paper.abstract) == (title, ABSTRACT)


def test_text_is_cleaned():
    paper = one(HEADER + "Cafe\u0301\u00a0Title\t here\n\nAn\u2009abstract  with  gaps.\n")
    assert (paper.title, paper.abstract) == ("Café Title here", "An abstract with gaps.")


def test_organisation_line_and_its_link():
    slug_first = one(HEADER + card("T", "acme Acme Research\n·\nApr 2\n"))
    assert slug_first.organization == "Acme Research"
    seed_style = one(HEADER + card("T", "Qwen Qwen\n·\nApr 2 2\n"))
    assert (seed_style.organization, seed_style.author_count, seed_style.comments) == (
        "Qwen",
        None,
        2,
    )
    export = one(
        HEADER + card("T", " Google DeepMind\n\nhttps://huggingface.co/google\n\n·\n\nApr 2 \n")
    )
    assert export.organization == "Google DeepMind"  # the slug is not its first word


def test_markdown_card():
    text = (
        "# Daily Papers\n\nOct 2\n\n"
        "[1.2k](https://huggingface.co/login?next=%2Fpapers%2F2606.00683)\n\n"
        "### [Engage\\  with \\*Past\\* Research](https://huggingface.co/papers/2606.00683)\n\n"
        "[An abstract\nover two lines.](https://huggingface.co/papers/2606.00683)\n\n"
        "[- ![](https://huggingface.co/avatars/a.svg)\\\\\n- 3 authors](https://huggingface.co/papers/2606.00683)\n\n"
        "·\n\nMay 29[6](https://huggingface.co/papers/2606.00683#community)\n"
    )
    paper = one(text, captured_on=dt.date(2026, 10, 2))
    assert (paper.title, paper.abstract) == (
        "Engage with *Past* Research",
        "An abstract over two lines.",
    )
    assert (paper.upvotes, paper.author_count, paper.comments) == (1200, 3, 6)
    assert (paper.published, paper.arxiv_id) == (dt.date(2026, 5, 29), "2606.00683")


@pytest.mark.parametrize("chunk_size", [5, 64, 4096])
@pytest.mark.parametrize(
    "name", ["whole-page.txt", "markdown.md", "wrapped.txt", "seed-style.txt", "bad-date.txt"]
)
def test_chunk_boundaries_do_not_matter(fixtures_dir, name, chunk_size):
    text = (fixtures_dir / "textdump" / name).read_text(encoding="utf-8")
    whole = records(text, captured_on=DAY, label=name)
    assert records(text, captured_on=DAY, label=name, chunk_size=chunk_size) == whole
