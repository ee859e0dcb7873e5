"""A matrix of values in [0, 1] (win rates: rows play columns) drawn as SVG, each cell
shaded by its value and labelled with it, for web pages (no matplotlib)."""

from __future__ import annotations

from collections.abc import Sequence
from html import escape

CELL_W, CELL_H, ROW_LABEL, TOP, MARGIN = 92, 30, 200, 64, 12


def _shade(value: float) -> str:
    """White (0) to a saturated blue (1)."""
    mix = max(0.0, min(1.0, value))
    red, green, blue = (round(255 - mix * (255 - c)) for c in (31, 119, 180))
    return f"#{red:02x}{green:02x}{blue:02x}"


def matrix_svg(rows: Sequence[str], columns: Sequence[str], values: Sequence[Sequence[float | None]], title: str,
               counts: Sequence[Sequence[int]] | None = None) -> str:
    """``values[i][j]``: row i's value against column j (None: no games); ``counts`` the
    number of games behind each, shown beside the value. Column labels may hold line breaks."""
    width = ROW_LABEL + CELL_W * len(columns) + MARGIN
    height = TOP + CELL_H * len(rows) + MARGIN
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" viewBox="0 0 {width} {height}" '
        f'font-family="sans-serif" font-size="11">',
        f'<title>{escape(title)}</title>',
        f'<text x="{width / 2}" y="16" text-anchor="middle" font-size="12">{escape(title)}</text>',
    ]
    for j, column in enumerate(columns):  # a label's lines ("\n") stacked above its column
        x = ROW_LABEL + CELL_W * j + CELL_W / 2
        lines = column.split("\n")
        for k, line in enumerate(lines):
            y = TOP - 8 - 13 * (len(lines) - 1 - k)
            parts.append(f'<text x="{x:.1f}" y="{y}" text-anchor="middle">{escape(line)}</text>')
    for i, row in enumerate(rows):
        y = TOP + CELL_H * i
        parts.append(f'<text x="{ROW_LABEL - 8}" y="{y + CELL_H / 2 + 4:.1f}" text-anchor="end">{escape(row)}</text>')
        for j, value in enumerate(values[i]):
            x = ROW_LABEL + CELL_W * j
            fill = "#f2f2f2" if value is None else _shade(value)
            parts.append(f'<rect x="{x}" y="{y}" width="{CELL_W}" height="{CELL_H}" fill="{fill}" stroke="#fff"/>')
            text = "-" if value is None else f"{value:.2f}"
            if counts is not None and value is not None:
                text += f" ({counts[i][j]})"
            colour = "#fff" if value is not None and value > 0.6 else "#222"
            parts.append(f'<text x="{x + CELL_W / 2}" y="{y + CELL_H / 2 + 4:.1f}" text-anchor="middle" '
                         f'fill="{colour}">{text}</text>')
    parts.append("</svg>")
    return "".join(parts)
