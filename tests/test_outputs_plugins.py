"""The output plugins of issue 13 load through the entry points like any plugin."""

from __future__ import annotations

import json

from tests.paper_factory import run_harvester


def test_output_sinks_and_commands_are_registered():
    rows = json.loads(run_harvester("plugins").stdout)
    sinks = {r["name"]: r["plugin"] for r in rows if r["kind"] == "sink"}
    assert {"parquet", "csl-json", "bibtex", "ris", "feed"} <= set(sinks)
    assert not [r for r in rows if r["error"]]
    commands = run_harvester("--help").stdout
    assert "export" in commands and "report" in commands
