"""Header detection never drops data rows (issue #14): title lines are skipped only when they
look like titles, a ragged row or a comma inside one value cannot become the header, a very
wide header is read whole, a CSV footer is reported like a workbook footer."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import openpyxl
import pytest
from click.testing import CliRunner

from audit.cli import cli

CUSTOMERS = [
    ("Kim Minjun", "minjun@example.kr"),
    ("Lee Seoyeon", "seoyeon@example.kr"),
    ("Park Jihoon", "jihoon@example.kr"),
    ("Choi Yuna", "yuna@example.kr"),
    ("Jung Minho", "minho@example.kr"),
    ("Kang Hana", "hana@example.kr"),
    ("Cho Daeun", "daeun@example.kr"),
]


def _inspect(runner: CliRunner, path: Path) -> list[dict]:
    res = runner.invoke(cli, ["sources", "inspect", str(path), "--format", "json"])
    assert res.exit_code == 0, res.stderr
    return json.loads(res.stdout)


def _audit(runner: CliRunner, path: Path, out: Path) -> tuple[dict, Path]:
    res = runner.invoke(cli, ["audit", str(path), "--out", str(out), "--format", "json"])
    assert res.exit_code == 0, res.stderr
    run_dir = Path(json.loads(res.stdout)["run_dir"])
    return json.loads((run_dir / "run.json").read_text(encoding="utf-8")), run_dir


def test_a_row_with_unquoted_commas_does_not_become_the_header(
    runner: CliRunner, tmp_path: Path
) -> None:
    f = tmp_path / "leads.csv"
    lines = ["name,email,notes"]
    lines += [f"{n},{e}," for n, e in CUSTOMERS]
    lines.append("Yoon Jiwoo,jiwoo@example.kr,met at expo, likes golf, call back, send deck, vip")
    lines.append("Jang Seojun,seojun@example.kr,")
    f.write_text("\n".join(lines) + "\n", encoding="utf-8")
    doc, run_dir = _audit(runner, f, tmp_path / "runs")
    (count,) = doc["counts"]
    assert (count["rows_read"], count["rows_ingested"], count["rows_rejected"]) == (9, 8, 1)
    emails = {
        r["email"]
        for r in csv.DictReader((run_dir / "records" / "contacts.csv").open(encoding="utf-8-sig"))
    }
    assert emails == {e for _, e in CUSTOMERS} | {"seojun@example.kr"}
    with (run_dir / "issues.csv").open(encoding="utf-8-sig") as fh:
        rejected = [i for i in csv.DictReader(fh) if i["rule_id"] == "source.row.too_many_fields"]
    assert len(rejected) == 1 and "line 9" in rejected[0]["message"]


def test_a_one_column_email_list_keeps_every_row(runner: CliRunner, tmp_path: Path) -> None:
    f = tmp_path / "newsletter.csv"
    f.write_text(
        "email\nkim@example.com\nlee@example.com\npark@example.com, choi@example.com\n"
        "yoon@example.com\n",
        encoding="utf-8",
    )
    (rec,) = _inspect(runner, f)
    assert rec["header_row"] == 1
    assert (rec["rows_read"], rec["rows_ingested"], rec["rows_rejected"]) == (4, 3, 1)


def test_real_title_lines_are_still_skipped_and_named(runner: CliRunner, tmp_path: Path) -> None:
    f = tmp_path / "report.csv"
    f.write_text(
        "Customer list - Seoul office\nExported 2026-03-01\n\nname,email,phone\n"
        "Kim Minjun,minjun@example.kr,010-1234-5678\n",
        encoding="utf-8",
    )
    (rec,) = _inspect(runner, f)
    assert rec["header_row"] == 4 and rec["rows_ingested"] == 1
    assert any("'Customer list - Seoul office'" in w for w in rec["warnings"])


def test_a_file_without_header_keeps_its_first_row_and_says_so(
    runner: CliRunner, tmp_path: Path
) -> None:
    f = tmp_path / "noheader.csv"
    f.write_text("\n".join(f"{n},{e}" for n, e in CUSTOMERS[:3]) + "\n", encoding="utf-8")
    (rec,) = _inspect(runner, f)
    assert rec["header_row"] == 1 and rec["rows_read"] == 2
    assert any("holds an email or phone" in w for w in rec["warnings"])


def test_a_header_wider_than_the_sniff_window_is_read_whole(
    runner: CliRunner, tmp_path: Path
) -> None:
    # a CRM "all properties" export: thousands of custom properties, the header > 256 KiB
    props = [f"Custom property {i:05d}" for i in range(12000)]
    f = tmp_path / "all-properties.csv"
    with f.open("w", encoding="utf-8", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["Record ID", "First Name", "Last Name", "Email", *props])
        for i in range(3):
            w.writerow([str(100 + i), "Ana", "Lima", f"ana{i}@example.com", *[""] * 11999, "x"])
    assert len(f.read_text(encoding="utf-8").splitlines()[0]) > 262144
    (rec,) = _inspect(runner, f)
    assert (rec["rows_read"], rec["rows_ingested"], rec["rows_rejected"]) == (3, 3, 0)
    assert "Custom property 11999" in rec["unmapped"]


def test_a_totals_footer_is_reported_in_a_csv_as_in_a_workbook(
    runner: CliRunner, tmp_path: Path
) -> None:
    rows = [
        ["Deal Name", "Stage", "Amount", "Close Date"],
        ["Acme renewal", "won", "12000", "2026-01-10"],
        ["Globex pilot", "lost", "5000", "2026-02-01"],
        ["Total", "", "17000", ""],
    ]
    c = tmp_path / "deals.csv"
    c.write_text("\n".join(",".join(r) for r in rows) + "\n", encoding="utf-8")
    wb = openpyxl.Workbook()
    for r in rows:
        wb.active.append(r)
    x = tmp_path / "deals.xlsx"
    wb.save(x)
    for f in (c, x):
        (rec,) = _inspect(runner, f)
        assert rec["entity"] == "deals"
        assert (rec["rows_read"], rec["rows_ingested"], rec["rows_rejected"]) == (3, 2, 1), f
    doc, run_dir = _audit(runner, c, tmp_path / "runs")
    assert doc["records"]["deals"] == 2
    with (run_dir / "issues.csv").open(encoding="utf-8-sig") as fh:
        footers = [i for i in csv.DictReader(fh) if i["rule_id"] == "source.row.footer"]
    assert len(footers) == 1 and footers[0]["severity"] == "info"


@pytest.mark.parametrize(
    ("title", "header_row"),
    [
        ("Report,Generated,2026-01-01\n\n", 3),  # three short cells above ten columns
        ("Exported by admin@example.com\n", 2),  # a sentence that mentions an address
    ],
)
def test_title_lines_that_are_not_one_cell_or_mention_an_address(
    runner: CliRunner, tmp_path: Path, title: str, header_row: int
) -> None:
    f = tmp_path / "export.csv"
    f.write_text(
        title + "name,email,phone,city,country,owner,stage,source,created,notes\n"
        "Kim,kim@example.kr,010-1234-5678,Seoul,KR,Lee,lead,web,2026-01-01,\n"
        "Park,park@example.kr,010-2234-5678,Busan,KR,Lee,lead,web,2026-01-02,\n",
        encoding="utf-8",
    )
    (rec,) = _inspect(runner, f)
    assert rec["header_row"] == header_row
    assert (rec["rows_read"], rec["rows_ingested"]) == (2, 2)
