"""The plugin under check: its class, what it declared (`check`), the options to run it with,
its fixture cases, and a scratch folder; the fresh runs the source checks share."""

from __future__ import annotations

import contextlib
import json
import shutil
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..api import Sink, Source
from ..errors import UsageError
from .harness import CHECK_FETCH, Harvested, harvest, make_sink, make_source
from .records import as_records
from .server import ALLOW_ALL, CheckServer
from .spec import EXPECTED, SinkCheck, SourceCheck, resolve


@dataclass(frozen=True)
class Case:
    """One fixture folder: the inputs it holds (names, sorted) and its expected records."""

    name: str  # as declared, e.g. "fixtures/day"
    folder: Path
    inputs: list[str]

    @property
    def expected(self) -> Path:
        return self.folder / EXPECTED


def find_cases(folder: Path, declared: list[str] | tuple[str, ...]) -> list[Case]:
    cases = []
    for name in declared:
        path = resolve(folder, name)
        if not path.is_dir():
            raise UsageError(
                f"fixture {name!r} ({path}) is not a folder: a fixture is a folder holding the "
                f"inputs of one case and their {EXPECTED}"
            )
        inputs = sorted(
            p.name
            for p in path.iterdir()
            if p.is_file() and p.name != EXPECTED and not p.name.startswith(".")
        )
        if not inputs:
            raise UsageError(f"fixture {name!r} ({path}) holds no input file")
        cases.append(Case(name, path, inputs))
    return cases


@dataclass(frozen=True)
class Reading:
    """How to make the source read something: its base folder, inputs and options."""

    base: Path
    inputs: list[str]
    options: dict[str, Any] = field(default_factory=dict)


SITE = "http://site.invalid"  # what a served fixture's URL reads as in expected records


@dataclass
class SourceSubject:
    cls: type[Source]
    spec: SourceCheck
    folder: Path  # where the spec's paths start
    options: dict[str, Any]  # the source's options (the spec's, with the command line's)
    work: Path  # scratch space of this check session
    cases: list[Case] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)  # --update-expected: what changed
    server: CheckServer | None = None  # served fixtures: their site, for the session
    _fresh: dict[str, Harvested] = field(default_factory=dict)

    @property
    def served(self) -> bool:
        """Whether the fixtures are the upstream's answers, served (`SourceCheck.site`)."""
        return self.spec.site is not None

    @contextlib.contextmanager
    def serving(self) -> Iterator[None]:
        """The fixtures' site, while the checks run (served fixtures only)."""
        if not self.served:
            yield
            return
        with CheckServer(site_routes(self.cases), robots=ALLOW_ALL, retry_after=None) as server:
            self.server = server
            try:
                yield
            finally:
                self.server = None

    def source(self, base_dir: Path, inputs: list[str], **options: Any) -> Source:
        raw = {**self.options, **options}
        return make_source(self.cls, inputs, raw, base_dir=base_dir, fetch=CHECK_FETCH)

    def site_options(self, url: str) -> Reading:
        """Reading the site at `url` (served fixtures): the options `SourceCheck.site` gives."""
        assert self.spec.site is not None
        options = dict(self.spec.site(url))
        return Reading(self.work, list(options.pop("inputs", [])), options)

    def reading(self, case: Case) -> Reading:
        if not self.served:
            return Reading(case.folder, case.inputs)
        assert self.server is not None
        return self.site_options(self.server.url(site_path(self.cases, case)))

    def read(self, reading: Reading) -> Source:
        return self.source(reading.base, reading.inputs, **reading.options)

    def fresh(self, case: Case) -> Harvested:
        """The case read once, without state (shared by the checks that only look at it)."""
        if case.name not in self._fresh:
            self._fresh[case.name] = harvest(self.read(self.reading(case)))
        return self._fresh[case.name]

    def records(self, case: Case, items: list[Any]) -> list[dict[str, Any]]:
        """What a case read, as expected records (a served site's URL as `SITE`)."""
        records = as_records(items, self.spec.volatile)
        if self.served and self.server is not None:
            url = self.server.url(site_path(self.cases, case))
            records = json.loads(json.dumps(records).replace(json.dumps(url)[1:-1], SITE))
        return records

    def scratch(self, name: str) -> Path:
        path = self.work / name
        shutil.rmtree(path, ignore_errors=True)
        path.mkdir(parents=True)
        return path

    def combined(self, name: str) -> Reading:
        """Every case's inputs copied into one folder (`<case>/<file>`), for runs over several
        targets; a single input is copied twice. Served fixtures: the first case's site."""
        if self.served:
            return self.reading(self.cases[0])
        base = self.scratch(name)
        inputs = []
        cases = self.cases if sum(len(c.inputs) for c in self.cases) > 1 else self.cases * 2
        for n, case in enumerate(cases):
            sub = f"{n}-{case.folder.name}"
            (base / sub).mkdir()
            for file in case.inputs:
                shutil.copy2(case.folder / file, base / sub / file)
                inputs.append(f"{sub}/{file}")
        return Reading(base, inputs)


def site_path(cases: list[Case], case: Case) -> str:
    """Where the check's server serves `case` (its files below it, by name)."""
    return f"/{cases.index(case)}-{case.folder.name}"


def site_routes(cases: list[Case]) -> dict[str, bytes]:
    """Every case's files, each at `<site_path>/<file name>`."""
    return {
        f"{site_path(cases, case)}/{file}": (case.folder / file).read_bytes()
        for case in cases
        for file in case.inputs
    }


@dataclass
class SinkSubject:
    cls: type[Sink]
    spec: SinkCheck
    folder: Path
    options: dict[str, Any]
    work: Path
    updated: list[str] = field(default_factory=list)  # --update-expected: what changed
    _count: int = 0

    @contextlib.contextmanager
    def output(self) -> Iterator[tuple[Path, dict[str, Any]]]:
        """A new, empty output: (its folder, the sink's options for it)."""
        self._count += 1
        directory = self.work / f"output-{self._count}"
        shutil.rmtree(directory, ignore_errors=True)
        directory.mkdir(parents=True)
        if self.spec.fresh is None:
            yield directory, dict(self.options)
            return
        with self.spec.fresh(dict(self.options)) as options:
            yield directory, options

    def sink(self, directory: Path, options: dict[str, Any], *, incremental: bool = False) -> Sink:
        return make_sink(self.cls, options, directory, incremental=incremental)

    def read_back(self, directory: Path, options: dict[str, Any]) -> list[dict[str, Any]]:
        assert self.spec.read_back is not None
        return self.spec.read_back(directory, options)

    def keys(self, directory: Path, options: dict[str, Any]) -> list[str]:
        return sorted(str(r.get("key")) for r in self.read_back(directory, options))
