"""The plugin test kit: contract tests a plugin author runs against their own source or sink.

Subclass a contract in your own test file (pytest collects it because the class name starts
with ``Test``); see docs/plugins.md for complete examples. Both contracts drive the plugin
through the code a real run uses:

* `SourceContract` runs the source through `harvester.run.Run` (finalisation, limits, failures)
  into an in-memory sink, and checks every record with `harvester.validate.validate_line`, the
  check `harvester validate` applies to a JSONL file.
* `SinkContract` drives the sink through `harvester.outputs.Outputs`, the object the run uses:
  ``open(resume)``, ``write``, ``commit() -> checkpoint``, ``close(outcome)`` with every
  outcome, and a resume from a checkpoint, so a sink that passes the kit works in a run.

The helpers (`make_source`, `harvest`, `read_raw`, `peak_python_memory`, `unclean_fields`,
`sample_papers`) are public, for tests the contracts do not cover.
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

from .api import Outcome, Sink, SinkContext, Source, SourceContext, Target
from .build import Plan
from .config import RunSettings
from .errors import OutputError
from .fetch.runclient import SharedClient
from .finalise import clean_fields
from .normalise import clean_text
from .outputs import Outputs
from .report import SourceReport
from .schema import TEXT_FIELDS, Paper, Rejected
from .validate import validate_line

__all__ = [
    "Harvested",
    "SinkContract",
    "SourceContract",
    "harvest",
    "make_source",
    "peak_python_memory",
    "read_raw",
    "sample_papers",
    "unclean_fields",
]


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
    context = SourceContext(label=source_class.name, base_dir=base_dir or Path.cwd())
    return source_class(opts, context)


class _Collect(Sink):
    """Keeps what it is given: the in-memory sink and rejects output of `harvest`."""

    name = "testkit-collect"

    def __init__(self) -> None:
        super().__init__(None, SinkContext())  # type: ignore[arg-type]
        self.items: list[Any] = []

    def write(self, items: Sequence[Any]) -> None:
        self.items.extend(items)


@dataclass
class Harvested:
    """What one source produced through a run."""

    papers: list[Paper] = field(default_factory=list)
    rejected: list[Rejected] = field(default_factory=list)
    report: SourceReport | None = None


def harvest(source: Source, *, keep: bool = True) -> Harvested:
    """Run `source` through the run loop (no state) and keep what it yields."""
    from .run import Run

    papers, rejects = _Collect(), _Collect()
    client = source.context.client or SharedClient(source.context.fetch_settings)
    source.context.client = client
    # Not keeping them, papers stream and are dropped one by one rather than held and batched
    # (the memory test).
    settings = RunSettings(batch_size=1000 if keep else 1, hold_papers=1_000_000 if keep else 1)
    plan = Plan(settings, source.context.base_dir, [(source.name, source)], [], client)
    plan.sinks = [("papers", papers)] if keep else []
    report = Run(plan, rejects=rejects if keep else _Collect()).execute()
    return Harvested(papers.items, rejects.items, report.sources[0])


def read_raw(source: Source) -> list[Any]:
    """What `fetch` + `read()` yield for every target, before finalisation (errors propagate)."""
    items: list[Any] = []
    for given in source.targets():
        target = given if isinstance(given, Target) else Target(str(given))
        target.fetched = source.fetch(target)
        items.extend(source.read(target))
    return items


def peak_python_memory(run: Callable[[], object]) -> int:
    """Peak bytes of Python allocations while `run()` executes (tracemalloc).

    Memory a C parser allocates for its own tree is not seen; what this catches is the common
    failure: records or lines kept in Python lists.
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
    """Text fields of `paper` that `harvester.normalise.clean_text` would change."""
    bad = [
        name
        for name in TEXT_FIELDS
        if (value := getattr(paper, name)) is not None and clean_text(value) != value
    ]
    bad += [f"authors[{i}]" for i, a in enumerate(paper.authors) if clean_text(a) != a]
    bad += [f"categories[{i}]" for i, c in enumerate(paper.categories or []) if clean_text(c) != c]
    return bad


class SourceContract:
    """Contract tests for a `Source`. Set the class attributes; override `make_large_input`."""

    source_class: ClassVar[type[Source]]
    sample_inputs: ClassVar[Sequence[str | Path]] = ()  # inputs with good entries
    bad_inputs: ClassVar[Sequence[str | Path]] = ()  # each must fail with a location
    options: ClassVar[dict[str, Any]] = {}  # the source's own options (a config table)
    required_fields: ClassVar[tuple[str, ...]] = ()  # fields every record of yours must fill
    expected_records: ClassVar[int | None] = None  # exact paper count of sample_inputs, if known
    # True when the source declares what its upstream promises (Target.declare): every sample
    # target must then end complete with a declared total, or empty with its evidence.
    declares_totals: ClassVar[bool] = False
    cut_inputs: ClassVar[Sequence[str | Path]] = ()  # inputs cut midway: never `complete`
    # Memory: the peak for `large_scale` may exceed the peak for `small_scale` by at most
    # `memory_per_entry` bytes per extra entry plus `memory_slack`. A streaming source grows by
    # ~0; a source that keeps its records (>= ~400 B each, even title-only) fails.
    small_scale: ClassVar[int] = 1
    large_scale: ClassVar[int] = 20
    memory_per_entry: ClassVar[int] = 128
    memory_slack: ClassVar[int] = 128 << 10

    def make_large_input(self, directory: Path, scale: int) -> list[str]:
        """Write inputs whose entry count grows linearly with `scale`; return the inputs.

        A line-oriented source writes one file of ``~100 * scale`` entries; a source that must
        parse a whole document at once (HTML) writes ``scale`` documents instead."""
        pytest.skip(f"{type(self).__name__} does not define make_large_input()")

    def source(self, inputs: Iterable[str | Path]) -> Source:
        return make_source(self.source_class, inputs, self.options)

    def harvest_samples(self) -> Harvested:
        if not self.sample_inputs:
            pytest.fail(f"{type(self).__name__}.sample_inputs is empty")
        out = harvest(self.source(self.sample_inputs))
        if not out.papers:  # every paper-based check below would pass vacuously
            reasons = sorted({r.reason for r in out.rejected})[:3]
            failed = out.report.failed[:3] if out.report else []
            pytest.fail(f"the sample inputs produced no papers (rejected: {reasons}; {failed})")
        return out

    def test_source_class_is_registrable(self):
        cls = self.source_class
        assert isinstance(cls, type) and issubclass(cls, Source), f"{cls!r} is not a Source"
        assert isinstance(getattr(cls, "name", None), str) and cls.name, "Source needs a `name`"
        assert issubclass(cls.Options, msgspec.Struct), "Options must be a msgspec.Struct"

    def test_sample_inputs_yield_papers_without_failures(self):
        out = self.harvest_samples()
        report = out.report
        assert report is not None and report.error is None, f"cannot run: {report}"
        ended = [(r.target, str(r.outcome), r.reason) for r in report.outcomes]
        assert all(o in ("complete", "empty") for _, o, _ in ended), f"targets ended: {ended}"
        if self.declares_totals:  # the run then checks it: fewer is incomplete, more failed
            for r in report.outcomes:
                assert r.declared is not None or r.outcome == "empty", (
                    f"{r.target}: complete, but declared no total (Target.declare)"
                )
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
            assert paper.title and paper.key and paper.source == self.source_class.name, paper
            missing = [f for f in self.required_fields if getattr(paper, f) in (None, "", [], {})]
            assert not missing, f"{paper.source_ref}: missing {missing}"

    def test_source_ref_says_where_each_record_came_from(self):
        targets = [t.id for t in self.source(self.sample_inputs).targets()]
        names = {Path(t).name for t in targets} | set(targets)
        for paper in self.harvest_samples().papers:
            assert any(n in paper.source_ref for n in names), (
                f"source_ref {paper.source_ref!r} names none of {sorted(names)}"
            )

    def test_bad_input_fails_with_a_location(self):
        if not (self.bad_inputs or self.cut_inputs):
            pytest.skip(f"{type(self).__name__} defines no bad_inputs")
        for cut in self.cut_inputs:  # cut midway: incomplete or failed, never complete
            out = harvest(self.source([cut]))
            assert out.report is not None
            ended = [(r.target, str(r.outcome)) for r in out.report.outcomes]
            assert all(o in ("incomplete", "failed") for _, o in ended), f"{cut}: {ended}"
            if not self.source_class.publish_incomplete:
                assert not out.papers, f"{cut}: {len(out.papers)} papers published"
        for bad in self.bad_inputs:
            name = Path(str(bad)).name
            out = harvest(self.source([bad]))
            failures = [
                f"{r.target}: {r.outcome}: {r.reason}"
                for r in out.report.outcomes
                if r.outcome not in ("complete", "empty", "skipped")
            ]
            if out.report.error:
                failures.append(out.report.error)
            located = [f for f in failures if name in f]
            rejected = [r for r in out.rejected if name in r.source_ref and r.reason]
            assert located or rejected, (
                f"{bad}: neither failed naming it nor rejected an entry naming it "
                f"(failed: {failures}, rejected: {[r.source_ref for r in out.rejected]})"
            )
            assert not out.papers or rejected or located

    def test_memory_stays_bounded_on_a_large_input(self, tmp_path: Path):
        counts: dict[str, int] = {}

        def measure(label: str, scale: int) -> int:
            directory = tmp_path / label
            directory.mkdir()
            inputs = self.make_large_input(directory, scale)

            def go() -> None:
                counts[label] = _count(self.source(inputs))

            return peak_python_memory(go)

        small = measure("small", self.small_scale)
        large = measure("large", self.large_scale)
        assert counts["large"] >= counts["small"] * (self.large_scale / self.small_scale) / 2, (
            f"make_large_input did not scale: {counts}"
        )
        limit = small + self.memory_per_entry * (counts["large"] - counts["small"])
        limit += self.memory_slack
        assert large <= limit, (
            f"peak memory grew with the input: {small} B for {counts['small']} entries, "
            f"{large} B for {counts['large']} (limit {limit:.0f} B)"
        )

    def test_text_is_clean(self):
        """Records come out clean; a `trusted` source must yield them clean itself (the core
        then only checks them cheaply)."""
        if self.source_class.trusted:
            papers = [p for p in read_raw(self.source(self.sample_inputs)) if isinstance(p, Paper)]
        else:
            papers = self.harvest_samples().papers
        assert papers, "the sample inputs produced no papers"
        for paper in papers:
            assert not unclean_fields(paper), f"{paper.source_ref}: {unclean_fields(paper)}"


def _count(source: Source) -> int:
    """Entries the source yields through the run loop, keeping none of them."""
    return harvest(source, keep=False).report.entries


NOW = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)


def sample_papers(n: int = 3, *, start: int = 0) -> list[Paper]:
    """Finalised papers for sink tests: the first with every field (non-ASCII text, nested
    extra), the others sparse (nulls, empty lists)."""
    papers = []
    for i in range(start, start + n):
        if i == start:
            paper = Paper(
                arxiv_id=f"2601.{i:05d}",
                title=f"Ünïcode title {i} — “quoted” 日本語",
                abstract="An abstract.",
                authors=["Ada Lovelace", "Émile Borel", "李小龙"],
                organization="Org",
                submitted_by="someone",
                published=dt.date(2026, 1, 1),
                published_raw="Jan 1",
                published_inferred=True,
                upvotes=5,
                comments=0,
                listing_date=dt.date(2026, 1, 2),
                url=f"https://arxiv.org/abs/2601.{i:05d}",
                source_ref=f"kit.txt:{i}",
                extra={"kit": {"n": i, "nested": [1, 2.5, None, True, "ü"]}},
                arxiv_version=2,
                categories=["cs.CL", "cs.AI"],
                doi="10.1000/kit.ü1",
            )
        else:
            paper = Paper(title=f"Paper {i}", source_ref=f"kit.txt:{i}")
        papers.append(_finalised(paper))
    return papers


def _finalised(paper: Paper) -> Paper:
    from .finalise import Finaliser

    clean_fields(paper)
    out = Finaliser("kit", NOW, trusted=False)(paper, "kit.txt")
    assert isinstance(out, Paper), out
    return out


class SinkContract:
    """Contract tests for a `Sink`, driven exactly as a run drives it. Set `sink_class`,
    override `sink_options(directory)` and `read_back(directory)`; set `accumulates = True`
    for a sink whose output keeps earlier runs' records (append logs, upserting databases)."""

    sink_class: ClassVar[type[Sink]]
    accumulates: ClassVar[bool] = False

    def sink_options(self, directory: Path) -> dict[str, Any]:
        """The sink's options (a config table) writing into `directory`."""
        raise NotImplementedError

    def read_back(self, directory: Path) -> list[dict[str, Any]]:
        """The records the output holds, as dicts with at least `key` and `title`."""
        raise NotImplementedError

    def unwritable_output(self, directory: Path) -> tuple[Path, dict[str, Any]]:
        """(base directory, options) under which the sink cannot write. Default: its own
        options below a base directory that is a file. Override for a server (an unused port)."""
        blocker = directory / "blocker"
        blocker.write_text("a file where the sink's base directory should be\n")
        return blocker, self.sink_options(blocker)

    def make_sink(
        self, directory: Path, *, incremental: bool = False, options: dict | None = None
    ) -> Sink:
        raw = options if options is not None else self.sink_options(directory)
        opts = msgspec.convert(raw, self.sink_class.Options)
        context = SinkContext(label="kit", base_dir=directory, incremental=incremental)
        return self.sink_class(opts, context)

    def run(self, directory: Path, batches, outcome=Outcome.DONE, *, resume=None, commit=True):
        """One run of the sink through the run's own `Outputs`; returns the last checkpoint."""
        outputs = Outputs([("kit", self.make_sink(directory))], _Collect(), batch_size=1000)
        outputs.open({"kit": resume} if resume is not None else None, None)
        checkpoint = None
        try:
            for batch in batches:
                for paper in batch:
                    outputs.add(paper)
                outputs.flush()
                if commit:
                    checkpoint = outputs.commit()[0]["kit"]
        except BaseException:
            outputs.close(Outcome.ABANDON, Outcome.ABANDON)
            raise
        outputs.close(outcome, outcome)
        return checkpoint

    def keys(self, directory: Path) -> list[str]:
        return sorted(r["key"] for r in self.read_back(directory))

    def test_open_takes_the_resume_checkpoint_and_commit_returns_json(self, tmp_path: Path):
        checkpoint = self.run(tmp_path, [sample_papers(2)])
        msgspec.json.encode(checkpoint)  # the run saves it in its state

    def test_written_papers_read_back(self, tmp_path: Path):
        papers = sample_papers(3)
        self.run(tmp_path, [papers[:1], papers[1:]])
        got = sorted((r["key"], r["title"]) for r in self.read_back(tmp_path))
        expected = sorted((p.key, p.title) for p in papers)
        assert got == expected, f"read back {got}, expected {expected}"

    def test_an_abandoned_run_keeps_the_previous_output(self, tmp_path: Path):
        first = sample_papers(2)
        self.run(tmp_path, [first])
        self.run(tmp_path, [sample_papers(2, start=10)], Outcome.ABANDON, commit=False)
        got, expected = self.keys(tmp_path), sorted(p.key for p in first)
        assert got == expected, f"read back {got}, expected the previous output {expected}"

    def test_a_suspended_run_resumes_from_its_checkpoint(self, tmp_path: Path):
        kept, dropped, later = (
            sample_papers(2),
            sample_papers(2, start=10),
            sample_papers(2, start=20),
        )
        outputs = Outputs([("kit", self.make_sink(tmp_path))], _Collect(), batch_size=1000)
        outputs.open(None, None)
        for paper in kept:
            outputs.add(paper)
        checkpoint = outputs.commit()[0]["kit"]
        for paper in dropped:
            outputs.add(paper)
        outputs.flush()  # written, never committed: the resume must drop it
        outputs.close(Outcome.SUSPEND, Outcome.SUSPEND)
        resumed = msgspec.json.decode(msgspec.json.encode(checkpoint))  # as saved in the state
        self.run(tmp_path, [later], resume=resumed)
        got, expected = self.keys(tmp_path), sorted(p.key for p in [*kept, *later])
        assert got == expected, f"read back {got}, expected {expected}"

    def test_a_second_run_replaces_or_accumulates(self, tmp_path: Path):
        first, second = sample_papers(2), sample_papers(2, start=10)
        self.run(tmp_path, [first])
        self.run(tmp_path, [second])
        expected = [*first, *second] if self.accumulates else second
        got, want = self.keys(tmp_path), sorted(p.key for p in expected)
        assert got == want, f"read back {got}, expected {want}"

    def test_an_unwritable_output_is_an_output_error(self, tmp_path: Path):
        directory, options = self.unwritable_output(tmp_path)
        sink = self.make_sink(directory, options=options)
        outputs = Outputs([("kit", sink)], _Collect(), batch_size=1000)
        with pytest.raises(OutputError):
            try:
                outputs.open(None, None)
                outputs.add(sample_papers(1)[0])
                outputs.commit()
            finally:
                outputs.close(Outcome.ABANDON, Outcome.ABANDON)
