"""KPIs stage (PLACEHOLDER, being built)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping

import pandas as pd

from audit.config import KpiConfig
from audit.model import Records


def kpi_needs(cfg: KpiConfig) -> dict[str, list[str]]:
    return {}


def compute_kpis(
    records: Records,
    cfg: KpiConfig,
    *,
    as_of: dt.date,
    withheld: Mapping[str, str] | None = None,
) -> pd.DataFrame:
    return pd.DataFrame(columns=["kpi_id", "title", "period", "value", "unit", "n"])
