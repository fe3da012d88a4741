"""Source `arxiv-api`: the arXiv API (`/api/query?id_list=...`) for a list of ids, in batches:
the `ids` given, and with `store` the papers of a store that lack a field (`lookup`).

One target per batch of `batch_size` ids. A batch promises one entry per id it asks for (its
declared total): a paper for each id the API returns, and a `Rejected` entry naming each id it
does not, so nothing is dropped silently. The answer's `opensearch:totalResults` is checked
against the entries it holds (fewer: the answer was cut, the target `incomplete`). An error
entry from the API (a malformed id) fails the target with the API's message.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated

import msgspec

from harvester import hookimpl
from harvester.api import Source, SourceOptions, Target
from harvester.checks import SourceCheck
from harvester.errors import InputError
from harvester.normalise import parse_arxiv_id
from harvester.schema import Paper, Rejected

from . import urls
from .atom import parse_feed
from .lookup import DEFAULT_LACKING, Lackable, ids_to_look_up

BaseUrl = Annotated[str, msgspec.Meta(pattern=urls.BASE_URL_PATTERN)]


class ApiOptions(SourceOptions, kw_only=True, forbid_unknown_fields=True):
    ids: list[str] = msgspec.field(default_factory=list)  # "2408.04000", "hep-th/9901001v2"
    batch_size: Annotated[int, msgspec.Meta(ge=1, le=2000)] = 100
    base_url: BaseUrl = urls.API_BASE
    store: str | None = None  # a store (path or URL): look up its papers that lack a field
    lacking: list[Lackable] = msgspec.field(default_factory=lambda: list(DEFAULT_LACKING))

    def __post_init__(self) -> None:
        bad = [i for i in self.ids if parse_arxiv_id(i) is None]
        if bad:
            raise ValueError(f"not arXiv ids: {bad[:5]}")
        if self.inputs:
            raise ValueError("arxiv-api looks up `ids`, not inputs")
        self.ids = list(dict.fromkeys(i.strip() for i in self.ids))


class ArxivApi(Source):
    name = "arxiv-api"
    Options = ApiOptions
    options: ApiOptions
    trusted = True  # every text goes through clean_text (records.arxiv_paper)
    # `harvester check arxiv-api`: an answer for three ids, served by the check at `site/query`
    check = SourceCheck(
        fixtures=["check/api-batch"],
        cut=["check/api-cut"],
        site=lambda site: {
            "base_url": f"{site}/query",
            "ids": ["2610.00021", "2610.00022", "2610.00023"],
        },
        bad_options=[{"batch_size": 0}, {"ids": ["not-an-id"]}],
        declares_totals=True,
    )

    def targets(self) -> list[Target]:
        ids, size = self.options.ids + self.store_ids(), self.options.batch_size
        ids = list(dict.fromkeys(ids))
        batches = [ids[n : n + size] for n in range(0, len(ids), size)]
        return [Target(urls.api_url(self.options.base_url, b), data=b) for b in batches]

    def store_ids(self) -> list[str]:
        """The ids of the `store`'s papers to look up ([] without a store)."""
        location = self.options.store
        if location is None:
            return []
        if "://" not in location:
            location = str(self.context.resolve(location))
        shown, found = ids_to_look_up(location, self.options.lacking)
        self.context.log.info(
            "%s: %d papers to look up (lacking one of %s)", shown, len(found), self.options.lacking
        )
        return found

    def read(self, target: Target) -> Iterator[Paper | Rejected]:
        asked = target.data or urls.query_params(target.id).get("id_list", "").split(",")
        target.declare(total=len(asked))
        feed = parse_feed(self.context.get(target.id).content, target.id)
        if feed.error is not None:
            raise InputError(target.id, f"the arXiv API answered an error: {feed.error}")
        if feed.total_results is not None and feed.total_results != len(feed.entries):
            target.cut_short(
                f"opensearch:totalResults is {feed.total_results}, "
                f"the answer holds {len(feed.entries)} entries"
            )
        found = set()
        for entry in feed.entries:
            if isinstance(entry, Paper):
                found.add(entry.arxiv_id)
            yield entry
        for given in asked:
            if parse_arxiv_id(given) not in found:
                yield Rejected(
                    reason=f"the arXiv API returned no record for {given}",
                    source_ref=f"{target.id}#{given}",
                    raw=given,
                )


@hookimpl
def register_sources(register) -> None:
    register(ArxivApi)
