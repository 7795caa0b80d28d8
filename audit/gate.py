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
        f"fix {int(nf):,} {rid} failures: +{-neg:.1f} points"
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
            parts.append(f"{r.n_failed:,} {r.entity} have no {r.field}")
        elif r.rule_id == "match.duplicate.records":
            parts.append(f"{r.n_failed:,} {r.entity} are extra copies in duplicate clusters")
        else:
            parts.append(f"{r.n_failed:,} {r.entity} fail {r.rule_id}")
    if len(mine) > n:
        parts.append(f"{len(mine) - n} more rules")
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
            name = key if len(mine) == 1 else f"{key} of {r.entity}"
            detail = f"{int(r.n_failed):,} of {int(r.n_checked):,} {r.entity} fail"
            what = _failures(rules, key, r.entity)
            where = "duplicates.csv and merge_review.html" if key == "uniqueness" else "issues.csv"
            out.append(
                f"{name} {_pct(r.score)} < floor {_pct(floor)} (thresholds.dimensions.{key}): "
                + "; ".join(p for p in (detail, what) if p)
                + f"; see {where}"
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
                problems.append(f"{entity}.{field} is missing (no value in {n:,} rows)")
            elif not optional and fill < t:
                problems.append(f"{entity}.{field} completeness {_f(fill)} < {_f(t)}")
            if not math.isnan(valid) and valid < t and fill > 0:
                problems.append(f"{entity}.{field} validity {_f(valid)} < {_f(t)}")
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
        reasons.append("no records were read: empty inputs never pass (check the sources)")
    measured = dims[dims["status"].eq("measured")] if dims is not None and not dims.empty else dims
    ran = (
        rules[rules["origin"].eq("validate") & rules["status"].eq("ok")]
        if not rules.empty and "origin" in rules
        else rules
    )
    if n_records and (measured is None or measured.empty or ran.empty):
        entities = ", ".join(
            f"{int(n):,} {e}" for e, n in inv.groupby("entity")["n_records"].first().items() if n
        )
        if measured is None or measured.empty:
            reasons.append(
                f"nothing measurable: no rule of the rule packs checks the records read "
                f"({entities}); every dimension is n/a, and the gate does not pass without "
                "evidence"
            )
        else:
            reasons.append(
                f"no rule of the rule packs ran on the records read ({entities}): only the "
                "findings of reading and normalizing were scored, which is no evidence to pass on"
            )
    if not rules.empty:
        for r in rules[rules["status"].eq("errored")].itertuples():
            reasons.append(f"check {r.rule_id} errored: its result is unknown, so it fails")
    if (
        n_records
        and measured is not None
        and not measured.empty
        and not math.isnan(scorecard.overall)
        and scorecard.overall < thresholds.overall
    ):
        reasons.append(
            f"overall {_f(scorecard.overall)} < {_f(thresholds.overall)} (thresholds.overall)"
        )
    reasons.extend(_floor_reasons(scorecard, thresholds.floors()))
    by_rule = rules.drop_duplicates("rule_id").set_index("rule_id") if not rules.empty else None
    for rid, share in sorted(thresholds.rules.items()):
        if by_rule is None or rid not in by_rule.index:
            reasons.append(f"{rid} did not run, but thresholds.rules requires {_f(share)}")
            continue
        row = by_rule.loc[rid]
        rate = row["pass_rate"]
        if row["status"] == "ok" and rate < share:
            msg = f"{rid} pass rate {_f(rate)} < {_f(share)} ({int(row['n_failed']):,} rows fail)"
            (warnings if row["severity"] == "warning" else reasons).append(msg)
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
                f"required column {row['entity']}.{row['field']} is missing from the data "
                f"({rid} could not run)"
            )
        skipped = sorted(present.index[present["dimension"].ne("completeness")])
        if skipped:
            shown = ", ".join(skipped[:5]) + (
                f" and {len(skipped) - 5} more" if len(skipped) > 5 else ""
            )
            warnings.append(
                f"{len(skipped)} rules could not check their column (missing in the data): {shown}"
            )
    if by_rule is not None and "match.duplicate.records" in by_rule.index:
        n_dup = int(by_rule.loc["match.duplicate.records", "n_failed"])
        if n_dup:
            warnings.append(
                f"{n_dup:,} duplicate contact records await a merge decision "
                "(crm-audit merge apply)"
            )
    withheld = withheld_kpis(scorecard, thresholds, kpi_needs or {})
    for kpi_id, why in withheld.items():
        warnings.append(f"{kpi_id} withheld: {why}")
    if thresholds.strict and warnings:
        reasons.extend(f"strict: {w}" for w in warnings)
    return Verdict(
        passed=not reasons,
        reasons=tuple(reasons),
        warnings=tuple(warnings),
        withheld_kpis=withheld,
        quick_wins=quick_wins(scorecard),
    )
