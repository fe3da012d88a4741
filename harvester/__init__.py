"""harvester: harvest research-paper listings into one clean, normalised stream of records."""

from .api import RunContext, Sink, SinkOptions, Source, SourceOptions
from .errors import (
    ConfigError,
    HarvesterError,
    InputError,
    PluginError,
    RejectEntry,
    SinkError,
)
from .hookspecs import hookimpl
from .schema import SCHEMA_VERSION, Paper, Rejected

__version__ = "0.1.0"

__all__ = [
    "SCHEMA_VERSION",
    "ConfigError",
    "HarvesterError",
    "InputError",
    "Paper",
    "PluginError",
    "RejectEntry",
    "Rejected",
    "RunContext",
    "Sink",
    "SinkError",
    "SinkOptions",
    "Source",
    "SourceOptions",
    "hookimpl",
]
