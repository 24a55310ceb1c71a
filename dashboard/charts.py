"""Charts drawn on the server as inline SVG: no script, nothing loaded from elsewhere.

Each function takes plain numbers and labels and returns safe SVG markup. Every chart has a
<title> and sits next to its table, which screen readers and the CSV export use instead.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence

from django.utils.formats import number_format
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

WIDTH = 640
HEIGHT = 240
PAD_LEFT = 56
PAD_RIGHT = 12
PAD_TOP = 12
PAD_BOTTOM = 40


def _ticks(value: float) -> list[int]:
    """Return whole-number axis ticks from 0 to a round top at or above `value` (2 to 5).

    Every chart counts something (members, points, redemptions): a tick of 2.5 members means
    nothing, so steps are whole 1, 2 or 5 times a power of ten.
    """
    if value <= 0:
        return [0, 1]
    step = 1
    factors = itertools.cycle((2, 2.5, 2))  # 1, 2, 5, 10, 20, 50, 100...
    while math.ceil(value / step) > 4:
        step = int(step * next(factors))
    return [step * i for i in range(math.ceil(value / step) + 1)]


def _number(n: float) -> str:
    return number_format(n, decimal_pos=0, use_l10n=True, force_grouping=True)


def _short(n: float) -> str:
    for limit, suffix in ((1e9, "G"), (1e6, "M"), (1e3, "k")):
        if abs(n) >= limit:
            scaled = n / limit
            places = 0 if scaled == int(scaled) else 1
            return number_format(scaled, decimal_pos=places, use_l10n=True) + suffix
    return _number(n)


def _rect(cls: str, x: float, y: float, w: float, h: float, tip: str) -> str:
    return (
        f'<rect class="{escape(cls)}" x="{x:.1f}" y="{y:.1f}" width="{w:.1f}" height="{h:.1f}">'
        f"<title>{escape(tip)}</title></rect>"
    )


def _text(cls: str, x: float, y: float, text: str, anchor: str = "start") -> str:
    return (
        f'<text class="{cls}" x="{x:.1f}" y="{y:.1f}" text-anchor="{anchor}">{escape(text)}</text>'
    )


def _frame(title: str, body: list[str], legend: Sequence[tuple[str, str]] = ()) -> SafeString:
    items = "".join(
        f'<span class="legend-item"><span class="swatch {escape(cls)}"></span>{escape(name)}</span>'
        for name, cls in legend
    )
    legend_html = f'<div class="chart-legend">{items}</div>' if legend else ""
    svg = (
        f'<svg class="chart" viewBox="0 0 {WIDTH} {HEIGHT}" role="img" '
        f'preserveAspectRatio="xMidYMid meet"><title>{escape(title)}</title>{"".join(body)}</svg>'
    )
    return mark_safe(f'<figure class="chart-figure">{svg}{legend_html}</figure>')  # noqa: S308


def _axis(ticks: Sequence[int]) -> list[str]:
    parts = []
    plot_h = HEIGHT - PAD_TOP - PAD_BOTTOM
    for value in ticks:
        y = HEIGHT - PAD_BOTTOM - plot_h * value / ticks[-1]
        parts.append(
            f'<line class="grid" x1="{PAD_LEFT}" x2="{WIDTH - PAD_RIGHT}" '
            f'y1="{y:.1f}" y2="{y:.1f}"/>'
        )
        parts.append(_text("tick", PAD_LEFT - 6, y + 4, _short(value), "end"))
    return parts


def _x_labels(labels: Sequence[str], slot: float) -> list[str]:
    every = max(1, math.ceil(len(labels) / 12))
    parts = []
    for i, label in enumerate(labels):
        if i % every:
            continue
        x = PAD_LEFT + slot * (i + 0.5)
        parts.append(_text("tick", x, HEIGHT - PAD_BOTTOM + 16, label, "middle"))
    return parts


def stacked_bars(
    title: str, labels: Sequence[str], series: Sequence[tuple[str, Sequence[float], str]]
) -> SafeString:
    """Vertical bars, one per label, stacking each series (name, values, css class)."""
    if not labels:
        return empty(title)
    totals = [sum(s[1][i] for s in series) for i in range(len(labels))]
    ticks = _ticks(max(totals))
    top = ticks[-1]
    plot_w = WIDTH - PAD_LEFT - PAD_RIGHT
    plot_h = HEIGHT - PAD_TOP - PAD_BOTTOM
    slot = plot_w / len(labels)
    bar_w = max(1.0, slot * 0.7)
    body = _axis(ticks)
    for i, label in enumerate(labels):
        x = PAD_LEFT + slot * i + (slot - bar_w) / 2
        base = HEIGHT - PAD_BOTTOM
        for name, values, cls in series:
            h = plot_h * values[i] / top
            if h <= 0:
                continue
            base -= h
            body.append(_rect(cls, x, base, bar_w, h, f"{label}: {name} {_number(values[i])}"))
    body += _x_labels(labels, slot)
    return _frame(title, body, [(name, cls) for name, _, cls in series])


def lines(
    title: str, labels: Sequence[str], series: Sequence[tuple[str, Sequence[float], str]]
) -> SafeString:
    """One line per series over the labels."""
    if not labels:
        return empty(title)
    ticks = _ticks(max((max(v) for _, v, _ in series if v), default=0))
    top = ticks[-1]
    plot_w = WIDTH - PAD_LEFT - PAD_RIGHT
    plot_h = HEIGHT - PAD_TOP - PAD_BOTTOM
    slot = plot_w / len(labels)
    body = _axis(ticks)
    for name, values, cls in series:
        points = " ".join(
            f"{PAD_LEFT + slot * (i + 0.5):.1f},{HEIGHT - PAD_BOTTOM - plot_h * v / top:.1f}"
            for i, v in enumerate(values)
        )
        body.append(
            f'<polyline class="line {escape(cls)}" points="{points}">'
            f"<title>{escape(name)}</title></polyline>"
        )
        if len(values) <= 60:
            for i, v in enumerate(values):
                cx = PAD_LEFT + slot * (i + 0.5)
                cy = HEIGHT - PAD_BOTTOM - plot_h * v / top
                tip = escape(f"{labels[i]}: {name} {_number(v)}")
                body.append(
                    f'<circle class="dot {escape(cls)}" r="2.5" cx="{cx:.1f}" cy="{cy:.1f}">'
                    f"<title>{tip}</title></circle>"
                )
    body += _x_labels(labels, slot)
    return _frame(title, body, [(name, cls) for name, _, cls in series])


def hbars(
    title: str, labels: Sequence[str], values: Sequence[float], cls: str = "s1"
) -> SafeString:
    """Horizontal bars, one per label, longest first as given."""
    if not labels:
        return empty(title)
    row_h = 26
    height = PAD_TOP + row_h * len(labels) + 8
    label_w = 220
    plot_w = WIDTH - label_w - 70
    top = max(values) or 1
    body = []
    for i, (label, v) in enumerate(zip(labels, values, strict=True)):
        y = PAD_TOP + row_h * i
        w = plot_w * v / top
        shown = label if len(label) <= 32 else label[:31] + "…"
        body.append(_text("label", label_w - 8, y + 16, shown, "end"))
        body.append(_rect(cls, label_w, y + 4, max(w, 1), row_h - 8, f"{label}: {_number(v)}"))
        body.append(_text("value", label_w + w + 6, y + 16, f"{_number(v)}"))
    svg = (
        f'<svg class="chart chart-rows" viewBox="0 0 {WIDTH} {height}" role="img">'
        f"<title>{escape(title)}</title>{''.join(body)}</svg>"
    )
    return mark_safe(f'<figure class="chart-figure">{svg}</figure>')  # noqa: S308


def shares(
    title: str, rows: Sequence[tuple[str, Sequence[float]]], parts: Sequence[tuple[str, str]]
) -> SafeString:
    """A 100 % bar per row split into parts (name, css class), with the percentages written in."""
    if not rows:
        return empty(title)
    row_h = 30
    label_w = 110
    plot_w = WIDTH - label_w - 12
    height = PAD_TOP + row_h * len(rows) + 8
    body = []
    for i, (label, values) in enumerate(rows):
        y = PAD_TOP + row_h * i
        total = sum(values)
        body.append(_text("label", label_w - 8, y + 19, label, "end"))
        x = label_w
        for (name, cls), v in zip(parts, values, strict=True):
            w = plot_w * v / total if total else 0
            if w <= 0:
                continue
            share = 100 * v / total
            tip = f"{label}: {name} {share:.0f} % ({_number(v)})"
            body.append(_rect(cls, x, y + 4, w, row_h - 8, tip))
            if w > 34:
                body.append(_text("inbar", x + w / 2, y + 19, f"{share:.0f} %", "middle"))
            x += w
    svg = (
        f'<svg class="chart chart-rows" viewBox="0 0 {WIDTH} {height}" role="img">'
        f"<title>{escape(title)}</title>{''.join(body)}</svg>"
    )
    legend = "".join(
        f'<span class="legend-item"><span class="swatch {escape(cls)}"></span>{escape(name)}</span>'
        for name, cls in parts
    )
    return mark_safe(  # noqa: S308
        f'<figure class="chart-figure">{svg}<div class="chart-legend">{legend}</div></figure>'
    )


def empty(title: str) -> SafeString:
    return mark_safe(f'<p class="chart-empty">{escape(title)}: —</p>')  # noqa: S308
