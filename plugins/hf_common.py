"""What the two Hugging Face Papers sources share: the item shape, the ONE item -> Paper mapping,
listing URLs, and the small text parsers the rendered cards need.

The page's embedded JSON (`data-props` of `data-target="DailyPapers"`) and `/api/daily_papers`
hold the same item shape, so both sources decode it with the structs below and map it through
`item_to_paper`; the card fallback builds its `Paper` through the same `make_paper`.
"""

from __future__ import annotations

import calendar
import datetime as dt
import os
import re
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any
from urllib.parse import quote, urlencode, urlsplit

import msgspec

from harvester import normalise
from harvester.api import Source
from harvester.errors import ConfigError, InputError, RejectEntry, Unchanged
from harvester.normalise import arxiv_key, clean_text, title_key
from harvester.schema import Paper, Rejected

if TYPE_CHECKING:
    from harvester.api import RunContext
    from harvester.fetch import FetchSettings, Response

HF_SITE = "https://huggingface.co"  # canonical paper URLs always point at the real site


# --- the item shape (unknown keys are ignored; every field may be missing) -------------------


class HfUser(msgspec.Struct):
    name: str | None = None  # the username on `submittedBy`; the display name on authors
    fullname: str | None = None
    user: str | None = None


class HfAuthor(msgspec.Struct):
    name: str | None = None
    hidden: bool = False


class HfOrg(msgspec.Struct):
    name: str | None = None
    fullname: str | None = None


class HfPaperData(msgspec.Struct):
    id: str | None = None
    title: str | None = None
    summary: str | None = None
    authors: list[HfAuthor] = []
    publishedAt: str | None = None
    submittedOnDailyAt: str | None = None
    submittedOnDailyBy: HfUser | None = None
    upvotes: int | None = None
    githubRepo: str | None = None
    githubStars: int | None = None
    projectPage: str | None = None
    ai_summary: str | None = None
    ai_keywords: list[str] = []
    organization: HfOrg | None = None


class HfItem(msgspec.Struct):
    paper: HfPaperData | None = None
    title: str | None = None
    summary: str | None = None
    publishedAt: str | None = None
    numComments: int | None = None
    submittedBy: HfUser | None = None
    organization: HfOrg | None = None


_ITEMS = msgspec.json.Decoder(list[HfItem])
_ANY = msgspec.json.Decoder()
_ENCODE = msgspec.json.Encoder()


def decode_items(raw: bytes | str | list[Any]) -> list[HfItem | Rejected]:
    """Decode a JSON list of items; a malformed item becomes a `Rejected`, the others survive.

    The typed decode of the whole list is the fast path; only when it fails is the list decoded
    generically and converted item by item, so one bad item costs only itself.
    Raises `msgspec.DecodeError` / `ValueError` when `raw` is not a JSON list at all.
    """
    if not isinstance(raw, list):
        try:
            return list(_ITEMS.decode(raw))
        except msgspec.ValidationError:
            raw = _ANY.decode(raw)
        if not isinstance(raw, list):
            raise ValueError(f"expected a JSON list of papers, got {type(raw).__name__}")
    return [convert_item(entry) for entry in raw]


def convert_item(entry: Any) -> HfItem | Rejected:
    try:
        return msgspec.convert(entry, HfItem)
    except msgspec.ValidationError as exc:
        return Rejected(reason=f"malformed paper item: {exc}", raw=_raw_text(entry))


def _raw_text(entry: Any) -> str:
    try:
        return _ENCODE.encode(entry).decode()[:2000]
    except (TypeError, msgspec.EncodeError):
        return repr(entry)[:2000]


# --- the one mapping --------------------------------------------------------------------------

_ARXIV_ID = re.compile(r"^(\d{4}\.\d{4,5}|[a-z-]+(?:\.[A-Z]{2})?/\d{7})(?:v\d+)?$")


def arxiv_id_of(text: str | None) -> str | None:
    """The arXiv id (version dropped) in an HF paper id, or None when it is not one."""
    if not text:
        return None
    m = _ARXIV_ID.match(text.strip())
    return m.group(1) if m else None


def paper_url(arxiv_or_hf_id: str) -> str:
    return f"{HF_SITE}/papers/{arxiv_or_hf_id}"


def item_to_paper(
    item: HfItem,
    *,
    source: str,
    source_ref: str,
    listing_date: dt.date | None,
    parsed_from: str,
) -> Paper:
    """Map one HF daily-papers item (embedded JSON or API) to a `Paper`.

    Raises `RejectEntry` when the item has no usable id or title.
    """
    data = item.paper or HfPaperData()
    org = item.organization or data.organization
    submitter = item.submittedBy or data.submittedOnDailyBy
    authors = [a.name for a in data.authors if a.name]
    hf: dict[str, Any] = {"parsed_from": parsed_from}
    _put(hf, "github_repo", data.githubRepo)
    _put(hf, "github_stars", data.githubStars)
    _put(hf, "project_page", data.projectPage)
    _put(hf, "ai_summary", clean_text(data.ai_summary))
    _put(hf, "ai_keywords", data.ai_keywords or None)
    _put(hf, "organization_id", org.name if org else None)
    _put(hf, "submitter", (submitter.name or submitter.user) if submitter else None)
    _put(hf, "submitted_on_daily_at", data.submittedOnDailyAt)
    published_raw = data.publishedAt or item.publishedAt
    return make_paper(
        hf_id=data.id,
        title=item.title or data.title,
        abstract=data.summary or item.summary,
        authors=authors,
        author_count=len(authors) if data.authors else None,
        organization=(org.fullname or org.name) if org else None,
        submitted_by=(submitter.fullname or submitter.name) if submitter else None,
        published=iso_date(published_raw),
        published_raw=published_raw,
        upvotes=data.upvotes,
        comments=item.numComments,
        listing_date=listing_date,
        source=source,
        source_ref=source_ref,
        hf=hf,
    )


def items_to_papers(
    items: list[HfItem | Rejected],
    *,
    source: str,
    source_ref: str,
    listing_date: dt.date | None,
    parsed_from: str,
) -> Iterator[Paper | Rejected]:
    """Every decoded item as a `Paper`, or a `Rejected` naming `source_ref`."""
    for item in items:
        if isinstance(item, Rejected):
            item.source_ref = source_ref
            yield item
            continue
        try:
            yield item_to_paper(
                item,
                source=source,
                source_ref=source_ref,
                listing_date=listing_date,
                parsed_from=parsed_from,
            )
        except RejectEntry as exc:
            yield Rejected(reason=exc.reason, source_ref=source_ref, raw=exc.raw)


class HfSource(Source):
    """What the two HF sources share: URLs or saved files as targets, listing-page semantics."""

    trusted = True  # every paper is built through harvester.normalise in make_paper
    guard_counts = True  # a listing: one far below its recent paper counts is held back

    def fingerprint(self, target: str) -> str | None:
        return None if is_url(target) else file_fingerprint(self.context.resolve(target))

    def read_saved(self, target: str) -> bytes:
        """A saved page or response (`harvester parse hf-papers page.html`)."""
        try:
            return self.context.resolve(target).read_bytes()
        except OSError as exc:
            raise InputError(target, f"cannot read file: {exc.strerror or exc}") from None

    def fetch_settings(self) -> FetchSettings | None:
        """The run's fetch settings with this source's `fetch = {...}` (None: no overrides)."""
        if not self.options.fetch:
            return None
        from harvester.fetch import merge_settings

        try:
            return merge_settings(self.context.fetcher.settings, self.options.fetch)
        except (ValueError, TypeError, msgspec.ValidationError) as exc:
            raise ConfigError(str(exc), key=f"{self.name}.fetch") from None


def make_paper(
    *,
    hf_id: str | None,
    title: str | None,
    source: str,
    source_ref: str,
    hf: dict[str, Any],
    abstract: str | None = None,
    authors: list[str] | None = None,
    author_count: int | None = None,
    organization: str | None = None,
    submitted_by: str | None = None,
    published: dt.date | None = None,
    published_raw: str | None = None,
    published_inferred: bool = False,
    upvotes: int | None = None,
    comments: int | None = None,
    listing_date: dt.date | None = None,
) -> Paper:
    """The normalised `Paper` of one listing entry (both parse paths end here)."""
    clean_title = clean_text(title)
    if not clean_title:
        raise RejectEntry(f"paper {hf_id or '?'} has no title")
    if not hf_id:
        raise RejectEntry(f"paper {clean_title!r} has no id")
    arxiv_id = arxiv_id_of(hf_id)
    names = [n for n in (clean_text(a) for a in authors or ()) if n]
    return Paper(
        key=arxiv_key(arxiv_id) if arxiv_id else title_key(clean_title),
        arxiv_id=arxiv_id,
        title=clean_title,
        abstract=clean_text(abstract),
        authors=names,
        author_count=author_count,
        organization=clean_text(organization),
        submitted_by=clean_text(submitted_by),
        published=published,
        published_raw=clean_text(published_raw),
        published_inferred=published_inferred,
        upvotes=_count(upvotes),
        comments=_count(comments),
        listing_date=listing_date,
        url=paper_url(arxiv_id or hf_id),
        source=source,
        source_ref=source_ref,
        extra={"hf": hf},
    )


def _put(target: dict[str, Any], key: str, value: Any) -> None:
    if value is not None and value != "":
        target[key] = value


def _count(value: int | None) -> int | None:
    return value if value is None or value >= 0 else None


# --- text parsers (local until harvester.normalise grows its own) -----------------------------


def iso_date(text: str | None) -> dt.date | None:
    """The date of an ISO date or timestamp ('2026-02-26T17:08:18.000Z' -> 2026-02-26)."""
    if not text or len(text) < 10:
        return None
    try:
        return dt.date.fromisoformat(text[:10])
    except ValueError:
        return None


def parse_count(text: str | None) -> int | None:
    """A displayed count ('149', '1.54k', '-'), or None when the text is not one."""
    try:
        return normalise.parse_count(text or "")
    except ValueError:
        return None


def parse_shown_date(text: str | None, reference: dt.date) -> tuple[dt.date | None, bool]:
    """A card's date ('Dec 28, 2024', 'Published on Sep 4, 2026', 'May 29') and whether its
    year was inferred, by the one rule of `harvester.normalise.parse_published`; else
    (None, False)."""
    try:
        shown = normalise.parse_published(text or "", reference)
    except ValueError:
        return None, False
    return shown.date, shown.inferred


# --- listing URLs ------------------------------------------------------------------------------

_WEEK = re.compile(r"^\d{4}-W\d{2}$")
_MONTH = re.compile(r"^\d{4}-\d{2}$")


def daily_url(base_url: str, day: dt.date) -> str:
    return f"{base_url.rstrip('/')}/papers/date/{day.isoformat()}"


def week_url(base_url: str, week: str) -> str:
    return f"{base_url.rstrip('/')}/papers/week/{check_week(week)}"


def month_url(base_url: str, month: str) -> str:
    return f"{base_url.rstrip('/')}/papers/month/{check_month(month)}"


def trending_url(base_url: str) -> str:
    return f"{base_url.rstrip('/')}/papers/trending"


def search_url(base_url: str, query: str) -> str:
    return f"{base_url.rstrip('/')}/papers?q={quote(query)}"


def api_url(base_url: str, **params: Any) -> str:
    query = urlencode({k: v for k, v in params.items() if v is not None})
    return f"{base_url.rstrip('/')}/api/daily_papers?{query}"


def check_week(week: str) -> str:
    if not _WEEK.match(week):
        raise ValueError(f"week {week!r} is not of the form YYYY-Www (e.g. 2026-W41)")
    return week


def check_month(month: str) -> str:
    if not _MONTH.match(month):
        raise ValueError(f"month {month!r} is not of the form YYYY-MM (e.g. 2026-10)")
    return month


def days(first: dt.date, last: dt.date) -> list[dt.date]:
    if last < first:
        raise ValueError(f"daily range ends ({last}) before it starts ({first})")
    return [first + dt.timedelta(days=n) for n in range((last - first).days + 1)]


_DAILY_PATH = re.compile(r"/papers/date/(\d{4}-\d{2}-\d{2})/?$")


def requested_day(url: str) -> dt.date | None:
    """The day a daily-listing URL asks for (None for other listings)."""
    m = _DAILY_PATH.search(urlsplit(url).path)
    return iso_date(m.group(1)) if m else None


def is_url(target: str) -> bool:
    return target.startswith(("http://", "https://"))


_WEEK_PATH = re.compile(r"/papers/week/(\d{4}-W\d{2})/?$")
_MONTH_PATH = re.compile(r"/papers/month/(\d{4}-\d{2})/?$")


def week_end(week: str) -> dt.date | None:
    """The last day (Sunday) of ISO week '2026-W41'; None when it is not a week."""
    try:
        return dt.date.fromisocalendar(int(week[:4]), int(check_week(week)[6:]), 7)
    except ValueError:
        return None


def month_end(month: str) -> dt.date | None:
    """The last day of month '2026-10'; None when it is not a month."""
    try:
        year, number = int(check_month(month)[:4]), int(month[5:])
        return dt.date(year, number, calendar.monthrange(year, number)[1])
    except (ValueError, calendar.IllegalMonthError):
        return None


def listed_day(url: str, today: dt.date | None = None) -> dt.date | None:
    """The latest day a listing URL covers, for the run's refresh window: a daily page's day,
    the last day of a week or month page, today for pages that always show the present
    (trending, search); None for anything else."""
    day = requested_day(url)
    if day is not None:
        return day
    path = urlsplit(url).path
    if m := _WEEK_PATH.search(path):
        return week_end(m[1])
    if m := _MONTH_PATH.search(path):
        return month_end(m[1])
    if path.rstrip("/").endswith(("/papers/trending", "/papers")):
        return today or dt.date.today()
    return None


def file_fingerprint(path: str | os.PathLike[str]) -> str | None:
    """Size and modification time of a saved page: a changed file is read again."""
    try:
        info = os.stat(path)
    except OSError:
        return None  # read() reports the missing file
    return f"{info.st_size}:{info.st_mtime_ns}"


def conditional_get(
    context: RunContext, url: str, settings: FetchSettings | None = None
) -> Response:
    """GET `url` sending the validators remembered from the last run (`If-None-Match`,
    `If-Modified-Since`) and remembering the new ones on a 200.

    Raises `Unchanged` on a 304 (the run counts the target as unchanged, not failed), and
    `InputError` on a 304 to a request that was not conditional (a misbehaving server).
    """
    memo = context.memo(url)
    headers = {}
    if etag := memo.get("etag"):
        headers["If-None-Match"] = etag
    if modified := memo.get("last_modified"):
        headers["If-Modified-Since"] = modified
    resp = context.fetcher.get(url, headers=headers or None, settings=settings)
    if resp.status == 304:
        if not headers:
            raise InputError(url, "HTTP 304 Not Modified to a request that was not conditional")
        raise Unchanged(url)
    validators = {
        name: value
        for name, value in (
            ("etag", resp.headers.get("etag")),
            ("last_modified", resp.headers.get("last-modified")),
        )
        if value
    }
    context.remember(url, **validators)  # even none: validators the server dropped are forgotten
    return resp
