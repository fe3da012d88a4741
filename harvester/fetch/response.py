"""What a fetch returns (`Response`) and what the Fetcher counts (`FetchStats`)."""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass
from typing import Any

from ..errors import InputError


@dataclass(frozen=True)
class Response:
    """A fetched response, body fully read and decoded. `headers` has lower-case keys and
    never holds `set-cookie` (cookie values are secrets: see harvester.fetch.redact)."""

    url: str  # as requested
    final_url: str  # after redirects
    status: int
    headers: dict[str, str]
    content: bytes
    from_cache: bool = False  # served by the development cache

    def text(self) -> str:
        charset = "utf-8"
        for param in self.headers.get("content-type", "").split(";")[1:]:
            name, _, value = param.strip().partition("=")
            if name.lower() == "charset" and value:
                charset = value.strip("\"'")
        try:
            return self.content.decode(charset, errors="replace")
        except LookupError:  # unknown charset name: utf-8 is the web's default
            return self.content.decode("utf-8", errors="replace")

    def json(self) -> Any:
        """The body as JSON; invalid or too deeply nested JSON is an `InputError` naming the URL
        (a parser's problem, not a fetch failure)."""
        try:
            return json.loads(self.content)
        except ValueError as exc:
            raise InputError(self.final_url, f"invalid JSON: {exc}") from exc
        except RecursionError:
            raise InputError(self.final_url, "JSON nested too deeply to parse") from None


@dataclass
class FetchStats:
    """Counters for the run summary."""

    requests: int = 0  # HTTP requests sent (every attempt, redirect hop and robots.txt)
    retries: int = 0
    give_ups: int = 0  # URLs that failed, for any reason
    deferred: int = 0  # URLs deferred to a later run (their host asked us to wait)
    waited_seconds: float = 0.0  # backoff and Retry-After sleeps
    throttled_seconds: float = 0.0  # budget and interval waits before requests
    bytes: int = 0  # bytes received on the wire
    cache_hits: int = 0  # responses served by the development cache

    def summary(self) -> dict[str, Any]:
        """The counters for the run summary (each failed URL is in its source's report)."""
        counts = dataclasses.asdict(self)
        return {k: round(v, 3) if isinstance(v, float) else v for k, v in counts.items()}
