"""harvester: harvest research-paper listings into one clean, normalised stream of records.

The public names below are imported on first use (PEP 562), so that `harvester --help` and
other commands that do not need them start without importing msgspec, pluggy and the API.
"""

from __future__ import annotations

import importlib

from .version import __version__ as __version__

TYPE_CHECKING = False  # typing.TYPE_CHECKING, without importing typing

_WHERE = {  # public name -> the module that defines it
    **dict.fromkeys(
        ("Outcome", "Sink", "SinkContext", "SinkOptions", "Source", "SourceContext",
         "SourceOptions", "Target"),
        "api",
    ),
    **dict.fromkeys(
        ("ConfigError", "Deferred", "FetchError", "HarvesterError", "InputError", "OutputError",
         "PluginError", "RejectEntry", "SinkError", "StateError", "TargetError", "Unchanged",
         "UsageError"),
        "errors",
    ),
    **dict.fromkeys(("FileInput", "FileSource", "FileSourceOptions"), "files"),
    "hookimpl": "hookspecs",
    **dict.fromkeys(("SCHEMA_VERSION", "Paper", "Rejected"), "schema"),
    "Store": "store",
    "open_store": "readback",
}  # fmt: skip

if TYPE_CHECKING:
    from .api import (
        Outcome,
        Sink,
        SinkContext,
        SinkOptions,
        Source,
        SourceContext,
        SourceOptions,
        Target,
    )
    from .errors import (
        ConfigError,
        Deferred,
        FetchError,
        HarvesterError,
        InputError,
        OutputError,
        PluginError,
        RejectEntry,
        SinkError,
        StateError,
        TargetError,
        Unchanged,
        UsageError,
    )
    from .files import FileInput, FileSource, FileSourceOptions
    from .hookspecs import hookimpl
    from .readback import open_store
    from .schema import SCHEMA_VERSION, Paper, Rejected
    from .store import Store


def __getattr__(name: str) -> object:
    module = _WHERE.get(name)
    if module is None:
        raise AttributeError(f"module 'harvester' has no attribute {name!r}")
    value = getattr(importlib.import_module(f".{module}", __name__), name)
    globals()[name] = value  # the next lookup is a plain attribute
    return value


def __dir__() -> list[str]:
    return sorted([*globals(), *_WHERE])


__all__ = [
    "SCHEMA_VERSION",
    "ConfigError",
    "Deferred",
    "FetchError",
    "FileInput",
    "FileSource",
    "FileSourceOptions",
    "HarvesterError",
    "InputError",
    "Outcome",
    "OutputError",
    "Paper",
    "PluginError",
    "RejectEntry",
    "Rejected",
    "Sink",
    "SinkContext",
    "SinkError",
    "SinkOptions",
    "Source",
    "SourceContext",
    "SourceOptions",
    "StateError",
    "Store",
    "Target",
    "TargetError",
    "Unchanged",
    "UsageError",
    "hookimpl",
    "open_store",
]
assert sorted(__all__) == sorted(_WHERE), "every public name has its module"
