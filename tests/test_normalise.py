"""One table per normaliser: input -> expected output, and invalid input -> ValueError."""

from __future__ import annotations

import datetime as dt
import re
import unicodedata

import pytest
from hypothesis import given
from hypothesis import strategies as st

from harvester.normalise import (
    PublishedDate,
    arxiv_id_from,
    arxiv_key,
    clean_text,
    is_date_line,
    normalised_title,
    parse_author_count,
    parse_count,
    parse_organization,
    parse_published,
    title_key,
)

REF = dt.date(2025, 12, 10)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (None, None),
        ("", None),
        ("   \t\n ", None),
        ("Plain title", "Plain title"),
        ("  padded  ", "padded"),
        ("two  spaces\tand\ttabs\nand lines", "two spaces and tabs and lines"),
        ("non\u00a0breaking\u2009thin\u3000ideographic", "non breaking thin ideographic"),
        ("crlf line\r\n", "crlf line"),
        ("control\x1fseparator", "control separator"),
        ("Cafe\u0301 decomposed", "Café decomposed"),  # NFD -> NFC
        ("Café composed", "Café composed"),
        ("T\u00dcLU 3:  Pushing", "TÜLU 3: Pushing"),
        ("trailing date ", "trailing date"),
        ("bell\x07 and \x1b[31mescape", "bell and [31mescape"),  # C0 controls removed
        ("c1\x9b control", "c1 control"),
        ("zero\u200bwidth soft\u00adhyphen \ufeffbom", "zerowidth softhyphen bom"),
        ("Caf\u00e9\x07", "Café"),
    ],
)
def test_clean_text(text, expected):
    assert clean_text(text) == expected


@given(st.text())
def test_clean_text_matches_the_reference_definition(text):
    # The fast paths must not change what clean_text means.
    visible = "".join(
        c
        for c in text
        if c.isspace() or not (unicodedata.category(c) == "Cc" or c in "\u00ad\u200b\u2060\ufeff")
    )
    reference = re.sub(r"\s+", " ", unicodedata.normalize("NFC", visible)).strip() or None
    assert clean_text(text) == reference


@given(st.text())
def test_normalised_title_ascii_fast_path_matches_the_general_rule(text):
    folded = unicodedata.normalize("NFKC", text).casefold()
    assert normalised_title(text) == " ".join(re.sub(r"[\W_]+", " ", folded).split())


@pytest.mark.parametrize(
    ("a", "b", "same"),
    [
        ("Attention Is All You Need", "attention is all you need", True),
        ("Attention Is All You Need", "Attention is all you need.", True),
        ("Attention  Is\tAll You  Need", "Attention Is All You Need", True),
        ("TÜLU 3: Pushing Frontiers", "TU\u0308LU 3: Pushing Frontiers", True),  # NFC vs NFD
        ("R1-Reward: Training", "R1 Reward  Training", True),
        ("ﬁne-tuning", "fine tuning", True),  # NFKC ligature
        ("Attention Is All You Need", "Attention Is Not All You Need", False),
        ("GPT-4 Technical Report", "GPT-3 Technical Report", False),
    ],
)
def test_title_key(a, b, same):
    assert title_key(a).startswith("title:")
    assert (title_key(a) == title_key(b)) is same


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2410.05434", "2410.05434"),
        ("2410.05434v2", "2410.05434"),
        ("0704.0001", "0704.0001"),
        ("https://huggingface.co/papers/2409.02326#community", "2409.02326"),
        ("https://huggingface.co/papers/2409.02326", "2409.02326"),
        ("https://arxiv.org/abs/2412.20138v1", "2412.20138"),
        ("https://arxiv.org/pdf/2412.20138v3.pdf", "2412.20138"),
        ("login?next=%2Fpapers%2F2410.05434", "2410.05434"),
        ("https://huggingface.co/login?next=%2Fpapers%2F2410.05434", "2410.05434"),
        ("hep-th/9901001", "hep-th/9901001"),
        ("https://arxiv.org/abs/hep-th/9901001v2", "hep-th/9901001"),
        ("math.GT/0309136", "math.GT/0309136"),
        ("arXiv:2501.00001", "2501.00001"),
        (None, None),
        ("", None),
        ("no id here", None),
        ("https://huggingface.co/google", None),
        ("12410.05434", None),  # part of a longer number
        ("2413.00001", None),  # month 13
        ("3.14159", None),
    ],
)
def test_arxiv_id_from(text, expected):
    assert arxiv_id_from(text) == expected


def test_arxiv_key():
    assert arxiv_key("2410.05434") == "arxiv:2410.05434"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("• 1 authors", 1),
        ("  • 13 authors", 13),
        ("1 author", 1),
        ("13 authors", 13),
        ("- 3 authors", 3),
        ("2 authors](https://huggingface.co/papers/2410.05434)", 2),
        ("- 10 authors](https://huggingface.co/papers/2609.00319)", 10),
        ("  • 3 authors  ", 3),
        ("•3 Authors", 3),
        ("authors", ValueError),
        ("• x authors", ValueError),
        ("3 apples", ValueError),
        ("", ValueError),
    ],
)
def test_parse_author_count(text, expected):
    if expected is ValueError:
        with pytest.raises(ValueError, match="not an author count"):
            parse_author_count(text)
    else:
        assert parse_author_count(text) == expected


@pytest.mark.parametrize(
    ("text", "slug", "expected"),
    [
        ("Qwen Qwen", None, "Qwen"),
        ("google Google", None, "Google"),
        (
            "MHUGLab Multimedia and Human Understanding Group",
            None,
            "Multimedia and Human Understanding Group",
        ),
        ("Google", None, "Google"),
        (" Google ", None, "Google"),
        ("deepseek-ai DeepSeek", None, "DeepSeek"),
        ("allen_ai Ai2", None, "Ai2"),
        ("Qwen Qwen Team", None, "Qwen Team"),  # display name repeating the slug
        ("Université Paris-Saclay", None, "Université Paris-Saclay"),  # no slug-like first word
        ("Google DeepMind", "google", "Google DeepMind"),  # the slug is known and is not there
        ("google Google", "google", "Google"),
        ("Lumen", "lumen", "Lumen"),
        ("", None, ValueError),
        ("   ", None, ValueError),
    ],
)
def test_parse_organization(text, slug, expected):
    if expected is ValueError:
        with pytest.raises(ValueError, match="empty organisation"):
            parse_organization(text, slug)
    else:
        assert parse_organization(text, slug) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2", 2),
        ("149", 149),
        (" 19 ", 19),
        ("1.2k", 1200),
        ("1.25K", 1250),
        ("3M", 3_000_000),
        ("1,234", 1234),
        ("-", 0),
        ("0", 0),
        ("1.2345k", ValueError),  # not a whole number
        ("abc", ValueError),
        ("-3", ValueError),
        ("", ValueError),
        ("1.2.3", ValueError),
    ],
)
def test_parse_count(text, expected):
    if expected is ValueError:
        with pytest.raises(ValueError, match="count"):
            parse_count(text)
    else:
        assert parse_count(text) == expected


def D(y, m, d):
    return dt.date(y, m, d)


@pytest.mark.parametrize(
    ("text", "reference", "expected"),
    [
        ("Sep 25", REF, PublishedDate(D(2025, 9, 25), None, "Sep 25", True)),
        ("Oct 9, 2023", REF, PublishedDate(D(2023, 10, 9), None, "Oct 9, 2023", False)),
        ("Sep 25, 2023 2", REF, PublishedDate(D(2023, 9, 25), 2, "Sep 25, 2023", False)),
        ("Sep 29 2", REF, PublishedDate(D(2025, 9, 29), 2, "Sep 29", True)),
        ("Sep 2 2", REF, PublishedDate(D(2025, 9, 2), 2, "Sep 2", True)),
        ("Sep 2, 2024", REF, PublishedDate(D(2024, 9, 2), None, "Sep 2, 2024", False)),
        # a bare 4-digit year-like number right after the day is a year without its comma
        ("Sep 2 2024", REF, PublishedDate(D(2024, 9, 2), None, "Sep 2 2024", False)),
        ("Sep 2 2024 3", REF, PublishedDate(D(2024, 9, 2), 3, "Sep 2 2024", False)),
        ("Jun 23, 2024 1", REF, PublishedDate(D(2024, 6, 23), 1, "Jun 23, 2024", False)),
        ("Sep 3, 2024 ", REF, PublishedDate(D(2024, 9, 3), None, "Sep 3, 2024", False)),
        ("Sep 29 1.2k", REF, PublishedDate(D(2025, 9, 29), 1200, "Sep 29", True)),
        (
            "Published on Sep 4, 2026",
            None,
            PublishedDate(D(2026, 9, 4), None, "Published on Sep 4, 2026", False),
        ),
        (
            "2026-02-26T17:08:18.000Z",
            None,
            PublishedDate(D(2026, 2, 26), None, "2026-02-26T17:08:18.000Z", False),
        ),
        ("2026-02-26", None, PublishedDate(D(2026, 2, 26), None, "2026-02-26", False)),
        ("September 4, 2026", None, PublishedDate(D(2026, 9, 4), None, "September 4, 2026", False)),
        ("Dec 20, 2013", REF, PublishedDate(D(2013, 12, 20), None, "Dec 20, 2013", False)),
        # yearless: the reference year, unless that is more than a day after the reference
        ("Dec 11", REF, PublishedDate(D(2025, 12, 11), None, "Dec 11", True)),
        ("Dec 12", REF, PublishedDate(D(2024, 12, 12), None, "Dec 12", True)),
        ("Dec 30", D(2026, 1, 2), PublishedDate(D(2025, 12, 30), None, "Dec 30", True)),
        ("Feb 29", D(2024, 3, 1), PublishedDate(D(2024, 2, 29), None, "Feb 29", True)),
        ("Feb 29", D(2025, 3, 1), PublishedDate(D(2024, 2, 29), None, "Feb 29", True)),
        ("Feb 30", REF, "February has no day 30"),
        ("Foo 3", REF, "unknown month 'Foo'"),
        ("Sep 31, 2023", REF, "September has no day 31"),
        ("Feb 29, 2023", REF, "2023 is not a leap year"),
        ("Sep 0", REF, "September has no day 0"),
        ("Sep", REF, "not a date"),
        ("Sep 2 x", REF, "'x' is not a comment count"),
        ("2026-13-01", None, "invalid date"),
        ("Sep 25", None, "no year and no reference"),
        ("Feb 29", D(2026, 1, 10), "exists in neither"),
    ],
)
def test_parse_published(text, reference, expected):
    if isinstance(expected, str):
        with pytest.raises(ValueError, match=re.escape(expected)):
            parse_published(text, reference)
    else:
        assert parse_published(text, reference) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Mar 14", True),
        ("Oct 9, 2023", True),
        ("Sep 29 2", False),  # a card date with comments, not a bare date
        ("Grokking 3", False),
        ("Subscribe", False),
        ("Mamba State-Space Models Are Lyapunov-Stable Learners", False),
        ("", False),
    ],
)
def test_is_date_line(text, expected):
    assert is_date_line(text) is expected
