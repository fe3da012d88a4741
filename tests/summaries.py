"""Reading a run's `--summary-json` in tests: a source's targets by outcome."""

from __future__ import annotations

from typing import Any


def ended(source: dict[str, Any], outcome: str) -> list[dict[str, Any]]:
    """The source's targets (their summary objects) that ended with `outcome`, in order."""
    return [t for t in source["targets"] if t["outcome"] == outcome]


def ended_ids(source: dict[str, Any], outcome: str) -> list[str]:
    return [t["target"] for t in ended(source, outcome)]


def count(source: dict[str, Any], outcome: str) -> int:
    return source["outcomes"].get(outcome, 0)
