"""Delimited text (CSV, TSV, TXT) as Excel, Google Sheets and CRM exports write it.

Fast path: pyarrow's CSV parser on the decoded bytes (every column typed as text). When that
parser meets a ragged row, an over-long line or anything else it cannot take, the file is read
again with the stdlib csv module, which gives exact line numbers for every rejected row.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterator
from pathlib import Path

import pandas as pd

from audit.errors import InputError
from audit.sources.decoding import decode
from audit.sources.layout import find_header, is_footer, looks_like_data, unique_header
from audit.sources.readers import RawTable, ReaderOptions, Rejected, reader

DELIMITERS = (",", ";", "\t", "|")
_SEP_LINE = re.compile(r'^"?sep=(.)"?[,;\t|]*\s*$', re.IGNORECASE)
csv.field_size_limit(2**31 - 1)


def sniff_delimiter(sample: str, *, prefer_tab: bool = False) -> str:
    """The delimiter that splits the sample's lines into the most consistent field counts."""
    best, best_key = ",", (-1.0, 0, 0)
    lines = sample.split("\n")[:60]
    if len(lines) > 1 and len(sample) >= 65536:
        lines = lines[:-1]  # the last line of a cut sample may be partial
    chunk = "\n".join(lines)
    for i, d in enumerate(DELIMITERS):
        try:
            counts = [len(r) for r in csv.reader(io.StringIO(chunk), delimiter=d) if r]
        except csv.Error:
            continue
        if not counts:
            continue
        mode = max(set(counts), key=lambda c: (counts.count(c), c))
        if mode < 2:
            continue
        share = counts.count(mode) / len(counts)
        key = (share, 1 if (prefer_tab and d == "\t") else 0, -i)
        if key > best_key:
            best, best_key = d, key
    return best


@reader("csv", suffixes=(".csv", ".tsv", ".txt", ".tab"))
def read_csv(path: Path, opts: ReaderOptions) -> Iterator[RawTable]:
    """Delimited text: encoding and delimiter sniffed, `sep=` line honoured, all values text."""
    try:
        data = path.read_bytes()
    except OSError as e:
        raise InputError(f"{path}: cannot be opened ({e.strerror}).") from None
    if not data.strip(b" \t\r\n\x00"):
        yield _empty(["file is empty"])
        return
    dec = decode(data, encoding=opts.encoding, file=str(path), where=opts.where)
    text, warnings = dec.text, list(dec.warnings)
    same_bytes = dec.encoding in ("utf-8", "utf-8-sig") and not warnings
    if "\n" not in text and "\r" in text:
        text = text.replace("\r", "\n")
        warnings.append("line ends are CR only (classic Mac); read them as new lines")
        same_bytes = False
    skip_lines = 0
    first_nl = text.find("\n")
    first_line = text if first_nl < 0 else text[:first_nl]
    delimiter = opts.delimiter
    m = _SEP_LINE.match(first_line.strip("\r"))
    if m:
        delimiter = delimiter or m.group(1)
        skip_lines = 1
    body = text[first_nl + 1 :] if skip_lines else text
    if delimiter in ("\\t", "tab", "TAB"):
        delimiter = "\t"
    delimiter = delimiter or sniff_delimiter(
        body[:65536], prefer_tab=path.suffix.lower() in (".tsv", ".tab", ".txt")
    )
    # header: parse the first records to find it below any title rows; the window reaches at
    # least 31 lines, so a header wider than 256 KiB (thousands of custom properties) is whole
    window = 262144
    end = -1
    for _ in range(31):
        end = body.find("\n", end + 1)
        if end < 0:
            window = len(body)
            break
    else:
        window = max(window, end + 1)
    head_reader = csv.reader(io.StringIO(body[:window]), delimiter=delimiter, strict=False)
    head_rows: list[list[str]] = []
    ends: list[int] = []
    try:
        for row in head_reader:
            head_rows.append(row)
            ends.append(head_reader.line_num)
            if len(head_rows) >= 30:
                break
    except csv.Error as e:
        raise InputError(f"{path}: is not readable as delimited text ({e}).") from None
    if opts.header_row:
        idx = _physical_to_record(ends, opts.header_row - skip_lines)
    else:
        idx = find_header(head_rows)
    if idx >= len(head_rows) or not any(c.strip() for c in head_rows[idx]):
        yield _empty([*warnings, "no header row found"], dec.encoding, delimiter)
        return
    header, hw = unique_header(head_rows[idx])
    warnings += hw
    header_lines = ends[idx]  # physical lines of `body` up to and including the header
    header_row = skip_lines + (ends[idx - 1] if idx else 0) + 1
    titles = [" ".join(c.strip() for c in r if c.strip()) for r in head_rows[:idx]]
    titles = [t for t in titles if t]
    if titles:
        shown = "; ".join(repr(t[:60]) for t in titles[:3])
        warnings.append(f"skipped {len(titles)} title line(s) above the header: {shown}")
    if not opts.header_row and looks_like_data(head_rows[idx]):
        warnings.append(
            f"line {header_row} was taken as the header but holds an email or phone; if the "
            "file has no header row, add one (no row was dropped)"
        )
    table = None
    if not any("\n" in h for h in head_rows[idx]):
        raw = data.removeprefix(b"\xef\xbb\xbf") if same_bytes else body.encode("utf-8")
        table = _fast(raw, header, delimiter, header_lines + (skip_lines if same_bytes else 0))
    if table is None:
        table = _careful(body, header, delimiter, header_lines, skip_lines, str(path))
    _trailing_footers(table, delimiter)
    table.reader = "csv"
    table.encoding = dec.encoding
    table.delimiter = delimiter
    table.header_row = header_row
    table.warnings = warnings + table.warnings
    yield table


def _trailing_footers(table: RawTable, delimiter: str) -> None:
    """Totals/copyright rows at the bottom that fit in the columns are footers, not records.

    The same rule as the spreadsheet reader, so a "Total" line is reported (info) whether the
    report was saved as CSV or as a workbook.
    """
    frame = table.frame
    n = len(frame)
    if n < 2:
        return
    numbers = table.source_row if table.source_row is not None else list(range(1, n + 1))
    cut = n
    while cut > 1:
        row = _cells(frame.iloc[cut - 1].tolist())
        if not is_footer(row):
            break
        cut -= 1
    if cut == n:
        return
    footers = []
    for i in range(cut, n):
        text = delimiter.join("" if v is None else v for v in _cells(frame.iloc[i].tolist()))
        footers.append(Rejected(numbers[i], None, "source.row.footer", "footer line", text, "info"))
    table.frame = frame.iloc[:cut].reset_index(drop=True)
    table.source_row = list(numbers[:cut])
    table.rejected = sorted([*table.rejected, *footers], key=lambda r: r.row)


def _cells(values: list[object]) -> list[str | None]:
    """A row's cells with None where empty: the fast path's Arrow text gives NaN there."""
    return [v if isinstance(v, str) else None for v in values]


def _physical_to_record(ends: list[int], line: int) -> int:
    for i, end in enumerate(ends):
        if end >= line:
            return i
    return len(ends)


def _empty(warnings: list[str], encoding: str | None = None, delim: str | None = None) -> RawTable:
    return RawTable(
        frame=pd.DataFrame(), reader="csv", encoding=encoding, delimiter=delim, warnings=warnings
    )


def _fast(raw: bytes, header: list[str], delimiter: str, skip: int) -> RawTable | None:
    """pyarrow parse; None when any row is ragged or the parser gives up (then: careful path)."""
    import pyarrow as pa
    import pyarrow.csv as pacsv

    ragged: list[object] = []

    def bad(row: object) -> str:
        ragged.append(row)
        return "skip"

    try:
        tbl = pacsv.read_csv(
            io.BytesIO(raw),
            read_options=pacsv.ReadOptions(skip_rows=skip, column_names=header, block_size=1 << 24),
            parse_options=pacsv.ParseOptions(
                delimiter=delimiter, newlines_in_values=True, invalid_row_handler=bad
            ),
            convert_options=pacsv.ConvertOptions(
                column_types=dict.fromkeys(header, pa.string()),
                null_values=[""],
                strings_can_be_null=True,
                quoted_strings_can_be_null=True,
            ),
        )
    except (pa.ArrowInvalid, pa.ArrowException, ValueError):
        return None
    if ragged:
        return None
    # a cell spanning lines may be a stray quote that ran rows together: the careful path
    # checks each such record line by line
    import pyarrow.compute as pc

    n = len(header)
    for col in tbl.columns:
        spans = col.filter(pc.fill_null(pc.match_substring(col, "\n"), False)).to_pylist()
        for cell in spans:  # a line inside the cell that could hold a whole record
            if any(max(ln.count(d) for d in DELIMITERS) >= n - 1 for ln in cell.split("\n")[1:]):
                return None
    return _from_arrow(tbl, header)


def _from_arrow(tbl: object, header: list[str]) -> RawTable:
    """Arrow table -> frame of Arrow text columns; all-empty rows dropped as blank lines.

    The columns stay Arrow text (pandas `str`, missing as NaN) from here to the records: the
    mapping moves, joins and hashes them as Arrow arrays, so a cell never becomes a Python
    string in this stage. Converting them to Python strings here and back to Arrow after the
    mapping was about a fifth of the stage's CPU outside the mailbox.
    """
    import numpy as np
    import pyarrow.compute as pc

    n = tbl.num_rows  # type: ignore[attr-defined]
    warnings = []
    numbers = np.arange(1, n + 1)
    if n and tbl.num_columns:  # type: ignore[attr-defined]
        blank = None
        for col in tbl.columns:  # type: ignore[attr-defined]
            nulls = pc.is_null(col)
            blank = nulls if blank is None else pc.and_(blank, nulls)
        n_blank = pc.sum(blank).as_py() or 0
        if n_blank:
            keep = pc.invert(blank)
            tbl = tbl.filter(keep)  # type: ignore[attr-defined]
            numbers = numbers[np.asarray(keep.to_numpy(zero_copy_only=False), dtype=bool)]
            warnings.append(f"skipped {n_blank} blank row(s)")
    data = {
        str(i): pd.array(col.combine_chunks(), dtype="str")
        for i, col in enumerate(tbl.columns)  # type: ignore[attr-defined]
    }
    frame = pd.DataFrame(data, copy=False)
    frame.columns = header  # keyed by position, then named
    return RawTable(frame=frame, source_row=numbers.tolist(), warnings=warnings)


def plain_text(frame: pd.DataFrame) -> pd.DataFrame:
    """The frame with its Arrow text columns as object columns of str, None where empty.

    For commands that work on a plain file with Python values (`dedupe`, merge apply): one str
    object per distinct value of a column, the rows pointing at it (a column of 7 lifecycle
    stages over 290k rows would otherwise hold 290k copies of them).
    """
    import numpy as np
    import pyarrow as pa

    out = {}
    for i in range(len(frame.columns)):
        col = frame.iloc[:, i]
        if isinstance(col.dtype, pd.StringDtype) and col.dtype.storage == "pyarrow":
            arr = pa.array(col.array)
            enc = (
                arr.combine_chunks() if isinstance(arr, pa.ChunkedArray) else arr
            ).dictionary_encode()
            uniques = enc.dictionary.to_numpy(zero_copy_only=False)
            lookup = np.empty(len(uniques) + 1, dtype=object)
            lookup[:-1] = uniques
            lookup[-1] = None  # null rows: index -1
            out[str(i)] = lookup[enc.indices.fill_null(-1).to_numpy(zero_copy_only=False)]
        else:
            out[str(i)] = col.to_numpy(dtype=object)
    plain = pd.DataFrame(out, index=frame.index, dtype=object, copy=False)
    plain.columns = frame.columns
    return plain


def _careful(
    body: str, header: list[str], delimiter: str, header_lines: int, skip_lines: int, file: str
) -> RawTable:
    """stdlib csv over the decoded text: exact line numbers, ragged rows rejected."""
    n = len(header)
    rdr = csv.reader(io.StringIO(body), delimiter=delimiter, strict=False)
    rows: list[list[str]] = []
    numbers: list[int] = []
    rejected: list[Rejected] = []
    pending: list[tuple[int, int, list[str]]] = []  # ragged rows, classified at the end
    recno = 0
    prev_end = 0
    physical: list[str] | None = None  # the body's lines, split only when a record spans lines
    run_on: list[int] = []  # lines a stray quote had run into the record above
    other_delimiter: dict[str, list[int]] = {}  # lines re-saved with another delimiter
    try:
        for record in rdr:
            start, prev_end = prev_end + 1, rdr.line_num
            if rdr.line_num <= header_lines:
                continue
            if not record:
                continue
            pieces = [(start, record, delimiter)]
            if prev_end > start and len(record) == n:
                if physical is None:
                    physical = body.split("\n")
                split = _whole_lines(physical[start - 1 : prev_end], delimiter, n)
                if split is not None:
                    pieces = [(start + i, r, d) for i, (r, d) in enumerate(split)]
                    run_on += [start + skip_lines + i for i in range(1, len(split))]
            elif len(record) == 1 and n >= 3:
                for d in DELIMITERS:
                    if d != delimiter and record[0].count(d) == n - 1:
                        alt = _one_line(record[0], d)
                        if alt is not None and len(alt) == n:
                            pieces = [(start, alt, d)]
                        break
            for at, row, used in pieces:
                recno += 1
                line = at + skip_lines
                if used != delimiter:
                    other_delimiter.setdefault(used, []).append(line)
                if len(row) == n:
                    rows.append(row)
                    numbers.append(recno)
                elif len(row) > n and not any(v.strip() for v in row[n:]):
                    rows.append(row[:n])
                    numbers.append(recno)
                else:
                    pending.append((recno, line, row))
    except csv.Error as e:
        raise InputError(f"{file}: is not readable as delimited text ({e}).") from None
    notes = []
    if run_on:
        notes.append(
            f"{len(run_on)} line(s) ({_lines(run_on)}) each hold a whole record, but a quote left "
            "open on the line above ran them into it: read one by one"
        )
    for used, lines in sorted(other_delimiter.items()):
        notes.append(
            f"{len(lines)} row(s) ({_lines(lines)}) are separated by {used!r}, not "
            f"{delimiter!r} (re-saved by another program): read with {used!r}"
        )
    # ragged rows after the last good row that look like totals/copyright are footers
    last_good = numbers[-1] if numbers else 0
    shapes = _column_shapes(rows, n)
    realigned: dict[tuple[int, bool], list[int]] = {}
    for recno, line, row in pending:
        text = delimiter.join(row)
        fixed = _line_up(row, shapes, n, delimiter)
        if fixed is not None:
            rows.append(fixed[0])
            numbers.append(recno)
            realigned.setdefault((fixed[1], len(row) < n), []).append(line)
        elif recno > last_good and is_footer(row):
            rejected.append(Rejected(recno, line, "source.row.footer", "footer line", text, "info"))
        elif len(row) > n:
            rejected.append(
                Rejected(
                    recno,
                    line,
                    "source.row.too_many_fields",
                    f"{len(row)} fields where the header has {n}",
                    text,
                )
            )
        else:
            rejected.append(
                Rejected(
                    recno,
                    line,
                    "source.row.too_few_fields",
                    f"{len(row)} field(s) where the header has {n}",
                    text,
                )
            )
    frame = (
        pd.DataFrame(rows, columns=header, dtype=object)
        if rows
        else pd.DataFrame({h: pd.Series(dtype=object) for h in header})
    )
    if realigned:  # back in file order
        order = sorted(range(len(numbers)), key=numbers.__getitem__)
        frame = frame.iloc[order].reset_index(drop=True)
        numbers = [numbers[i] for i in order]
    table = _finish(frame, numbers, rejected)
    table.warnings += notes
    for (at, short), lines in sorted(realigned.items()):
        shown = _lines(lines)
        how = (
            f"one field short of the header; '{header[at]}' was read as empty"
            if short
            else f"one field over the header; the two cells under '{header[at]}' were read as "
            f"one value, with the {delimiter!r} between them kept"
        )
        table.warnings.append(
            f"{len(lines)} row(s) ({shown}) {how}, where the other cells line up with "
            "the file's columns"
        )
    return table


def _lines(lines: list[int]) -> str:
    return "line " + ", ".join(str(x) for x in lines[:10]) + (" ..." if len(lines) > 10 else "")


def _one_line(text: str, delimiter: str) -> list[str] | None:
    try:
        return next(csv.reader([text.rstrip("\r")], delimiter=delimiter, strict=False), None)
    except csv.Error:
        return None


def _whole_lines(lines: list[str], delimiter: str, n: int) -> list[tuple[list[str], str]] | None:
    """The lines of a record that spans several, one record each, when each holds a whole one.

    A quote left open at the end of a line (an Excel re-save that dropped one, a value ending in
    an odd number of quotes) swallows the lines below into its last cell until another quote
    closes it, so rows vanish into their neighbour. A real multi-line cell continues text; when
    instead every line of the span holds all the header's fields on its own (with this file's
    delimiter, or with another delimiter a re-save used), the lines are records.
    """
    out: list[tuple[list[str], str]] = []
    for text in lines:
        for d in (delimiter, *(x for x in DELIMITERS if x != delimiter)):
            if text.count(d) < n - 1:
                continue
            row = _one_line(text, d)
            if row is not None and len(row) == n:
                out.append((row, d))
                break
        else:
            return None
    return out


# what a cell looks like, to tell where a row one field short lost its cell
_NUMBER = re.compile(r"[\d\s()+\-./#*]*\d[\d\s()+\-./#*]*(?:\s*(?:ext|x)\.?\s*\d+)?", re.I)


def _shape(value: str) -> str:
    v = value.strip()
    if not v:
        return "empty"
    if "@" in v:
        return "email"
    if _NUMBER.fullmatch(v):
        return "number"
    return "text"


def _column_shapes(rows: list[list[str]], n: int) -> list[dict[str, float]]:
    """Per column, the share of the well-formed rows whose cell has each shape."""
    shares: list[dict[str, float]] = [{} for _ in range(n)]
    for row in rows:
        for i, v in enumerate(row[:n]):
            k = _shape(v)
            shares[i][k] = shares[i].get(k, 0.0) + 1.0 / len(rows)
    return shares


def _line_up(
    row: list[str], shapes: list[dict[str, float]], n: int, delimiter: str
) -> tuple[list[str], int] | None:
    """A row one field short or over, read as a record when the rest of the file makes it plain.

    Hand-kept directories and lists written by scripts end a row early when its last values are
    empty (a person with no email), and a value typed with the delimiter in it ("mythware,net")
    splits in two. Such a row is a record, not a broken line: when leaving one cell empty, or
    joining two neighbours back with the delimiter, at exactly one place makes every cell land
    in a column where cells of that shape are common (email under email, number under phone),
    it is read that way (the caller says so in a warning). A row that lines up several ways or
    none, is off by more than one field, or whose quote ran on across lines, stays rejected.
    """
    rows_seen = sum(shapes[0].values()) if shapes else 0
    if n < 3 or abs(len(row) - n) != 1 or not rows_seen or any("\n" in v for v in row):
        return None
    if sum(1 for v in row if v.strip()) < 2:
        return None
    fits: list[tuple[float, int, list[str]]] = []
    for at in range(n):
        if len(row) < n:
            cells, new = [*row[:at], "", *row[at:]], at
        else:
            cells, new = [*row[:at], row[at] + delimiter + row[at + 1], *row[at + 2 :]], -1
        score, ok = 0.0, True
        for i, v in enumerate(cells):
            if i == new:
                continue
            share = shapes[i].get(_shape(v), 0.0)
            if share < 0.1:
                ok = False
                break
            score += share
        if ok:
            fits.append((score, at, cells))
    fits.sort(key=lambda f: -f[0])
    if not fits or (len(fits) > 1 and fits[1][0] >= fits[0][0] - 0.5):
        return None
    return fits[0][2], fits[0][1]


def _finish(frame: pd.DataFrame, numbers: list[int], rejected: list[Rejected]) -> RawTable:
    """Empty strings become None; rows with no value at all are blank lines, not records."""
    frame = frame.astype(object)
    frame = frame.where(frame != "", None)
    warnings = []
    if len(frame.columns):
        blank = frame.isna().all(axis=1).to_numpy()
        if blank.any():
            keep = ~blank
            frame = frame[keep].reset_index(drop=True)
            numbers = [n for n, k in zip(numbers, keep, strict=True) if k]
            warnings.append(f"skipped {int(blank.sum())} blank row(s)")
    return RawTable(frame=frame, source_row=numbers, rejected=rejected, warnings=warnings)
