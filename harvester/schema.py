"""The common paper record (schema version 1) and its JSON Schema.

`Paper` is the one record type every source yields and every sink writes. Its JSON form is a
public contract (tools read the JSONL), so the JSON Schema generated from it is committed as
`schema/paper.schema.json` and a test fails when the two drift apart.

Compatibility promise: within major version 1 fields may be added (minor bump, always optional
and nullable); no field is removed, renamed or changes type without a new major version.

1.1 added `arxiv_version`, `categories` and `doi` (`ADDED_IN`), at the end of the record. A 1.0
reader keeps working by ignoring fields it does not know (as the README asks); the 1.1 schema
accepts 1.0 records too: a field is required only in records of the version that added it or a
later one. Records decoded from 1.0 JSON get null for the new fields.
"""

from __future__ import annotations

import datetime as dt
import json
from typing import Annotated, Any

import msgspec

SCHEMA_MAJOR = 1
SCHEMA_VERSION = "1.1"
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
    # -- added in 1.1 (ADDED_IN) ---------------------------------------------------------------
    arxiv_version: Annotated[
        Annotated[int, _D(ge=1)] | None,
        _D(description="The arXiv version the record describes (2 for v2); null when unknown."),
    ] = None
    categories: Annotated[
        Annotated[list[Text], _D(min_length=1)] | None,
        _D(description="arXiv categories, the primary first (e.g. ['cs.CL', 'cs.AI']); "
           "null when the source does not show them."),
    ] = None  # fmt: skip
    doi: Annotated[
        Text | None, _D(description="The DOI of the published version (e.g. a journal's).")
    ] = None


class Rejected(msgspec.Struct, kw_only=True):
    """An entry or record that could not become a `Paper`, kept with the reason."""

    reason: str
    source: str = ""
    source_ref: str = ""
    raw: str | None = None
    rejected_at: dt.datetime | None = None


FIELDS: tuple[str, ...] = Paper.__struct_fields__
# The schema version that added a field (every field not named here is in 1.0).
ADDED_IN: dict[str, str] = {"arxiv_version": "1.1", "categories": "1.1", "doi": "1.1"}


def _minor(version: str) -> int:
    return int(version.split(".")[1])


def required_fields(version: str | None) -> tuple[str, ...]:
    """The fields a record of `version` ("1.0", "1.1", ...) always has: those of its version
    and earlier (an unreadable version: every field this harvester knows)."""
    try:
        minor = _minor(version or "")
    except (ValueError, IndexError):
        return FIELDS
    return tuple(f for f in FIELDS if f not in ADDED_IN or _minor(ADDED_IN[f]) <= minor)


# The free-text fields the core cleans (harvester.normalise.clean_text); `authors` and
# `categories` are cleaned item by item.
TEXT_FIELDS: tuple[str, ...] = (
    "title",
    "abstract",
    "organization",
    "submitted_by",
    "published_raw",
    "url",
    "doi",
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
        # every field is always written (absent values are null); a field added after 1.0 is
        # required in records of its version and later, so 1.0 records validate too
        "required": list(required_fields("1.0")),
        "additionalProperties": False,
        "allOf": [_required_since(version) for version in sorted(set(ADDED_IN.values()))],
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


def _required_since(version: str) -> dict[str, Any]:
    """'A record of `version` or later has the fields added in `version`', as JSON Schema."""
    older = "|".join(str(m) for m in range(_minor(version)))
    return {
        "if": {"properties": {"schema_version": {"pattern": rf"^{SCHEMA_MAJOR}\.({older})$"}}},
        "else": {"required": [f for f, v in ADDED_IN.items() if v == version]},
    }


def json_schema_text() -> str:
    return json.dumps(json_schema(), indent=2, sort_keys=False) + "\n"
