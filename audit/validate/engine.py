"""Run rules: each check returns masks; one helper turns any mask into Issues rows.

Every rule that was asked for appears in `checked`, with a status: ok, skipped (the entity or
column is not in the data: nothing was checked, which the gate must be able to see), or errored
(the check raised; n_checked -1 and the reason in `note`).
"""

from __future__ import annotations

import string
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from audit import schema

from .kinds import KINDS, Context, Outcome, Skip
from .rulepack import Rule

CHECKED_COLUMNS = [
    "rule_id",
    "entity",
    "field",
    "kind",
    "dimension",
    "severity",
    "n_checked",
    "n_failed",
    "status",
    "note",
]


@dataclass
class RuleRun:
    rule: Rule
    status: str
    note: str | None
    outcome: Outcome | None
    n_checked: int
    n_failed: int


class _Fmt(string.Formatter):
    """str.format that leaves unknown {names} as they are instead of raising."""

    def get_value(self, key: Any, args: Any, kwargs: Any) -> Any:
        if isinstance(key, str):
            return kwargs.get(key, "{" + key + "}")
        return super().get_value(key, args, kwargs)


_FMT = _Fmt()


def run_rule(rule: Rule, ctx: Context) -> RuleRun:
    frame = ctx.records.get(rule.entity)
    if frame is None:
        return RuleRun(rule, "skipped", f"no {rule.entity} records", None, 0, 0)
    kind = KINDS.get(rule.kind)
    try:
        out = kind.check(frame, rule, ctx)
    except Skip as e:
        return RuleRun(rule, "skipped", str(e), None, 0, 0)
    except Exception as e:  # a check bug must not hide the other rules' findings
        return RuleRun(rule, "errored", f"{type(e).__name__}: {e}", None, -1, 0)
    failed = out.failed.fillna(False).astype(bool)
    if out.checked is None:
        checked = frame[rule.field].notna() if rule.field in frame.columns else failed
    else:
        checked = out.checked.fillna(False).astype(bool)
    out.failed, out.checked = failed, checked | failed
    n_checked, n_failed = int(out.checked.sum()), int(failed.sum())
    status = "ok" if n_checked else "empty"
    note = None if n_checked else f"no {rule.field} values to check"
    return RuleRun(rule, status, note, out, n_checked, n_failed)


def _text(v: Any) -> str | None:
    if v is None or v is pd.NA or v is pd.NaT:
        return None
    if isinstance(v, float) and v != v:
        return None
    if isinstance(v, pd.Timestamp):
        return v.isoformat()
    return str(v)


def issues_for(run: RuleRun, frame: pd.DataFrame) -> pd.DataFrame:
    """Issues rows for one rule's failures: message and suggestion templates filled per row."""
    out = run.outcome
    if out is None or run.n_failed == 0:
        return schema.empty_issues()
    rule = run.rule
    m = out.failed.to_numpy(bool)
    idx = np.flatnonzero(m)
    values_src = (
        out.value
        if out.value is not None
        else (
            frame[rule.field] if rule.field in frame.columns else pd.Series(None, index=frame.index)
        )
    )
    values = [_text(v) for v in values_src.iloc[idx]]
    params = {k: v for k, v in rule.param_dict().items() if not isinstance(v, list | dict)}
    base = {"field": rule.field or "", **params}
    extra = {k: [_text(v) for v in s.iloc[idx]] for k, s in out.extra.items()}
    columns = {"value": values, **extra}
    messages = _render(rule.message, base, columns, len(idx))
    suggestions = _render(rule.suggestion, base, columns, len(idx))
    if out.suggestion is not None:
        own = [_text(v) for v in out.suggestion.iloc[idx]]
        suggestions = [o if o is not None else s for o, s in zip(own, suggestions, strict=True)]
    evidence = [_text(v) for v in out.evidence.iloc[idx]] if out.evidence is not None else None
    return pd.DataFrame(
        {
            "record_id": frame["record_id"].iloc[idx].astype(object).to_numpy(),
            "entity": rule.entity,
            "field": rule.field,
            "rule_id": rule.id,
            "dimension": rule.dimension,
            "severity": rule.severity,
            "message": messages,
            "value": values,
            "suggestion": suggestions,
            "evidence": evidence,
        }
    )


def _render(
    template: str | None, base: dict[str, Any], columns: dict[str, list[Any]], n: int
) -> list[str | None]:
    """Fill a message template for n rows at once: constants once, per-row fields by column."""
    if template is None:
        return [None] * n
    try:
        parts = list(_FMT.parse(template))
    except ValueError:
        return [template] * n
    out = np.full(n, "", dtype=object)
    for literal, name, spec, _conv in parts:
        if literal:
            out = out + literal
        if name is None:
            continue
        if name in columns:
            col = np.asarray(["" if v is None else v for v in columns[name]], dtype=object)
            out = out + col
        elif name in base:
            out = out + _FMT.format_field(base[name], spec or "")
        else:
            out = out + ("{" + name + "}")
    return list(out)


def checked_frame(runs: list[RuleRun]) -> pd.DataFrame:
    rows = [
        {
            "rule_id": r.rule.id,
            "entity": r.rule.entity,
            "field": r.rule.field,
            "kind": r.rule.kind,
            "dimension": r.rule.dimension,
            "severity": r.rule.severity,
            "n_checked": r.n_checked,
            "n_failed": r.n_failed,
            "status": r.status,
            "note": r.note,
        }
        for r in runs
    ]
    frame = pd.DataFrame(rows, columns=CHECKED_COLUMNS)
    frame["n_checked"] = frame["n_checked"].astype("int64")
    frame["n_failed"] = frame["n_failed"].astype("int64")
    return frame.sort_values("rule_id", kind="stable").reset_index(drop=True)
