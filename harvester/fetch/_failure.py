"""One failed attempt, as the fetch modules pass it up to the retry loop (internal)."""

from __future__ import annotations

from .errors import FetchError, TransportFailure


class AttemptFailed(Exception):
    """One attempt failed: `kind` is the FetchError subclass the URL fails with if this is the
    last attempt; `retryable` decides whether the retry loop tries again."""

    def __init__(
        self,
        reason: str,
        status: int | None = None,
        *,
        kind: type[FetchError] = TransportFailure,
        retryable: bool = False,
        retry_after: float | None = None,
    ):
        super().__init__(reason)
        self.reason, self.status, self.kind = reason, status, kind
        self.retryable, self.retry_after = retryable, retry_after
