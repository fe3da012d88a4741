"""Atom (RFC 4287) and JSON Feed 1.1 documents of feed entries, and reading them back (a feed
sink merges each run into the entries its previous feed holds)."""

from __future__ import annotations

import datetime as dt
import json
import xml.etree.ElementTree as ET
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from .entries import FeedEntry

ATOM_NS = "http://www.w3.org/2005/Atom"
JSON_FEED_VERSION = "https://jsonfeed.org/version/1.1"
GENERATOR = "harvester"
_A = f"{{{ATOM_NS}}}"


@dataclass(frozen=True)
class FeedMeta:
    id: str
    title: str
    link: str | None = None  # the home page the feed is about
    feed_url: str | None = None  # where the feed itself is published


def rfc3339(moment: dt.datetime) -> str:
    return moment.astimezone(dt.UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def _parse_time(text: str) -> dt.datetime:
    value = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
    return value if value.tzinfo else value.replace(tzinfo=dt.UTC)


# -- Atom -------------------------------------------------------------------------------------


def _sub(parent: ET.Element, tag: str, text: str | None = None, **attrs: str) -> ET.Element:
    element = ET.SubElement(parent, _A + tag, attrs)
    if text is not None:
        element.text = text
    return element


def render_atom(meta: FeedMeta, entries: Sequence[FeedEntry], now: dt.datetime) -> bytes:
    ET.register_namespace("", ATOM_NS)
    feed = ET.Element(_A + "feed")
    _sub(feed, "id", meta.id)
    _sub(feed, "title", meta.title)
    # The feed changed when its newest entry did; an empty feed changed now.
    _sub(feed, "updated", rfc3339(max((e.updated for e in entries), default=now)))
    # Entries whose authors are unknown inherit the feed's author (RFC 4287 4.1.2).
    _sub(_sub(feed, "author"), "name", GENERATOR)
    _sub(feed, "generator", GENERATOR)
    if meta.link:
        _sub(feed, "link", rel="alternate", href=meta.link)
    if meta.feed_url:
        _sub(feed, "link", rel="self", href=meta.feed_url)
    for entry in entries:
        node = _sub(feed, "entry")
        _sub(node, "id", entry.id)
        _sub(node, "title", entry.title)
        _sub(node, "published", rfc3339(entry.published))
        _sub(node, "updated", rfc3339(entry.updated))
        for name in entry.authors:
            _sub(_sub(node, "author"), "name", name)
        if entry.url:
            _sub(node, "link", rel="alternate", href=entry.url)
        for term in entry.categories:
            _sub(node, "category", term=term)
        if entry.summary:
            _sub(node, "summary", entry.summary, type="text")
        _sub(node, "content", entry.content_html, type="html")
    ET.indent(feed)
    return ET.tostring(feed, encoding="utf-8", xml_declaration=True) + b"\n"


def read_atom(data: bytes) -> list[FeedEntry]:
    root = ET.fromstring(data)
    if root.tag != _A + "feed":
        raise ValueError(f"not an Atom feed (root element {root.tag})")
    return [_atom_entry(node) for node in root.iter(_A + "entry")]


def _atom_entry(node: ET.Element) -> FeedEntry:
    def text(tag: str) -> str | None:
        found = node.find(_A + tag)
        return found.text if found is not None else None

    link = node.find(f"{_A}link[@rel='alternate']")
    return FeedEntry(
        id=text("id") or "",
        title=text("title") or "",
        published=_parse_time(text("published") or text("updated") or ""),
        updated=_parse_time(text("updated") or ""),
        content_html=text("content") or "",
        url=link.get("href") if link is not None else None,
        summary=text("summary"),
        authors=tuple(n.text or "" for n in node.iterfind(f"{_A}author/{_A}name")),
        categories=tuple(c.get("term", "") for c in node.iterfind(_A + "category")),
    )


# -- JSON Feed ----------------------------------------------------------------------------------


def render_json_feed(meta: FeedMeta, entries: Sequence[FeedEntry], now: dt.datetime) -> bytes:
    feed: dict[str, Any] = {"version": JSON_FEED_VERSION, "title": meta.title}
    if meta.link:
        feed["home_page_url"] = meta.link
    if meta.feed_url:
        feed["feed_url"] = meta.feed_url
    feed["authors"] = [{"name": GENERATOR}]
    feed["_harvester"] = {"feed_id": meta.id}  # extensions start with "_" (JSON Feed 1.1)
    feed["items"] = [_json_item(entry) for entry in entries]
    return json.dumps(feed, ensure_ascii=False, indent=2).encode() + b"\n"


def _json_item(entry: FeedEntry) -> dict[str, Any]:
    item: dict[str, Any] = {"id": entry.id, "title": entry.title}
    if entry.url:
        item["url"] = entry.url
    item["content_html"] = entry.content_html
    if entry.summary:
        item["summary"] = entry.summary
    item["date_published"] = rfc3339(entry.published)
    item["date_modified"] = rfc3339(entry.updated)
    if entry.authors:
        item["authors"] = [{"name": name} for name in entry.authors]
    if entry.categories:
        item["tags"] = list(entry.categories)
    return item


def read_json_feed(data: bytes) -> list[FeedEntry]:
    feed = json.loads(data)
    if not isinstance(feed, dict) or not str(feed.get("version", "")).startswith(
        "https://jsonfeed.org/version/"
    ):
        raise ValueError("not a JSON Feed (no jsonfeed.org version)")
    return [
        FeedEntry(
            id=item["id"],
            title=item.get("title", ""),
            published=_parse_time(item["date_published"]),
            updated=_parse_time(item.get("date_modified") or item["date_published"]),
            content_html=item.get("content_html", ""),
            url=item.get("url"),
            summary=item.get("summary"),
            authors=tuple(a["name"] for a in item.get("authors", [])),
            categories=tuple(item.get("tags", [])),
        )
        for item in feed["items"]
    ]


RENDER = {"atom": render_atom, "json": render_json_feed}
READ = {"atom": read_atom, "json": read_json_feed}
