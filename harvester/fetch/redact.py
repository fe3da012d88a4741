"""Secrets never written anywhere: every configured header value and every cookie value is
replaced by `[REDACTED]` in any text the run writes, whatever the header is called.

A header's name says nothing reliable about its value (`Private-Token`, `X-Goog-Api-Key`,
`Cookie`), so there is no list of secret names: every value in `[fetch] headers` and in any
source's `fetch = {headers = ...}` is a secret, and so is every cookie value a server sets.
`Redactor` is the one place that knows them; the core applies it to every text it writes (logs
through `logging_filter()`, the summary, rejects, the state) and cassette recording drops every
request header it was not told is harmless (tests/conftest.py `vcr_config`).
"""

from __future__ import annotations

import logging
import re
import threading
from collections.abc import Iterable

MASK = "[REDACTED]"
# Values shorter than this are not secrets worth their cost: replacing "1" or "en" everywhere
# would garble every text while protecting nothing.
MIN_SECRET_LENGTH = 4
# Parts of a value that are secrets on their own: the token after "Bearer ", a cookie's value.
_PART_MIN_LENGTH = 8
_PARTS = re.compile(r"[\s;,=]+")


class Redactor:
    """Replaces every known secret in a text. Thread-safe; secrets are only ever added."""

    def __init__(self, secrets: Iterable[str] = ()):
        self._lock = threading.Lock()
        self._secrets: set[str] = set()
        self._pattern: re.Pattern[str] | None = None
        self.add(*secrets)

    @classmethod
    def from_settings(cls, *settings: object) -> Redactor:
        """A redactor knowing every header value of these FetchSettings (the run's `[fetch]` and
        each source's merged settings)."""
        redactor = cls()
        for each in settings:
            redactor.add_headers(getattr(each, "headers", {}))
        return redactor

    def add_headers(self, headers: dict[str, str]) -> None:
        self.add(*headers.values())

    def add(self, *values: str) -> None:
        """Remember secrets: each value whole, and its long parts (a Bearer token, a cookie)."""
        found = set()
        for value in values:
            value = value.strip()
            if len(value) >= MIN_SECRET_LENGTH:
                found.add(value)
                found.update(p for p in _PARTS.split(value) if len(p) >= _PART_MIN_LENGTH)
        with self._lock:
            if found - self._secrets:
                self._secrets |= found
                # longest first, so a whole value is masked before any of its parts
                alternatives = sorted(self._secrets, key=len, reverse=True)
                self._pattern = re.compile("|".join(map(re.escape, alternatives)))

    def __call__(self, text: str) -> str:
        """`text` with every known secret replaced by `[REDACTED]`."""
        pattern = self._pattern
        return pattern.sub(MASK, text) if pattern is not None and text else text

    def __bool__(self) -> bool:
        return self._pattern is not None

    def logging_filter(self) -> logging.Filter:
        """A filter for a log handler: formats each record, then redacts the message (and the
        traceback text), so no argument can carry a secret past it."""
        return _RedactingFilter(self)


class _RedactingFilter(logging.Filter):
    def __init__(self, redact: Redactor):
        super().__init__()
        self._redact = redact

    def filter(self, record: logging.LogRecord) -> bool:
        record.msg, record.args = self._redact(record.getMessage()), None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = self._redact(record.exc_text)
        record.exc_info = None if record.exc_text else record.exc_info
        return True
