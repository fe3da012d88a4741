"""What the command line prints is masked: once a command knows its config's secrets (every
configured header value, database passwords), `mask_secrets(redactor)` makes every later log
line and every message a command prints (`shown`) show `[REDACTED]` in their place."""

from __future__ import annotations

from collections.abc import Callable

_current: list[Callable[[str], str]] = []  # the redactor of the command that runs, if any


def shown(text: str) -> str:
    """`text` as a command may print it: its secrets masked."""
    return _current[-1](text) if _current else text


def mask_secrets(redactor) -> None:
    """From now on, every log line and every message a command prints (`shown`) is masked by
    `redactor` (a `harvester.fetch.Redactor`). A plugin's command that builds a plan calls it
    with `plan.redactor`, as `harvester run` does."""
    import logging  # imported by whatever logs; not needed for `harvester --help`

    _current.append(redactor)
    for handler in logging.getLogger().handlers:
        handler.addFilter(redactor.logging_filter())
