"""Referential integrity: deals, tickets, subscriptions must point at contacts that exist."""

from __future__ import annotations

from typing import Any, Literal

import pandas as pd

from audit.normalize.emails import email_key

from ..kinds import Context, Outcome, Params, Skip, kind
from .basic import column


class RefParams(Params):
    to: str = "contacts"  # target entity
    column: str = "external_id"  # target column
    match: Literal["exact", "email"] = "exact"  # email: compare email keys (Gmail dots folded)


@kind("references", params=RefParams)
def references(frame: pd.DataFrame, rule: Any, ctx: Context) -> Outcome:
    """Present values must exist in `to`.`column` (by exact value or by email key)."""
    s = column(frame, rule.field)
    target = ctx.records.get(rule.params.to)
    if target is None or len(target) == 0:
        raise Skip(f"no {rule.params.to} records to point at")
    if rule.params.column not in target.columns or target[rule.params.column].isna().all():
        raise Skip(f"{rule.params.to} has no {rule.params.column} values")
    known = target[rule.params.column].dropna().astype(str)
    values = s.astype(object)
    if rule.params.match == "email":
        known_keys = set(known.map(lambda v: email_key(v) or v))
        ok = values.map(lambda v: v is None or v != v or (email_key(str(v)) or v) in known_keys)
    else:
        ok = values.map(lambda v: v is None or v != v) | s.astype("str").isin(set(known))
    return Outcome(failed=s.notna() & ~ok.astype(bool))
