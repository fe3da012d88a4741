"""The checks of a source that read its fixtures once each: options, expected records and
their schema, outcomes, clean and typed text, locations, pages that are not listings, cut
inputs. (Re-runs and resumes: `resume`; politeness: `politeness`.)"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import msgspec

from ..api import Source, SourceOptions, Target
from ..config import convert
from ..errors import ConfigError, HarvesterError
from ..finalise import looks_final
from ..outcomes import TargetOutcome
from ..schema import Paper, Rejected
from ..validate import validate_line
from .harness import harvest
from .pages import write_pages
from .records import differences, incompatible, load_expected
from .result import CheckFailed, NotApplicable
from .samples import unclean_fields
from .server import ALLOW_ALL, CheckServer
from .spec import resolve
from .subject import SITE, Reading, SourceSubject

UNKNOWN = "no_such_option_harvester_check"
PUBLISHED = (TargetOutcome.COMPLETE, TargetOutcome.EMPTY)


def check_options_load(
    cls: Any, base_cls: type, options_base: type, base: dict[str, Any], bad: list[Mapping]
) -> None:
    """What `options` checks for a source or a sink class (`base_cls`: Source or Sink)."""
    kind = base_cls.__name__.lower()
    if not (isinstance(cls, type) and issubclass(cls, base_cls)):
        raise CheckFailed(f"a {base_cls.__name__} subclass", repr(cls))
    name, options = getattr(cls, "name", None), getattr(cls, "Options", None)
    if not (isinstance(name, str) and name):
        raise CheckFailed("a `name` (what configs use)", "none")
    if not (isinstance(options, type) and issubclass(options, options_base)):
        raise CheckFailed(f"Options a subclass of {options_base.__name__}", repr(options))
    key = f"{kind}s.{name}"
    try:
        convert(base, options, file="<check>", key=key)
    except ConfigError as exc:
        raise CheckFailed("the declared options load", str(exc)) from None
    problems = []
    for table in [{UNKNOWN: 1}, *bad]:
        try:
            convert({**base, **table}, options, file="<check>", key=key)
        except ConfigError as exc:
            if not any(name in str(exc) for name in table):
                problems.append(f"{dict(table)}: refused, but the message names none of it: {exc}")
            continue
        problems.append(f"{dict(table)}: accepted when the run is built")
    if problems:
        raise CheckFailed(
            "a misspelt or bad option to fail when the run is built, naming it",
            problems[0],
            problems,
        )


def check_options(s: SourceSubject) -> None:
    base = {**s.options, "inputs": []}
    if s.served:  # what points the source at its site belongs to its options
        reading = s.site_options(SITE)
        base = {**s.options, **reading.options, "inputs": reading.inputs}
    check_options_load(s.cls, Source, SourceOptions, base, list(s.spec.bad_options))


def _cases(s: SourceSubject):
    if not s.cases:
        raise CheckFailed(
            "fixtures: check = SourceCheck(fixtures=[...]) naming folders of inputs",
            "no fixture declared",
        )
    return s.cases


def check_expected_records(s: SourceSubject) -> None:
    problems = []
    for case in _cases(s):
        got = s.records(case, s.fresh(case).papers)
        expected = load_expected(case.expected)
        if expected is None:
            problems.append(
                f"{case.name}: no {case.expected.name}: write it with --update-expected"
            )
            continue
        found = differences(expected, got, ordered=s.spec.ordered)
        problems += [f"{case.name}: {line}" for line in found]
    if problems:
        raise CheckFailed(
            "each fixture read to its expected_records.jsonl, field by field",
            f"{len(problems)} difference(s)",
            problems,
        )


def check_schema(s: SourceSubject) -> None:
    problems, compared = [], 0
    for case in _cases(s):
        expected = load_expected(case.expected)
        if expected is None:
            continue
        compared += 1
        got = s.records(case, s.fresh(case).papers)
        problems += [f"{case.name}: {p}" for p in incompatible(expected, got)]
    if not compared:
        raise NotApplicable("no expected records yet")
    if problems:
        raise CheckFailed(
            "every field of the expected records still there, with the same type",
            f"{len(problems)} incompatible field(s)",
            problems,
        )


def check_outcomes(s: SourceSubject) -> None:
    problems = []
    for case in _cases(s):
        report = s.fresh(case).report
        assert report is not None
        if report.error:
            problems.append(f"{case.name}: the source could not run: {report.error}")
            continue
        ended = [r.target for r in report.outcomes]
        if len(ended) != len(set(ended)) or len(ended) != report.planned or not ended:
            problems.append(f"{case.name}: {report.planned} target(s) planned, ended: {ended}")
        for r in report.outcomes:
            if not isinstance(r.outcome, TargetOutcome) or r.outcome not in PUBLISHED:
                problems.append(f"{case.name}: {r.target}: ended {r.outcome}: {r.reason}")
            elif s.spec.declares_totals and r.outcome == "complete" and r.declared is None:
                problems.append(f"{case.name}: {r.target}: complete, declared no total")
    if problems:
        raise CheckFailed(
            "every target ends once, complete or empty"
            + (", complete ones with a declared total" if s.spec.declares_totals else ""),
            problems[0],
            problems,
        )


def check_clean_typed(s: SourceSubject) -> None:
    encode = msgspec.json.Encoder().encode
    problems = []
    for case in _cases(s):
        for paper in s.fresh(case).papers:
            for name, problem in validate_line(encode(paper)):
                problems.append(f"{paper.source_ref}: {name}: {problem}")
            problems += [f"{paper.source_ref}: {f} is not clean" for f in unclean_fields(paper)]
        if s.cls.trusted:
            problems += _untrusted(s.read(s.reading(case)))
    if problems:
        raise CheckFailed(
            "clean, typed records"
            + (" (trusted: yielded so by the source itself)" if s.cls.trusted else ""),
            problems[0],
            problems,
        )


def _untrusted(source: Source) -> list[str]:
    """Papers a trusted source yields that are not already clean and exactly typed."""
    problems = []
    for given in source.targets():
        target = given if isinstance(given, Target) else Target(str(given))
        try:
            target.fetched = source.fetch(target)
            items = list(source.read(target))
        except HarvesterError:
            continue  # a failing target is the outcome checks' business
        for item in items:
            if isinstance(item, Paper) and not looks_final(item):
                bad = unclean_fields(item) or ["a field of the wrong type"]
                problems.append(f"{item.source_ref}: trusted, but yielded {', '.join(bad)}")
    return problems


def check_located(s: SourceSubject) -> None:
    problems = []
    for case in _cases(s):
        out = s.fresh(case)
        assert out.report is not None
        targets = [r.target for r in out.report.outcomes]
        names = {Path(t).name for t in targets} | set(targets)
        items: list[Paper | Rejected] = [*out.papers, *out.rejected]
        for item in items:
            if not any(n and n in item.source_ref for n in names):
                problems.append(f"{item.source_ref!r} names none of {sorted(names)}")
        problems += [
            f"{r.source_ref}: a reject without a reason" for r in out.rejected if not r.reason
        ]
    if problems:
        raise CheckFailed(
            "every record and reject naming the target it came from, rejects with a reason",
            problems[0],
            problems,
        )


def not_listing_pages(s: SourceSubject) -> list[Path]:
    pages = [resolve(s.folder, p) for p in s.spec.not_listings]
    if s.spec.generated_not_listings:
        suffix = Path(s.cases[0].inputs[0]).suffix if s.cases and not s.served else ".html"
        directory = s.scratch("not-listings")
        pages += [directory / name for name in write_pages(directory, suffix)]
    return pages


def check_not_listings(s: SourceSubject) -> None:
    pages = not_listing_pages(s)
    if not pages:
        raise NotApplicable("no not_listings declared, generated_not_listings = False")
    problems = []
    for page in pages:
        with _read_instead(s, page) as reading:
            out = harvest(s.read(reading))
        problems += _read_as_listing(page.name, out, allow_papers=False)
    if problems:
        raise CheckFailed(
            "no papers from an empty page, an error page or a login wall: each target ends "
            "failed or incomplete, with its reason",
            problems[0],
            problems,
        )


@contextlib.contextmanager
def _read_instead(s: SourceSubject, page: Path) -> Iterator[Reading]:
    """Reading `page` instead of a fixture: the file itself; for served fixtures, a site that
    answers with it (a folder: its files; a file: at every path of the first case)."""
    if not s.served:
        yield Reading(page.parent, [page.name])
        return
    if page.is_dir():
        routes = {f"/cut/{p.name}": p.read_bytes() for p in page.iterdir() if p.is_file()}
        prefix = "/cut"
    else:
        routes = {f"/page/{file}": page.read_bytes() for file in s.cases[0].inputs}
        prefix = "/page"
    with CheckServer(routes, robots=ALLOW_ALL, retry_after=None) as server:
        yield s.site_options(server.url(prefix))


def _read_as_listing(name: str, out, *, allow_papers: bool) -> list[str]:
    report = out.report
    if report.error:
        return []  # the source refused to run on it: nothing was read as a listing
    problems = []
    if not report.outcomes:
        problems.append(f"{name}: no target ended (the source did not read it)")
    for r in report.outcomes:
        if r.outcome in (*PUBLISHED, TargetOutcome.SKIPPED) or not r.reason:
            problems.append(f"{name}: ended {r.outcome} ({r.reason}), not failed or incomplete")
    if out.papers and not allow_papers:
        titles = [p.title for p in out.papers[:3]]
        problems.append(f"{name}: {len(out.papers)} paper(s) published: {titles}")
    return problems


def check_cut(s: SourceSubject) -> None:
    if not s.spec.cut:
        raise NotApplicable("no cut inputs declared")
    problems = []
    for name in s.spec.cut:
        page = resolve(s.folder, name)
        with _read_instead(s, page) as reading:
            out = harvest(s.read(reading))
        problems += _read_as_listing(page.name, out, allow_papers=s.cls.publish_incomplete)
    if problems:
        raise CheckFailed("inputs cut midway never complete", problems[0], problems)
