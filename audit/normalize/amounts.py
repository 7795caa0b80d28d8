"""Numbers and yes/no flags as exports write them: '$1,234.50', '₩1,000,000', '1.234,50',
'(120)', '20%', 'TRUE', 'Yes', '예', 'はい', '是'."""

from __future__ import annotations

import re

import numpy as np
import pandas as pd

from audit.text import fold

from .columns import factorize

_CURRENCY = re.compile(r"[^\d.,\-+()%eE]")
_TRUE = {"true", "t", "yes", "y", "1", "on", "예", "네", "はい", "是", "対", "x", "✓", "checked"}
_FALSE = {"false", "f", "no", "n", "0", "off", "아니오", "아니요", "いいえ", "否", "unchecked"}


def parse_number(value: object) -> float | None:
    """A float from a money/number string, or None when it is not a number."""
    if value is None:
        return None
    if isinstance(value, int | float):
        return float(value)
    s = fold(str(value)).replace(" ", "")
    if not s or not any(c.isdigit() for c in s):
        return None
    pct = s.endswith("%")
    neg = s.startswith("(") and s.endswith(")")
    s = _CURRENCY.sub("", s).strip("()%")
    if s.count(",") and s.count("."):
        if s.rfind(",") > s.rfind("."):  # 1.234,50
            s = s.replace(".", "").replace(",", ".")
        else:
            s = s.replace(",", "")
    elif s.count(",") == 1 and len(s.split(",")[1]) != 3:  # 12,5 (decimal comma)
        s = s.replace(",", ".")
    else:
        s = s.replace(",", "")
    try:
        out = float(s)
    except ValueError:
        return None
    if out != out or out in (float("inf"), float("-inf")):
        return None
    out = -out if neg else out
    return out / 100 if pct else out


def parse_numbers(series: pd.Series) -> tuple[pd.Series, pd.Series]:
    """(float64 values, mask of present-but-unreadable values)."""
    if pd.api.types.is_numeric_dtype(series.dtype) and not pd.api.types.is_bool_dtype(series):
        out = series.astype("float64")
        return out, pd.Series(False, index=series.index)
    fast = pd.to_numeric(series, errors="coerce")
    codes, uniques = factorize(series)
    vals = np.array([parse_number(v) for v in uniques] + [None], dtype="float64")
    slow = pd.Series(vals[np.where(codes < 0, len(uniques), codes)], index=series.index)
    out = fast.astype("float64").where(fast.notna(), slow)
    failed = series.notna() & out.isna()
    return out.astype("float64"), failed


def parse_bool(value: object) -> bool | None:
    if value is None:
        return None
    s = fold(str(value)).casefold()
    if s in _TRUE:
        return True
    if s in _FALSE:
        return False
    return None


def parse_bools(series: pd.Series) -> tuple[pd.Series, pd.Series]:
    if pd.api.types.is_bool_dtype(series.dtype):
        return series.astype("boolean"), pd.Series(False, index=series.index)
    codes, uniques = factorize(series)
    parsed = [parse_bool(v) for v in uniques] + [None]
    picked = [parsed[c] for c in np.where(codes < 0, len(uniques), codes)]
    out = pd.Series(pd.array(picked, dtype="boolean"), index=series.index)
    failed = series.notna() & out.isna()
    return out, failed
