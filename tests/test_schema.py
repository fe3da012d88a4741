"""The JSON Schema is a public contract: the committed file, the record class and the CLI agree."""

from __future__ import annotations

import datetime as dt
import json

import jsonschema
import msgspec
import pytest

from harvester.schema import FIELDS, SCHEMA_ID, SCHEMA_VERSION, Paper, json_schema
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
    assert json_schema()["required"] == list(FIELDS)


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


def test_missing_field_is_reported():
    record = _record()
    del record["comments"]
    assert ("comments", "missing") in validate_line(json.dumps(record).encode())
