"""Reporting periods: every KPI is measured over a half-open window [start, end).

The bounds are midnights in the business's time zone (kpis.timezone), stored as UTC instants:
Q1 of a Seoul business starts at 2026-01-01 00:00 KST = 2025-12-31 15:00 UTC, so a deal closed
at 00:30 KST on April 1 is in Q2, and a date-only close date of January 1 is in Q1. A config
names a period the way people say it ('2026-Q1', '2026-03', '2026') or gives explicit
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
    """[start, end) as UTC instants (midnights in `tz`), with the label shown in reports."""

    start: pd.Timestamp
    end: pd.Timestamp
    label: str
    tz: str = "UTC"
    # opening hours for support durations: (start seconds, end seconds, numpy weekmask)
    hours: tuple[int, int, str] | None = None

    def mask(self, when: pd.Series) -> pd.Series:
        """True where a timestamp falls inside the period (missing timestamps never do)."""
        return ((when >= self.start) & (when < self.end)).fillna(False).astype(bool)

    @property
    def days(self) -> float:
        return (self.end - self.start).total_seconds() / 86400

    def year_before_end(self) -> KpiPeriod:
        """The 12 months ending where this period ends (annual figures such as CLV's)."""
        local_end = self.end.tz_convert(self.tz)
        start = (local_end - pd.DateOffset(years=1)).tz_convert("UTC")
        label = f"12 months to {local_end:%Y-%m-%d}"
        return KpiPeriod(pd.Timestamp(start), self.end, label, self.tz, self.hours)

    def local_date(self, when: pd.Series) -> pd.Series:
        """The calendar day of each timestamp in the business's zone ("same day" questions)."""
        return when.dt.tz_convert(self.tz).dt.date


def with_hours(period: KpiPeriod, hours: Any) -> KpiPeriod:
    """The period with the business's opening hours (kpis.business_hours), or as it is."""
    if hours is None:
        return period
    from dataclasses import replace

    def sec(hhmm: str) -> int:
        h, m = hhmm.split(":")
        return int(h) * 3600 + int(m) * 60

    days = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
    mask = "".join("1" if d in hours.days else "0" for d in days)
    return replace(period, hours=(sec(hours.start), sec(hours.end), mask))


def midnight(d: dt.date, tz: str = "UTC") -> pd.Timestamp:
    """Midnight of `d` in `tz`, as a UTC instant."""
    return pd.Timestamp(d.year, d.month, d.day).tz_localize(tz).tz_convert("UTC")


def _span(start: dt.date, end: dt.date, label: str, tz: str) -> KpiPeriod:
    return KpiPeriod(midnight(start, tz), midnight(end, tz), label, tz)


def _quarter(year: int, q: int, tz: str = "UTC") -> KpiPeriod:
    start = dt.date(year, 3 * (q - 1) + 1, 1)
    end = dt.date(year + 1, 1, 1) if q == 4 else dt.date(year, 3 * q + 1, 1)
    return _span(start, end, f"{year}-Q{q}", tz)


def previous_quarter(as_of: dt.date, tz: str = "UTC") -> KpiPeriod:
    q = (as_of.month - 1) // 3 + 1
    return _quarter(as_of.year - 1, 4, tz) if q == 1 else _quarter(as_of.year, q - 1, tz)


def parse_period(spec: Any, *, as_of: dt.date, tz: str | None = None) -> KpiPeriod:
    """Turn '2026-Q1', '2026-03', '2026', {start, end} or None into a period in zone `tz`.

    Example:
        parse_period("2026-Q1", as_of=dt.date(2026, 5, 2), tz="Asia/Seoul")
        # [2026-01-01 00:00 KST, 2026-04-01 00:00 KST)
    """
    tz = tz or "UTC"
    if spec is None or (isinstance(spec, str) and not spec.strip()):
        return previous_quarter(as_of, tz)
    start = getattr(spec, "start", None)
    if start is None and isinstance(spec, dict):
        start = spec.get("start")
    if start is not None:
        end = getattr(spec, "end", None) if not isinstance(spec, dict) else spec.get("end")
        s, e = pd.Timestamp(start), pd.Timestamp(end)
        s = s.tz_localize(tz) if s.tzinfo is None else s
        e = e.tz_localize(tz) if e.tzinfo is None else e
        if not e > s:
            raise ConfigError(f"kpis.period: end {end} must be after start {start}.")
        label = f"{s:%Y-%m-%d}..{e:%Y-%m-%d}"
        return KpiPeriod(s.tz_convert("UTC"), e.tz_convert("UTC"), label, tz)
    text = str(spec).strip().upper()
    if m := re.fullmatch(r"(\d{4})-?Q([1-4])", text):
        return _quarter(int(m[1]), int(m[2]), tz)
    if m := re.fullmatch(r"(\d{4})-(\d{1,2})", text):
        year, month = int(m[1]), int(m[2])
        if not 1 <= month <= 12:
            raise ConfigError(f"kpis.period: month {month} in {spec!r} is not 1..12.")
        end = dt.date(year + 1, 1, 1) if month == 12 else dt.date(year, month + 1, 1)
        return _span(dt.date(year, month, 1), end, f"{year}-{month:02d}", tz)
    if m := re.fullmatch(r"(\d{4})", text):
        year = int(m[1])
        return _span(dt.date(year, 1, 1), dt.date(year + 1, 1, 1), str(year), tz)
    raise ConfigError(
        f"kpis.period: {spec!r} is not a period; use 2026-Q1, 2026-03, 2026 "
        "or {start: 2026-01-01, end: 2026-04-01}."
    )
