"""harvester: harvest research-paper listings into one clean, normalised stream of records."""

__version__ = "0.2.0"

from .api import (  # noqa: E402 (the version is read by submodules)
    Outcome,
    Sink,
    SinkContext,
    SinkOptions,
    Source,
    SourceContext,
    SourceOptions,
    Target,
)
from .errors import (  # noqa: E402
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
from .files import FileInput, FileSource, FileSourceOptions  # noqa: E402
from .hookspecs import hookimpl  # noqa: E402
from .schema import SCHEMA_VERSION, Paper, Rejected  # noqa: E402

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
    "Target",
    "TargetError",
    "Unchanged",
    "UsageError",
    "hookimpl",
]
