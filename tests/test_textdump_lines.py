"""textdump.lines (what a line is, text shapes) and the records' cached date parse."""

from __future__ import annotations

import datetime as dt

import pytest
from harvester_plugins.textdump import lines as L
from harvester_plugins.textdump import shapes as S
from harvester_plugins.textdump.days import CaptureDays
from harvester_plugins.textdump.header import Listing
from harvester_plugins.textdump.records import RecordBuilder
from hypothesis import given, settings
from hypothesis import strategies as st

from harvester.normalise import parse_published

HF = "https://huggingface.co"


@pytest.mark.parametrize(
    ("line", "kind", "payload"),
    [
        ("·", L.DOT, None),
        ("• 3 authors", L.AUTHORS, (3, None)),
        ("4 authors](https://huggingface.co/papers/2604.01234)", L.AUTHORS, (4, "2604.01234")),
        ("[", L.OPEN, ""),
        ("[-] 12", L.UPVOTE, "12"),
        ("[-] -", L.UPVOTE, "-"),
        (f"{HF}/login?next=%2Fpapers%2F2604.01234", L.LOGIN, "2604.01234"),
        (f"{HF}/login?next=%2Fpapers", L.LINK, f"{HF}/login?next=%2Fpapers"),
        (f"{HF}/papers/2604.01234", L.PAPER, "2604.01234"),
        (f"{HF}/papers/2604.01234v2/", L.PAPER, "2604.01234"),
        (f"{HF}/papers/2604.01234#community", L.COMMUNITY, "2604.01234"),
        (f"{HF}/papers/trending", L.LINK, f"{HF}/papers/trending"),
        (f"{HF}/papers/date/2026-05-03", L.LINK, f"{HF}/papers/date/2026-05-03"),
        (f"{HF}/google", L.SITE, "google"),
        ("https://github.com/org/repo", L.LINK, "https://github.com/org/repo"),
        ("https://example.com and more words", L.TEXT, None),
        (f"[88]({HF}/login?next=%2Fpapers%2F2606.00411)", L.MD_UPVOTE, ("88", "2606.00411")),
        (f"### [A \\*Title\\*]({HF}/papers/2606.00411)", L.MD_TITLE, ("A *Title*", "2606.00411")),
        (f"[Abstract text.]({HF}/papers/2606.00411)", L.MD_TEXT, ("Abstract text.", "2606.00411")),
        (f"[- 10 authors]({HF}/papers/2609.00123)", L.AUTHORS, (10, "2609.00123")),
        (f"[![occ](https://cdn.x/a.png)OCC Lab]({HF}/occ)", L.MD_ORG, ("OCC Lab", "occ")),
        (f"[Trending Papers]({HF}/papers/trending)", L.LINK, f"{HF}/papers/trending"),
        ("[- ![](https://cdn.x/a.jpeg)\\\\", L.OPEN, "- ![](https://cdn.x/a.jpeg)\\\\"),
        ("[Re] A Reproduction Study", L.TEXT, None),
        ("3D Gaussians in the Wild", L.TEXT, None),
        ("2 Authors Are Better Than One", L.TEXT, None),
        ("# Daily Papers", L.TEXT, None),
    ],
)
def test_classify(line, kind, payload):
    assert L.classify(line) == (kind, payload)


@pytest.mark.parametrize(
    ("text", "title"),
    [
        ("Sparse Lantern Networks for Low-Light Video Denoising", True),
        ("Does Continual Learning Equally Forget All Parameters?", True),
        ("mPLUG-Owl: Modularization Empowers Large Language Models", True),
        ("e5 embeddings, revisited", True),
        ("Abstract two.", False),  # ends a sentence
        ("and show that the direction of these gradients predicts generalisation", False),
        ("rising. We track the direction of these quiet gradients", False),
        ("x" * 301, False),
    ],
)
def test_title_shaped(text, title):
    assert S.title_shaped(text) is title


def test_title_cased():
    assert S.title_cased("Paper Four With A Year And Comments")
    assert not S.title_cased("We propose a new method for training Large")


@pytest.mark.parametrize(
    ("previous", "width", "following", "wraps"),
    [
        (
            "We recover sharp depth maps from the blur of handheld phone",
            64,
            "videos. A small",
            True,
        ),
        ("We recover sharp depth maps from the", 64, "blur of handheld", False),  # fitted
        ("Paper One Without Meta", 22, "Abstract one is a single line.", False),  # under 40 cols
        ("x " * 130, 260, "next", False),  # over 240 columns: never wrapped
    ],
)
def test_fits_wrap(previous, width, following, wraps):
    assert S.fits_wrap(previous.strip(), width, following) is wraps


@pytest.mark.parametrize(
    ("lines", "joined"),
    [
        (["produces high-", "fidelity depth"], "produces high-fidelity depth"),
        (["a pre-", "trained encoder"], "a pre-trained encoder"),
        (["baselines on -", "four sets"], "baselines on - four sets"),  # a dash, not a break
        (["one", "two", "three"], "one two three"),
    ],
)
def test_join_wrapped(lines, joined):
    assert S.join_wrapped(lines) == joined


@pytest.mark.parametrize(
    ("text", "count"),
    [
        ("4 authors", 4),
        ("- 3 authors", 3),
        ("- ![](https://a/b.jpeg)\\\\\n- ![](https://a/c.svg)\\\\\n- 3 authors", 3),
        ("A paper about authors", None),
    ],
)
def test_author_count(text, count):
    assert L.author_count(text) == count


# -- the cached date parse agrees with parse_published ------------------------------------------

MONTHS = st.sampled_from(["Jan", "Feb", "Sep", "sept", "Foo", "Published on Mar"])
DATE_TEXT = st.builds(
    lambda mon, day, year, count: f"{mon} {day}{year}{count}",
    MONTHS,
    st.integers(0, 32).map(str),
    st.sampled_from(["", ", 2023", " 2024", " 2100", " 1899", ", 24"]),
    st.sampled_from(["", " 2", " 12", " 2024", " 1.2k", " -", " 0", " 2 3", "  5", " 1999"]),
)


@settings(max_examples=300, deadline=None, derandomize=True)
@given(texts=st.lists(DATE_TEXT, min_size=1, max_size=8))
def test_cached_published_matches_parse_published(texts):
    listing = dt.date(2026, 3, 14)
    days = CaptureDays("x", Listing(1, "Mar 14, 2026", None), None, None, [])
    builder = RecordBuilder("x", days)
    for text in texts * 2:  # the second round comes from the cache
        try:
            expected = parse_published(text, listing - dt.timedelta(days=1))
        except ValueError as exc:
            expected = str(exc)
        assert builder.published(text) == expected
