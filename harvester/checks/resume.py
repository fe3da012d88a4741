"""The checks of a source across runs, through the real run loop with a real state directory:
a re-run over the same inputs, a run stopped midway and resumed, targets read again with a memo
another version of the plugin wrote, and a damaged or future-version state."""

from __future__ import annotations

import datetime as dt
import json

from ..config import RunSettings
from ..errors import StateError
from ..outcomes import TargetOutcome
from ..report import RunReport
from ..schema import Paper
from ..state import StateStore
from .harness import LogSink, execute
from .records import as_records, differences
from .result import CheckFailed, NotApplicable
from .subject import Reading, SourceSubject

# What another version of the plugin could have remembered about a target: its own keys with
# values of another format, and keys of its own.
FOREIGN_VALUE = "written by another version \u2603"
FOREIGN_MEMO = {
    "etag": 'W/"written-by-another-version"',
    "last_modified": "not a date",
    "next": "not-a-number",
    "page": "-1",
    "token": "\u2603 a token of another format",
    "version": "999",
}
PUBLISHED = (TargetOutcome.COMPLETE, TargetOutcome.EMPTY)


def _run(s: SourceSubject, reading: Reading, log: list[Paper], **kw) -> RunReport:
    source = s.read(reading)
    return execute([(source.name, source)], [("check", LogSink(log))], reading.base, **kw)


def _unfinished(report: RunReport, ok=PUBLISHED) -> list[str]:
    return [
        f"{r.target}: {r.outcome} ({r.reason})"
        for src in report.sources
        for r in src.outcomes
        if r.outcome not in ok
    ] + [f"the source could not run: {src.error}" for src in report.sources if src.error]


def check_rerun(s: SourceSubject) -> None:
    reading = s.combined("rerun")
    state, log = s.scratch("rerun-state"), list[Paper]()
    first = _run(s, reading, log, state=state)
    if bad := _unfinished(first):
        raise CheckFailed("the first run to finish every target", bad[0], bad)
    before = as_records(log, s.spec.volatile)
    second = _run(s, reading, log, state=state)
    problems = _read_again(first, second)
    again = {json.dumps(r, sort_keys=True) for r in before}
    for record in as_records(log[len(before) :], s.spec.volatile):
        if json.dumps(record, sort_keys=True) not in again:
            problems.append(f"published again, not as before: {record.get('source_ref')}")
    if problems:
        raise CheckFailed(
            "a second run over the same inputs to skip what the first did (and publish nothing "
            "new)",
            problems[0],
            problems,
        )


def _read_again(first: RunReport, second: RunReport) -> list[str]:
    """Targets the second run read although the first finished them and they are not recent
    enough to be read again (the run's refresh window)."""
    known = {r.target for src in first.sources for r in src.outcomes}
    window = RunSettings().refresh_days
    today = dt.datetime.now(dt.UTC).date()
    problems = []
    for r in (r for src in second.sources for r in src.outcomes):
        if r.outcome is TargetOutcome.SKIPPED:
            continue
        if r.target not in known:
            problems.append(f"{r.target}: a target the first run did not have (is its id stable?)")
        elif not (isinstance(r.day, dt.date) and (today - r.day).days <= window):
            problems.append(f"{r.target}: read again ({r.outcome}), not skipped")
    return problems


def check_resume_midrun(s: SourceSubject) -> None:
    reading = s.combined("midrun")
    whole: list[Paper] = []
    report = _run(s, reading, whole)
    if sum(len(src.outcomes) for src in report.sources) < 2:
        raise NotApplicable("the fixtures give one target: a stop after the first ends nothing")
    state, log = s.scratch("midrun-state"), list[Paper]()
    stopped = _run(s, reading, log, state=state, stop_after=1)
    ended = [r.outcome for src in stopped.sources for r in src.outcomes]
    if TargetOutcome.STOPPED not in ended:
        raise CheckFailed("a run stopped after its first target", f"targets ended {ended}")
    resumed = _run(s, reading, log, state=state)
    problems = [f"resumed: {p}" for p in _unfinished(resumed, (*PUBLISHED, TargetOutcome.SKIPPED))]
    seen = [(p.source_ref, p.key) for p in log]
    problems += [
        f"published twice: {ref} {key}" for ref, key in set(seen) if seen.count((ref, key)) > 1
    ]
    problems += differences(
        as_records(whole, s.spec.volatile), as_records(log, s.spec.volatile), ordered=False
    )
    if problems:
        raise CheckFailed(
            "a run stopped after one target, then resumed, to publish what one whole run does, "
            "each record once",
            problems[0],
            problems,
        )


def check_foreign_memo(s: SourceSubject) -> None:
    reading = s.combined("memo")
    state, log = s.scratch("memo-state"), list[Paper]()
    first = _run(s, reading, log, state=state)
    if bad := _unfinished(first):
        raise CheckFailed("the first run to finish every target", bad[0], bad)
    before = as_records(log, s.spec.volatile)
    store = StateStore(state)
    saved = store.load()
    for source in saved.sources.values():
        for entry in source.done.values():
            entry.memo = {**{k: FOREIGN_VALUE for k in entry.memo}, **FOREIGN_MEMO}
            entry.fingerprint = "changed by harvester check"
    store.compact(saved)
    second = _run(s, reading, log, state=state, refresh=True)
    problems = _unfinished(second)
    problems += differences(before, as_records(log[len(before) :], s.spec.volatile), ordered=False)
    if problems:
        raise CheckFailed(
            "targets read again with a memo another version wrote (target.memo) to read as before",
            problems[0],
            problems,
        )


def check_damaged_state(s: SourceSubject) -> None:
    reading = s.combined("damaged")
    problems = []
    for what, content in (
        ("a damaged state", b'{"version": 2, "sources": {"x": [not json'),
        ("a state of a future version", b'{"version": 99, "sources": {}}'),
    ):
        state = s.work / "damaged-state"
        state.mkdir(exist_ok=True)
        (state / "state.json").write_bytes(content)
        sink = LogSink([])
        source = s.read(reading)
        try:
            execute([(source.name, source)], [("check", sink)], reading.base, state=state)
        except StateError as exc:
            if str(state) not in str(exc):
                problems.append(f"{what}: the error does not name the state: {exc}")
        else:
            problems.append(f"{what}: the run went on")
        if sink.opened:
            problems.append(f"{what}: the outputs were opened before the state was read")
    if problems:
        raise CheckFailed(
            "a damaged or future-version state to stop the run, naming it, before any output opens",
            problems[0],
            problems,
        )
