"""The plugin host: loads plugins from the `harvester` entry-point group, lazily, once.

Built-in plugins (`harvester_plugins.*`) are entry points of this distribution, registered
exactly like third-party ones. `HARVESTER_PLUGINS` (comma-separated entry-point names) restricts
which installed plugins load; the test suite sets it so that stray installed plugins stay out.
A plugin that fails to import or to validate is recorded as broken (and named in errors) instead
of crashing the host.
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass, field
from importlib.metadata import EntryPoint, entry_points
from typing import Any

import pluggy

from . import hookspecs
from .api import Sink, Source
from .errors import PluginError
from .store import Store

GROUP = "harvester"
ENV_ALLOW = "HARVESTER_PLUGINS"


@dataclass
class PluginInfo:
    plugin: str  # entry-point name
    module: str
    distribution: str | None
    version: str | None
    sources: list[str] = field(default_factory=list)
    sinks: list[str] = field(default_factory=list)
    stores: list[str] = field(default_factory=list)
    commands: list[str] = field(default_factory=list)  # known once the CLI asked for them
    error: str | None = None  # set when the plugin is broken


@dataclass
class Registry:
    sources: dict[str, type[Source]] = field(default_factory=dict)
    sinks: dict[str, type[Sink]] = field(default_factory=dict)
    stores: dict[str, type[Store]] = field(default_factory=dict)
    owners: dict[tuple[str, str], str] = field(default_factory=dict)  # (kind, name) -> plugin
    plugins: list[PluginInfo] = field(default_factory=list)

    manager: pluggy.PluginManager | None = None

    def add_commands(self, cli: Any) -> None:
        """Let every loaded plugin add its subcommands to the `harvester` click group. A
        plugin whose hook fails is marked broken; the other commands still work."""
        if self.manager is None:
            return
        for impl in self.manager.hook.register_commands.get_hookimpls():
            info = next((p for p in self.plugins if p.plugin == impl.plugin_name), None)
            before = set(getattr(cli, "commands", {}))
            try:
                impl.function(cli=cli)
            except Exception as exc:
                if info is not None:
                    info.error = f"register_commands failed: {_describe(exc)}"
                logging.getLogger("harvester").warning(
                    "plugin %r: register_commands failed: %s", impl.plugin_name, _describe(exc)
                )
                continue
            if info is not None:
                info.commands = sorted(set(getattr(cli, "commands", {})) - before)

    def status_sections(self, plan: Any) -> list[Any]:
        """The sections plugins add to `harvester status` for `plan` (`status_section`)."""
        if self.manager is None:
            return []
        return [s for s in self.manager.hook.status_section(plan=plan) if s is not None]

    def source(self, name: str, *, file: str | None = None, key: str | None = None):
        return self._get("source", self.sources, name, file, key)

    def sink(self, name: str, *, file: str | None = None, key: str | None = None):
        return self._get("sink", self.sinks, name, file, key)

    def _get(self, kind: str, table: dict[str, Any], name: str, file, key):
        if name in table:
            return table[name]
        where = ": ".join(p for p in (file, key and f"[{key}]") if p)
        prefix = f"{where}: " if where else ""
        broken = [p for p in self.plugins if p.error and p.plugin == name]
        if broken:
            raise PluginError(f"{prefix}{kind} {name!r} is unavailable: {broken[0].error}")
        known = ", ".join(sorted(table)) or "none"
        hint = (
            "; broken plugins: "
            + ", ".join(f"{p.plugin} ({p.error})" for p in self.plugins if p.error)
            if any(p.error for p in self.plugins)
            else ""
        )
        raise PluginError(f"{prefix}unknown {kind} {name!r} (installed: {known}){hint}")


_registry: Registry | None = None


def _allowed() -> set[str] | None:
    raw = os.environ.get(ENV_ALLOW)
    if raw is None:
        return None
    return {n.strip() for n in raw.split(",") if n.strip()}


def _entry_points() -> list[EntryPoint]:
    allowed = _allowed()
    eps = sorted(entry_points(group=GROUP), key=lambda ep: ep.name)
    return [ep for ep in eps if allowed is None or ep.name in allowed]


def new_manager() -> pluggy.PluginManager:
    pm = pluggy.PluginManager(GROUP)
    pm.add_hookspecs(hookspecs)
    return pm


def _register_one(pm: pluggy.PluginManager, registry: Registry, info: PluginInfo, obj) -> None:
    """Register one plugin object; on any failure leave the registry as it was."""
    added: list[tuple[str, str]] = []
    kinds = {  # kind -> (the registry's table, the base class, the plugin's list of names)
        "source": (registry.sources, Source, info.sources),
        "sink": (registry.sinks, Sink, info.sinks),
        "store": (registry.stores, Store, info.stores),
    }

    def registrar(kind: str):
        table, base, names = kinds[kind]

        def register(cls) -> None:
            name = getattr(cls, "name", None)
            if not (isinstance(cls, type) and issubclass(cls, base)):
                raise PluginError(
                    f"plugin {info.plugin!r} registered {cls!r}, not a {base.__name__}"
                )
            if not isinstance(name, str) or not name:
                raise PluginError(f"plugin {info.plugin!r}: {cls.__name__} has no `name`")
            owner = registry.owners.get((kind, name))
            if owner is not None:
                raise PluginError(
                    f"plugins {owner!r} and {info.plugin!r} both register a {kind} named {name!r}"
                )
            table[name] = cls
            registry.owners[(kind, name)] = info.plugin
            added.append((kind, name))
            names.append(name)

        return register

    try:
        pm.register(obj, name=info.plugin)
        pm.check_pending()  # a misspelt hook fails here, loudly
        caller = pm.subset_hook_caller  # call only this plugin's hooks
        others = [p for p in pm.get_plugins() if p is not obj]
        for kind in kinds:
            caller(f"register_{kind}s", others)(register=registrar(kind))
    except Exception as exc:
        for kind, name in added:
            kinds[kind][0].pop(name, None)
            registry.owners.pop((kind, name), None)
        for _, _, names in kinds.values():
            names.clear()
        if pm.is_registered(obj):
            pm.unregister(obj)
        info.error = _describe(exc)


def _describe(exc: BaseException) -> str:
    if isinstance(exc, PluginError):
        return str(exc)
    if isinstance(exc, pluggy.PluginValidationError):
        return f"bad hook: {exc}"
    return f"{type(exc).__name__}: {exc}"


def load_plugins() -> Registry:
    """Load every allowed plugin once and return the registry (cached)."""
    global _registry
    if _registry is not None:
        return _registry
    registry = Registry()
    pm = new_manager()
    for ep in _entry_points():
        dist = ep.dist
        info = PluginInfo(
            plugin=ep.name,
            module=ep.value,
            distribution=dist.metadata["Name"] if dist else None,
            version=dist.version if dist else None,
        )
        registry.plugins.append(info)
        try:
            obj = ep.load()
        except Exception as exc:
            info.error = f"cannot import {ep.value}: {type(exc).__name__}: {exc}"
            continue
        _register_one(pm, registry, info, obj)
    registry.manager = pm
    _registry = registry
    return registry


def register_plugin(obj, name: str) -> Registry:
    """Register a plugin object directly (for tests and embedding); returns the registry."""
    registry = load_plugins()
    info = PluginInfo(
        plugin=name, module=getattr(obj, "__name__", repr(obj)), distribution=None, version=None
    )
    registry.plugins.append(info)
    _register_one(new_manager(), registry, info, obj)
    if info.error:
        raise PluginError(f"plugin {name!r}: {info.error}")
    return registry


def reset() -> None:
    """Forget loaded plugins (tests use this after changing HARVESTER_PLUGINS)."""
    global _registry
    _registry = None
