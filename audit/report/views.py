"""The summary as plain data, shared by the HTML, Markdown and XLSX summaries.

Building it once keeps the three human-facing formats saying the same thing. Every section is
defensive: a stage that produced nothing (empty frame, missing extra) yields an empty section,
never an error, because the report is written for failed and partial runs too.
"""

from __future__ import annotations

import copy
import datetime as dt
import math
import weakref
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from audit.messages import localize
from audit.report.context import ReportContext
from audit.report.l10n import localize_kpi_frame, localize_verdict, message_column
from audit.report.run_folder import table_path

# columns that hold a share whatever its size (attainment 1.8 is 180%) ...
_ALWAYS_PERCENT = ("rate", "share", "ratio", "attainment", "pct", "percent", "probability", "fill")
# ... and columns that hold a 0..1 score (shown as % only inside -1..1: NPS is a score too)
_SCORE_WORDS = ("score", "current", "previous", "best", "worst", "pass", "risk", "health")
_SCORE_EXACT = {"completeness", "validity", "uniqueness", "freshness", "consistency"}
_SCORE_EXACT |= {"integrity", "overall", "sim"}
MAX_ROWS = 50
# columns whose number is in the row's `unit` (KPI values and the raw-vs-clean impact)
_UNIT_COLUMNS = frozenset({"value", "raw", "clean", "raw_value", "clean_value", "delta"})
# KPI columns shown in the summaries (the CSV and XLSX keep every column)
KPI_SUMMARY_COLUMNS = ["kpi_id", "title", "period", "value", "unit", "n", "variant", "status"]
KPI_SUMMARY_COLUMNS += ["note"]


def _percent_kind(col: str) -> str | None:
    c = col.lower()
    if any(w in c for w in _ALWAYS_PERCENT):
        return "always"
    if c in _SCORE_EXACT or c.startswith("sim_") or any(w in c for w in _SCORE_WORDS):
        return "range"
    return None


def fmt(value: Any, col: str = "", unit: str | None = None) -> str:
    """One cell as text: percentages for 0..1 scores, dates without clutter, '' for missing."""
    if value is None or value is pd.NA or value is pd.NaT:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, (pd.Timestamp, dt.datetime)):
        if value.hour == value.minute == value.second == 0:
            return value.strftime("%Y-%m-%d")
        return value.strftime("%Y-%m-%d %H:%M")
    if isinstance(value, dt.date):
        return value.isoformat()
    if hasattr(value, "item") and not isinstance(value, str):
        value = value.item()
    if isinstance(value, float):
        if math.isnan(value) or math.isinf(value):
            return ""
        ratio_unit = unit in ("ratio", "percent", "share")
        if col.lower() == "delta" and (ratio_unit or (unit is None and -1.0 <= value <= 1.0)):
            return f"{value * 100:+.1f} pt"
        kind = _percent_kind(col) if unit is None else None
        if ratio_unit or kind == "always" or (kind == "range" and -1.0 <= value <= 1.0):
            return f"{value:.1%}"
        if col.lower() == "delta":
            return f"{value:+.3g}"
        if value.is_integer():
            return f"{int(value):,}"
        return f"{value:,.2f}" if abs(value) >= 100 else f"{value:.4g}"
    if isinstance(value, int):
        return str(value)
    text = str(value)
    return text if len(text) <= 240 else text[:239] + "…"


@dataclass(frozen=True)
class TableView:
    columns: list[str]
    rows: list[list[str]]
    numeric: list[bool]
    more: int = 0

    @property
    def empty(self) -> bool:
        return not self.rows


def table_view(
    frame: pd.DataFrame | None,
    *,
    max_rows: int = MAX_ROWS,
    columns: list[str] | None = None,
    unit_col: str | None = None,
) -> TableView:
    if frame is None or not isinstance(frame, pd.DataFrame) or frame.empty:
        return TableView([], [], [])
    cols = [c for c in (columns or list(frame.columns)) if c in frame.columns]
    head = frame.head(max_rows)
    units = head[unit_col].tolist() if unit_col and unit_col in head else [None] * len(head)
    rows = []
    for (_, r), unit in zip(head.iterrows(), units, strict=True):
        rows.append([fmt(r[c], str(c), unit if str(c) in _UNIT_COLUMNS else None) for c in cols])
    numeric = [pd.api.types.is_numeric_dtype(frame[c]) for c in cols]
    return TableView([str(c) for c in cols], rows, numeric, max(0, len(frame) - max_rows))


@dataclass
class Summary:
    run_id: str
    as_of: str
    redacted: bool
    overall: float | None
    passed: bool
    dimensions: list[tuple[str, float | None]]
    dimension_notes: list[tuple[str, str]]  # (dimension, why it is n/a) for unmeasured ones
    bounce_counts: dict[str, int]  # messages, hard, soft
    dead_addresses: TableView  # hard-bounced recipients: the addresses to stop mailing
    verdict: dict[str, Any]
    trend: TableView
    series: pd.DataFrame
    issues_total: int
    issues_by_dimension: list[tuple[str, int]]
    issues_by_severity: list[tuple[str, int]]
    issues_by_rule: TableView
    duplicates: dict[str, Any]
    top_pairs: TableView
    kpis: TableView
    kpis_computed: bool
    withheld: list[tuple[str, str]]
    impact: TableView
    breakdowns: list[tuple[str, TableView, list[tuple[str, float]]]]
    inventory: TableView
    by_source: TableView
    by_owner: TableView
    by_rule: TableView
    ingest: TableView
    contract: list[tuple[str, str]]
    files: list[str] = field(default_factory=list)


def _num(v: Any) -> float | None:
    try:
        f = float(v)
    except (TypeError, ValueError):
        return None
    return None if math.isnan(f) else f


def _issues_by_rule(issues: pd.DataFrame, local: str = "message") -> pd.DataFrame:
    """One row per rule; the message in the report's language when the table has it."""
    if issues.empty or "rule_id" not in issues:
        return pd.DataFrame()
    if local in issues.columns:
        issues = issues.assign(message=issues[local])
    work = issues.astype("object").where(issues.notna(), None)
    rows = []
    for rule_id, g in work.groupby(work["rule_id"].fillna(""), sort=True):
        first = g.iloc[0]
        example = first.get("value")
        example = example if example not in (None, "") else first.get("message")
        rows.append(
            {
                "rule_id": rule_id,
                "dimension": first.get("dimension"),
                "severity": first.get("severity"),
                "count": len(g),
                "example": example,
                "message": first.get("message"),
            }
        )
    out = pd.DataFrame(rows)
    return out.sort_values(["count", "rule_id"], ascending=[False, True], kind="stable")


def _by_source_wide(frame: pd.DataFrame) -> pd.DataFrame:
    """by_source is long (source, dimension, score): one row per source reads better."""
    if frame.empty or not {"source", "dimension", "score"} <= set(frame.columns):
        return frame
    wide = frame.pivot_table(
        index="source", columns="dimension", values="score", aggfunc="first", sort=True
    )
    wide.columns = [str(c) for c in wide.columns]
    return wide.reset_index()


def _impact_frame(impact: Any) -> pd.DataFrame:
    if isinstance(impact, pd.DataFrame):
        return impact
    if isinstance(impact, list) and all(isinstance(r, dict) for r in impact):
        return pd.DataFrame(impact)
    if isinstance(impact, dict) and impact:
        vals = list(impact.values())
        if all(isinstance(v, dict) for v in vals):
            return pd.DataFrame([{"kpi_id": k, **v} for k, v in sorted(impact.items())])
        return pd.DataFrame({"item": list(impact), "value": [str(v) for v in vals]})
    return pd.DataFrame()


def _chart_items(frame: pd.DataFrame) -> list[tuple[str, float]]:
    """A bar per row when the table is a label column plus a numeric one (first of each)."""
    if frame.empty or len(frame) > 30:
        return []
    labels = [c for c in frame.columns if not pd.api.types.is_numeric_dtype(frame[c])]
    nums = [c for c in frame.columns if pd.api.types.is_numeric_dtype(frame[c])]
    if not labels or not nums:
        return []
    lab, num = labels[0], nums[0]
    out = []
    for a, b in zip(frame[lab], frame[num], strict=True):
        v = _num(b)
        if v is None or v < 0:
            return []
        out.append((fmt(a, str(lab)), v))
    return out


def _contract(contract: Any) -> list[tuple[str, str]]:
    if not isinstance(contract, dict):
        return []
    out = []
    for k, v in sorted(contract.items()):
        if isinstance(v, (str, int, float, bool)) or v is None:
            out.append((str(k), fmt(v, str(k))))
        elif isinstance(v, dict) and all(
            isinstance(x, (str, int, float, bool)) or x is None for x in v.values()
        ):
            out.extend((f"{k}.{k2}", fmt(x, str(k2))) for k2, x in sorted(v.items()))
    return out[:40]


_CACHE: weakref.WeakKeyDictionary[ReportContext, Summary] = weakref.WeakKeyDictionary()


def build_summary(ctx: ReportContext) -> Summary:
    """The summary of `ctx`, built once and shared by the html, md and xlsx writers."""
    if ctx not in _CACHE:
        _CACHE[ctx] = _build_summary(ctx)
    return copy.copy(_CACHE[ctx])


def _build_summary(ctx: ReportContext) -> Summary:
    run = ctx.run
    scores = run.get("scores") or {}
    by_dim = ctx.table("scores/by_dimension")
    dims: list[tuple[str, float | None]] = []
    if {"dimension", "score"} <= set(by_dim.columns):
        dims = [
            (str(d), _num(s)) for d, s in zip(by_dim["dimension"], by_dim["score"], strict=True)
        ]
    notes: list[tuple[str, str]] = []
    if {"dimension", "score", "note"} <= set(by_dim.columns):
        notes = [
            (str(d), localize(str(n), ctx.language))
            for d, s, n in zip(by_dim["dimension"], by_dim["score"], by_dim["note"], strict=True)
            if _num(s) is None and isinstance(n, str) and n
        ]
    bounces = ctx.table("bounces")
    kind = (
        bounces["classification"].astype("object").fillna("").astype(str)
        if "classification" in bounces
        else pd.Series(dtype=str)
    )
    dead = bounces[kind.eq("hard")] if len(kind) else bounces
    dead_cols = ["recipient", "status", "reason", "date", "source_file"]
    verdict = localize_verdict(run.get("verdict") or {}, ctx.language)
    issues_meta = run.get("issues") or {}
    pairs = ctx.table("duplicates")
    top = pairs
    if "score" in pairs.columns:
        top = pairs.sort_values("score", ascending=False, kind="stable")
    pair_cols = [
        c for c in top.columns if c in ("record_id_l", "record_id_r", "score", "band", "rule_id")
    ] + [c for c in top.columns if str(c).startswith("sim_")][:6]
    kpis = localize_kpi_frame(ctx.table("kpis"), ctx.language)
    files = [
        table_path(n)
        for n in ctx.tables
        if not n.startswith("records/") and not ctx.tables[n].empty
    ]
    files += [f"records/{n.split('/', 1)[1]}.csv" for n in ctx.names("records/")]
    breakdowns = []
    for name in ctx.names("breakdowns/"):
        frame = ctx.tables[name]
        breakdowns.append((name.split("/", 1)[1], table_view(frame), _chart_items(frame)))
    return Summary(
        run_id=str(run.get("run_id", "")),
        as_of=str(run.get("as_of", "")),
        redacted=ctx.redact,
        overall=_num(scores.get("overall")),
        passed=bool(verdict.get("passed", False)),
        dimensions=dims,
        dimension_notes=notes,
        bounce_counts={
            "n": len(bounces),
            "hard": int(kind.eq("hard").sum()),
            "soft": int(kind.eq("soft").sum()),
        },
        dead_addresses=table_view(dead, columns=dead_cols, max_rows=100),
        verdict=verdict,
        trend=table_view(ctx.table("scores/trend")),
        series=ctx.table("scores/series"),
        issues_total=int(issues_meta.get("total", len(ctx.table("issues")))),
        issues_by_dimension=sorted(
            ((str(k) or "?", int(v)) for k, v in (issues_meta.get("by_dimension") or {}).items()),
            key=lambda kv: (-kv[1], kv[0]),
        ),
        issues_by_severity=sorted(
            ((str(k) or "?", int(v)) for k, v in (issues_meta.get("by_severity") or {}).items()),
            key=lambda kv: (-kv[1], kv[0]),
        ),
        issues_by_rule=table_view(
            _issues_by_rule(ctx.table("issues"), message_column(ctx.language)), max_rows=40
        ),
        duplicates=run.get("duplicates") or {},
        top_pairs=table_view(top, columns=pair_cols, max_rows=10),
        kpis=table_view(
            kpis,
            unit_col="unit",
            columns=[c for c in KPI_SUMMARY_COLUMNS if c in kpis.columns] or None,
        ),
        kpis_computed=run.get("kpis") is not None,
        withheld=sorted((str(k), str(v)) for k, v in (verdict.get("withheld_kpis") or {}).items()),
        impact=table_view(
            localize_kpi_frame(
                ctx.table("impact") if "impact" in ctx.tables else _impact_frame(run.get("impact")),
                ctx.language,
            ),
            unit_col="unit",
        ),
        breakdowns=breakdowns,
        inventory=table_view(ctx.table("scores/inventory"), max_rows=80),
        by_source=table_view(_by_source_wide(ctx.table("scores/by_source"))),
        by_owner=table_view(ctx.table("scores/by_owner")),
        by_rule=table_view(ctx.table("scores/by_rule")),
        ingest=table_view(ctx.table("ingest")),
        contract=_contract(run.get("contract")),
        files=sorted(set(files)),
    )
