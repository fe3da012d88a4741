"""Source `arxiv-listing`: arXiv's listing pages, fetched or saved (`harvester parse
arxiv-listing page.html`), read to the counts they print.

Targets, from the options (docs/arxiv.md):

* a whole listing per context (a category `cs.CL` or an archive `hep-th`) and kind: `/new` (the
  latest announcement: new submissions, cross-lists, replacements) or `/recent` / `/pastweek`
  (the last five announcements, one group per day), every page of it (`skip`/`show`);
* one day of a context (`days_from`..`days_to`): that day's group of `/recent`; a day without a
  listing (a weekend, a holiday named in `holidays`) is `empty` with the reason, unasked;
* saved pages and listing URLs given as `inputs`.

What each target declares (`harvester.outcomes`): every section's "showing X of Y" as a part
(Y for a fetched listing, which reads every page; X for a saved page, which is one page), the
page's entry count ("Total of N entries", or the page's range "1-50") as the total, and the day
the page prints for /new pages and day targets (older than the day the calendar expects:
`stale`). A page saying "No updates today." is `empty`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator
from typing import Annotated, Literal

import msgspec

from harvester import hookimpl
from harvester.api import Target
from harvester.checks import SourceCheck
from harvester.errors import InputError, TargetError
from harvester.files import FileSource, FileSourceOptions, is_url
from harvester.schema import Paper, Rejected

from . import urls
from .calendar import current_listing_day, no_listing_reason
from .entries import entry_to_paper
from .page import Entry, Heading, ListingPage, parse_page

Category = Annotated[str, msgspec.Meta(pattern=urls.CATEGORY_PATTERN)]
Archive = Annotated[str, msgspec.Meta(pattern=urls.ARCHIVE_PATTERN)]
BaseUrl = Annotated[str, msgspec.Meta(pattern=urls.BASE_URL_PATTERN)]
MAX_SHOW = 2000  # arXiv serves at most 2000 entries a page
DEFAULT_MAX_BYTES = 20_000_000  # a saved page is bounded like a response (the [fetch] default)


class ListingOptions(FileSourceOptions, kw_only=True, forbid_unknown_fields=True):
    categories: list[Category] = msgspec.field(default_factory=list)  # "cs.CL"
    archives: list[Archive] = msgspec.field(default_factory=list)  # "hep-th", "cs"
    # whole listings per context; default ["new"], or none when days are asked for
    listings: list[Literal["new", "recent", "pastweek"]] | None = None
    days_from: dt.date | None = None  # one target per context and day, from /recent
    days_to: dt.date | None = None  # defaults to days_from
    holidays: list[dt.date] = msgspec.field(default_factory=list)  # listing days arXiv skips
    base_url: BaseUrl = urls.ARXIV_SITE
    page_size: Annotated[int, msgspec.Meta(ge=1, le=MAX_SHOW)] = MAX_SHOW
    max_pages: Annotated[int, msgspec.Meta(ge=1)] = 50  # a guard against endless pagination

    def __post_init__(self) -> None:
        if self.days_to is not None and self.days_from is None:
            raise ValueError("days_to needs days_from (the first day of the range)")
        if self.days_from and self.days_to and self.days_to < self.days_from:
            raise ValueError(f"days_to {self.days_to} is before days_from {self.days_from}")
        if (self.days_from or self.listings) and not (self.categories or self.archives):
            raise ValueError("listings and days need categories or archives to list")

    def kinds(self) -> list[str]:
        if self.listings is not None:
            return list(self.listings)
        return [] if self.days_from else ["new"]

    def days(self) -> list[dt.date]:
        if self.days_from is None:
            return []
        last = self.days_to or self.days_from
        return [self.days_from + dt.timedelta(n) for n in range((last - self.days_from).days + 1)]


class ArxivListing(FileSource):
    name = "arxiv-listing"
    Options = ListingOptions
    options: ListingOptions
    trusted = True  # every text goes through clean_text (records.arxiv_paper)
    # No history guard: each page prints its own counts, which are checked instead.
    guard_counts = False
    # `harvester check arxiv-listing`: a saved /new page (new and cross-list sections)
    check = SourceCheck(
        fixtures=["check/new-day"],
        cut=["check/cut/cs.CL-new-cut.html"],
        bad_options=[{"page_size": 0}, {"listings": ["new"]}, {"categories": ["cs"]}],
        declares_totals=True,
    )

    def __init__(self, options, context):
        super().__init__(options, context)
        self._pages: dict[str, ListingPage] = {}  # the last listing's pages, by URL

    # -- targets -------------------------------------------------------------------------------

    def targets(self) -> list[Target]:
        o = self.options
        found = super().targets()
        current = current_listing_day(dt.datetime.now(dt.UTC), o.holidays)
        for target in found:
            if is_url(target.id):
                target.date = urls.day_fragment(target.id) or current
        for context in [*o.categories, *o.archives]:
            for kind in o.kinds():
                found.append(Target(urls.listing_url(o.base_url, context, kind), date=current))
            recent = urls.listing_url(o.base_url, context, "recent")
            found += [Target(f"{recent}#{day.isoformat()}", date=day) for day in o.days()]
        return found

    # -- reading -------------------------------------------------------------------------------

    def read(self, target: Target) -> Iterator[Paper | Rejected]:
        if not is_url(target.id):
            yield from self.read_saved(target)
            return
        day = urls.day_fragment(target.id)
        if urls.listing_of(target.id) is None:
            raise InputError(target.id, "not an arXiv listing URL (/list/<category>/new|recent)")
        if day is not None:
            yield from self.read_day(target, day)
        else:
            yield from self.read_listing(target)

    def read_saved(self, target: Target) -> Iterator[Paper | Rejected]:
        """One saved page: its sections' shown counts, and the page's count, declared."""
        settings = self.context.fetch_settings
        limit = settings.max_bytes if settings is not None else DEFAULT_MAX_BYTES
        page = parse_page(self.read_bytes(target, max_bytes=limit), target.id)
        if (day := page.day()) is not None:
            target.declare(day=day)
        refs = _file_refs(target.id, page)
        for section in page.sections:
            heading = section.heading
            if heading is not None and heading.shown is not None:
                target.declare(total=heading.shown, part=heading.name)
            for entry in section.entries:
                yield self.paper(entry, section.heading, page, refs(entry))
        self.declare_page(target, page, page.on_page())

    def read_listing(self, target: Target) -> Iterator[Paper | Rejected]:
        """Every page of a listing: each section's whole count, and "Total of N"."""
        first: ListingPage | None = None
        previous = None  # the last heading read: a continued section must be its sequel
        for url, page in self.pages(target, target.id):
            if first is None:
                first = page
                listing = urls.listing_of(target.id)
                if listing and listing[1] == "new" and (day := page.day()):
                    target.declare(day=day)
            elif page.total != first.total:
                target.cut_short(
                    f"the listing changed while it was read ({url} says Total of {page.total}, "
                    f"the first page {first.total}): a new announcement"
                )
                return
            for section in page.sections:
                heading = section.heading
                if heading is not None and heading.continued:
                    if previous is None or previous.label != heading.label:
                        target.cut_short(f"{url} continues {heading.text!r}, not the last section")
                        return
                elif heading is not None and heading.total is not None:
                    target.declare(total=heading.total, part=heading.name)
                previous = heading
                for entry in section.entries:
                    yield self.paper(entry, heading, page, f"{url}#{_anchor(entry)}")
        if first is not None:
            self.declare_page(target, first, first.total)

    def read_day(self, target: Target, day: dt.date) -> Iterator[Paper | Rejected]:
        """One day's group of /recent, from the page it starts on to where the next begins."""
        if (why := no_listing_reason(day, self.options.holidays)) is not None:
            target.mark_empty(why)
            return
        listing = target.id.split("#", 1)[0]
        first = self.page(target, urls.page_url(listing, 0, self.options.page_size))
        starts = dict(first.day_index)
        if day not in starts:
            self.day_not_listed(target, day, sorted(starts))
            return
        target.declare(day=day)
        skip = 0 if starts[day] < first.entry_count else starts[day]  # on the first page
        for url, page in self.pages(target, listing, skip=skip):
            for section in page.sections:
                heading = section.heading
                if heading is None or heading.day != day:
                    continue
                if not heading.continued and heading.total is not None:
                    target.declare(total=heading.total, part=heading.name)
                for entry in section.entries:
                    yield self.paper(entry, heading, page, f"{url}#{_anchor(entry)}")
            if any(s.heading and s.heading.day and s.heading.day < day for s in page.sections):
                return  # the next (older) day has begun: this one is whole

    def day_not_listed(self, target: Target, day: dt.date, listed: list[dt.date]) -> None:
        """A listing day /recent does not list: not announced yet (`stale`), nothing in this
        context that day (`empty`), or older than /recent goes back (an error)."""
        if not listed:
            raise InputError(target.id, "the /recent page lists no days")
        shown = ", ".join(d.isoformat() for d in listed)
        if day > listed[-1]:
            target.declare(day=listed[-1])  # the newest day listed: the target is stale
        elif day < listed[0]:
            raise InputError(
                target.id,
                f"{day} is older than the days /recent lists ({shown}): read it with arxiv-oai",
            )
        else:
            target.mark_empty(f"arXiv lists nothing in this listing for {day} (/recent: {shown})")

    # -- pages ---------------------------------------------------------------------------------

    def pages(
        self, target: Target, listing: str, skip: int = 0
    ) -> Iterator[tuple[str, ListingPage]]:
        """The pages of `listing` from entry `skip` on, until its "Total of N" is read. A page
        after the first that cannot be fetched cuts the target short."""
        size = self.options.page_size
        for number in range(self.options.max_pages):
            url = urls.page_url(listing, skip, size)
            try:
                page = self.page(target, url)
            except TargetError as exc:
                if number == 0:
                    raise
                target.cut_short(f"{url} could not be read: {exc.problem}")
                return
            yield url, page
            skip += page.entry_count
            if page.total is None or skip >= page.total:
                return
            if page.entry_count == 0:
                target.cut_short(f"{url} lists no entries, but the listing has {page.total}")
                return
        target.cut_short(f"stopped after max_pages={self.options.max_pages}")

    def page(self, target: Target, url: str) -> ListingPage:
        """The page at `url`, fetched once per listing (day targets share /recent's pages)."""
        if url not in self._pages:
            if not any(u.split("?")[0] == url.split("?")[0] for u in self._pages):
                self._pages.clear()  # another listing: drop the last one's pages
            self._pages[url] = parse_page(self.context.get(url).content, url)
        return self._pages[url]

    # -- entries -------------------------------------------------------------------------------

    def paper(
        self, entry: Entry, heading: Heading | None, page: ListingPage, ref: str
    ) -> Paper | Rejected:
        day = heading.day if heading is not None and heading.day else page.day()
        return entry_to_paper(entry, heading, ref=ref, listing_date=day, listed_in=page.listed_in)

    def declare_page(self, target: Target, page: ListingPage, total: int | None) -> None:
        """After the entries: the page's own count (a missing section falls short of it), or
        its "No updates" as the evidence of an empty listing."""
        if total is not None:
            target.declare(total=total)
        if page.entry_count == 0 and page.no_updates:
            target.mark_empty("the page says there are no updates for this listing")


def _anchor(entry: Entry) -> str:
    """The entry's anchor on the page: its id's (`id="2408.04000"`), else its number's."""
    link = entry.head.css_first('a[title="Abstract"]')
    return (link.attributes.get("id") if link is not None else None) or f"item{entry.number}"


def _file_refs(where: str, page: ListingPage) -> Callable[[Entry], str]:
    """'file:line' of each entry's <dt> (the entry number when a '<dt' hides in a comment)."""
    lines = page.dt_lines if len(page.dt_lines) == page.entry_count else []

    def ref(entry: Entry) -> str:
        return f"{where}:{lines[entry.number - 1]}" if lines else f"{where}#item{entry.number}"

    return ref


@hookimpl
def register_sources(register) -> None:
    register(ArxivListing)
