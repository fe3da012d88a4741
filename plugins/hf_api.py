"""Source `hf-api`: the Hugging Face daily-papers JSON API (`/api/daily_papers`).

One target per listing (a day, an ISO week, a month, or a URL / saved JSON file given as an
input); `read` follows the pagination (`p` = 0, 1, ...) until a page comes back shorter than
`limit` or empty. Items have the shape of the HTML page's embedded JSON and go through the same
mapping (`hf_common.item_to_paper`).

Incremental runs: `target_date` (the listing's latest day) puts recent listings in the run's
refresh window, saved files are read again when they change, and `guard_counts` holds a listing
far below its usual size. No conditional requests: a listing spans several pages, one page's
ETag says nothing about the others, and a 304 on some pages leaves no body to rebuild the
listing from, so every page is fetched in full.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import msgspec

from harvester import hookimpl
from harvester.api import SourceOptions
from harvester.errors import ConfigError, InputError
from harvester.schema import Paper, Rejected

from . import hf_common as hf


class HfApiOptions(SourceOptions, kw_only=True, forbid_unknown_fields=True):
    base_url: str = hf.HF_SITE
    daily_from: dt.date | None = None  # one listing per day, both ends included
    daily_to: dt.date | None = None  # defaults to daily_from
    weeks: list[str] = msgspec.field(default_factory=list)  # "2026-W41"
    months: list[str] = msgspec.field(default_factory=list)  # "2026-10"
    limit: int = 50  # items per page
    max_pages: int = 100  # a guard against an API that never returns a short page
    # per-source fetch overrides, merged over the run's (harvester.fetch.merge_settings)
    fetch: dict[str, Any] = msgspec.field(default_factory=dict)


class HfApiSource(hf.HfSource):
    name = "hf-api"
    Options = HfApiOptions
    options: HfApiOptions

    def targets(self) -> list[str]:
        o, base = self.options, self.options.base_url
        if o.limit < 1 or o.max_pages < 1:
            raise ConfigError("limit and max_pages must be at least 1", key=self.name)
        urls = list(o.inputs)
        try:
            if o.daily_from or o.daily_to:
                first = o.daily_from or o.daily_to
                days = hf.days(first, o.daily_to or first)
                urls += [hf.api_url(base, date=d.isoformat(), limit=o.limit) for d in days]
            urls += [hf.api_url(base, week=hf.check_week(w), limit=o.limit) for w in o.weeks]
            urls += [hf.api_url(base, month=hf.check_month(m), limit=o.limit) for m in o.months]
        except ValueError as exc:
            raise ConfigError(str(exc), key=self.name) from None
        return urls

    def target_date(self, target: str) -> dt.date | None:
        return _listed_day(target) if hf.is_url(target) else None

    def read(self, target: str) -> Iterator[Paper | Rejected]:
        if not hf.is_url(target):
            content = self.read_saved(target)
            yield from self.parse_items(content, source_ref=target, listing_date=None)
            return
        listing_date = _date_param(target)
        limit = int(_params(target).get("limit") or self.options.limit)
        seen: set[str] = set()
        total = 0
        for page in range(self.options.max_pages):
            url = page_url(target, page)
            resp = self.context.fetcher.get(url, settings=self.fetch_settings())
            count, fresh = 0, 0
            for item in self.parse_items(resp.content, source_ref=url, listing_date=listing_date):
                count += 1
                key = item.key if isinstance(item, Paper) else None
                if key is not None and key in seen:
                    continue  # the API ignored `p` and repeated a page
                if key is not None:
                    seen.add(key)
                fresh += 1
                yield item
            total += fresh
            if count < limit or fresh == 0:
                break
        else:
            self.context.log.warning(
                "%s: stopped after max_pages=%d", target, self.options.max_pages
            )
        if total == 0:
            self.mark_empty(target, "the API lists no papers")

    def parse_items(
        self, content: bytes, *, source_ref: str, listing_date: dt.date | None
    ) -> Iterator[Paper | Rejected]:
        """The papers of one API response (a JSON list of daily-papers items)."""
        try:
            items = hf.decode_items(content)
        except (msgspec.DecodeError, ValueError) as exc:
            raise InputError(source_ref, f"not a daily-papers JSON list: {exc}") from None
        yield from hf.items_to_papers(
            items,
            source=self.name,
            source_ref=source_ref,
            listing_date=listing_date,
            parsed_from="api",
        )


def _params(url: str) -> dict[str, str]:
    return dict(parse_qsl(urlsplit(url).query))


def _date_param(url: str) -> dt.date | None:
    return hf.iso_date(_params(url).get("date"))


def _listed_day(url: str) -> dt.date | None:
    """The latest day an API listing covers: its `date`, or the last day of its week or month."""
    params = _params(url)
    if "date" in params:
        return _date_param(url)
    if week := params.get("week"):
        return hf.week_end(week)
    if month := params.get("month"):
        return hf.month_end(month)
    return None


def page_url(url: str, page: int) -> str:
    """`url` asking for page `page` (the `p` parameter; page 0 is the first)."""
    parts = urlsplit(url)
    params = dict(parse_qsl(parts.query))
    params["p"] = str(page)
    return urlunsplit(parts._replace(query=urlencode(params)))


@hookimpl
def register_sources(register) -> None:
    register(HfApiSource)
