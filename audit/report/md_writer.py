"""summary.md: the run in Markdown, for a CI job summary ($GITHUB_STEP_SUMMARY) or a ticket.

Every value goes through `safe.md_escape`: no raw HTML, links or table breaks from the data.
"""

from __future__ import annotations

from pathlib import Path

from audit.changes import lines as change_lines
from audit.messages import band_name
from audit.report.context import ReportContext, writer
from audit.report.views import TableView, build_summary
from audit.review_store import learning_lines
from audit.safe import md_escape


def md_table(t: TableView, none: str, more: str = "{n} more rows in the CSV files") -> list[str]:
    if t.empty:
        return [f"_{md_escape(none)}_", ""]
    out = [
        "| " + " | ".join(md_escape(c) for c in t.columns) + " |",
        "| " + " | ".join("---:" if n else "---" for n in t.numeric) + " |",
    ]
    out += ["| " + " | ".join(md_escape(v) for v in row) + " |" for row in t.rows]
    if t.more:
        out.append(f"\n_… {md_escape(more.format(n=t.more))}_")
    return [*out, ""]


def _pct(v: float | None) -> str:
    return "n/a" if v is None else f"{v:.1%}"


def render_md(ctx: ReportContext) -> str:
    s = build_summary(ctx)
    L = ctx.labels
    e = md_escape
    verdict = L["passed"] if s.passed else L["failed"]
    icon = "✅" if s.passed else "❌"
    lines = [
        f"# {e(L['title'])}",
        "",
        f"{e(L['run'])} {e(s.run_id)} · {e(L['as_of'])} {e(s.as_of)}",
        "",
    ]
    if s.redacted:
        lines += [f"> {e(L['redacted'])}", ""]
    overall = _pct(s.overall) if s.overall is not None else L["overall_not_measured"]
    lines += [
        f"**{e(L['overall_score'])}: {e(overall)}** · {e(L['gate'])}: {icon} **{e(verdict)}**"
        f" · {e(L['issues'])}: {s.issues_total}",
        "",
        f"## {e(L['dimensions'])}",
        "",
    ]
    prev = {}
    if not s.trend.empty and "dimension" in s.trend.columns and "delta" in s.trend.columns:
        i, j = s.trend.columns.index("dimension"), s.trend.columns.index("delta")
        prev = {row[i]: row[j] for row in s.trend.rows}
    if s.dimensions:
        notes = dict(s.dimension_notes)
        lines += [
            f"| {e(L['dimension'])} | {e(L['score'])} | {e(L['delta'])} | {e(L['note'])} |",
            "| --- | ---: | ---: | --- |",
        ]
        lines += [
            f"| {e(L.get(d, d))} | {_pct(v)} | {e(prev.get(d, ''))} | {e(notes.get(d, ''))} |"
            for d, v in s.dimensions
        ]
        lines.append("")
    else:
        lines += [f"_{e(L['none'])}_", ""]
    lines += [f"## {e(L['gate'])}: {icon} {e(verdict)}", ""]
    for key in ("reasons", "warnings"):
        items = s.verdict.get(key) or []
        if items:
            lines += [f"**{e(L[key])}**", ""] + [f"- {e(r)}" for r in items] + [""]
    if s.verdict.get("quick_wins"):
        lines += [f"**{e(L['quick_wins'])}**", ""]
        lines += [f"{i}. {e(r)}" for i, r in enumerate(s.verdict["quick_wins"], 1)] + [""]
    if s.withheld:
        lines += [f"**{e(L['withheld_kpis'])}**", ""]
        lines += [f"- **{e(k)}**: {e(why)}" for k, why in s.withheld] + [""]
    lines += [f"## {e(L['issues'])} ({s.issues_total})", ""]
    if s.issues_by_dimension:
        lines += [f"| {e(L['dimension'])} | {e(L['count'])} |", "| --- | ---: |"]
        lines += [f"| {e(L.get(d, d))} | {n} |" for d, n in s.issues_by_dimension] + [""]
    lines += md_table(s.issues_by_rule, L["no_issues"], L["more_rows"])
    if s.bounce_counts["n"]:
        lines += [f"## {e(L['bounces'])}", "", e(L["bounce_counts"].format(**s.bounce_counts)), ""]
        lines += [
            f"### {e(L['dead_addresses'])}",
            "",
            *md_table(s.dead_addresses, L["none"], L["more_rows"]),
        ]
    d = s.duplicates
    by_band = (d.get("by_band") or {}).items()
    bands = ", ".join(f"{e(band_name(k, ctx.language))} {v}" for k, v in by_band)
    lines += [
        f"## {e(L['duplicates'])}",
        "",
        f"{e(L['pairs'])}: **{d.get('n_pairs', 0)}**"
        + (f" ({bands})" if bands else "")
        + f" · {e(L['clusters'])}: **{d.get('n_clusters', 0)}**"
        + f" · {e(L['records_in_clusters'])}: **{d.get('n_records_in_clusters', 0)}**",
        "",
        f"## {e(L['kpis'])}",
        "",
    ]
    lines += md_table(
        s.kpis if s.kpis_computed else TableView([], [], []), L["no_kpis"], L["more_rows"]
    )
    if not s.impact.empty:
        lines += [f"### {e(L['impact'])}", "", *md_table(s.impact, L["none"], L["more_rows"])]
    if not s.trend.empty:
        lines += [f"## {e(L['trend'])}", "", *md_table(s.trend, L["no_history"], L["more_rows"])]
    changes = ctx.run.get("changes") or {}
    if changes:
        lines += [f"## {e(L['changes'])} ({e(changes.get('previous_run_id', ''))})", ""]
        more = learning_lines(ctx.run.get("decisions"), ctx.language)
        said = change_lines(changes, language=ctx.language) + more
        lines += [f"- {e(line.strip())}" for line in said] + [""]
    if not s.by_source.empty:
        lines += [f"## {e(L['by_source'])}", "", *md_table(s.by_source, L["none"], L["more_rows"])]
    if not s.by_owner.empty:
        lines += [f"## {e(L['by_owner'])}", "", *md_table(s.by_owner, L["none"], L["more_rows"])]
    return "\n".join(lines).rstrip() + "\n"


@writer("md", suffix=".md")
def write_md(ctx: ReportContext, out_dir: Path) -> list[Path]:
    """summary.md for CI job summaries: score, dimensions, gate, issues, duplicates, KPIs."""
    path = out_dir / "summary.md"
    path.write_text(render_md(ctx), encoding="utf-8")
    return [path]
