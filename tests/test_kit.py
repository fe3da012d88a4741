"""The plugin test kit holds sinks and sources to the lifecycle a run really drives: a sink
written to the old documented shape (`open(self)`) fails the kit, as it would fail a run."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from harvester import InputError, Outcome, Paper, Sink, Source, Target
from harvester.errors import SinkError
from harvester.normalise import clean_text
from harvester.testkit import (
    SinkContract,
    SourceContract,
    harvest,
    make_source,
    read_raw,
    sample_papers,
)


class OldShapeSink(Sink):
    """A sink as the old guide showed it: `open(self)`, `close(ok=True)`."""

    name = "old-shape"

    def open(self):  # no resume argument
        self.path = self.context.resolve("out.jsonl")
        self.file = open(self.path, "w", encoding="utf-8")  # noqa: SIM115

    def write(self, papers):
        for paper in papers:
            self.file.write(json.dumps({"key": paper.key, "title": paper.title}) + "\n")

    def close(self, ok=True):
        self.file.close()


class OldShapeContract(SinkContract):
    sink_class = OldShapeSink

    def sink_options(self, directory: Path) -> dict:
        return {}

    def read_back(self, directory: Path) -> list[dict]:
        path = directory / "out.jsonl"
        return [json.loads(x) for x in path.read_text().splitlines()] if path.exists() else []


def test_the_kit_fails_a_sink_whose_open_takes_no_resume(tmp_path):
    with pytest.raises(SinkError, match=r"sink 'kit': open failed: TypeError"):
        OldShapeContract().test_written_papers_read_back(tmp_path)


def test_the_kit_fails_a_sink_that_does_not_cut_back_on_resume(tmp_path):
    class NoResume(OldShapeSink):
        def open(self, resume=None):
            self.path = self.context.resolve("out.jsonl")
            self.file = open(self.path, "a", encoding="utf-8")  # noqa: SIM115

        def commit(self):
            self.file.flush()
            return {"size": self.path.stat().st_size}

        def close(self, outcome):
            self.file.close()

    class Contract(OldShapeContract):
        sink_class = NoResume
        accumulates = True

    with pytest.raises(AssertionError):  # the uncommitted batch survives the resume
        Contract().test_a_suspended_run_resumes_from_its_checkpoint(tmp_path)


class Dirty(Source):
    """Claims to be trusted, yet yields text with control characters and runs of spaces."""

    name = "dirty"
    trusted = True

    def read(self, target):
        yield Paper(title="  A\x1b[31m  title\x07 ", abstract="x\u00a0y", source_ref=f"{target}:1")
        yield Paper(title="Clean title", upvotes="7", source_ref=f"{target}:2")  # type: ignore[arg-type]


def test_a_wrongly_trusted_source_cannot_write_unchecked_records(caplog):
    out = harvest(make_source(Dirty, ["in.txt"]))
    [paper] = out.papers
    assert (paper.title, paper.abstract) == ("A[31m title", "x y")
    [reject] = out.rejected
    assert reject.source_ref == "in.txt:2" and "upvotes" in reject.reason
    assert "is trusted but yielded a record that is not clean" in caplog.text


def test_author_count_comes_from_a_full_author_list():
    class Authors(Source):
        name = "authors"

        def read(self, target):
            yield Paper(title="T", authors=["A", "B", "C"], source_ref="x:1")
            yield Paper(title="U", authors=["A"], author_count=9, source_ref="x:2")

    papers = harvest(make_source(Authors, ["x"])).papers
    assert [p.author_count for p in papers] == [3, 9]  # a shown count wins over a partial list


def test_sample_papers_are_finalised():
    for paper in sample_papers(3):
        assert isinstance(paper, Paper) and paper.key and paper.harvested_at and paper.source
    assert Outcome.DONE == "done"


class PlainTargets(Source):
    """A trusted source whose `targets()` gives plain strings, as the API allows."""

    name = "plain-targets"
    trusted = True

    def targets(self):
        return [str(given) for given in self.options.inputs]

    def read(self, target):
        assert isinstance(target, Target), target  # the run (and the kit) hand it a Target
        path = Path(target.id)
        if not path.is_file():
            raise InputError(target.id, "no such file")
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            if line.strip():
                yield Paper(title=clean_text(line), source_ref=f"{target.id}:{number}")


PLAIN = Path(__file__).parent / "fixtures" / "kit" / "plain-titles.txt"


class TestPlainStringTargetsPassTheKit(SourceContract):
    """Every contract test, `test_text_is_clean` (read_raw) and the source_ref test included,
    on a source whose targets are plain strings."""

    source_class = PlainTargets
    sample_inputs = (PLAIN,)
    bad_inputs = (PLAIN.with_name("missing.txt"),)
    expected_records = 2

    def make_large_input(self, directory, scale):
        path = directory / "many.txt"
        path.write_text("".join(f"Title number {i}\n" for i in range(100 * scale)))
        return [str(path)]


def test_read_raw_takes_plain_string_targets():
    items = read_raw(make_source(PlainTargets, [PLAIN]))
    assert [(p.title, p.source_ref) for p in items] == [
        ("Attention Is All You Need", f"{PLAIN}:1"),
        ("Deep Residual Learning", f"{PLAIN}:3"),
    ]
