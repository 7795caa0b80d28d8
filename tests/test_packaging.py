"""A non-editable install must find rules/ (shipped as audit/_rules in the wheel)."""

from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent


@pytest.mark.slow
def test_wheel_ships_rules_and_templates(tmp_path: Path) -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(tmp_path), str(REPO)],
        capture_output=True,
        text=True,
    )
    if proc.returncode != 0:
        pytest.skip(f"cannot build a wheel here: {proc.stderr.strip()[-200:]}")
    wheel = next(tmp_path.glob("crm_audit-*.whl"))
    names = zipfile.ZipFile(wheel).namelist()
    shipped = {n for n in names if n.startswith("audit/_rules/") and n.endswith(".yaml")}
    in_repo = {
        f"audit/_rules/{p.relative_to(REPO / 'rules').as_posix()}"
        for p in (REPO / "rules").rglob("*.yaml")
    }
    assert in_repo and in_repo <= shipped
    assert "audit/py.typed" in names
    assert "audit/merge/review.js" in names  # the merge review page's script
