"""The plugin test kit: contract tests a plugin author runs against their own source or sink.

Subclass a contract in your own test file (pytest collects it because the class name starts
with ``Test``) and point it at your plugin and sample input::

    from pathlib import Path
    from harvester.testkit import SourceContract
    from my_plugin import MySource

    HERE = Path(__file__).parent

    class TestMySource(SourceContract):
        source_class = MySource
        sample_inputs = [HERE / "fixtures" / "good.html"]
        bad_inputs = [HERE / "fixtures" / "not_a_listing.html"]
        options = {}                       # the source's own options, as in a config table
        required_fields = ("arxiv_id", "url")

        def make_large_input(self, directory, scale):
            ...                            # write inputs holding ~100 * scale entries
            return [str(path)]

Records run through `harvester.pipeline.iter_source`, i.e. they are finalised exactly as in a
real run, and every finalised record is checked with `harvester.validate.validate_line` on its
encoded JSON, the same check `harvester validate` applies to a JSONL file.

The helpers (`make_source`, `harvest`, `read_raw`, `peak_python_memory`, `unclean_fields`) are
public, for tests the contracts do not cover.
"""

from __future__ import annotations

import datetime as dt
import gc
import tracemalloc
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar

import msgspec
import pytest

from .api import RunContext, Sink, Source
from .errors import HarvesterError, InputError
from .normalise import clean_text
from .pipeline import SourceReport, iter_source
from .schema import Paper, Rejected
from .validate import validate_line

__all__ = [
    "Harvested",
    "SinkContract",
    "SourceContract",
    "harvest",
    "make_source",
    "peak_python_memory",
    "read_raw",
    "unclean_fields",
]

NOW = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
TEXT_FIELDS = ("title", "abstract", "organization", "submitted_by", "published_raw", "url")


def make_source(
    source_class: type[Source],
    inputs: Iterable[str | Path],
    options: dict[str, Any] | None = None,
    *,
    base_dir: Path | None = None,
) -> Source:
    """An instance of `source_class` with `options` (a config table) and `inputs`."""
    raw = {**(options or {}), "inputs": [str(i) for i in inputs]}
    opts = msgspec.convert(raw, source_class.Options)
    context = RunContext(base_dir=base_dir or Path.cwd())
    return source_class(opts, context)


@dataclass
class Harvested:
    """What one source produced through the pipeline's finalisation."""

    papers: list[Paper] = field(default_factory=list)
    rejected: list[Rejected] = field(default_factory=list)
    report: SourceReport | None = None


def harvest(source: Source) -> Harvested:
    """Run `source` through `iter_source` (as a run does) and keep everything it yields."""
    out = Harvested(report=SourceReport(label=source.name, plugin=source.name))
    try:
        for item in iter_source(source, out.report, NOW):
            (out.papers if isinstance(item, Paper) else out.rejected).append(item)
    finally:
        source.context.close()
    return out


def read_raw(source: Source) -> list[Any]:
    """What `read()` yields for every target, before finalisation (errors propagate)."""
    items: list[Any] = []
    try:
        for target in source.targets():
            items.extend(source.read(target))
    finally:
        source.context.close()
    return items


def peak_python_memory(run: Callable[[], object]) -> int:
    """Peak bytes of Python allocations while `run()` executes (tracemalloc).

    Memory the source allocates outside Python's allocator (e.g. a C parser's tree) is not
    seen; what this catches is the common failure: records or lines kept in Python lists.
    """
    gc.collect()
    was_tracing = tracemalloc.is_tracing()
    if not was_tracing:
        tracemalloc.start()
    tracemalloc.reset_peak()
    base, _ = tracemalloc.get_traced_memory()
    try:
        run()
        _, peak = tracemalloc.get_traced_memory()
    finally:
        if not was_tracing:
            tracemalloc.stop()
    return max(0, peak - base)


def unclean_fields(paper: Paper) -> list[str]:
    """Text fields of `paper` that `harvester.normalise.clean_text` would change (NFC,
    collapsed whitespace, trimmed, no '')."""
    bad = [
        name
        for name in TEXT_FIELDS
        if (value := getattr(paper, name)) is not None and clean_text(value) != value
    ]
    bad += [f"authors[{i}]" for i, a in enumerate(paper.authors) if clean_text(a) != a]
    return bad


def _count(source: Source) -> int:
    """Consume a source through the pipeline keeping nothing (for the memory check)."""
    report = SourceReport(label=source.name, plugin=source.name)
    n = 0
    for _item in iter_source(source, report, NOW):
        n += 1
    return n


class SourceContract:
    """Contract tests for a `Source`. Set the class attributes; override `make_large_input`."""

    source_class: ClassVar[type[Source]]
    sample_inputs: ClassVar[Sequence[str | Path]] = ()  # inputs with good entries
    bad_inputs: ClassVar[Sequence[str | Path]] = ()  # each must fail with a location
    options: ClassVar[dict[str, Any]] = {}  # the source's own options (a config table)
    required_fields: ClassVar[tuple[str, ...]] = ()  # fields every record of yours must fill
    expected_records: ClassVar[int | None] = None  # exact paper count of sample_inputs, if known
    # Memory: the peak for inputs of `large_scale` may exceed the peak for `small_scale` by at
    # most `memory_per_entry` bytes per extra entry plus `memory_slack`. Streaming sources grow
    # by ~0; a source that keeps its records (>= ~400 B each, even title-only) fails.
    small_scale: ClassVar[int] = 1
    large_scale: ClassVar[int] = 20
    memory_per_entry: ClassVar[int] = 128  # room for e.g. a set of seen ids
    memory_slack: ClassVar[int] = 128 << 10

    def make_large_input(self, directory: Path, scale: int) -> list[str]:
        """Write inputs whose entry count grows linearly with `scale`; return the inputs.

        A line-oriented source writes one file of ``~100 * scale`` entries. A source that has
        to parse a whole document at once (HTML) writes ``scale`` documents instead: its
        memory should be bounded by the largest document, never by the whole run.
        """
        pytest.skip(f"{type(self).__name__} does not define make_large_input()")

    # -- helpers --------------------------------------------------------------------------

    def source(self, inputs: Iterable[str | Path]) -> Source:
        return make_source(self.source_class, inputs, self.options)

    def harvest_samples(self) -> Harvested:
        if not self.sample_inputs:
            pytest.fail(f"{type(self).__name__}.sample_inputs is empty")
        out = harvest(self.source(self.sample_inputs))
        if not out.papers:  # every paper-based check below would pass vacuously
            reasons = sorted({r.reason for r in out.rejected})[:3]
            failed = out.report.failed[:3] if out.report else []
            pytest.fail(
                f"the sample inputs produced no papers (rejected: {reasons}; failed: {failed})"
            )
        return out

    # -- the contract ---------------------------------------------------------------------

    def test_source_class_is_registrable(self):
        cls = self.source_class
        assert isinstance(cls, type) and issubclass(cls, Source), f"{cls!r} is not a Source"
        assert isinstance(getattr(cls, "name", None), str) and cls.name, "Source needs a `name`"
        assert issubclass(cls.Options, msgspec.Struct), "Options must be a msgspec.Struct"

    def test_sample_inputs_yield_papers_without_failures(self):
        out = self.harvest_samples()
        report = out.report
        assert report is not None
        assert report.error is None, f"the source could not run: {report.error}"
        assert not report.failed, f"targets failed: {report.failed}"
        assert out.papers, "the sample inputs produced no papers"
        if self.expected_records is not None:
            assert len(out.papers) == self.expected_records
        for rejected in out.rejected:
            assert rejected.reason and rejected.source_ref, f"reject without a location: {rejected}"

    def test_records_validate_against_the_schema(self):
        encode = msgspec.json.Encoder().encode
        for paper in self.harvest_samples().papers:
            problems = validate_line(encode(paper))
            assert not problems, f"{paper.source_ref}: {problems}"

    def test_required_fields_are_present(self):
        for paper in self.harvest_samples().papers:
            assert paper.title, paper
            assert paper.key and paper.source == self.source_class.name, paper
            missing = [f for f in self.required_fields if getattr(paper, f) in (None, "", [], {})]
            assert not missing, f"{paper.source_ref}: missing {missing}"

    def test_source_ref_says_where_each_record_came_from(self):
        targets = [str(t) for t in self.source(self.sample_inputs).targets()]
        names = {Path(t).name for t in targets} | set(targets)
        for paper in self.harvest_samples().papers:
            # set by the source itself, naming the target (the pipeline never invents one)
            assert any(n in paper.source_ref for n in names), (
                f"source_ref {paper.source_ref!r} names none of {sorted(names)}"
            )

    def test_bad_input_fails_with_a_location(self):
        if not self.bad_inputs:
            pytest.skip(f"{type(self).__name__} defines no bad_inputs")
        for bad in self.bad_inputs:
            source = self.source([bad])
            name = Path(str(bad)).name
            try:
                items = read_raw(source)
            except InputError as exc:
                assert exc.location and name in exc.location, (
                    f"InputError location {exc.location!r} does not name {name!r}"
                )
                continue
            except HarvesterError as exc:  # FetchError for URLs: also located
                assert name in str(exc), f"{exc} does not name {name!r}"
                continue
            rejected = [i for i in items if isinstance(i, Rejected)]
            assert rejected, f"{bad}: neither raised InputError nor yielded a Rejected"
            for r in rejected:
                assert r.reason, r
                assert name in r.source_ref, f"Rejected.source_ref {r.source_ref!r} lacks {name}"

    def test_memory_stays_bounded_on_a_large_input(self, tmp_path: Path):
        small_dir, large_dir = tmp_path / "small", tmp_path / "large"
        small_dir.mkdir()
        large_dir.mkdir()
        small_inputs = self.make_large_input(small_dir, self.small_scale)
        large_inputs = self.make_large_input(large_dir, self.large_scale)
        counts: dict[str, int] = {}

        def run(label: str, inputs: list[str]) -> Callable[[], None]:
            def go() -> None:
                counts[label] = _count(self.source(inputs))

            return go

        small = peak_python_memory(run("small", small_inputs))
        large = peak_python_memory(run("large", large_inputs))
        assert counts["large"] >= counts["small"] * (self.large_scale / self.small_scale) / 2, (
            f"make_large_input did not scale: {counts}"
        )
        extra_entries = counts["large"] - counts["small"]
        limit = small + self.memory_per_entry * extra_entries + self.memory_slack
        assert large <= limit, (
            f"peak memory grew with the input: {small} B for {counts['small']} entries, "
            f"{large} B for {counts['large']} (limit {limit:.0f} B)"
        )

    def test_trusted_source_yields_clean_text(self):
        if not self.source_class.trusted:
            pytest.skip("not trusted: the pipeline cleans and type-checks every record")
        raw = read_raw(self.source(self.sample_inputs))
        papers = [p for p in raw if isinstance(p, Paper)]
        assert papers, "the sample inputs produced no papers"
        for paper in papers:
            assert not unclean_fields(paper), f"{paper.source_ref}: {unclean_fields(paper)}"
        # trusted papers skip the pipeline's type check: once finalised they must be valid
        for paper in self.harvest_samples().papers:
            msgspec.convert(msgspec.to_builtins(paper), Paper)


def sample_papers(n: int = 3) -> list[Paper]:
    """Finalised-looking papers for sink tests: one with every field, others sparse."""
    now = NOW
    full = Paper(
        key="arxiv:2601.00001",
        arxiv_id="2601.00001",
        title="Ünïcode title — with dash",
        abstract="An abstract.",
        authors=["Ada Lovelace", "Émile Borel"],
        author_count=2,
        organization="Org",
        submitted_by="someone",
        published=dt.date(2026, 1, 1),
        published_raw="Jan 1",
        published_inferred=True,
        upvotes=5,
        comments=1,
        listing_date=dt.date(2026, 1, 2),
        url="https://arxiv.org/abs/2601.00001",
        source="kit",
        source_ref="kit.txt:1",
        harvested_at=now,
        extra={"kit": {"n": 1}},
    )
    papers = [full]
    for i in range(1, n):
        papers.append(
            Paper(
                key=f"title:{i:016x}",
                title=f"Paper {i}",
                source="kit",
                source_ref=f"kit.txt:{i + 1}",
                harvested_at=now,
            )
        )
    return papers


class SinkContract:
    """Contract tests for a `Sink`: what it writes reads back, and an abandoned run keeps
    the previous output. Set `sink_class`, and override `sink_options` and `read_back`."""

    sink_class: ClassVar[type[Sink]]

    def sink_options(self, directory: Path) -> dict[str, Any]:
        """The sink's options (a config table) writing into `directory`."""
        raise NotImplementedError

    def read_back(self, directory: Path) -> list[dict[str, Any]]:
        """The records the sink's output holds, as dicts with at least `key` and `title`."""
        raise NotImplementedError

    def _sink(self, directory: Path) -> Sink:
        opts = msgspec.convert(self.sink_options(directory), self.sink_class.Options)
        return self.sink_class(opts, RunContext(base_dir=directory))

    def _write(self, directory: Path, papers: list[Paper], *, ok: bool) -> None:
        sink = self._sink(directory)
        sink.open()
        try:
            sink.write(papers)
            if ok:
                sink.commit()
        finally:
            sink.close(ok=ok)

    def test_written_papers_read_back(self, tmp_path: Path):
        papers = sample_papers(3)
        self._write(tmp_path, papers, ok=True)
        got = sorted((r["key"], r["title"]) for r in self.read_back(tmp_path))
        assert got == sorted((p.key, p.title) for p in papers)

    def test_an_abandoned_run_keeps_the_previous_output(self, tmp_path: Path):
        first = sample_papers(2)
        self._write(tmp_path, first, ok=True)
        later = [
            Paper(
                key="title:ffffffffffffffff",
                title="Never published",
                source="kit",
                source_ref="kit.txt:9",
                harvested_at=NOW,
            )
        ]
        self._write(tmp_path, later, ok=False)
        got = sorted(r["key"] for r in self.read_back(tmp_path))
        assert got == sorted(p.key for p in first)
