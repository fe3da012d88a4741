"""What the two HF sources share: options, targets that are URLs or saved files, the conditional
GET, and the capture-day check."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import TYPE_CHECKING, Annotated

import msgspec

from harvester.api import Target
from harvester.errors import InputError
from harvester.files import FileSource, FileSourceOptions, is_url

from .urls import HF_SITE, MONTH_PATTERN, WEEK_PATTERN, days, week_end

if TYPE_CHECKING:
    from harvester.fetch.client import Response

DEFAULT_MAX_BYTES = 20_000_000  # a saved file is bounded like a response (the [fetch] default)

Week = Annotated[str, msgspec.Meta(pattern=WEEK_PATTERN)]  # "2026-W41"
Month = Annotated[str, msgspec.Meta(pattern=MONTH_PATTERN)]  # "2026-10"
BaseUrl = Annotated[str, msgspec.Meta(pattern=r"^https?://[^\s/?#]+/?$")]


class HfOptions(FileSourceOptions, kw_only=True, forbid_unknown_fields=True):
    """Options both HF sources take (besides `inputs` and `captured_on`)."""

    base_url: BaseUrl = HF_SITE
    daily_from: dt.date | None = None  # a range of daily listings, both ends included
    daily_to: dt.date | None = None  # defaults to daily_from
    weeks: list[Week] = msgspec.field(default_factory=list)
    months: list[Month] = msgspec.field(default_factory=list)

    def __post_init__(self) -> None:
        if self.daily_to is not None and self.daily_from is None:
            raise ValueError("daily_to needs daily_from (the first day of the range)")
        if self.daily_from and self.daily_to and self.daily_to < self.daily_from:
            raise ValueError(f"daily_to {self.daily_to} is before daily_from {self.daily_from}")
        for week in self.weeks:
            if week_end(week) is None:
                raise ValueError(f"week {week!r} does not exist (that year has 52 weeks)")

    def daily_range(self) -> list[dt.date]:
        if self.daily_from is None:
            return []
        return days(self.daily_from, self.daily_to or self.daily_from)


class HfSource(FileSource):
    """A listing source whose targets are listing URLs or saved files of them."""

    options: HfOptions
    trusted = True  # every paper is built through harvester.normalise (items.new_paper)
    guard_counts = True  # a listing far below its recent paper counts is held back

    def listing_urls(self) -> list[str]:
        """The URLs the options ask for (besides `inputs`)."""
        raise NotImplementedError

    def period_urls(self, day: Callable, week: Callable, month: Callable) -> list[str]:
        """The listings of `daily_from`..`daily_to`, `weeks` and `months`, in that order, each
        built by its URL function from the base URL and the day, week or month."""
        o = self.options
        found = [day(o.base_url, d) for d in o.daily_range()]
        found += [week(o.base_url, w) for w in o.weeks]
        return found + [month(o.base_url, m) for m in o.months]

    def listed_day(self, url: str) -> dt.date | None:
        """The latest day a listing URL covers (the run's refresh window)."""
        raise NotImplementedError

    def targets(self) -> list[Target]:
        found = super().targets()  # inputs: files, globs and URLs
        found += [Target(url) for url in self.listing_urls()]
        for target in found:
            if is_url(target.id):
                target.date = self.listed_day(target.id)
        return found

    def max_bytes(self) -> int:
        settings = self.context.fetch_settings
        return settings.max_bytes if settings is not None else DEFAULT_MAX_BYTES

    def saved_file(self, target: Target) -> bytes:
        return self.read_bytes(target, max_bytes=self.max_bytes())

    def conditional_get(self, target: Target, url: str) -> Response:
        """GET `url` with the validators remembered from the last run (`target.memo`)."""
        headers = {}
        if etag := target.memo.get("etag"):
            headers["If-None-Match"] = etag
        if modified := target.memo.get("last_modified"):
            headers["If-Modified-Since"] = modified
        return self.context.get(url, headers=headers or None)

    def settle(self, target: Target, resp: Response) -> bool:
        """True when `resp` is a body to read. A 304 marks the target unchanged (a 304 to a
        request that sent no validators is an `InputError`); a 200 remembers its validators,
        even none (validators the server dropped are forgotten)."""
        if resp.status == 304:
            if not (target.memo.get("etag") or target.memo.get("last_modified")):
                raise InputError(
                    target.id, "HTTP 304 Not Modified to a request that was not conditional"
                )
            target.mark_unchanged()
            return False
        validators = {
            name: value
            for name, value in (
                ("etag", resp.headers.get("etag")),
                ("last_modified", resp.headers.get("last-modified")),
            )
            if value
        }
        target.remember(**validators)
        return True

    def check_captured(self, target: Target, day: dt.date | None) -> None:
        """A saved file cannot list a day after the day it was captured: a wrong `captured_on`
        or a wrong file, named, instead of dates resolved against it."""
        if day is None or is_url(target.id):
            return
        captured = self.file_of(target).captured_on
        if captured is not None and day > captured:
            raise InputError(
                target.id, f"lists {day}, after its captured_on {captured}: wrong file or date"
            )
