"""report.xlsx: the summary and the main tables as sheets, for people who live in Excel.

A workbook a person can open at any size: each sheet holds at most `MAX_SHEET_ROWS` rows (the
top findings: errors first, pairs to review first). A sheet that is cut says so in its first
line, with how many rows are left out and a link to the run folder's file that holds all of
them; the `files` sheet lists every table of the run folder with its row count and a link.
A 1M-contact run has millions of issue rows: as sheets they made a 275 MB workbook that Excel
could not use, while the CSV/Parquet files beside it already hold every row.

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

import numpy as np
import pandas as pd

from audit import safe
from audit.report.context import ReportContext, writer
from audit.report.run_folder import table_file
from audit.report.views import build_summary
from audit.xlsx import Sheet
from audit.xlsx import write_xlsx as write_workbook

MAX_SHEET_ROWS = 10_000  # rows per sheet; the run folder's files hold every row
_SEVERITY_RANK = {"error": 0, "warning": 1, "info": 2}
_BAND_RANK = {"review": 0, "auto": 1, "no": 2}
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


def _top(name: str, frame: pd.DataFrame, n: int) -> pd.DataFrame:
    """The `n` rows a person should see first: errors before warnings, pairs to review first.

    Only those rows are taken: the whole table reordered was a copy of every issue (millions
    of rows at 1M contacts) to keep 10,000 of them."""
    if name == "issues" and "severity" in frame.columns:
        rank = _ranks(frame["severity"], _SEVERITY_RANK)
        return frame.iloc[rank.argsort(kind="stable")[:n]]
    if name == "duplicates" and "band" in frame.columns:
        band = _ranks(frame["band"], _BAND_RANK)
        score = frame["score"].to_numpy(dtype="float64", na_value=0.0) if "score" in frame else 0
        order = pd.DataFrame({"b": band, "s": -score}).sort_values(["b", "s"], kind="stable")
        return frame.iloc[order.index.to_numpy()[:n]]
    return frame.head(n)


def _ranks(col: pd.Series, ranks: dict[str, int]) -> np.ndarray:
    """`ranks[value]` per row (3 for any other value or a missing one), looked up once per
    distinct value: the column as Python text was a string per row."""
    codes, uniques = pd.factorize(col, use_na_sentinel=True)
    table = np.array([float(ranks.get(u, 3)) for u in list(uniques)] + [3.0])
    return table[codes]  # a missing value's code is -1: the last entry


def _frame_sheet(
    title: str, name: str, frame: pd.DataFrame, used: set[str], labels: dict[str, str]
) -> Sheet:
    sheet = _sheet_name(title, used)
    if frame.columns.empty:
        return Sheet(sheet)
    header = [_cell(str(c)) for c in frame.columns]
    total = len(frame)
    if total <= MAX_SHEET_ROWS:
        return Sheet(sheet, safe.neutralize_frame(frame), header=header)
    shown = _top(name, frame, MAX_SHEET_ROWS)
    file = table_file(name)
    note = labels["xlsx_cut"].format(shown=len(shown), total=total, more=total - len(shown))
    return Sheet(
        sheet,
        safe.neutralize_frame(shown.reset_index(drop=True)),
        header=header,
        title=_cell(f"{note} {file}"),
        links=[("A1", file)],
    )


def _files_sheet(ctx: ReportContext, used: set[str], shown: dict[str, int]) -> Sheet:
    """Every table of the run folder: rows, how many this workbook shows, and a link."""
    L = ctx.labels
    header = [L["xlsx_table"], L["xlsx_rows"], L["xlsx_in_workbook"], L["xlsx_file"]]
    rows, links = [], []
    for name in sorted(ctx.tables):
        frame = ctx.tables[name]
        if frame.columns.empty:
            continue
        file = table_file(name)
        n = shown.get(name)
        rows.append([name, len(frame), n if n is not None else 0, file])
        links.append((f"D{len(rows) + 1}", file))
    return Sheet(
        _sheet_name("files", used), rows, header=header, widths=[24, 12, 14, 40], links=links
    )


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


_DOC_DATES = re.compile(r"(<dcterms:(created|modified)[^>]*>)([^<]*)(</dcterms:\2>)")


def freeze_xlsx(path: Path, as_of: str) -> None:
    """Rewrite the xlsx zip with fixed entry times and document dates (byte-identical runs).

    A workbook that has them already (`audit.xlsx` wrote it with this stamp) is left as it
    is: rewriting it gave the same bytes, re-compressing every sheet to get them."""
    stamp = _as_of_date(as_of)
    when = f"{stamp.isoformat()}T00:00:00Z"
    if _frozen(path, (stamp.year, stamp.month, stamp.day, 0, 0, 0), when):
        return
    src = io.BytesIO(path.read_bytes())
    out = io.BytesIO()
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zout:
        for info in zin.infolist():
            data = zin.read(info.filename)
            if info.filename == "docProps/core.xml":
                text = data.decode("utf-8")
                text = _DOC_DATES.sub(lambda m: m.group(1) + when + m.group(4), text)
                data = text.encode("utf-8")
            fixed = zipfile.ZipInfo(
                info.filename, date_time=(stamp.year, stamp.month, stamp.day, 0, 0, 0)
            )
            fixed.compress_type = zipfile.ZIP_DEFLATED
            fixed.external_attr = info.external_attr
            zout.writestr(fixed, data)
    path.write_bytes(out.getvalue())


def _frozen(path: Path, date_time: tuple[int, ...], when: str) -> bool:
    """Whether every entry of the zip has `date_time`, is deflated, and the document dates
    are `when` (read from the zip's directory and docProps/core.xml only)."""
    with zipfile.ZipFile(path) as z:
        infos = z.infolist()
        if any(i.date_time != date_time or i.compress_type != zipfile.ZIP_DEFLATED for i in infos):
            return False
        if "docProps/core.xml" not in z.namelist():
            return True
        core = z.read("docProps/core.xml").decode("utf-8")
    return all(m.group(3) == when for m in _DOC_DATES.finditer(core))


@writer("xlsx", suffix=".xlsx")
def write_xlsx(ctx: ReportContext, out_dir: Path) -> list[Path]:
    """report.xlsx: summary, issues, duplicates, clusters, kpis, scores and the other tables."""
    used: set[str] = {"files"}  # the last sheet's name, kept free
    summary = [[_cell(v) for v in row] for row in _summary_rows(ctx)]
    sheets = [Sheet(_sheet_name("summary", used), summary)]
    shown: dict[str, int] = {}
    wanted = [
        (title, name)
        for title, name in SHEETS
        if title in ("issues", "duplicates", "clusters", "kpis", "scores") or name in ctx.tables
    ]
    wanted += [("r_" + n.split("/", 1)[1], n) for n in ctx.names("breakdowns/")]
    for title, name in wanted:
        frame = ctx.table(name)
        sheets.append(_frame_sheet(title, name, frame, used, ctx.labels))
        shown[name] = min(len(frame), MAX_SHEET_ROWS)
    used.discard("files")
    sheets.append(_files_sheet(ctx, used, shown))
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
