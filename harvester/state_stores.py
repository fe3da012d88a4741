"""Where a run's state lives, by the form of `[run] state`: a directory
(`harvester.state.StateStore`) or ``postgresql://...`` (`harvester.pgstate.PostgresStateStore`).
Both follow `harvester.state.Store`, the only thing the run loop knows of them."""

from __future__ import annotations

from pathlib import Path

from .pgconn import is_postgres_url
from .state import StateStore, Store


def open_state_store(spec: str, base_dir: Path, default_name: str) -> Store:
    """The store `[run] state = spec` names: ``postgresql://...`` (its state called ``?name=``
    or `default_name`, the config file's stem) or a directory (relative to `base_dir`)."""
    if is_postgres_url(spec):
        from .pgstate import PostgresStateStore  # psycopg is imported only for PostgreSQL

        return PostgresStateStore(spec, default_name)
    path = Path(spec).expanduser()
    return StateStore(path if path.is_absolute() else base_dir / path)
