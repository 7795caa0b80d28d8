"""KPIs computed through the real input path: files on disk, `crm-audit run`, run.json.

The cases live in tests/fixtures/kpi_cli/cases.yaml, each with the hand computation that gives
its expected values; this module only writes the files, runs the CLI and compares.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
import yaml
from click.testing import CliRunner

from audit.cli import cli

CASES = yaml.safe_load(
    (Path(__file__).parent / "fixtures" / "kpi_cli" / "cases.yaml").read_text(encoding="utf-8")
)["cases"]
# the gate is opened (0 switches a floor off): these cases are about the KPI arithmetic
OPEN_GATE = {
    "overall": 0,
    "kpi_inputs": 0,
    "dimensions": {
        d: 0
        for d in ("completeness", "validity", "uniqueness", "freshness", "consistency", "integrity")
    },
}


def run_case(case: dict[str, Any], tmp: Path) -> dict[str, dict[str, Any]]:
    for name, text in case["files"].items():
        (tmp / name).write_bytes(text.encode(case.get("encoding", "utf-8")))
    cfg = {"version": 1, "as_of": "2026-10-31", "thresholds": OPEN_GATE, **case["config"]}
    (tmp / "run.yaml").write_text(yaml.safe_dump(cfg, allow_unicode=True), encoding="utf-8")
    result = CliRunner().invoke(cli, ["run", str(tmp / "run.yaml"), "--out", str(tmp / "out")])
    assert result.exit_code == 0, result.output + result.stderr
    run_dir = next((tmp / "out").glob("*/run.json")).parent
    run = json.loads((run_dir / "run.json").read_text(encoding="utf-8"))
    found = pd.read_csv(run_dir / "issues.csv")["rule_id"].value_counts().to_dict()
    for rule_id, count in case.get("findings", {}).items():
        assert found.get(rule_id, 0) == count, (rule_id, found.get(rule_id, 0))
    return {k["kpi_id"]: k for k in run["kpis"]}


@pytest.mark.parametrize("case", CASES, ids=[c["id"] for c in CASES])
def test_kpi_case_through_the_cli(case: dict[str, Any], tmp_path: Path) -> None:
    got = run_case(case, tmp_path)
    for kpi_id, want in case["expect"].items():
        row = got[kpi_id]
        if "value" in want:
            assert row["value"] == pytest.approx(want["value"], abs=1e-4), (kpi_id, row)
        if "n" in want:
            assert row["n"] == want["n"], (kpi_id, row)
        if "status" in want:
            assert row["status"] == want["status"], (kpi_id, row)
        if "note_has" in want:
            assert want["note_has"] in (row["note"] or ""), (kpi_id, row)
