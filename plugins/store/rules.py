"""The one statement of how a database row is built from papers: its columns, and what each
column keeps when a newer record is upserted onto it or a title-keyed row is absorbed into it.

Columns of ``papers`` (both dialects, in this order): every `Paper` field of schema 1.0
(`STORED_FIELDS`; the fields schema 1.1 added, ``arxiv_version``, ``categories`` and ``doi``, are
not stored yet: a record's other fields are written as before), then

* ``title_key``: `harvester.normalise.title_key` of the title (for the dump-to-listing match);
* ``first_listing_date`` / ``last_listing_date``: the earliest and latest listing day of any
  sighting merged into the row (``listing_date`` itself is that of the latest sighting);
* ``content_hash``: a hash of the last record merged into the row, ``harvested_at`` aside. A
  record identical to it changes nothing (every rule below is idempotent): the row is not
  written at all, and a re-read of the same content later only moves its sighting's
  ``last_harvested_at`` (a small row in ``sightings``);
* ``first_seen`` / ``last_seen``: when the row was created and last written (UTC wall clock).

Upsert rules (`UPSERT`): a newer record's non-null value replaces the stored one and nulls never
erase (``NEWER_NON_NULL``); an empty ``authors`` list counts as unknown (``NEWER_NON_EMPTY``);
``extra`` is merged deeply (``MERGE_DEEP``, `merge_extra`: key by key, nested objects merged,
a newer non-null value wins, a null never erases); ``published_inferred`` follows the
``published`` it belongs to.
Provenance: ``source``, ``source_ref``, ``listing_date`` and ``harvested_at`` always describe
one sighting together (``LATEST_SIGHTING``, nulls included): the latest one that changed the
row, so a row never mixes the ``source_ref`` of one sighting with the ``listing_date`` of
another. Every sighting merged into a row is in ``sightings (key, source, source_ref,
listing_date, first_harvested_at, last_harvested_at)``; the row's listing days span
``first_listing_date`` to ``last_listing_date``.

Absorb rules (`ABSORB`, matching rule 2 in `matching`): the arXiv row keeps its values and the
title row only fills its gaps (null, ``[]``); ``extra`` keys of the title row are added under
the arXiv row's; listing days and ``first_seen`` widen to cover both rows.
"""

from __future__ import annotations

import datetime as dt
import enum
import hashlib
from typing import Any

import msgspec
from msgspec.structs import astuple

from harvester.normalise import title_key
from harvester.schema import Paper, required_fields

# The Paper fields the databases keep: those of schema 1.0. The 1.1 additions get their columns
# with the next database schema (docs/sqlite.md); until then a database ignores them.
STORED_FIELDS: tuple[str, ...] = required_fields("1.0")


class Upsert(enum.Enum):
    """What a column keeps when a newer record for the same key arrives."""

    KEEP = "keep"  # the stored value stays (identity, creation time)
    NEWER_NON_NULL = "newer non-null"
    NEWER_NON_EMPTY = "newer non-empty list"
    MERGE_DEEP = "deep merge, nulls never erase"
    FOLLOWS_PUBLISHED = "follows published"
    LATEST_SIGHTING = "the latest sighting's, nulls included"
    NEWER = "always the newer"
    EARLIEST = "earliest non-null"
    LATEST = "latest non-null"


class Absorb(enum.Enum):
    """What a column of the arXiv row keeps when a title-keyed row is merged into it."""

    KEEP = "keep"
    FILL_GAP = "the arXiv row's, else the title row's"
    MERGE_UNDER = "title row's keys under the arXiv row's"
    FOLLOWS_PUBLISHED = "follows published"
    EARLIEST = "earliest non-null"
    LATEST = "latest non-null"
    RESET = "null"


_GAP = (Upsert.NEWER_NON_NULL, Absorb.FILL_GAP)
_SIGHTING = (Upsert.LATEST_SIGHTING, Absorb.KEEP)
RULES: dict[str, tuple[Upsert, Absorb]] = {
    "schema_version": (Upsert.NEWER_NON_NULL, Absorb.KEEP),
    "key": (Upsert.KEEP, Absorb.KEEP),
    "arxiv_id": (Upsert.NEWER_NON_NULL, Absorb.KEEP),
    "title": (Upsert.NEWER_NON_NULL, Absorb.KEEP),
    "abstract": _GAP,
    "authors": (Upsert.NEWER_NON_EMPTY, Absorb.FILL_GAP),
    "author_count": _GAP,
    "organization": _GAP,
    "submitted_by": _GAP,
    "published": _GAP,
    "published_raw": _GAP,
    "published_inferred": (Upsert.FOLLOWS_PUBLISHED, Absorb.FOLLOWS_PUBLISHED),
    "upvotes": _GAP,
    "comments": _GAP,
    "listing_date": _SIGHTING,
    "url": _GAP,
    "source": _SIGHTING,
    "source_ref": _SIGHTING,
    "harvested_at": _SIGHTING,
    "extra": (Upsert.MERGE_DEEP, Absorb.MERGE_UNDER),
    "title_key": (Upsert.NEWER_NON_NULL, Absorb.KEEP),
    "first_listing_date": (Upsert.EARLIEST, Absorb.EARLIEST),
    "last_listing_date": (Upsert.LATEST, Absorb.LATEST),
    "content_hash": (Upsert.NEWER, Absorb.RESET),
    "first_seen": (Upsert.KEEP, Absorb.EARLIEST),
    "last_seen": (Upsert.NEWER, Absorb.LATEST),
}
COLUMNS: tuple[str, ...] = tuple(RULES)
assert COLUMNS[: len(STORED_FIELDS)] == STORED_FIELDS, "papers columns start with the fields"

JSON_COLUMNS = ("authors", "extra")
INT_COLUMNS = ("author_count", "upvotes", "comments", "content_hash")
DATE_COLUMNS = ("published", "listing_date", "first_listing_date", "last_listing_date")
TIME_COLUMNS = ("harvested_at", "first_seen", "last_seen")

AT = {name: i for i, name in enumerate(COLUMNS)}
_HARVESTED_AT, _LISTING_DATE = AT["harvested_at"], AT["listing_date"]


def iso_utc(moment: dt.datetime | None) -> str | None:
    """ISO 8601 UTC text ('...Z') that sorts in time order; naive times are taken as UTC."""
    if moment is None:
        return None
    if moment.tzinfo is not None:
        moment = moment.astimezone(dt.UTC).replace(tzinfo=None)
    return moment.isoformat(timespec="microseconds" if moment.microsecond else "seconds") + "Z"


def now_utc() -> str:
    return iso_utc(dt.datetime.now(dt.UTC).replace(microsecond=0)) or ""


_DATES = [AT[c] for c in ("published", "listing_date")]
_STORED = len(STORED_FIELDS)
assert Paper.__struct_fields__[:_STORED] == STORED_FIELDS, "the stored fields come first"
_JSON = [AT[c] for c in JSON_COLUMNS]


class RowBuilder:
    """Turns finalised papers into ``papers`` rows (lists in `COLUMNS` order): JSON text for
    ``authors``/``extra``, ISO text for dates and times, the derived columns filled. The values
    are those of `msgspec.to_builtins` (and `content_hash` hashes that form), built from the
    struct's fields directly: that is ~3x cheaper per paper."""

    def __init__(self) -> None:
        self._encode = msgspec.json.Encoder().encode
        self._moment: dt.datetime | None = None  # the last harvested_at seen, and its text:
        self._moment_text: str | None = None  # a run stamps many papers with the same time

    def row(self, paper: Paper, now: str) -> list[Any]:
        if not paper.key:
            raise ValueError(f"{paper.source_ref or paper.title!r}: a paper without a key")
        row: list[Any] = list(astuple(paper)[:_STORED])
        encode = self._encode
        for i in _JSON:
            row[i] = encode(row[i]).decode()
        for i in _DATES:
            if row[i] is not None:
                row[i] = row[i].isoformat()
        seen = row[_HARVESTED_AT]
        if seen is not None:
            if seen != self._moment:
                self._moment, self._moment_text = seen, iso_utc(seen)
            row[_HARVESTED_AT] = self._moment_text
        # Everything but harvested_at: a re-read that only moves that is cheap.
        digest = hashlib.blake2b(
            encode(row[:_HARVESTED_AT] + row[_HARVESTED_AT + 1 :]), digest_size=8
        ).digest()
        listing = row[_LISTING_DATE]
        row += [
            title_key(paper.title),
            listing,
            listing,
            int.from_bytes(digest, "big", signed=True),  # fits SQLite INTEGER / PG bigint
            now,
            now,
        ]
        return row


# -- the Python statement of the rules (the SQL dialects are tested against it) ----------------


def merge_extra(old: Any, new: Any) -> Any:
    """``extra`` merged: objects key by key, recursively; a newer non-null value wins; a null
    never erases (it is kept only where nothing was known). Idempotent, as every rule must be:
    merging the same record twice changes nothing (`content_hash` relies on it)."""
    if not isinstance(new, dict) or not isinstance(old, dict):
        return old if new is None else new
    result = dict(old)
    for name, value in new.items():
        if value is None:
            result.setdefault(name, None)
        else:
            result[name] = merge_extra(old.get(name), value)
    return result


def merge_extra_json(old: str | None, new: str | None) -> str | None:
    """`merge_extra` on JSON text: the SQLite dialect registers it as a SQL function."""
    if old is None or new is None:
        return old if new is None else new
    return msgspec.json.encode(
        merge_extra(msgspec.json.decode(old), msgspec.json.decode(new))
    ).decode()


def _empty(value: Any) -> bool:
    return value is None or value == [] or value == {}


def _earliest(a: Any, b: Any) -> Any:
    return b if a is None else a if b is None else min(a, b)


def _latest(a: Any, b: Any) -> Any:
    return b if a is None else a if b is None else max(a, b)


def upsert_value(rule: Upsert, old: Any, new: Any, old_row: dict, new_row: dict) -> Any:
    if rule is Upsert.KEEP:
        return old
    if rule is Upsert.NEWER_NON_NULL:
        return old if new is None else new
    if rule is Upsert.NEWER_NON_EMPTY:
        return old if _empty(new) else new
    if rule is Upsert.MERGE_DEEP:
        return old if _empty(new) else new if _empty(old) else merge_extra(old, new)
    if rule is Upsert.FOLLOWS_PUBLISHED:
        return old if new_row["published"] is None else new
    if rule in (Upsert.LATEST_SIGHTING, Upsert.NEWER):
        return new
    if rule is Upsert.EARLIEST:
        return _earliest(old, new)
    return _latest(old, new)


def absorb_value(rule: Absorb, kept: Any, gone: Any, kept_row: dict, gone_row: dict) -> Any:
    if rule is Absorb.KEEP:
        return kept
    if rule is Absorb.FILL_GAP:
        return gone if _empty(kept) else kept
    if rule is Absorb.MERGE_UNDER:
        return gone if _empty(kept) else kept if _empty(gone) else merge_extra(gone, kept)
    if rule is Absorb.FOLLOWS_PUBLISHED:
        return gone if kept_row["published"] is None else kept
    if rule is Absorb.EARLIEST:
        return _earliest(kept, gone)
    if rule is Absorb.LATEST:
        return _latest(kept, gone)
    return None


def merged(old: dict[str, Any], new: dict[str, Any]) -> dict[str, Any]:
    """The row an upsert of `new` onto `old` leaves (decoded values, by column name). A record
    whose content is that of the last one merged (`content_hash`) leaves the row as it is."""
    if old["content_hash"] is not None and old["content_hash"] == new["content_hash"]:
        return old
    return {c: upsert_value(RULES[c][0], old[c], new[c], old, new) for c in COLUMNS}


def absorbed(kept: dict[str, Any], gone: dict[str, Any]) -> dict[str, Any]:
    """The arXiv row `kept` after the title row `gone` was merged into it."""
    return {c: absorb_value(RULES[c][1], kept[c], gone[c], kept, gone) for c in COLUMNS}


# -- rendering the rules in a SQL dialect -------------------------------------------------------


def render_upsert_set(templates: dict[Upsert, str], table: str, new: str) -> str:
    """``col = expr, ...`` of an upsert: each rule's dialect template with ``{old}``/``{new}``
    (the stored and the incoming value) and ``{new_published}`` filled in."""
    return _render_set(
        templates, 0, Upsert.KEEP, lambda c: {"old": f"{table}.{c}", "new": f"{new}.{c}"},
        new_published=f"{new}.published",
    )  # fmt: skip


def render_absorb_set(templates: dict[Absorb, str], table: str, gone: str) -> str:
    """``col = expr, ...`` that merges row alias `gone` into the row of `table` (rule 2)."""
    return _render_set(
        templates, 1, Absorb.KEEP, lambda c: {"kept": f"{table}.{c}", "gone": f"{gone}.{c}"},
        kept_published=f"{table}.published",
    )  # fmt: skip


def _render_set(templates, which: int, keep, names, **shared: str) -> str:
    """The SET list of one kind of rule (`which`: 0 upsert, 1 absorb) for every column whose
    rule is not `keep`; `names(column)` gives the template's per-column names."""
    return ", ".join(
        f"{c} = " + templates[rules[which]].format(**names(c), **shared)
        for c, rules in RULES.items()
        if rules[which] is not keep
    )
