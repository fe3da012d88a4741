"""Bibliography sinks (`csl-json`, `bibtex`, `ris`): the run's papers as one bibliography file.

    [sinks.refs]
    plugin = "bibtex"          # or "csl-json", "ris"
    path = "out/papers.bib"
    mode = "append"            # default when the run keeps state, else "replace"

A bibliography is one document, written whole (atomically) at DONE. Until then the papers are
staged, crash-safely, in ``<path>.papers.jsonl`` (see `output_files.StagedPapers`): commits,
resume and suspend work as for the JSONL sink. ``append``: the staged file is kept between runs
and the bibliography holds every paper seen by any run (one entry per paper key, the latest
sighting); ``replace``: it holds this run's papers and the staged file is removed after writing.
SUSPEND and ABANDON leave the bibliography as it was.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, ClassVar, Literal

from harvester.api import Outcome, Sink, SinkOptions
from harvester.atomic import write_atomic
from harvester.errors import SinkError

from ..output_files import StagedPapers
from .formats import RENDERERS


class BibliographyOptions(SinkOptions, kw_only=True, forbid_unknown_fields=True):
    path: str
    mode: Literal["replace", "append"] | None = None  # None: append when the run keeps state


class BibliographySink(Sink):
    format: ClassVar[str]
    Options = BibliographyOptions
    options: BibliographyOptions
    staged: StagedPapers | None = None

    def open(self, resume: Any = None) -> None:
        self.path = self.context.resolve(self.options.path)
        mode = self.options.mode or ("append" if self.context.incremental else "replace")
        self.staged = StagedPapers(self.path, persistent=mode == "append")
        self.staged.open(resume)

    def write(self, papers: Sequence[Any]) -> None:
        self._staged().write(papers)

    def commit(self) -> dict[str, Any]:
        return self._staged().commit()

    def close(self, outcome: Outcome) -> None:
        staged, self.staged = self.staged, None
        if staged is None:
            return
        if outcome is Outcome.SUSPEND:
            staged.suspend()
        elif outcome is Outcome.ABANDON:
            staged.abandon()
        else:
            papers = staged.take()
            try:
                write_atomic(self.path, RENDERERS[self.format](papers).encode(), SinkError)
            except OSError as exc:
                raise SinkError(f"{self.path}: cannot write the {self.format}: {exc}") from exc
            staged.finish(papers)

    def _staged(self) -> StagedPapers:
        if self.staged is None:
            raise SinkError(f"{self.name} sink {self.options.path}: used before open()")
        return self.staged


class CslJsonSink(BibliographySink):
    name = format = "csl-json"


class BibtexSink(BibliographySink):
    name = format = "bibtex"


class RisSink(BibliographySink):
    name = format = "ris"


SINKS = (CslJsonSink, BibtexSink, RisSink)
