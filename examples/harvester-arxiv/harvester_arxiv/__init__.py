"""harvester-arxiv: the `arxiv-listing` source, a worked example of a third-party plugin.

It reads arXiv listing pages, saved as HTML files or fetched by URL through the run's shared
fetcher, e.g. in a run config::

    [sources.arxiv]
    plugin = "arxiv-listing"
    inputs = ["pages/*.html", "https://arxiv.org/list/cs.AI/new"]

The package is found through its entry point (see pyproject.toml); this module holds the hook.
"""

from __future__ import annotations

import glob
from collections.abc import Iterator
from pathlib import Path

from harvester import Paper, Rejected, Source, SourceOptions, hookimpl
from harvester.errors import InputError

from .listing import parse_listing

__all__ = ["ArxivListing", "ArxivListingOptions", "register_sources"]
__version__ = "0.1.0"


class ArxivListingOptions(SourceOptions, kw_only=True, forbid_unknown_fields=True):
    base_url: str = "https://arxiv.org"  # where paper URLs (/abs/<id>) point


def _is_url(target: str) -> bool:
    return target.startswith(("http://", "https://"))


class ArxivListing(Source):
    """Papers of arXiv listing pages (`/list/<category>/new` and `/recent`)."""

    name = "arxiv-listing"
    Options = ArxivListingOptions
    # Every text field is built with harvester.normalise.clean_text; the test kit checks it.
    trusted = True

    options: ArxivListingOptions

    def targets(self) -> list[str]:
        """URLs as given; files with globs expanded (a glob matching nothing stays, and fails)."""
        found: list[str] = []
        for item in self.options.inputs:
            if _is_url(item):
                found.append(item)
                continue
            path = str(self.context.resolve(item))
            matches = sorted(glob.glob(path)) if glob.has_magic(path) else [path]
            found.extend(matches or [path])
        return found

    def read(self, target: str) -> Iterator[Paper | Rejected]:
        if _is_url(target):
            content = self.context.fetcher.get(target).content  # raises FetchError
        else:
            content = self._read_file(target)
        count = 0
        for item in parse_listing(
            content, target, is_url=_is_url(target), base_url=self.options.base_url.rstrip("/")
        ):
            count += 1
            yield item
        if count == 0:
            self.mark_empty(target, "the page lists no papers (a quiet day)")

    @staticmethod
    def _read_file(target: str) -> bytes:
        if glob.has_magic(target):
            raise InputError(target, "matches no file")
        try:
            return Path(target).read_bytes()
        except OSError as exc:
            raise InputError(target, f"cannot read: {exc.strerror or exc}") from None


@hookimpl
def register_sources(register) -> None:
    register(ArxivListing)
