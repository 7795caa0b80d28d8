"""Report stage (PLACEHOLDER, being built)."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path

from audit.config import dump_config
from audit.model import RunResult


def write_report(result: RunResult, out_dir: Path, formats: Sequence[str]) -> list[Path]:
    out_dir.mkdir(parents=True, exist_ok=True)
    run_json = out_dir / "run.json"
    run_json.write_text(
        json.dumps(
            {
                "run_id": result.run_id,
                "config": dump_config(result.config),
                "overall": result.scorecard.overall,
                "passed": result.verdict.passed,
            },
            indent=2,
        )
    )
    issues = out_dir / "issues.csv"
    result.issues.to_csv(issues, index=False)
    return [run_json, issues]
