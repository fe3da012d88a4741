"""harvester-arxiv: the `arxiv-listing-example` source, a worked example of a third-party
plugin (harvester's own arXiv sources are built in: docs/arxiv.md).

It reads arXiv listing pages, saved as HTML files or fetched by URL through the run's shared
fetcher, e.g. in a run config::

    [sources.arxiv]
    plugin = "arxiv-listing-example"
    inputs = ["pages/*.html", "https://arxiv.org/list/cs.AI/new"]

The package is found through its entry point (see pyproject.toml); this module holds the hook.
"""

from __future__ import annotations

from collections.abc import Iterator

from harvester import FileSource, FileSourceOptions, Paper, Rejected, Target, hookimpl
from harvester.files import is_url

from .listing import parse_listing

__all__ = ["ArxivListing", "ArxivListingOptions", "register_sources"]
__version__ = "0.2.0"

MAX_PAGE_BYTES = 20_000_000  # a saved page is read whole: bounded like a fetched one


class ArxivListingOptions(FileSourceOptions, kw_only=True, forbid_unknown_fields=True):
    base_url: str = "https://arxiv.org"  # where paper URLs (/abs/<id>) point


class ArxivListing(FileSource):
    """Papers of arXiv listing pages (`/list/<category>/new` and `/recent`).

    Targets come from `FileSource`: files and globs (fingerprinted, so a changed page is read
    again under `[run] state`) and URLs. URLs are downloaded in `fetch()`, which the run calls
    ahead of `read()` for several pages at once, within the fetcher's per-host limits.
    """

    name = "arxiv-listing-example"
    Options = ArxivListingOptions
    # Every text field is built with harvester.normalise.clean_text; the test kit checks it.
    trusted = True

    options: ArxivListingOptions

    def fetch(self, target: Target) -> bytes | None:
        if is_url(target.id):
            return self.context.get(target.id).content  # raises FetchError
        return None

    def read(self, target: Target) -> Iterator[Paper | Rejected]:
        url = is_url(target.id)
        content = target.fetched if url else self.read_bytes(target, max_bytes=MAX_PAGE_BYTES)
        count = 0
        for item in parse_listing(
            content, target.id, is_url=url, base_url=self.options.base_url.rstrip("/")
        ):
            count += 1
            yield item
        if count == 0:
            target.mark_empty("the page lists no papers (a quiet day)")


@hookimpl
def register_sources(register) -> None:
    register(ArxivListing)
