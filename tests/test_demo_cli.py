"""`crm-audit demo` end to end, as a user runs it."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

from audit.cli import cli
from audit.demo.evaluate import NOT_FLAGGED, evaluate, format_table
from audit.demo.problems import PROBLEM_KINDS


@pytest.fixture(scope="module")
def demo_run(tmp_path_factory: pytest.TempPathFactory):
    from click.testing import CliRunner

    work = tmp_path_factory.mktemp("cli")
    res = CliRunner().invoke(
        cli, ["demo", "--dir", str(work / "tmp"), "--size", "200", "--format", "json"]
    )
    return work / "tmp", res


def test_demo_runs_end_to_end_and_writes_a_run_folder(demo_run) -> None:
    root, res = demo_run
    assert res.exit_code == 0, res.output  # it ran as intended, whatever the gate says
    summary = json.loads(res.stdout)
    run_dir = Path(summary["run_dir"])
    assert run_dir.parent == root / "reports"
    assert (run_dir / "run.json").is_file()
    assert summary["records"]["contacts"] > 200
    assert (root / "truth" / "entities.csv").is_file() and (root / "demo.yaml").is_file()


def test_raw_demo_fails_the_gate_on_its_planted_duplicates_and_says_so(demo_run) -> None:
    _, res = demo_run
    gate = json.loads(res.stdout)["gate"]
    assert gate["passed"] is False
    assert any(r.startswith("uniqueness ") and "< floor 90%" in r for r in gate["reasons"])
    assert "the quality gate FAILED, as it should" in res.stderr
    assert "crm-audit merge apply" in res.stderr


def test_demo_passes_the_gate_after_the_auto_merges_are_approved(demo_run, runner) -> None:
    """A reviewer approves every auto-band proposal; the merged data then passes the gate."""
    root, res = demo_run
    run_dir = Path(json.loads(res.stdout)["run_dir"])
    proposals = pd.read_csv(run_dir / "merge_proposals.csv", dtype=str, encoding="utf-8-sig")
    auto = sorted(set(proposals.loc[proposals["band"].eq("auto"), "cluster_id"]))
    assert auto
    decisions = root / "decisions.csv"
    pd.DataFrame({"cluster_id": auto, "decision": "approve"}).to_csv(decisions, index=False)
    out = root / "merged-run"
    applied = runner.invoke(
        cli, ["merge", "apply", str(run_dir), "--decisions", str(decisions), "--out", str(out)]
    )
    assert applied.exit_code == 0, applied.output
    rerun = runner.invoke(
        cli,
        ["run", str(out / "config.merged.yaml"), "--out", str(root / "runs2"), "--format", "json"],
    )
    gate = json.loads(rerun.stdout)["gate"]
    assert rerun.exit_code == 0, gate["reasons"]
    assert gate["passed"] is True


@pytest.mark.slow
def test_demo_text_summary_and_rerun_keep_history(demo_run, runner) -> None:
    root, _ = demo_run
    res = runner.invoke(cli, ["demo", "--dir", str(root), "--size", "200"])
    assert res.exit_code in (0, 1), res.output
    assert "quality:" in res.stdout and "gate:" in res.stdout
    assert len([p for p in (root / "reports").iterdir() if p.is_dir()]) == 2


def test_evaluate_reads_the_run_folder(demo_run) -> None:
    root, res = demo_run
    run_dir = Path(json.loads(res.stdout)["run_dir"])
    table = evaluate(run_dir, root / "truth")
    print(format_table(table))
    problems = pd.read_csv(root / "truth" / "problems.csv")
    by_check = table.set_index("check")
    for kind, n in problems["problem_kind"].value_counts().items():
        assert kind in PROBLEM_KINDS
        check = f"{kind}.not_stale" if kind in NOT_FLAGGED else kind
        assert 0 < by_check.loc[check, "n_truth"] <= n  # units: an address once per source
    assert by_check.loc["duplicates.pairs", "n_truth"] > 0
    assert ((table["precision"].isna()) | table["precision"].between(0, 1)).all()


def test_generate_only_prints_the_config_path(runner, tmp_path: Path) -> None:
    res = runner.invoke(
        cli, ["demo", "--dir", str(tmp_path / "w"), "--size", "50", "--generate-only"]
    )
    assert res.exit_code == 0, res.output
    assert res.stdout.strip() == str(tmp_path / "w" / "demo.yaml")
    assert not (tmp_path / "w" / "reports").exists()


def test_without_options_it_works_in_the_current_folder(
    runner, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    res = runner.invoke(cli, ["demo", "--size", "40", "--generate-only"])
    assert res.exit_code == 0, res.output
    assert (tmp_path / "crm-audit-demo" / "demo.yaml").is_file()
    assert (tmp_path / "crm-audit-demo" / "truth" / "problems.csv").is_file()
