"""The suspicious-output guard: a listing page (a source with `guard_counts`) that yields far
fewer papers than its recent history, and declares no total of its own, is held back
(`incomplete`, not published, read again) rather than written as the new truth."""

from __future__ import annotations

from .config import RunSettings

HISTORY_USED = 10  # the latest counts the median is taken over


def hold_reason(history: list[int], count: int, settings: RunSettings) -> str | None:
    """Why `count` papers are suspicious against `history` (the source's recent complete
    counts, oldest first), or None."""
    recent = history[-HISTORY_USED:]
    if not recent or len(recent) < settings.guard_min_history:
        return None
    import statistics  # here: most runs guard no page, and its import costs ~3 ms a start

    median = statistics.median(recent)
    if count < settings.guard_ratio * median:
        return (
            f"{count} papers, far fewer than the recent median of {median:g} "
            "(set run.guard_ratio = 0 to accept)"
        )
    return None
