"""What a check found, and the readable report of a plugin's checks (text and JSON)."""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from typing import Any

SHOWN = 12  # detail lines per failed check in the text report (--json has them all)


class CheckFailed(Exception):
    """A check's verdict against the plugin: what was expected, what happened, and details
    (one line each: a record, a field, a target)."""

    def __init__(self, expected: str, got: str, details: list[str] | None = None):
        super().__init__(f"expected {expected}; got {got}")
        self.expected, self.got, self.details = expected, got, details or []


class NotApplicable(Exception):
    """The check does not apply to this plugin, and why (a source that never fetches)."""


class Status(enum.StrEnum):
    PASSED = "passed"
    FAILED = "failed"
    NOT_APPLICABLE = "n/a"


@dataclass
class CheckResult:
    check: str  # its name, e.g. "expected-records"
    about: str  # what it checks, one line
    status: Status
    expected: str | None = None
    got: str | None = None
    details: list[str] = field(default_factory=list)
    seconds: float = 0.0

    def lines(self) -> list[str]:
        mark = {"passed": "ok  ", "failed": "FAIL", "n/a": "n/a "}[self.status]
        out = [f"  {mark} {self.check}: {self.about}"]
        if self.status is Status.NOT_APPLICABLE and self.got:
            out.append(f"         ({self.got})")
        if self.status is Status.FAILED:
            out.append(f"         expected: {self.expected}")
            out.append(f"         got:      {self.got}")
            details = [] if self.details == [self.got] else self.details
            out += [f"           {d}" for d in details[:SHOWN]]
            if len(details) > SHOWN:
                out.append(f"           ... and {len(details) - SHOWN} more (--json)")
        return out

    def as_dict(self) -> dict[str, Any]:
        return {
            "check": self.check,
            "about": self.about,
            "status": str(self.status),
            "expected": self.expected,
            "got": self.got,
            "details": self.details,
            "seconds": round(self.seconds, 3),
        }


@dataclass
class PluginReport:
    """The checks of one source or sink class."""

    kind: str  # "source" | "sink"
    name: str
    plugin: str | None = None  # its entry point, when it was found through one
    results: list[CheckResult] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)  # --update-expected: what changed
    stuck: bool = False  # a check did not end within its time: its thread still runs

    @property
    def ok(self) -> bool:
        return all(r.status is not Status.FAILED for r in self.results)

    @property
    def failed(self) -> list[str]:
        return [r.check for r in self.results if r.status is Status.FAILED]

    def text(self) -> str:
        where = f" (plugin {self.plugin})" if self.plugin else ""
        lines = [f"{self.kind} {self.name!r}{where}"]
        if self.updated:
            lines.append("  expected records rewritten (--update-expected):")
            lines += [f"    {u}" for u in self.updated]
        for result in self.results:
            lines += result.lines()
        counts = {s: sum(r.status is s for r in self.results) for s in Status}
        lines.append(
            f"  {self.kind} {self.name!r}: {counts[Status.PASSED]} passed, "
            f"{counts[Status.FAILED]} failed, {counts[Status.NOT_APPLICABLE]} not applicable"
        )
        return "\n".join(lines)

    def as_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "name": self.name,
            "plugin": self.plugin,
            "ok": self.ok,
            "updated": self.updated,
            "checks": [r.as_dict() for r in self.results],
        }
