"""The run folder: every promised file, a documented and deterministic run.json, exact reload,
defensive writers on empty runs, labels in four languages, and `crm-audit report`."""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

import pandas as pd
import pytest

from audit.cli import cli
from audit.errors import ConfigError
from audit.labels import _LABELS, LANGUAGES, labels
from audit.manifest import write_manifest
from audit.report import (
    RUN_JSON_SCHEMA,
    SCHEMA_VERSION,
    WRITERS,
    context_for,
    load_run,
    render,
    write_report,
)
from audit.report.run_folder import BOUNCE_COLUMNS
from audit.schema import ISSUE_COLUMNS
from tests.factories import (
    HOSTILE_FORMULA,
    HOSTILE_NAME,
    hostile_run_result,
    make_contacts,
    make_run_result,
)

ALL = ["html", "md", "xlsx"]
PROMISED = [
    "run.json",
    "issues.csv",
    "duplicates.csv",
    "clusters.csv",
    "golden.csv",
    "bounces.csv",
    "kpis.csv",
    "records/contacts.csv",
    "records/contacts.parquet",
    "records/email_events.csv",
    "scores/by_dimension.csv",
    "scores/trend.csv",
    "breakdowns/lead_source.csv",
    "summary.html",
    "summary.md",
    "report.xlsx",
]


@pytest.fixture
def run_dir(tmp_path: Path) -> Path:
    out = tmp_path / "20260131T090000-abc123"
    write_report(hostile_run_result(), out, ALL)
    return out


def test_run_folder_has_every_promised_file(run_dir: Path) -> None:
    missing = [p for p in PROMISED if not (run_dir / p).is_file()]
    assert not missing


def test_core_files_are_written_whatever_the_formats(tmp_path: Path) -> None:
    paths = write_report(hostile_run_result(), tmp_path, [])
    names = {p.relative_to(tmp_path).as_posix() for p in paths}
    assert {"run.json", "issues.csv", "duplicates.csv", "records/contacts.parquet"} <= names
    assert "summary.html" not in names


def test_run_json_is_versioned_documented_and_sorted(run_dir: Path) -> None:
    raw = (run_dir / "run.json").read_text(encoding="utf-8")
    run = json.loads(raw)
    assert run["schema_version"] == SCHEMA_VERSION == 1
    for key in run:
        assert f"| {key} |" in RUN_JSON_SCHEMA or f"| {key}." in RUN_JSON_SCHEMA, key
    assert (
        raw
        == json.dumps(run, ensure_ascii=False, indent=2, sort_keys=True)
        .replace("<", "\\u003c")
        .replace(">", "\\u003e")
        .replace("&", "\\u0026")
        + "\n"
    )
    assert run["verdict"]["passed"] is False
    assert run["verdict"]["withheld_kpis"] == {
        "clv": json.loads(raw)["verdict"]["withheld_kpis"]["clv"]
    }
    assert run["duplicates"] == {
        "by_band": {"auto": 1},
        "n_clusters": 1,
        "n_golden": 1,
        "n_pairs": 1,
        "n_records_in_clusters": 2,
        "stats": {},
    }
    assert run["issues"]["by_dimension"] == {"consistency": 1, "validity": 2}
    assert run["kpis"][0]["kpi_id"] == "churn_rate"
    assert run["config"]["output"]["formats"]
    assert run["history"]["trend"][0]["dimension"] == "overall"
    assert run["breakdowns"] == ["lead_source"]


def test_bounces_csv_holds_only_bounces_with_promised_columns(run_dir: Path) -> None:
    b = pd.read_csv(run_dir / "bounces.csv", dtype=str, encoding="utf-8-sig")
    assert list(b.columns) == BOUNCE_COLUMNS
    assert b["recipient"].tolist() == ["kim.minsu@example.com"]
    assert b["status"].tolist() == ["5.1.1"]


def test_load_run_gives_back_what_was_written(run_dir: Path) -> None:
    result = hostile_run_result()
    folder = load_run(run_dir)
    assert folder.run["run_id"] == result.run_id
    pd.testing.assert_frame_equal(
        folder.records["contacts"], result.records["contacts"], check_dtype=False
    )
    assert list(folder.issues.columns) == ISSUE_COLUMNS
    # the formula quote added for spreadsheets is undone on reading
    assert HOSTILE_FORMULA in folder.issues["value"].tolist()
    assert folder.pairs["score"].tolist() == [0.97]
    assert folder.clusters["record_id"].tolist() == ["t:1", "t:4"]
    assert folder.golden["full_name"].tolist() == [HOSTILE_NAME]


def test_load_run_reads_only_the_tables_asked_for(run_dir: Path) -> None:
    full = load_run(run_dir)
    part = load_run(run_dir, only=("issues", "clusters", "records/contacts"))
    assert sorted(part.tables) == ["clusters", "issues", "records/contacts"]
    assert part.run == full.run
    for name in part.tables:
        pd.testing.assert_frame_equal(part.tables[name], full.tables[name])


def _files(root: Path) -> dict[str, bytes]:
    return {
        p.relative_to(root).as_posix(): p.read_bytes()
        for p in sorted(root.rglob("*"))
        if p.is_file()
    }


def test_same_run_gives_byte_identical_files_also_with_shuffled_rows(tmp_path: Path) -> None:
    a = hostile_run_result()
    records = {e: f.sample(frac=1, random_state=7) for e, f in a.records.items()}
    b = hostile_run_result(records=records)
    write_report(a, tmp_path / "a", ALL)
    write_report(b, tmp_path / "b", ALL)
    fa, fb = _files(tmp_path / "a"), _files(tmp_path / "b")
    assert fa.keys() == fb.keys()
    assert [k for k in fa if fa[k] != fb[k]] == []
    with zipfile.ZipFile(tmp_path / "a/report.xlsx") as z:
        assert {i.date_time for i in z.infolist()} == {(2026, 1, 31, 0, 0, 0)}


def test_writers_cope_with_an_empty_run(tmp_path: Path) -> None:
    empty = make_run_result(
        {"contacts": make_contacts(0)},
        by_dimension=pd.DataFrame(),
        kpis=None,
        passed=False,
        reasons=("no records",),
    )
    paths = write_report(empty, tmp_path, ALL)
    assert (tmp_path / "summary.html").is_file() and len(paths) > 5
    page = (tmp_path / "summary.html").read_text(encoding="utf-8")
    assert labels("en")["no_kpis"] in page
    assert labels("en")["no_history"] in page
    run = json.loads((tmp_path / "run.json").read_text(encoding="utf-8"))
    assert run["kpis"] is None and run["scores"]["by_dimension"] == []
    assert pd.read_csv(tmp_path / "duplicates.csv").columns[0] == "record_id_l"


def test_every_label_exists_in_every_language() -> None:
    for key, values in _LABELS.items():
        assert len(values) == len(LANGUAGES) and all(values), key
    assert labels("ko")["title"] == "CRM 데이터 품질 보고서"


@pytest.mark.parametrize("language", LANGUAGES)
def test_html_and_md_use_the_configured_language(language: str, tmp_path: Path) -> None:
    result = hostile_run_result(output={"language": language})
    write_report(result, tmp_path, ["html", "md"])
    title = labels(language)["title"]
    assert title in (tmp_path / "summary.html").read_text(encoding="utf-8")
    assert title in (tmp_path / "summary.md").read_text(encoding="utf-8")
    assert f'<html lang="{language}">' in (tmp_path / "summary.html").read_text(encoding="utf-8")


def test_html_sections_show_the_run(run_dir: Path) -> None:
    page = (run_dir / "summary.html").read_text(encoding="utf-8")
    for anchor in ("score", "trend", "gate", "issues", "duplicates", "kpis", "reports"):
        assert f'id="{anchor}"' in page
    assert "82.0%" in page  # overall score
    assert "merge_review.html" in page
    assert "<svg" in page and "<polyline" in page  # dimension bars and the trend line
    assert "4.1%" in page  # churn_rate shown as a ratio
    assert "+12.0 pt" in page  # overall vs the previous run (0.70 -> 0.82)


def test_markdown_summary_is_a_ci_job_summary(run_dir: Path) -> None:
    md = (run_dir / "summary.md").read_text(encoding="utf-8")
    assert md.startswith("# CRM data quality report")
    assert "❌ **FAILED**" in md
    assert "| validity | 70.0% | +10.0 pt |" in md
    assert "contacts.email.valid" in md


def test_xlsx_has_the_promised_sheets(run_dir: Path) -> None:
    from openpyxl import load_workbook

    wb = load_workbook(run_dir / "report.xlsx")
    assert {"summary", "issues", "duplicates", "clusters", "kpis", "scores"} <= set(wb.sheetnames)
    summary = [r for r in wb["summary"].iter_rows(values_only=True)]
    assert ("Overall quality score", 0.82) in [r[:2] for r in summary]
    issues = list(wb["issues"].iter_rows(values_only=True))
    assert list(issues[0]) == ISSUE_COLUMNS and len(issues) == 4
    assert wb["issues"].freeze_panes == "A2"
    # a second, independent reader agrees
    from python_calamine import CalamineWorkbook

    cal = CalamineWorkbook.from_path(str(run_dir / "report.xlsx"))
    assert cal.sheet_names == wb.sheetnames
    rows = cal.get_sheet_by_name("kpis").to_python()
    assert rows[0][:4] == ["kpi_id", "title", "period", "value"]
    assert rows[1][3] == 0.041 and rows[2][1] == "'=NPS()"


def test_unknown_format_is_a_config_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"unknown report format 'htm'.*'html'"):
        write_report(hostile_run_result(), tmp_path, ["htm"])


def test_every_writer_has_a_suffix_and_a_doc() -> None:
    for name, w in WRITERS.items():
        assert w.suffix.startswith(".") and w.doc, name


def test_report_command_rerenders_in_place(run_dir: Path, runner) -> None:
    before = (run_dir / "issues.csv").read_bytes()
    res = runner.invoke(cli, ["report", str(run_dir), "--language", "ja", "--format", "html"])
    assert res.exit_code == 0, res.output
    assert labels("ja")["title"] in (run_dir / "summary.html").read_text(encoding="utf-8")
    assert (run_dir / "issues.csv").read_bytes() == before
    assert res.output.strip().endswith("summary.html")


def test_report_command_redacts_into_a_copy(run_dir: Path, runner) -> None:
    res = runner.invoke(cli, ["report", str(run_dir), "--redact"])
    assert res.exit_code == 0, res.output
    copy = run_dir.parent / f"{run_dir.name}-redacted"
    for rel in ("run.json", "records/contacts.csv", "summary.html", "issues.csv"):
        text = (copy / rel).read_text(encoding="utf-8-sig")
        assert "kim.minsu@example.com" not in text, rel
    assert "kim.minsu@example.com" in (run_dir / "records/contacts.csv").read_text("utf-8-sig")
    folder = load_run(copy)
    assert folder.run["redacted"] is True
    assert folder.records["contacts"]["email"].iloc[0] == "k***@example.com"


def test_report_command_errors(tmp_path: Path, runner, run_dir: Path) -> None:
    res = runner.invoke(cli, ["report", str(tmp_path)])
    assert res.exit_code == 3 and "no run.json" in res.output
    res = runner.invoke(cli, ["report", str(run_dir), "--format", "pdf"])
    assert res.exit_code == 2 and "unknown report format" in res.output
    res = runner.invoke(cli, ["report", str(run_dir), "--format", "json"])
    assert res.exit_code == 2 and "--out DIR" in res.output
    (run_dir / "run.json").write_text('{"schema_version": 99}', encoding="utf-8")
    res = runner.invoke(cli, ["report", str(run_dir)])  # edited after the run: refused
    assert res.exit_code == 3 and "run.json: changed or truncated since the run" in res.output
    write_manifest(run_dir, "r")  # a folder written by a future version, complete
    res = runner.invoke(cli, ["report", str(run_dir)])
    assert res.exit_code == 3 and "schema_version 99 is not supported" in res.output


def test_report_command_out_writes_a_complete_copy(run_dir: Path, tmp_path: Path, runner) -> None:
    copy = tmp_path / "copy"
    res = runner.invoke(cli, ["report", str(run_dir), "--out", str(copy), "--format", "md"])
    assert res.exit_code == 0, res.output
    assert (copy / "summary.md").is_file() and (copy / "records/contacts.parquet").is_file()
    assert (copy / "run.json").read_bytes() == (run_dir / "run.json").read_bytes()
    assert (copy / "issues.csv").read_bytes() == (run_dir / "issues.csv").read_bytes()


def test_report_from_loaded_folder_matches_the_original(run_dir: Path, tmp_path: Path) -> None:
    folder = load_run(run_dir)
    from audit.report.context import make_context

    ctx = make_context(folder.run, folder.tables, redact=False, language="en")
    render(ctx, tmp_path, ["html"], core=False)
    original = (run_dir / "summary.html").read_text(encoding="utf-8")
    again = (tmp_path / "summary.html").read_text(encoding="utf-8")
    assert again == original


def test_context_is_redacted_once_for_all_writers() -> None:
    ctx = context_for(hostile_run_result(), redact=True)
    assert ctx.redact and ctx.run["redacted"] is True
    assert "kim.minsu@example.com" not in json.dumps(ctx.run, ensure_ascii=False)
    assert ctx.tables["records/contacts"]["email"].iloc[0] == "k***@example.com"


def test_wall_clock_values_only_under_timings() -> None:
    from dataclasses import replace

    r = hostile_run_result()
    stats = {"comparisons": 3, "timings": {"blocking": 0.5}, "training_seconds": 1.0}
    r = replace(r, matches=replace(r.matches, stats=stats))
    run = context_for(r).run
    assert run["duplicates"]["stats"] == {"comparisons": 3}
    assert run["timings"]["match.timings"] == {"blocking": 0.5}
    assert run["timings"]["match.training_seconds"] == 1.0


def test_xlsx_sheets_are_bounded_and_point_to_the_full_files(tmp_path: Path, monkeypatch) -> None:
    """A sheet longer than the limit shows the top rows (errors first), says how many more
    there are and links the file that holds them all; the files sheet lists every table."""
    from openpyxl import load_workbook

    from audit.report import xlsx_writer

    result = hostile_run_result()
    issues = result.issues
    n = len(issues)
    assert n > 2 and set(issues["severity"]) >= {"error"}
    monkeypatch.setattr(xlsx_writer, "MAX_SHEET_ROWS", 2)
    write_report(result, tmp_path / "r", ["xlsx"])
    wb = load_workbook(tmp_path / "r" / "report.xlsx")
    sheet = wb["issues"]
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0][0] == f"The first 2 of {n} rows ({n - 2} more); every row is in issues.csv"
    assert sheet["A1"].hyperlink.target == "issues.csv"
    assert list(rows[2]) == ISSUE_COLUMNS and len(rows) == 5  # note, blank, header, 2 rows
    sev = ISSUE_COLUMNS.index("severity")
    rank = {"error": 0, "warning": 1, "info": 2}
    assert [r[sev] for r in rows[3:]] == sorted(issues["severity"], key=rank.__getitem__)[:2]
    # every issue is in the file the note names
    assert len(pd.read_csv(tmp_path / "r" / "issues.csv", dtype=str)) == n
    files = {r[0]: r for r in wb["files"].iter_rows(min_row=2, values_only=True)}
    assert files["issues"][1:] == (n, 2, "issues.csv")
    assert files["records/contacts"][3] == "records/contacts.csv"
    links = {c.value: c.hyperlink.target for c in wb["files"]["D"][1:]}
    assert links["issues.csv"] == "issues.csv"


def test_per_record_scores_are_parquet_only_and_reload(tmp_path: Path) -> None:
    """scores/by_record is read by programs, not people: Parquet only, nothing lost."""
    from dataclasses import replace

    result = hostile_run_result()
    by_record = pd.DataFrame(
        {"record_id": ["t:1", "t:2", "t:3"], "score": [0.5, 1.0, 0.25], "n_errors": [2, 0, 3]}
    )
    result = replace(result, scorecard=replace(result.scorecard, by_record=by_record))
    write_report(result, tmp_path / "r", ["xlsx"])
    assert not (tmp_path / "r" / "scores/by_record.csv").exists()
    back = load_run(tmp_path / "r").tables["scores/by_record"]
    pd.testing.assert_frame_equal(back, by_record)
    from openpyxl import load_workbook

    files = {r[0]: r for r in load_workbook(tmp_path / "r" / "report.xlsx")["files"].values}
    assert files["scores/by_record"][1:] == (3, 0, "scores/by_record.parquet")
