"""Source `hf-api`: the Hugging Face daily-papers JSON API (`/api/daily_papers`), fetched or a
saved response (`harvester parse hf-api response.json`).

One target per listing (a day, an ISO week, a month, or a URL / saved JSON file given as an
input). `fetch` follows the pagination (`p` = 0, 1, ...) until a page comes back shorter than
`limit`, empty, or repeating what came before. Items go through the one mapping
(`items.item_to_paper`) the page's embedded JSON uses. For the target's outcome each page's size
is declared (every item read), a listing stopped by `max_pages` is cut short (`incomplete`), a
page that cannot be fetched fails the listing (none of it published), and an empty weekday is
never trusted (`incomplete`; a weekend without a list is `empty`).

Listing days: a fetched daily listing is the day it asked for, once the API confirms it (a
response whose items are all stamped another day is that other day's list: an empty day). A
saved response (or a week or month) takes each item's `paper.submittedOnDailyAt` (see
`items.listing_days`); the oldest item shape has none, and then `listing_date` is null with the
reason in `extra.hf.listing_date_unknown`.

No conditional requests: a listing spans several pages, one page's ETag says nothing about the
others, and a 304 on some pages leaves no body to rebuild the listing from.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Annotated

import msgspec

from harvester import hookimpl
from harvester.api import Target
from harvester.checks import SourceCheck
from harvester.errors import InputError, TargetError
from harvester.files import is_url
from harvester.schema import Paper, Rejected

from . import urls
from .base import HfOptions, HfSource
from .items import HfItem, decode_items, items_to_papers, stamped_days


class HfApiOptions(HfOptions, kw_only=True, forbid_unknown_fields=True):
    limit: Annotated[int, msgspec.Meta(ge=1)] = 50  # items per page
    max_pages: Annotated[int, msgspec.Meta(ge=1)] = 100  # a guard against endless pagination


@dataclass
class Fetched:
    """The pages of one listing: (url, items) in order, and the error that ended it early."""

    pages: list[tuple[str, list[HfItem | Rejected]]]
    error: TargetError | None = None
    cut: str | None = None  # why the listing stopped before its end (max_pages)


class HfApiSource(HfSource):
    name = "hf-api"
    Options = HfApiOptions
    options: HfApiOptions
    # `harvester check hf-api`: a saved API response (as `harvester parse hf-api FILE` reads it)
    check = SourceCheck(
        fixtures=["check/api-day"],
        cut=["check/cut/api-cut.json"],
        options={"captured_on": "2026-10-06"},
        bad_options=[{"limit": 0}, {"max_pages": 0}],
        declares_totals=True,
    )

    def listing_urls(self) -> list[str]:
        limit = self.options.limit
        return self.period_urls(
            lambda base, day: urls.api_url(base, date=day.isoformat(), limit=limit),
            lambda base, week: urls.api_url(base, week=week, limit=limit),
            lambda base, month: urls.api_url(base, month=month, limit=limit),
        )

    def listed_day(self, url: str) -> dt.date | None:
        return urls.api_listed_day(url)

    def fetch(self, target: Target) -> Fetched | None:
        """Every page of a listing URL (None for a saved file). A page that cannot be fetched or
        is not a JSON list ends the listing, which then fails whole (`read` raises it)."""
        if not is_url(target.id):
            return None
        limit = self.page_size(target.id)
        fetched, seen = Fetched([]), set[str]()
        for page in range(self.options.max_pages):
            url = urls.page_url(target.id, page, limit)
            try:
                items = decode_items(self.context.get(url).content, url)
            except TargetError as exc:  # InputError or FetchError; Deferred goes to the run
                fetched.error = exc
                return fetched
            ids = {
                it.paper.id for it in items if isinstance(it, HfItem) and it.paper and it.paper.id
            }
            if items and ids and ids <= seen:
                break  # the API ignored `p` and repeated a page
            seen |= ids
            fetched.pages.append((url, items))
            if len(items) < limit:
                return fetched
        fetched.cut = f"stopped after max_pages={self.options.max_pages}, more pages follow"
        return fetched

    def page_size(self, url: str) -> int:
        """The `limit` a listing URL asks for (the option's when it names none)."""
        given = urls.api_params(url).get("limit")
        if given is None:
            return self.options.limit
        if not given.isdigit() or int(given) < 1:
            raise InputError(url, f"limit={given!r} in the URL is not a page size")
        return int(given)

    def read(self, target: Target) -> Iterator[Paper | Rejected]:
        if not is_url(target.id):
            yield from self.read_saved(target)
            return
        fetched = target.fetched if target.fetched is not None else self.fetch(target)
        assert fetched is not None  # a URL is always fetched
        requested = urls.iso_day(urls.api_params(target.id).get("date"))
        every = [item for _, items in fetched.pages for item in items]
        stamped = stamped_days(every)
        if requested is not None and stamped and requested not in stamped:
            shown = ", ".join(sorted(d.isoformat() for d in stamped))
            target.mark_empty(f"no list for {requested}: the API returned the papers of {shown}")
            return
        if fetched.error is not None:
            raise fetched.error  # a listing cut by a failed page publishes none of it
        if fetched.cut is not None:
            target.cut_short(fetched.cut)
        if requested is not None:
            target.declare(day=requested)
            if not every and requested.weekday() >= 5:
                # The site has no daily list on Saturdays and Sundays.
                target.mark_empty(f"the API lists no papers for {requested} (a weekend)")
            else:  # an empty weekday is not trusted: incomplete, read again next run
                target.declare(empty_plausible=False)
        for url, items in fetched.pages:
            if items:  # each page's size: every item read (an empty page declares nothing)
                target.declare(total=len(items), part=url)
            yield from items_to_papers(
                items, source=self.name, source_ref=url, fixed_day=requested, parsed_from="api"
            )

    def read_saved(self, target: Target) -> Iterator[Paper | Rejected]:
        items = decode_items(self.saved_file(target), target.id)
        for day in stamped_days(items):
            self.check_captured(target, day)
        target.declare(total=len(items))  # the saved list, whole
        if not items:
            target.mark_empty("the saved response lists no papers")
        yield from items_to_papers(
            items, source=self.name, source_ref=target.id, fixed_day=None, parsed_from="api"
        )


@hookimpl
def register_sources(register) -> None:
    register(HfApiSource)
