"""`audit` and `run` on files given directly and on a config: summary, JSON, exit codes."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner

from audit.cli import cli


def test_audit_paths_directly_writes_run_folder_and_json_summary(
    runner: CliRunner, tmp_path: Path
) -> None:
    src = tmp_path / "contacts.csv"
    src.write_text(
        "email,full_name,phone\nkim@example.com,김민준,010-1234-5678\n"
        "sato@example.jp,佐藤 花子,090-1234-5678\n",
        encoding="utf-8",
    )
    result = runner.invoke(
        cli, ["audit", str(src), "--out", str(tmp_path / "runs"), "--format", "json"]
    )
    assert result.exit_code == 0, result.stderr
    data = json.loads(result.stdout)
    assert data["records"]["contacts"] == 2
    run_dir = Path(data["run_dir"])
    assert run_dir.parent == tmp_path / "runs"
    assert (run_dir / "run.json").is_file()
    assert (run_dir / "issues.csv").is_file()
    assert 0.0 <= data["score"] <= 1.0
    assert set(data["gate"]) >= {"passed", "reasons", "withheld_kpis"}


def test_run_exit_code_follows_the_gate(runner: CliRunner, tmp_path: Path) -> None:
    (tmp_path / "c.csv").write_text("email,full_name\nnot-an-email,\n,\n", encoding="utf-8")
    cfg = tmp_path / "c.yaml"
    cfg.write_text(
        "as_of: 2026-10-31\nsources:\n  - name: crm\n    path: c.csv\n    entity: contacts\n"
        "thresholds:\n  overall: 1.0\n  strict: true\noutput:\n  dir: runs\n",
        encoding="utf-8",
    )
    result = runner.invoke(cli, ["run", str(cfg)])
    assert result.exit_code == 1, result.output + result.stderr
    assert "FAILED" in result.stdout
    assert list((tmp_path / "runs").iterdir())


def _three_contacts(tmp_path: Path) -> Path:
    src = tmp_path / "contacts.csv"
    src.write_text(
        "email,full_name\nkim@example.com,Kim Minjun\nsato@example.jp,Sato Hanako\n"
        "lee@example.com,Lee Jiwoo\n",
        encoding="utf-8",
    )
    return src


def test_progress_prints_one_line_per_stage_with_rows_and_rate(
    runner: CliRunner, tmp_path: Path
) -> None:
    src = _three_contacts(tmp_path)
    result = runner.invoke(cli, ["audit", str(src), "--out", str(tmp_path / "r"), "--progress"])
    assert result.exit_code == 0, result.stderr
    lines = [ln for ln in result.stderr.splitlines() if ln.startswith("crm-audit: ")]
    stages = [ln.split()[1] for ln in lines]
    assert stages == ["sources", "normalize", "validate", "match", "score", "kpis", "report"]
    by_stage = dict(zip(stages, lines, strict=True))
    assert " 3 rows " in by_stage["sources"]  # the three rows of the file
    assert " 3 rows " in by_stage["match"]  # three contacts compared
    assert all("rows/s" in ln and "elapsed" in ln for ln in lines)
    peaks = [float(ln.split("peak ")[1].split(" MB")[0].replace(",", "")) for ln in lines]
    assert peaks == sorted(peaks) and peaks[0] > 20  # a high-water mark, in MB, never falling
    assert "crm-audit: " not in result.stdout  # the summary on stdout stays clean


def test_progress_is_off_for_json_and_when_stderr_is_not_a_terminal(
    runner: CliRunner, tmp_path: Path
) -> None:
    src = _three_contacts(tmp_path)
    quiet = runner.invoke(cli, ["audit", str(src), "--out", str(tmp_path / "a")])
    as_json = runner.invoke(
        cli, ["audit", str(src), "--out", str(tmp_path / "b"), "--format", "json", "--progress"]
    )
    assert quiet.exit_code == 0 and as_json.exit_code == 0, quiet.stderr + as_json.stderr
    assert "rows/s" not in quiet.stderr
    assert "rows/s" not in as_json.stderr
    assert json.loads(as_json.stdout)["records"]["contacts"] == 3
