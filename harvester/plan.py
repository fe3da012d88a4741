"""A run, built: what `harvester.build` makes of a config (or the kit of given plugins), and
what the run loop, `status` and plugin hooks are handed."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from .api import Sink, Source
from .config import RunSettings
from .fetch.redact import Redactor
from .fetch.runclient import SharedClient


@dataclass
class Plan:
    """A run, built: sources and sinks (label, instance) in config order, and its settings."""

    settings: RunSettings
    base_dir: Path
    sources: list[tuple[str, Source]]
    sinks: list[tuple[str, Sink]]
    client: SharedClient
    file: str = "<config>"
    outputs: dict[str, str] = field(default_factory=dict)  # sink label -> where it writes
    # Masks every configured header value (and cookie) in whatever the run writes.
    redactor: Redactor = field(default_factory=Redactor)
