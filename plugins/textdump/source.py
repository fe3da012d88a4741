"""`TextDumpSource`: papers from text captures of huggingface.co papers listing pages."""

from __future__ import annotations

from collections.abc import Iterator

from harvester.api import Target
from harvester.files import FileSource, FileSourceOptions
from harvester.schema import Paper, Rejected

from .parsing import DumpParser
from .reading import read_lines
from .records import NAME


class TextDumpOptions(FileSourceOptions, kw_only=True, forbid_unknown_fields=True):
    """`inputs` (files, globs, or tables with their own `captured_on`) and `captured_on`."""


class TextDumpSource(FileSource):
    """Text dumps of HF papers listings: plain-text page copies and markdown captures.

    `read` streams the file (`reading`, after `FileSource.open_text` told its encoding) into
    the parser (`parsing`). The capture day is asked for only when a yearless date needs it:
    this input's or the source's `captured_on` option, then a capture date in the export's
    front matter, and last `FileSource.captured_on` (the file's modification date, with a
    warning naming the file).

    What the copy shows decides the target's outcome: a listing shown with no paper in it
    is evidence of an empty day (`mark_empty`); a copy that ends inside an entry was cut
    (`cut_short`: `incomplete`). A hand copy of part of a page is usable data, so an
    `incomplete` target's papers are published (`publish_incomplete`)."""

    name = NAME
    trusted = True  # every field is built through harvester.normalise
    publish_incomplete = True  # what a person copied is what the page showed, if not all of it
    Options = TextDumpOptions

    def read(self, target: Target) -> Iterator[Paper | Rejected]:
        given = self.file_of(target).captured_on  # this input's, or the source's, option
        parser = DumpParser(target.id, captured_on=given, fallback=lambda: self.captured_on(target))
        entries = rejected = 0
        stream, encoding = self.open_text(target)
        with stream:
            for record in parser.parse(read_lines(stream, target.id, encoding=encoding)):
                entries += 1
                rejected += isinstance(record, Rejected)
                yield record
        log = self.context.log
        for note in parser.notes:
            log.info("%s: %s", target.id, note)
        if parser.cut is not None:
            target.cut_short(parser.cut)
        if not entries and parser.empty:
            target.mark_empty("; ".join(parser.empty))
        if rejected * 2 > entries:
            log.warning(
                "%s: %d of %d entries could not be read (layouts recognised: %s; "
                "docs/textdump.md lists the layouts this reader knows)",
                target.id,
                rejected,
                entries,
                ", ".join(parser.layouts) or "none",
            )
