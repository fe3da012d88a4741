"""The JSON Schema is a public contract: the committed file, the record class and the CLI agree."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import jsonschema
import msgspec
import pytest

from harvester.schema import ADDED_IN, FIELDS, SCHEMA_ID, SCHEMA_VERSION, Paper, json_schema
from harvester.validate import validate_line

from .conftest import ROOT

COMMITTED = ROOT / "schema" / "paper.schema.json"


def test_committed_schema_matches_the_record_class():
    committed = json.loads(COMMITTED.read_text(encoding="utf-8"))
    assert committed == json_schema(), (
        "schema/paper.schema.json drifted from harvester.schema.Paper; regenerate it with "
        "`harvester schema > schema/paper.schema.json` and bump SCHEMA_VERSION if fields changed"
    )


def test_schema_id_carries_the_version():
    assert json_schema()["$id"] == SCHEMA_ID
    assert SCHEMA_VERSION in SCHEMA_ID
    # the fields of 1.0 always; those added later in records of their version (below)
    assert json_schema()["required"] == [f for f in FIELDS if f not in ADDED_IN]
    assert SCHEMA_VERSION == "1.1" and set(ADDED_IN) == {"arxiv_version", "categories", "doi"}


def _record(**changes) -> dict:
    paper = Paper(
        key="arxiv:2410.05434",
        arxiv_id="2410.05434",
        title="Better than Your Teacher",
        authors=["Zoë Ünal", "Li Wei"],
        author_count=2,
        published=dt.date(2024, 10, 7),
        published_raw="Oct 7, 2024",
        source="textdump",
        source_ref="dump.txt:12",
        harvested_at=dt.datetime(2026, 11, 21, 12, 0, tzinfo=dt.UTC),
        extra={"hf": {"stars": 3}},
    )
    obj = msgspec.to_builtins(paper)
    obj.update(changes)
    return obj


def test_a_record_validates_against_the_committed_schema():
    validator = jsonschema.Draft202012Validator(
        json.loads(COMMITTED.read_text()), format_checker=jsonschema.FormatChecker()
    )
    validator.validate(_record())
    assert validate_line(json.dumps(_record()).encode()) == []


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"upvotes": "12"}, "upvotes"),
        ({"author_count": -1}, "author_count"),
        ({"abstract": ""}, "abstract"),
        ({"title": ""}, "title"),
        ({"published": "Oct 7"}, "published"),
        ({"schema_version": "2.0"}, "schema_version"),
        ({"surprise": 1}, "surprise"),
    ],
)
def test_bad_records_fail_both_validators_naming_the_field(change, field):
    record = _record(**change)
    validator = jsonschema.Draft202012Validator(
        json.loads(COMMITTED.read_text()), format_checker=jsonschema.FormatChecker()
    )
    assert list(validator.iter_errors(record)), f"jsonschema accepted {change}"
    problems = validate_line(json.dumps(record).encode())
    assert field in [f for f, _ in problems], problems


def _validator():
    return jsonschema.Draft202012Validator(
        json.loads(COMMITTED.read_text()), format_checker=jsonschema.FormatChecker()
    )


def test_an_arxiv_record_with_the_1_1_fields_validates():
    record = _record(arxiv_version=3, categories=["hep-th", "gr-qc"], doi="10.1103/x.76.024606")
    _validator().validate(record)
    assert validate_line(json.dumps(record).encode()) == []
    for change, field in [
        ({"arxiv_version": 0}, "arxiv_version"),
        ({"categories": []}, "categories"),
        ({"categories": ["hep-th", ""]}, "categories"),
        ({"doi": ""}, "doi"),
    ]:
        bad = _record(**change)
        assert list(_validator().iter_errors(bad)), change
        assert field in [f for f, _ in validate_line(json.dumps(bad).encode())], change


def test_a_1_0_record_still_validates_and_decodes():
    """1.0 records (written before the arXiv fields) validate against the 1.1 schema and decode
    into a 1.1 `Paper` with nulls; a 1.1 record must carry every field."""
    old = _record(schema_version="1.0")
    for name in ADDED_IN:
        del old[name]
    _validator().validate(old)
    assert validate_line(json.dumps(old).encode()) == []
    paper = msgspec.json.decode(json.dumps(old), type=Paper)
    assert (paper.arxiv_version, paper.categories, paper.doi) == (None, None, None)
    new = _record()
    del new["doi"]
    assert list(_validator().iter_errors(new)), "a 1.1 record without doi validated"
    assert ("doi", "missing") in validate_line(json.dumps(new).encode())


def test_a_1_1_record_is_read_by_a_1_0_reader_that_ignores_unknown_fields():
    """What the compatibility note promises: a reader built for 1.0 (here a msgspec struct with
    only the 1.0 fields, as a consumer would have generated) decodes 1.1 lines unchanged."""
    old_fields = [(f, Any, None) for f in FIELDS if f not in ADDED_IN]
    Paper10 = msgspec.defstruct("Paper10", old_fields, kw_only=True)
    record = _record(arxiv_version=2, categories=["cs.CL"], doi="10.1/x")
    decoded = msgspec.json.decode(json.dumps(record), type=Paper10)
    assert decoded.title == "Better than Your Teacher" and decoded.schema_version == "1.1"


def test_missing_field_is_reported():
    record = _record()
    del record["comments"]
    assert ("comments", "missing") in validate_line(json.dumps(record).encode())
