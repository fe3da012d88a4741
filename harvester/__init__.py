"""harvester: harvest research-paper listings into one clean, normalised stream of records."""

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
from .schema import SCHEMA_VERSION, Paper, Rejected
from .store import Store, open_store
from .version import __version__ as __version__

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
