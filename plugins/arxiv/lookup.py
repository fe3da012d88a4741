"""Which papers of a store `arxiv-api` looks up (its `store` option): those with an arXiv id that
lack one of the `lacking` fields (null, or an empty list), unless the API already answered for
the paper since anything last changed its row (the store's `arxiv-api` sighting is as recent as
the row's `harvested_at`): what the API did not give then, it does not know, and asking again
every run would only spend arXiv's budget. A row changed since (a replacement announced, a
listing read again) is looked up again.

The store is read through the one store reader (`harvester.readback.open_store`): a SQLite file,
a PostgreSQL URL, a JSONL file or a Parquet folder, as it is when the source's targets are made.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import Literal

from harvester.readback import open_store
from harvester.schema import Paper
from harvester.store import Sighting

# The fields an API answer gives that a listing may lack.
Lackable = Literal["abstract", "authors", "arxiv_version", "categories", "doi", "published"]
DEFAULT_LACKING: list[Lackable] = ["abstract", "arxiv_version", "categories"]
API_SOURCE = "arxiv-api"


def ids_to_look_up(location: str, lacking: Iterable[str]) -> tuple[str, list[str]]:
    """The store at `location` as messages show it (no password), and the arXiv ids of its
    papers to look up, by key."""
    wanted = tuple(lacking)
    with open_store(location) as store:
        answered = _answered(store.sightings())
        found = [
            p.arxiv_id
            for p in store.papers()
            if p.arxiv_id and _lacks(p, wanted) and not _answered_since(p, answered.get(p.key))
        ]
        return store.describe(), found


def _lacks(paper: Paper, fields: tuple[str, ...]) -> bool:
    return any(getattr(paper, name) in (None, []) for name in fields)


def _answered(sightings: Iterable[Sighting]) -> dict[str, dt.datetime]:
    """Key -> when the API last answered for the paper."""
    last: dict[str, dt.datetime] = {}
    for s in sightings:
        if s.source == API_SOURCE and s.last_harvested_at is not None:
            last[s.key] = max(s.last_harvested_at, last.get(s.key, s.last_harvested_at))
    return last


def _answered_since(paper: Paper, answered: dt.datetime | None) -> bool:
    if answered is None:
        return False
    return paper.harvested_at is None or answered >= paper.harvested_at
