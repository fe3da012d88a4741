"""Source `hf-papers`: huggingface.co/papers listing pages (daily, weekly, monthly, trending,
search), from the site or from saved HTML files.

A page carries its list twice: as HTML-escaped JSON in `data-props` of the element with
`data-target="DailyPapers"` (complete: every author, arXiv id, counts, ISO dates), and as rendered
`article` cards (partial: a few author avatars, display dates). The JSON is used when it is there
and readable; otherwise the cards are parsed. `extra["hf"]["parsed_from"]` says which.

A daily page that shows another day (the site redirects days without a list) is reported as an
empty day (`empty_targets`), never as that other day's papers.

Incremental runs (`[run] state`): a page is fetched with the ETag / Last-Modified remembered from
the last run and a 304 is `Unchanged`; `target_date` puts recent pages (whose upvotes and
comment counts still change) in the run's refresh window; saved files are read again when
their size or mtime changes; `guard_counts` holds a page yielding far fewer papers than usual.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator
from typing import Any

import msgspec
from selectolax.lexbor import LexborHTMLParser, LexborNode

from harvester import hookimpl
from harvester.api import SourceOptions
from harvester.errors import ConfigError, InputError, RejectEntry
from harvester.normalise import clean_text
from harvester.schema import Paper, Rejected

from . import hf_common as hf


class HfPapersOptions(SourceOptions, kw_only=True, forbid_unknown_fields=True):
    base_url: str = hf.HF_SITE
    daily_from: dt.date | None = None  # a range of daily pages, both ends included
    daily_to: dt.date | None = None  # defaults to daily_from
    weeks: list[str] = msgspec.field(default_factory=list)  # "2026-W41"
    months: list[str] = msgspec.field(default_factory=list)  # "2026-10"
    trending: bool = False
    search: list[str] = msgspec.field(default_factory=list)  # search queries
    # per-source fetch overrides, merged over the run's (harvester.fetch.merge_settings)
    fetch: dict[str, Any] = msgspec.field(default_factory=dict)


class _Props(msgspec.Struct):
    """The top level of the embedded JSON; `dailyPapers` is decoded later, by hf_common."""

    dailyPapers: msgspec.Raw = msgspec.Raw()
    date: str | None = None


_PROPS = msgspec.json.Decoder(_Props)


class HfPapersSource(hf.HfSource):
    name = "hf-papers"
    Options = HfPapersOptions
    options: HfPapersOptions

    # --- what to read -----------------------------------------------------------------------

    def targets(self) -> list[str]:
        o, base = self.options, self.options.base_url
        urls = list(o.inputs)
        try:
            if o.daily_from or o.daily_to:
                first = o.daily_from or o.daily_to
                urls += [hf.daily_url(base, d) for d in hf.days(first, o.daily_to or first)]
            urls += [hf.week_url(base, w) for w in o.weeks]
            urls += [hf.month_url(base, m) for m in o.months]
        except ValueError as exc:
            raise ConfigError(str(exc), key=self.name) from None
        if o.trending:
            urls.append(hf.trending_url(base))
        urls += [hf.search_url(base, q) for q in o.search]
        return urls

    def target_date(self, target: str) -> dt.date | None:
        return hf.listed_day(target) if hf.is_url(target) else None

    def read(self, target: str) -> Iterator[Paper | Rejected]:
        requested = hf.requested_day(target)
        if hf.is_url(target):
            resp = hf.conditional_get(self.context, target, self.fetch_settings())
            if requested and resp.final_url != resp.url:
                landed = hf.requested_day(resp.final_url)
                if landed != requested:
                    self.mark_empty(target, f"no list for that day: redirected to {resp.final_url}")
                    return
            content = resp.content
        else:
            content = self.read_saved(target)
        yield from self.parse_page(content, source_ref=target, requested=requested)

    # --- parsing ------------------------------------------------------------------------------

    def parse_page(
        self, content: bytes, *, source_ref: str, requested: dt.date | None = None
    ) -> Iterator[Paper | Rejected]:
        """The papers of one listing page. `requested`: the day a daily URL asked for."""
        props, tree = _embedded_props(content, source_ref, self.context.log)
        page_day = hf.iso_date(props.date) if props is not None and props.date else None
        if page_day is None:  # no date in the JSON: read it from the page's day links
            tree = tree or LexborHTMLParser(content)
            page_day = _linked_day(tree)
        if requested and page_day and page_day != requested:
            self.mark_empty(source_ref, f"no list for that day: the page shows {page_day}")
            return
        listing_date = requested or page_day
        items = _items(props, source_ref, self.context.log)
        if items:
            yield from hf.items_to_papers(
                items,
                source=self.name,
                source_ref=source_ref,
                listing_date=listing_date,
                parsed_from="embedded-json",
            )
            return
        articles = (tree or LexborHTMLParser(content)).css("article")
        if not articles:
            why = "its list is empty" if props is not None else "no paper list found"
            raise InputError(source_ref, f"{why} (neither DailyPapers JSON nor paper cards)")
        count = 0
        for item in _cards(articles, source_ref, listing_date):
            count += 1
            yield item
        if not count:
            raise InputError(source_ref, "the page has article cards but no paper links in them")


def _embedded_props(
    content: bytes, source_ref: str, log
) -> tuple[_Props | None, LexborHTMLParser | None]:
    """The DailyPapers JSON, and the parsed page when the whole page had to be parsed.

    The JSON sits in the opening tag of the element that wraps the cards, so only the page up
    to the end of that tag is parsed: the cards (most of the page) are not needed when the JSON
    is there.
    """
    tree = None
    holder = None
    start = content.find(b'data-target="DailyPapers"')
    if start >= 0:
        value = content.find(b'data-props="', start)
        end = content.find(b'"', value + 12) if value >= 0 else -1
        tag_end = content.find(b">", end) if end >= 0 else -1
        if tag_end >= 0:
            holder = LexborHTMLParser(content[: tag_end + 1]).css_first(_HOLDER)
    if holder is None or "data-props" not in holder.attributes:
        tree = LexborHTMLParser(content)
        holder = tree.css_first(_HOLDER)
    text = holder.attributes.get("data-props") if holder is not None else None
    if not text:
        return None, tree
    try:
        return _PROPS.decode(text), tree
    except (msgspec.DecodeError, msgspec.ValidationError) as exc:
        log.warning("%s: unreadable DailyPapers JSON (%s); reading the cards", source_ref, exc)
        return None, tree


_HOLDER = '[data-target="DailyPapers"]'


def _items(props: _Props | None, source_ref: str, log) -> list[hf.HfItem | Rejected]:
    """The embedded list's items; [] when there is none or it is unreadable (then: the cards)."""
    if props is None or not len(props.dailyPapers):
        return []
    try:
        return hf.decode_items(props.dailyPapers)
    except (msgspec.DecodeError, ValueError) as exc:
        log.warning("%s: unreadable dailyPapers list (%s); reading the cards", source_ref, exc)
        return []


_DATE_LINK = re.compile(r"^/papers/date/(\d{4}-\d{2}-\d{2})$")


def _linked_day(tree: LexborHTMLParser) -> dt.date | None:
    """The day a daily page shows, as the middle of its previous-day and next-day links."""
    linked = sorted(
        {
            d
            for a in tree.css('a[href^="/papers/date/"]')
            if (m := _DATE_LINK.match(a.attributes.get("href") or "")) and (d := hf.iso_date(m[1]))
        }
    )
    if len(linked) == 2 and (linked[1] - linked[0]).days == 2:
        return linked[0] + dt.timedelta(days=1)
    return None


# --- the rendered cards -----------------------------------------------------------------------

_AUTHORS = re.compile(r"(\d+)\s+authors?$")
_PAPER_HREF = re.compile(r"^/papers/([^/?#]+)$")
# One query per card (each lexbor query has a fixed cost); nodes come in document order and the
# second title link starts the mobile rendering, which repeats the desktop one and is skipped.
_CARD_NODES = (
    'h3 a, a[href$="#community"], a[href^="https://github.com/"], li[title], span, p, '
    "div.absolute, .text-orange-500"
)


def _cards(
    articles: list[LexborNode], source_ref: str, listing_date: dt.date | None
) -> Iterator[Paper | Rejected]:
    seen: set[str] = set()
    reference = listing_date or dt.date.today()
    for article in articles:
        try:
            card = _read_card(article, reference)
        except RejectEntry as exc:
            yield Rejected(reason=exc.reason, source_ref=source_ref, raw=_snippet(article))
            continue
        if card is None:
            continue  # an article that is not a paper card
        hf_id = card["hf_id"]
        if hf_id in seen:  # the same paper rendered again
            continue
        seen.add(hf_id)
        try:
            yield hf.make_paper(
                listing_date=listing_date, source="hf-papers", source_ref=source_ref, **card
            )
        except RejectEntry as exc:
            yield Rejected(reason=exc.reason, source_ref=source_ref, raw=_snippet(article))


def _snippet(node: LexborNode) -> str | None:
    return node.html[:2000] if node.html else None


def _read_card(article: LexborNode, reference: dt.date) -> dict[str, Any] | None:
    """The fields of one card's first (desktop) rendering, for `hf_common.make_paper`."""
    meta: dict[str, Any] = {"parsed_from": "cards"}
    card: dict[str, Any] = {"hf": meta, "authors": [], "comments": 0}
    title_link = None
    for node in article.css(_CARD_NODES):
        tag = node.tag
        if tag == "span":
            _card_span(node, card, meta, reference)
        elif tag == "a":
            href = node.attributes.get("href") or ""
            if href.startswith("/papers/") and "#" not in href:
                if title_link is not None:
                    break  # the mobile rendering begins
                title_link = node
                m = _PAPER_HREF.match(href)
                if not m:
                    raise RejectEntry(f"card title link {href!r} is not a paper page")
                card["hf_id"], card["title"] = m[1], node.text()
            elif href.endswith("#community"):
                card["comments"] = hf.parse_count(node.text(strip=True))
            elif "github_repo" not in meta:
                meta["github_repo"] = href
                stars = node.text(separator=" ", strip=True).rsplit(" ", 1)[-1]
                if (count := hf.parse_count(stars)) is not None:
                    meta["github_stars"] = count
        elif tag == "li":
            card["authors"].append(node.attributes.get("title") or "")
        elif tag == "p":
            if "ai_summary" not in meta:
                meta["ai_summary"] = card["abstract"] = clean_text(node.text())
        elif tag == "div":
            text = node.text(separator=" ", strip=True)
            if text.startswith("Submitted by"):
                card["submitted_by"] = text.removeprefix("Submitted by").strip()
            elif "upvotes" not in card and "orange" in (node.attributes.get("class") or ""):
                card["upvotes"] = hf.parse_count(text)  # the upvote widget's count
    if title_link is None:
        return None
    card["authors"].reverse()  # avatars are laid out flex-row-reverse: DOM order is reversed
    count = card.get("author_count")
    if count is not None and len(card["authors"]) < count:
        meta["authors_partial"] = True  # only the first few authors have avatars on a card
    return card


def _card_span(node: LexborNode, card: dict[str, Any], meta: dict[str, Any], ref: dt.date) -> None:
    text = node.text(strip=True)
    if not text or not text[0].isalnum():
        return
    if "truncate" in (node.attributes.get("class") or ""):
        card["organization"] = text
        org_link = node.parent
        if org_link is not None and org_link.tag == "a":
            meta["organization_id"] = (org_link.attributes.get("href") or "").strip("/") or None
    elif "author_count" not in card and (m := _AUTHORS.match(text)):
        card["author_count"] = int(m[1])
    elif "published" not in card:
        published, inferred = hf.parse_shown_date(text, ref)
        if published is not None:
            card["published"], card["published_inferred"] = published, inferred
            card["published_raw"] = text.removeprefix("Published on ").strip()


@hookimpl
def register_sources(register) -> None:
    register(HfPapersSource)
