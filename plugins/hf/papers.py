"""Source `hf-papers`: huggingface.co/papers listing pages (daily, weekly, monthly, trending,
search), fetched or saved (`harvester parse hf-papers page.html`).

The page's embedded JSON is read when it is there (`extra.hf.parsed_from = "embedded-json"`),
the rendered cards otherwise (`"cards"`; what a card can and cannot give: `cards`). What the
page promises is declared for the target's outcome: its own day, the number of items its JSON
list carries (fewer read: `incomplete`), and, read from its cards, whether the page is whole (a
page cut before `</html>` is `incomplete`: its cards after the cut are missing). A daily page
is attributed only to the day it shows: a page showing another day than the one asked for (the
site serves a day without a list as another day, with or without a redirect) is an empty day,
and a page whose day cannot be determined is an error naming the URL.

Incremental runs: pages are fetched with the ETag / Last-Modified remembered from the last run
and a 304 leaves the target unchanged; a target's `date` (its latest day) puts recent pages in
the run's refresh window; saved files are read again when their size or mtime changes.
"""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Iterator
from typing import Any

import msgspec

from harvester import hookimpl
from harvester.api import Target
from harvester.errors import InputError
from harvester.files import is_url
from harvester.schema import Paper, Rejected

from . import urls
from .base import HfOptions, HfSource
from .cards import cards_to_papers
from .items import items_to_papers
from .page import embedded_items, ends_whole, page_day, read_props


class HfPapersOptions(HfOptions, kw_only=True, forbid_unknown_fields=True):
    trending: bool = False
    search: list[str] = msgspec.field(default_factory=list)  # search queries


class HfPapersSource(HfSource):
    name = "hf-papers"
    Options = HfPapersOptions
    options: HfPapersOptions

    def listing_urls(self) -> list[str]:
        o, base = self.options, self.options.base_url
        found = self.period_urls(urls.daily_url, urls.week_url, urls.month_url)
        if o.trending:
            found.append(urls.trending_url(base))
        return found + [urls.search_url(base, query) for query in o.search]

    def listed_day(self, url: str) -> dt.date | None:
        return urls.listed_day(url, today=dt.date.today())

    def fetch(self, target: Target) -> Any:
        return self.conditional_get(target, target.id) if is_url(target.id) else None

    def read(self, target: Target) -> Iterator[Paper | Rejected]:
        if not is_url(target.id):
            yield from self.parse_page(self.saved_file(target), target, requested=None)
            return
        resp = target.fetched if target.fetched is not None else self.fetch(target)
        if not self.settle(target, resp):
            return
        requested = urls.requested_day(target.id)
        landed = urls.requested_day(resp.final_url)
        if requested is not None and landed is not None and landed != requested:
            target.mark_empty(f"no list for {requested}: redirected to {resp.final_url}")
            return
        yield from self.parse_page(resp.content, target, requested=requested)

    def parse_page(
        self, content: bytes, target: Target, *, requested: dt.date | None
    ) -> Iterator[Paper | Rejected]:
        """The papers of one listing page. `requested`: the day a daily URL asked for."""
        where, log = target.id, self.context.log
        props = read_props(content, where, log)
        shown = page_day(props, content)
        if requested is not None:
            if shown.day is None:
                raise InputError(
                    where, f"asked for {requested}, cannot tell the page's day: {shown.shown_by}"
                )
            if shown.day != requested:
                target.mark_empty(f"no list for {requested}: the page shows {shown.day}")
                return
        self.check_captured(target, shown.day)
        if shown.day is not None:
            target.declare(day=shown.day)
        items = embedded_items(props, where, log)
        if items is not None:
            target.declare(total=len(items))  # the list the page's JSON carries, whole
            if not items:
                target.mark_empty("the page's list is empty")
            yield from items_to_papers(
                items,
                source=self.name,
                source_ref=where,
                fixed_day=shown.day,
                parsed_from="embedded-json",
            )
            return
        yield from self.parse_cards(content, target, shown.day)

    def parse_cards(
        self, content: bytes, target: Target, listing_date: dt.date | None
    ) -> Iterator[Paper | Rejected]:
        @functools.cache  # asked only for a yearless date without a listing day; warns once
        def reference() -> dt.date:
            return dt.date.today() if is_url(target.id) else self.captured_on(target)

        if not ends_whole(content):
            target.cut_short("the page ends before </html>: cards after the cut are missing")
        count = 0
        for entry in cards_to_papers(
            content,
            source=self.name,
            source_ref=target.id,
            listing_date=listing_date,
            reference=reference,
        ):
            count += 1
            yield entry
        if count == 0:
            raise InputError(target.id, "no paper list found (neither DailyPapers JSON nor cards)")


@hookimpl
def register_sources(register) -> None:
    register(HfPapersSource)
