"""Numbered lines of a text dump -> `Paper | Rejected` records (pure: no I/O).

`DumpParser(label, captured_on=..., fallback=...).parse(chunks)` skips the page header (see
`header`), sets the listing day from the date line, and reads the cards (see `cards`) into
records (see `records`). It raises `InputError` naming the file when no listing starts in it
(a JSONL file, a note, an HTML page), after yielding nothing.

The listing day: a date line with a year is that day. A yearless one ('May 4') takes its year
from, in this order:

1. the header's previous- or next-day link (``/papers/date/2026-05-03``) when it is one day
   off the date line: the page's own statement of the day;
2. `captured_on`, the day the file was captured (an option);
3. the capture date in the export's front matter (``created: 2026-05-04`` …);
4. `fallback()`: the source's last resort (the file's modification date, with a warning).

It resolves to the latest such day not more than one day after that capture day (pages render
in the viewer's timezone). Cards' yearless dates then resolve against the listing day.
"""

from __future__ import annotations

import contextlib
import datetime as dt
from collections.abc import Callable, Iterable, Iterator

from harvester.errors import InputError
from harvester.normalise import parse_published
from harvester.schema import Paper, Rejected

from .cards import Assembler
from .header import Header, Line, Listing
from .reading import Chunk, LongLine
from .records import RecordBuilder


class DumpParser:
    """One file's parse; after it, `notes` says what was skipped or inferred (for the log)."""

    def __init__(
        self,
        label: str,
        *,
        captured_on: dt.date | None = None,
        fallback: Callable[[], dt.date] | None = None,
    ):
        self.label = label
        self.captured_on = captured_on
        self.fallback = fallback
        self.listing: dt.date | None = None
        self.notes: list[str] = []

    def parse(self, chunks: Iterable[Chunk]) -> Iterator[Paper | Rejected]:
        header = Header(self.label)
        cards: Assembler | None = None
        for first, lines, long_line, plain in chunks:
            if cards is None:
                found, start = self._find_listing(header, first, lines, long_line)
                if found is None:
                    continue
                cards = self._start(found)
                if start > len(lines):
                    long_line = None  # the header read it ahead: replayed already
                lines, first = lines[start:], first + start
            cards.feed(first, lines, plain)
            if long_line is not None:
                cards.long_line(long_line)
            if cards.out:
                out, cards.out = cards.out, []
                yield from out
        if cards is None:
            found = header.finish()
            if found is None:
                raise header.failure()
            cards = self._start(found)
        cards.finish()
        yield from cards.out
        if cards.skipped:
            self.notes.append(
                f"skipped {cards.skipped} line(s) of page text between cards "
                "(header lines, navigation links)"
            )

    @staticmethod
    def _find_listing(
        header: Header, first: int, lines: list[str], long_line: LongLine | None
    ) -> tuple[Listing | None, int]:
        """Feed the header; the listing and the index in `lines` where card lines resume."""
        for i, line in enumerate(lines):
            found = header.feed(first + i, line)
            if found is not None:
                return found, i + 1
        if long_line is not None:
            found = header.feed(long_line.number, long_line)
            if found is not None:
                return found, len(lines) + 1  # the long line was replayed already
        return None, 0

    def _start(self, found: Listing) -> Assembler:
        listing, reference = self._listing_day(found)
        self.listing = listing
        builder = RecordBuilder(self.label, listing, reference)
        cards = Assembler(builder, builder.new_listing)
        for n, line in found.replay:
            if isinstance(line, LongLine):
                cards.long_line(line)
            else:
                cards.feed(n, [line])
        return cards

    def _listing_day(self, found: Listing) -> tuple[dt.date, dt.date]:
        """The listing day, and the capture day later date headings resolve against."""
        text, where = found.date_text, f"{self.label}:{found.line}"
        for link in found.date_links:
            for day in (link + dt.timedelta(days=1), link - dt.timedelta(days=1)):
                if _names_day(text, day):
                    self.notes.append(f"listing day {day} from the header's link to {link}")
                    return day, day
        with contextlib.suppress(ValueError):  # a date line with its year needs no reference
            day = parse_published(text).date
            return day, self.captured_on or found.capture_date or day
        reference = self.captured_on
        if reference is None and found.capture_date is not None:
            reference = found.capture_date
            self.notes.append(f"capture day {reference} from the front matter")
        if reference is None:
            if self.fallback is None:
                raise InputError(where, f"the date line {text!r} has no year: give captured_on")
            reference = self.fallback()
        try:
            return parse_published(text, reference).date, reference
        except ValueError as exc:
            raise InputError(where, f"bad listing date: {exc}") from None


def _names_day(text: str, day: dt.date) -> bool:
    try:
        return parse_published(text, day).date == day
    except ValueError:
        return False


def parse(
    chunks: Iterable[Chunk],
    label: str,
    *,
    captured_on: dt.date | None = None,
    fallback: Callable[[], dt.date] | None = None,
) -> Iterator[Paper | Rejected]:
    """The records of one dump (see `DumpParser`)."""
    return DumpParser(label, captured_on=captured_on, fallback=fallback).parse(chunks)


__all__ = ["DumpParser", "Line", "parse"]
