"""Run configs: TOML files in config/ describing sources, sinks and run settings.

    [run]                      # optional; all keys have defaults
    base_dir = ".."            # relative paths below resolve against this (itself relative
                               # to the config file's directory; default: that directory)
    rejects = "out/rejects.jsonl"

    [fetch]                    # optional: harvester.fetch.FetchSettings
    min_interval = 1.0

    [sources.seed-dumps]       # one table per source; the key is its label
    plugin = "textdump"        # defaults to the label
    inputs = ["dumps/*.txt"]   # everything else is the plugin's own options
    captured_on = 2025-12-10

    [sinks.papers]
    plugin = "jsonl"
    path = "out/papers.jsonl"

Every error names the file, the key and the problem (`ConfigError`).
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import msgspec

from .errors import ConfigError


class RunSettings(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    base_dir: str = "."
    rejects: str = "out/rejects.jsonl"  # entries that failed normalisation, with reason, location
    batch_size: int = 1000  # papers handed to sinks per write() call
    checkpoint_seconds: float = 5.0  # how often sinks commit (and state is saved) during a run
    max_run_seconds: float | None = None  # stop starting new targets after this long
    max_entries: int = 100_000  # entries per target (page or file) before it is an error
    state: str | None = None  # incremental state directory (None: no state, every run is full)
    refresh_days: int = 7  # targets dated within this many days are read again when done
    guard_ratio: float = 0.2  # hold a listing page yielding < ratio x its recent median
    guard_min_history: int = 3  # pages of history before the guard applies


@dataclass
class PluginSpec:
    """One `[sources.X]` or `[sinks.X]` table: its label, plugin name and raw options."""

    label: str
    plugin: str
    options: dict[str, Any]
    kind: str  # "sources" | "sinks"

    @property
    def key(self) -> str:
        return f"{self.kind}.{self.label}"


@dataclass
class RunConfig:
    path: Path | None
    base_dir: Path
    run: RunSettings
    fetch: dict[str, Any]  # raw [fetch] table; validated by harvester.fetch.merge_settings
    sources: list[PluginSpec] = field(default_factory=list)
    sinks: list[PluginSpec] = field(default_factory=list)

    @property
    def file(self) -> str:
        return str(self.path) if self.path else "<config>"


TOP_LEVEL = {"run", "fetch", "sources", "sinks"}


def load_config(path: str | Path, overrides: list[str] | None = None) -> RunConfig:
    """Read and check a run config; `overrides` are `dotted.key=value` strings (CLI `--set`)."""
    path = Path(path)
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError("no such file", file=str(path)) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"cannot read: {exc}", file=str(path)) from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"invalid TOML: {exc}", file=str(path)) from None
    for item in overrides or []:
        apply_override(data, item, file=str(path))
    return parse_config(data, path=path)


def parse_config(data: dict[str, Any], *, path: Path | None = None) -> RunConfig:
    file = str(path) if path else "<config>"
    unknown = sorted(set(data) - TOP_LEVEL)
    if unknown:
        raise ConfigError(
            f"unknown table; expected one of {sorted(TOP_LEVEL)}", file=file, key=unknown[0]
        )
    run = convert(data.get("run", {}), RunSettings, file=file, key="run")
    fetch = data.get("fetch", {})
    if not isinstance(fetch, dict):
        raise ConfigError("must be a table", file=file, key="fetch")
    config_dir = path.resolve().parent if path else Path.cwd()
    config = RunConfig(
        path=path,
        base_dir=(config_dir / run.base_dir).resolve(),
        run=run,
        fetch=fetch,
        sources=_specs(data, "sources", file),
        sinks=_specs(data, "sinks", file),
    )
    if not config.sources:
        raise ConfigError("no sources: add a [sources.NAME] table", file=file, key="sources")
    if not config.sinks:
        raise ConfigError("no sinks: add a [sinks.NAME] table", file=file, key="sinks")
    return config


def _specs(data: dict[str, Any], kind: str, file: str) -> list[PluginSpec]:
    tables = data.get(kind, {})
    if not isinstance(tables, dict):
        raise ConfigError(f"must be tables like [{kind}.NAME]", file=file, key=kind)
    specs = []
    for label, table in tables.items():
        if not isinstance(table, dict):
            raise ConfigError("must be a table", file=file, key=f"{kind}.{label}")
        options = dict(table)
        plugin = options.pop("plugin", label)
        if not isinstance(plugin, str) or not plugin:
            raise ConfigError("must be a plugin name", file=file, key=f"{kind}.{label}.plugin")
        specs.append(PluginSpec(label=label, plugin=plugin, options=options, kind=kind))
    return specs


_AT_PATH = re.compile(r"at `\$((?:\.[^`\[]+|\[\d+\])*)`")
_UNKNOWN = re.compile(r"unknown field `([^`]+)`")


def convert(raw: Any, cls: type, *, file: str, key: str, strict: bool = True):
    """msgspec.convert with errors turned into a `ConfigError` naming file and dotted key."""
    try:
        return msgspec.convert(raw, cls, strict=strict)
    except msgspec.ValidationError as exc:
        problem, dotted = _explain(exc, key)
        raise ConfigError(problem, file=file, key=dotted) from None


def _explain(exc: msgspec.ValidationError, key: str) -> tuple[str, str]:
    """(problem, dotted key) out of msgspec's message, e.g. 'Expected `int` - at `$.x`'."""
    message = str(exc)
    suffix = ""
    if m := _AT_PATH.search(message):
        suffix = m.group(1)
        message = message[: m.start()].rstrip(" -")
    if m := _UNKNOWN.search(message):
        suffix += "." + m.group(1)
        message = "unknown option"
    return message, key + suffix


def apply_override(data: dict[str, Any], item: str, *, file: str) -> None:
    """Apply `a.b.c=value` to the parsed TOML; the value is read as TOML, else as a string."""
    dotted, sep, text = item.partition("=")
    if not sep or not dotted:
        raise ConfigError(f"override {item!r} is not KEY=VALUE", file=file)
    try:
        value = tomllib.loads(f"v = {text}")["v"]
    except tomllib.TOMLDecodeError:
        value = text
    node = data
    parts = dotted.split(".")
    for part in parts[:-1]:
        node = node.setdefault(part, {})
        if not isinstance(node, dict):
            raise ConfigError(f"cannot set {dotted!r}: {part!r} is not a table", file=file)
    node[parts[-1]] = value
