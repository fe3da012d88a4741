"""Run configs: TOML files describing sources, sinks and settings, checked completely on load.

    [run]                      # optional; all keys have defaults (`RunSettings`)
    base_dir = ".."            # relative paths resolve against this (itself relative to the
                               # config file's directory; default: that directory)
    [fetch]                    # optional: `harvester.fetch.settings.FetchSettings`
    [sources.seed-dumps]       # one table per source; the key is its label
    plugin = "textdump"        # defaults to the label
    fetch = {timeout = 5}      # optional: this source's overrides of [fetch]
    inputs = ["dumps/*.txt"]   # everything else is the plugin's own options
    [sinks.papers]
    plugin = "jsonl"
    path = "out/papers.jsonl"

`load_config` checks everything it can without the plugins: `[run]` and `[fetch]` become typed,
range-checked structs and every source's fetch overrides are merged into its own settings, so a
misspelt or out-of-range setting fails here, before anything runs. The plugins' own options are
converted when the run is built (`harvester.build`), still before any output is opened. Every
error is a `ConfigError` naming the file, the dotted key and the problem.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any, Literal

import msgspec

from .errors import ConfigError
from .fetch.settings import FetchSettings, merge_settings

_Seconds = Annotated[float, msgspec.Meta(gt=0, le=1e9)]
_Count = Annotated[int, msgspec.Meta(ge=1)]
_Ratio = Annotated[float, msgspec.Meta(ge=0, le=1)]


class RunSettings(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """The `[run]` table."""

    base_dir: str = "."
    rejects: str = "out/rejects.jsonl"  # entries that failed normalisation, with reason, location
    # like a jsonl sink's mode: None appends under `state` (a re-run never empties it)
    rejects_mode: Literal["replace", "append"] | None = None
    batch_size: _Count = 1000  # papers handed to sinks per write() call
    checkpoint_seconds: _Seconds = 5.0  # how often sinks commit (and state is saved)
    max_run_seconds: _Seconds | None = None  # stop starting new targets after this long
    max_entries: _Count = 100_000  # entries per target (page or file) before it is an error
    # papers of a target held in memory until it ends; past this it streams to the outputs
    # after a checkpoint, and is cut back from them if it does not end published
    hold_papers: _Count = 10_000
    state: str | None = None  # incremental state directory (None: every run reads everything)
    refresh_days: Annotated[int, msgspec.Meta(ge=0)] = 7  # re-read targets this recent
    guard_ratio: _Ratio = 0.2  # hold a listing page yielding < ratio x its recent median
    guard_min_history: Annotated[int, msgspec.Meta(ge=0)] = 3  # pages before the guard applies


@dataclass
class PluginSpec:
    """One `[sources.X]` or `[sinks.X]` table: its label, plugin name and raw options."""

    label: str
    plugin: str
    options: dict[str, Any]
    kind: str  # "sources" | "sinks"
    fetch: FetchSettings | None = None  # sources: [fetch] merged with the table's `fetch`

    @property
    def key(self) -> str:
        return f"{self.kind}.{self.label}"


@dataclass
class RunConfig:
    path: Path | None
    base_dir: Path
    run: RunSettings = field(default_factory=RunSettings)
    fetch: FetchSettings = field(default_factory=FetchSettings)
    sources: list[PluginSpec] = field(default_factory=list)
    sinks: list[PluginSpec] = field(default_factory=list)

    @property
    def file(self) -> str:
        return str(self.path) if self.path else "<config>"


TOP_LEVEL = ("run", "fetch", "sources", "sinks")


def load_config(path: str | Path, overrides: list[str] | None = None) -> RunConfig:
    """Read and check a run config; `overrides` are `dotted.key=value` strings (CLI `--set`)."""
    path = Path(path)
    file = str(path)
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError("no such file", file=file) from None
    except IsADirectoryError:
        raise ConfigError("is a directory, not a config file", file=file) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"cannot read: {exc}", file=file) from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"invalid TOML: {exc}", file=file) from None
    except RecursionError:
        raise ConfigError("invalid TOML: nested too deeply", file=file) from None
    for item in overrides or []:
        apply_override(data, item, file=file)
    return parse_config(data, path=path)


def parse_config(data: dict[str, Any], *, path: Path | None = None) -> RunConfig:
    file = str(path) if path else "<config>"
    unknown = sorted(set(data) - set(TOP_LEVEL))
    if unknown:
        raise ConfigError(
            f"unknown table; expected one of {list(TOP_LEVEL)}", file=file, key=unknown[0]
        )
    run = convert(data.get("run", {}), RunSettings, file=file, key="run")
    fetch = convert(data.get("fetch", {}), FetchSettings, file=file, key="fetch")
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
    for spec in config.sources:
        spec.fetch = source_fetch_settings(fetch, spec.options.pop("fetch", {}), file, spec.key)
    return config


def source_fetch_settings(
    base: FetchSettings, overrides: Any, file: str, key: str
) -> FetchSettings:
    """The run's fetch settings with a source's `fetch = {...}` merged over them."""
    if not isinstance(overrides, dict):
        raise ConfigError("must be a table of [fetch] settings", file=file, key=f"{key}.fetch")
    if "budget_store" in overrides:  # the run's fetchers share one limiter
        raise ConfigError("set it in [fetch]: one store per run", file=file,
                          key=f"{key}.fetch.budget_store")  # fmt: skip
    try:
        return merge_settings(base, overrides)
    except msgspec.ValidationError as exc:
        problem, dotted = _explain(exc, f"{key}.fetch")
        raise ConfigError(problem, file=file, key=dotted) from None


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


def convert(raw: Any, cls: type, *, file: str, key: str, strict: bool = True):
    """msgspec.convert with errors turned into a `ConfigError` naming file and dotted key."""
    if not isinstance(raw, dict):
        raise ConfigError("must be a table", file=file, key=key)
    try:
        return msgspec.convert(raw, cls, strict=strict)
    except msgspec.ValidationError as exc:
        problem, dotted = _explain(exc, key)
        raise ConfigError(problem, file=file, key=dotted) from None
    except RecursionError:
        raise ConfigError("nested too deeply", file=file, key=key) from None


def _explain(exc: msgspec.ValidationError, key: str) -> tuple[str, str]:
    """(problem, dotted key) out of msgspec's message, e.g. 'Expected `int` - at `$.x`'."""
    message = str(exc)
    suffix = ""
    at = message.rfind(" - at `$")
    if at >= 0 and message.endswith("`"):
        suffix = message[at + len(" - at `$") : -1]
        message = message[:at]
    if message.startswith("Object contains unknown field `"):
        suffix += "." + message[len("Object contains unknown field `") : -1]
        message = "unknown option"
    return message, key + suffix


def apply_override(data: dict[str, Any], item: str, *, file: str) -> None:
    """Apply `a.b.c=value` to the parsed TOML; the value is read as TOML, else as a string."""
    dotted, sep, text = item.partition("=")
    if not sep or not dotted:
        raise ConfigError(f"override {item!r} is not KEY=VALUE", file=file)
    try:
        value = tomllib.loads(f"v = {text}")["v"]
    except (tomllib.TOMLDecodeError, RecursionError):
        value = text
    node = data
    parts = dotted.split(".")
    for part in parts[:-1]:
        node = node.setdefault(part, {})
        if not isinstance(node, dict):
            raise ConfigError(f"cannot set {dotted!r}: {part!r} is not a table", file=file)
    node[parts[-1]] = value
