"""Charts as inline SVG, drawn when the report is made: no script, no network when viewed.

Every chart is an ``<svg class="chart" data-chart=NAME role="img">`` with a ``<title>``; its
marks (``rect.bar``, ``polyline.line``, ``circle.point``) carry a ``<title>`` with the value, so
a reader hovering a bar sees it.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from html import escape

from .data import Series

WIDTH = 760
COLOURS = ("#4269d0", "#efb118", "#ff725c", "#6cc5b0", "#3ca951", "#ff8ab7", "#a463f2")
_FONT = 'font-family="system-ui, sans-serif" font-size="11"'


def _nice_max(value: float) -> int:
    """A round axis maximum at or above `value`."""
    if value <= 0:
        return 1
    step = 1
    while step * 10 < value:
        step *= 10
    for factor in (1, 2, 5, 10):
        if step * factor >= value:
            return step * factor
    return step * 10


def _open(name: str, title: str, height: int) -> list[str]:
    return [
        f'<svg class="chart" data-chart="{escape(name)}" role="img" width="{WIDTH}" '
        f'height="{height}" viewBox="0 0 {WIDTH} {height}" xmlns="http://www.w3.org/2000/svg">',
        f"<title>{escape(title)}</title>",
    ]


def _y_axis(left: int, top: int, bottom: int, right: int, top_value: int) -> list[str]:
    parts = []
    for fraction in (0, 0.5, 1):
        y = bottom - (bottom - top) * fraction
        value = top_value * fraction
        label = f"{value:g}"
        parts.append(
            f'<line x1="{left}" x2="{right}" y1="{y:.1f}" y2="{y:.1f}" stroke="#ddd"/>'
            f'<text x="{left - 6}" y="{y + 4:.1f}" text-anchor="end" {_FONT}>{label}</text>'
        )
    return parts


def bar_chart(name: str, title: str, bars: Sequence[tuple[str, int]], *, height: int = 260) -> str:
    """Vertical bars, one per (label, value), labels under them (slanted when many)."""
    left, top, right, bottom = 48, 16, WIDTH - 12, height - 64
    parts = _open(name, title, height)
    top_value = _nice_max(max((v for _, v in bars), default=0))
    parts += _y_axis(left, top, bottom, right, top_value)
    slot = (right - left) / max(len(bars), 1)
    for i, (label, value) in enumerate(bars):
        bar_h = (bottom - top) * value / top_value
        x = left + i * slot + slot * 0.1
        parts.append(
            f'<rect class="bar" x="{x:.1f}" y="{bottom - bar_h:.1f}" width="{slot * 0.8:.1f}" '
            f'height="{bar_h:.1f}" fill="{COLOURS[0]}"><title>{escape(label)}: {value}</title>'
            "</rect>"
        )
        cx, ly = x + slot * 0.4, bottom + 14
        turn = f' transform="rotate(-40 {cx:.1f} {ly})"' if len(bars) > 8 else ""
        anchor = "end" if turn else "middle"
        parts.append(
            f'<text x="{cx:.1f}" y="{ly}" text-anchor="{anchor}"{turn} {_FONT}>'
            f"{escape(label)}</text>"
        )
    parts.append("</svg>")
    return "".join(parts)


def hbar_chart(name: str, title: str, bars: Sequence[tuple[str, int]]) -> str:
    """Horizontal bars with their labels on the left (long names: organisations, reasons)."""
    row, left, right = 24, 300, WIDTH - 60
    height = 16 + row * max(len(bars), 1)
    parts = _open(name, title, height)
    top_value = max((v for _, v in bars), default=0) or 1
    for i, (label, value) in enumerate(bars):
        y = 8 + i * row
        width = (right - left) * value / top_value
        shown = label if len(label) <= 48 else label[:47] + "…"
        parts.append(
            f'<text x="{left - 8}" y="{y + 15}" text-anchor="end" {_FONT}>{escape(shown)}</text>'
            f'<rect class="bar" x="{left}" y="{y + 3}" width="{width:.1f}" height="{row - 6}" '
            f'fill="{COLOURS[0]}"><title>{escape(label)}: {value}</title></rect>'
            f'<text x="{left + width + 6:.1f}" y="{y + 15}" {_FONT}>{value}</text>'
        )
    parts.append("</svg>")
    return "".join(parts)


def line_chart(name: str, title: str, series: Sequence[Series], *, height: int = 300) -> str:
    """One line per series over time (x: observation time, y: upvotes), with a legend."""
    left, top, right = 48, 16, WIDTH - 12
    bottom = height - 40 - 16 * len(series)
    parts = _open(name, title, height)
    times = [t for s in series for t, _ in s.points]
    first, last = min(times), max(times)
    span = (last - first).total_seconds() or 1.0
    top_value = _nice_max(max(v for s in series for _, v in s.points))
    parts += _y_axis(left, top, bottom, right, top_value)
    for moment, anchor in ((first, "start"), (last, "end")):
        edge = left if anchor == "start" else right
        parts.append(
            f'<text x="{edge}" y="{bottom + 16}" text-anchor="{anchor}" {_FONT}>'
            f"{escape(_when(moment))}</text>"
        )

    def xy(moment: dt.datetime, value: int) -> tuple[float, float]:
        x = left + (right - left) * (moment - first).total_seconds() / span
        return x, bottom - (bottom - top) * value / top_value

    for i, one in enumerate(series):
        colour = COLOURS[i % len(COLOURS)]
        points = [xy(t, v) for t, v in one.points]
        if len(points) > 1:
            path = " ".join(f"{x:.1f},{y:.1f}" for x, y in points)
            parts.append(
                f'<polyline class="line" points="{path}" fill="none" stroke="{colour}" '
                f'stroke-width="2"/>'
            )
        for (x, y), (moment, value) in zip(points, one.points, strict=True):
            parts.append(
                f'<circle class="point" cx="{x:.1f}" cy="{y:.1f}" r="3" fill="{colour}">'
                f"<title>{escape(one.title)}: {value} upvotes, {_when(moment)}</title></circle>"
            )
        legend_y = bottom + 34 + 16 * i
        shown = one.title if len(one.title) <= 90 else one.title[:89] + "…"
        parts.append(
            f'<rect x="{left}" y="{legend_y - 9}" width="10" height="10" fill="{colour}"/>'
            f'<text x="{left + 16}" y="{legend_y}" {_FONT}>{escape(shown)}</text>'
        )
    parts.append("</svg>")
    return "".join(parts)


def _when(moment: dt.datetime) -> str:
    return moment.astimezone(dt.UTC).strftime("%Y-%m-%d %H:%M UTC")
