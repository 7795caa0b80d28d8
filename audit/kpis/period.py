"""Reporting periods: every KPI is measured over a half-open window [start, end) in UTC.

A config names a period the way people say it ('2026-Q1', '2026-03', '2026') or gives explicit
dates; without one, the quarter before `as_of` is used, because the current quarter is not over
and a half-finished quarter makes every rate look wrong.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from typing import Any

import pandas as pd

from audit.errors import ConfigError


@dataclass(frozen=True)
class KpiPeriod:
    """[start, end) in UTC, with the label shown in reports."""

    start: pd.Timestamp
    end: pd.Timestamp
    label: str

    def mask(self, when: pd.Series) -> pd.Series:
        """True where a timestamp falls inside the period (missing timestamps never do)."""
        return ((when >= self.start) & (when < self.end)).fillna(False).astype(bool)

    @property
    def days(self) -> float:
        return (self.end - self.start).total_seconds() / 86400

    def year_before_end(self) -> KpiPeriod:
        """The 12 months ending where this period ends (annual figures such as CLV's)."""
        start = self.end - pd.DateOffset(years=1)
        return KpiPeriod(pd.Timestamp(start), self.end, f"12 months to {self.end:%Y-%m-%d}")


def _ts(d: dt.date) -> pd.Timestamp:
    return pd.Timestamp(d.year, d.month, d.day, tz="UTC")


def _quarter(year: int, q: int) -> KpiPeriod:
    start = dt.date(year, 3 * (q - 1) + 1, 1)
    end = dt.date(year + 1, 1, 1) if q == 4 else dt.date(year, 3 * q + 1, 1)
    return KpiPeriod(_ts(start), _ts(end), f"{year}-Q{q}")


def previous_quarter(as_of: dt.date) -> KpiPeriod:
    q = (as_of.month - 1) // 3 + 1
    return _quarter(as_of.year - 1, 4) if q == 1 else _quarter(as_of.year, q - 1)


def parse_period(spec: Any, *, as_of: dt.date) -> KpiPeriod:
    """Turn '2026-Q1', '2026-03', '2026', {start, end} or None into a period.

    Example:
        parse_period("2026-Q1", as_of=dt.date(2026, 5, 2))  # [2026-01-01, 2026-04-01)
    """
    if spec is None or (isinstance(spec, str) and not spec.strip()):
        return previous_quarter(as_of)
    start = getattr(spec, "start", None)
    if start is None and isinstance(spec, dict):
        start = spec.get("start")
    if start is not None:
        end = getattr(spec, "end", None) if not isinstance(spec, dict) else spec.get("end")
        s, e = pd.Timestamp(start), pd.Timestamp(end)
        s = s.tz_localize("UTC") if s.tzinfo is None else s.tz_convert("UTC")
        e = e.tz_localize("UTC") if e.tzinfo is None else e.tz_convert("UTC")
        if not e > s:
            raise ConfigError(f"kpis.period: end {end} must be after start {start}.")
        return KpiPeriod(s, e, f"{s:%Y-%m-%d}..{e:%Y-%m-%d}")
    text = str(spec).strip().upper()
    if m := re.fullmatch(r"(\d{4})-?Q([1-4])", text):
        return _quarter(int(m[1]), int(m[2]))
    if m := re.fullmatch(r"(\d{4})-(\d{1,2})", text):
        year, month = int(m[1]), int(m[2])
        if not 1 <= month <= 12:
            raise ConfigError(f"kpis.period: month {month} in {spec!r} is not 1..12.")
        end = dt.date(year + 1, 1, 1) if month == 12 else dt.date(year, month + 1, 1)
        return KpiPeriod(_ts(dt.date(year, month, 1)), _ts(end), f"{year}-{month:02d}")
    if m := re.fullmatch(r"(\d{4})", text):
        year = int(m[1])
        return KpiPeriod(_ts(dt.date(year, 1, 1)), _ts(dt.date(year + 1, 1, 1)), str(year))
    raise ConfigError(
        f"kpis.period: {spec!r} is not a period; use 2026-Q1, 2026-03, 2026 "
        "or {start: 2026-01-01, end: 2026-04-01}."
    )
