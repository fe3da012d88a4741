"""Politeness: the source's fixtures served by the check's own server (`server.CheckServer`),
read through a real run. First the site answers the first request with a 429 and a
`Retry-After`: no request may come before it runs out, and the pages are read after it. Then the
site's robots.txt disallows everything: no page may be requested, and no target may end as if
it had been read."""

from __future__ import annotations

from ..api import Source
from ..outcomes import TargetOutcome
from .harness import harvest
from .result import CheckFailed, NotApplicable
from .server import ALLOW_ALL, DISALLOW_ALL, ROBOTS, CheckServer
from .subject import SourceSubject, site_path, site_routes

RETRY_AFTER = 1  # seconds


def fetches(s: SourceSubject) -> bool:
    if s.spec.fetches is not None:
        return s.spec.fetches
    return s.served or s.cls.fetch is not Source.fetch


def _source(s: SourceSubject, server: CheckServer, routes: dict[str, bytes]) -> Source:
    if s.served:  # the first fixture's site
        return s.read(s.site_options(server.url(site_path(s.cases, s.cases[0]))))
    urls = [server.url(path) for path in routes]
    served = dict(s.spec.serve(urls)) if s.spec.serve is not None else {"inputs": urls}
    inputs = served.pop("inputs", [])
    return s.source(s.work, inputs, **served)


def check_politeness(s: SourceSubject) -> None:
    if not fetches(s):
        raise NotApplicable("the source does not fetch (no fetch() of its own)")
    if not s.cases:
        raise CheckFailed("fixtures to serve", "no fixture declared")
    routes = site_routes(s.cases[:1] if s.served else s.cases)
    problems = _after_a_429(s, routes) + _robots_obeyed(s, routes)
    if problems:
        raise CheckFailed(
            f"no request before a 429's Retry-After ({RETRY_AFTER} s) runs out, the pages read "
            "after it; nothing robots.txt disallows requested or read",
            problems[0],
            problems,
        )


def _after_a_429(s: SourceSubject, routes: dict[str, bytes]) -> list[str]:
    with CheckServer(routes, robots=ALLOW_ALL, retry_after=RETRY_AFTER) as server:
        out = harvest(_source(s, server, routes))
    problems = [f"too early: {line}" for line in server.too_early()]
    pages = [p for p in server.requested() if p.split("?")[0] in routes]
    if not pages:
        problems.append(f"the source requested none of the served pages ({sorted(routes)})")
    assert out.report is not None
    for r in out.report.outcomes:
        if r.outcome not in (TargetOutcome.COMPLETE, TargetOutcome.EMPTY):
            problems.append(f"after the 429: {r.target}: {r.outcome} ({r.reason})")
    if out.report.error:
        problems.append(f"the source could not run: {out.report.error}")
    return problems


def _robots_obeyed(s: SourceSubject, routes: dict[str, bytes]) -> list[str]:
    with CheckServer(routes, robots=DISALLOW_ALL, retry_after=RETRY_AFTER) as server:
        out = harvest(_source(s, server, routes))
    problems = [
        f"requested {path} although robots.txt disallows it"
        for path in server.requested()
        if path != ROBOTS
    ]
    assert out.report is not None
    for r in out.report.outcomes:
        if r.outcome in (TargetOutcome.COMPLETE, TargetOutcome.EMPTY):
            problems.append(f"{r.target}: ended {r.outcome} although robots.txt disallows it")
    if out.papers:
        problems.append(f"{len(out.papers)} paper(s) published from pages robots.txt disallows")
    return problems
