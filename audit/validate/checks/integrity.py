"""Referential integrity: deals, tickets, subscriptions must point at contacts that exist."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Literal

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from audit.emailkey import email_key, key_columns

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
        ctx.cache[tag] = _known(target[rule.params.column], norm, by_email)
    known = ctx.cache[tag]
    codes, uniques = pd.factorize(s, use_na_sentinel=True)
    missing: list[str | None] = [None] * len(uniques)
    slow: list[int] = list(range(len(uniques)))
    if s.dtype == "str" and len(uniques):
        # a value with no separator and nothing to strip is missing exactly when its normal
        # form is not among the target's: one Arrow lookup for all of them
        text = pa.array(pd.array(uniques, dtype="str"))
        fast = _plain(text, by_email)
        if rule.params.separator:
            fast &= ~_np(pc.match_substring(text, rule.params.separator))
        found = _np(pc.is_in(_normed(text, by_email), value_set=known))
        gone_at = np.flatnonzero(fast & ~found)
        for at, v in zip(gone_at.tolist(), text.take(pa.array(gone_at)).to_pylist(), strict=True):
            missing[at] = v
        slow = np.flatnonzero(~fast).tolist()
    if len(slow) and (tag, "set") not in ctx.cache:
        ctx.cache[tag, "set"] = set(known.to_pylist())
    for i in slow:
        u = str(uniques[i])
        parts = u.split(rule.params.separator) if rule.params.separator else [u]
        gone = [p.strip() for p in parts if p.strip() and norm(p) not in ctx.cache[tag, "set"]]
        missing[i] = ", ".join(gone) if gone else None
    per_row = np.asarray([*missing, None], dtype=object)[np.where(codes < 0, len(uniques), codes)]
    evidence = pd.Series(per_row, index=frame.index, dtype=object)
    bad = evidence.notna()
    evidence[bad] = (
        "not found in " + rule.params.to + "." + rule.params.column + ": " + evidence[bad]
    )
    return Outcome(failed=bad, evidence=evidence)


# Text whose first and last characters are printable ASCII (nothing for strip() to take), and
# for email matching ASCII throughout (lower() and the key as Arrow computes them).
_ENDS = "(?s)^[!-~](?:.*[!-~])?$"
_ENDS_ASCII = r"(?s)^[!-~](?:[\x00-\x7f]*[!-~])?$"


def _np(arr: pa.Array | pa.ChunkedArray) -> np.ndarray:
    return np.asarray(pc.fill_null(arr, False).to_numpy(zero_copy_only=False), dtype=bool)


def _plain(text: pa.Array, by_email: bool) -> np.ndarray:
    """Where `_normed` gives what `norm` gives one value at a time."""
    return _np(pc.match_substring_regex(text, _ENDS_ASCII if by_email else _ENDS))


def _normed(text: pa.Array, by_email: bool) -> pa.Array:
    """`norm` of the `_plain` texts as Arrow: the text, or its email key (else lower-cased)."""
    if not by_email:
        return text
    keys, _ = key_columns(text)
    return pc.coalesce(keys, pc.utf8_lower(text))


def _known(target: pd.Series, norm: Callable[[str], str], by_email: bool) -> pa.Array:
    """The target column's distinct values in normal form (`norm`), as Arrow text."""
    values = target.dropna().unique()
    if target.dtype != "str":
        return pa.array(sorted({norm(str(v)) for v in values}), pa.large_string())
    text = pa.array(pd.array(values, dtype="str"))
    plain = _plain(text, by_email)
    rest = [norm(v) for v in text.filter(pa.array(~plain)).to_pylist()]
    return pa.concat_arrays(
        [_normed(text.filter(pa.array(plain)), by_email), pa.array(rest, text.type)]
    )
