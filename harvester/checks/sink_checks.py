"""The checks of a sink, driven as a real run drives it (`harvester.run.Run`, with and without
state, stopped and resumed) and, where a check must look between two calls, through the run's
own `Outputs`: the sink's four methods, what is visible before a commit, re-writes, `replaces`,
an output it cannot write, and what the kit's sample papers read back to."""

from __future__ import annotations

import contextlib
import copy
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import msgspec

from ..api import Outcome, Sink, SinkOptions, Source, SourceContext, Target
from ..errors import HarvesterError, InputError, OutputError
from ..outputs import Outputs
from ..report import RunReport
from ..schema import Paper
from .harness import Collect, execute
from .records import as_records, differences, load_expected
from .result import CheckFailed, NotApplicable
from .samples import raw_papers, sample_papers
from .source_checks import check_options_load
from .spec import resolve
from .subject import SinkSubject


class PaperSource(Source):
    """Yields the given papers, one batch per target; `fail`: every target fails instead."""

    name = "check-papers"

    def __init__(self, batches: Sequence[Sequence[Paper]], *, fail: bool = False):
        super().__init__(self.Options(), SourceContext(label="check-papers"))
        self.batches, self.fail = batches, fail

    def targets(self) -> list[Target]:
        return [Target(f"batch-{i}") for i in range(len(self.batches))]

    def read(self, target: Target):
        if self.fail:
            raise InputError(target.id, "failed on purpose by the check")
        yield from (copy.deepcopy(p) for p in self.batches[int(target.id.split("-")[1])])


class Probe(Sink):
    """Passes every call to the sink under check and keeps the checkpoints it returns."""

    name = "check-probe"

    def __init__(self, inner: Sink):
        super().__init__(SinkOptions(), inner.context)
        self.inner, self.checkpoints = inner, list[Any]()

    @property
    def replaces(self) -> bool:
        return self.inner.replaces

    def open(self, resume: Any = None) -> None:
        self.inner.open(resume)

    def write(self, papers: Sequence[Paper]) -> None:
        self.inner.write(papers)

    def commit(self) -> Any:
        checkpoint = self.inner.commit()
        self.checkpoints.append(checkpoint)
        return checkpoint

    def close(self, outcome: Outcome) -> None:
        self.inner.close(outcome)


def _run(
    s: SinkSubject, directory: Path, options: dict, batches, *, state=False, **kw
) -> tuple[RunReport, Probe]:
    sink = Probe(s.sink(directory, options, incremental=state))
    source = PaperSource(batches, fail=kw.pop("fail", False))
    where = directory / ".state" if state else None
    report = execute([(source.name, source)], [("check", sink)], directory, state=where, **kw)
    return report, sink


def _keys(papers: Sequence[Paper]) -> list[str]:
    return sorted(p.key for p in papers)


def _declared(s: SinkSubject) -> None:
    if s.spec.read_back is None:
        raise CheckFailed(
            "check = SinkCheck(options=..., read_back=...) on the sink class", "no read_back"
        )


def check_sink_options(s: SinkSubject) -> None:
    check_options_load(s.cls, Sink, SinkOptions, dict(s.options), list(s.spec.bad_options))


def check_lifecycle(s: SinkSubject) -> None:
    _declared(s)
    papers, raw = sample_papers(3), raw_papers(3)
    problems = []
    with s.output() as (directory, options):
        _, probe = _run(s, directory, options, [raw[:2], raw[2:]], state=True)
        for checkpoint in probe.checkpoints:
            try:
                msgspec.json.encode(checkpoint)
            except (TypeError, msgspec.EncodeError) as exc:
                problems.append(f"commit() returned {checkpoint!r}, not JSON-able: {exc}")
        got = sorted((str(r.get("key")), r.get("title")) for r in s.read_back(directory, options))
        want = sorted((p.key, p.title) for p in papers)
        if got != want:
            problems.append(f"read back {got}, expected {want}")
    if problems:
        raise CheckFailed(
            "a run's papers (key, title) read back after DONE, its checkpoints JSON-able",
            problems[0],
            problems,
        )


def check_sink_expected(s: SinkSubject) -> None:
    _declared(s)
    if s.spec.expected is None:
        raise NotApplicable("no expected records declared (SinkCheck(expected=...))")
    path = resolve(s.folder, s.spec.expected)
    expected = load_expected(path)
    if expected is None:
        raise CheckFailed(f"{path}", "no such file: write it with --update-expected")
    got = sink_records(s)
    if problems := differences(expected, got, ordered=False):
        raise CheckFailed(
            f"the sample papers read back as {path.name} says, field by field",
            f"{len(problems)} difference(s)",
            problems,
        )


def sink_records(s: SinkSubject) -> list[dict[str, Any]]:
    """What the kit's sample papers read back to from a new output."""
    with s.output() as (directory, options):
        _run(s, directory, options, [raw_papers(3)])
        return as_records(s.read_back(directory, options), s.spec.volatile)


def check_invisible(s: SinkSubject) -> None:
    _declared(s)
    second = sample_papers(2, start=10)
    problems = []
    with s.output() as (directory, options):
        _run(s, directory, options, [raw_papers(2)])
        before = s.keys(directory, options)
        sink = s.sink(directory, options)
        outputs = Outputs([("check", sink)], Collect(), batch_size=1000)
        outputs.open(None, None)
        try:
            for paper in second:
                outputs.add(paper)
            outputs.flush()
            if (now := s.keys(directory, options)) != before:
                problems.append(f"written, not committed: read back {now}, expected {before}")
            outputs.commit()
            if sink.replaces and (now := s.keys(directory, options)) != before:
                problems.append(f"committed, before DONE (replaces): read back {now}")
        finally:
            outputs.close(Outcome.DONE, Outcome.DONE)
        after = s.keys(directory, options)
        want = _keys(second) if sink.replaces else sorted({*before, *_keys(second)})
        if after != want:
            problems.append(f"after DONE: read back {after}, expected {want}")
    if problems:
        raise CheckFailed(
            "nothing of a run visible before its commit (a replacing output: before DONE)",
            problems[0],
            problems,
        )


def check_suspend_resume(s: SinkSubject) -> None:
    _declared(s)
    batches = [raw_papers(2), raw_papers(2, start=10), raw_papers(2, start=20)]
    every = _keys([*sample_papers(2), *sample_papers(2, start=10), *sample_papers(2, start=20)])
    problems = []
    with s.output() as (directory, options):
        stopped, _ = _run(s, directory, options, batches, state=True, stop_after=1)
        if not stopped.stopped:
            problems.append("the run was not stopped after its first target")
        _run(s, directory, options, batches, state=True)
        got = s.read_back(directory, options)
        keys = sorted(str(r.get("key")) for r in got)
        if keys != every:
            problems.append(f"stopped, then resumed: read back {keys}, expected {every}")
    with s.output() as (directory, options):
        problems += _uncommitted_dropped(s, directory, options)
    if problems:
        raise CheckFailed(
            "a run stopped (SUSPEND) and resumed from its checkpoint: every paper once, nothing "
            "written after the last commit",
            problems[0],
            problems,
        )


def _uncommitted_dropped(s: SinkSubject, directory: Path, options: dict) -> list[str]:
    kept, dropped, later = sample_papers(2), sample_papers(2, start=30), sample_papers(2, start=40)
    outputs = Outputs([("check", s.sink(directory, options, incremental=True))], Collect(), 1000)
    outputs.open(None, None)
    for paper in kept:
        outputs.add(paper)
    checkpoint = outputs.commit()[0]["check"]
    for paper in dropped:
        outputs.add(paper)
    outputs.flush()  # written, never committed
    outputs.close(Outcome.SUSPEND, Outcome.SUSPEND)
    resume = msgspec.json.decode(msgspec.json.encode(checkpoint))
    outputs = Outputs([("check", s.sink(directory, options, incremental=True))], Collect(), 1000)
    outputs.open({"check": resume}, None)
    for paper in later:
        outputs.add(paper)
    outputs.commit()
    outputs.close(Outcome.DONE, Outcome.DONE)
    got, want = s.keys(directory, options), _keys([*kept, *later])
    return (
        []
        if got == want
        else [f"resumed after an uncommitted write: read back {got}, expected {want}"]
    )


def check_abandon(s: SinkSubject) -> None:
    _declared(s)
    problems = []
    with s.output() as (directory, options):
        _run(s, directory, options, [raw_papers(2)])
        before = s.keys(directory, options)
        _run(s, directory, options, [raw_papers(2, start=10)], fail=True)
        if (now := s.keys(directory, options)) != before:
            problems.append(
                f"after a run whose targets all failed: read back {now}, expected {before}"
            )
        _, probe = _run(
            s, directory, options, [raw_papers(1, start=20), raw_papers(1, start=30)], stop_after=1
        )
        now = s.keys(directory, options)
        if probe.replaces and now != before:
            problems.append(
                f"after a stopped run without state: read back {now}, expected {before}"
            )
        if not set(before) <= set(now):
            problems.append(
                f"after a stopped run without state: lost {sorted(set(before) - set(now))}"
            )
        late = _keys(sample_papers(1, start=30))
        if set(late) & set(now):
            problems.append(f"after a stopped run: {late} of a target never read is there")
    if problems:
        raise CheckFailed(
            "an abandoned run (ABANDON) to leave the previous output as it was",
            problems[0],
            problems,
        )


def check_rewrite(s: SinkSubject) -> None:
    _declared(s)
    if s.spec.appends:
        raise NotApplicable("declared an append log (appends=True)")
    with s.output() as (directory, options):
        _run(s, directory, options, [raw_papers(3)])
        first = as_records(s.read_back(directory, options), s.spec.volatile)
        _run(s, directory, options, [raw_papers(3)])
        second = as_records(s.read_back(directory, options), s.spec.volatile)
    problems = differences(first, second, ordered=False)
    if problems:
        raise CheckFailed(
            "writing the same papers again to leave the output as it was", problems[0], problems
        )


def check_replaces(s: SinkSubject) -> None:
    _declared(s)
    with s.output() as (directory, options):
        _run(s, directory, options, [raw_papers(2)])
        _, probe = _run(s, directory, options, [raw_papers(2, start=10)])
        keys = s.keys(directory, options)
    first = _keys(sample_papers(2))
    second = _keys(sample_papers(2, start=10))
    if probe.replaces and keys != second:
        raise CheckFailed(f"replaces = True: only the second run's {second}", f"{keys}")
    if not probe.replaces and not set(first + second) <= set(keys):
        raise CheckFailed(f"replaces = False: both runs' {sorted(first + second)}", f"{keys}")


def check_unwritable(s: SinkSubject) -> None:
    directory = s.work / "unwritable"
    directory.mkdir(parents=True, exist_ok=True)
    if s.spec.unwritable is not None:
        options = {**s.options, **s.spec.unwritable}
    else:
        directory = directory / "blocker"
        directory.write_text("a file where the sink's base directory should be\n")
        options = dict(s.options)
    outputs = Outputs([("check", s.sink(directory, options))], Collect(), batch_size=1000)
    try:
        outputs.open(None, None)
    except OutputError:
        return
    except HarvesterError as exc:
        raise CheckFailed("an OutputError when it opens", f"{type(exc).__name__}: {exc}") from None
    got = "open() succeeded"
    try:
        outputs.add(sample_papers(1)[0])
        outputs.commit()
        got += ", and so did write() and commit(): the papers went nowhere"
    except HarvesterError as exc:
        got += f"; it failed later: {exc}"
    finally:
        with contextlib.suppress(HarvesterError):
            outputs.close(Outcome.ABANDON, Outcome.ABANDON)
    raise CheckFailed("an unwritable output to fail when it opens (an OutputError)", got)
