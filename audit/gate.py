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

    Fixing every failure of a rule lifts its pass rate to 1; its dimension score moves by
    (1 − pass rate) ÷ rules in the dimension, the overall by the dimension's weight share.
    """
    rules, dims = scorecard.by_rule, scorecard.by_dimension
    if rules is None or rules.empty or dims is None or dims.empty:
        return ()
    measured = dims[dims["status"].eq("measured") & dims["weight"].gt(0)]
    total_w = float(measured["weight"].sum())
    if not total_w:
        return ()
    info = measured.set_index("dimension")
    cand = rules[rules["status"].eq("ok") & rules["severity"].ne("info") & rules["n_failed"].gt(0)]
    wins = []
    for r in cand.itertuples():
        if r.dimension not in info.index:
            continue
        d = info.loc[r.dimension]
        lift = (1 - r.pass_rate) / d["n_rules"] * d["weight"] / total_w * 100
        wins.append((-lift, r.rule_id, int(r.n_failed)))
    wins.sort()
    return tuple(
        f"fix {nf:,} {rid} failures: +{-neg:.1f} points" for neg, rid, nf in wins[:n] if -neg > 0
    )


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
        reasons.append("no quality check ran on the records: nothing to base a pass on")
    if not rules.empty:
        for r in rules[rules["status"].eq("errored")].itertuples():
            reasons.append(f"check {r.rule_id} errored: its result is unknown, so it fails")
    if (
        n_records
        and measured is not None
        and not measured.empty
        and scorecard.overall < thresholds.overall
    ):
        reasons.append(
            f"overall {_f(scorecard.overall)} < {_f(thresholds.overall)} (thresholds.overall)"
        )
    by_dim = dims.set_index("dimension") if dims is not None and not dims.empty else None
    for dim, t in sorted(thresholds.dimensions.items()):
        key = str(dim)
        if by_dim is None or key not in by_dim.index or by_dim.loc[key, "status"] != "measured":
            reasons.append(
                f"{key} was not measured (no rule ran) but thresholds.dimensions sets {_f(t)}"
            )
        elif by_dim.loc[key, "score"] < t:
            reasons.append(
                f"{key} {_f(by_dim.loc[key, 'score'])} < {_f(t)} (thresholds.dimensions.{key})"
            )
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
