"""On the demo workspace's ground truth: kinds planted by damaging values (syntax, missing
fields, bounces, negative amounts ...) are found with precision and recall >= 0.95; kinds
planted from held-out public lists (disposable, role, typo domains, placeholder shapes) keep
precision >= 0.95 (no false alarms) and have their recall measured, not promised: it is what
tells how far a detector generalises beyond its own table."""

from __future__ import annotations

import math
from pathlib import Path

import pytest

from audit.config import load_config
from audit.demo import generate_workspace
from audit.demo.evaluate import evaluate
from audit.pipeline import analyse

pytestmark = pytest.mark.slow

HELD_OUT = ("email_disposable", "email_role", "email_typo_domain", "placeholder")


def test_precision_and_recall_per_planted_kind(tmp_path: Path) -> None:
    ws = generate_workspace(tmp_path / "demo", size=400, seed=3)
    cfg = load_config(ws.config)
    cfg = cfg.model_copy(update={"rules": cfg.rules.model_copy(update={"gx": False})})
    table = evaluate(analyse(cfg), ws.truth_dir).set_index("check")
    rows = table[~table.index.str.startswith("duplicates")]
    assert len(rows) >= 18
    for kind, r in rows.iterrows():
        if r["n_truth"] and kind not in HELD_OUT:
            assert r["recall"] >= 0.95, (kind, r.to_dict())
        if r["n_flagged"] and not math.isnan(r["precision"]):
            assert r["precision"] >= 0.95, (kind, r.to_dict())
    for kind in HELD_OUT:  # planted, and measured (a recall of 0 is a finding, not an error)
        assert table.loc[kind, "n_truth"] > 0, kind
        assert 0.0 <= table.loc[kind, "recall"] <= 1.0, kind
    # both sides of the 730-day line: 760 days is stale, 700 days is not
    assert table.loc["email_inactive", "recall"] >= 0.95
    assert table.loc["email_near_inactive.not_stale", "n_truth"] > 0
    assert table.loc["email_near_inactive.not_stale", "recall"] == 1.0
