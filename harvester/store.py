"""Reading a harvest back, from any store: the one interface `export`, `report`, `history` and the
whole-file sinks read through.

A store is opened by its location, whatever kind it is::

    from harvester import open_store

    with open_store("out/papers.db") as store:  # or a postgresql:// URL, a JSONL file, a folder
        for paper in store.papers():
            print(paper.key, paper.title)

Every store gives the same three things, in the same order whatever the kind:

* `papers()`: one `Paper` per paper, merged as the database sinks merge (a record log is
  replayed through the same rules: upserts by key, nulls never erase, the dump-to-listing title
  matching), ordered by key;
* `sightings()`: every listing entry merged into a paper (`Sighting`), by key, source, ref;
* `observations(key=None)`: the metric history (`Observation`), by key, source, time, seq.

Each kind is a `Store` subclass that a plugin registers with the ``register_stores`` hook; the
built-ins are ``sqlite`` (a database file), ``postgres`` (a ``postgresql://`` URL), ``jsonl``
(a JSONL file of records) and ``parquet`` (a folder the parquet sink wrote).
`harvester.readback.open_store` asks each kind whether it `claims` the location; exactly one
must.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any, ClassVar

from .errors import UsageError
from .schema import Paper


class StoreError(UsageError):
    """A store cannot be opened or read: it names the store and what is wrong."""


@dataclass(frozen=True)
class Sighting:
    """One listing entry merged into a paper, with when it was first and last read."""

    key: str
    source: str
    source_ref: str
    listing_date: dt.date | None
    first_harvested_at: dt.datetime | None
    last_harvested_at: dt.datetime | None


@dataclass(frozen=True)
class Observation:
    """A paper's counts as one source showed them at `observed_at` (UTC); `seq` orders the
    points of one `observed_at` (two runs within one second)."""

    key: str
    source: str
    observed_at: dt.datetime
    seq: int
    upvotes: int | None
    comments: int | None
    github_stars: int | None


class Store:
    """An open store. Subclasses set `name` and `kind` and implement `claims`, `papers`,
    `sightings` and `observations`; `close` releases what `__init__` opened."""

    name: ClassVar[str]  # as `harvester plugins` lists it
    kind: ClassVar[str]  # what a location of this kind is, for messages: "a SQLite database"
    keeps_history: bool = True  # False: the store has no metric history (observations are [])

    def __init__(self, location: str):
        self.location = location

    @classmethod
    def claims(cls, location: str) -> bool:
        """Whether `location` is a store of this kind (cheap: a URL scheme, a file's first
        bytes, a folder's files). Never raises for a location of another kind."""
        raise NotImplementedError

    def describe(self) -> str:
        """The location as messages show it (a URL without its password)."""
        return self.location

    def papers(self) -> list[Paper]:
        raise NotImplementedError

    def paper(self, key: str) -> Paper | None:
        return next((p for p in self.papers() if p.key == key), None)

    def sightings(self) -> list[Sighting]:
        raise NotImplementedError

    def observations(self, key: str | None = None) -> list[Observation]:
        raise NotImplementedError

    def close(self) -> None:
        return None

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()


__all__ = ["Observation", "Sighting", "Store", "StoreError"]
