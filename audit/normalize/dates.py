"""Dates and times from every format exports use, to UTC.

ISO values (the bulk of any export) are parsed vectorized; everything else once per distinct
value: US/EU slashes and dots, 2026年1月5日, 2026. 1. 5., 2026년 1월 5일, 오전/오후 and 上午/下午
times, RFC 2822 mail dates, Excel serial numbers. Whether 03/04/2026 is March or April is decided
per column from the unambiguous values (a day above 12), never per cell. Naive times are read in
the source's timezone, then converted to UTC. A date with no time is a calendar day, not an
instant: with `date_tz` (the business's zone) it is placed at midnight there, so that
"2026-01-01" from a Seoul sheet stays January 1 in a New York business's Q1.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from audit.columnwise import factorize
from audit.text import fold

UTC_NS = "datetime64[ns, UTC]"
_ISO_NAIVE = r"\d{4}-\d{2}-\d{2}(?:[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d{1,9})?)?)?"
_ISO_TZ = r"\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d{1,9})?)?(?:Z|[+-]\d{2}:?\d{2})"
_AM = re.compile(r"(오전|上午|午前|\bam\b|\ba\.m\.)", re.I)
_PM = re.compile(r"(오후|下午|午後|\bpm\b|\bp\.m\.)", re.I)
_YMD = re.compile(
    r"^(\d{4})\s*[-/.年년]\s*(\d{1,2})\s*[-/.月월]\s*(\d{1,2})\s*[.日일]?(?:\s*\([^)]*\))?\s*(.*)$"
)
_YM = re.compile(r"^(\d{4})\s*[-/.年년]\s*(\d{1,2})\s*[月월.]?$")
_DMY = re.compile(r"^(\d{1,2})\s*([-/.])\s*(\d{1,2})\s*[-/.]\s*(\d{4}|\d{2})(?!\d)\.?\s*(.*)$")
_TIME = re.compile(
    r"^[T\s]*(\d{1,2})\s*[:時시]\s*(\d{1,2})?\s*(?:분|分)?\s*(?::?\s*(\d{1,2})\s*(?:초|秒)?)?"
    r"(?:[.,](\d{1,9}))?\s*(Z|UTC|GMT|[+-]\d{2}:?\d{2})?\s*$",
    re.I,
)
_WS = re.compile(r"\s+")
_YEAR = re.compile(r"\d{4}")
_WORD = re.compile(r"[A-Za-z]{3}")
_EXCEL = re.compile(r"^\d{5}(?:\.\d+)?$")
_ISO_DATE = r"\d{4}-\d{2}-\d{2}"
# a time of day anywhere in the text: 14:03, 14時, 2시, 오후, 下午, 3 pm, or an Excel fraction
_HAS_TIME = re.compile(r"\d\s*[:時시]|오전|오후|上午|下午|午前|午後|\b[ap]\.?m\b|^\d{5}\.\d", re.I)
_EXCEL_EPOCH = dt.datetime(1899, 12, 30)
_DEFAULT = dt.datetime(2000, 1, 1)
# Outside these years a value is not a CRM date (and would overflow datetime64[ns]).
_MIN, _MAX = pd.Timestamp("1700-01-01"), pd.Timestamp("2200-12-31")


def _tzinfo(text: str | None) -> dt.tzinfo | None:
    if not text:
        return None
    t = text.upper()
    if t in ("Z", "UTC", "GMT"):
        return dt.UTC
    sign = -1 if t[0] == "-" else 1
    digits = t[1:].replace(":", "")
    return dt.timezone(sign * dt.timedelta(hours=int(digits[:2]), minutes=int(digits[2:4])))


def _time(rest: str, ampm: str | None) -> tuple[int, int, int, int, dt.tzinfo | None] | None:
    if not rest:
        return 0, 0, 0, 0, None
    m = _TIME.match(rest)
    if not m:
        return None
    h, mi, se = int(m.group(1)), int(m.group(2) or 0), int(m.group(3) or 0)
    us = int((m.group(4) or "0")[:6].ljust(6, "0"))
    if ampm == "pm" and h < 12:
        h += 12
    elif ampm == "am" and h == 12:
        h = 0
    return h, mi, se, us, _tzinfo(m.group(5))


def parse_one(value: str, *, dayfirst: bool = False) -> dt.datetime | None:
    """One date/time string to a datetime (naive = local time), or None when not a date."""
    s = fold(value).strip()
    if not s:
        return None
    if _EXCEL.match(s):
        serial = float(s)
        if 20000 <= serial <= 80000:
            return _EXCEL_EPOCH + dt.timedelta(days=serial)
        return None
    ampm = None
    if _PM.search(s):
        ampm, s = "pm", _PM.sub(" ", s)
    elif _AM.search(s):
        ampm, s = "am", _AM.sub(" ", s)
    s = _WS.sub(" ", s).strip()
    try:
        m = _YMD.match(s)
        if m:
            y, mo, d, rest = int(m.group(1)), int(m.group(2)), int(m.group(3)), m.group(4)
            t = _time(rest.strip(), ampm)
            return None if t is None else dt.datetime(y, mo, d, *t[:4], tzinfo=t[4])
        m = _DMY.match(s)
        if m:
            a, b, ys, rest = int(m.group(1)), int(m.group(3)), m.group(4), m.group(5)
            year = int(ys) + (
                2000 if len(ys) == 2 and int(ys) < 70 else 1900 if len(ys) == 2 else 0
            )
            first_is_day = dayfirst
            if a > 12 >= b:
                first_is_day = True
            elif b > 12 >= a:
                first_is_day = False
            d, mo = (a, b) if first_is_day else (b, a)
            t = _time(rest.strip(), ampm)
            return None if t is None else dt.datetime(year, mo, d, *t[:4], tzinfo=t[4])
        m = _YM.match(s)
        if m:
            return dt.datetime(int(m.group(1)), int(m.group(2)), 1)
    except ValueError:
        return None
    if _YEAR.search(s) and _WORD.search(s):
        return _dateutil(s, dayfirst, ampm)
    return None


def _dateutil(s: str, dayfirst: bool, ampm: str | None) -> dt.datetime | None:
    from dateutil import parser

    try:
        out = parser.parse(s + (f" {ampm}" if ampm else ""), dayfirst=dayfirst, default=_DEFAULT)
    except (ValueError, OverflowError, parser.ParserError):
        return None
    return out


def infer_dayfirst(values: list[str]) -> bool:
    """Per-column day/month order from the values whose first or second part is above 12."""
    day, month, dots = dayfirst_votes(values)
    return decide_dayfirst(len(day), len(month), len(dots))


def dayfirst_votes(values: list[str]) -> tuple[list[str], list[str], list[str]]:
    """The values that say day first, that say month first, and that are written with dots:
    what `infer_dayfirst` counts (an engine merges them over partitions, each value once)."""
    day: list[str] = []
    month: list[str] = []
    dots: list[str] = []
    for v in values:
        m = _DMY.match(v.strip())
        if not m:
            continue
        a, b = int(m.group(1)), int(m.group(3))
        if m.group(2) == ".":
            dots.append(v)
        if a > 12 >= b:
            day.append(v)
        elif b > 12 >= a:
            month.append(v)
    return day, month, dots


def decide_dayfirst(day: int, month: int, dots: int) -> bool:
    """Day first when more values say so; with no telling value, when dots are used."""
    if day or month:
        return day > month
    return dots > 0


def _to_utc(values: list[dt.datetime | None], tz: str) -> pd.Series:
    """Python datetimes (naive = local in tz) to a UTC ns series; out-of-range -> NaT."""
    out: list[pd.Timestamp | None] = []
    for v in values:
        if v is None:
            out.append(None)
            continue
        ts = pd.Timestamp(v)
        naive = ts.tz_localize(None) if ts.tzinfo else ts
        if not (_MIN <= naive <= _MAX):
            out.append(None)
            continue
        if ts.tzinfo is None:
            try:
                ts = ts.tz_localize(tz, ambiguous=False, nonexistent="shift_forward")
            except (ValueError, TypeError):
                out.append(None)
                continue
        out.append(ts.tz_convert("UTC"))
    return pd.to_datetime(pd.Series(out, dtype=object), utc=True).astype(UTC_NS)


def parse_dates(
    series: pd.Series,
    tz: str = "UTC",
    *,
    dayfirst: bool | Callable[[list[str]], bool] | None = None,
    date_tz: str | None = None,
) -> tuple[pd.Series, pd.Series]:
    """(UTC datetimes, mask of values present but not understood). Keeps the index.

    Naive date-times are local times in `tz`; dates without a time are midnights in `date_tz`
    (default `tz`). `dayfirst` None: the day/month order is inferred from the values
    (`infer_dayfirst`); a function is given the texts that need it and decides.
    """
    date_tz = date_tz or tz
    if str(series.dtype).startswith("datetime64"):
        s = series if series.dt.tz is not None else series.dt.tz_localize(tz)
        return s.dt.tz_convert("UTC").astype(UTC_NS), pd.Series(False, index=series.index)
    codes, u = _stripped_distinct(series)
    nat = np.iinfo(np.int64).min
    res = np.full(len(u), nat, dtype=np.int64)  # UTC nanoseconds per distinct value
    if len(u):
        naive = u.str.fullmatch(_ISO_NAIVE).fillna(False).to_numpy(bool)
        aware = u.str.fullmatch(_ISO_TZ).fillna(False).to_numpy(bool)
        if naive.any():
            day = naive & u.str.fullmatch(_ISO_DATE).fillna(False).to_numpy(bool)
            clock = naive & ~day
            if clock.any():
                res[clock] = _ns(_iso(u[clock], tz, aware=False))
            if day.any():
                res[day] = _ns(_iso(u[day], date_tz, aware=False))
        if aware.any():
            res[aware] = _ns(_iso(u[aware], tz, aware=True))
        rest = ~(naive | aware) | (res == nat)
        if rest.any():
            texts = [str(v) for v in u[rest]]
            if dayfirst is None:
                df = infer_dayfirst(texts)
            else:
                df = dayfirst(texts) if callable(dayfirst) else dayfirst
            parsed = [parse_one(t, dayfirst=df) for t in texts]
            if date_tz == tz:
                res[rest] = _ns(_to_utc(parsed, tz))
            else:
                day = np.array([not _HAS_TIME.search(t) for t in texts], dtype=bool)
                both = np.empty(len(texts), dtype=np.int64)
                both[~day] = _ns(
                    _to_utc([p for p, d in zip(parsed, day, strict=True) if not d], tz)
                )
                both[day] = _ns(
                    _to_utc([p for p, d in zip(parsed, day, strict=True) if d], date_tz)
                )
                res[rest] = both
    lo, hi = pd.Timestamp(_MIN, tz="UTC").value, pd.Timestamp(_MAX, tz="UTC").value
    res[(res < lo) | (res > hi)] = nat  # the same bounds in UTC, whatever the local zone
    picked = np.append(res, nat)[np.where(codes < 0, len(res), codes)]
    out = pd.Series(pd.DatetimeIndex(picked.view("M8[ns]")).tz_localize("UTC"), index=series.index)
    out = out.astype(UTC_NS)
    failed = pd.Series(codes >= 0, index=series.index) & out.isna()
    return out, failed


# Text whose first and last characters are printable ASCII: nothing for str.strip() to take.
_BARE = "(?s)^[!-~](?:.*[!-~])?$"


def _stripped_distinct(series: pd.Series) -> tuple[np.ndarray, pd.Series]:
    """Codes and the distinct values, stripped, as text.

    An Arrow text column whose distinct values need no stripping (nearly every export) stays
    Arrow: a Python string per distinct value, stripped and turned back into Arrow, cost about
    as much as reading the ISO values themselves.
    """
    if series.dtype == "str":
        codes, uniques = pd.factorize(series, use_na_sentinel=True)
        text = pd.array(uniques, dtype="str")
        # RE2's '$' is the very end ('\n' is not printable): pyarrow, not pandas' str.match,
        # which would run Python's re on text holding a newline, whose '$' is not
        bare = pc.match_substring_regex(pa.array(text), _BARE)
        if len(text) == 0 or pc.all(pc.fill_null(bare, False)).as_py():
            return codes, pd.Series(text)
        return codes, pd.Series(pd.array([str(v).strip() for v in text], dtype="str"))
    codes, objects = factorize(series)
    return codes, pd.Series(pd.array([str(v).strip() for v in objects], dtype="str"))


def _ns(s: pd.Series) -> np.ndarray:
    """UTC nanoseconds of a tz-aware series (NaT as int64 min)."""
    return s.astype(UTC_NS).array.asi8


def _iso(u: pd.Series, tz: str, *, aware: bool) -> pd.Series:
    if aware:
        parsed = pd.to_datetime(u, format="ISO8601", utc=True, errors="coerce")
    else:
        parsed = pd.to_datetime(u, format="ISO8601", errors="coerce")
    ok = parsed.notna() & (parsed.dt.year >= _MIN.year) & (parsed.dt.year <= _MAX.year)
    parsed = parsed.where(ok)
    if not aware:
        parsed = parsed.dt.tz_localize(
            tz, ambiguous=np.zeros(len(parsed), dtype=bool), nonexistent="shift_forward"
        )
    return parsed.dt.tz_convert("UTC").astype(UTC_NS)
