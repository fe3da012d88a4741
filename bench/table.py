"""The results table: one `Row` per figure, printed as Markdown (stdout and bench/results.md)."""

from __future__ import annotations

from dataclasses import dataclass

from harness import Pairs, median_spread


@dataclass
class Row:
    stage: str
    ours: str = "-"  # our figure (median over the pairs), with its unit
    baseline: str = "-"  # the baseline's figure, measured in the same pairs
    ratio: str = "-"  # median of the per-pair ratios ours / baseline
    spread: str = "-"  # min-max of the per-pair ratios, and how many pairs
    target: str = "-"
    result: str = "-"  # PASS | MISS | info | n/a
    rss: str = "-"  # peak RSS, ours / baseline
    note: str = ""  # why a target was missed, or what the row is


def rate(value: float, unit: str) -> str:
    if value >= 100:
        return f"{value:,.0f} {unit}"
    return f"{value:,.1f} {unit}"


def mb(value: float | None) -> str:
    return f"{value:.0f} MB" if value is not None else "-"


def not_available(stage: str, why: str, target: str = "-") -> Row:
    return Row(stage, ours="not available", target=target, result="n/a", note=why)


def verdict(ok: bool) -> str:
    return "PASS" if ok else "MISS"


def paired_row(
    stage: str,
    pairs: Pairs,
    unit: str,
    base_unit: str,
    target: str = "-",
    need: float = 0.0,
    scale: float = 1.0,
) -> Row:
    """A row from interleaved pairs: medians of both sides (rates times `scale`, e.g. 1e-6 for
    bytes to MB), median ratio and its spread; PASS when the median ratio is at least `need`
    (no verdict when `need` is 0). When the spread straddles `need` the note says so: the
    verdict is then the median's, but another run could land on the other side."""
    if not pairs.ok:
        return not_available(stage, pairs.error or "no samples", target)
    ratio, low, high = median_spread(pairs.ratios)
    cpu, _, _ = median_spread(pairs.cpu_ratios)
    rss_ours = max((s.maxrss_mb or 0) for s in pairs.ours) or None
    rss_base = max((s.maxrss_mb or 0) for s in pairs.base) or None
    note = f"per CPU-second: {cpu:.2f}x" if cpu else ""
    if need and low < need <= high:
        note = f"the spread straddles the target ({low:.2f}-{high:.2f} vs {need:.2f}); " + note
    return Row(
        stage,
        rate(pairs.median("ours") * scale, unit),
        rate(pairs.median("base") * scale, base_unit),
        f"{ratio:.2f}x",
        f"{low:.2f}-{high:.2f} ({len(pairs.ratios)} pairs)",
        target,
        verdict(ratio >= need) if need else "info",
        f"{mb(rss_ours)} / {mb(rss_base)}",
        note,
    )


HEADERS = (
    "stage",
    "ours",
    "baseline",
    "ratio",
    "spread",
    "target",
    "result",
    "peak RSS ours / base",
    "note",
)


def markdown(rows: list[Row]) -> str:
    cells = [HEADERS] + [
        (
            r.stage,
            r.ours,
            r.baseline,
            r.ratio,
            r.spread,
            r.target,
            r.result,
            r.rss,
            _one_line(r.note),
        )
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


def _one_line(text: str, limit: int = 500) -> str:
    """A note fit for one table cell: no newlines or pipes, bounded length."""
    flat = " ".join(text.replace("|", "/").split())
    return flat if len(flat) <= limit else flat[: limit - 3] + "..."
