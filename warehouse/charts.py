"""Small inline SVG charts for the HTML run report.

The report must render offline in any browser, so charts are plain SVG
strings computed here: no JavaScript, no fonts or images fetched. Every text
passed in is escaped; callers pass labels already free of identifiers.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from html import escape

#: Colour-blind friendly (Okabe–Ito) with enough contrast on white.
PALETTE = ("#0072B2", "#E69F00", "#009E73", "#D55E00", "#CC79A7", "#56B4E9", "#F0E442", "#999999")

FONT_SIZE = 13


def text_width(text: str, font_size: float = FONT_SIZE) -> float:
    """Rough rendered width: CJK characters are square, Latin ones about 0.6 em."""
    return sum(font_size if ord(ch) > 0x2E80 else font_size * 0.6 for ch in text)


def _fmt(value: float) -> str:
    return f"{value:,.0f}" if float(value).is_integer() else f"{value:,.1f}"


def _svg(width: float, height: float, title: str, body: list[str]) -> str:
    return (f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" role="img" viewBox="0 0 {width:.0f} {height:.0f}" '
            f'width="{width:.0f}" height="{height:.0f}" font-size="{FONT_SIZE}">'
            f"<title>{escape(title)}</title>" + "".join(body) + "</svg>")


def _legend(series: Sequence[tuple[str, str]], x: float, y: float) -> tuple[list[str], float]:
    """Legend items laid out left to right, wrapping; returns (elements, height used)."""
    out, cx, cy, max_x = [], x, y, 700
    for name, colour in series:
        item_width = 18 + text_width(name) + 16
        if cx + item_width > max_x and cx > x:
            cx, cy = x, cy + 20
        out.append(f'<rect x="{cx:.0f}" y="{cy:.0f}" width="12" height="12" fill="{colour}"/>'
                   f'<text x="{cx + 17:.0f}" y="{cy + 11:.0f}">{escape(name)}</text>')
        cx += item_width
    return out, cy - y + 22


def hbar_chart(rows: Sequence[tuple[str, Sequence[float]]], series: Sequence[tuple[str, str]], *,
               title: str, bar_height: int = 22, plot_width: int = 440) -> str:
    """Horizontal (stacked) bars: one row per label, one segment per series, total at the end.

    ``rows``: ``(label, values)`` with one value per ``series`` entry ``(name, colour)``.
    """
    label_width = max([text_width(label) for label, _ in rows] + [40]) + 12
    body: list[str] = []
    top = 4.0
    if len(series) > 1:
        legend, used = _legend(series, label_width, top)
        body += legend
        top += used
    biggest = max([sum(values) for _, values in rows] + [1])
    gap = max(4, bar_height // 3)
    for i, (label, values) in enumerate(rows):
        y = top + i * (bar_height + gap)
        baseline = y + bar_height / 2 + FONT_SIZE * 0.35
        body.append(f'<text x="{label_width - 8:.0f}" y="{baseline:.1f}" text-anchor="end">{escape(label)}</text>')
        x = label_width
        for (name, colour), value in zip(series, values):
            length = plot_width * value / biggest
            if length > 0:
                body.append(f'<rect x="{x:.1f}" y="{y:.0f}" width="{max(length, 1):.1f}" height="{bar_height}" '
                            f'fill="{colour}"><title>{escape(f"{label} · {name}: {_fmt(value)}")}</title></rect>')
            x += length
        body.append(f'<text x="{x + 6:.1f}" y="{baseline:.1f}" fill="#333">{_fmt(sum(values))}</text>')
    height = top + len(rows) * (bar_height + gap) + 4
    width = label_width + plot_width + 80
    return _svg(width, height, title, body)


def _nice_step(span: float, target_ticks: int = 5) -> float:
    raw = span / max(target_ticks, 1)
    magnitude = 10 ** math.floor(math.log10(raw)) if raw > 0 else 1
    return next(m * magnitude for m in (1, 2, 2.5, 5, 10) if m * magnitude >= raw)


def histogram(edges: Sequence[float], counts: Sequence[int], *, title: str, x_label: str, y_label: str,
              colour: str = PALETTE[0], width: int = 720, height: int = 280) -> str:
    """Vertical bars for ``len(edges) - 1`` bins; x ticks at bin edges, y ticks at round counts."""
    left, right, top, bottom = 64, 16, 12, 52
    plot_w, plot_h = width - left - right, height - top - bottom
    highest = max(list(counts) + [1])
    step = max(_nice_step(highest), 1)  # counts: no fractional ticks
    y_max = math.ceil(highest / step) * step
    body = [f'<line x1="{left}" y1="{top + plot_h}" x2="{left + plot_w}" y2="{top + plot_h}" stroke="#555"/>']
    tick = 0.0
    while tick <= y_max + 1e-9:
        y = top + plot_h - plot_h * tick / y_max
        body.append(f'<line x1="{left}" y1="{y:.1f}" x2="{left + plot_w}" y2="{y:.1f}" stroke="#e3e3e3"/>'
                    f'<text x="{left - 6}" y="{y + 4:.1f}" text-anchor="end" fill="#555">{_fmt(tick)}</text>')
        tick += step
    n = len(counts)
    bin_w = plot_w / max(n, 1)
    for i, count in enumerate(counts):
        bar_h = plot_h * count / y_max
        x = left + i * bin_w
        label = f"{_fmt(edges[i])} – {_fmt(edges[i + 1])}: {count:,}"
        body.append(f'<rect x="{x + 1:.1f}" y="{top + plot_h - bar_h:.1f}" width="{max(bin_w - 2, 1):.1f}" '
                    f'height="{bar_h:.1f}" fill="{colour}"><title>{escape(label)}</title></rect>')
    label_every = max(1, math.ceil(n / 10))
    for i in range(0, n + 1, label_every):
        x = left + i * bin_w
        body.append(f'<text x="{x:.1f}" y="{top + plot_h + 16}" text-anchor="middle" fill="#555">{_fmt(edges[i])}</text>')
    body.append(f'<text x="{left + plot_w / 2:.0f}" y="{height - 8}" text-anchor="middle">{escape(x_label)}</text>')
    body.append(f'<text transform="translate(14 {top + plot_h / 2:.0f}) rotate(-90)" text-anchor="middle">'
                f"{escape(y_label)}</text>")
    return _svg(width, height, title, body)
