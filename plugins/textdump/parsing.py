"""Numbered lines of a text dump -> `Paper | Rejected` records (pure: no I/O).

`DumpParser(label, captured_on=..., fallback=...).parse(chunks)` skips the page header (see
`header`), takes the listing day from what the copy shows (see `days`), and reads the cards
(see `cards`) into records (see `records`). It raises `InputError` naming the file when no
listing starts in it (a JSONL file, a note, an HTML page), after yielding nothing.

A file may hold several captures pasted together: a ``---`` line (the next capture's front
matter, or a separator) or a papers page's header line after a listing's cards starts a new
capture, read from its own header with its own day. After the parse, `empty` holds the
evidence when the copy shows a listing with no paper (an empty day), and `layouts` the card
layouts read.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Iterator

from harvester.schema import Paper, Rejected

from .cards import Assembler
from .days import CaptureDays
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
        self.listing: dt.date | None = None  # the first capture's listing day
        self.notes: list[str] = []
        self.empty: list[str] = []  # evidence that a listing shows no paper
        self.cut: str | None = None  # the copy visibly ends inside an entry: where
        self.captures = 0
        self._builders: list[RecordBuilder] = []
        self._found: Listing | None = None
        self._bad: dict[int, str] = {}  # lines holding bytes that are not text

    def parse(self, chunks: Iterable[Chunk]) -> Iterator[Paper | Rejected]:
        self._header = Header(self.label)
        self._cards: Assembler | None = None
        for chunk in chunks:
            if chunk.bad:
                self._bad.update(chunk.bad)
            yield from self._read(chunk.first, chunk.lines, chunk.plain, chunk.bad)
            if chunk.long_line is not None:
                yield from self._one(chunk.long_line.number, chunk.long_line)
        yield from self._end()

    def _read(
        self, first: int, lines: list[str], plain: bool, bad: dict[int, str] | None
    ) -> Iterator[Paper | Rejected]:
        """A chunk of lines: header lines one by one, card lines in bulk."""
        i = 0
        while i < len(lines):
            cards = self._cards
            if cards is None:
                yield from self._one(first + i, lines[i])
                i += 1
                continue
            at = cards.feed(first + i, lines[i:] if i else lines, plain, bad)
            yield from self._take()
            if at < 0:
                return
            i += at
            yield from self._new_capture()

    def _one(self, n: int, line: str | LongLine, plain: bool = False) -> Iterator[Paper | Rejected]:
        """One line (a replayed or an over-long one) to whichever reader holds the file."""
        cards = self._cards
        if cards is None:
            found = self._header.feed(n, line)
            if found is not None:
                yield from self._begin(found)
            return
        if isinstance(line, LongLine):
            cards.long_line(line)
        elif cards.feed(n, [line], plain, self._bad if n in self._bad else None) >= 0:
            yield from self._new_capture()
            yield from self._one(n, line, plain)
            return
        yield from self._take()

    def _begin(self, found: Listing) -> Iterator[Paper | Rejected]:
        """A capture's listing starts: its day, its reader, the lines read ahead."""
        days = CaptureDays(self.label, found, self.captured_on, self.fallback, self.notes)
        if self.captures == 0:
            self.listing = days.listing
        self.captures += 1
        builder = RecordBuilder(self.label, days)
        self._builders.append(builder)
        self._found = found
        self._cards = cards = Assembler(builder, builder.new_listing)
        cards.leading_chrome = found.date_text is None and found.period is None
        for n, line in found.replay:
            yield from self._one(n, line)

    def _new_capture(self) -> Iterator[Paper | Rejected]:
        """A pasted capture starts: finish this one, read the next from its header."""
        yield from self._finish_capture()
        self._header = Header(self.label, later=True)

    def _end(self) -> Iterator[Paper | Rejected]:
        if self._cards is None:
            found = self._header.finish()
            if found is None:
                raise self._header.failure()
            yield from self._begin(found)
        yield from self._finish_capture()

    def _finish_capture(self) -> Iterator[Paper | Rejected]:
        cards, found = self._cards, self._found
        assert cards is not None and found is not None
        cards.finish()
        yield from self._take()
        self._cards = None
        if cards.skipped:
            self.notes.append(
                f"skipped {cards.skipped} line(s) of page text around the cards "
                "(header lines, navigation, footer, separators)"
            )
        if cards.cut_at and self.cut is None:
            self.cut = f"the copy ends inside the entry at line {cards.cut_at}"
        shown = found.date_text or found.period
        if not cards.entries and shown is not None and (found.empty or self._header.hf_seen):
            self.empty.append(f"the copy shows the listing of {shown} with no paper in it")

    def _take(self) -> Iterator[Paper | Rejected]:
        cards = self._cards
        if cards is not None and cards.out:
            out, cards.out = cards.out, []
            yield from out

    @property
    def layouts(self) -> list[str]:
        """The card layouts read, in the order first seen."""
        seen: dict[str, None] = {}
        for builder in self._builders:
            seen.update(dict.fromkeys(builder.layouts))
        return list(seen)


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
