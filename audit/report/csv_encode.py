"""The run folder's CSV bytes, encoded column-wise with pyarrow instead of `DataFrame.to_csv`.

Why: at 1M contacts the report stage spent most of its time in pandas' CSV writer, which turns
every cell into a Python object and hands each row to the `csv` module (1.3 GB of records,
200 MB tables). Here each column is formatted and quoted as a whole Arrow array and the rows are
joined in C++, in blocks, so no full formatted copy of a table is ever held.

The bytes are those `safe.neutralize_frame(frame).to_csv(path, index=False,
encoding="utf-8-sig", lineterminator="\\r\\n", float_format=FLOAT_FORMAT)` writes, which stays
the reference (tests/test_csv_encode.py compares both on hostile tables):
- quoting as the `csv` module's QUOTE_MINIMAL: a cell with `,`, `"`, CR or LF is quoted with
  its quotes doubled, and a row of one empty cell is written `""`;
- missing values (None, NaN, NA, NaT) are empty cells; floats use `FLOAT_FORMAT`; ints and
  bools as Python prints them; other objects as `str()`;
- datetimes as pandas prints them: its resolution (none, .mmm, .uuuuuu, .nnnnnnnnn) is chosen
  per block of `100_000 // columns` rows, as pandas' chunks do; a naive column whose block holds
  only midnights prints dates; UTC columns end with `+00:00`;
- formula neutralization of text cells is `safe.neutralize`'s own rule, cell by cell, on the
  (few) cells whose start could need it.
One deliberate difference: a number inside a text (object) column that starts like a formula
(-1) is written as its own text; `neutralize_frame` turned it into a float (-1.0) on the way.
The run folder's object columns hold text and None only, so their files are unchanged.
A column of any other type (another time zone, categoricals, timedeltas, Arrow-typed numbers...)
sends the whole table to pandas' writer, so the bytes are right by construction there.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import IO, Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
from pandas.core.arrays.masked import BaseMaskedDtype

from audit import safe

ENCODING = "utf-8-sig"
LINE = "\r\n"
FLOAT_FORMAT = "%.12g"
_PANDAS_CHUNK_CELLS = 100_000  # pandas.io.formats.csvs._DEFAULT_CHUNKSIZE_CELLS
# rows formatted at once, rounded down to a multiple of pandas' chunk (see write_rows); a
# block's cells, quoted cells and joined rows are alive together: at 1 << 17 rows of contacts
# that was +220 MB of the csv writer's peak at 300k contacts, at 1 << 15 the CPU is the same
_BLOCK_ROWS = 1 << 15
# the bytes that make a cell quoted: a delimiter, a quote or a line break
_QUOTE_BYTES = np.zeros(256, dtype=bool)
_QUOTE_BYTES[list(b',"\r\n')] = True
_NAT = np.iinfo(np.int64).min
_UNIT_DIGITS = {"s": 0, "ms": 3, "us": 6, "ns": 9}
_SECONDS_PER_DAY = 86_400
# seconds since the epoch of 1000-01-01 and 9999-12-31 23:59:59: four-digit years only
_FIRST_SECOND, _LAST_SECOND = -30_610_224_000, 253_402_300_799


def write_table(frame: pd.DataFrame, path: Path, order: np.ndarray | None = None) -> Path:
    """Write `frame` as the run folder's CSV (see the module doc for the exact bytes); with
    `order` (row positions), the rows of `frame.take(order)`, taken a block at a time: the
    largest records table's sorted copy was the report stage's rise at 1M contacts."""
    path.parent.mkdir(parents=True, exist_ok=True)
    if frame.columns.empty:
        path.write_bytes(b"")
        return path
    if not all(_supported(frame.iloc[:, j]) for j in range(frame.shape[1])):
        whole = frame if order is None else frame.take(order)
        safe.neutralize_frame(whole).to_csv(
            path, index=False, encoding=ENCODING, lineterminator=LINE, float_format=FLOAT_FORMAT
        )
        return path
    with open(path, "wb") as out:
        out.write(ENCODING_BOM)
        write_rows(frame, out, order)
    return path


ENCODING_BOM = "\ufeff".encode()


def write_rows(frame: pd.DataFrame, out: IO[bytes], order: np.ndarray | None = None) -> None:
    """The header and the rows of a table whose columns are all `_supported`, as UTF-8 (the
    rows of `frame.take(order)` when `order` is given)."""
    ncols = frame.shape[1]
    header = [_quote_text(safe.neutralize(str(c)), ncols) for c in frame.columns]
    out.write((",".join(header) + LINE).encode("utf-8"))
    n = len(frame)
    chunk = (_PANDAS_CHUNK_CELLS // ncols) or 1
    block = chunk * max(1, _BLOCK_ROWS // chunk)
    for start in range(0, n, block):
        stop = min(start + block, n)
        part = frame.iloc[start:stop] if order is None else frame.take(order[start:stop])
        cells = [_quoted(_column_text(part.iloc[:, j], chunk), ncols) for j in range(ncols)]
        del part
        last = _join(cells[-1], _LINE)
        rows = _join(*cells[:-1], last, sep=",") if ncols > 1 else last
        _write_array(rows, out)


def _write_array(rows: pa.Array | pa.ChunkedArray, out: IO[bytes]) -> None:
    """The concatenated values of a string array, straight from its data buffer."""
    chunks = rows.chunks if isinstance(rows, pa.ChunkedArray) else [rows]
    for arr in chunks:
        if len(arr) == 0:
            continue
        offsets, data = safe.utf8_bytes(arr)
        out.write(data[offsets[0] : offsets[-1]].data)


def _supported(col: pd.Series) -> bool:
    dtype = col.dtype
    if _is_object(dtype) or isinstance(dtype, pd.StringDtype):
        return True
    if isinstance(dtype, pd.DatetimeTZDtype):
        return _is_utc(dtype.tz) and dtype.unit in _UNIT_DIGITS and _four_digit_years(col)
    if isinstance(dtype, np.dtype):
        if dtype.kind == "M":
            return np.datetime_data(dtype)[0] in _UNIT_DIGITS and _four_digit_years(col)
        return dtype.kind in "biuf"
    # pandas' nullable numbers and booleans (Int64, Float64, boolean)
    return isinstance(dtype, BaseMaskedDtype) and dtype.kind in "biuf"


def _is_object(dtype: Any) -> bool:
    return isinstance(dtype, np.dtype) and dtype.kind == "O"


def _is_utc(tz: Any) -> bool:
    return tz is dt.UTC or str(tz) == "UTC"


def _four_digit_years(col: pd.Series) -> bool:
    """Years 1000-9999 only (the fast path prints four digits, as pandas does for them)."""
    secs = _seconds(col)[0]
    return not len(secs) or bool(secs.min() >= _FIRST_SECOND and secs.max() <= _LAST_SECOND)


def _seconds(col: pd.Series) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Whole seconds since the epoch, the nanoseconds past them, and where NaT is (0, 0)."""
    arr: Any = col.array
    digits = _UNIT_DIGITS[arr.unit]
    ints = np.asarray(arr.asi8)
    nat = ints == _NAT
    per = 10**digits
    secs = np.floor_divide(ints, per)
    frac_ns = (ints - secs * per) * 10 ** (9 - digits)
    secs[nat] = 0
    frac_ns[nat] = 0
    return secs, frac_ns, nat


# ---------------------------------------------------------------------------------------------
# one column of a block -> Arrow text (no nulls), as pandas formats it

_EMPTY = pa.array([], type=pa.large_string())


def _text(value: str) -> pa.Scalar:
    return pa.scalar(value, pa.large_string())


_BLANK, _DOT, _QUOTE, _UTC, _LINE = (_text(v) for v in ("", ".", '"', "+00:00", LINE))


def _join(*parts: Any, sep: str = "") -> pa.Array:
    """Cell-by-cell concatenation (scalars repeat)."""
    return pc.binary_join_element_wise(*parts, _text(sep))


def _column_text(col: pd.Series, chunk: int) -> pa.Array:
    dtype = col.dtype
    if isinstance(dtype, pd.StringDtype):
        text = pa.array(col.array, type=pa.large_string()) if len(col) else _EMPTY
        return safe.neutralize_arrow(pc.fill_null(text, _BLANK))
    if _is_object(dtype):
        values = col.to_numpy(dtype=object)
        # text and missing values only (ids, extras): converted in C++, not a call per cell
        # (Arrow would also take bytes as text, which str() writes as b'...')
        plain = None
        if pd.api.types.infer_dtype(values, skipna=True) in ("string", "empty"):
            try:
                plain = pa.array(values, type=pa.large_string(), from_pandas=True)
            except (pa.ArrowInvalid, pa.ArrowTypeError):
                plain = None
        if plain is None:
            missing = pd.isna(values)
            text = pa.array(
                [
                    "" if m else (v if type(v) is str else str(v))
                    for v, m in zip(values, missing, strict=True)
                ],
                type=pa.large_string(),
            )
        else:
            text = pc.fill_null(plain, _BLANK)
        return safe.neutralize_arrow(text, values)
    if isinstance(dtype, pd.DatetimeTZDtype) or dtype.kind == "M":
        return _datetime_text(col, chunk)
    missing = col.isna().to_numpy()
    if dtype.kind == "f":
        text = _float_text(col.to_numpy(dtype="float64", na_value=np.nan))
    elif dtype.kind == "b":
        flags = col.to_numpy(dtype=bool, na_value=False)
        text = pa.array(np.where(flags, "True", "False"), type=pa.large_string())
    else:  # integers, numpy or nullable: nulls are blanked below
        ints = pa.array(col.array if isinstance(dtype, BaseMaskedDtype) else col.to_numpy())
        text = pc.cast(ints, pa.large_string())
    if missing.any():
        text = pc.if_else(pa.array(missing), _BLANK, text)
    return text


def _float_text(values: np.ndarray) -> pa.Array:
    """`FLOAT_FORMAT % v` per cell, formatted once per distinct value: scores, similarities
    and weights repeat (a pairs table of 85k rows has 10 to 1,500 distinct values a column),
    and one Python call per cell was most of duplicates.csv. NaN cells are blanked by the
    caller; -0.0 (which `unique` would fold into 0.0) keeps the call per cell."""
    if not len(values) or bool((np.signbit(values) & (values == 0)).any()):
        return pa.array([FLOAT_FORMAT % v for v in values.tolist()], type=pa.large_string())
    uniques, codes = np.unique(values, return_inverse=True)
    text = pa.array([FLOAT_FORMAT % v for v in uniques.tolist()], type=pa.large_string())
    return text.take(pa.array(codes.reshape(-1)))


def _datetime_text(col: pd.Series, chunk: int) -> pa.Array:
    """pandas' text for a naive or UTC datetime column (DatetimeArray._format_native_types):
    seconds, then the digits the finest value of each pandas chunk needs, then the offset."""
    secs, frac_ns, nat = _seconds(col)
    n = len(secs)
    # Arrow's text for a naive timestamp in seconds is pandas' (`YYYY-MM-DD HH:MM:SS`) for the
    # four-digit years written here; numpy's ISO text, then its 'T' replaced, took 20x longer
    text = pa.array(secs, type=pa.timestamp("s")).cast(pa.large_string())
    if not n:
        return text
    starts = np.arange(0, n, chunk)
    sizes = np.diff(np.append(starts, n))
    # digits a chunk shows: 0 none, 1 milli, 2 micro, 3 nano (pandas' get_resolution)
    level = np.where(
        frac_ns % 1000 != 0, 3, np.where(frac_ns % 1_000_000 != 0, 2, np.where(frac_ns, 1, 0))
    )
    per_chunk = np.maximum.reduceat(level, starts)
    if per_chunk.any():
        row_level = np.repeat(per_chunk, sizes)
        frac: Any = _BLANK
        for lv, width, div in ((1, 3, 1_000_000), (2, 6, 1000), (3, 9, 1)):
            if (per_chunk == lv).any():
                num = pc.cast(pa.array(frac_ns // div), pa.large_string())
                digits = _join(_DOT, pc.utf8_lpad(num, width, "0"))
                frac = pc.if_else(pa.array(row_level == lv), digits, frac)
        text = _join(text, frac)
    if isinstance(col.dtype, pd.DatetimeTZDtype):
        text = _join(text, _UTC)
    else:  # naive: a chunk of midnights only is written as dates
        midnight = ((secs % _SECONDS_PER_DAY == 0) & (frac_ns == 0)) | nat
        dates = np.minimum.reduceat(midnight, starts)
        if dates.any():
            row_dates = pa.array(np.repeat(dates, sizes))
            text = pc.if_else(row_dates, pc.utf8_slice_codeunits(text, 0, 10), text)
    if nat.any():
        text = pc.if_else(pa.array(nat), _BLANK, text)
    return text


# ---------------------------------------------------------------------------------------------
# quoting (csv.QUOTE_MINIMAL)


def _quoted(text: pa.Array, ncols: int) -> pa.Array:
    """Cells with a delimiter, quote or line break quoted, quotes doubled (csv.QUOTE_MINIMAL);
    in a one-column table an empty cell is `""`, as the csv module writes an empty row."""
    offsets, data = safe.utf8_bytes(text)
    # the cells holding one of _QUOTE_BYTES: one look-up per byte (a regex per cell was the
    # largest cost of the CSVs)
    at = np.flatnonzero(_QUOTE_BYTES[data[offsets[0] : offsets[-1]]]) + offsets[0]
    need = np.zeros(len(text), dtype=bool)
    need[np.searchsorted(offsets, at, side="right") - 1] = True
    if ncols == 1:
        need |= offsets[1:] == offsets[:-1]
    if not need.any():
        return text
    doubled = pc.replace_substring(text, '"', '""')
    quoted = _join(_QUOTE, doubled, _QUOTE)
    return pc.if_else(pa.array(need), quoted, text)


def _quote_text(cell: str, ncols: int) -> str:
    if any(c in cell for c in ',"\r\n') or (ncols == 1 and cell == ""):
        return '"' + cell.replace('"', '""') + '"'
    return cell
