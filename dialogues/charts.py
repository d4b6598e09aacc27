"""Line charts as SVG markup, drawn on the server: a series of (day, count) in, escaped SVG out.

Pure and ORM-free. The SVG carries its own <title> and <desc> (role="img", labelled by both) so
a screen reader hears what the chart shows; the page puts the numbers in a table beside it. No
inline styles: everything is styled through the classes below in the admin stylesheet.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString

WIDTH = 320
HEIGHT = 140
LEFT = 36  # room for the y labels
RIGHT = 8
TOP = 10
BOTTOM = 24  # room for the x labels
# Up to this many days each point gets a dot; beyond, the line alone reads better.
MAX_DOTS = 31

Series = Sequence[tuple[date, int]]


def _number(value: float) -> str:
    """A coordinate: one decimal at most, no trailing zeros."""
    text = f"{value:.1f}"
    return text.removesuffix(".0")


def _day(value: date) -> str:
    return f"{value.day} {value:%b}"


def coordinates(points: Series) -> list[tuple[str, str]]:
    """Where each point goes in the drawing area, as formatted (x, y)."""
    if not points:
        return []
    top = max(max(count for _, count in points), 1)
    inner_width = WIDTH - LEFT - RIGHT
    inner_height = HEIGHT - TOP - BOTTOM
    step = inner_width / (len(points) - 1) if len(points) > 1 else 0.0
    offset = 0.0 if len(points) > 1 else inner_width / 2
    return [
        (
            _number(LEFT + offset + index * step),
            _number(TOP + inner_height - inner_height * count / top),
        )
        for index, (_, count) in enumerate(points)
    ]


def description(label: str, points: Series) -> str:
    """The chart in one sentence, for those who cannot see it."""
    if not points:
        return f"No {label.lower()} to show."
    total = sum(count for _, count in points)
    peak_day, peak = max(points, key=lambda point: (point[1], point[0]))
    first, last = points[0][0], points[-1][0]
    text = f"{label} per day from {first:%Y-%m-%d} to {last:%Y-%m-%d}: {total} in all"
    if peak:
        text += f", at most {peak} on {peak_day:%Y-%m-%d}"
    return text + "."


def line_chart(label: str, points: Series, *, chart_id: str) -> SafeString:
    """An accessible SVG line chart of ``points``; ``chart_id`` makes its ids unique on the page."""
    top = max((count for _, count in points), default=0)
    xy = coordinates(points)
    baseline = _number(HEIGHT - BOTTOM)
    grid = format_html(
        '<g class="chart-grid" aria-hidden="true">'
        '<line x1="{}" y1="{}" x2="{}" y2="{}"></line>'
        '<line x1="{}" y1="{}" x2="{}" y2="{}"></line>'
        "</g>",
        LEFT, TOP, WIDTH - RIGHT, TOP,
        LEFT, baseline, WIDTH - RIGHT, baseline,
    )  # fmt: skip
    labels = format_html(
        '<g class="chart-labels" aria-hidden="true">'
        '<text x="{}" y="{}" text-anchor="end">{}</text>'
        '<text x="{}" y="{}" text-anchor="end">0</text>',
        LEFT - 4, TOP + 4, top,
        LEFT - 4, baseline,
    )  # fmt: skip
    if points:
        labels += format_html(
            '<text x="{}" y="{}" text-anchor="start">{}</text>'
            '<text x="{}" y="{}" text-anchor="end">{}</text>',
            LEFT, HEIGHT - 6, _day(points[0][0]),
            WIDTH - RIGHT, HEIGHT - 6, _day(points[-1][0]),
        )  # fmt: skip
    labels += SafeString("</g>")
    line = SafeString("")
    if len(xy) > 1:
        line = format_html(
            '<polyline class="chart-line" points="{}"></polyline>',
            " ".join(f"{x},{y}" for x, y in xy),
        )
    dots = SafeString("")
    if xy and len(xy) <= MAX_DOTS:
        dots = format_html(
            '<g class="chart-dots">{}</g>',
            format_html_join("", '<circle cx="{}" cy="{}" r="2.5"></circle>', xy),
        )
    return format_html(
        '<svg class="chart" viewBox="0 0 {} {}" role="img" aria-labelledby="{}-title {}-desc">'
        '<title id="{}-title">{}</title><desc id="{}-desc">{}</desc>{}{}{}{}</svg>',
        WIDTH, HEIGHT, chart_id, chart_id,
        chart_id, label, chart_id, description(label, points),
        grid, labels, line, dots,
    )  # fmt: skip
