"""Validate stage: run the configured rule packs, then (optionally) the same packs as a Great
Expectations suite, the dataset-level contract.

The engine's masks are the row-level truth (fast, de-duplicated, parallel where it pays); GX gets
cheap built-in expectations plus flag columns for the engine-only kinds, so its unexpected
counts equal the engine's `n_failed` rule by rule.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pandas as pd

from audit import schema
from audit.config import SHIPPED_PACKS, RulesConfig
from audit.model import Records, Validation

from .checks.basic import forget_distinct
from .engine import RuleRun, checked_frame, issues_for, run_rule
from .kinds import KINDS, Context, Outcome
from .rulepack import Rule, load_pack, load_rules

__all__ = [
    "KINDS",
    "Rule",
    "catalogue",
    "catalogue_markdown",
    "kind_catalogue",
    "load_pack",
    "load_rules",
    "validate",
]


def validate(
    records: Records,
    cfg: RulesConfig,
    *,
    as_of: dt.date,
    stale_after_days: int = 730,
    base_dir: Path | None = None,
) -> Validation:
    """Issues for every failed check, the per-rule counts, and the GX contract summary."""
    rules = load_rules(cfg, base_dir)
    ctx = Context(records=records, as_of=as_of, stale_after_days=stale_after_days)
    gx_contract = None
    if cfg.gx:
        from .gx import Contract

        docs = cfg.gx_docs
        if docs is not None and base_dir is not None and not Path(docs).is_absolute():
            docs = str(base_dir / docs)
        # on large data a worker imports GX while the rules run here (see gx.Contract)
        gx_contract = Contract(records, docs_dir=docs, as_of=as_of)
    try:
        runs: list[RuleRun] = []
        found: list[pd.DataFrame] = []
        try:
            # entity by entity, the largest first, so the contract worker validates one while
            # the rules of the next run here (issues and counts are sorted: order is free)
            by_entity: dict[str, list[Rule]] = {}
            for rule in rules:
                by_entity.setdefault(rule.entity, []).append(rule)
            for entity in sorted(by_entity, key=lambda e: (-len(records.get(e, ())), e)):
                done: list[RuleRun] = []
                for rule in by_entity[entity]:
                    run = run_rule(rule, ctx)
                    if run.n_failed:
                        found.append(issues_for(run, records[rule.entity]))
                    if run.outcome is not None:
                        # the findings are rows now: keep only the masks the contract reads,
                        # not a value/evidence column per rule over every row
                        run.outcome = Outcome(
                            failed=run.outcome.failed, checked=run.outcome.checked
                        )
                    done.append(run)
                runs.extend(done)
                if gx_contract is not None:
                    gx_contract.submit(done)
        finally:
            forget_distinct()
        issues = (
            schema.conform_issues(pd.concat(found, ignore_index=True))
            if found
            else schema.empty_issues()
        )
        contract: dict[str, Any] = {} if gx_contract is None else gx_contract.result()
    finally:
        if gx_contract is not None:
            gx_contract.close()
    return Validation(issues=issues, checked=checked_frame(runs), contract=contract)


def catalogue(packs: tuple[str, ...] = SHIPPED_PACKS) -> list[dict[str, Any]]:
    """Every shipped rule with its kind, engine and parameters (rendered into the README)."""
    rows: list[dict[str, Any]] = []
    for name in packs:
        cfg = RulesConfig(packs=[name], gx=False)
        for r in load_rules(cfg):
            k = KINDS.get(r.kind)
            rows.append(
                {
                    "rule_id": r.id,
                    "pack": r.pack,
                    "entity": r.entity,
                    "field": r.field,
                    "kind": r.kind,
                    # where this rule runs in the GX contract: a built-in expectation, or the
                    # engine's flag column (vectorized kinds, or parameters GX cannot express)
                    "engine": "gx" if k.gx is not None and k.gx(r) is not None else "vectorized",
                    "dimension": r.dimension,
                    "severity": r.severity,
                    "message": r.message,
                    "suggestion": r.suggestion,
                    "params": r.param_dict(),
                }
            )
    return rows


def kind_catalogue() -> list[dict[str, Any]]:
    """Every registered kind: engine, parameters and what it checks."""
    return [
        {
            "kind": name,
            "engine": k.engine,
            "params": sorted(f.alias or n for n, f in k.params.model_fields.items()),
            "doc": k.doc,
        }
        for name, k in KINDS.items()
    ]


def _cell(v: Any) -> str:
    text = "" if v is None else str(v)
    return text.replace("|", "\\|").replace("\n", " ")


def catalogue_markdown() -> str:
    """The rule catalogue and the kinds as Markdown tables (for cog in the README)."""
    lines = [
        "| rule id | kind | engine | dimension | severity | parameters | message |",
        "|---|---|---|---|---|---|---|",
    ]
    for r in catalogue():
        params = ", ".join(
            f"{k}={v}" for k, v in sorted(r["params"].items()) if v not in (None, [])
        )
        lines.append(
            f"| `{r['rule_id']}` | {r['kind']} | {r['engine']} | {r['dimension']} "
            f"| {r['severity']} | {_cell(params)} | {_cell(r['message'])} |"
        )
    lines += ["", "| kind | engine | parameters | checks |", "|---|---|---|---|"]
    for k in kind_catalogue():
        lines.append(
            f"| `{k['kind']}` | {k['engine']} | {', '.join(k['params'])} | {_cell(k['doc'])} |"
        )
    return "\n".join(lines) + "\n"
