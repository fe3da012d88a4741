"""The cheap check of trusted sources (`looks_final`) never passes a record the full path would
change: whatever it accepts is clean and typed (it may send a clean record down the full path:
that costs time, never correctness)."""

from __future__ import annotations

import datetime as dt

import msgspec
from hypothesis import given, settings
from hypothesis import strategies as st

from harvester.finalise import looks_final
from harvester.normalise import clean_text
from harvester.schema import Paper

texts = st.one_of(
    st.text(max_size=40),
    st.text(alphabet=st.characters(min_codepoint=0, max_codepoint=0x7F), max_size=40),
    st.sampled_from(["A title", " lead", "trail ", "two  spaces", "tab\there", "bell\x07", "ok"]),
)


@settings(max_examples=3000, deadline=None, derandomize=True)
@given(title=texts, abstract=texts, authors=st.lists(texts, max_size=3), upvotes=st.integers(-2, 5))
def test_what_the_cheap_check_accepts_is_clean(title, abstract, authors, upvotes):
    paper = Paper(
        title=title or "x", abstract=abstract or None, authors=authors, upvotes=upvotes,
        source_ref="s",
    )  # fmt: skip
    if looks_final(paper):
        for text in [paper.title, paper.abstract, *authors]:
            assert text is None or clean_text(text) == text, text
        assert upvotes >= 0


def test_wrong_types_fail_the_cheap_check():
    good = Paper(title="T", published=dt.date(2026, 1, 1), source_ref="s")
    assert looks_final(good)
    for change in (
        {"published": dt.datetime(2026, 1, 1)},  # a datetime is not a date
        {"upvotes": True},  # a bool is not a count
        {"authors": ("A",)},
        {"extra": []},
        {"title": "x\x00y"},
    ):
        assert not looks_final(msgspec.structs.replace(good, **change)), change
