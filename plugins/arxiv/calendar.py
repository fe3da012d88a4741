"""arXiv's announcement calendar: which days have a listing, and which listing is current.

arXiv announces at 20:00 US Eastern, Sunday to Thursday; each announcement is the listing of
the following day, so listings are dated Monday to Friday (the /new page of Friday 9 August 2024
was announced on Thursday evening). There is no listing dated Saturday or Sunday, and none on
the holidays arXiv announces in advance (not built in: a run names them in the `holidays`
option, so that such a day is `empty` with that reason instead of a guess).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection
from zoneinfo import ZoneInfo

EASTERN = ZoneInfo("America/New_York")
ANNOUNCED_AT = dt.time(20, 0)  # US Eastern, the evening before the listing's day
WEEKEND = "announcements are made Sunday to Thursday at 20:00 US Eastern and dated the next day"


def no_listing_reason(day: dt.date, holidays: Collection[dt.date] = ()) -> str | None:
    """Why arXiv has no listing dated `day` (None: it is a listing day)."""
    if day.weekday() >= 5:
        return f"arXiv has no listing dated {day:%A} {day}: {WEEKEND} (Monday to Friday)"
    if day in holidays:
        return f"{day} is an arXiv holiday without an announcement (the `holidays` option)"
    return None


def previous_listing_day(day: dt.date, holidays: Collection[dt.date] = ()) -> dt.date:
    """The latest listing day on or before `day`."""
    while no_listing_reason(day, holidays) is not None:
        day -= dt.timedelta(days=1)
    return day


def current_listing_day(now: dt.datetime, holidays: Collection[dt.date] = ()) -> dt.date:
    """The listing day /new shows at `now` (an aware time): the day after the latest
    announcement evening that has passed."""
    if now.tzinfo is None:
        raise ValueError("current_listing_day needs an aware datetime")
    eastern = now.astimezone(EASTERN)
    day = eastern.date()
    if eastern.time() >= ANNOUNCED_AT:
        day += dt.timedelta(days=1)
    return previous_listing_day(day, holidays)
