"""The contract every sink passes, run over every registered sink.

Each sink needs a `SinkCase`: the options that point it into a directory, and a reader that
returns the papers it wrote there. A third-party sink reuses the suite by importing this module
and adding its case, e.g. in its own test file::

    from tests.test_sinks import CASES, SinkCase
    CASES["mysink"] = SinkCase(options=lambda: {"path": "out.db"}, read=my_reader)

Every registered sink must have a case: a sink without one fails `test_every_sink_has_a_case`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import msgspec
import pytest

from harvester.api import RunContext, Sink, parse_options
from harvester.errors import SinkError
from harvester.jsonl import read_jsonl
from harvester.normalise import title_key
from harvester.plugins import load_plugins
from harvester.schema import Paper


@dataclass
class SinkCase:
    """How to point a sink at a directory (relative `path`), and how to read back its output."""

    options: Callable[[], dict[str, Any]]  # options with a path relative to the base directory
    read: Callable[[Path], list[Paper]]  # base directory -> the papers stored there


def _read_jsonl(base: Path) -> list[Paper]:
    path = base / "out" / "papers.jsonl"
    return [paper for _, paper in read_jsonl(path, Paper)] if path.exists() else []


def _read_sqlite(base: Path) -> list[Paper]:
    from harvester_plugins.sqlite import read_papers

    path = base / "out" / "papers.db"
    return read_papers(path) if path.exists() else []


CASES: dict[str, SinkCase] = {
    "jsonl": SinkCase(options=lambda: {"path": "out/papers.jsonl"}, read=_read_jsonl),
    "sqlite": SinkCase(options=lambda: {"path": "out/papers.db"}, read=_read_sqlite),
}


def make_paper(i: int, **fields: Any) -> Paper:
    """A complete, distinct paper; `fields` override any value."""
    title = fields.pop("title", f"Paper number {i}: attention is all you need")
    arxiv_id = fields.pop("arxiv_id", f"2401.{i:05d}")
    values: dict[str, Any] = {
        "key": f"arxiv:{arxiv_id}" if arxiv_id else title_key(title),
        "arxiv_id": arxiv_id,
        "title": title,
        "abstract": f"Abstract of paper {i}.",
        "authors": [f"Author {i}", "Second Author"],
        "author_count": 2,
        "organization": "Example Lab",
        "submitted_by": "someone",
        "published": dt.date(2024, 1, 1 + i % 28),
        "published_raw": "Jan 1",
        "published_inferred": i % 2 == 0,
        "upvotes": i,
        "comments": i % 7,
        "listing_date": dt.date(2024, 2, 1),
        "url": f"https://example.org/papers/{i}",
        "source": "test",
        "source_ref": f"fixture.txt:{i + 1}",
        "harvested_at": dt.datetime(2024, 2, 1, 12, 30, i % 60, tzinfo=dt.UTC),
        "extra": {"test": {"rank": i}},
    }
    values.update(fields)
    return Paper(**values)


def tricky_papers() -> list[Paper]:
    """Unicode, nulls, empty lists and nested extras: what a round trip must preserve."""
    return [
        make_paper(
            1,
            title="Über 𝔘nicode — 日本語の論文 “quoted” \\ back\\slash",
            abstract='Line one\nline two\ttab "quote" \u2028 separator, emoji 🧪',
            authors=["Zoë Ünlü", "李小龙", "O'Brien"],
            extra={"test": {"nested": [1, 2.5, None, True, "ü"], "null": None}},
        ),
        make_paper(
            2,
            arxiv_id=None,
            abstract=None,
            authors=[],
            author_count=None,
            organization=None,
            submitted_by=None,
            published=None,
            published_raw=None,
            upvotes=None,
            comments=None,
            listing_date=None,
            url=None,
            harvested_at=None,
            extra={},
        ),
        make_paper(3, upvotes=0, comments=0, author_count=0, published_inferred=True),
    ]


def _by_key(papers: Sequence[Paper]) -> list[Paper]:
    return sorted(papers, key=lambda p: p.key)


SINK_NAMES = sorted(load_plugins().sinks)


@pytest.fixture(params=SINK_NAMES)
def sink_name(request) -> str:
    return request.param


@pytest.fixture
def case(sink_name) -> SinkCase:
    if sink_name not in CASES:
        pytest.fail(f"sink {sink_name!r} has no SinkCase in tests/test_sinks.py")
    return CASES[sink_name]


@pytest.fixture
def base(tmp_path) -> Path:
    return tmp_path / "run"


def run_sink(
    name: str,
    base: Path,
    batches: Sequence[Sequence[Paper]],
    *,
    options: dict[str, Any],
    ok: bool = True,
) -> Sink:
    """One run: open, write each batch, commit (only when ok), close(ok)."""
    cls = load_plugins().sink(name)
    sink = cls(parse_options(cls.Options, options), RunContext(base_dir=base))
    sink.open()
    for batch in batches:
        sink.write(batch)
    if ok:
        sink.commit()
    sink.close(ok=ok)
    return sink


def test_every_sink_has_a_case():
    assert set(SINK_NAMES) >= {"jsonl", "sqlite"}
    assert not set(SINK_NAMES) - set(CASES), "add a SinkCase for every registered sink"


def test_round_trip_preserves_every_field(sink_name, case, base):
    papers = tricky_papers()
    run_sink(sink_name, base, [papers], options=case.options())
    got = case.read(base)
    assert _by_key(got) == _by_key(papers)
    # Struct equality compares values; compare the encoded form too (types, e.g. date vs str).
    assert [msgspec.json.encode(p) for p in _by_key(got)] == [
        msgspec.json.encode(p) for p in _by_key(papers)
    ]


def test_relative_path_resolves_against_the_base_dir(sink_name, case, base, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # cwd is NOT the base dir: output must not land here
    run_sink(sink_name, base, [[make_paper(1)]], options=case.options())
    assert [p.key for p in case.read(base)] == [make_paper(1).key]
    assert not (tmp_path / "out").exists()


def test_unknown_option_is_an_error(sink_name, case):
    cls = load_plugins().sink(sink_name)
    with pytest.raises(msgspec.ValidationError, match="no_such_option"):
        parse_options(cls.Options, {**case.options(), "no_such_option": 1})


def test_path_is_required(sink_name):
    cls = load_plugins().sink(sink_name)
    with pytest.raises(msgspec.ValidationError, match="path"):
        parse_options(cls.Options, {})


def test_abandoned_run_keeps_the_previous_good_output(sink_name, case, base):
    good = [make_paper(i) for i in range(5)]
    run_sink(sink_name, base, [good], options=case.options())
    run_sink(
        sink_name,
        base,
        [[make_paper(i, title=f"Changed {i}") for i in range(3, 9)]],
        options=case.options(),
        ok=False,
    )
    assert _by_key(case.read(base)) == _by_key(good)


def test_rerun_gives_the_same_output(sink_name, case, base):
    papers = [make_paper(i) for i in range(20)]
    run_sink(sink_name, base, [papers], options=case.options())
    run_sink(sink_name, base, [papers[:10], papers[10:]], options=case.options())
    assert _by_key(case.read(base)) == _by_key(papers)


def test_empty_run(sink_name, case, base):
    run_sink(sink_name, base, [], options=case.options())
    assert case.read(base) == []
    assert (base / "out").exists()


def test_large_batches(sink_name, case, base):
    papers = [make_paper(i, abstract="x" * 500 + str(i)) for i in range(6000)]
    run_sink(sink_name, base, [papers[:5000], papers[5000:]], options=case.options())
    got = case.read(base)
    assert len(got) == 6000
    assert _by_key(got) == _by_key(papers)


def test_unwritable_location_is_a_sink_error(sink_name, case, base):
    base.mkdir(parents=True)
    (base / "out").write_text("a file where the output directory should be\n")
    with pytest.raises(SinkError, match="out"):
        run_sink(sink_name, base, [[make_paper(1)]], options=case.options())
