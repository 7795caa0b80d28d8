"""Numbers and yes/no flags as exports write them: '$1,234.50', '₩1,000,000', '1.234,50',
'(120)', '20%', 'TRUE', 'Yes', '예', 'はい', '是'."""

from __future__ import annotations

import re

import numpy as np
import pandas as pd

from audit.columnwise import factorize
from audit.text import fold

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
    out = pd.to_numeric(series, errors="coerce").astype("float64")
    # only what to_numeric could not read ('$1,234.50', '20%') goes through parse_number:
    # plain numbers are most of a column's distinct values
    rest = (series.notna() & out.isna()).to_numpy(bool)
    if rest.any():
        codes, uniques = factorize(series[rest])
        vals = np.array([parse_number(v) for v in uniques] + [None], dtype="float64")
        values = out.to_numpy(dtype="float64", copy=True)
        values[rest] = vals[np.where(codes < 0, len(uniques), codes)]
        out = pd.Series(values, index=series.index)
    failed = series.notna() & out.isna()
    return out, failed


# Currency written inside an amount: symbols and words, longest first ("US$" before "$").
# "$" alone is read as USD and "¥" as JPY (the common case in the exports we read); "元", "RMB"
# and "CN¥" mark yuan. An ISO code written beside the number ("KRW 130,000") wins.
_SYMBOLS: tuple[tuple[str, str], ...] = (
    ("us$", "USD"),
    ("a$", "AUD"),
    ("au$", "AUD"),
    ("c$", "CAD"),
    ("ca$", "CAD"),
    ("hk$", "HKD"),
    ("nt$", "TWD"),
    ("s$", "SGD"),
    ("r$", "BRL"),
    ("cn¥", "CNY"),
    ("rmb", "CNY"),
    ("元", "CNY"),
    ("人民币", "CNY"),
    ("₩", "KRW"),
    ("원", "KRW"),
    ("円", "JPY"),
    ("¥", "JPY"),
    ("€", "EUR"),
    ("£", "GBP"),
    ("₹", "INR"),
    ("₫", "VND"),
    ("₱", "PHP"),
    ("฿", "THB"),
    ("$", "USD"),
)
_ISO_CODE = re.compile(r"(?<![A-Za-z])([A-Za-z]{3})(?![A-Za-z])")


def currency_of(value: object) -> str | None:
    """The ISO 4217 code an amount text carries ('$100' -> USD, '₩130,000' -> KRW), or None.

    Amounts typed with a symbol and no currency column were summed as plain numbers: a won
    and a dollar became the same unit. Keeping the currency lets the KPI stage refuse that.
    """
    if value is None or isinstance(value, int | float):
        return None
    s = fold(str(value)).casefold().replace(" ", "")
    if not s or not any(c.isdigit() for c in s):
        return None
    m = _ISO_CODE.search(s)
    if m and m.group(1).upper() in _ISO_CODES:
        return m.group(1).upper()
    for symbol, code in _SYMBOLS:
        if symbol in s:
            return code
    return None


def currency_code(value: object) -> str | None:
    """A currency column's value as an ISO code: 'usd' -> USD, '$' -> USD, '원' -> KRW."""
    if value is None:
        return None
    s = fold(str(value)).strip()
    if not s:
        return None
    if s.upper() in _ISO_CODES:
        return s.upper()
    low = s.casefold().replace(" ", "")
    for symbol, code in _SYMBOLS:
        if low == symbol:
            return code
    return s.upper()


_ISO_CODES = frozenset(
    {
        "AED",
        "ARS",
        "AUD",
        "BDT",
        "BGN",
        "BRL",
        "CAD",
        "CHF",
        "CLP",
        "CNY",
        "COP",
        "CZK",
        "DKK",
        "EGP",
        "EUR",
        "GBP",
        "HKD",
        "HUF",
        "IDR",
        "ILS",
        "INR",
        "ISK",
        "JPY",
        "KES",
        "KRW",
        "KZT",
        "MNT",
        "MXN",
        "MYR",
        "NGN",
        "NOK",
        "NZD",
        "PEN",
        "PHP",
        "PKR",
        "PLN",
        "QAR",
        "RON",
        "RSD",
        "RUB",
        "SAR",
        "SEK",
        "SGD",
        "THB",
        "TRY",
        "TWD",
        "UAH",
        "USD",
        "VND",
        "ZAR",
    }
)


def currencies(currency: pd.Series, amount_text: pd.Series | None) -> pd.Series:
    """The currency column as ISO codes, filled from the amount's own symbol where empty."""
    from audit.columnwise import map_unique

    code = map_unique(currency, currency_code, dtype=None)
    if amount_text is not None:
        from_amount = map_unique(amount_text, currency_of, dtype=None)
        code = code.where(code.notna(), from_amount)
    return code.astype(object)


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
    picks = np.where(codes < 0, len(uniques), codes)
    values = np.array([p is True for p in parsed], dtype=bool)[picks]
    missing = np.array([p is None for p in parsed], dtype=bool)[picks]
    out = pd.Series(pd.arrays.BooleanArray(values, missing), index=series.index)
    failed = series.notna() & out.isna()
    return out, failed
