"""Score stage: turn the checks that ran into 0..1 quality scores, and inventory the fields.

Scores are pass rates. A rule's pass rate is 1 − failed ÷ checked; a dimension's score is the
mean pass rate of its rules (each rule counts once, whatever its row count, so one huge table
cannot drown the others); the overall score is the weighted mean of the measured dimensions.
A dimension with no rule is "not measured", never a silent 1.0. Info-severity rules are listed
in the rule table but do not move any score: they inform, they do not judge.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd

from audit.config import Thresholds
from audit.model import Issues, Matches, Records, Scorecard
from audit.schema import Dimension
from audit.score.inventory import field_inventory
from audit.score.records import COMPONENTS, owner_scores, record_scores
from audit.score.rules import DUPLICATE_RULE, duplicate_excess, rule_table

__all__ = ["COMPONENTS", "DUPLICATE_RULE", "dimension_scores", "score"]


def dimension_scores(rules: pd.DataFrame, weights: Mapping[str, float]) -> pd.DataFrame:
    """dimension, score, status, n_rules, n_checked, n_failed, n_errored, weight."""
    rows = []
    for dim in Dimension:
        mine = rules[rules["dimension"].eq(dim.value)]
        ok = mine[mine["status"].eq("ok") & mine["severity"].ne("info")]
        errored = int(mine["status"].eq("errored").sum())
        measured = len(ok) > 0
        rows.append(
            {
                "dimension": dim.value,
                "score": float(ok["pass_rate"].mean()) if measured else float("nan"),
                "status": "measured" if measured else ("errored" if errored else "not_measured"),
                "n_rules": len(ok),
                "n_checked": int(ok["n_checked"].sum()),
                "n_failed": int(ok["n_failed"].sum()),
                "n_errored": errored,
                "weight": float(weights.get(dim, weights.get(dim.value, 1.0))),
            }
        )
    return pd.DataFrame(rows)


def overall_score(by_dimension: pd.DataFrame) -> float:
    m = by_dimension[by_dimension["status"].eq("measured") & by_dimension["weight"].gt(0)]
    if m.empty:
        return 0.0
    return float((m["score"] * m["weight"]).sum() / m["weight"].sum())


def field_scores(rules: pd.DataFrame, inventory: pd.DataFrame) -> pd.DataFrame:
    """Per entity.field: fill rate, validity (validity, consistency, integrity rules), score."""
    cols = ["entity", "field", "fill_rate", "validity", "score", "n_rules", "n_checked", "n_failed"]
    r = rules[rules["status"].eq("ok") & rules["severity"].ne("info") & rules["field"].ne("")]
    stats: dict[tuple[str, str], dict[str, float]] = {}
    for (entity, field), g in r.groupby(["entity", "field"], sort=True):
        nonc = g[g["dimension"].isin(["validity", "consistency", "integrity"])]
        stats[(entity, field)] = {
            "validity": float(1 - nonc["n_failed"].sum() / nonc["n_checked"].sum())
            if nonc["n_checked"].sum()
            else float("nan"),
            "score": float(1 - g["n_failed"].sum() / g["n_checked"].sum())
            if g["n_checked"].sum()
            else float("nan"),
            "n_rules": len(g),
            "n_checked": int(g["n_checked"].sum()),
            "n_failed": int(g["n_failed"].sum()),
        }
    rows = []
    inv = inventory[inventory["kind"].ne("extra")]
    fill = {
        (e, f): fr for e, f, fr in zip(inv["entity"], inv["field"], inv["fill_rate"], strict=True)
    }
    for key in sorted(set(fill) | set(stats)):
        s = stats.get(key, {})
        fr = fill.get(key, float("nan"))
        rows.append(
            {
                "entity": key[0],
                "field": key[1],
                "fill_rate": fr,
                "validity": s.get("validity", float("nan")),
                "score": s.get("score", fr),
                "n_rules": int(s.get("n_rules", 0)),
                "n_checked": int(s.get("n_checked", 0)),
                "n_failed": int(s.get("n_failed", 0)),
            }
        )
    return pd.DataFrame(rows, columns=cols)


def source_scores(
    records: Records,
    issues: Issues,
    matches: Matches,
    rules: pd.DataFrame,
    weights: Mapping[str, float],
) -> pd.DataFrame:
    """Long table: source, dimension (incl. 'overall'), score, n_records."""
    src_of: dict[str, str] = {}
    rows_by: dict[tuple[str, str], int] = {}
    n_entity: dict[str, int] = {}
    for entity, frame in records.items():
        if frame is None or frame.empty:
            continue
        src = frame["source"].astype(str)
        src_of.update(
            zip(
                frame["record_id"].astype(str).to_numpy(dtype=object),
                src.to_numpy(dtype=object),
                strict=True,
            )
        )
        for s, n in src.value_counts().items():
            rows_by[(entity, str(s))] = int(n)
        n_entity[entity] = len(frame)
    sources = sorted({s for _, s in rows_by})
    failed_by: dict[tuple[str, str], int] = {}
    if issues is not None and len(issues):
        iss = issues[issues["record_id"].notna()]
        iss = iss.assign(_src=iss["record_id"].astype(str).map(src_of))
        g = iss.dropna(subset=["_src"]).groupby(["rule_id", "_src"])["record_id"].nunique()
        failed_by = {(str(r), str(s)): int(n) for (r, s), n in g.items()}
    with_issue_rows = {r for r, _ in failed_by}
    _, dup_members = duplicate_excess(matches)
    dup_excess = rules.loc[rules["rule_id"].eq(DUPLICATE_RULE), "n_failed"].sum()
    dup_by_src: dict[str, int] = {}
    for m in dup_members:
        if m in src_of:
            dup_by_src[src_of[m]] = dup_by_src.get(src_of[m], 0) + 1
    shrink = dup_excess / len(dup_members) if dup_members else 0.0
    out = []
    ok_rules = rules[rules["status"].eq("ok") & rules["severity"].ne("info")]
    for s in sources:
        n_records = sum(n for (e, src), n in rows_by.items() if src == s)
        dims: dict[str, list[float]] = {}
        for r in ok_rules.itertuples():
            rows_s = rows_by.get((r.entity, s), 0)
            if not rows_s or not n_entity.get(r.entity):
                continue
            checked_s = r.n_checked * rows_s / n_entity[r.entity]
            if r.rule_id == DUPLICATE_RULE:
                failed_s = dup_by_src.get(s, 0) * shrink
            elif r.rule_id in with_issue_rows:
                failed_s = failed_by.get((r.rule_id, s), 0)
            else:
                failed_s = r.n_failed * rows_s / n_entity[r.entity]
            if checked_s > 0:
                dims.setdefault(r.dimension, []).append(1 - min(1.0, failed_s / checked_s))
        scores = {d: float(np.mean(v)) for d, v in dims.items()}
        for d, v in sorted(scores.items()):
            out.append({"source": s, "dimension": d, "score": v, "n_records": n_records})
        w = {d: float(weights.get(d, 1.0)) for d in scores}
        total = sum(w.values())
        overall = sum(scores[d] * w[d] for d in scores) / total if total else float("nan")
        out.append({"source": s, "dimension": "overall", "score": overall, "n_records": n_records})
    return pd.DataFrame(out, columns=["source", "dimension", "score", "n_records"])


def score(
    records: Records,
    issues: Issues,
    matches: Matches,
    cfg: Thresholds,
    *,
    checked: pd.DataFrame | None = None,
    kpi_needs: Mapping[str, Sequence[str]] | None = None,
) -> Scorecard:
    """Score the records from the checks that ran (`checked`), the findings and the duplicates.

    Example:
        sc = score(records, issues, matches, cfg.thresholds, checked=validation.checked)
        sc.overall, sc.by_dimension, sc.by_owner.head()
    """
    records = {e: f for e, f in records.items() if f is not None}
    n_rows = {e: len(f) for e, f in records.items()}
    weights = {str(k): float(v) for k, v in cfg.weights.items()}
    rules = rule_table(checked, issues, matches, n_rows)
    by_dimension = dimension_scores(rules, weights)
    inventory = field_inventory(records, rules, kpi_needs or {})
    by_record = record_scores(records, issues, matches, rules)
    return Scorecard(
        overall=overall_score(by_dimension),
        by_dimension=by_dimension,
        by_source=source_scores(records, issues, matches, rules, weights),
        by_owner=owner_scores(by_record),
        by_record=by_record,
        by_field=field_scores(rules, inventory),
        by_rule=rules,
        inventory=inventory,
    )
