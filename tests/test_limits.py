"""Resource limits: a small hostile file gets one clear line (exit 3), never the machine.

Each file here is built the way an attacker (or an unlucky export) would build it; the limits
are the config's `limits:` keys, and raising them is the documented way out.
"""

from __future__ import annotations

import json
import time
import zipfile
from email.header import decode_header, make_header
from pathlib import Path

import openpyxl
import pandas as pd
import pytest
from click.testing import CliRunner

from audit.cli import cli
from audit.sources.mailtext import decode_header_text


def _audit(runner: CliRunner, tmp: Path, target: Path, limits: str = "") -> object:
    cfg = tmp / "c.yaml"
    cfg.write_text(
        f"version: 1\nas_of: 2026-10-31\nsources:\n  - name: s\n    path: {target.name}\n"
        f"thresholds:\n  overall: 0\n{limits}",
        encoding="utf-8",
    )
    return runner.invoke(cli, ["audit", str(cfg), "--out", str(tmp / "out")])


def _one_line(result: object) -> None:
    assert "Traceback" not in result.output + result.stderr  # type: ignore[attr-defined]
    assert len(result.stderr.strip().splitlines()) == 1  # type: ignore[attr-defined]


def test_a_stray_cell_at_the_last_column_and_row_is_refused_before_loading(
    runner: CliRunner, tmp_path: Path
) -> None:
    # 5 KB on disk; the spreadsheet library would allocate the whole 1,048,576 x 16,384 grid
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "Kunden"
    ws.append(["Name", "Email"])
    ws.append(["Jane Doe", "jane@example.com"])
    ws["XFD1048576"] = "x"
    path = tmp_path / "stray.xlsx"
    wb.save(path)
    assert path.stat().st_size < 10_000
    result = _audit(runner, tmp_path, path)
    assert result.exit_code == 3
    assert "sheet 'Kunden' spans A1:XFD1048576" in result.stderr
    assert "limits.max_sheet_cells" in result.stderr
    _one_line(result)


def test_sheet_cell_limit_is_a_config_key(runner: CliRunner, tmp_path: Path) -> None:
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(["Name", "Email", "Phone"])
    for i in range(400):
        ws.append([f"Person {i}", f"p{i}@example.com", f"+82 10-1234-{i:04d}"])
    path = tmp_path / "list.xlsx"
    wb.save(path)
    refused = _audit(runner, tmp_path, path, "limits:\n  max_sheet_cells: 1000\n")
    assert refused.exit_code == 3 and "(1,203 cells; the limit is 1,000" in refused.stderr
    read = _audit(runner, tmp_path, path)
    assert read.exit_code in (0, 1), read.stderr


def _zip(path: Path, members: dict[str, bytes]) -> Path:
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in members.items():
            zf.writestr(name, data)
    return path


def test_zip_that_inflates_past_the_limit_is_refused(runner: CliRunner, tmp_path: Path) -> None:
    # 40 members of compressible CSV, each small enough to pass a per-member check
    row = b"email,name\n" + b"a@example.com,A\n" * 40_000
    path = _zip(tmp_path / "export.zip", {f"part{i:02d}.csv": row for i in range(40)})
    assert path.stat().st_size < 2_000_000
    result = _audit(runner, tmp_path, path, "limits:\n  max_unpacked_mb: 8\n")
    assert result.exit_code == 3
    assert "limits.max_unpacked_mb is 8" in result.stderr
    _one_line(result)


def test_zip_member_count_limit(runner: CliRunner, tmp_path: Path) -> None:
    path = _zip(tmp_path / "many.zip", {f"m{i}.csv": b"email\nx@example.com\n" for i in range(30)})
    result = _audit(runner, tmp_path, path, "limits:\n  max_members: 20\n")
    assert result.exit_code == 3 and "holds 30 files" in result.stderr


def test_zip_members_not_read_are_listed_with_a_reason(runner: CliRunner, tmp_path: Path) -> None:
    path = _zip(
        tmp_path / "export.zip",
        {
            "contacts.csv": b"email,name\na@example.com,A\n",
            "Export\\more.csv": b"email,name\nb@example.com,B\n",  # a Windows tool's separator
            ".hidden.csv": b"email,name\nc@example.com,C\n",
            "__MACOSX/._contacts.csv": b"\x00\x05",
            "inner.zip": b"PK",
            "notes.pdf": b"%PDF",
        },
    )
    result = runner.invoke(cli, ["sources", "inspect", str(path), "--format", "json"])
    assert result.exit_code == 0, result.stderr
    tables = json.loads(result.stdout)
    read = sorted(t["source_file"] for t in tables if t["rows_read"])
    assert read == ["export.zip!Export\\more.csv", "export.zip!contacts.csv"]
    notes = " ".join(w for t in tables for w in t["warnings"])
    assert "4 member(s) not read" in notes
    for name in (".hidden.csv", "__MACOSX/._contacts.csv", "inner.zip", "notes.pdf"):
        assert name in notes


def test_device_files_are_refused(runner: CliRunner, tmp_path: Path) -> None:
    result = runner.invoke(cli, ["audit", "/dev/zero", "--out", str(tmp_path / "o")])
    assert result.exit_code == 3
    assert "/dev/zero: is not a regular file" in result.stderr
    _one_line(result)


@pytest.mark.parametrize("suffix", [".json", ".jsonl"])
def test_json_nested_ten_thousand_deep_loses_only_that_record(
    runner: CliRunner, tmp_path: Path, suffix: str
) -> None:
    good = [{"email": f"p{i}@example.com", "name": f"Person {i}"} for i in range(6)]
    deep = {"email": "deep@example.com", "notes": "__DEEP__"}
    items = [*good[:3], deep, *good[3:]]
    if suffix == ".json":
        text = "[\n" + ",\n".join(json.dumps(i) for i in items) + "\n]\n"
    else:
        text = "\n".join(json.dumps(i) for i in items) + "\n"
    text = text.replace('"__DEEP__"', "[" * 10_000 + "]" * 10_000)
    path = tmp_path / f"people{suffix}"
    path.write_text(text, encoding="utf-8")
    result = _audit(runner, tmp_path, path)
    assert result.exit_code in (0, 1), result.stderr
    run = next((tmp_path / "out").glob("*/run.json")).parent
    ingest = pd.read_csv(run / "ingest.csv")
    assert ingest[["rows_read", "rows_ingested", "rows_rejected"]].sum().tolist() == [7, 6, 1]
    issues = pd.read_csv(run / "issues.csv")
    assert "source.row.too_deep" in set(issues["rule_id"])


ENCODED = [
    "=?utf-8?b?7JWI64WV?= =?utf-8?b?7ZWY7IS47JqU?=",  # one Korean word split over two
    "Re: =?ISO-2022-JP?B?GyRCJUYlOSVIGyhC?= test",
    "=?ks_c_5601-1987?B?vsiz58fPvLy/5A==?=",
    "=?utf-8?q?caf=C3=A9_au_lait?= and more",
    "plain =?bogus",
    "a =?utf-8?q?x?=  =?iso-8859-1?q?=E9?= b",
    "=?gb2312?B?xOO6ww==?= (Chinese)",
]


@pytest.mark.parametrize("value", ENCODED)
def test_encoded_words_decode_like_the_standard_library(value: str) -> None:
    expected = str(make_header(decode_header(value)))
    assert decode_header_text(value) == expected


def test_a_subject_of_100k_encoded_words_is_linear(tmp_path: Path) -> None:
    # the standard library's decoder is quadratic here (71 s for this 2 MB header)
    value = " ".join(["=?utf-8?b?SGVsbG8=?="] * 100_000)
    start = time.perf_counter()
    assert decode_header_text(value) == "Hello" * 100_000
    assert time.perf_counter() - start < 10
