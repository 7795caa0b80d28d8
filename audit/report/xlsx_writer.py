"""report.xlsx: the summary and the main tables as sheets, for people who live in Excel.

Cells go through `safe.neutralize` (no formula can start a cell; none is ever written either),
characters Excel cannot store are replaced by U+FFFD, datetimes are written as naive UTC (Excel
has no time zones). `audit.xlsx` writes the file with fixed zip entry times, so identical runs
give identical bytes; `freeze_xlsx` does the same afterwards for xlsx files made by openpyxl
(the merge review's).
"""

from __future__ import annotations

import datetime as dt
import io
import math
import re
import zipfile
from pathlib import Path
from typing import Any

import pandas as pd

from audit import safe
from audit.report.context import ReportContext, writer
from audit.report.views import build_summary
from audit.xlsx import Sheet
from audit.xlsx import write_xlsx as write_workbook

MAX_ROWS = 1_048_575  # Excel's sheet limit, minus the header (the CSV files hold every row)
_ILLEGAL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")
_SHEET_BAD = re.compile(r"[\[\]:*?/\\]")


def _cell(value: Any) -> Any:
    if value is None or value is pd.NA or value is pd.NaT:
        return None
    if isinstance(value, pd.Timestamp):
        if value.tzinfo is not None:
            value = value.tz_convert("UTC").tz_localize(None)
        return value.to_pydatetime()
    if isinstance(value, dt.datetime) and value.tzinfo is not None:
        return value.astimezone(dt.UTC).replace(tzinfo=None)
    if hasattr(value, "item") and not isinstance(value, (str, bytes)):
        value = value.item()
    if isinstance(value, float) and (math.isnan(value) or math.isinf(value)):
        return None
    if isinstance(value, str):
        return safe.neutralize(_ILLEGAL.sub("\ufffd", value))
    if isinstance(value, (int, float, bool, dt.date, dt.datetime)):
        return value
    return safe.neutralize(_ILLEGAL.sub("\ufffd", str(value)))


def _sheet_name(name: str, used: set[str]) -> str:
    base = _SHEET_BAD.sub("_", name)[:31] or "sheet"
    out, i = base, 2
    while out.lower() in used:
        suffix = f"~{i}"
        out, i = base[: 31 - len(suffix)] + suffix, i + 1
    used.add(out.lower())
    return out


def _frame_sheet(title: str, frame: pd.DataFrame, used: set[str]) -> Sheet:
    name = _sheet_name(title, used)
    if frame.columns.empty:
        return Sheet(name)
    header = [_cell(str(c)) for c in frame.columns]
    return Sheet(name, safe.neutralize_frame(frame.head(MAX_ROWS)), header=header)


def _summary_rows(ctx: ReportContext) -> list[list[Any]]:
    s, L = build_summary(ctx), ctx.labels
    notes = dict(s.dimension_notes)
    rows: list[list[Any]] = [
        [L["title"]],
        [L["run"], s.run_id],
        [L["as_of"], s.as_of],
        [L["overall_score"], s.overall if s.overall is not None else L["overall_not_measured"]],
        [L["gate"], L["passed"] if s.passed else L["failed"]],
        [L["issues"], s.issues_total],
        [],
        [L["dimension"], L["score"], L["note"]],
        *[
            [L.get(d, d), v if v is not None else L["not_measured"], notes.get(d, "")]
            for d, v in s.dimensions
        ],
    ]
    for key in ("reasons", "warnings", "quick_wins"):
        items = s.verdict.get(key) or []
        if items:
            rows += [[], [L[key]], *[[r] for r in items]]
    if s.withheld:
        rows += [[], [L["withheld_kpis"]], *[[k, why] for k, why in s.withheld]]
    d = s.duplicates
    rows += [
        [],
        [L["duplicates"]],
        [L["pairs"], d.get("n_pairs", 0)],
        [L["clusters"], d.get("n_clusters", 0)],
        [L["records_in_clusters"], d.get("n_records_in_clusters", 0)],
    ]
    if s.redacted:
        rows += [[], [L["redacted"]]]
    return rows


def freeze_xlsx(path: Path, as_of: str) -> None:
    """Rewrite the xlsx zip with fixed entry times and document dates (byte-identical runs)."""
    stamp = _as_of_date(as_of)
    when = f"{stamp.isoformat()}T00:00:00Z"
    src = io.BytesIO(path.read_bytes())
    out = io.BytesIO()
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zout:
        for info in zin.infolist():
            data = zin.read(info.filename)
            if info.filename == "docProps/core.xml":
                text = data.decode("utf-8")
                text = re.sub(
                    r"(<dcterms:(created|modified)[^>]*>)[^<]*(</dcterms:\2>)",
                    lambda m: m.group(1) + when + m.group(3),
                    text,
                )
                data = text.encode("utf-8")
            fixed = zipfile.ZipInfo(
                info.filename, date_time=(stamp.year, stamp.month, stamp.day, 0, 0, 0)
            )
            fixed.compress_type = zipfile.ZIP_DEFLATED
            fixed.external_attr = info.external_attr
            zout.writestr(fixed, data)
    path.write_bytes(out.getvalue())


@writer("xlsx", suffix=".xlsx")
def write_xlsx(ctx: ReportContext, out_dir: Path) -> list[Path]:
    """report.xlsx: summary, issues, duplicates, clusters, kpis, scores and the other tables."""
    used: set[str] = set()
    summary = [[_cell(v) for v in row] for row in _summary_rows(ctx)]
    sheets = [Sheet(_sheet_name("summary", used), summary)]
    for title, name in SHEETS:
        if title in ("issues", "duplicates", "clusters", "kpis", "scores") or name in ctx.tables:
            sheets.append(_frame_sheet(title, ctx.table(name), used))
    for name in ctx.names("breakdowns/"):
        sheets.append(_frame_sheet("r_" + name.split("/", 1)[1], ctx.tables[name], used))
    path = out_dir / "report.xlsx"
    stamp = dt.datetime.combine(_as_of_date(str(ctx.run.get("as_of", ""))), dt.time())
    write_workbook(path, sheets, stamp=stamp)
    return [path]


def _as_of_date(text: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text[:10])
    except ValueError:
        return dt.date(2000, 1, 1)


SHEETS = [
    ("issues", "issues"),
    ("duplicates", "duplicates"),
    ("clusters", "clusters"),
    ("golden", "golden"),
    ("kpis", "kpis"),
    ("scores", "scores/by_dimension"),
    ("by_source", "scores/by_source"),
    ("by_owner", "scores/by_owner"),
    ("by_rule", "scores/by_rule"),
    ("by_field", "scores/by_field"),
    ("inventory", "scores/inventory"),
    ("trend", "scores/trend"),
    ("impact", "impact"),
    ("bounces", "bounces"),
    ("ingest", "ingest"),
]
