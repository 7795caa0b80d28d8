"""The one .xlsx writer: fast, byte-deterministic SpreadsheetML for every workbook crm-audit makes.

Why not openpyxl: on this kind of machine it writes about 15,000 cells a second (a 100,000-contact
run has millions of cells) and it stamps the wall clock into the zip and the document properties.
What report.xlsx, merge_proposals.xlsx and the demo workbook need is small: typed cells (text,
numbers, booleans, dates, datetimes), a bold frozen header, a merged title row, shaded rows, a
list validation (dropdown) on one column, column widths and an autofilter. That is a handful of
XML parts in a zip written with fixed entry times, so the same input gives the same bytes.

Text is always a string cell (inline or shared): no `<f>` element is ever written, so a value
that starts with '=' stays text. Whole DataFrames take a column-wise path (whole columns turned
into XML with vectorised string operations), rows of Python values a cell-by-cell one.
A leaf module like `audit.text`: no project imports.
"""

from __future__ import annotations

import datetime as dt
import math
import re
import zipfile
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape

import numpy as np
import pandas as pd

MAX_ROWS = 1_048_576  # Excel's rows per sheet
FIXED_STAMP = dt.datetime(2020, 1, 1)

_NS = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
_REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
_PKG = "http://schemas.openxmlformats.org/package/2006/relationships"
_CT = "application/vnd.openxmlformats-officedocument"
_HEAD = '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
_ILLEGAL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")
_ILLEGAL_RE2 = "[\\x00-\\x08\\x0b\\x0c\\x0e-\\x1f\\x{fffe}\\x{ffff}]"  # the same, for Arrow (RE2)
_EPOCH = dt.datetime(1899, 12, 30)
_QUOT = {'"': "&quot;"}

# Cell formats are every combination of font x fill x number format, so a shaded row can hold
# dates and a bold cell can be a number; the id is computed, never looked up.
_PLAIN_FONT, _BOLD_FONT, _TITLE_FONT = 0, 1, 2
_GENERAL, _DATE, _DATETIME = 0, 1, 2
_FILL_RGB = "FFFFF4CC"  # a pale yellow: readable in print and for colour-blind readers


def _style(font: int = _PLAIN_FONT, fill: bool = False, fmt: int = _GENERAL) -> int:
    return (font * 2 + int(fill)) * 3 + fmt


class Bold(str):
    """A text cell shown bold (for a heading inside rows, e.g. a sheet of instructions)."""


@dataclass(frozen=True)
class Dropdown:
    """A list validation on one column's data cells: Excel shows the choices as a dropdown."""

    column: str  # a header name
    choices: Sequence[str]
    title: str = ""
    prompt: str = ""
    error: str = ""


@dataclass
class Sheet:
    """One worksheet: an optional merged title, an optional bold frozen header, then the data.

    `data` is either rows of Python values or a DataFrame (written column-wise, fast). `fills`
    marks data rows to shade. `freeze_cols` also freezes that many columns at
    the left. `merged` adds any other merged ranges ("A1:C1"). `links` makes cells hyperlinks
    to files beside the workbook (relationships, not HYPERLINK formulas: no formula is written).
    """

    name: str
    data: Sequence[Sequence[Any]] | pd.DataFrame = ()
    header: Sequence[Any] | None = None
    title: str | None = None
    fills: Sequence[bool] | None = None
    widths: Sequence[float] | None = None
    freeze_cols: int = 0
    autofilter: bool = False
    dropdown: Dropdown | None = None
    merged: Sequence[str] = field(default_factory=list)
    links: Sequence[tuple[str, str]] = ()  # (cell "B7", relative file path it opens)


def column_letter(i: int) -> str:
    """0 -> A, 25 -> Z, 26 -> AA."""
    out = ""
    i += 1
    while i:
        i, r = divmod(i - 1, 26)
        out = chr(65 + r) + out
    return out


def _text(value: str) -> str:
    return escape(_ILLEGAL.sub("\ufffd", value))


class _Strings:
    """The shared strings table, filled by `_cell` (or none: then text is written inline)."""

    def __init__(self, shared: bool) -> None:
        self.shared = shared
        self.index: dict[str, int] = {}
        self.refs = 0

    def inline(self, ref: str, text: str, s_attr: str) -> str:
        space = ' xml:space="preserve"' if text != text.strip() or "\n" in text else ""
        return f'<c r="{ref}"{s_attr} t="inlineStr"><is><t{space}>{_text(text)}</t></is></c>'

    def xml(self) -> str:
        items = "".join(f'<si><t xml:space="preserve">{_text(s)}</t></si>' for s in self.index)
        return (
            f'{_HEAD}<sst xmlns="{_NS}" count="{self.refs}" uniqueCount="{len(self.index)}">'
            f"{items}</sst>"
        )


def _serial(value: dt.datetime) -> float:
    if value.tzinfo is not None:
        value = value.astimezone(dt.UTC).replace(tzinfo=None)
    return (value - _EPOCH).total_seconds() / 86400


def _cell(ref: str, value: Any, font: int, fill: bool, strings: _Strings) -> str:
    """One `<c>` element ('' for an empty, unstyled cell). Hot for row data: text first."""
    base = (font * 2 + fill) * 3  # == _style(font, fill); inlined, this runs per cell
    t = type(value)
    if t is str or isinstance(value, str):
        if t is Bold and font == _PLAIN_FONT:
            base = (_BOLD_FONT * 2 + fill) * 3
        s_attr = f' s="{base}"' if base else ""
        if strings.shared:
            k = strings.index.get(value)
            if k is None:
                k = strings.index[value] = len(strings.index)
            strings.refs += 1
            return f'<c r="{ref}"{s_attr} t="s"><v>{k}</v></c>'
        return strings.inline(ref, value, s_attr)
    if value is None or value is pd.NA or value is pd.NaT:  # "" stays a (blank) text cell
        return f'<c r="{ref}" s="{base}"/>' if fill else ""
    s_attr = f' s="{base}"' if base else ""
    if t is bool:
        return f'<c r="{ref}"{s_attr} t="b"><v>{int(value)}</v></c>'
    if t is int or t is float or (isinstance(value, (int, float)) and not isinstance(value, bool)):
        if t is not int and t is not float:  # numpy float64, IntEnum: plain Python numbers
            value = float(value) if isinstance(value, float) else int(value)
        if t is not int and not math.isfinite(value):
            return f'<c r="{ref}" s="{base}"/>' if fill else ""
        return f'<c r="{ref}"{s_attr}><v>{value!r}</v></c>'
    if isinstance(value, dt.datetime):
        return f'<c r="{ref}" s="{base + _DATETIME}"><v>{_serial(value)!r}</v></c>'
    if isinstance(value, dt.date):
        days = (dt.datetime(value.year, value.month, value.day) - _EPOCH).days
        return f'<c r="{ref}" s="{base + _DATE}"><v>{days}</v></c>'
    if hasattr(value, "item") and not isinstance(value, bytes):
        return _cell(ref, value.item(), font, fill, strings)  # numpy scalars
    return _cell(ref, str(value), font, fill, strings)


MAX_COLS = 16_384  # Excel's columns per sheet (A..XFD)
_LETTERS = [column_letter(i) for i in range(MAX_COLS)]


def _row_xml(r: int, row: Sequence[Any], font: int, fill: bool, strings: _Strings) -> str:
    if len(row) > MAX_COLS:
        raise ValueError(f"row {r} has {len(row)} cells; a sheet holds at most {MAX_COLS}")
    n = str(r)
    cells = "".join([_cell(_LETTERS[i] + n, v, font, fill, strings) for i, v in enumerate(row)])
    return f'<row r="{n}">{cells}</row>' if cells else f'<row r="{n}"/>'


def _column_cells(s: pd.Series, letter: str, refs: pd.Series) -> pd.Series:
    """The `<c>` elements of a column of mixed Python objects, cell by cell; '' for empty
    cells (always inline text). Columns of one type take `_typed_cells`."""
    inline = _Strings(shared=False)
    cells = [
        _cell(f"{letter}{r}", v, _PLAIN_FONT, False, inline)
        for r, v in zip(refs, s.tolist(), strict=True)
    ]
    return pd.Series(cells, dtype="object")


def _is_text_column(s: pd.Series) -> bool:
    return isinstance(s.dtype, pd.StringDtype) or bool(s.dropna().map(type).eq(str).all())


def _typed_cells(s: pd.Series, letter: str, refs: Any, fill: np.ndarray | None) -> Any:
    """The `<c>` elements of one frame column as an Arrow text array, built column-wise in
    C++: '' for an empty cell, `<c r="A7" s="3"/>` for an empty shaded one, and shaded rows
    (`fill`) get the fill in their style. None for a column of mixed Python objects."""
    import pyarrow as pa
    import pyarrow.compute as pc

    na = s.isna().to_numpy()
    dtype = s.dtype
    head = pc.binary_join_element_wise('<c r="' + letter, refs, '"', "")
    shaded = fill is not None and bool(fill.any())
    fill_style = _style(fill=True)

    def cells(fmt: int, kind: str, values: Any, tail: str) -> Any:
        attr: Any = f' s="{fmt}"' if fmt else ""
        if shaded:
            attr = pc.if_else(pa.array(fill), f' s="{fmt + fill_style}"', attr)
        return pc.binary_join_element_wise(head, attr, kind, values, tail, "")

    if pd.api.types.is_bool_dtype(dtype):
        flags = s.to_numpy(dtype=bool, na_value=False)
        out = cells(0, ' t="b"><v>', pa.array(np.where(flags, "1", "0")), "</v></c>")
    elif pd.api.types.is_numeric_dtype(dtype):
        f = s.to_numpy(dtype="float64", na_value=np.nan)
        na = na | ~np.isfinite(f)
        if pd.api.types.is_integer_dtype(dtype):  # str(int): exact also past 2**53
            ints = s.to_numpy(dtype=np.int64, na_value=0) if na.any() else s.to_numpy()
            values = pc.cast(pa.array(ints), pa.string())
        else:
            values = pa.array([repr(v) for v in f.tolist()], type=pa.string())
        out = cells(0, "><v>", values, "</v></c>")
    elif pd.api.types.is_datetime64_any_dtype(dtype):
        t = s.dt.tz_convert("UTC").dt.tz_localize(None) if s.dt.tz is not None else s
        serial = ((t - pd.Timestamp(_EPOCH)) / pd.Timedelta(days=1)).to_numpy(
            dtype="float64", na_value=np.nan
        )
        values = pa.array([repr(v) for v in serial.tolist()], type=pa.string())
        out = cells(_style(fmt=_DATETIME), "><v>", values, "</v></c>")
    elif isinstance(dtype, pd.StringDtype) or s.dropna().map(type).eq(str).all():
        if isinstance(dtype, pd.StringDtype):  # Arrow text already: no Python string per cell
            arr = pa.array(s.array)
            if isinstance(arr, pa.ChunkedArray):
                arr = arr.combine_chunks()
            text = pc.fill_null(arr.cast(pa.string()), "")
        else:
            text = pa.array(s.astype(object).where(s.notna(), ""), type=pa.string())
        text = pc.replace_substring_regex(text, _ILLEGAL_RE2, "\ufffd")
        for old, esc in (("&", "&amp;"), ("<", "&lt;"), (">", "&gt;")):
            text = pc.replace_substring(text, old, esc)
        out = cells(0, ' t="inlineStr"><is><t xml:space="preserve">', text, "</t></is></c>")
    else:
        return None
    if na.any():
        empty: Any = ""
        if shaded:
            blank = pc.binary_join_element_wise(head, f' s="{fill_style}"/>', "")
            empty = pc.if_else(pa.array(fill), blank, "")
        out = pc.if_else(pa.array(na), empty, out)
    return out


_REF = r'^(<c r="[A-Z]+[0-9]+")'


def _shade(cells: pd.Series, fill: np.ndarray, letter: str, refs: pd.Series) -> pd.Series:
    """The same cells with the fill style on the rows under `fill` (column-wise, like them)."""
    sub = cells[fill]
    empty = sub.eq("").to_numpy()
    sub = sub.str.replace(
        _REF + r' s="([12])"', lambda m: f'{m[1]} s="{int(m[2]) + 3}"', regex=True
    )
    sub = sub.str.replace(_REF + r"(?! s=)", r'\1 s="3"', regex=True)
    sub[empty] = ('<c r="' + letter + refs[fill][empty] + '" s="3"/>').to_numpy()
    out = cells.copy()
    out[fill] = sub.to_numpy()
    return out


def _frame_xml(frame: pd.DataFrame, first: int, fills: Sequence[bool] | None = None) -> bytes:
    """The `<row>` elements of a frame's rows, numbered from `first`, as UTF-8: joined in Arrow
    column by column, so no Python string per cell is made (but for mixed-object columns)."""
    import pyarrow as pa
    import pyarrow.compute as pc

    frame = frame.head(MAX_ROWS - first + 1).reset_index(drop=True)
    if frame.empty:
        return b""
    n = len(frame)
    refs = pc.cast(pa.array(np.arange(first, first + n, dtype=np.int64)), pa.string())
    fill = None
    if fills is not None:
        fill = np.zeros(n, dtype=bool)
        given = np.asarray(fills, dtype=bool)[:n]
        fill[: len(given)] = given
    parts = [pc.binary_join_element_wise('<row r="', refs, '">', "")]
    for i in range(frame.shape[1]):
        col, letter = frame.iloc[:, i], column_letter(i)
        cells = _typed_cells(col, letter, refs, fill)
        if cells is None:
            ref_text = pd.Series(refs.to_pylist(), dtype="object")
            mixed = _column_cells(col, letter, ref_text)
            if fill is not None and fill.any():
                mixed = _shade(mixed, fill, letter, ref_text)
            cells = pa.array(mixed.tolist(), type=pa.string())
        parts.append(cells)
    rows = pc.binary_join_element_wise(*parts, "</row>", "")
    offsets = np.frombuffer(rows.buffers()[1], dtype=np.int32)
    begin, end = int(offsets[rows.offset]), int(offsets[rows.offset + len(rows)])
    return bytes(memoryview(rows.buffers()[2])[begin:end])


_CHUNK = 20_000  # rows of XML built and compressed at a time


def _sheet_xml(sheet: Sheet, strings: _Strings) -> str:
    return "".join(_text_of(p) for p in _sheet_parts(sheet, strings))


def _text_of(piece: str | bytes) -> str:
    return piece.decode("utf-8") if isinstance(piece, bytes) else piece


def _sheet_parts(sheet: Sheet, strings: _Strings) -> Iterator[str | bytes]:
    """The worksheet XML in pieces of at most `_CHUNK` rows: a big sheet is never one string."""
    frame = sheet.data if isinstance(sheet.data, pd.DataFrame) else None
    rows: Sequence[Sequence[Any]] = () if frame is not None else sheet.data
    header = list(sheet.header) if sheet.header is not None else None
    width = max(
        len(header or ()),
        frame.shape[1] if frame is not None else max((len(r) for r in rows), default=0),
        1,
    )
    last_col = column_letter(width - 1)
    body: list[str] = []
    merged = list(sheet.merged)
    r = 0
    if sheet.title is not None:
        body.append(_row_xml(1, [sheet.title], _TITLE_FONT, False, strings))
        body.append('<row r="2"/>')  # a blank row between the title and the table, as people do
        merged.insert(0, f"A1:{last_col}1")
        r = 2
    header_row = 0
    if header is not None:
        r += 1
        header_row = r
        body.append(_row_xml(r, header, _BOLD_FONT, False, strings))
    first_data = r + 1
    n_data = min(len(frame) if frame is not None else len(rows), MAX_ROWS - first_data + 1)
    last_row = max(first_data + n_data - 1, header_row, 1)

    parts = [_HEAD, f'<worksheet xmlns="{_NS}" xmlns:r="{_REL}">']
    if header_row or sheet.freeze_cols:
        x = sheet.freeze_cols
        pane = "bottomRight" if x and header_row else ("topRight" if x else "bottomLeft")
        split = (f' xSplit="{x}"' if x else "") + (f' ySplit="{header_row}"' if header_row else "")
        top_left = f"{column_letter(x)}{header_row + 1}"
        parts.append(
            f'<sheetViews><sheetView workbookViewId="0"><pane{split} topLeftCell="{top_left}" '
            f'activePane="{pane}" state="frozen"/><selection pane="{pane}"/>'
            "</sheetView></sheetViews>"
        )
    if sheet.widths:
        cols = "".join(
            f'<col min="{i}" max="{i}" width="{w!r}" customWidth="1"/>'
            for i, w in enumerate(sheet.widths, start=1)
        )
        parts.append(f"<cols>{cols}</cols>")
    parts.append("<sheetData>")
    parts.extend(body)
    yield "".join(parts)
    fills = sheet.fills
    for start in range(0, n_data, _CHUNK):
        stop = min(start + _CHUNK, n_data)
        some = None if fills is None else fills[start:stop]
        if frame is not None:
            yield _frame_xml(frame.iloc[start:stop], first_data + start, some)
            continue
        yield "".join(
            [
                _row_xml(
                    first_data + i,
                    rows[i],
                    _PLAIN_FONT,
                    bool(fills[i]) if fills is not None and i < len(fills) else False,
                    strings,
                )
                for i in range(start, stop)
            ]
        )
    parts = ["</sheetData>"]
    if sheet.autofilter and header_row:
        parts.append(f'<autoFilter ref="A{header_row}:{last_col}{last_row}"/>')
    if merged:
        refs = "".join(f'<mergeCell ref="{m}"/>' for m in merged)
        parts.append(f'<mergeCells count="{len(merged)}">{refs}</mergeCells>')
    if sheet.dropdown is not None and n_data:
        parts.append(_validation(sheet.dropdown, header or [], first_data, last_row))
    if sheet.links:
        refs = "".join(
            f'<hyperlink ref="{escape(ref, _QUOT)}" r:id="rId{i}"/>'
            for i, (ref, _) in enumerate(sheet.links, start=1)
        )
        parts.append(f"<hyperlinks>{refs}</hyperlinks>")
    parts.append("</worksheet>")
    yield "".join(parts)


def _link_rels(links: Sequence[tuple[str, str]]) -> str:
    rels = "".join(
        f'<Relationship Id="rId{i}" Type="{_REL}/hyperlink" '
        f'Target="{escape(target, _QUOT)}" TargetMode="External"/>'
        for i, (_, target) in enumerate(links, start=1)
    )
    return f'{_HEAD}<Relationships xmlns="{_PKG}">{rels}</Relationships>'


def _validation(d: Dropdown, header: Sequence[Any], first: int, last: int) -> str:
    if d.column not in header:
        raise ValueError(f"dropdown column {d.column!r} is not in the header")
    if any("," in c or '"' in c for c in d.choices):
        raise ValueError("dropdown choices cannot contain ',' or '\"'")
    letter = column_letter(list(header).index(d.column))
    return (
        '<dataValidations count="1"><dataValidation type="list" allowBlank="1" '
        'showInputMessage="1" showErrorMessage="1" '
        f'errorTitle="{escape(d.title, _QUOT)}" error="{escape(d.error, _QUOT)}" '
        f'promptTitle="{escape(d.title, _QUOT)}" prompt="{escape(d.prompt, _QUOT)}" '
        f'sqref="{letter}{first}:{letter}{last}">'
        f'<formula1>"{escape(",".join(d.choices))}"</formula1></dataValidation>'
        "</dataValidations>"
    )


def _styles(font: str, date_format: str, datetime_format: str) -> str:
    name = escape(font, _QUOT)
    fonts = (
        f'<font><sz val="11"/><name val="{name}"/></font>'
        f'<font><b/><sz val="11"/><name val="{name}"/></font>'
        f'<font><b/><sz val="14"/><name val="{name}"/></font>'
    )
    xfs = []
    for f in (_PLAIN_FONT, _BOLD_FONT, _TITLE_FONT):
        for fill in (False, True):
            for num in (0, 164, 165):  # general, date, datetime: the order of _GENERAL.._DATETIME
                attrs = (
                    (' applyFont="1"' if f else "")
                    + (' applyFill="1"' if fill else "")
                    + (' applyNumberFormat="1"' if num else "")
                )
                xfs.append(
                    f'<xf numFmtId="{num}" fontId="{f}" fillId="{2 if fill else 0}" '
                    f'borderId="0" xfId="0"{attrs}/>'
                )
    return (
        f'{_HEAD}<styleSheet xmlns="{_NS}">'
        f'<numFmts count="2"><numFmt numFmtId="164" formatCode="{escape(date_format, _QUOT)}"/>'
        f'<numFmt numFmtId="165" formatCode="{escape(datetime_format, _QUOT)}"/></numFmts>'
        f'<fonts count="3">{fonts}</fonts>'
        '<fills count="3"><fill><patternFill patternType="none"/></fill>'
        '<fill><patternFill patternType="gray125"/></fill>'
        f'<fill><patternFill patternType="solid"><fgColor rgb="{_FILL_RGB}"/>'
        '<bgColor indexed="64"/></patternFill></fill></fills>'
        '<borders count="1"><border><left/><right/><top/><bottom/><diagonal/></border></borders>'
        '<cellStyleXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0"/>'
        f'</cellStyleXfs><cellXfs count="{len(xfs)}">{"".join(xfs)}</cellXfs>'
        '<cellStyles count="1"><cellStyle name="Normal" xfId="0" builtinId="0"/></cellStyles>'
        "</styleSheet>"
    )


def write_xlsx(
    path: Path,
    sheets: Sequence[Sheet],
    *,
    stamp: dt.datetime = FIXED_STAMP,
    shared_strings: bool = False,
    font: str = "Calibri",
    date_format: str = "yyyy-mm-dd",
    datetime_format: str = "yyyy-mm-dd hh:mm:ss",
    creator: str = "",
    application: str = "crm-audit",
) -> Path:
    """Write `sheets` as one workbook; `stamp` is the zip entry and document time (no clock).

    `shared_strings` stores the text of row data in a shared strings table, the way Excel saves
    (frame data is always inline: that keeps the column-wise path).
    """
    if not sheets:
        raise ValueError("a workbook needs at least one sheet")
    strings = _Strings(shared_strings)
    n = len(sheets)
    when = f"{stamp.replace(tzinfo=None).isoformat(timespec='seconds')}Z"
    overrides = [
        ("/xl/workbook.xml", f"{_CT}.spreadsheetml.sheet.main+xml"),
        *(
            (f"/xl/worksheets/sheet{i}.xml", f"{_CT}.spreadsheetml.worksheet+xml")
            for i in range(1, n + 1)
        ),
        ("/xl/styles.xml", f"{_CT}.spreadsheetml.styles+xml"),
        *(
            [("/xl/sharedStrings.xml", f"{_CT}.spreadsheetml.sharedStrings+xml")]
            if shared_strings
            else []
        ),
        ("/docProps/core.xml", "application/vnd.openxmlformats-package.core-properties+xml"),
        ("/docProps/app.xml", f"{_CT}.extended-properties+xml"),
    ]
    content_types = (
        f'{_HEAD}<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
        '<Default Extension="rels" '
        'ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
        '<Default Extension="xml" ContentType="application/xml"/>'
        + "".join(f'<Override PartName="{p}" ContentType="{c}"/>' for p, c in overrides)
        + "</Types>"
    )
    root_rels = (
        f'{_HEAD}<Relationships xmlns="{_PKG}">'
        f'<Relationship Id="rId1" Type="{_REL}/officeDocument" Target="xl/workbook.xml"/>'
        f'<Relationship Id="rId2" Type="{_PKG}/metadata/core-properties" '
        'Target="docProps/core.xml"/>'
        f'<Relationship Id="rId3" Type="{_REL}/extended-properties" Target="docProps/app.xml"/>'
        "</Relationships>"
    )
    core = (
        f"{_HEAD}<cp:coreProperties "
        'xmlns:cp="http://schemas.openxmlformats.org/package/2006/metadata/core-properties" '
        'xmlns:dc="http://purl.org/dc/elements/1.1/" xmlns:dcterms="http://purl.org/dc/terms/" '
        'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">'
        f"<dc:creator>{escape(creator)}</dc:creator>"
        f'<dcterms:created xsi:type="dcterms:W3CDTF">{when}</dcterms:created>'
        f'<dcterms:modified xsi:type="dcterms:W3CDTF">{when}</dcterms:modified>'
        "</cp:coreProperties>"
    )
    app = (
        f"{_HEAD}<Properties "
        'xmlns="http://schemas.openxmlformats.org/officeDocument/2006/extended-properties">'
        f"<Application>{escape(application)}</Application></Properties>"
    )
    workbook = (
        f'{_HEAD}<workbook xmlns="{_NS}" xmlns:r="{_REL}"><sheets>'
        + "".join(
            f'<sheet name="{escape(s.name, _QUOT)}" sheetId="{i}" r:id="rId{i}"/>'
            for i, s in enumerate(sheets, start=1)
        )
        + "</sheets></workbook>"
    )
    wb_rels = (
        f'{_HEAD}<Relationships xmlns="{_PKG}">'
        + "".join(
            f'<Relationship Id="rId{i}" Type="{_REL}/worksheet" Target="worksheets/sheet{i}.xml"/>'
            for i in range(1, n + 1)
        )
        + f'<Relationship Id="rId{n + 1}" Type="{_REL}/styles" Target="styles.xml"/>'
        + (
            f'<Relationship Id="rId{n + 2}" Type="{_REL}/sharedStrings" '
            'Target="sharedStrings.xml"/>'
            if shared_strings
            else ""
        )
        + "</Relationships>"
    )
    parts = [
        ("[Content_Types].xml", content_types),
        ("_rels/.rels", root_rels),
        ("docProps/core.xml", core),
        ("docProps/app.xml", app),
        ("xl/workbook.xml", workbook),
        ("xl/_rels/workbook.xml.rels", wb_rels),
        ("xl/styles.xml", _styles(font, date_format, datetime_format)),
        *(
            (f"xl/worksheets/_rels/sheet{i}.xml.rels", _link_rels(s.links))
            for i, s in enumerate(sheets, start=1)
            if s.links
        ),
    ]
    entry_time = (max(stamp.year, 1980), stamp.month, stamp.day, stamp.hour, stamp.minute, 0)
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        for name, text in parts:
            info = zipfile.ZipInfo(name, date_time=entry_time)
            info.compress_type = zipfile.ZIP_DEFLATED
            z.writestr(info, text.encode("utf-8"))
        # sheets streamed into their entries (then the shared strings they filled): the XML
        # of a sheet with a million rows is never held whole
        for i, sheet in enumerate(sheets, start=1):
            info = zipfile.ZipInfo(f"xl/worksheets/sheet{i}.xml", date_time=entry_time)
            info.compress_type = zipfile.ZIP_DEFLATED
            with z.open(info, "w", force_zip64=_big(sheet)) as out:
                for piece in _sheet_parts(sheet, strings):
                    out.write(piece if isinstance(piece, bytes) else piece.encode("utf-8"))
        if shared_strings:
            info = zipfile.ZipInfo("xl/sharedStrings.xml", date_time=entry_time)
            info.compress_type = zipfile.ZIP_DEFLATED
            z.writestr(info, strings.xml().encode("utf-8"))
    return path


def _big(sheet: Sheet) -> bool:
    """Whether a sheet's XML may pass 2 GiB (a zip entry then needs Zip64), from its size."""
    data = sheet.data
    n = len(data)
    width = (
        data.shape[1]
        if isinstance(data, pd.DataFrame)
        else max((len(r) for r in data[:100]), default=0)
    )
    return n * max(width, 1) * 200 > 2**31
