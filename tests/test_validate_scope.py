"""Every rule kind declares the records it must see together (`Scope`), and the declaration
holds: split the demo's records as the scope allows and the findings are those of the whole.

This is what a distributed engine relies on when it runs validation per partition: row rules
under any split, key rules with their key co-located, email-key rules with everything sharing
the email key (research/spark_prototype.md measured 937 findings lost under a round-robin
split when that was not so).
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from audit import load_config
from audit.pipeline import analyse
from audit.validate import KINDS, load_rules
from audit.validate.checks.basic import forget_distinct
from audit.validate.checks.stale import _keys
from audit.validate.engine import issues_for, run_rule
from audit.validate.kinds import Context, Scope

PARTS = 3


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory):
    from audit.demo import generate_workspace

    ws = generate_workspace(tmp_path_factory.mktemp("demo"), size=150, seed=11)
    cfg = load_config(Path(ws.config))
    cfg = cfg.model_copy(update={"rules": cfg.rules.model_copy(update={"gx": False})})
    result = analyse(cfg)
    return cfg, result.records, result.as_of


def _split(frame: pd.DataFrame, rule, scope: Scope) -> np.ndarray:
    """Part number per row: interleaved for row scope, a hash of the key otherwise."""
    if scope.kind in ("row", "reference"):  # a reference's target is handed whole
        return np.arange(len(frame)) % PARTS
    if scope.kind == "key":
        keyed = frame[list(scope.keys)].astype(str)
    else:
        keyed = _keys(frame[rule.field]).astype(str).to_frame()
    return (pd.util.hash_pandas_object(keyed, index=False).to_numpy() % PARTS).astype(int)


def _run(records, rule, ctx_args, frame: pd.DataFrame):
    ctx = Context(records={**records, rule.entity: frame}, **ctx_args)
    try:
        run = run_rule(rule, ctx)
    finally:
        forget_distinct()
    return run, issues_for(run, frame)


def _findings(records, rule, ctx_args, part_of: np.ndarray):
    frame = records[rule.entity]
    issues, checked, failed, statuses = [], 0, 0, set()
    for k in range(PARTS):
        run, found = _run(records, rule, ctx_args, frame[part_of == k])
        issues.append(found)
        checked += run.n_checked
        failed += run.n_failed
        statuses.add(run.status if run.status != "empty" else "ok")
    got = pd.concat(issues, ignore_index=True)
    order = pd.Index(frame["record_id"].astype(str)).get_indexer(got["record_id"].astype(str))
    got = got.iloc[np.argsort(order, kind="stable")].reset_index(drop=True)
    return got, checked, failed, statuses


def test_findings_survive_the_split_the_scope_allows(demo) -> None:
    cfg, records, as_of = demo
    ctx_args = {"as_of": as_of, "stale_after_days": cfg.stale_after_days}
    rules = load_rules(cfg.rules, Path(cfg.base_dir))
    tried = {"row": 0, "key": 0, "email_key": 0, "reference": 0}
    with_findings = 0
    for rule in rules:
        frame = records.get(rule.entity)
        if frame is None or len(frame) < PARTS:
            continue
        whole, want = _run(records, rule, ctx_args, frame)
        if whole.status in ("skipped", "errored"):
            continue
        scope = KINDS.get(rule.kind).scope_of(rule)
        got, checked, failed, _ = _findings(records, rule, ctx_args, _split(frame, rule, scope))
        assert (checked, failed) == (whole.n_checked, whole.n_failed), rule.id
        assert got.to_csv(index=False) == want.reset_index(drop=True).to_csv(index=False), rule.id
        tried[scope.kind] += 1
        with_findings += whole.n_failed > 0
    assert tried["row"] > 10 and tried["key"] >= 2 and tried["email_key"] >= 2, tried
    assert with_findings > 10


def test_a_keyed_rule_split_by_rows_loses_findings(demo) -> None:
    """The scopes matter: split by rows, the key and email-key rules do not give the whole's
    findings on the demo (so the test above would fail for a wrong declaration)."""
    cfg, records, as_of = demo
    ctx_args = {"as_of": as_of, "stale_after_days": cfg.stale_after_days}
    changed = []
    for rule in load_rules(cfg.rules, Path(cfg.base_dir)):
        scope = KINDS.get(rule.kind).scope_of(rule)
        frame = records.get(rule.entity)
        if scope.kind not in ("key", "email_key") or frame is None:
            continue
        whole, want = _run(records, rule, ctx_args, frame)
        if whole.n_failed == 0:
            continue
        got, *_ = _findings(records, rule, ctx_args, np.arange(len(frame)) % PARTS)
        if got.to_csv(index=False) != want.reset_index(drop=True).to_csv(index=False):
            changed.append(rule.id)
    assert changed  # contacts.email.cleaned (status_flag) on this demo


def test_a_company_domains_slip_is_found_with_its_source_whole() -> None:
    """typo_domain also compares a domain with the others of its source (a slip used once
    beside a company domain used three times): its scope is the source. Found on the 10,000
    person demo on Spark, where a row split lost 17 of 226 findings (sakurailogi.co.jp
    beside sakuralogi.co.jp)."""
    from audit.config import RulesConfig

    rule = next(
        r
        for r in load_rules(RulesConfig(packs=["contacts.stale"], gx=False))
        if r.kind == "typo_domain"
    )
    assert KINDS.get(rule.kind).scope_of(rule) == Scope("key", ("source",))
    emails = [f"p{i}@sakuralogi.co.jp" for i in range(3)] + ["yuko@sakurailogi.co.jp"]
    emails += [f"x{i}@example{i}.co.jp" for i in range(4)]
    frame = pd.DataFrame(
        {
            "record_id": [f"hubspot:{i}" for i in range(len(emails))],
            "source": "hubspot",
            "email": pd.Series(emails, dtype="str"),
        }
    ).iloc[[0, 4, 1, 5, 2, 6, 3, 7]]  # interleaved: a row split puts the slip apart
    records = {"contacts": frame.reset_index(drop=True)}
    ctx_args = {"as_of": dt.date(2026, 1, 31), "stale_after_days": 730}
    _, want = _run(records, rule, ctx_args, records["contacts"])
    assert want["value"].tolist() == ["yuko@sakurailogi.co.jp"]
    scope = KINDS.get(rule.kind).scope_of(rule)
    got, *_ = _findings(records, rule, ctx_args, _split(records["contacts"], rule, scope))
    assert got.to_csv(index=False) == want.reset_index(drop=True).to_csv(index=False)
    by_rows, *_ = _findings(records, rule, ctx_args, np.arange(len(frame)) % PARTS)
    assert by_rows.empty  # split by rows, the company domain is never seen three times
