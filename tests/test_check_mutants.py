"""The kit's mutation suite: `harvester check` passes the mini source and sink (tests/kit_mini.py)
and fails every deliberately broken variant of them (tests/kit_mutants.py), each on the check
that catches its failure class. The catch table and rate are printed; the rate must be 100 %.

The checks run in-process (the same `check_class` the command runs), three at a time: most of a
source's check time is the politeness check waiting out a 429's Retry-After."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

from harvester.checks.result import Status
from harvester.checks.runner import check_class

from .kit_mini import MiniSink, MiniSource
from .kit_mutants import MUTANTS
from .localserver import LOOPBACK

pytestmark = LOOPBACK  # the politeness check's own server, on 127.0.0.1


def test_the_originals_pass_every_check():
    for cls in (MiniSource, MiniSink):
        report = check_class(cls)
        assert report.ok, report.text()
        applied = [r.check for r in report.results if r.status is Status.PASSED]
        assert len(applied) == len(report.results), report.text()  # nothing left out as n/a


def test_every_mutant_fails_the_check_that_catches_it(capsys):
    distinct = {cls for cls, _ in MUTANTS.values()}
    assert len(distinct) >= 20 and len(MUTANTS) >= 20
    with ThreadPoolExecutor(3) as pool:
        found = pool.map(check_class, [cls for cls, _ in MUTANTS.values()])
        reports = dict(zip(MUTANTS, found, strict=True))
    rows, caught = [], 0
    for what, (cls, check) in MUTANTS.items():
        report = reports[what]
        hit = check in report.failed and f"FAIL {check}:" in report.text()
        caught += hit
        also = ", ".join(c for c in report.failed if c != check) or "-"
        rows.append(
            f"{what:38} {cls.__name__:24} {check:24} {'caught' if hit else 'MISSED'}  {also}"
        )
    rate = caught / len(MUTANTS)
    head = f"{'failure class':38} {'mutant':24} {'caught by':24} verdict  also failed"
    table = "\n".join([head, *rows, f"catch rate: {caught}/{len(MUTANTS)} = {rate:.0%}"])
    with capsys.disabled():
        print(f"\n{table}")
    assert rate == 1.0, table
