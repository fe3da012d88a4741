"""The `feed` sink: an Atom or JSON Feed of the harvested papers.

    [sinks.feed]
    path = "out/papers.atom"
    format = "atom"                # or "json" (JSON Feed 1.1)
    title = "New papers"
    max_entries = 100              # the window: the newest entries kept
    min_upvotes = 10               # filters: a paper must pass every one that is set
    organizations = ["Acme Research"]
    words = ["diffusion", "agents"]   # any of them, as a word, in the title or abstract

How runs combine (see `.entries`): each run's papers are merged into the entries the feed
already holds, by stable id (``urn:harvester:paper:<paper key>``), newest first, the newest
``max_entries`` kept. The feed file is written whole, atomically, at DONE; until then the run's
papers are staged crash-safely in ``<path>.papers.jsonl.partial`` (commits, resume and suspend as
the JSONL sink's). SUSPEND and ABANDON leave the feed as it was. A previous feed that cannot be
read (not a feed of this format) is an error: it is never overwritten silently.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Annotated, Literal
from xml.etree.ElementTree import ParseError

import msgspec
from harvester_plugins.check_readers import read_feed
from harvester_plugins.output_files import WholeFileSink

from harvester.api import SinkOptions
from harvester.atomic import write_atomic
from harvester.checks import SinkCheck
from harvester.errors import SinkError
from harvester.hookspecs import hookimpl
from harvester.schema import Paper

from .entries import FeedEntry, Filters, entry_from_paper, merge
from .formats import READ, RENDER, FeedMeta

FORMAT_NAMES = {"atom": "an Atom feed", "json": "a JSON Feed"}


class FeedOptions(SinkOptions, kw_only=True, forbid_unknown_fields=True):
    path: str
    format: Literal["atom", "json"] = "atom"
    title: str = "harvester: new papers"
    feed_id: str | None = None  # default: urn:harvester:feed:<sink label>
    link: str | None = None  # the home page the feed is about
    feed_url: str | None = None  # where the feed is published
    max_entries: Annotated[int, msgspec.Meta(ge=1)] = 100
    min_upvotes: Annotated[int, msgspec.Meta(ge=0)] | None = None
    organizations: list[str] = msgspec.field(default_factory=list)
    words: list[str] = msgspec.field(default_factory=list)


class FeedSink(WholeFileSink):
    name = "feed"
    Options = FeedOptions
    options: FeedOptions
    check = SinkCheck(
        options={"path": "out/feed.xml"},
        read_back=read_feed,
        expected="check/expected_records.jsonl",
        volatile=("published", "updated"),  # a paper without a date is published when it is seen
        bad_options=[{"max_entries": 0}, {"format": "rss"}],
    )

    @property
    def replaces(self) -> bool:
        """False: a run's papers are merged into the entries the feed holds (`harvester check
        feed` caught it saying True, which kept a feed back from a run that missed a target)."""
        return False

    def render(self, papers: Sequence[Paper]) -> None:
        self._write_feed(papers)

    def _write_feed(self, papers: Sequence[Paper]) -> None:
        opts = self.options
        now = dt.datetime.now(dt.UTC)
        filters = Filters(opts.min_upvotes, opts.organizations, opts.words)
        new = [entry_from_paper(p, now) for p in papers if filters.passes(p)]
        entries = merge(self._previous_entries(), new, opts.max_entries)
        label = self.context.label or self.path.stem
        meta = FeedMeta(
            opts.feed_id or f"urn:harvester:feed:{label}", opts.title, opts.link, opts.feed_url
        )
        write_atomic(self.path, RENDER[opts.format](meta, entries, now), SinkError)

    def _previous_entries(self) -> list[FeedEntry]:
        try:
            data = self.path.read_bytes()
        except FileNotFoundError:
            return []
        except OSError as exc:
            raise SinkError(f"{self.path}: cannot read the previous feed: {exc}") from exc
        try:
            return READ[self.options.format](data)
        except (ValueError, KeyError, TypeError, ParseError) as exc:
            raise SinkError(
                f"{self.path}: the existing file is not {FORMAT_NAMES[self.options.format]} this "
                f"sink can merge into ({exc}); move it away or choose another path"
            ) from exc


@hookimpl
def register_sinks(register) -> None:
    register(FeedSink)
