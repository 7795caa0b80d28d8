"""Spreadsheets (.xlsx .xlsm .xlsb .xls .ods) through python-calamine, every cell as text.

calamine is several times faster than openpyxl and reads the 1900/1904 date system itself.
Typed date cells arrive as datetime objects and are written as ISO 8601 text; numbers that are
whole are written without ".0" so ids and postcodes keep their digits. Leading zeros already
lost by Excel (a postcode typed as a number) cannot be recovered here; normalize flags them.
"""

from __future__ import annotations

import datetime as dt
import html
import re
import zipfile
from collections.abc import Iterator, Sequence
from pathlib import Path

import pandas as pd

from audit.errors import InputError
from audit.sources.layout import find_header, is_footer, unique_header
from audit.sources.readers import RawTable, ReaderOptions, Rejected, reader

MAX_RATIO = 200  # compression ratio above which a large member is treated as a zip bomb
_CELL_REF = re.compile(rb"<c\b[^>]*?\br=\"([A-Z]{1,3})([0-9]{1,7})\"")
_SHEET = re.compile(rb"<sheet\b[^>]*>")
_ATTR = re.compile(rb'\b([A-Za-z:]+)="([^"]*)"')
_CHUNK = 16 << 20
_OLE = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"


def cell_text(v: object) -> str | None:
    """One cell as the text a user would see, or None when empty."""
    if v is None or v == "":
        return None
    if isinstance(v, bool):
        return "TRUE" if v else "FALSE"
    if isinstance(v, float):
        if v.is_integer() and abs(v) < 1e15:
            return str(int(v))
        return repr(v)
    if isinstance(v, dt.datetime):
        return v.isoformat(sep="T")
    if isinstance(v, (dt.date, dt.time)):
        return v.isoformat()
    if isinstance(v, dt.timedelta):
        return str(v)
    return str(v)


def _col_number(letters: bytes) -> int:
    n = 0
    for ch in letters:
        n = n * 26 + ch - 64
    return n


def _used_area(zf: zipfile.ZipFile, member: str) -> tuple[int, int, int, int] | None:
    """(first row, first column, last row, last column) of the cells a sheet's XML names.

    Scanned before calamine loads the sheet: calamine allocates the whole rectangle, so one
    value typed at XFD1048576 makes it ask for hundreds of gigabytes and abort the process.
    Read in chunks, so the scan's memory is bounded whatever the sheet's size.
    """
    r0 = c0 = 1 << 30
    r1 = c1 = 0
    tail = b""
    try:
        with zf.open(member) as fh:
            while True:
                chunk = fh.read(_CHUNK)
                if not chunk:
                    break
                data = tail + chunk
                last_end = 0
                refs = _CELL_REF.findall(data)  # (column letters, row digits) per cell
                if refs:
                    letters = {c for c, _ in refs}  # a few distinct columns, many cells
                    numbers = [_col_number(c) for c in letters]
                    rows = list(map(int, (r for _, r in refs)))
                    r0, r1 = min(r0, min(rows)), max(r1, max(rows))
                    c0, c1 = min(c0, min(numbers)), max(c1, max(numbers))
                    last_end = data.rfind(b"<c")  # a cell cut by the chunk end starts here or later
                tail = data[max(last_end, len(data) - 256) :]
    except (KeyError, zipfile.BadZipFile, OSError, EOFError):
        return None
    return (r0, c0, r1, c1) if r1 else None


def _sheet_members(zf: zipfile.ZipFile) -> dict[str, str]:
    """Sheet name -> worksheet XML member, from workbook.xml and its relationships."""
    try:
        book = zf.read("xl/workbook.xml")
        rels = zf.read("xl/_rels/workbook.xml.rels")
    except (KeyError, zipfile.BadZipFile, OSError):
        return {}
    targets: dict[bytes, str] = {}
    for m in re.finditer(rb"<Relationship\b[^>]*>", rels):
        a = dict(_ATTR.findall(m.group(0)))
        if b"Id" in a and b"Target" in a:
            t = a[b"Target"].decode("utf-8", "replace").lstrip("/")
            targets[a[b"Id"]] = t if t.startswith("xl/") else f"xl/{t}"
    out: dict[str, str] = {}
    for m in _SHEET.finditer(book):
        a = dict(_ATTR.findall(m.group(0)))
        rid = a.get(b"r:id")
        if rid in targets and b"name" in a:
            out[html.unescape(a[b"name"].decode("utf-8", "replace"))] = targets[rid]
    return out


def _a1(row: int, col: int) -> str:
    letters = ""
    while col:
        col, rem = divmod(col - 1, 26)
        letters = chr(65 + rem) + letters
    return f"{letters}{row}"


def check_sheet_sizes(path: Path, names: list[str], opts: ReaderOptions) -> None:
    """Refuse a sheet whose used area exceeds limits.max_sheet_cells, naming its far corner."""
    if path.suffix.lower() not in (".xlsx", ".xlsm"):
        return  # .xls/.xlsb are binary and .ods repeats cells by count: bounded by file size
    limit = opts.limits.max_sheet_cells
    try:
        zf = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError):
        return  # calamine reports the damage in its own words
    with zf:
        members = _sheet_members(zf)
        for name in names:
            area = _used_area(zf, members[name]) if name in members else None
            if area is None:
                continue
            r0, c0, r1, c1 = area
            cells = (r1 - r0 + 1) * (c1 - c0 + 1)
            if cells > limit:
                raise InputError(
                    f"{path}: sheet {name!r} spans {_a1(r0, c0)}:{_a1(r1, c1)} ({cells:,} cells; "
                    f"the limit is {limit:,}, limits.max_sheet_cells). A stray value far from "
                    "the data does this: in Excel press Ctrl+End to find it, delete the empty "
                    "rows and columns around the data, save, and audit again."
                )


def _check_container(path: Path, data_head: bytes, opts: ReaderOptions) -> None:
    """Refuse encrypted workbooks and zip bombs with a clear sentence, before calamine."""
    suffix = path.suffix.lower()
    if data_head.startswith(_OLE) and suffix in (".xlsx", ".xlsm", ".xlsb"):
        raw = path.read_bytes()
        if "EncryptedPackage".encode("utf-16-le") in raw:
            raise InputError(
                f"{path}: is password-protected; open it in Excel, remove the password "
                "(File > Info > Protect Workbook) and save a copy, then point the source at it."
            )
    if data_head.startswith(b"PK"):
        try:
            with zipfile.ZipFile(path) as zf:
                infos = zf.infolist()
        except zipfile.BadZipFile:
            raise InputError(
                f"{path}: is damaged or truncated (not a complete {suffix} file); download or "
                "save it again."
            ) from None
        total = sum(i.file_size for i in infos)
        packed = sum(i.compress_size for i in infos) or 1
        limit = opts.limits.max_unpacked_mb << 20
        if total > limit or (total > (64 << 20) and total / packed > MAX_RATIO):
            raise InputError(
                f"{path}: would inflate to {total >> 20} MiB from {packed >> 10} KiB (a zip "
                f"bomb or a corrupt file; limits.max_unpacked_mb is {opts.limits.max_unpacked_mb}"
                "); it was not read."
            )


@reader("excel", suffixes=(".xlsx", ".xlsm", ".xlsb", ".xls", ".ods"))
def read_excel(path: Path, opts: ReaderOptions) -> Iterator[RawTable]:
    """Every visible sheet (or the chosen one); header found below title rows; cells as text."""
    from python_calamine import CalamineWorkbook

    try:
        with path.open("rb") as fh:
            head = fh.read(8)
    except OSError as e:
        raise InputError(f"{path}: cannot be opened ({e.strerror}).") from None
    if not head:
        yield RawTable(frame=pd.DataFrame(), reader="excel", warnings=["file is empty"])
        return
    _check_container(path, head, opts)
    try:
        wb = CalamineWorkbook.from_path(str(path))
        metas = list(wb.sheets_metadata)
    except Exception as e:  # calamine raises several types for damaged files
        if "password" in str(e).lower() or "encrypt" in str(e).lower():
            raise InputError(
                f"{path}: is password-protected; remove the password in Excel and save a copy."
            ) from None
        raise InputError(
            f"{path}: cannot be read as a spreadsheet ({type(e).__name__}: {e}); open it in "
            "Excel or LibreOffice and save it again as .xlsx."
        ) from None
    warnings: list[str] = []
    chosen = []
    names = [m.name for m in metas]
    if opts.sheet is not None:
        if opts.sheet not in names:
            raise InputError(
                f"{path}: has no sheet {opts.sheet!r}{_where(opts)}; its sheets are "
                f"{', '.join(repr(n) for n in names)}."
            )
        chosen = [m for m in metas if m.name == opts.sheet]
    else:
        for m in metas:
            kind = str(m.typ).rsplit(".", 1)[-1].lower()
            visible = str(m.visible).rsplit(".", 1)[-1].lower()
            if "chart" in kind:
                warnings.append(f"sheet {m.name!r} is a chart sheet; skipped")
            elif visible != "visible":
                warnings.append(
                    f"sheet {m.name!r} is hidden; not read (set sheet: {m.name} to read it)"
                )
            else:
                chosen.append(m)
    check_sheet_sizes(path, [m.name for m in chosen], opts)
    tables = []
    for m in chosen:
        try:
            rows = wb.get_sheet_by_name(m.name).to_python(skip_empty_area=False)
        except Exception as e:
            raise InputError(
                f"{path}: sheet {m.name!r} cannot be read ({type(e).__name__}: {e}); save the "
                "workbook again as .xlsx."
            ) from None
        table = _table(rows, opts)
        table.sheet = m.name
        empty = len(table.frame.columns) == 0 and not table.rejected
        if empty and opts.sheet is None and len(chosen) > 1:
            warnings.append(f"sheet {m.name!r} is empty; skipped")
            continue
        tables.append(table)
    if not tables:
        yield RawTable(
            frame=pd.DataFrame(), reader="excel", warnings=[*warnings, "no sheet with data"]
        )
        return
    for t in tables:
        t.reader = "excel"
        t.warnings = warnings + t.warnings
        yield t


def _where(opts: ReaderOptions) -> str:
    return f" (sheet in {opts.where})" if opts.where else ""


def _table(rows: Sequence[Sequence[object]], opts: ReaderOptions) -> RawTable:
    # most cells are text: keep them as they are without a function call per cell, and keep
    # one str object per distinct text (a sheet repeats its owners, stages and countries on
    # every row; each cell's own copy is about 55 bytes)
    shared: dict[str, str] = {}
    one = shared.setdefault
    texts = [[one(v, v) if (type(v) is str and v) else cell_text(v) for v in r] for r in rows]
    while texts and not any(texts[-1]):
        texts.pop()
    if not texts:
        return RawTable(frame=pd.DataFrame(), warnings=["sheet is empty"])
    idx = opts.header_row - 1 if opts.header_row else find_header(texts)
    if idx >= len(texts):
        return RawTable(frame=pd.DataFrame(), warnings=["header row is below the last row"])
    raw_header = texts[idx]
    width = max((i + 1 for i, v in enumerate(raw_header) if v), default=0)
    header, warnings = unique_header(raw_header[:width])
    if idx:
        warnings.append(f"skipped {idx} row(s) above the header (title rows)")
    body = texts[idx + 1 :]
    keep_rows: list[list[str | None]] = []
    numbers: list[int] = []
    excel_rows: list[int] = []
    rejected: list[Rejected] = []
    pending = []
    recno = 0
    for i, row in enumerate(body):
        if not any(row):
            continue
        recno += 1
        excel_row = idx + 2 + i
        cells = (row + [None] * width)[:width]
        extra = [v for v in row[width:] if v]
        if extra:
            pending.append((recno, excel_row, row))
            continue
        keep_rows.append(cells)
        numbers.append(recno)
        excel_rows.append(excel_row)
    last_good = numbers[-1] if numbers else 0
    for recno, excel_row, row in pending:
        text = "\t".join(v or "" for v in row)
        if recno > last_good and is_footer(row):
            rejected.append(
                Rejected(recno, excel_row, "source.row.footer", "footer row", text, "info")
            )
        else:
            rejected.append(
                Rejected(
                    recno,
                    excel_row,
                    "source.row.too_many_fields",
                    "values to the right of the last headed column",
                    text,
                )
            )
    # totals/copyright rows at the bottom that fit in the columns are footers too
    while keep_rows and is_footer(keep_rows[-1]) and len(keep_rows) > 1:
        row = keep_rows.pop()
        recno = numbers.pop()
        rejected.append(
            Rejected(
                recno,
                excel_rows.pop(),
                "source.row.footer",
                "footer row",
                "\t".join(v or "" for v in row),
                "info",
            )
        )
    frame = pd.DataFrame(keep_rows, columns=header, dtype=object)
    if not keep_rows:
        frame = pd.DataFrame({h: pd.Series(dtype=object) for h in header})
    return RawTable(
        frame=frame, source_row=numbers, rejected=rejected, header_row=idx + 1, warnings=warnings
    )
