"""Interval plots written directly as SVG: one row per label, the interval as a bar and
the point estimate as a tick, on the normalised-score axis.

The same picture as :func:`gymarena.reports.figures.interval_figure`, without
matplotlib: drawing it that way costs ~90 ms, this ~0.2 ms, which is what a web page
that shows one per run can afford (the leaderboard's run plots).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from html import escape

from gymarena.metrics.aggregate import IntervalEstimate

WIDTH, ROW, LABEL, MARGIN, AXIS = 700, 34, 220, 20, 46
COLOURS = ("#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf")


def _ticks(low: float, high: float) -> list[float]:
    step = 10 ** math.floor(math.log10((high - low) / 5 or 1))
    step *= min((m for m in (1, 2, 5, 10) if (high - low) / (step * m) <= 6), default=10)
    first = math.ceil(low / step) * step
    return [round(first + i * step, 10) for i in range(int((high - first) / step + 1e-9) + 1)]


def interval_svg(estimates: Mapping[str, IntervalEstimate], title: str,
                 unit: str = "normalised score (0 = random, 1 = reference)",
                 include: tuple[float, float] = (0.0, 1.0)) -> str:
    """The plot; its axis spans every interval and the range ``include`` (0 to 1 for scores)."""
    labels = list(estimates)
    low = min(include[0], *(e.low for e in estimates.values()))
    high = max(include[1], *(e.high for e in estimates.values()))
    if high <= low:
        high = low + 1.0
    low, high = low - 0.05 * (high - low), high + 0.05 * (high - low)
    plot_width = WIDTH - LABEL - MARGIN
    height = 30 + ROW * len(labels) + AXIS

    def x(value: float) -> float:
        return LABEL + (value - low) / (high - low) * plot_width

    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{height}" viewBox="0 0 {WIDTH} {height}" '
        f'font-family="sans-serif" font-size="12">',
        f'<title>{escape(title)}</title>',
        f'<text x="{WIDTH / 2}" y="18" text-anchor="middle" font-size="12">{escape(title)}</text>',
    ]
    top, bottom = 30, 30 + ROW * len(labels)
    for tick in _ticks(low, high):
        parts.append(f'<line x1="{x(tick):.1f}" y1="{top}" x2="{x(tick):.1f}" y2="{bottom}" stroke="#ddd"/>')
        parts.append(f'<text x="{x(tick):.1f}" y="{bottom + 16}" text-anchor="middle">{tick:g}</text>')
    parts.append(f'<rect x="{LABEL}" y="{top}" width="{plot_width}" height="{bottom - top}" fill="none" stroke="#333"/>')
    for row, label in enumerate(labels):
        estimate, middle = estimates[label], top + ROW * row + ROW / 2
        left, right = x(estimate.low), x(estimate.high)
        parts.append(f'<text x="{LABEL - 8}" y="{middle + 4:.1f}" text-anchor="end">{escape(label)}</text>')
        parts.append(f'<rect x="{left:.1f}" y="{middle - 10:.1f}" width="{max(right - left, 1):.1f}" height="20" '
                     f'fill="{COLOURS[row % len(COLOURS)]}" fill-opacity="0.6"/>')
        parts.append(f'<line x1="{x(estimate.point):.1f}" y1="{middle - 11:.1f}" x2="{x(estimate.point):.1f}" '
                     f'y2="{middle + 11:.1f}" stroke="black" stroke-width="2"/>')
    parts.append(f'<text x="{LABEL + plot_width / 2}" y="{bottom + 36}" text-anchor="middle" font-size="11">'
                 f'{escape(unit)}</text>')
    parts.append("</svg>")
    return "".join(parts)
