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
from typing import ClassVar, Literal

from harvester_plugins.check_readers import read_bibtex, read_csl_json, read_ris
from harvester_plugins.output_files import WholeFileSink

from harvester.api import SinkOptions
from harvester.atomic import write_atomic
from harvester.checks import SinkCheck
from harvester.errors import SinkError
from harvester.schema import Paper

from .formats import RENDERERS


class BibliographyOptions(SinkOptions, kw_only=True, forbid_unknown_fields=True):
    path: str
    mode: Literal["replace", "append"] | None = None  # None: append when the run keeps state


class BibliographySink(WholeFileSink):
    format: ClassVar[str]
    Options = BibliographyOptions
    options: BibliographyOptions

    def persistent(self) -> bool:
        mode = self.options.mode or ("append" if self.context.incremental else "replace")
        return mode == "append"

    def render(self, papers: Sequence[Paper]) -> None:
        write_atomic(self.path, RENDERERS[self.format](papers).encode(), SinkError)


def _check(suffix: str, read_back, volatile: tuple[str, ...] = ()) -> SinkCheck:
    """How `harvester check` drives a bibliography sink and reads it back."""
    return SinkCheck(
        options={"path": f"out/refs.{suffix}", "mode": "replace"},
        read_back=read_back,
        expected=f"check/{suffix}/expected_records.jsonl",
        volatile=volatile,
        bad_options=[{"mode": "merge"}],
    )


class CslJsonSink(BibliographySink):
    name = format = "csl-json"
    check = _check("json", read_csl_json, volatile=("accessed",))  # the day of the run


class BibtexSink(BibliographySink):
    name = format = "bibtex"
    check = _check("bib", read_bibtex)


class RisSink(BibliographySink):
    name = format = "ris"
    check = _check("ris", read_ris)


SINKS = (CslJsonSink, BibtexSink, RisSink)
