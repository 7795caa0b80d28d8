"""Referential integrity: deals, tickets, subscriptions must point at contacts that exist."""

from __future__ import annotations

from typing import Any, Literal

import numpy as np
import pandas as pd

from audit.emailkey import email_key

from ..kinds import Context, Outcome, Params, Scope, Skip, kind
from .basic import column


class RefParams(Params):
    to: str = "contacts"  # target entity
    column: str = "external_id"  # target column
    match: Literal["exact", "email"] = "exact"  # email: compare email keys (Gmail dots folded)
    separator: str | None = ";"  # multi-valued fields ('101;102'): every listed value must exist


@kind("references", params=RefParams, scope=lambda r: Scope("reference", (), (r.params.to,)))
def references(frame: pd.DataFrame, rule: Any, ctx: Context) -> Outcome:
    """Present values must exist in `to`.`column` (by exact value or by email key)."""
    s = column(frame, rule.field)
    target = ctx.records.get(rule.params.to)
    if target is None or len(target) == 0:
        raise Skip(f"no {rule.params.to} records to point at")
    if rule.params.column not in target.columns or target[rule.params.column].isna().all():
        raise Skip(f"{rule.params.to} has no {rule.params.column} values")
    by_email = rule.params.match == "email"

    def norm(v: str) -> str:
        v = v.strip()
        return (email_key(v) or v.lower()) if by_email else v

    # several rules point at the same target column (deals, tickets, subscriptions -> contacts)
    tag = ("references", rule.params.to, rule.params.column, by_email)
    if tag not in ctx.cache:
        ctx.cache[tag] = {norm(str(v)) for v in target[rule.params.column].dropna().unique()}
    known = ctx.cache[tag]
    codes, uniques = pd.factorize(s, use_na_sentinel=True)
    missing: list[str | None] = []
    for u in uniques:
        parts = str(u).split(rule.params.separator) if rule.params.separator else [str(u)]
        gone = [p.strip() for p in parts if p.strip() and norm(p) not in known]
        missing.append(", ".join(gone) if gone else None)
    per_row = np.asarray([*missing, None], dtype=object)[np.where(codes < 0, len(uniques), codes)]
    evidence = pd.Series(per_row, index=frame.index, dtype=object)
    bad = evidence.notna()
    evidence[bad] = (
        "not found in " + rule.params.to + "." + rule.params.column + ": " + evidence[bad]
    )
    return Outcome(failed=bad, evidence=evidence)
