"""Inline SVG charts for summary.html, drawn here so the page needs no script and no network.

Every piece of text that reaches the SVG goes through `escape`; numbers are formatted by us.
The SVG has no xmlns attribute (inline SVG in HTML5 does not need one), so the page holds no
http(s) reference at all.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence

import pandas as pd
from markupsafe import Markup, escape

GOOD, FAIR, POOR, NEUTRAL = "#2e7d32", "#f9a825", "#c62828", "#5c6bc0"
PALETTE = ("#3949ab", "#00897b", "#8e24aa", "#f4511e", "#6d4c41", "#039be5", "#c0ca33", "#d81b60")


def score_color(v: float | None) -> str:
    if v is None:
        return "#9e9e9e"
    return GOOD if v >= 0.9 else FAIR if v >= 0.75 else POOR


def _num(v: object) -> float | None:
    try:
        f = float(v)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return None
    return None if math.isnan(f) or math.isinf(f) else f


def score_bars(
    items: Sequence[tuple[str, float | None]], *, title: str, width: int = 640
) -> Markup:
    """One horizontal bar per (label, score 0..1), coloured by band; None shows as 'n/a'."""
    row, label_w, value_w = 26, 170, 64
    bar_w = width - label_w - value_w
    height = row * max(len(items), 1) + 8
    parts = [
        f'<svg class="chart" role="img" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" aria-label="{escape(title)}">',
        f"<title>{escape(title)}</title>",
    ]
    for i, (label, value) in enumerate(items):
        y = 4 + i * row
        v = _num(value)
        w = 0.0 if v is None else max(0.0, min(1.0, v)) * bar_w
        shown = "n/a" if v is None else f"{v:.1%}"
        parts.append(
            f'<text x="{label_w - 8}" y="{y + 17}" text-anchor="end" class="lbl">'
            f"{escape(_short(label, 26))}</text>"
            f'<rect x="{label_w}" y="{y + 3}" width="{bar_w}" height="18" fill="#eceff1"/>'
            f'<rect x="{label_w}" y="{y + 3}" width="{w:.1f}" height="18" '
            f'fill="{score_color(v)}"/>'
            f'<text x="{label_w + bar_w + 6}" y="{y + 17}" class="val">{escape(shown)}</text>'
        )
    parts.append("</svg>")
    return Markup("".join(parts))


def count_bars(
    items: Sequence[tuple[str, float]], *, title: str, width: int = 640, color: str = NEUTRAL
) -> Markup:
    """Horizontal bars of counts (or any non-negative numbers) scaled to the largest."""
    row, label_w, value_w = 24, 220, 90
    bar_w = width - label_w - value_w
    height = row * max(len(items), 1) + 8
    top = max((_num(v) or 0.0 for _, v in items), default=0.0) or 1.0
    parts = [
        f'<svg class="chart" role="img" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" aria-label="{escape(title)}">',
        f"<title>{escape(title)}</title>",
    ]
    for i, (label, value) in enumerate(items):
        y = 4 + i * row
        v = _num(value) or 0.0
        w = max(0.0, v) / top * bar_w
        shown = f"{v:,.0f}" if float(v).is_integer() else f"{v:,.2f}"
        parts.append(
            f'<text x="{label_w - 8}" y="{y + 16}" text-anchor="end" class="lbl">'
            f"{escape(_short(label, 28))}</text>"
            f'<rect x="{label_w}" y="{y + 3}" width="{w:.1f}" height="16" fill="{color}"/>'
            f'<text x="{label_w + w + 6:.1f}" y="{y + 16}" class="val">{escape(shown)}</text>'
        )
    parts.append("</svg>")
    return Markup("".join(parts))


def trend_lines(
    series: pd.DataFrame,
    *,
    title: str,
    width: int = 640,
    names: Mapping[str, str] | None = None,
) -> Markup:
    """Score per run (x) for overall and each dimension (one line each), 0..1 on y.

    `names` translates dimension names in the legend (labels of the report language).
    """
    names = names or {}
    if series.empty or series["run_id"].nunique() < 2:
        return Markup("")
    runs = list(dict.fromkeys(series["run_id"].astype(str)))
    dims = sorted(series["dimension"].astype(str).unique(), key=lambda d: (d != "overall", d))
    left, right, top, bottom = 44, 150, 10, 40
    height = 260
    pw, ph = width - left - right, height - top - bottom
    step = pw / max(len(runs) - 1, 1)

    def xy(i: int, v: float) -> tuple[float, float]:
        return left + i * step, top + (1 - max(0.0, min(1.0, v))) * ph

    parts = [
        f'<svg class="chart" role="img" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" aria-label="{escape(title)}">',
        f"<title>{escape(title)}</title>",
    ]
    for tick in (0.0, 0.25, 0.5, 0.75, 1.0):
        _, y = xy(0, tick)
        parts.append(
            f'<line x1="{left}" y1="{y:.1f}" x2="{left + pw}" y2="{y:.1f}" stroke="#e0e0e0"/>'
            f'<text x="{left - 6}" y="{y + 4:.1f}" text-anchor="end" class="tick">'
            f"{tick:.0%}</text>"
        )
    for i, run in enumerate(runs):
        x, _ = xy(i, 0)
        label = _run_label(run) if i < len(runs) - 1 else "now"
        parts.append(
            f'<text x="{x:.1f}" y="{height - bottom + 16}" text-anchor="middle" class="tick">'
            f"{escape(label)}</text>"
        )
    for k, dim in enumerate(dims):
        color = "#212121" if dim == "overall" else PALETTE[k % len(PALETTE)]
        sub = series[series["dimension"].astype(str) == dim]
        pts = []
        for i, run in enumerate(runs):
            vals = sub.loc[sub["run_id"].astype(str) == run, "score"]
            v = _num(vals.iloc[0]) if len(vals) else None
            if v is not None:
                pts.append(xy(i, v))
        if not pts:
            continue
        stroke = 3 if dim == "overall" else 1.6
        path = " ".join(f"{x:.1f},{y:.1f}" for x, y in pts)
        parts.append(
            f'<polyline points="{path}" fill="none" stroke="{color}" stroke-width="{stroke}"/>'
        )
        parts.extend(f'<circle cx="{x:.1f}" cy="{y:.1f}" r="2.5" fill="{color}"/>' for x, y in pts)
        ly = top + 14 + k * 18
        parts.append(
            f'<rect x="{left + pw + 12}" y="{ly - 9}" width="10" height="10" fill="{color}"/>'
            f'<text x="{left + pw + 26}" y="{ly}" class="lbl">'
            f"{escape(_short(names.get(dim, dim), 16))}</text>"
        )
    parts.append("</svg>")
    return Markup("".join(parts))


def _run_label(run_id: str) -> str:
    """'20260131T090512-1a2b3c' -> '01-31 09:05' (run ids are time-ordered)."""
    m = re.match(r"\d{4}(\d{2})(\d{2})T(\d{2})(\d{2})", run_id)
    return f"{m[1]}-{m[2]} {m[3]}:{m[4]}" if m else run_id[:11]


def _short(text: object, n: int) -> str:
    s = "" if text is None else str(text)
    return s if len(s) <= n else s[: n - 1] + "…"
