"""The hooks a harvester plugin implements.

A plugin is a module (or object) with functions marked `@harvester.hookimpl` whose names match
these specs. It is found through the `harvester` entry-point group, e.g. in its pyproject.toml::

    [project.entry-points.harvester]
    arxiv = "harvester_arxiv"

Every hook is called once, when plugins load (`register_stores` when a store is first
needed). A misspelt hook name or a wrong argument name makes loading fail with a message
naming the plugin. The examples below are run by the test suite (tests/test_docs.py), exactly
as written.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

import pluggy

from .api import Sink, Source, StatusSection

if TYPE_CHECKING:
    import click

    from .plan import Plan
    from .store import Store  # for the annotations: imported when a plugin registers a store

hookspec = pluggy.HookspecMarker("harvester")
hookimpl = pluggy.HookimplMarker("harvester")


@hookspec
def register_sources(register: Callable[[type[Source]], None]) -> None:
    """Register source classes: call ``register(MySource)`` once per class.

    Called once when plugins load. Must return None. The class's ``name`` is the name used in
    configs (``plugin = "..."``) and by ``harvester parse NAME``; two plugins registering one
    name is an error. Example::

        from harvester import FileSource, Paper, hookimpl


        class Lines(FileSource):
            name = "lines"

            def read(self, target):
                with self.open_file(target) as f:
                    for n, line in enumerate(f, 1):
                        title = line.decode("utf-8").strip()
                        if title:
                            yield Paper(title=title, source_ref=f"{target.id}:{n}")


        @hookimpl
        def register_sources(register):
            register(Lines)
    """


@hookspec
def register_sinks(register: Callable[[type[Sink]], None]) -> None:
    """Register sink classes: call ``register(MySink)`` once per class.

    Called once when plugins load. Must return None. The class's ``name`` is used in configs
    (``[sinks.NAME]`` with ``plugin = "..."``); two plugins registering one name is an error.
    The run drives a sink through ``open(resume)``, ``write(papers)``, ``commit()`` and
    ``close(outcome)`` (see `harvester.api.Sink`). Example::

        from harvester import Outcome, Sink, hookimpl


        class Count(Sink):
            name = "count"

            def open(self, resume=None):
                self.committed = resume or 0  # the checkpoint an interrupted run returned
                self.pending = 0

            def write(self, papers):
                self.pending += len(papers)

            def commit(self):
                self.committed += self.pending
                self.pending = 0
                return self.committed  # the checkpoint: JSON-able

            def close(self, outcome):
                if outcome is Outcome.DONE:
                    self.context.log.warning("%d papers", self.committed)


        @hookimpl
        def register_sinks(register):
            register(Count)
    """


@hookspec
def register_stores(register: Callable[[type[Store]], None]) -> None:
    """Register store readers: call ``register(MyStore)`` once per class (`harvester.store`).

    Called once, when a command first needs the stores (a run or a parse does not, so a
    reader's imports cost it nothing). A sink that keeps a store registers its reader here,
    and then ``harvester export``, ``report`` and ``history`` (and `harvester.open_store`) read
    it. The class's ``name`` must be unique; ``claims(location)`` says whether a path or URL
    is a store of this kind (cheaply, without raising). Example::

        import json
        from pathlib import Path

        from harvester import Paper, Store, hookimpl


        class JsonArray(Store):
            name = "json-array"
            kind = "a JSON array of papers (*.papers.json)"

            @classmethod
            def claims(cls, location):
                return location.endswith(".papers.json") and Path(location).is_file()

            def papers(self):
                items = json.loads(Path(self.location).read_text(encoding="utf-8"))
                return sorted((Paper(**item) for item in items), key=lambda p: p.key)

            def sightings(self):
                return []

            def observations(self, key=None):
                return []


        @hookimpl
        def register_stores(register):
            register(JsonArray)
    """


@hookspec
def register_commands(cli: click.Group) -> None:
    """Add subcommands to the ``harvester`` command (a click group), as llm and datasette allow.

    Called once when the command line starts. Must return None. Raise a ``HarvesterError``
    subclass for failures: the CLI turns it into a message and an exit status. Example::

        import click

        from harvester import hookimpl


        @hookimpl
        def register_commands(cli):
            @cli.command()
            @click.argument("name")
            def hello(name):
                \"\"\"Say hello.\"\"\"
                click.echo(f"hello {name}")
    """


@hookspec
def status_section(plan: Plan) -> StatusSection | None:
    """Add a section to ``harvester status CONFIG``, after the ledger of the run state.

    Called with the config's built plan (its sources, sinks and settings) each time the command
    runs. Return a ``harvester.api.StatusSection`` (a name, its data for ``--json``, its text
    lines), or None when the plugin has nothing to say about this config. The workers plugin
    adds its job queue this way. Raise a ``HarvesterError`` for failures.
    """
