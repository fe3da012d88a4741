"""Check a JSONL file against the paper schema, line by line (`harvester validate`)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import msgspec

from .schema import FIELDS, SCHEMA_MAJOR, Paper

_AT = re.compile(r" - at `\$\.?([^`]*)`")


@dataclass
class Problem:
    line: int
    field: str  # "-" when the line as a whole is wrong
    message: str


def validate_line(raw: bytes) -> list[tuple[str, str]]:
    """(field, message) pairs for one JSONL line; empty when the line is a valid record."""
    try:
        obj = msgspec.json.decode(raw)
    except msgspec.DecodeError as exc:
        return [("-", f"not JSON: {exc}")]
    if not isinstance(obj, dict):
        return [("-", f"not a JSON object but {type(obj).__name__}")]
    problems = [(f, "missing") for f in FIELDS if f not in obj]
    problems += [(k, "unknown field") for k in obj if k not in FIELDS]
    version = obj.get("schema_version")
    if isinstance(version, str) and version.split(".")[0] != str(SCHEMA_MAJOR):
        problems.append(("schema_version", f"major version {version!r} is not {SCHEMA_MAJOR}"))
    try:
        msgspec.convert(obj, Paper)
    except msgspec.ValidationError as exc:
        message = str(exc)
        m = _AT.search(message)
        problems.append((m.group(1) if m else "-", _AT.sub("", message)))
    return problems


def validate_jsonl(path: Path) -> Iterator[Problem]:
    with open(path, "rb") as f:
        for number, raw in enumerate(f, 1):
            if not raw.strip():
                yield Problem(number, "-", "empty line")
                continue
            for field, message in validate_line(raw):
                yield Problem(number, field, message)
