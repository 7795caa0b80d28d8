"""Gate: decide from the scorecard whether the data deserves its KPIs, and say why not.

Pure and small on purpose. Reasons fail the gate; warnings fail it only with
`thresholds.strict`. Nothing passes silently: no records, no checks, or a check that errored
is a reason. Each KPI is also judged on its own inputs, so a KPI can be withheld while the
gate as a whole passes.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

import pandas as pd

from audit.config import Thresholds
from audit.messages import msg
from audit.model import Scorecard, Verdict

N_QUICK_WINS = 5


def _f(x: float) -> str:
    return f"{x:.2f}"


def quick_wins(scorecard: Scorecard, n: int = N_QUICK_WINS) -> tuple[str, ...]:
    """The rule fixes that lift the overall score most, in points (0-100 scale).

    The score stage computes each rule's `lift`: the rows where it is the only failing check
    of its dimension, as a share of the dimension's rows, times the dimension's weight share.
    """
    rules = scorecard.by_rule
    if rules is None or rules.empty or "lift" not in rules:
        return ()
    cand = rules[rules["lift"].gt(0) & rules["n_failed"].gt(0)]
    wins = sorted(zip(-cand["lift"], cand["rule_id"], cand["n_failed"], strict=True))
    return tuple(
        msg("gate.quick_win", n=int(nf), rule=rid, points=f"{-neg:.1f}")
        for neg, rid, nf in wins[:n]
        if -neg >= 0.05
    )


def _pct(x: float) -> str:
    return f"{x:.1%}".replace(".0%", "%")


def _failures(rules: pd.DataFrame, dim: str, entity: str, n: int = 3) -> str:
    """What fails in a dimension of an entity, worst rules first: '412 contacts have no email'."""
    if rules.empty:
        return ""
    mine = rules[
        rules["dimension"].eq(dim)
        & rules["entity"].eq(entity)
        & rules["status"].eq("ok")
        & rules["severity"].ne("info")
        & rules["n_failed"].gt(0)
    ].sort_values(["n_failed", "rule_id"], ascending=[False, True], kind="stable")
    parts = []
    for r in mine.head(n).itertuples():
        if r.rule_id.endswith(".required") and r.field:
            parts.append(msg("gate.have_no", n=int(r.n_failed), entity=r.entity, field=r.field))
        elif r.rule_id == "match.duplicate.records":
            parts.append(msg("gate.extra_copies", n=int(r.n_failed), entity=r.entity))
        else:
            parts.append(msg("gate.fail_rule", n=int(r.n_failed), entity=r.entity, rule=r.rule_id))
    if len(mine) > n:
        parts.append(msg("gate.more_rules", n=len(mine) - n))
    return ", ".join(parts)


def _floor_reasons(scorecard: Scorecard, floors: Mapping[str, float]) -> list[str]:
    """A reason per entity whose rows fall under a dimension's floor.

    Floors apply to each entity a dimension checks, not only to the rows pooled over all of
    them: 30% broken contact emails must not pass because 5,000 orders are fine.
    """
    ent = scorecard.by_entity
    if ent is None or ent.empty or "score" not in ent:
        return []
    rules = scorecard.by_rule if scorecard.by_rule is not None else pd.DataFrame()
    out = []
    for key, floor in floors.items():
        mine = ent[ent["dimension"].eq(key) & ent["n_checked"].gt(0)]
        for r in mine.itertuples():
            if not r.score < floor:
                continue
            name = key if len(mine) == 1 else msg("gate.dim_of", dim=key, entity=r.entity)
            detail = msg(
                "gate.rows_fail",
                n_failed=int(r.n_failed),
                n_checked=int(r.n_checked),
                entity=r.entity,
            )
            what = _failures(rules, key, r.entity)
            where = "issues.csv"
            if key == "uniqueness":
                where = msg("gate.see_both", a="duplicates.csv", b="merge_review.html")
            out.append(
                msg(
                    "gate.floor",
                    name=name,
                    score=_pct(r.score),
                    floor=_pct(floor),
                    key=key,
                    detail="; ".join(p for p in (detail, what) if p),
                    where=where,
                )
            )
    return out


def _field_quality(scorecard: Scorecard) -> dict[tuple[str, str], tuple[int, float, float]]:
    """(entity, field) -> (rows in entity, fill rate, validity)."""
    inv = scorecard.inventory
    out: dict[tuple[str, str], tuple[int, float, float]] = {}
    validity: dict[tuple[str, str], float] = {}
    bf = scorecard.by_field
    if bf is not None and not bf.empty:
        validity = {
            (e, f): v for e, f, v in zip(bf["entity"], bf["field"], bf["validity"], strict=True)
        }
    if inv is None or inv.empty:
        return out
    for e, f, n, fr in zip(
        inv["entity"], inv["field"], inv["n_records"], inv["fill_rate"], strict=True
    ):
        out[(e, f)] = (int(n), float(fr), float(validity.get((e, f), math.nan)))
    return out


def withheld_kpis(
    scorecard: Scorecard, thresholds: Thresholds, kpi_needs: Mapping[str, Sequence[str]]
) -> dict[str, str]:
    """KPI id -> why it is withheld: an input field below thresholds.kpi_inputs."""
    quality = _field_quality(scorecard)
    t = thresholds.kpi_inputs
    out: dict[str, str] = {}
    for kpi_id, fields in sorted(kpi_needs.items()):
        problems = []
        for spec in fields:
            optional = spec.endswith("?")
            entity, _, field = spec.rstrip("?").partition(".")
            n, fill, valid = quality.get((entity, field), (0, math.nan, math.nan))
            if n == 0:
                continue  # no rows: the KPI reports no_data, there is nothing to withhold
            if not optional and fill == 0:
                problems.append(msg("gate.input_missing", column=f"{entity}.{field}", n=n))
            elif not optional and fill < t:
                problems.append(
                    msg(
                        "gate.input_completeness",
                        column=f"{entity}.{field}",
                        value=_f(fill),
                        threshold=_f(t),
                    )
                )
            if not math.isnan(valid) and valid < t and fill > 0:
                problems.append(
                    msg(
                        "gate.input_validity",
                        column=f"{entity}.{field}",
                        value=_f(valid),
                        threshold=_f(t),
                    )
                )
        if problems:
            out[kpi_id] = "; ".join(problems)
    return out


def gate(
    scorecard: Scorecard,
    thresholds: Thresholds,
    kpi_needs: Mapping[str, Sequence[str]] | None = None,
) -> Verdict:
    """Pass or fail the data, with reasons, warnings, withheld KPIs and quick wins.

    Example:
        verdict = gate(scorecard, cfg.thresholds, kpi_needs(cfg.kpis))
        if not verdict.passed: print(*verdict.reasons, sep="\\n")
    """
    reasons: list[str] = []
    warnings: list[str] = []
    inv = scorecard.inventory
    dims = scorecard.by_dimension
    rules = scorecard.by_rule if scorecard.by_rule is not None else pd.DataFrame()
    n_records = (
        int(inv.groupby("entity")["n_records"].first().sum())
        if inv is not None and not inv.empty
        else 0
    )
    if n_records == 0:
        reasons.append(msg("gate.no_records"))
    measured = dims[dims["status"].eq("measured")] if dims is not None and not dims.empty else dims
    ran = (
        rules[rules["origin"].eq("validate") & rules["status"].eq("ok")]
        if not rules.empty and "origin" in rules
        else rules
    )
    if n_records and (measured is None or measured.empty or ran.empty):
        entities = ", ".join(
            msg("gate.count_of", n=int(n), entity=e)
            for e, n in inv.groupby("entity")["n_records"].first().items()
            if n
        )
        if measured is None or measured.empty:
            reasons.append(msg("gate.nothing_measurable", entities=entities))
        else:
            reasons.append(msg("gate.no_rule_ran", entities=entities))
    if not rules.empty:
        for r in rules[rules["status"].eq("errored")].itertuples():
            reasons.append(msg("gate.errored", rule=r.rule_id))
    if (
        n_records
        and measured is not None
        and not measured.empty
        and not math.isnan(scorecard.overall)
        and scorecard.overall < thresholds.overall
    ):
        reasons.append(
            msg("gate.overall", score=_f(scorecard.overall), threshold=_f(thresholds.overall))
        )
    reasons.extend(_floor_reasons(scorecard, thresholds.floors()))
    by_rule = rules.drop_duplicates("rule_id").set_index("rule_id") if not rules.empty else None
    for rid, share in sorted(thresholds.rules.items()):
        if by_rule is None or rid not in by_rule.index:
            reasons.append(msg("gate.rule_did_not_run", rule=rid, share=_f(share)))
            continue
        row = by_rule.loc[rid]
        rate = row["pass_rate"]
        if row["status"] == "ok" and rate < share:
            text = msg(
                "gate.pass_rate", rule=rid, rate=_f(rate), share=_f(share), n=int(row["n_failed"])
            )
            (warnings if row["severity"] == "warning" else reasons).append(text)
    if by_rule is not None:
        n_rows = (
            inv.groupby("entity")["n_records"].first().to_dict()
            if inv is not None and not inv.empty
            else {}
        )
        present = by_rule[
            by_rule["status"].eq("skipped") & by_rule["entity"].map(lambda e: n_rows.get(e, 0) > 0)
        ]
        for rid, row in present[present["dimension"].eq("completeness")].iterrows():
            reasons.append(
                msg("gate.required_column", column=f"{row['entity']}.{row['field']}", rule=rid)
            )
        skipped = sorted(present.index[present["dimension"].ne("completeness")])
        if skipped:
            shown = ", ".join(skipped[:5]) + (
                msg("gate.and_more", n=len(skipped) - 5) if len(skipped) > 5 else ""
            )
            warnings.append(msg("gate.skipped_rules", n=len(skipped), rules=shown))
    if by_rule is not None and "match.duplicate.records" in by_rule.index:
        n_dup = int(by_rule.loc["match.duplicate.records", "n_failed"])
        if n_dup:
            warnings.append(msg("gate.await_merge", n=n_dup))
    withheld = withheld_kpis(scorecard, thresholds, kpi_needs or {})
    for kpi_id, why in withheld.items():
        warnings.append(msg("gate.withheld", kpi=kpi_id, why=why))
    if thresholds.strict and warnings:
        reasons.extend(msg("gate.strict", warning=w) for w in warnings)
    return Verdict(
        passed=not reasons,
        reasons=tuple(reasons),
        warnings=tuple(warnings),
        withheld_kpis=withheld,
        quick_wins=quick_wins(scorecard),
    )
