"""The daily-papers item (the page's embedded JSON and `/api/daily_papers` share it), the ONE
item -> `Paper` mapping, and `new_paper`, the builder the rendered cards use as well.

One meaning per field on every path:

* `submitted_by` is the submitter's HF **account name** (`submittedBy.name`): the name a card
  shows, unique, a key to huggingface.co/<name>. The display name (`fullname`), which only the
  JSON carries, goes to `extra.hf.submitter_name`.
* `organization` is the organisation's display name (`fullname`); its account name goes to
  `extra.hf.organization_id`.
* `listing_date` is the day of the daily list the paper was listed on; see `listing_days`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Iterator
from typing import Any

import msgspec

from harvester.errors import InputError, RejectEntry
from harvester.normalise import clean_names, clean_text, parse_arxiv_id
from harvester.schema import Paper, Rejected

from .urls import iso_day, paper_url

# --- the item shape (unknown keys are ignored; every field may be missing) -------------------
# `gc=False`: decoded trees of strings, numbers and lists never form a cycle, so the collector
# need not track them. They were three quarters of what a page allocated: about one collection
# a page, ~10 % of a run's CPU (a run with the collector off took 12 % less).


class HfUser(msgspec.Struct, gc=False):
    name: str | None = None  # the account name (on `submittedBy`; `user` on other user objects)
    fullname: str | None = None  # the display name
    user: str | None = None


class HfAuthor(msgspec.Struct, gc=False):
    name: str | None = None  # the author's name as the paper gives it
    hidden: bool = False


class HfOrg(msgspec.Struct, gc=False):
    name: str | None = None  # the account name (slug)
    fullname: str | None = None


class HfPaperData(msgspec.Struct, gc=False):
    id: str | None = None
    title: str | None = None
    summary: str | None = None
    authors: list[HfAuthor] | None = None
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


class HfItem(msgspec.Struct, gc=False):
    paper: HfPaperData | None = None
    title: str | None = None
    summary: str | None = None
    numComments: int | None = None
    submittedBy: HfUser | None = None
    organization: HfOrg | None = None
    # The top-level `publishedAt` is not read: in the 2024 shape it is when the paper was put on
    # the daily list, in the current one `paper.publishedAt` shifted by some hours.


_ITEMS = msgspec.json.Decoder(list[HfItem])
_ANY = msgspec.json.Decoder()
_ENCODE = msgspec.json.Encoder()


class TooDeep(InputError):
    """JSON nested deeper than msgspec decodes (issue 11): the target fails, named."""


def decode_json(raw: bytes | str, where: str) -> Any:
    """Untyped JSON, or an `InputError` naming `where` (invalid, or `TooDeep`).

    The nesting bound is msgspec's own: it stops at the interpreter's recursion limit (about
    1,000 levels; an item nests 4 deep) with a RecursionError, before any stack is at risk. A
    scan for depth before decoding would cost five times the decode itself."""
    try:
        return _ANY.decode(raw)
    except msgspec.DecodeError as exc:
        raise InputError(where, f"invalid JSON: {exc}") from None
    except RecursionError:
        raise TooDeep(where, "JSON nested too deeply to be a paper list") from None


def decode_items(raw: bytes | str, where: str) -> list[HfItem | Rejected]:
    """A JSON list of items; a malformed item becomes a `Rejected`, the others survive.

    The typed decode of the whole list is the fast path; only when it fails is the list decoded
    generically and converted item by item, so one bad item costs only itself. Anything that is
    not a JSON list is an `InputError` naming `where`.
    """
    try:
        return list(_ITEMS.decode(raw))
    except (msgspec.ValidationError, msgspec.DecodeError, RecursionError):
        pass  # find out which: decode_json raises for broken JSON, the loop rejects bad items
    entries = decode_json(raw, where)
    if not isinstance(entries, list):
        raise InputError(where, f"expected a JSON list of papers, got {type(entries).__name__}")
    return [_convert(entry, where) for entry in entries]


def _convert(entry: Any, where: str) -> HfItem | Rejected:
    try:
        return msgspec.convert(entry, HfItem)
    except msgspec.ValidationError as exc:
        raw = _ENCODE.encode(entry).decode()[:2000]
        return Rejected(reason=f"malformed paper item: {exc}", source_ref=where, raw=raw)


# --- listing days --------------------------------------------------------------------------------


def daily_stamp(item: HfItem) -> tuple[dt.date | None, bool]:
    """The UTC day of `paper.submittedOnDailyAt`, and whether the value is a day stamp.

    Current responses stamp the list's day itself ('2026-07-21T00:00:00.000Z'); earlier ones
    the time of submission ('2026-03-06T03:55:12.777Z'), whose UTC day need not be the list's.
    """
    stamp = item.paper.submittedOnDailyAt if item.paper else None
    if (day := iso_day(stamp)) is not None:
        return day, True
    return _iso_day(stamp), False


def listing_days(
    items: list[HfItem], fixed: dt.date | None
) -> list[tuple[dt.date | None, str | None]]:
    """Each item's listing day, or None with the reason.

    `fixed`: the list's own day when it is known (the day a daily URL asked for and the page or
    API confirmed, a page's `dateString`): every item is on it. Otherwise per response: a day
    stamp names its day; a time stamp counts only when every time-stamped item of the response
    falls on one UTC day (an item submitted late UTC may otherwise carry the previous day).
    """
    if fixed is not None:
        return [(fixed, None)] * len(items)
    stamps = [daily_stamp(item) for item in items]
    timed_days = {day for day, exact in stamps if day is not None and not exact}
    out: list[tuple[dt.date | None, str | None]] = []
    for day, exact in stamps:
        if day is None:
            out.append((None, "the item has no submittedOnDailyAt"))
        elif exact or len(timed_days) == 1:
            out.append((day, None))
        else:
            days = ", ".join(sorted(d.isoformat() for d in timed_days))
            out.append((None, f"submittedOnDailyAt times fall on several UTC days ({days})"))
    return out


def stamped_days(items: Iterable[HfItem | Rejected]) -> set[dt.date]:
    return {d for it in items if isinstance(it, HfItem) and (d := daily_stamp(it)[0])}


# --- the one mapping --------------------------------------------------------------------------


def item_to_paper(
    item: HfItem,
    *,
    source: str,
    source_ref: str,
    listing_date: dt.date | None,
    parsed_from: str,
    listing_date_unknown: str | None = None,
) -> Paper:
    """Map one daily-papers item (embedded JSON or API) to a `Paper`.

    Raises `RejectEntry` when the item has no usable id or title.
    """
    data = item.paper or HfPaperData()
    org = item.organization or data.organization
    submitter = item.submittedBy or data.submittedOnDailyBy
    listed = data.authors or ()
    hf: dict[str, Any] = {"parsed_from": parsed_from}
    # the keys of `extra.hf` are set only when they hold something (no None, "" or [])
    if listing_date_unknown:
        hf["listing_date_unknown"] = listing_date_unknown
    if data.submittedOnDailyAt:
        hf["submitted_on_daily_at"] = data.submittedOnDailyAt
    if submitter and (name := clean_text(submitter.fullname)):
        hf["submitter_name"] = name
    if org and org.name:
        hf["organization_id"] = org.name
    if hidden := [a.name for a in listed if a.hidden and a.name]:
        hf["hidden_authors"] = hidden
    if ai_summary := clean_text(data.ai_summary):
        hf["ai_summary"] = ai_summary
    if data.ai_keywords:
        hf["ai_keywords"] = data.ai_keywords
    if data.githubRepo:
        hf["github_repo"] = data.githubRepo
    if data.githubStars is not None:
        hf["github_stars"] = data.githubStars
    if data.projectPage:
        hf["project_page"] = data.projectPage
    published = _iso_day(data.publishedAt)
    return new_paper(
        hf_id=data.id,
        title=item.title or data.title,
        abstract=data.summary or item.summary,
        authors=[a.name for a in listed if a.name],
        author_count=len(data.authors) if data.authors is not None else None,
        organization=org.fullname if org else None,  # the display name, or unknown
        submitted_by=(submitter.name or submitter.user) if submitter else None,  # account
        published=published,
        published_raw=data.publishedAt if published else None,
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
    fixed_day: dt.date | None,
    parsed_from: str,
) -> Iterator[Paper | Rejected]:
    """Every decoded item as a `Paper`, or a `Rejected` naming `source_ref`."""
    good = [item for item in items if isinstance(item, HfItem)]
    days = iter(listing_days(good, fixed_day))
    for item in items:
        if isinstance(item, Rejected):
            yield item
            continue
        day, unknown = next(days)
        try:
            yield item_to_paper(
                item,
                source=source,
                source_ref=source_ref,
                listing_date=day,
                parsed_from=parsed_from,
                listing_date_unknown=unknown,
            )
        except RejectEntry as exc:
            yield Rejected(reason=exc.reason, source_ref=source_ref, raw=exc.raw)


def new_paper(
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
    """The normalised `Paper` of one listing entry (every HF path ends here). The key is left
    to the core."""
    clean_title = clean_text(title)
    if not clean_title:
        raise RejectEntry(f"paper {hf_id or '?'} has no title")
    if not hf_id:
        raise RejectEntry(f"paper {clean_title!r} has no id")
    return Paper(
        arxiv_id=parse_arxiv_id(hf_id),
        title=clean_title,
        abstract=clean_text(abstract),
        authors=clean_names(authors) if authors else [],
        author_count=_count(author_count),
        organization=clean_text(organization),
        submitted_by=clean_text(submitted_by),
        published=published,
        published_raw=clean_text(published_raw),
        published_inferred=published_inferred,
        upvotes=_count(upvotes),
        comments=_count(comments),
        listing_date=listing_date,
        url=paper_url(hf_id),
        source=source,
        source_ref=source_ref,
        extra={"hf": hf},
    )


def _count(value: int | None) -> int | None:
    if value is not None and value < 0:
        raise RejectEntry(f"negative count {value}")
    return value


def _iso_day(text: str | None) -> dt.date | None:
    """The date of an ISO timestamp ('2026-02-26T17:08:18.000Z' -> 2026-02-26), else None."""
    if not text or len(text) < 10 or (len(text) > 10 and text[10] != "T"):
        return None
    try:
        return dt.date.fromisoformat(text[:10])
    except ValueError:
        return None
