"""Check a JSONL file against the paper schema, line by line (`harvester validate`)."""

from __future__ import annotations

import re
import typing
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import msgspec

from .schema import FIELDS, SCHEMA_MAJOR, Paper, required_fields

_AT = re.compile(r" - at `\$\.?([^`]*)`")


@dataclass
class Line:
    """One line of a JSONL file and what is wrong with it ([] when it is a valid record)."""

    number: int
    problems: list[tuple[str, str]]  # (field, or "-" for the line as a whole; message)


def validate_line(raw: bytes) -> list[tuple[str, str]]:
    """(field, message) pairs for one JSONL line, one per field; [] when the line is valid."""
    try:
        obj = msgspec.json.decode(raw)
    except msgspec.DecodeError as exc:
        return [("-", f"not JSON: {exc}")]
    if not isinstance(obj, dict):
        return [("-", f"not a JSON object but {type(obj).__name__}")]
    version = obj.get("schema_version")
    # a field added after 1.0 is required in records of its version and later only
    required = required_fields(version if isinstance(version, str) else None)
    problems = {f: "missing" for f in required if f not in obj}
    problems.update({k: "unknown field" for k in obj if k not in FIELDS})
    if isinstance(version, str) and version.split(".")[0] != str(SCHEMA_MAJOR):
        problems["schema_version"] = f"major version {version!r} is not {SCHEMA_MAJOR}"
    present = {k: v for k, v in obj.items() if k in FIELDS}
    for name in FIELDS:  # each field on its own, so every bad field is named once
        if name in present and name not in problems:
            message = _field_problem(name, present[name])
            if message:
                problems[name] = message
    return list(problems.items())


_ONE_FIELD: dict[str, type] = {}


def _field_problem(name: str, value: object) -> str | None:
    cls = _ONE_FIELD.get(name)
    if cls is None:
        annotation = typing.get_type_hints(Paper, include_extras=True)[name]
        cls = _ONE_FIELD[name] = msgspec.defstruct(
            f"Check_{name}", [("v", annotation)], module=__name__
        )
    try:
        msgspec.convert({"v": value}, cls)
    except msgspec.ValidationError as exc:
        return _AT.sub("", str(exc))
    return None


def validate_jsonl(path: Path) -> Iterator[Line]:
    """Every line of `path` with its problems."""
    with open(path, "rb") as f:
        for number, raw in enumerate(f, 1):
            if not raw.strip():
                yield Line(number, [("-", "empty line")])
                continue
            yield Line(number, validate_line(raw))
