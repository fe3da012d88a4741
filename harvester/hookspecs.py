"""The hooks a harvester plugin implements.

A plugin is a module (or object) with functions marked `@harvester.hookimpl` whose names match
these specs. It is found through the `harvester` entry-point group, e.g. in its pyproject.toml::

    [project.entry-points.harvester]
    arxiv = "harvester_arxiv"

Every hook is called once, when plugins load, with a `register` callable. A misspelt hook name
or a wrong argument name makes loading fail with a message naming the plugin.
"""

from __future__ import annotations

from collections.abc import Callable

import pluggy

from .api import Sink, Source

hookspec = pluggy.HookspecMarker("harvester")
hookimpl = pluggy.HookimplMarker("harvester")


@hookspec
def register_sources(register: Callable[[type[Source]], None]) -> None:
    """Register source classes: call ``register(MySource)`` once per class.

    Called once when plugins load. Must return None. The class's ``name`` is the name used in
    configs (``plugin = "..."``) and by ``harvester parse NAME``; two plugins registering one
    name is an error. Example::

        from harvester import Source, hookimpl

        class Lines(Source):
            name = "lines"

            def read(self, target):
                for n, line in enumerate(open(target), 1):
                    yield Paper(title=line.strip(), source_ref=f"{target}:{n}")

        @hookimpl
        def register_sources(register):
            register(Lines)
    """


@hookspec
def register_sinks(register: Callable[[type[Sink]], None]) -> None:
    """Register sink classes: call ``register(MySink)`` once per class.

    Called once when plugins load. Must return None. The class's ``name`` is used in configs
    (``[sinks.NAME]`` with ``plugin = "..."``); two plugins registering one name is an error.
    Example::

        from harvester import Sink, hookimpl

        class Count(Sink):
            name = "count"

            def open(self):
                self.n = 0

            def write(self, papers):
                self.n += len(papers)

        @hookimpl
        def register_sinks(register):
            register(Count)
    """
