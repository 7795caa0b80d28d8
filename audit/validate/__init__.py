"""Validate stage (PLACEHOLDER, being built)."""

from __future__ import annotations

import datetime as dt

from audit import schema
from audit.config import RulesConfig
from audit.model import Records, Validation


def validate(
    records: Records, cfg: RulesConfig, *, as_of: dt.date, stale_after_days: int = 730
) -> Validation:
    return Validation(issues=schema.empty_issues())
