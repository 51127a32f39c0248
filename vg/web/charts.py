"""Bar charts drawn server-side as SVG: readable without script, with a text
alternative (each chart has a table of the same numbers beside it)."""

from __future__ import annotations

from markupsafe import Markup, escape

BAR_HEIGHT = 22
LABEL_WIDTH = 150
WIDTH = 520


def bars(rows: list[tuple[str, int]], label: str) -> Markup:
    """Horizontal bars, one per (label, count); the longest fills the width."""
    top = max((count for _, count in rows), default=0) or 1
    height = BAR_HEIGHT * max(len(rows), 1) + 4
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" class="vg-chart" '
             f'viewBox="0 0 {WIDTH} {height}" role="img" aria-label="{escape(label)}">']
    span = WIDTH - LABEL_WIDTH - 50
    for i, (name, count) in enumerate(rows):
        y = i * BAR_HEIGHT + 2
        length = max(1, round(span * count / top))
        parts.append(
            f'<text class="vg-chart__label" x="{LABEL_WIDTH - 6}" y="{y + 15}" '
            f'text-anchor="end">{escape(name)}</text>'
            f'<rect class="vg-chart__bar" x="{LABEL_WIDTH}" y="{y + 3}" '
            f'width="{length}" height="{BAR_HEIGHT - 6}"></rect>'
            f'<text class="vg-chart__value" x="{LABEL_WIDTH + length + 6}" '
            f'y="{y + 15}">{count}</text>')
    parts.append("</svg>")
    return Markup("".join(parts))
