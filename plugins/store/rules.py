"""The one statement of how a database row is built from papers: its columns, and what each
column keeps when a newer record is upserted onto it or a title-keyed row is absorbed into it.

Columns of ``papers`` (both dialects, in this order): every `Paper` field (`STORED_FIELDS`),
then

* ``title_key``: `harvester.normalise.title_key` of the title (for the dump-to-listing match);
* ``first_listing_date`` / ``last_listing_date``: the earliest and latest listing day of any
  sighting merged into the row (``listing_date`` itself is that of the latest sighting);
* ``content_hash``: a hash of the last record merged into the row, ``harvested_at`` aside. A
  record identical to it changes nothing (every rule below is idempotent): the row is not
  written at all, and a re-read of the same content later only moves its sighting's
  ``last_harvested_at`` (a small row in ``sightings``);
* ``first_seen`` / ``last_seen``: when the row was created and last written (UTC wall clock);
* ``from_lead``: one bit per field of `LEADS`, set when the row's value of that field came from
  a record of the source family that leads it (see below).

Upsert rules (`UPSERT`): a newer record's non-null value replaces the stored one and nulls never
erase (``NEWER_NON_NULL``); ``extra`` is merged deeply (``MERGE_DEEP``, `merge_extra`: key by
key, nested objects merged, a newer non-null value wins, a null never erases);
``published_inferred`` follows the ``published`` it belongs to; ``arxiv_version`` is the highest
seen (``LATEST``: an older version never overwrites a newer one).
One paper seen on Hugging Face and on arXiv is one row (key ``arxiv:<id>``), each field from the
source family that knows it best (`LEADS`): arXiv (sources named ``arxiv-*``) for the authors,
their count, the abstract, the categories and the DOI; HF (every other source: the HF pages, API
and text dumps) for upvotes, comments, the organisation and the submitter. A led field
(``LED_BY_ARXIV``, ``LED_BY_HF``) takes the newer non-empty value (an empty ``authors`` list is
unknown), except that a value from the leading family is never replaced by one from the other,
and an arXiv value never by one of an older ``arxiv_version``. Other fields (the title, the
URL, dates) are the newer non-null value whichever the family: the title is also what the
title matching (`matching`) follows.
Provenance: ``source``, ``source_ref``, ``listing_date`` and ``harvested_at`` always describe
one sighting together (``LATEST_SIGHTING``, nulls included): the latest one that changed the
row, so a row never mixes the ``source_ref`` of one sighting with the ``listing_date`` of
another. Every sighting merged into a row is in ``sightings (key, source, source_ref,
listing_date, first_harvested_at, last_harvested_at)``; the row's listing days span
``first_listing_date`` to ``last_listing_date``.

Absorb rules (`ABSORB`, matching rule 2 in `matching`): the arXiv row keeps its values and the
title row only fills its gaps (null, ``[]``), or a led field the title row holds from its
leading family and the arXiv row does not; ``extra`` keys of the title row are added under the
arXiv row's; listing days and ``first_seen`` widen to cover both rows.
"""

from __future__ import annotations

import datetime as dt
import enum
import hashlib
from collections.abc import Sequence
from typing import Any

import msgspec
from msgspec.structs import astuple

from harvester.normalise import title_key
from harvester.schema import FIELDS, Paper

# The Paper fields the databases keep: every one (database schema 2.2 added those of record
# schema 1.1).
STORED_FIELDS: tuple[str, ...] = FIELDS

ARXIV, HF = "arXiv", "HF"
ARXIV_SOURCE_PREFIX = "arxiv-"  # arxiv-listing, arxiv-oai, arxiv-api (and plugins named so)


def family(source: str | None) -> str:
    """The source family a record comes from: `ARXIV` or `HF` (every other source)."""
    return ARXIV if source and source.startswith(ARXIV_SOURCE_PREFIX) else HF


# Which family knows a field best (docs/sqlite.md, "One paper from Hugging Face and arXiv").
LEADS: dict[str, str] = {
    "authors": ARXIV,
    "author_count": ARXIV,  # the count of the authors kept
    "abstract": ARXIV,
    "categories": ARXIV,
    "doi": ARXIV,
    "upvotes": HF,
    "comments": HF,  # Hugging Face's discussion count
    "organization": HF,
    "submitted_by": HF,
}
LEAD_BITS: dict[str, int] = {name: 1 << i for i, name in enumerate(LEADS)}


class Upsert(enum.Enum):
    """What a column keeps when a newer record for the same key arrives."""

    KEEP = "keep"  # the stored value stays (identity, creation time)
    NEWER_NON_NULL = "newer non-null"
    LED_BY_ARXIV = "arXiv's first, not of an older version; else newer non-empty"
    LED_BY_HF = "HF's first; else newer non-empty"
    MERGE_DEEP = "deep merge, nulls never erase"
    FOLLOWS_PUBLISHED = "follows published"
    LATEST_SIGHTING = "the latest sighting's, nulls included"
    NEWER = "always the newer"
    EARLIEST = "earliest non-null"
    LATEST = "latest non-null"
    BITS_OR = "either's bits"


class Absorb(enum.Enum):
    """What a column of the arXiv row keeps when a title-keyed row is merged into it."""

    KEEP = "keep"
    FILL_GAP = "the arXiv row's, else the title row's"
    LED = "the arXiv row's, else the title row's; the leading family's first"
    MERGE_UNDER = "title row's keys under the arXiv row's"
    FOLLOWS_PUBLISHED = "follows published"
    EARLIEST = "earliest non-null"
    LATEST = "latest non-null"
    BITS_OR = "either's bits"
    RESET = "null"


_GAP = (Upsert.NEWER_NON_NULL, Absorb.FILL_GAP)
_SIGHTING = (Upsert.LATEST_SIGHTING, Absorb.KEEP)
_LED = {ARXIV: (Upsert.LED_BY_ARXIV, Absorb.LED), HF: (Upsert.LED_BY_HF, Absorb.LED)}
RULES: dict[str, tuple[Upsert, Absorb]] = {
    "schema_version": (Upsert.NEWER_NON_NULL, Absorb.KEEP),
    "key": (Upsert.KEEP, Absorb.KEEP),
    "arxiv_id": (Upsert.NEWER_NON_NULL, Absorb.KEEP),
    "title": (Upsert.NEWER_NON_NULL, Absorb.KEEP),
    "abstract": _LED[LEADS["abstract"]],
    "authors": _LED[LEADS["authors"]],
    "author_count": _LED[LEADS["author_count"]],
    "organization": _LED[LEADS["organization"]],
    "submitted_by": _LED[LEADS["submitted_by"]],
    "published": _GAP,
    "published_raw": _GAP,
    "published_inferred": (Upsert.FOLLOWS_PUBLISHED, Absorb.FOLLOWS_PUBLISHED),
    "upvotes": _LED[LEADS["upvotes"]],
    "comments": _LED[LEADS["comments"]],
    "listing_date": _SIGHTING,
    "url": _GAP,
    "source": _SIGHTING,
    "source_ref": _SIGHTING,
    "harvested_at": _SIGHTING,
    "extra": (Upsert.MERGE_DEEP, Absorb.MERGE_UNDER),
    "arxiv_version": (Upsert.LATEST, Absorb.LATEST),
    "categories": _LED[LEADS["categories"]],
    "doi": _LED[LEADS["doi"]],
    "title_key": (Upsert.NEWER_NON_NULL, Absorb.KEEP),
    "first_listing_date": (Upsert.EARLIEST, Absorb.EARLIEST),
    "last_listing_date": (Upsert.LATEST, Absorb.LATEST),
    "content_hash": (Upsert.NEWER, Absorb.RESET),
    "first_seen": (Upsert.KEEP, Absorb.EARLIEST),
    "last_seen": (Upsert.NEWER, Absorb.LATEST),
    "from_lead": (Upsert.BITS_OR, Absorb.BITS_OR),
}
COLUMNS: tuple[str, ...] = tuple(RULES)
assert COLUMNS[: len(STORED_FIELDS)] == STORED_FIELDS, "papers columns start with the fields"

JSON_COLUMNS = ("authors", "extra", "categories")
INT_COLUMNS = ("author_count", "upvotes", "comments", "arxiv_version", "content_hash", "from_lead")
DATE_COLUMNS = ("published", "listing_date", "first_listing_date", "last_listing_date")
TIME_COLUMNS = ("harvested_at", "first_seen", "last_seen")

AT = {name: i for i, name in enumerate(COLUMNS)}
_HARVESTED_AT, _LISTING_DATE = AT["harvested_at"], AT["listing_date"]


def paper_from_row(data: dict[str, Any], json_columns: Sequence[str] = JSON_COLUMNS) -> Paper:
    """The paper a stored row holds (its record fields; other keys ignored): the columns in
    `json_columns` decoded where they are JSON text, `published_inferred` a bool (SQLite
    stores 0/1), a null `extra` left to its default. Raises `msgspec.ValidationError`."""
    fields = {name: data[name] for name in STORED_FIELDS if name in data}
    for name in json_columns:
        if isinstance(fields.get(name), str):
            fields[name] = msgspec.json.decode(fields[name])
    if "published_inferred" in fields:
        fields["published_inferred"] = bool(fields["published_inferred"])
    if fields.get("extra") is None:
        fields.pop("extra", None)
    return msgspec.convert(fields, Paper)


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
assert Paper.__struct_fields__ == STORED_FIELDS, "the stored fields come first, in order"
_JSON = [AT[c] for c in JSON_COLUMNS]
# (column index, bit) of the fields each family leads
_LED_AT = {f: [(AT[c], LEAD_BITS[c]) for c, led in LEADS.items() if led == f] for f in (ARXIV, HF)}


def lead_bits(row: list[Any], source: str | None) -> int:
    """The `from_lead` bits of a record's row: the led fields its family leads and it holds."""
    bits = 0
    for i, bit in _LED_AT[family(source)]:
        if not _empty(row[i]):
            bits |= bit
    return bits


class RowBuilder:
    """Turns finalised papers into ``papers`` rows (lists in `COLUMNS` order): JSON text for
    `JSON_COLUMNS`, ISO text for dates and times, the derived columns filled. The values
    are those of `msgspec.to_builtins` (and `content_hash` hashes that form), built from the
    struct's fields directly: that is ~3x cheaper per paper."""

    def __init__(self) -> None:
        self._encode = msgspec.json.Encoder().encode
        self._moment: dt.datetime | None = None  # the last harvested_at seen, and its text:
        self._moment_text: str | None = None  # a run stamps many papers with the same time

    def row(self, paper: Paper, now: str) -> list[Any]:
        if not paper.key:
            raise ValueError(f"{paper.source_ref or paper.title!r}: a paper without a key")
        row: list[Any] = list(astuple(paper))
        led = lead_bits(row, paper.source)
        encode = self._encode
        for i in _JSON:
            if row[i] is not None:  # `categories` may be unknown
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
            led,
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
    """None, [] or {}: a value a merge treats as not known. Typed first: comparing a long str
    with [] and {} cost more than the rest of a row's lead bits."""
    return value is None or (isinstance(value, (list, dict)) and not value)


def _earliest(a: Any, b: Any) -> Any:
    return b if a is None else a if b is None else min(a, b)


def _latest(a: Any, b: Any) -> Any:
    return b if a is None else a if b is None else max(a, b)


def _lead_keeps(column: str, old_row: dict, new_row: dict, *, by_version: bool) -> bool:
    """Whether the stored value of a led field stays against a non-empty newer one: it came
    from the leading family and the newer did not (or, `by_version`, is of an older version)."""
    bit = LEAD_BITS[column]
    if not (old_row["from_lead"] or 0) & bit:
        return False
    if not (new_row["from_lead"] or 0) & bit:
        return True
    old_version, new_version = old_row["arxiv_version"], new_row["arxiv_version"]
    return by_version and None not in (old_version, new_version) and new_version < old_version


def upsert_value(
    rule: Upsert, column: str, old: Any, new: Any, old_row: dict, new_row: dict
) -> Any:
    if rule is Upsert.KEEP:
        return old
    if rule is Upsert.NEWER_NON_NULL:
        return old if new is None else new
    if rule in (Upsert.LED_BY_ARXIV, Upsert.LED_BY_HF):
        by_version = rule is Upsert.LED_BY_ARXIV
        keep = _empty(new) or _lead_keeps(column, old_row, new_row, by_version=by_version)
        return old if keep else new
    if rule is Upsert.MERGE_DEEP:
        return old if _empty(new) else new if _empty(old) else merge_extra(old, new)
    if rule is Upsert.FOLLOWS_PUBLISHED:
        return old if new_row["published"] is None else new
    if rule in (Upsert.LATEST_SIGHTING, Upsert.NEWER):
        return new
    if rule is Upsert.EARLIEST:
        return _earliest(old, new)
    if rule is Upsert.BITS_OR:
        return (old or 0) | (new or 0)
    return _latest(old, new)


def absorb_value(
    rule: Absorb, column: str, kept: Any, gone: Any, kept_row: dict, gone_row: dict
) -> Any:
    if rule is Absorb.KEEP:
        return kept
    if rule is Absorb.FILL_GAP:
        return gone if _empty(kept) else kept
    if rule is Absorb.LED:
        bit = LEAD_BITS[column]
        from_lead = (gone_row["from_lead"] or 0) & bit and not (kept_row["from_lead"] or 0) & bit
        return gone if _empty(kept) or from_lead else kept
    if rule is Absorb.MERGE_UNDER:
        return gone if _empty(kept) else kept if _empty(gone) else merge_extra(gone, kept)
    if rule is Absorb.FOLLOWS_PUBLISHED:
        return gone if kept_row["published"] is None else kept
    if rule is Absorb.EARLIEST:
        return _earliest(kept, gone)
    if rule is Absorb.LATEST:
        return _latest(kept, gone)
    if rule is Absorb.BITS_OR:
        return (kept or 0) | (gone or 0)
    return None


def merged(old: dict[str, Any], new: dict[str, Any]) -> dict[str, Any]:
    """The row an upsert of `new` onto `old` leaves (decoded values, by column name). A record
    whose content is that of the last one merged (`content_hash`) leaves the row as it is."""
    if old["content_hash"] is not None and old["content_hash"] == new["content_hash"]:
        return old
    return {c: upsert_value(RULES[c][0], c, old[c], new[c], old, new) for c in COLUMNS}


def absorbed(kept: dict[str, Any], gone: dict[str, Any]) -> dict[str, Any]:
    """The arXiv row `kept` after the title row `gone` was merged into it."""
    return {c: absorb_value(RULES[c][1], c, kept[c], gone[c], kept, gone) for c in COLUMNS}
