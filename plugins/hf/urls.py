"""Listing URLs of huggingface.co/papers and /api/daily_papers, and the days they name.

A daily listing is linked in two forms: `/papers/date/YYYY-MM-DD` (current) and
`/papers?date=YYYY-MM-DD` (the 2024 layout); both are read everywhere a day is read from a URL.
"""

from __future__ import annotations

import calendar
import datetime as dt
import re
from typing import Any
from urllib.parse import parse_qsl, quote, urlencode, urlsplit, urlunsplit

HF_SITE = "https://huggingface.co"  # canonical paper URLs always point at the real site

WEEK_PATTERN = r"^\d{4}-W(0[1-9]|[1-4]\d|5[0-3])$"
MONTH_PATTERN = r"^\d{4}-(0[1-9]|1[0-2])$"


def paper_url(hf_id: str) -> str:
    return f"{HF_SITE}/papers/{hf_id}"


def daily_url(base_url: str, day: dt.date) -> str:
    return f"{base_url.rstrip('/')}/papers/date/{day.isoformat()}"


def week_url(base_url: str, week: str) -> str:
    return f"{base_url.rstrip('/')}/papers/week/{week}"


def month_url(base_url: str, month: str) -> str:
    return f"{base_url.rstrip('/')}/papers/month/{month}"


def trending_url(base_url: str) -> str:
    return f"{base_url.rstrip('/')}/papers/trending"


def search_url(base_url: str, query: str) -> str:
    return f"{base_url.rstrip('/')}/papers?q={quote(query)}"


def api_url(base_url: str, **params: Any) -> str:
    query = urlencode({k: v for k, v in params.items() if v is not None})
    return f"{base_url.rstrip('/')}/api/daily_papers?{query}"


def page_url(url: str, page: int, limit: int) -> str:
    """`url` asking for API page `page` (`p`; page 0 is the first) of `limit` items (kept when
    the URL sets its own: a short page is judged against the size asked for)."""
    parts = urlsplit(url)
    params = dict(parse_qsl(parts.query))
    params.setdefault("limit", str(limit))
    params["p"] = str(page)
    return urlunsplit(parts._replace(query=urlencode(params)))


def days(first: dt.date, last: dt.date) -> list[dt.date]:
    return [first + dt.timedelta(days=n) for n in range((last - first).days + 1)]


def week_end(week: str) -> dt.date | None:
    """The last day (Sunday) of ISO week '2026-W41'; None when there is no such week."""
    if not re.match(WEEK_PATTERN, week):
        return None
    try:
        return dt.date.fromisocalendar(int(week[:4]), int(week[6:]), 7)
    except ValueError:  # week 53 of a year with 52
        return None


def month_end(month: str) -> dt.date | None:
    """The last day of month '2026-10'; None when it is not a month."""
    if not re.match(MONTH_PATTERN, month):
        return None
    year, number = int(month[:4]), int(month[5:])
    return dt.date(year, number, calendar.monthrange(year, number)[1])


def iso_day(text: str | None) -> dt.date | None:
    """A plain 'YYYY-MM-DD' (or that day's midnight UTC stamp) as a date; None for anything
    else: a time of day in some time zone does not name a day."""
    if text and text[10:] in ("T00:00:00.000Z", "T00:00:00Z"):
        text = text[:10]
    if not text or len(text) != 10:
        return None
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        return None


_DAILY_PATH = re.compile(r"/papers/date/(\d{4}-\d{2}-\d{2})/?$")


def requested_day(url: str) -> dt.date | None:
    """The day a daily-listing URL asks for, in either form (None for other listings)."""
    parts = urlsplit(url)
    if m := _DAILY_PATH.search(parts.path):
        return iso_day(m[1])
    if parts.path.rstrip("/").endswith("/papers"):
        return iso_day(dict(parse_qsl(parts.query)).get("date"))
    return None


def api_params(url: str) -> dict[str, str]:
    return dict(parse_qsl(urlsplit(url).query))


_WEEK_PATH = re.compile(r"/papers/week/([^/]+)/?$")
_MONTH_PATH = re.compile(r"/papers/month/([^/]+)/?$")


def listed_day(url: str, today: dt.date) -> dt.date | None:
    """The latest day a listing URL covers, for the run's refresh window: a daily page's day,
    the last day of a week or month, `today` for pages that always show the present (trending,
    search); None for anything else."""
    if (day := requested_day(url)) is not None:
        return day
    path = urlsplit(url).path
    if m := _WEEK_PATH.search(path):
        return week_end(m[1])
    if m := _MONTH_PATH.search(path):
        return month_end(m[1])
    if path.rstrip("/").endswith(("/papers/trending", "/papers")):
        return today
    return None


def api_listed_day(url: str) -> dt.date | None:
    """The latest day an API listing covers: its `date`, or the last day of its week or month."""
    params = api_params(url)
    if "date" in params:
        return iso_day(params["date"])
    if week := params.get("week"):
        return week_end(week)
    if month := params.get("month"):
        return month_end(month)
    return None


# Day links of a daily page, as they appear in its HTML (attribute values, `&` escaped).
DAY_LINK = re.compile(
    rb'href="(?:https://huggingface\.co)?/papers(?:/date/|\?date=)(\d{4}-\d\d-\d\d)"'
)


def linked_days(content: bytes) -> set[dt.date]:
    """Every day a page links to, in both link forms, outside its paper cards (the day links
    are in the page's heading and footer; scanning the cards too cost 5 % of the card path)."""
    first, last = content.find(b"<article"), content.rfind(b"</article>")
    outside = (content[:first], content[last:]) if 0 <= first < last else (content,)
    return {d for part in outside for m in DAY_LINK.finditer(part) if (d := iso_day(m[1].decode()))}
