"""Done-when check: on the demo workspace's ground truth, every planted problem kind a rule of
ours maps to is found with precision and recall >= 0.95."""

from __future__ import annotations

import math
from pathlib import Path

import pytest

from audit.config import load_config
from audit.demo import generate_workspace
from audit.demo.evaluate import evaluate
from audit.pipeline import analyse

pytestmark = pytest.mark.slow


def test_precision_and_recall_per_planted_kind(tmp_path: Path) -> None:
    ws = generate_workspace(tmp_path / "demo", size=400, seed=3)
    cfg = load_config(ws.config)
    cfg = cfg.model_copy(update={"rules": cfg.rules.model_copy(update={"gx": False})})
    table = evaluate(analyse(cfg), ws.truth_dir).set_index("check")
    rows = table[~table.index.str.startswith("duplicates")]
    assert len(rows) >= 17
    for kind, r in rows.iterrows():
        if r["n_truth"]:
            assert r["recall"] >= 0.95, (kind, r.to_dict())
        if r["n_flagged"] and not math.isnan(r["precision"]):
            assert r["precision"] >= 0.95, (kind, r.to_dict())
