"""The Parquet layout the parquet sink writes and its store reads: the Arrow schema, the file
metadata and the partition folders.

Every file holds every `Paper` field with an explicit Arrow type (dates ``date32``, times
``timestamp[us, UTC]``, ``authors`` ``list<string>``, counts ``int64``, ``extra`` JSON text; no
dictionary types), so a file alone is complete and every reader (pandas, polars, DuckDB,
pyarrow) gets the same types. Record files also hold ``log_seq`` (int64): the record's place in
the order its run wrote them; paper files (``rows = "papers"``) ``from_lead`` (int64): which of
the row's led fields came from the source family that leads them (`store.rules.LEADS`), so the
next merge into the row keeps them as a database would.

Partition folders are named ``<field>_partition=<value>``: a copy of the field as text, for
pruning. Not ``<field>=`` itself: pyarrow (so pandas) types a Hive partition from the folder
names (text, a dictionary) and refuses a file column of the same name with another type, and a
dataset whose partition values are all null has no type at all ("No non-null segments"). A null
value is the folder ``__NULL__``; a ``date`` is ISO; other text is percent-encoded.
"""

from __future__ import annotations

import datetime as dt
import functools
import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any
from urllib.parse import quote, unquote

import msgspec
from harvester_plugins.store.rules import paper_from_row

from harvester.schema import FIELDS, SCHEMA_ID, SCHEMA_VERSION, Paper

NULL_PARTITION = "__NULL__"
PARTITION_SUFFIX = "_partition"
PARTITION_FIELDS = ("listing_date", "published", "source", "organization")
LOG_SEQ = "log_seq"
FROM_LEAD = "from_lead"
# Arrow type per Paper field, by name (pyarrow is imported when a sink opens, not when plugins
# load: it costs every command 0.2 s). A field added to the schema later and not listed here is
# written as JSON text (the tests check every current field is listed).
ARROW_TYPES: dict[str, str] = {
    "schema_version": "string",
    "key": "string",
    "arxiv_id": "string",
    "title": "string",
    "abstract": "string",
    "authors": "list<string>",
    "author_count": "int64",
    "organization": "string",
    "submitted_by": "string",
    "published": "date32",
    "published_raw": "string",
    "published_inferred": "bool",
    "upvotes": "int64",
    "comments": "int64",
    "listing_date": "date32",
    "url": "string",
    "source": "string",
    "source_ref": "string",
    "harvested_at": "timestamp[us, UTC]",
    "extra": "string",
    "arxiv_version": "int64",
    "categories": "list<string>",
    "doi": "string",
}
JSON_FIELDS = ("extra",)
FILE_METADATA = {"harvester.schema_version": SCHEMA_VERSION, "harvester.schema_id": SCHEMA_ID}
# part-<run>-<n>.parquet: a record file (run: its start, to the microsecond, and a random tag)
RECORD_FILE = re.compile(r"^part-(?P<run>[0-9TZ]+-[0-9a-f]+)-(?P<n>[0-9]+)\.parquet$")
PAPERS_FILE = "papers.parquet"  # the one file of a partition in rows = "papers"


@functools.cache
def _arrow_type(name: str):
    import pyarrow as pa

    return {
        "string": pa.string(),
        "list<string>": pa.list_(pa.string()),
        "int64": pa.int64(),
        "date32": pa.date32(),
        "bool": pa.bool_(),
        "timestamp[us, UTC]": pa.timestamp("us", tz="UTC"),
    }[name]


def arrow_schema(*, log_seq: bool = False, from_lead: bool = False):
    import pyarrow as pa

    fields = [pa.field(f, _arrow_type(ARROW_TYPES.get(f, "string"))) for f in FIELDS]
    if log_seq:
        fields.append(pa.field(LOG_SEQ, pa.int64()))
    if from_lead:
        fields.append(pa.field(FROM_LEAD, pa.int64()))
    return pa.schema(fields, metadata=FILE_METADATA)


def to_table(
    papers: Sequence[Paper],
    log_seq: Sequence[int] | None = None,
    from_lead: Sequence[int] | None = None,
):
    """The papers as an Arrow table of `arrow_schema` (with ``log_seq`` and ``from_lead`` when
    given)."""
    import pyarrow as pa

    added = {LOG_SEQ: log_seq, FROM_LEAD: from_lead}
    schema = arrow_schema(log_seq=log_seq is not None, from_lead=from_lead is not None)
    encode = msgspec.json.encode
    columns = []
    for field in schema:
        if field.name in added:
            columns.append(pa.array(added[field.name], type=field.type))
            continue
        values = [getattr(p, field.name) for p in papers]
        if field.name in JSON_FIELDS or field.name not in ARROW_TYPES:
            values = [None if v is None else encode(v).decode() for v in values]
        columns.append(pa.array(values, type=field.type))
    return pa.Table.from_arrays(columns, schema=schema)


def from_table(table, where: Path) -> list[Paper]:
    """Papers from a table of this layout (extra columns ignored); `where` names the file in
    the error a bad row raises."""
    names = [f for f in FIELDS if f in table.column_names]
    papers = []
    for row in table.select(names).to_pylist():
        try:
            papers.append(paper_from_row(row, JSON_FIELDS))
        except msgspec.ValidationError as exc:
            raise ValueError(f"{where}: row {row.get('key')!r}: {exc}") from None
    return papers


def partition_value(value: Any) -> str:
    """A partition folder's value: ISO dates, other text percent-encoded as Hive escapes it."""
    if value is None or value == "":
        return NULL_PARTITION
    if isinstance(value, dt.date):
        return value.isoformat()
    return quote(str(value), safe="")


def partition_folder(paper: Paper, fields: Sequence[str]) -> tuple[str, ...]:
    """The folder names (``<field>_partition=<value>``) a paper's row goes under."""
    return tuple(f"{f}{PARTITION_SUFFIX}={partition_value(getattr(paper, f))}" for f in fields)


def folder_values(path: Path, root: Path) -> dict[str, str | None]:
    """The partition values in a file's folder names, by field (``__NULL__`` as None)."""
    values: dict[str, str | None] = {}
    for part in path.relative_to(root).parts[:-1]:
        name, _, value = part.partition("=")
        field = name.removesuffix(PARTITION_SUFFIX)
        values[field] = (
            None if value in (NULL_PARTITION, "__HIVE_DEFAULT_PARTITION__") else (unquote(value))
        )
    return values
