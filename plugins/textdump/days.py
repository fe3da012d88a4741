"""The day a capture's listing shows, and the day its yearless dates resolve against.

Only what the copy shows as the page's day is a listing day: its date line (``May 4``), or
its day links. A card's own date is never one. A yearless date line takes its year from, in
this order:

1. the header's previous- or next-day link (``/papers/date/2026-05-03``) when it is one day
   off the date line: the page's own statement of the day;
2. `captured_on`, the day the file was captured (an option);
3. the capture date in the export's front matter (``created: 2026-05-04`` …);
4. `fallback()`: the source's last resort (the file's modification date, with a warning).

It resolves to the latest such day not more than one day after that capture day (pages render
in the viewer's timezone). A copy that shows no date line has no listing day (null), unless
it links both the day before and the day after (the day between them); a weekly or monthly
heading is no one day either. Cards' yearless dates resolve against the listing day, or,
without one, against the capture day (asked for only when such a date is met).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import itertools
from collections.abc import Callable

from harvester.errors import InputError
from harvester.normalise import parse_published

from .header import Listing

ONE_DAY = dt.timedelta(days=1)


class CaptureDays:
    """The days of one capture: its listing day (or None) and its capture day (lazily)."""

    def __init__(
        self,
        label: str,
        found: Listing,
        captured_on: dt.date | None,
        fallback: Callable[[], dt.date] | None,
        notes: list[str],
    ):
        self.label = label
        self.found = found
        self.captured_on = captured_on
        self.fallback = fallback
        self.notes = notes
        self._reference: dt.date | None = None
        self.listing = self._listing_day()

    def reference(self) -> dt.date:
        """The capture day: what yearless dates resolve against when no listing day does."""
        if self._reference is None:
            found = self.found
            reference = self.captured_on
            if reference is None and found.capture_date is not None:
                reference = found.capture_date
                self.notes.append(f"capture day {reference} from the front matter")
            if reference is None:
                if self.fallback is None:
                    what = found.date_text or "a card's date"
                    raise InputError(
                        f"{self.label}:{found.line}",
                        f"the date line {what!r} has no year: give captured_on"
                        if found.date_text
                        else f"{what} has no year and the copy shows no day: give captured_on",
                    )
                reference = self.fallback()
            self._reference = reference
        return self._reference

    def _listing_day(self) -> dt.date | None:
        found = self.found
        text = found.date_text
        if text is None:
            return self._day_between_links()
        for link in found.date_links:
            for day in (link + ONE_DAY, link - ONE_DAY):
                if _names_day(text, day):
                    self.notes.append(f"listing day {day} from the header's link to {link}")
                    self._reference = self._reference or day
                    return day
        with contextlib.suppress(ValueError):  # a date line with its year needs no reference
            return parse_published(text).date
        try:
            return parse_published(text, self.reference()).date
        except ValueError as exc:
            where = f"{self.label}:{found.line}"
            raise InputError(where, f"bad listing date: {exc}") from None

    def _day_between_links(self) -> dt.date | None:
        """No date line: the day between a previous-day and a next-day link, if both show."""
        links = sorted(set(self.found.date_links))
        for before, after in itertools.pairwise(links):
            if after - before == 2 * ONE_DAY:
                day = before + ONE_DAY
                self.notes.append(f"listing day {day} between the links to {before} and {after}")
                return day
        return None


def _names_day(text: str, day: dt.date) -> bool:
    try:
        return parse_published(text, day).date == day
    except ValueError:
        return False
