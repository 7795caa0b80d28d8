"""summary.html: one self-contained page (inline CSS and SVG, no script, no network)."""

from __future__ import annotations

import re
from pathlib import Path

import jinja2

from audit.changes import lines as change_lines
from audit.messages import band_name
from audit.report import charts
from audit.report.context import ReportContext, writer
from audit.report.views import Summary, build_summary
from audit.review_store import learning_lines

_SAFE_HREF = re.compile(r"[\w\-./]+")


def _environment() -> jinja2.Environment:
    return jinja2.Environment(
        loader=jinja2.PackageLoader("audit.report", "templates"),
        autoescape=True,
        undefined=jinja2.ChainableUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )


def render_html(ctx: ReportContext) -> str:
    s: Summary = build_summary(ctx)
    s.files = [f for f in s.files if _SAFE_HREF.fullmatch(f) and ".." not in f]
    L = ctx.labels
    dims = [(L.get(d, d), v) for d, v in s.dimensions]
    has_history = bool((ctx.run.get("history") or {}).get("previous"))
    template = _environment().get_template("summary.html.j2")
    changes = ctx.run.get("changes") or {}
    return template.render(
        s=s,
        changes=change_lines(changes, language=ctx.language)
        + learning_lines(ctx.run.get("decisions"), ctx.language),
        changes_since=changes.get("previous_run_id", ""),
        L=L,
        lang=ctx.language,
        band=lambda b: band_name(str(b), ctx.language),
        has_history=has_history,
        pct=lambda v: "n/a" if v is None else f"{v:.1%}",
        color=charts.score_color,
        dim_chart=charts.score_bars(dims, title=L["dimensions"]),
        trend_chart=charts.trend_lines(s.series, title=L["trend"], names=L),
        issues_chart=charts.count_bars(
            [(L.get(d, d), n) for d, n in s.issues_by_dimension], title=L["issues_by_dimension"]
        ),
        bar=lambda items, name: charts.count_bars(items, title=name),
    )


@writer("html", suffix=".html")
def write_html(ctx: ReportContext, out_dir: Path) -> list[Path]:
    """summary.html, self-contained: score, trend, gate, issues, duplicates, KPIs, reports."""
    path = out_dir / "summary.html"
    path.write_text(render_html(ctx), encoding="utf-8")
    return [path]
