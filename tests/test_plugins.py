"""The plugin host: built-ins load through entry points; broken plugins are named, not fatal."""

from __future__ import annotations

import types
from importlib.metadata import EntryPoint

import pytest

from harvester import Sink, Source, hookimpl, hookspecs, plugins
from harvester.errors import PluginError
from harvester.store import StoreError


def _module(name: str, **attrs) -> types.ModuleType:
    mod = types.ModuleType(name)
    for key, value in attrs.items():
        setattr(mod, key, value)
    return mod


class Lines(Source):
    name = "lines"


class Dupe(Source):
    name = "textdump"  # a built-in's name


def test_builtins_register_through_entry_points():
    registry = plugins.load_plugins()
    assert registry.source("textdump").name == "textdump"
    assert {registry.sink("jsonl").name, registry.sink("sqlite").name} == {"jsonl", "sqlite"}
    info = {p.plugin: p for p in registry.plugins}
    assert info["textdump"].module == "harvester_plugins.textdump"  # the entry point
    assert info["textdump"].distribution == "paper-harvester"
    assert registry.owners[("source", "textdump")] == "textdump"


def test_a_name_loads_only_the_plugin_that_declares_it():
    plugins.reset()
    registry = plugins.load_plugins()
    assert registry.plugins == []  # nothing imported until something is asked for
    registry.sink("sqlite")
    assert [p.plugin for p in registry.plugins] == ["sqlite"]
    assert registry.command_names()["export"] == "biblio"  # declared: known unloaded too
    registry.source("hf-papers")
    assert [p.plugin for p in registry.plugins] == ["sqlite", "hf-papers"]
    assert "textdump" in registry.pending
    with pytest.raises(PluginError, match="unknown sink 'nope'"):
        registry.sink("nope")  # an undeclared name: every plugin is loaded to look for it
    assert not registry.pending and "textdump" in registry.sources


def test_every_builtin_declares_what_it_registers():
    """The entry-point declarations (pyproject.toml) and the registrations agree, both ways:
    a stale declaration would load the wrong plugin, a missing one every plugin."""
    import click

    plugins.reset()
    registry = plugins.load_plugins()
    declared = dict(registry.declared)
    loaded = registry.load_all()
    registry.add_commands(click.Group())
    registered = {
        (kind, name): info.plugin
        for info in loaded
        for kind, names in (
            ("source", info.sources),
            ("sink", info.sinks),
            ("store", info.stores),
            ("command", info.commands),
        )
        for name in names
    }
    assert not [p for p in loaded if p.error]
    assert declared == registered


def test_opening_a_store_loads_the_store_plugins_first(tmp_path):
    """A location a declared store claims loads only the plugins that declare stores; one no
    declared store claims loads every plugin before the error names the kinds there are."""
    from harvester import open_store
    from tests.paper_factory import write_jsonl
    from tests.store_cases import make_paper

    plugins.reset()
    with open_store(str(write_jsonl(tmp_path / "log.jsonl", [make_paper(1)]))) as store:
        assert store.name == "jsonl" and len(store.papers()) == 1
    registry = plugins.load_plugins()
    assert sorted(p.plugin for p in registry.plugins) == ["jsonl", "parquet", "postgres", "sqlite"]
    (tmp_path / "notes.txt").write_text("not papers\n", encoding="utf-8")
    with pytest.raises(StoreError, match=r"it reads .*SQLite"):
        open_store(str(tmp_path / "notes.txt"))
    assert not registry.pending and "textdump" in registry.sources


def test_env_var_restricts_loaded_plugins(monkeypatch):
    monkeypatch.setenv(plugins.ENV_ALLOW, "jsonl")
    plugins.reset()
    registry = plugins.load_plugins()
    assert [p.plugin for p in registry.load_all()] == ["jsonl"]
    assert "textdump" not in registry.sources
    with pytest.raises(PluginError, match="unknown source 'textdump'"):
        registry.source("textdump")


def test_a_third_party_plugin_object_registers():
    @hookimpl
    def register_sources(register):
        register(Lines)

    registry = plugins.register_plugin(
        _module("lines_plugin", register_sources=register_sources), "lines"
    )
    assert registry.source("lines") is Lines


def test_two_plugins_claiming_one_name_fail_loudly_naming_both():
    @hookimpl
    def register_sources(register):
        register(Dupe)

    with pytest.raises(PluginError, match="'textdump' and 'dupe' both register a source named"):
        plugins.register_plugin(_module("dupe_plugin", register_sources=register_sources), "dupe")
    # the registry keeps the original
    assert (
        plugins.load_plugins()
        .source("textdump")
        .__module__.startswith("harvester_plugins.textdump")
    )


def test_a_misspelt_hook_fails_loudly():
    @hookimpl
    def register_source(register):  # missing "s"
        register(Lines)

    with pytest.raises(PluginError, match=r"'typo'.*bad hook.*register_source"):
        plugins.register_plugin(_module("typo_plugin", register_source=register_source), "typo")


def test_a_hook_with_a_wrong_argument_fails_loudly():
    @hookimpl
    def register_sinks(add):
        pass

    with pytest.raises(PluginError, match=r"'wrongarg'.*bad hook"):
        plugins.register_plugin(_module("w", register_sinks=register_sinks), "wrongarg")


def test_registering_a_non_source_is_an_error():
    @hookimpl
    def register_sinks(register):
        register(Lines)  # a Source passed as a sink

    with pytest.raises(PluginError, match="not a Sink"):
        plugins.register_plugin(_module("m", register_sinks=register_sinks), "mixup")


def test_import_error_marks_plugin_broken_and_is_named_when_needed(monkeypatch):
    real = plugins._entry_points

    def with_broken():
        return [*real(), EntryPoint(name="ghost", value="no_such_module_xyz", group="harvester")]

    monkeypatch.setattr(plugins, "_entry_points", with_broken)
    plugins.reset()
    registry = plugins.load_plugins()
    broken = [p for p in registry.load_all() if p.error]  # does not raise
    assert [p.plugin for p in broken] == ["ghost"]
    assert "no_such_module_xyz" in broken[0].error
    with pytest.raises(PluginError, match="source 'ghost' is unavailable: cannot import"):
        registry.source("ghost")
    assert "textdump" in registry.sources  # the others still load


def test_every_hook_is_documented_with_an_example():
    specs = [getattr(hookspecs, n) for n in dir(hookspecs) if n.startswith("register_")]
    assert specs
    for spec in specs:
        doc = spec.__doc__ or ""
        assert "Called" in doc and "return" in doc and "Example::" in doc, spec.__name__
        assert "@hookimpl" in doc, spec.__name__


def test_sink_base_requires_write():
    class Half(Sink):
        name = "half"

    with pytest.raises(NotImplementedError):
        Half(Half.Options(), None).write([])
