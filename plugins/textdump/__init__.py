"""The `textdump` source: papers from text captures of huggingface.co papers listing pages.

Modules, by concept: `reading` (bytes -> numbered lines, streamed, checked), `lines` (what a
line is), `header` (where the listing starts), `cards` (lines -> cards, resynchronised on
their structure), `records` (a card -> `Paper` or `Rejected`), `parsing` (the whole parse,
pure), `source` (the `FileSource`). See docs/textdump.md.
"""

from __future__ import annotations

from harvester.hookspecs import hookimpl

from .parsing import DumpParser, parse
from .reading import read_lines
from .source import TextDumpOptions, TextDumpSource


@hookimpl
def register_sources(register) -> None:
    register(TextDumpSource)


__all__ = ["DumpParser", "TextDumpOptions", "TextDumpSource", "parse", "read_lines"]
