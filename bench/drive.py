"""How the benchmark drives the core: plugins built exactly as a run builds them, and sources
run through the core's own run loop (`harvester.run.Run`) into a null sink.

The plugin-only figures are "records out of the plugin": the source's `read()` (and `fetch()`)
through the run loop with finalisation, limits and batching, into a sink that drops them, and a
rejects output that drops them too: everything a run does except encoding and writing.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import msgspec


class NotAvailable(Exception):
    """The plugin measured is not installed (the stage reports it instead of a figure)."""


def _config():
    from harvester.config import RunConfig

    return RunConfig(path=None, base_dir=Path.cwd())


def build_source(plugin: str, inputs: list[str], fetch: dict | None = None, **options: Any):
    """A source instance built as `harvester.build` builds one for a run; `fetch`: the
    source table's `fetch = {...}` overrides."""
    from harvester.build import build_source as build
    from harvester.config import PluginSpec
    from harvester.fetch.runclient import SharedClient
    from harvester.fetch.settings import FetchSettings
    from harvester.plugins import load_plugins

    registry = load_plugins()
    try:
        registry.source(plugin)
    except Exception as exc:
        raise NotAvailable(f"source {plugin!r}: {exc}") from None
    settings = msgspec.convert(fetch or {}, FetchSettings)
    spec = PluginSpec(
        label=plugin,
        plugin=plugin,
        options={"inputs": inputs, **options},
        kind="sources",
        fetch=settings,
    )
    return build(registry, spec, _config(), SharedClient(settings))


def build_sink(plugin: str, options: dict[str, Any]):
    """A sink instance built as `harvester.build` builds one for a run (no state)."""
    from harvester.build import build_sink as build
    from harvester.config import PluginSpec
    from harvester.plugins import load_plugins

    registry = load_plugins()
    try:
        registry.sink(plugin)
    except Exception as exc:
        raise NotAvailable(f"sink {plugin!r}: {exc}") from None
    spec = PluginSpec(label=plugin, plugin=plugin, options=options, kind="sinks")
    return build(registry, spec, _config(), incremental=False)


class NullOutput:
    """A sink (and rejects output) that drops what it is given."""

    name = "null"

    def open(self, resume: Any = None) -> None:
        pass

    def write(self, items: Sequence[Any]) -> None:
        pass

    def commit(self) -> None:
        return None

    def close(self, outcome: Any) -> None:
        pass


def null_run(source, **settings: Any):
    """A `harvester.run.Run` of `source` (no state) into a null sink, ready to `execute()`
    (built outside the timed part: the imports happen here)."""
    from harvester.config import RunSettings
    from harvester.plan import Plan
    from harvester.run import Run

    plan = Plan(
        RunSettings(**settings),
        source.context.base_dir,
        [(source.name, source)],
        [("null", NullOutput())],
        source.context.client,
    )
    return Run(plan, rejects=NullOutput())


def run_null(source, **settings: Any):
    """Run `source` through the run loop into a null sink; its source report."""
    return null_run(source, **settings).execute().sources[0]
