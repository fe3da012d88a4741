"""The plugin host: plugins come from the `harvester` entry-point group and load lazily, each
when something it provides is first asked for.

Built-in plugins (`harvester_plugins.*`) are entry points of this distribution, registered
exactly like third-party ones. A plugin may also declare what it provides, so that a command
loads only the plugins it uses: entry points in the groups `harvester.sources`,
`harvester.sinks`, `harvester.stores` and `harvester.commands`, each named after the source,
sink, store or command, with the plugin's module as value (the value of its `harvester` entry
point)::

    [project.entry-points."harvester.sinks"]
    sqlite = "harvester_plugins.sqlite"

A name no declaration points to loads every plugin not loaded yet (so undeclared third-party
plugins are still found, and their errors named); so does a location no declared store claims.
`HARVESTER_PLUGINS` (comma-separated entry-point names) restricts which installed plugins load;
the test suite sets it so that stray installed plugins stay out. A plugin that fails to import
or to validate is recorded as broken (and named in errors) instead of crashing the host.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any

from .entrypoints import EntryPoint, entry_points
from .errors import PluginError

if TYPE_CHECKING:
    import pluggy

    from .store import Store

GROUP = "harvester"
KINDS = ("source", "sink", "store", "command")  # what a plugin may declare: "harvester.<kind>s"
ENV_ALLOW = "HARVESTER_PLUGINS"


# Plain classes, not dataclasses: making a dataclass runs generated code (~1 ms a class),
# which every start pays, `harvester --help` included.


class PluginInfo:
    """One installed plugin: where it comes from, what it registered, or why it is broken."""

    def __init__(
        self, plugin: str, module: str, distribution: str | None, version: str | None
    ) -> None:
        self.plugin = plugin  # entry-point name
        self.module = module
        self.distribution = distribution
        self.version = version
        self.sources: list[str] = []
        self.sinks: list[str] = []
        self.stores: list[str] = []
        self.commands: list[str] = []  # known once the CLI asked for them
        self.error: str | None = None  # set when the plugin is broken

    def __repr__(self) -> str:
        return f"PluginInfo({self.plugin!r}, {self.module!r}, error={self.error!r})"


class Registry:
    """The plugins loaded so far (`plugins`, `sources`, `sinks`, `stores`), and those still
    `pending` with what they declare (`declared`: (kind, name) -> plugin)."""

    def __init__(
        self,
        pending: dict[str, EntryPoint] | None = None,
        declared: dict[tuple[str, str], str] | None = None,
    ) -> None:
        self.sources: dict[str, type] = {}
        self.sinks: dict[str, type] = {}
        self.stores: dict[str, type[Store]] = {}  # complete once `load_all()` ran
        self.owners: dict[tuple[str, str], str] = {}  # (kind, name) -> plugin
        self.plugins: list[PluginInfo] = []
        self.pending = pending if pending is not None else {}
        self.declared = declared if declared is not None else {}
        self.manager: pluggy.PluginManager | None = None
        self._commands_added: set[str] = set()  # plugins whose hook ran
        # plugins loaded whose stores are not registered yet (see `_register_one`)
        self.stores_due: list[tuple[pluggy.PluginManager, PluginInfo, Any]] = []

    # -- loading -------------------------------------------------------------------------------

    def load(self, plugin: str) -> PluginInfo | None:
        """Load one pending plugin (None when it is not pending: loaded already, or unknown)."""
        ep = self.pending.pop(plugin, None)
        if ep is None:
            return None
        dist = ep.dist
        info = PluginInfo(
            plugin=ep.name,
            module=ep.value,
            distribution=dist.metadata.get("Name") if dist else None,
            version=dist.version if dist else None,
        )
        self.plugins.append(info)
        try:
            obj = ep.load()
        except Exception as exc:
            info.error = f"cannot import {ep.value}: {type(exc).__name__}: {exc}"
            return info
        _register_one(self._manager(), self, info, obj)
        return info

    def load_all(self) -> list[PluginInfo]:
        """Load every pending plugin, and register the stores of every plugin loaded; all
        plugins, loaded or broken, in name order."""
        for name in sorted(self.pending):
            self.load(name)
        self._register_due_stores()
        return sorted(self.plugins, key=lambda p: p.plugin)

    def load_declared_stores(self) -> None:
        """Load the plugins that declare a store (`harvester.stores`) and register the stores of
        every plugin loaded so far: what `open_store` asks first, before every plugin."""
        for (kind, _name), plugin in sorted(self.declared.items()):
            if kind == "store":
                self.load(plugin)
        self._register_due_stores()

    def _register_due_stores(self) -> None:
        due, self.stores_due = self.stores_due, []
        for pm, info, obj in due:
            if info.error is None:
                _call_hooks(pm, self, info, obj, ("store",))

    def provider(self, kind: str, name: str) -> None:
        """Load what provides the `kind` named `name`: its declaring plugin, else every
        plugin not loaded yet (an undeclared provider, or a declaration that was wrong)."""
        owner = self.declared.get((kind, name))
        if owner is not None and self.load(owner) is not None and name in self._table(kind):
            return
        self.load_all()

    def _table(self, kind: str) -> dict[str, Any]:
        return self.sources if kind == "source" else self.sinks

    def _manager(self) -> pluggy.PluginManager:
        if self.manager is None:
            self.manager = new_manager()
        return self.manager

    # -- commands ------------------------------------------------------------------------------

    def command_names(self) -> dict[str, str]:
        """Commands declared by plugins not loaded yet, and those of loaded ones: name ->
        plugin (what `harvester --help` lists without importing anything)."""
        names = {n: p for (kind, n), p in self.declared.items() if kind == "command"}
        for info in self.plugins:
            names.update(dict.fromkeys(info.commands, info.plugin))
        return names

    def add_commands(self, cli: Any) -> None:
        """Let every loaded plugin not asked yet add its subcommands to the `harvester` click
        group. A plugin whose hook fails is marked broken; the other commands still work."""
        if self.manager is None:
            return
        for impl in self.manager.hook.register_commands.get_hookimpls():
            if impl.plugin_name in self._commands_added:
                continue
            self._commands_added.add(impl.plugin_name)
            info = next((p for p in self.plugins if p.plugin == impl.plugin_name), None)
            before = set(getattr(cli, "commands", {}))
            try:
                impl.function(cli=cli)
            except Exception as exc:
                if info is not None:
                    info.error = f"register_commands failed: {_describe(exc)}"
                import logging  # here: `harvester --help` never imports logging

                logging.getLogger("harvester").warning(
                    "plugin %r: register_commands failed: %s", impl.plugin_name, _describe(exc)
                )
                continue
            if info is not None:
                info.commands = sorted(set(getattr(cli, "commands", {})) - before)

    def status_sections(self, plan: Any) -> list[Any]:
        """The sections plugins add to `harvester status` for `plan` (`status_section`): every
        plugin is loaded, since any may add one."""
        self.load_all()
        if self.manager is None:
            return []
        return [s for s in self.manager.hook.status_section(plan=plan) if s is not None]

    # -- lookups -------------------------------------------------------------------------------

    def source(self, name: str, *, file: str | None = None, key: str | None = None):
        return self._get("source", name, file, key)

    def sink(self, name: str, *, file: str | None = None, key: str | None = None):
        return self._get("sink", name, file, key)

    def _get(self, kind: str, name: str, file, key):
        table = self._table(kind)
        if name not in table:
            self.provider(kind, name)
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
_installed: dict[str, list[EntryPoint]] | None = None  # by group, read once


def _scan() -> dict[str, list[EntryPoint]]:
    global _installed
    if _installed is None:
        _installed = entry_points((GROUP, *(f"{GROUP}.{kind}s" for kind in KINDS)))
    return _installed


def _allowed() -> set[str] | None:
    raw = os.environ.get(ENV_ALLOW)
    if raw is None:
        return None
    return {n.strip() for n in raw.split(",") if n.strip()}


def _entry_points() -> list[EntryPoint]:
    allowed = _allowed()
    eps = sorted(_scan()[GROUP], key=lambda ep: ep.name)
    return [ep for ep in eps if allowed is None or ep.name in allowed]


def _declarations(plugins: list[EntryPoint]) -> dict[tuple[str, str], str]:
    """(kind, name) -> plugin, from the `harvester.<kind>s` groups of installed plugins."""
    by_module = {ep.value: ep.name for ep in plugins}
    declared: dict[tuple[str, str], str] = {}
    for kind in KINDS:
        for ep in _scan()[f"{GROUP}.{kind}s"]:
            plugin = by_module.get(ep.value)
            if plugin is not None:  # a declaration of a plugin not installed (or not allowed)
                declared.setdefault((kind, ep.name), plugin)
    return declared


def new_manager() -> pluggy.PluginManager:
    import pluggy

    from . import hookspecs

    pm = pluggy.PluginManager(GROUP)
    pm.add_hookspecs(hookspecs)
    return pm


def _register_one(pm: pluggy.PluginManager, registry: Registry, info: PluginInfo, obj) -> None:
    """Register one plugin object and its sources and sinks; on any failure leave the registry
    as it was. Its stores wait for `Registry.load_all` (every command that reads a store calls
    it): a store reader's module (the jsonl plugin's: ~8 ms) is of no use to a run or a parse."""
    try:
        pm.register(obj, name=info.plugin)
        pm.check_pending()  # a misspelt hook fails here, loudly
    except Exception as exc:
        _forget(pm, registry, info, obj)
        info.error = _describe(exc)
        return
    if _call_hooks(pm, registry, info, obj, ("source", "sink")):
        registry.stores_due.append((pm, info, obj))


def _call_hooks(
    pm: pluggy.PluginManager, registry: Registry, info: PluginInfo, obj, kinds: tuple[str, ...]
) -> bool:
    """Call the plugin's `register_<kind>s` hooks; on a failure forget all it registered and
    mark it broken. Whether it went well."""

    def registrar(kind: str):
        table, names = _tables(registry, info)[kind]

        def register(cls) -> None:
            base = _base_class(kind)
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
            names.append(name)

        return register

    try:
        caller = pm.subset_hook_caller  # call only this plugin's hooks
        others = [p for p in pm.get_plugins() if p is not obj]
        for kind in kinds:
            caller(f"register_{kind}s", others)(register=registrar(kind))
    except Exception as exc:
        _forget(pm, registry, info, obj)
        info.error = _describe(exc)
        return False
    return True


def _tables(registry: Registry, info: PluginInfo) -> dict[str, tuple[dict[str, Any], list[str]]]:
    """kind -> (the registry's table, the plugin's list of names)."""
    return {
        "source": (registry.sources, info.sources),
        "sink": (registry.sinks, info.sinks),
        "store": (registry.stores, info.stores),
    }


def _forget(pm: pluggy.PluginManager, registry: Registry, info: PluginInfo, obj) -> None:
    """Undo everything a plugin registered (it is broken)."""
    for kind, (table, names) in _tables(registry, info).items():
        for name in names:
            table.pop(name, None)
            registry.owners.pop((kind, name), None)
        names.clear()
    if pm.is_registered(obj):
        pm.unregister(obj)


def _base_class(kind: str) -> type:
    """The class a registered `kind` must subclass, imported when first registered: the
    store's module is not needed by a command that reads no store (most of them)."""
    if kind == "store":
        from .store import Store

        return Store
    from .api import Sink, Source

    return Source if kind == "source" else Sink


def _describe(exc: BaseException) -> str:
    import pluggy

    if isinstance(exc, PluginError):
        return str(exc)
    if isinstance(exc, pluggy.PluginValidationError):
        return f"bad hook: {exc}"
    return f"{type(exc).__name__}: {exc}"


def load_plugins() -> Registry:
    """The registry (cached): every allowed plugin found, none imported until it is needed."""
    global _registry
    if _registry is not None:
        return _registry
    plugins = _entry_points()
    _registry = Registry(pending={ep.name: ep for ep in plugins}, declared=_declarations(plugins))
    return _registry


def register_plugin(obj, name: str) -> Registry:
    """Register a plugin object directly (for tests and embedding); returns the registry.
    Every installed plugin is loaded first, so a name clash with any of them is found."""
    registry = load_plugins()
    registry.load_all()
    info = PluginInfo(
        plugin=name, module=getattr(obj, "__name__", repr(obj)), distribution=None, version=None
    )
    registry.plugins.append(info)
    _register_one(new_manager(), registry, info, obj)
    registry.load_all()  # its stores too, so that every error shows here
    if info.error:
        raise PluginError(f"plugin {name!r}: {info.error}")
    return registry


def reset() -> None:
    """Forget loaded plugins (tests use this after changing HARVESTER_PLUGINS)."""
    global _registry, _installed
    _registry = _installed = None
