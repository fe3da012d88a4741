"""Which row a record lands in: the dump-to-listing title-key rules, planned per batch.

1. A record is upserted by ``key`` (set by the core: ``arxiv:<id>``, else ``title:<hash>``).
2. A record WITH an arXiv id absorbs rows of the same ``title_key`` that have NO arXiv id (a
   paper first seen in a text dump, then on a listing): the title-keyed row is re-keyed to the
   arXiv key, or, if the arXiv row exists already, its values fill the arXiv row's gaps
   (`rules.ABSORB`) and it is deleted. Not when a row with ANOTHER arXiv id shares that
   title_key: which paper the title row belongs to is then ambiguous, so it stays as it is.
3. A record WITHOUT an arXiv id whose ``title_key`` matches exactly one row that has an arXiv
   id merges into that row. With two or more such rows it is ambiguous and stays a row of its
   own.
4. Two rows with different arXiv ids are never merged (same title, different papers).

Records of one batch see each other (and the rows already stored) in order. A plan is a list
of steps: `Upsert` (rows whose keys are distinct within the step, so that one set-based
statement per step is exact) and `Absorb`. Both sinks execute the same plan.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from .rules import AT

_KEY, _ARXIV, _TITLE_KEY = AT["key"], AT["arxiv_id"], AT["title_key"]

# title_key -> {row key: its arxiv_id (None for a title-keyed row)}
TitleIndex = dict[str, dict[str, str | None]]


@dataclass
class Upsert:
    rows: list[int] = field(default_factory=list)  # indices into the batch, keys distinct


@dataclass
class Absorb:
    title_row_key: str
    arxiv_row_key: str
    arxiv_id: str


Step = Upsert | Absorb


def plan(rows: Sequence[list[Any]], stored: TitleIndex) -> list[Step]:
    """Plan a batch. Rewrites ``key`` in `rows` for rule 3; updates `stored` as it goes."""
    steps: list[Step] = []
    current = Upsert()
    in_current: set[str] = set()

    def flush() -> None:
        nonlocal current, in_current
        if current.rows:
            steps.append(current)
            current, in_current = Upsert(), set()

    for i, row in enumerate(rows):
        key, arxiv_id = row[_KEY], row[_ARXIV]
        same = stored.get(row[_TITLE_KEY])
        if same is None:  # most titles are new: no other row to look at
            same = stored[row[_TITLE_KEY]] = {}
        if arxiv_id:
            if same:
                _absorb_strays(same, key, arxiv_id, steps, flush)
            same[key] = arxiv_id
        else:
            with_id = [k for k, a in same.items() if a is not None]
            if len(with_id) == 1:
                row[_KEY] = key = with_id[0]  # the upsert keeps the stored arXiv id
            else:
                same.setdefault(key, None)
        if key in in_current:
            flush()  # one statement never touches a row twice
        current.rows.append(i)
        in_current.add(key)
    flush()
    return steps


def _absorb_strays(
    same: dict[str, str | None], key: str, arxiv_id: str, steps: list[Step], flush: Any
) -> None:
    """Rule 2 for a record with an arXiv id: the title-keyed rows of its title are absorbed,
    unless a row with another arXiv id shares the title (ambiguous)."""
    if any(a is not None and a != arxiv_id for a in same.values()):
        return
    strays = [k for k, a in same.items() if a is None and k != key]
    if strays:
        flush()  # a stray may be a row this batch is about to write
        for stray in strays:
            steps.append(Absorb(stray, key, arxiv_id))
            del same[stray]


# key -> (content_hash, harvested_at) a row holds now; None when unknown (absorbed, re-keyed).
Versions = dict[str, tuple[int | None, str | None] | None]
_HASH, _SEEN = AT["content_hash"], AT["harvested_at"]


def index_stored(
    stored: Iterable[tuple[str, str, str | None, int | None, str | None]],
) -> tuple[TitleIndex, Versions]:
    """Stored rows (title_key, key, arxiv_id, content_hash, harvested_at as ISO text) as the
    title matching needs them (`plan`) and as what each holds (`split_changes`)."""
    by_title: TitleIndex = {}
    held: Versions = {}
    for tkey, key, arxiv_id, digest, seen in stored:
        by_title.setdefault(tkey, {})[key] = arxiv_id
        held[key] = (digest, seen)
    return by_title, held


def split_changes(step: Upsert, rows: Sequence[list[Any]], held: Versions) -> tuple[list, list]:
    """The rows of an upsert step that must be merged, and those that bring the row's content
    again at another ``harvested_at`` (only their sighting's times move); a replay of the last
    record is neither. Updates `held` as if the step ran: a key recurring later in the batch
    compares with this row."""
    merge, refresh = [], []
    for i in step.rows:
        row = rows[i]
        was = held.get(row[_KEY])
        if was is None or was[0] != row[_HASH]:
            merge.append(i)
        elif was[1] != row[_SEEN]:
            refresh.append(i)
        held[row[_KEY]] = (row[_HASH], row[_SEEN])
    return merge, refresh


def forget(step: Absorb, held: Versions) -> None:
    """After an absorb both rows hold something no single record made."""
    held[step.title_row_key] = held[step.arxiv_row_key] = None


@dataclass
class Known:
    """What a writing transaction knows of the stored rows without asking the database again:
    the rows of every title key looked up so far, as stored when the transaction began (it
    holds the store's write lock, so nobody else changes them meanwhile), with the
    transaction's own changes applied as its batches are planned. Lets a sink plan a batch on
    one thread while another still writes the batches before it; the plans are the ones a
    query per batch inside the transaction would give."""

    by_title: TitleIndex = field(default_factory=dict)
    held: Versions = field(default_factory=dict)
    title_of: dict[str, str] = field(default_factory=dict)  # row key -> its title key now

    def unknown_titles(self, rows: Sequence[list[Any]]) -> list[str]:
        # Per title of the batch: `set - dict.keys()` would walk every title known so far.
        known = self.by_title
        return [t for t in {row[_TITLE_KEY] for row in rows} if t not in known]

    def learn(self, titles: list[str], stored: Iterable[tuple]) -> None:
        """Stored rows of `titles` (title_key, key, arxiv_id, content_hash, harvested_at), as
        committed: a row this transaction already wrote is known better here."""
        for title in titles:
            self.by_title.setdefault(title, {})
        for tkey, key, arxiv_id, digest, seen in stored:
            if key in self.title_of:
                continue
            self.by_title[tkey][key] = arxiv_id
            self.held[key] = (digest, seen)
            self.title_of[key] = tkey

    def plan(self, rows: Sequence[list[Any]]) -> list[tuple[Step, list[int], list[int]]]:
        """`plan` against what is known, each upsert step with its rows to merge and to
        refresh (`split_changes`); absorbs with empty lists. Keeps what is known up to date."""
        planned: list[tuple[Step, list[int], list[int]]] = []
        for step in plan(rows, self.by_title):
            if isinstance(step, Absorb):
                forget(step, self.held)  # the arXiv row is merged next: its title follows
                self.title_of.pop(step.title_row_key, None)
                planned.append((step, [], []))
                continue
            full, refresh = split_changes(step, rows, self.held)
            for i in full:  # a merged row takes the record's title: it leaves its old title
                key, title = rows[i][_KEY], rows[i][_TITLE_KEY]
                old = self.title_of.get(key)
                if old is not None and old != title:
                    self.by_title.get(old, {}).pop(key, None)
                self.title_of[key] = title
            planned.append((step, full, refresh))
        return planned
