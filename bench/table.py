"""The results table: one `Row` per figure, printed as Markdown (stdout and bench/results.md)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass
class Row:
    stage: str
    ours: str = "-"  # our figure, with its unit
    baseline: str = "-"  # the baseline's figure, measured in the same run
    ratio: str = "-"  # ours / baseline
    target: str = "-"
    result: str = "-"  # PASS | MISS | n/a
    rss: str = "-"  # peak RSS, ours / baseline
    note: str = ""  # why a target was missed, or what the row is


def rate(value: float, unit: str) -> str:
    if value >= 100:
        return f"{value:,.0f} {unit}"
    return f"{value:,.1f} {unit}"


def ratio(ours: float, base: float) -> str:
    return f"{ours / base:.2f}x" if base else "-"


def mb(value: float | None) -> str:
    return f"{value:.0f} MB" if value is not None else "-"


def not_available(stage: str, why: str, target: str = "-") -> Row:
    return Row(stage, ours="not available", target=target, result="n/a", note=why)


HEADERS = ("stage", "ours", "baseline", "ratio", "target", "result", "peak RSS ours / base", "note")


def markdown(rows: list[Row]) -> str:
    cells = [HEADERS] + [
        (r.stage, r.ours, r.baseline, r.ratio, r.target, r.result, r.rss, _one_line(r.note))
        for r in rows
    ]
    widths = [max(len(c[i]) for c in cells) for i in range(len(HEADERS) - 1)]
    lines = []
    for n, cell in enumerate(cells):
        padded = [v.ljust(w) for v, w in zip(cell[:-1], widths, strict=True)] + [cell[-1]]
        lines.append("| " + " | ".join(padded) + " |")
        if n == 0:
            lines.append("|" + "|".join("-" * (w + 2) for w in widths) + "|------|")
    return "\n".join(lines)


def _one_line(text: str, limit: int = 400) -> str:
    """A note fit for one table cell: no newlines or pipes, bounded length."""
    flat = " ".join(text.replace("|", "/").split())
    return flat if len(flat) <= limit else flat[: limit - 3] + "..."
