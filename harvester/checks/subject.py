"""The plugin under check: its class, what it declared (`check`), the options to run it with,
its fixture cases, and a scratch folder; the fresh runs the source checks share."""

from __future__ import annotations

import contextlib
import shutil
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..api import Sink, Source
from ..errors import UsageError
from .harness import CHECK_FETCH, Harvested, harvest, make_sink, make_source
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


@dataclass
class SourceSubject:
    cls: type[Source]
    spec: SourceCheck
    folder: Path  # where the spec's paths start
    options: dict[str, Any]  # the source's options (the spec's, with the command line's)
    work: Path  # scratch space of this check session
    cases: list[Case] = field(default_factory=list)
    _fresh: dict[str, Harvested] = field(default_factory=dict)

    def source(self, base_dir: Path, inputs: list[str], **options: Any) -> Source:
        raw = {**self.options, **options}
        return make_source(self.cls, inputs, raw, base_dir=base_dir, fetch=CHECK_FETCH)

    def fresh(self, case: Case) -> Harvested:
        """The case read once, without state (shared by the checks that only look at it)."""
        if case.name not in self._fresh:
            self._fresh[case.name] = harvest(self.source(case.folder, case.inputs))
        return self._fresh[case.name]

    def scratch(self, name: str) -> Path:
        path = self.work / name
        shutil.rmtree(path, ignore_errors=True)
        path.mkdir(parents=True)
        return path

    def combined(self, name: str) -> tuple[Path, list[str]]:
        """Every case's inputs copied into one folder (`<case>/<file>`), for runs over several
        targets; a single input is copied twice."""
        base = self.scratch(name)
        inputs = []
        cases = self.cases if sum(len(c.inputs) for c in self.cases) > 1 else self.cases * 2
        for n, case in enumerate(cases):
            sub = f"{n}-{case.folder.name}"
            (base / sub).mkdir()
            for file in case.inputs:
                shutil.copy2(case.folder / file, base / sub / file)
                inputs.append(f"{sub}/{file}")
        return base, inputs


@dataclass
class SinkSubject:
    cls: type[Sink]
    spec: SinkCheck
    folder: Path
    options: dict[str, Any]
    work: Path
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
