"""A minimal, fast, deterministic .xlsx (SpreadsheetML) writer for plain tables.

Why not openpyxl for report.xlsx: on this kind of machine it writes about 15,000 cells a second
(a 100,000-contact run has millions of cells), and it stamps the wall clock into the file. The
report only needs values in sheets: inline strings, numbers, booleans and dates, a bold
frozen header. That is a few XML parts in a zip, written here with fixed entry times, so the
same run gives the same bytes. Cells never hold formulas (no `<f>` element is ever written).
openpyxl and python-calamine read these files back in the tests.
"""

from __future__ import annotations

import datetime as dt
import math
import re
import zipfile
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape as xml_escape

import numpy as np
import pandas as pd

_NS = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
_REL_NS = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
_PKG_REL_NS = "http://schemas.openxmlformats.org/package/2006/relationships"
_CT_NS = "http://schemas.openxmlformats.org/package/2006/content-types"
_CT = "application/vnd.openxmlformats-officedocument.spreadsheetml"
_HEAD = '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
_ILLEGAL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")
_EPOCH = dt.datetime(1899, 12, 30)
MAX_ROWS = 1_048_576  # Excel's rows per sheet

STYLES = (
    _HEAD + f'<styleSheet xmlns="{_NS}">'
    '<numFmts count="1"><numFmt numFmtId="164" formatCode="yyyy-mm-dd hh:mm:ss"/></numFmts>'
    '<fonts count="2"><font><sz val="11"/><name val="Calibri"/></font>'
    '<font><b/><sz val="11"/><name val="Calibri"/></font></fonts>'
    '<fills count="2"><fill><patternFill patternType="none"/></fill>'
    '<fill><patternFill patternType="gray125"/></fill></fills>'
    '<borders count="1"><border><left/><right/><top/><bottom/><diagonal/></border></borders>'
    '<cellStyleXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0"/></cellStyleXfs>'
    '<cellXfs count="3"><xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0"/>'
    '<xf numFmtId="164" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1"/>'
    '<xf numFmtId="0" fontId="1" fillId="0" borderId="0" xfId="0" applyFont="1"/></cellXfs>'
    '<cellStyles count="1"><cellStyle name="Normal" xfId="0" builtinId="0"/></cellStyles>'
    "</styleSheet>"
)


def column_letter(i: int) -> str:
    """0 -> A, 25 -> Z, 26 -> AA."""
    out = ""
    i += 1
    while i:
        i, r = divmod(i - 1, 26)
        out = chr(65 + r) + out
    return out


def _cell_xml(ref: str, value: Any, bold: bool = False) -> str:
    style = ' s="2"' if bold else ""
    if value is None:
        return ""
    if isinstance(value, bool):
        return f'<c r="{ref}" t="b"{style}><v>{int(value)}</v></c>'
    if isinstance(value, (int, float)):
        f = float(value)
        if math.isnan(f) or math.isinf(f):
            return ""
        return f'<c r="{ref}"{style}><v>{value!r}</v></c>'
    if isinstance(value, dt.datetime):
        if value.tzinfo is not None:
            value = value.astimezone(dt.UTC).replace(tzinfo=None)
        serial = (value - _EPOCH).total_seconds() / 86400
        return f'<c r="{ref}" s="1"><v>{serial!r}</v></c>'
    if isinstance(value, dt.date):
        serial = (dt.datetime(value.year, value.month, value.day) - _EPOCH).days
        return f'<c r="{ref}" s="1"><v>{serial}</v></c>'
    text = _ILLEGAL.sub("\ufffd", str(value))
    space = ' xml:space="preserve"' if text != text.strip() or "\n" in text else ""
    return f'<c r="{ref}" t="inlineStr"{style}><is><t{space}>{xml_escape(text)}</t></is></c>'


def sheet_xml(rows: Iterable[Sequence[Any]], *, header: bool) -> str:
    """One worksheet; with `header`, row 1 is bold and frozen."""
    parts = [_HEAD, f'<worksheet xmlns="{_NS}">']
    if header:
        parts.append(
            '<sheetViews><sheetView workbookViewId="0"><pane ySplit="1" topLeftCell="A2" '
            'activePane="bottomLeft" state="frozen"/></sheetView></sheetViews>'
        )
    parts.append("<sheetData>")
    letters: list[str] = []
    for r, row in enumerate(rows, start=1):
        if r > MAX_ROWS:
            break
        while len(letters) < len(row):
            letters.append(column_letter(len(letters)))
        bold = header and r == 1
        cells = "".join(_cell_xml(f"{letters[i]}{r}", v, bold) for i, v in enumerate(row))
        parts.append(f'<row r="{r}">{cells}</row>')
    parts.append("</sheetData></worksheet>")
    return "".join(parts)


def write_xlsx_package(path: Path, sheets: Sequence[tuple[str, str]], *, stamp: dt.date) -> None:
    """Zip (sheet name, worksheet xml) pairs into an .xlsx with fixed entry times."""
    n = len(sheets)
    content_types = (
        _HEAD + f'<Types xmlns="{_CT_NS}">'
        '<Default Extension="rels" '
        'ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
        '<Default Extension="xml" ContentType="application/xml"/>'
        f'<Override PartName="/xl/workbook.xml" ContentType="{_CT}.sheet.main+xml"/>'
        f'<Override PartName="/xl/styles.xml" ContentType="{_CT}.styles+xml"/>'
        + "".join(
            f'<Override PartName="/xl/worksheets/sheet{i}.xml" ContentType="{_CT}.worksheet+xml"/>'
            for i in range(1, n + 1)
        )
        + "</Types>"
    )
    root_rels = (
        _HEAD + f'<Relationships xmlns="{_PKG_REL_NS}">'
        f'<Relationship Id="rId1" Type="{_REL_NS}/officeDocument" Target="xl/workbook.xml"/>'
        "</Relationships>"
    )
    workbook = (
        _HEAD
        + f'<workbook xmlns="{_NS}" xmlns:r="{_REL_NS}"><sheets>'
        + "".join(
            f'<sheet name="{xml_escape(name, {chr(34): "&quot;"})}" sheetId="{i}" r:id="rId{i}"/>'
            for i, (name, _) in enumerate(sheets, start=1)
        )
        + "</sheets></workbook>"
    )
    wb_rels = (
        _HEAD
        + f'<Relationships xmlns="{_PKG_REL_NS}">'
        + "".join(
            f'<Relationship Id="rId{i}" Type="{_REL_NS}/worksheet" '
            f'Target="worksheets/sheet{i}.xml"/>'
            for i in range(1, n + 1)
        )
        + f'<Relationship Id="rId{n + 1}" Type="{_REL_NS}/styles" Target="styles.xml"/>'
        "</Relationships>"
    )
    parts = [
        ("[Content_Types].xml", content_types),
        ("_rels/.rels", root_rels),
        ("xl/workbook.xml", workbook),
        ("xl/_rels/workbook.xml.rels", wb_rels),
        ("xl/styles.xml", STYLES),
        *((f"xl/worksheets/sheet{i}.xml", xml) for i, (_, xml) in enumerate(sheets, start=1)),
    ]
    when = (max(stamp.year, 1980), stamp.month, stamp.day, 0, 0, 0)
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        for name, text in parts:
            info = zipfile.ZipInfo(name, date_time=when)
            info.compress_type = zipfile.ZIP_DEFLATED
            z.writestr(info, text.encode("utf-8"))


def _py(value: Any) -> Any:
    """A plain Python value for `_cell_xml` (numpy scalars, NA and NaT unwrapped)."""
    if value is None or value is pd.NA or value is pd.NaT:
        return None
    if hasattr(value, "item") and not isinstance(value, (str, bytes, dt.datetime)):
        return value.item()
    return value


def _column_cells(s: pd.Series, letter: str, refs: pd.Series) -> pd.Series:
    """The `<c>` elements of one column, built column-wise (fast), '' for empty cells."""
    prefix = '<c r="' + letter + refs
    na = s.isna().to_numpy()
    dtype = s.dtype
    if pd.api.types.is_bool_dtype(dtype):
        values = s.map({True: "1", False: "0"}).astype("object").fillna("")
        out = prefix + '" t="b"><v>' + values + "</v></c>"
    elif pd.api.types.is_numeric_dtype(dtype):
        f = s.astype("float64")
        na = na | ~np.isfinite(f.to_numpy())
        if pd.api.types.is_integer_dtype(dtype):
            values = s.astype("object").map(str)
        else:
            values = f.map(repr)
        out = prefix + '"><v>' + values.astype("object") + "</v></c>"
    elif pd.api.types.is_datetime64_any_dtype(dtype):
        t = s.dt.tz_convert("UTC").dt.tz_localize(None) if s.dt.tz is not None else s
        serial = (t - pd.Timestamp(_EPOCH)) / pd.Timedelta(days=1)
        out = prefix + '" s="1"><v>' + serial.map(repr).astype("object") + "</v></c>"
    elif isinstance(dtype, pd.StringDtype) or s.dropna().map(type).eq(str).all():
        text = s.astype("str").fillna("")
        text = text.str.replace(_ILLEGAL.pattern, "\ufffd", regex=True)
        for a, b in (("&", "&amp;"), ("<", "&lt;"), (">", "&gt;")):
            text = text.str.replace(a, b, regex=False)
        out = (
            prefix.astype("object")
            + '" t="inlineStr"><is><t xml:space="preserve">'
            + text.astype("object")
            + "</t></is></c>"
        )
    else:  # mixed Python objects: cell by cell
        cells = [_cell_xml(f"{letter}{r}", _py(v)) for r, v in zip(refs, s.tolist(), strict=True)]
        return pd.Series(cells, dtype="object")
    out = out.astype("object")
    out[na] = ""
    return out


def frame_sheet_xml(frame: pd.DataFrame, header: Sequence[str]) -> str:
    """A worksheet for a whole frame: bold frozen `header` row, then every row (column-wise)."""
    frame = frame.head(MAX_ROWS - 1).reset_index(drop=True)
    refs = pd.Series(range(2, len(frame) + 2), dtype="int64").astype(str).astype("object")
    head = "".join(_cell_xml(f"{column_letter(i)}1", h, True) for i, h in enumerate(header))
    rows = '<row r="' + refs + '">'
    for i in range(frame.shape[1]):
        rows = rows + _column_cells(frame.iloc[:, i], column_letter(i), refs)
    rows = rows + "</row>"
    return "".join(
        [
            _HEAD,
            f'<worksheet xmlns="{_NS}">',
            '<sheetViews><sheetView workbookViewId="0"><pane ySplit="1" topLeftCell="A2" '
            'activePane="bottomLeft" state="frozen"/></sheetView></sheetViews>',
            f'<sheetData><row r="1">{head}</row>',
            *rows.tolist(),
            "</sheetData></worksheet>",
        ]
    )
