"""Kinds that compare fields of one record: 'closed deals need a close date', 'solved after
created'."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from audit import schema
from audit.text import key

from ..kinds import Context, Outcome, Params, Scope, kind
from .basic import column


class RequiredIfParams(Params):
    when: str | list[str]  # condition field(s): any of them holding makes the field required
    equals: list[Any] | None = None  # text fields: one of these (case, spaces, _ ignored)


def _fields(rule: Any) -> tuple[str, ...]:
    w = rule.params.when
    return (w,) if isinstance(w, str) else tuple(w)


def _fold(v: Any) -> str:
    return key(str(v))


@kind("required_if", params=RequiredIfParams, columns=_fields)
def required_if(frame: pd.DataFrame, rule: Any, ctx: Context) -> Outcome:
    """The field must have a value where any `when` field holds (true, one of `equals`, or
    simply present for text without `equals`)."""
    s = column(frame, rule.field)
    cond = pd.Series(False, index=frame.index)
    usable = [f for f in _fields(rule) if f in frame.columns]
    if not usable:
        column(frame, _fields(rule)[0])  # raises Skip naming the column
    wanted = None if rule.params.equals is None else {_fold(v) for v in rule.params.equals}
    for f in usable:
        c = frame[f]
        if pd.api.types.is_bool_dtype(c.dtype):
            cond |= c.astype("boolean").fillna(False).astype(bool)
        elif wanted is None:
            cond |= c.notna()
        else:
            codes, uniques = pd.factorize(c, use_na_sentinel=True)
            hit = np.asarray([_fold(u) in wanted for u in uniques] + [False], dtype=bool)
            cond |= pd.Series(hit[np.where(codes < 0, len(uniques), codes)], index=frame.index)
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


def _value_codes(s: pd.Series) -> np.ndarray:
    """One integer per distinct text of the column's values (-1 for missing): the rows of two
    values are the same exactly when str() of the values is, without writing every cell as
    text (a million datetimes cost seconds to format)."""
    missing = s.isna().to_numpy(bool)
    if s.dtype.kind == "f":  # by bit pattern: 0.0 and -0.0 are written differently
        values: Any = s.to_numpy(dtype="float64").view("int64")
    elif s.dtype == object:  # 1 and '1' are the same text but not the same value
        values = s.astype(str)
    else:
        values = s
    codes, _ = pd.factorize(values, use_na_sentinel=True)
    codes[missing] = -1
    return codes


class DuplicateRowParams(Params):
    within: str = "source"  # rows are the same record only inside one source (one export)


@kind(
    "duplicate_row",
    params=DuplicateRowParams,
    needs_field=False,
    scope=lambda r: Scope("key", (r.params.within,)),
)
def duplicate_row(frame: pd.DataFrame, rule: Any, ctx: Context) -> Outcome:
    """A row with no record id whose every canonical value repeats an earlier row of the same
    source (an export taken twice, a pasted block): every copy after the first is reported.

    Rows with an id are the id-uniqueness rule's to report, so one defect is one finding. The
    same deal exported twice doubles its weight in close rate and cycle length; the KPI stage's
    clean view keeps the first copy only (audit.kpis.impact.clean_records).
    """
    cols = [c for c in schema.content_columns(rule.entity) if c in frame.columns]
    within = rule.params.within
    column(frame, within)
    content = frame[cols]
    filled = content.notna().any(axis=1)
    if "external_id" in frame.columns:
        filled &= frame["external_id"].isna()
    keyed = pd.DataFrame({i: _value_codes(frame[c]) for i, c in enumerate([within, *cols])})
    dup = keyed.duplicated(keep="first") & filled
    evidence = pd.Series(None, index=frame.index, dtype=object)
    if dup.any():
        first = keyed.groupby(list(keyed.columns), sort=False).ngroup()
        first_row = frame.groupby(first.to_numpy(), sort=False)["record_id"].transform("first")
        evidence[dup] = [f"same as {r}" for r in first_row[dup]]
    return Outcome(failed=dup, checked=filled, evidence=evidence)
