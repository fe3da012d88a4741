"""`TextDumpSource`: papers from text captures of huggingface.co papers listing pages."""

from __future__ import annotations

from collections.abc import Iterator

from harvester.api import Target
from harvester.checks import SourceCheck
from harvester.files import FileSource, FileSourceOptions
from harvester.schema import Paper, Rejected

from .parsing import DumpParser
from .reading import read_lines
from .records import NAME


class TextDumpOptions(FileSourceOptions, kw_only=True, forbid_unknown_fields=True):
    """`inputs` (files, globs, or tables with their own `captured_on`) and `captured_on`."""


class TextDumpSource(FileSource):
    """Text dumps of HF papers listings: plain-text page copies and markdown captures.

    `read` streams the file (`reading`) into the parser (`parsing`). The capture day is
    asked for only when the listing's date line has no year and the page's own date links do
    not give it: this input's or the source's `captured_on` option, then a capture date in
    the export's front matter, and last `FileSource.captured_on` (the file's modification
    date, with a warning naming the file)."""

    name = NAME
    trusted = True  # every field is built through harvester.normalise
    Options = TextDumpOptions
    # `harvester check textdump`: a capture of a daily listing and the records it reads to
    check = SourceCheck(fixtures=["check/day"], options={"captured_on": "2026-03-14"})

    def read(self, target: Target) -> Iterator[Paper | Rejected]:
        given = self.file_of(target).captured_on  # this input's, or the source's, option
        parser = DumpParser(target.id, captured_on=given, fallback=lambda: self.captured_on(target))
        with self.open_file(target) as stream:
            yield from parser.parse(read_lines(stream, target.id))
        for note in parser.notes:
            self.context.log.info("%s: %s", target.id, note)
