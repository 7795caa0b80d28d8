"""Kinds that compare fields of one record: 'closed deals need a close date', 'solved after
created'."""

from __future__ import annotations

from typing import Any

import pandas as pd

from ..kinds import Context, Outcome, Params, kind
from .basic import column


class RequiredIfParams(Params):
    when: str  # the condition field
    equals: list[Any] | None = None  # condition: `when` is one of these; default: is true


@kind("required_if", params=RequiredIfParams, columns=lambda r: (r.params.when,))
def required_if(frame: pd.DataFrame, rule: Any, ctx: Context) -> Outcome:
    """The field must have a value where `when` is true, one of `equals`, or (text) present."""
    s = column(frame, rule.field)
    cond_col = column(frame, rule.params.when)
    if rule.params.equals is None and pd.api.types.is_bool_dtype(cond_col.dtype):
        cond = cond_col.astype("boolean").fillna(False).astype(bool)
    elif rule.params.equals is None:
        cond = cond_col.notna()
    else:
        wanted = {str(v).casefold() for v in rule.params.equals}
        cond = (
            cond_col.astype(object)
            .map(lambda v: v is not None and v == v and str(v).casefold() in wanted)
            .astype(bool)
        )
    return Outcome(failed=cond & s.isna(), checked=cond)


class AfterParams(Params):
    after: str  # the field that must come first
    tolerance_minutes: float = 0


@kind("date_order", params=AfterParams, columns=lambda r: (r.params.after,))
def date_order(frame: pd.DataFrame, rule: Any, ctx: Context) -> Outcome:
    """When both are present, the field must not be earlier than `after`."""
    s = column(frame, rule.field)
    first = column(frame, rule.params.after)
    both = s.notna() & first.notna()
    late = s < first - pd.Timedelta(minutes=rule.params.tolerance_minutes)
    evidence = pd.Series(None, index=frame.index, dtype=object)
    bad = (both & late).fillna(False).astype(bool)
    if bad.any():
        evidence[bad] = [f"{rule.params.after} is {f:%Y-%m-%d %H:%M} UTC" for f in first[bad]]
    return Outcome(failed=bad, checked=both, evidence=evidence)
