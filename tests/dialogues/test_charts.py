"""The reports' line charts: accessible SVG drawn on the server, escaped, without inline styles."""

from __future__ import annotations

import re
from datetime import date, timedelta
from xml.etree import ElementTree

from dialogues.charts import HEIGHT, MAX_DOTS, coordinates, description, line_chart

SVG = "{http://www.w3.org/2000/svg}"


def days(*counts: int, first: date = date(2025, 3, 1)) -> list[tuple[date, int]]:
    return [(first + timedelta(days=n), count) for n, count in enumerate(counts)]


def parse(markup: str) -> ElementTree.Element:
    # Our own markup, not untrusted input: the standard parser is fine here.
    xml = markup.replace("<svg ", f'<svg xmlns="{SVG[1:-1]}" ', 1)
    return ElementTree.fromstring(xml)  # noqa: S314


def test_a_chart_is_an_image_labelled_by_its_title_and_description() -> None:
    """The chart names what it shows and says it in words."""
    svg = parse(line_chart("Triggered", days(1, 4, 2), chart_id="chart-triggered"))
    assert svg.get("role") == "img"
    assert svg.get("aria-labelledby") == "chart-triggered-title chart-triggered-desc"
    title = svg.find(f"{SVG}title")
    desc = svg.find(f"{SVG}desc")
    assert title is not None
    assert title.text == "Triggered"
    assert title.get("id") == "chart-triggered-title"
    assert desc is not None
    assert desc.get("id") == "chart-triggered-desc"
    assert desc.text == (
        "Triggered per day from 2025-03-01 to 2025-03-03: 7 in all, at most 4 on 2025-03-02."
    )


def test_the_line_goes_through_every_day_the_highest_at_the_top() -> None:
    points = coordinates(days(0, 5, 10))
    assert len(points) == 3
    ys = [float(y) for _, y in points]
    xs = [float(x) for x, _ in points]
    assert xs == sorted(xs)
    assert ys[0] > ys[1] > ys[2]  # SVG's y grows downwards
    svg = parse(line_chart("Engaged", days(0, 5, 10), chart_id="c"))
    line = svg.find(f".//{SVG}polyline")
    assert line is not None
    assert line.get("points") == " ".join(f"{x},{y}" for x, y in points)


def test_a_single_day_is_a_dot_in_the_middle() -> None:
    svg = parse(line_chart("Completed", days(3), chart_id="c"))
    assert svg.find(f".//{SVG}polyline") is None
    assert len(svg.findall(f".//{SVG}circle")) == 1


def test_long_ranges_draw_the_line_without_dots() -> None:
    svg = parse(line_chart("Goals reached", days(*range(90)), chart_id="c"))
    assert svg.find(f".//{SVG}polyline") is not None
    assert svg.findall(f".//{SVG}circle") == []
    assert len(svg.findall(f".//{SVG}circle")) <= MAX_DOTS


def test_all_zeros_stay_on_the_baseline() -> None:
    assert {y for _, y in coordinates(days(0, 0, 0))} == {str(HEIGHT - 24)}
    assert description("Meetings booked", days(0, 0)).endswith(": 0 in all.")


def test_no_days_draws_an_empty_chart_that_says_so() -> None:
    svg = parse(line_chart("Triggered", [], chart_id="c"))
    desc = svg.find(f"{SVG}desc")
    assert desc is not None
    assert desc.text == "No triggered to show."


def test_labels_and_ids_are_escaped() -> None:
    markup = line_chart('<script>alert(1)</script>"', days(1, 2), chart_id='x"><b>')
    assert "<script>" not in markup
    assert "<b>" not in markup
    assert "&lt;script&gt;" in markup
    parse(markup)  # still well-formed


def test_no_inline_styles_or_scripts() -> None:
    """The admin CSP allows neither: the chart is styled by classes in the stylesheet."""
    markup = line_chart("Triggered", days(*range(10)), chart_id="c")
    assert not re.search(r"\sstyle=|<style|<script|\son[a-z]+=", markup)
