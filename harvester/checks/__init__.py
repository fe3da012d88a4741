"""`harvester check`: the conformance checks of a source or sink plugin, outside pytest.

A plugin declares what the checks need on its class (`check = SourceCheck(...)` or
`SinkCheck(...)`, from this module); `harvester check PLUGIN` runs them against the installed
plugin and prints which check, what was expected and what happened. The same checks run under
pytest through `harvester.testkit.CheckContract`.

This module imports only the declarations, so that a plugin module declaring its `check` pays
nothing for it at start-up; `check_class` and `find_classes` load the checks on first use.

    spec           SourceCheck, SinkCheck: what a plugin declares
    runner         check_class, find_classes: running the checks, --update-expected
    source_checks  options, expected records, schema, outcomes, text, locations, non-listings
    resume         re-runs, resumes, foreign memos, damaged state (the real run loop, with state)
    politeness     429 and robots.txt, against `server`, the check's own local HTTP server
    sink_checks    the sink lifecycle as a run drives it
    records        expected_records.jsonl: read, write, compare field by field, schema changes
    harness        driving a plugin through harvester.run.Run (shared with harvester.testkit)
"""

from __future__ import annotations

from typing import Any

from .spec import SinkCheck, SourceCheck

__all__ = ["SinkCheck", "SourceCheck", "check_class", "find_classes"]


def __getattr__(name: str) -> Any:
    if name in ("check_class", "find_classes"):
        from . import runner

        return getattr(runner, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
