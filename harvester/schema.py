"""The common paper record (schema version 1) and its JSON Schema.

`Paper` is the one record type every source yields and every sink writes. Its JSON form is a
public contract (tools read the JSONL), so the JSON Schema generated from it is committed as
`schema/paper.schema.json` and a test fails when the two drift apart.

Compatibility promise: within major version 1 fields may be added (minor bump, always optional
and nullable); no field is removed, renamed or changes type without a new major version.
"""

from __future__ import annotations

import datetime as dt
import json
from typing import Annotated, Any

import msgspec

SCHEMA_MAJOR = 1
SCHEMA_VERSION = "1.0"
SCHEMA_ID = f"urn:harvester:schema:paper:{SCHEMA_VERSION}"

_D = msgspec.Meta  # short alias: every field carries its documentation into the JSON Schema

NonNegative = Annotated[int, _D(ge=0)]
Text = Annotated[str, _D(min_length=1)]  # absent text is null, never ""


class Paper(msgspec.Struct, kw_only=True, omit_defaults=False):
    """One research paper as seen in one listing entry."""

    schema_version: Annotated[str, _D(description="Record schema version, MAJOR.MINOR.")] = (
        SCHEMA_VERSION
    )
    key: Annotated[
        str,
        _D(
            min_length=1,
            description="Stable work key: 'arxiv:<id>' (no version) when the arXiv id is known, "
            "otherwise 'title:<hash of the normalised title>'.",
        ),
    ] = ""
    arxiv_id: Annotated[
        Text | None, _D(description="arXiv identifier without version, e.g. 2410.05434.")
    ] = None
    title: Annotated[str, _D(min_length=1, description="Title, NFC, whitespace collapsed.")]
    abstract: Annotated[Text | None, _D(description="Abstract or listing summary.")] = None
    authors: Annotated[
        list[Text], _D(description="Author names in listing order; empty when unknown.")
    ] = []
    author_count: Annotated[
        NonNegative | None, _D(description="Number of authors as shown by the source.")
    ] = None
    organization: Annotated[
        Text | None, _D(description="Organisation the paper is listed under (its display name).")
    ] = None
    submitted_by: Annotated[
        Text | None, _D(description="User who submitted the paper to the listing.")
    ] = None
    published: Annotated[dt.date | None, _D(description="Publication date (ISO 8601 date).")] = None
    published_raw: Annotated[
        Text | None, _D(description="The date text the publication date was read from.")
    ] = None
    published_inferred: Annotated[
        bool, _D(description="True when the year was not printed and had to be inferred.")
    ] = False
    upvotes: Annotated[NonNegative | None, _D(description="Upvotes shown on the listing.")] = None
    comments: Annotated[
        NonNegative | None, _D(description="Comment count shown on the listing.")
    ] = None
    listing_date: Annotated[
        dt.date | None, _D(description="Date of the listing page (ISO 8601 date).")
    ] = None
    url: Annotated[Text | None, _D(description="Canonical URL of the paper's page.")] = None
    source: Annotated[
        str, _D(min_length=1, description="Name of the source plugin that produced it.")
    ] = ""
    source_ref: Annotated[
        str, _D(min_length=1, description="Where it came from: 'file:line' or a URL.")
    ] = ""
    harvested_at: Annotated[
        dt.datetime | None, _D(description="When it was harvested (UTC, ISO 8601).")
    ] = None
    extra: Annotated[
        dict[str, Any], _D(description="Source-specific fields, namespaced by the source.")
    ] = {}


class Rejected(msgspec.Struct, kw_only=True):
    """An entry or record that could not become a `Paper`, kept with the reason."""

    reason: str
    source: str = ""
    source_ref: str = ""
    raw: str | None = None
    rejected_at: dt.datetime | None = None


FIELDS: tuple[str, ...] = Paper.__struct_fields__
# The free-text fields the core cleans (harvester.normalise.clean_text); `authors` is cleaned
# item by item.
TEXT_FIELDS: tuple[str, ...] = (
    "title",
    "abstract",
    "organization",
    "submitted_by",
    "published_raw",
    "url",
)


def json_schema() -> dict[str, Any]:
    """The JSON Schema (draft 2020-12) of a `Paper`, as committed in schema/paper.schema.json."""
    generated = msgspec.json.schema(Paper)
    body = generated["$defs"]["Paper"]
    schema: dict[str, Any] = {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": SCHEMA_ID,
        "title": "Paper",
        "description": body.get("description", ""),
        "type": "object",
        "properties": body["properties"],
        "required": list(FIELDS),  # every field is always written; absent values are null
        "additionalProperties": False,
    }
    for prop in schema["properties"].values():
        prop.pop("default", None)  # every field is always written: defaults would mislead readers
    schema["properties"]["harvested_at"]["anyOf"][0]["format"] = "date-time"
    # The version is fixed per schema file: a record of another major version must not validate.
    schema["properties"]["schema_version"] = {
        **schema["properties"]["schema_version"],
        "pattern": rf"^{SCHEMA_MAJOR}\.[0-9]+$",
    }
    return schema


def json_schema_text() -> str:
    return json.dumps(json_schema(), indent=2, sort_keys=False) + "\n"
