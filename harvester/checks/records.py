"""Expected records, the plugin's contract: reading and writing `expected_records.jsonl`, and
comparing records field by field (what differs, where) and by schema (a field that disappears
or changes type)."""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import msgspec

from ..atomic import write_atomic
from ..errors import OutputError, UsageError
from .spec import VOLATILE

Record = dict[str, Any]


def as_records(items: Iterable[Any], volatile: Sequence[str] = ()) -> list[Record]:
    """Plain JSON values of papers (or dicts a sink read back), volatile fields left out."""
    dropped = {*VOLATILE, *volatile}
    found = []
    for item in items:
        plain = msgspec.to_builtins(item, builtin_types=())
        found.append({k: v for k, v in plain.items() if k not in dropped})
    return json.loads(json.dumps(found, default=str))  # dates and the like as JSON has them


def load_expected(path: Path) -> list[Record] | None:
    """The records of an expected-records file (None: there is none)."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return None
    records = []
    for number, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        try:
            value = json.loads(line)
        except json.JSONDecodeError as exc:
            raise UsageError(f"{path}:{number}: not JSON: {exc}") from None
        if not isinstance(value, dict):
            raise UsageError(f"{path}:{number}: not a JSON object")
        records.append(value)
    return records


def write_expected(path: Path, records: Sequence[Record]) -> None:
    lines = [json.dumps(r, ensure_ascii=False) + "\n" for r in records]
    path.parent.mkdir(parents=True, exist_ok=True)
    write_atomic(path, "".join(lines).encode("utf-8"), OutputError)


def name_of(record: Record) -> str:
    """How a message names a record: where it came from and its key."""
    parts = [str(record[k]) for k in ("source_ref", "key") if record.get(k)]
    return " ".join(parts) or json.dumps(record, ensure_ascii=False)[:80]


def _short(value: Any) -> str:
    text = json.dumps(value, ensure_ascii=False)
    return text if len(text) <= 120 else text[:117] + "..."


def field_changes(old: Record, new: Record) -> list[str]:
    """'field: old -> new' for every field whose value differs (a field one side lacks: absent)."""
    return [
        f"{name}: {_shown(old, name)} -> {_shown(new, name)}"
        for name in sorted(set(old) | set(new), key=lambda n: (n not in old, n))
        if old.get(name, _MISSING) != new.get(name, _MISSING)
    ]


_MISSING = object()


def _shown(record: Record, name: str) -> str:
    return _short(record[name]) if name in record else "(absent)"


def pair(expected: Sequence[Record], got: Sequence[Record]):
    """Pairs of (expected, got) records: matched by source_ref and key, then by source_ref,
    then by key; and those of each side left unmatched."""
    left, right = list(expected), list(got)
    pairs: list[tuple[Record, Record]] = []
    for ident in (
        lambda r: (r.get("source_ref"), r.get("key")),
        lambda r: r.get("source_ref"),
        lambda r: r.get("key"),
    ):
        unmatched = []
        for record in left:
            match = next((i for i, g in enumerate(right) if ident(g) == ident(record)), None)
            if match is None or ident(record) in (None, (None, None)):
                unmatched.append(record)
            else:
                pairs.append((record, right.pop(match)))
        left = unmatched
    return pairs, left, right


def differences(expected: Sequence[Record], got: Sequence[Record], *, ordered: bool) -> list[str]:
    """What differs between the expected records and those read, one line each; [] if none."""
    pairs, missing, extra = pair(expected, got)
    lines = []
    for old, new in pairs:
        lines += [f"{name_of(old)}: {change}" for change in field_changes(old, new)]
    lines += [f"missing: {name_of(r)}" for r in missing]
    lines += [f"not expected: {name_of(r)}" for r in extra]
    if ordered and not lines:
        want = [name_of(r) for r in expected]
        have = [name_of(r) for r in got]
        if want != have:
            at = next(i for i, (a, b) in enumerate(zip(want, have, strict=True)) if a != b)
            lines.append(f"order: record {at + 1} is {have[at]}, expected {want[at]}")
    return lines


def field_types(records: Iterable[Record]) -> dict[str, set[str]]:
    """Every field (nested ones as `extra.ns.name`) and the JSON types of its non-null values."""
    types: dict[str, set[str]] = {}

    def walk(prefix: str, value: Any) -> None:
        seen = types.setdefault(prefix, set())
        if value is None:
            return
        if isinstance(value, dict):
            seen.add("object")
            for name, inner in value.items():
                walk(f"{prefix}.{name}", inner)
            return
        seen.add(_json_type(value))

    for record in records:
        for name, value in record.items():
            walk(name, value)
    return types


def _json_type(value: Any) -> str:
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "number"
    if isinstance(value, str):
        return "string"
    return "array" if isinstance(value, list) else type(value).__name__


def incompatible(old: Iterable[Record], new: Iterable[Record]) -> list[str]:
    """What breaks a consumer of the old records: a field with values that has none now, or
    with values of a type it never had. New fields are compatible."""
    before, after = field_types(old), field_types(new)
    problems = []
    for name, types in sorted(before.items()):
        if not types:
            continue  # always null before: nothing to rely on
        now = after.get(name, set())
        if not now:
            gone = "is gone" if name not in after else "is always null now"
            problems.append(f"{name} ({'/'.join(sorted(types))}) {gone}")
        elif now - types:
            problems.append(
                f"{name} changed type: {'/'.join(sorted(types))} -> {'/'.join(sorted(now))}"
            )
    return problems
