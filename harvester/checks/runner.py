"""Running the checks of a plugin: find its classes by name, build what they declared, run every
check (each verdict caught: a crash in the plugin is a failed check, never a traceback), and, on
request, rewrite the expected records first, saying what changed."""

from __future__ import annotations

import contextlib
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from ..api import Sink, Source
from ..errors import PluginError, UsageError
from ..plugins import load_plugins
from . import politeness, resume, sink_checks, source_checks
from .records import differences, incompatible, load_expected, write_expected
from .result import CheckFailed, CheckResult, NotApplicable, PluginReport, Status
from .spec import SinkCheck, SourceCheck, declared_check, resolve
from .subject import SinkSubject, SourceSubject, find_cases

Check = tuple[str, str, Callable[[Any], None]]

SOURCE_CHECKS: list[Check] = [
    ("options", "a bad option fails when the run is built, naming it", source_checks.check_options),
    (
        "expected-records",
        "the fixtures read to their expected_records.jsonl, field by field",
        source_checks.check_expected_records,
    ),
    (
        "schema",
        "no field of the expected records disappears or changes type",
        source_checks.check_schema,
    ),
    (
        "outcomes",
        "every target ends once, with an outcome of the vocabulary (totals where declared)",
        source_checks.check_outcomes,
    ),
    ("clean-typed", "records are clean text and typed", source_checks.check_clean_typed),
    ("located", "records and rejects name the target they came from", source_checks.check_located),
    (
        "not-a-listing",
        "an empty page, an error page, a login wall: no papers, and not '0 papers, ok'",
        source_checks.check_not_listings,
    ),
    ("cut-short", "inputs cut midway never end complete", source_checks.check_cut),
    ("rerun", "a re-run over the same inputs reads and publishes nothing new", resume.check_rerun),
    (
        "resume",
        "a run stopped midway resumes to the same records, none twice",
        resume.check_resume_midrun,
    ),
    ("foreign-memo", "a memo another version wrote is read past", resume.check_foreign_memo),
    (
        "damaged-state",
        "a damaged or future-version state stops the run before any output",
        resume.check_damaged_state,
    ),
    (
        "politeness",
        "a 429's Retry-After waited out; robots.txt obeyed",
        politeness.check_politeness,
    ),
]

SINK_CHECKS: list[Check] = [
    (
        "options",
        "a bad option fails when the run is built, naming it",
        sink_checks.check_sink_options,
    ),
    (
        "lifecycle",
        "a run's papers read back after DONE; checkpoints JSON-able",
        sink_checks.check_lifecycle,
    ),
    (
        "expected-records",
        "the sample papers read back to expected_records.jsonl",
        sink_checks.check_sink_expected,
    ),
    (
        "invisible-before-commit",
        "nothing of a run visible before it commits",
        sink_checks.check_invisible,
    ),
    (
        "suspend-resume",
        "a stopped run resumes from its checkpoint, every paper once",
        sink_checks.check_suspend_resume,
    ),
    ("abandon", "an abandoned run leaves the previous output as it was", sink_checks.check_abandon),
    ("rewrite", "writing the same papers again changes nothing", sink_checks.check_rewrite),
    ("replaces", "`replaces` says what a second run does", sink_checks.check_replaces),
    ("unwritable", "an output it cannot write fails when it opens", sink_checks.check_unwritable),
]


def find_classes(name: str) -> list[tuple[type, str | None]]:
    """The source and sink classes `name` stands for: an installed plugin (its entry-point name:
    every class it registers) or a source or sink name; with the plugin that registers each.
    Names are looked up through the registry's own lookups, which load what they need."""
    registry = load_plugins()
    for _ in range(2):  # a lookup that misses loads what was not loaded yet: look again
        info = next((p for p in registry.plugins if p.plugin == name), None)
        if info is not None:
            return _registered_by(registry, info)
        for kind, lookup in (("source", registry.source), ("sink", registry.sink)):
            try:
                cls = lookup(name)
            except PluginError:
                continue
            return [(cls, registry.owners.get((kind, name)))]
    known = sorted({*registry.sources, *registry.sinks, *(p.plugin for p in registry.plugins)})
    raise PluginError(f"no plugin, source or sink named {name!r} (installed: {', '.join(known)})")


def _registered_by(registry: Any, info: Any) -> list[tuple[type, str | None]]:
    if info.error:
        raise PluginError(f"plugin {info.plugin!r} is broken: {info.error}")
    classes = [registry.source(n) for n in info.sources] + [registry.sink(n) for n in info.sinks]
    if not classes:
        raise UsageError(f"plugin {info.plugin!r} registers no source or sink: nothing to check")
    return [(cls, info.plugin) for cls in classes]


def check_class(
    cls: type,
    *,
    options: dict[str, Any] | None = None,
    update_expected: bool = False,
    plugin: str | None = None,
    only: list[str] | None = None,
    timeout: float | None = None,
) -> PluginReport:
    """Every check of a source or sink class; `options` add to (and override) the declared
    ones; `update_expected` rewrites the expected records first. `timeout`: seconds a check may
    take (a plugin that never returns fails it, and the checks after it are not run; its thread
    is left behind, so the caller should end the process soon: `report.stuck`)."""
    is_source = isinstance(cls, type) and issubclass(cls, Source)
    if not is_source and not (isinstance(cls, type) and issubclass(cls, Sink)):
        raise UsageError(f"{cls!r} is neither a Source nor a Sink")
    spec, folder = declared_check(cls)
    report = PluginReport("source" if is_source else "sink", getattr(cls, "name", "?"), plugin)
    checks = SOURCE_CHECKS if is_source else SINK_CHECKS
    with tempfile.TemporaryDirectory(prefix="harvester-check-", ignore_cleanup_errors=True) as work:
        if is_source:
            subject: Any = _source_subject(cls, spec, folder, options, Path(work))
        else:
            subject = _sink_subject(cls, spec, folder, options, Path(work))
        with subject.serving() if is_source else contextlib.nullcontext():
            _run_checks(report, checks, subject, spec, update_expected, only, timeout)
    return report


def _run_checks(
    report: PluginReport,
    checks: list[Check],
    subject: Any,
    spec: Any,
    update_expected: bool,
    only: list[str] | None,
    timeout: float | None,
) -> None:
    """The checks of one class, into `report` (the update of its expected records first)."""
    is_source = report.kind == "source"
    if update_expected and spec is not None:
        update = update_source if is_source else update_sink
        result, report.stuck = bounded("update-expected", "", update, subject, timeout)
        if result.status is Status.FAILED:
            result.about = "the expected records rewritten from what the plugin does now"
            report.results.append(result)
            return
        report.updated = subject.updated
    for name, about, run in checks:
        if only and name not in only:
            continue
        if spec is None and name != "options":
            report.results.append(_undeclared(name, about, is_source))
        elif report.stuck:
            why = "not run: an earlier check did not end"
            report.results.append(CheckResult(name, about, Status.NOT_APPLICABLE, got=why))
        else:
            result, report.stuck = bounded(name, about, run, subject, timeout)
            report.results.append(result)


def bounded(
    name: str, about: str, run: Callable[[Any], None], subject: Any, timeout: float | None
) -> tuple[CheckResult, bool]:
    """`run_one`, on a thread of its own when there is a `timeout`: past it, a failed check
    (and True: its thread still runs)."""
    if timeout is None:
        return run_one(name, about, run, subject), False
    done: list[CheckResult] = []
    worker = threading.Thread(
        target=lambda: done.append(run_one(name, about, run, subject)),
        name=f"harvester-check-{name}",
        daemon=True,
    )
    worker.start()
    worker.join(timeout)
    if done:
        return done[0], False
    expected = f"the check to end within {timeout:g} s (--timeout)"
    got = f"still running after {timeout:g} s (a fetch or read that never returns?)"
    return CheckResult(name, about, Status.FAILED, expected, got, [], timeout), True


def _source_subject(cls, spec, folder, options, work: Path) -> SourceSubject:
    if spec is not None and not isinstance(spec, SourceCheck):
        raise UsageError(f"source {cls.name!r}: `check` must be a SourceCheck, not {spec!r}")
    spec = spec or SourceCheck()
    merged = {**spec.options, **(options or {})}
    return SourceSubject(cls, spec, folder, merged, work, find_cases(folder, list(spec.fixtures)))


def _sink_subject(cls, spec, folder, options, work: Path) -> SinkSubject:
    if spec is not None and not isinstance(spec, SinkCheck):
        raise UsageError(f"sink {cls.name!r}: `check` must be a SinkCheck, not {spec!r}")
    spec = spec or SinkCheck()
    merged = {**spec.options, **(options or {})}
    missing = [n for n in spec.needs if n not in merged]
    if missing:
        given = " ".join(f"--option {n}=..." for n in missing)
        raise UsageError(f"sink {cls.name!r}: its check needs {given}")
    return SinkSubject(cls, spec, folder, merged, work)


def _undeclared(name: str, about: str, is_source: bool) -> CheckResult:
    declaration = (
        "check = SourceCheck(fixtures=[...])" if is_source else "check = SinkCheck(read_back=...)"
    )
    return CheckResult(
        name, about, Status.FAILED, f"`{declaration}` on the class (docs/plugins.md)", "none"
    )


def run_one(name: str, about: str, run: Callable[[Any], None], subject: Any) -> CheckResult:
    started = time.monotonic()
    result = CheckResult(name, about, Status.PASSED)
    try:
        run(subject)
    except CheckFailed as failed:
        result.status, result.expected = Status.FAILED, failed.expected
        result.got, result.details = failed.got, failed.details
    except NotApplicable as why:
        result.status, result.got = Status.NOT_APPLICABLE, str(why)
    except Exception as exc:  # the plugin (or the check) crashed: a failed check, with why
        result.status, result.expected = Status.FAILED, "the check to run through"
        result.got = f"{type(exc).__name__}: {exc}"
    result.seconds = time.monotonic() - started
    return result


def update_source(s: SourceSubject) -> None:
    """Rewrite each case's expected records from what the source reads now; `s.updated`: what
    changed."""
    for case in s.cases:
        new = s.records(case, s.fresh(case).papers)
        s.updated += _rewrite(case.expected, new, s.spec.ordered)


def update_sink(s: SinkSubject) -> None:
    if s.spec.expected is not None and s.spec.read_back is not None:
        new = sink_checks.sink_records(s)
        s.updated += _rewrite(resolve(s.folder, s.spec.expected), new, False)


def _rewrite(path: Path, new: list[dict[str, Any]], ordered: bool) -> list[str]:
    old = load_expected(path)
    if old is None:
        write_expected(path, new)
        return [f"{path}: written, {len(new)} record(s)"]
    changed = differences(old, new, ordered=ordered)
    if not changed:
        return [f"{path}: unchanged"]
    write_expected(path, new)
    lines = [f"{path}: {len(old)} -> {len(new)} record(s), {len(changed)} change(s):"]
    lines += [f"  {line}" for line in changed]
    lines += [f"  INCOMPATIBLE: {line}" for line in incompatible(old, new)]
    return lines
