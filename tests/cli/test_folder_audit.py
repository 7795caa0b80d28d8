"""A folder given to `audit`/`run` is audited like the config `init` writes for it.

One source per file (readable names, also for Korean and Japanese file names), a broken file
is a finding while the rest is audited, hidden files are listed, and names with brackets are
file names, not glob patterns.
"""

from __future__ import annotations

import csv
import json
from pathlib import Path

import openpyxl
import yaml
from click.testing import CliRunner

from audit.cli import cli

MBOX = (
    # a mailbox joined by hand: blank lines before the first separator, a quoted ">From " line
    b"\n\n"
    b"From sato@example.jp Mon Mar  2 09:00:00 2026\n"
    b"From: =?UTF-8?B?5L2Q6JekIOiKseWtkA==?= <sato@example.jp>\n"
    b"To: me@example.com\nDate: Mon, 2 Mar 2026 09:00:00 +0900\nSubject: quote\n\n"
    b"Hello,\n>From our side the offer stands.\n\n"
    b"From lee@example.kr Tue Mar  3 10:00:00 2026\n"
    b"From: Lee Ji-eun <lee@example.kr>\n"
    b"To: me@example.com\nDate: Tue, 3 Mar 2026 10:00:00 +0900\nSubject: re: quote\n\nThanks\n"
)


def _folder(root: Path) -> Path:
    root.mkdir()
    (root / "고객명단.csv").write_text(
        "이름,이메일,전화번호\n김민준,minjun@example.kr,010-1234-5678\n"
        "이서연,seoyeon@example.kr,010-2345-6789\n",
        encoding="utf-8-sig",
    )
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(["氏名", "メールアドレス", "会社名"])
    ws.append(["佐藤 花子", "sato@example.jp", "佐藤商事"])
    ws.append(["鈴木 一郎", "suzuki@example.jp", "鈴木工業"])
    ws.append(["高橋 健", "takahashi@example.jp", "高橋製作所"])
    wb.save(root / "顧客管理_2026.xlsx")
    (root / "export [1].csv").write_text(
        "email,full_name\njohn@example.com,John Smith\n", encoding="utf-8"
    )
    (root / "export 1.csv").write_text(
        "email,full_name\nnot-me@example.com,Glob Would Match Me\n", encoding="utf-8"
    )
    (root / "inbox.mbox").write_bytes(MBOX)
    (root / "broken.xlsx").write_bytes(b"PK\x03\x04 this is not really a workbook")
    (root / ".DS_Store").write_bytes(b"\x00\x00\x00\x01Bud1")
    (root / "~$顧客管理_2026.xlsx").write_bytes(b"lock")
    return root


def _run_doc(result_stdout: str) -> tuple[dict, Path]:
    data = json.loads(result_stdout)
    run_dir = Path(data["run_dir"])
    return json.loads((run_dir / "run.json").read_text(encoding="utf-8")), run_dir


def _issues(run_dir: Path) -> list[dict[str, str]]:
    with (run_dir / "issues.csv").open(encoding="utf-8-sig", newline="") as fh:
        return list(csv.DictReader(fh))


def test_a_folder_is_one_source_per_file_and_a_broken_file_is_a_finding(
    runner: CliRunner, tmp_path: Path
) -> None:
    root = _folder(tmp_path / "exports")
    res = runner.invoke(
        cli, ["audit", str(root), "--out", str(tmp_path / "runs"), "--format", "json"]
    )
    assert res.exit_code == 0, res.stderr
    doc, run_dir = _run_doc(res.stdout)

    names = {s["name"]: Path(s["path"]).name for s in doc["config"]["sources"]}
    assert names == {
        "고객명단": "고객명단.csv",
        "顧客管理_2026": "顧客管理_2026.xlsx",
        "export_1": "export 1.csv",  # files are taken in name order
        "export_1_2": "export [1].csv",
        "inbox": "inbox.mbox",
        "broken": "broken.xlsx",
    }
    # each readable file is counted under its own source, and read = ingested + rejected
    by_file = {(c["source"], c["entity"]): c for c in doc["counts"]}
    assert by_file[("고객명단", "contacts")]["rows_ingested"] == 2
    assert by_file[("顧客管理_2026", "contacts")]["rows_ingested"] == 3
    assert by_file[("export_1", "contacts")]["rows_ingested"] == 1
    assert by_file[("export_1_2", "contacts")]["rows_ingested"] == 1
    for c in doc["counts"]:
        assert c["rows_read"] == c["rows_ingested"] + c["rows_rejected"], c
    contacts = list(
        csv.DictReader((run_dir / "records" / "contacts.csv").open(encoding="utf-8-sig"))
    )
    by_email = {r["email"]: r for r in contacts}
    assert by_email["john@example.com"]["source"] == "export_1_2"
    assert by_email["not-me@example.com"]["source"] == "export_1"
    assert by_email["sato@example.jp"]["record_id"].startswith("顧客管理_2026:")
    # the mailbox that starts with blank lines is read: both senders are contacts
    assert {"lee@example.kr"} <= {r["email"] for r in contacts if r["source"] == "inbox"}
    assert "sato@example.jp" in {r["email"] for r in contacts if r["source"] == "inbox"}

    issues = _issues(run_dir)
    broken = [i for i in issues if i["rule_id"] == "source.file.unreadable"]
    assert len(broken) == 1 and "broken.xlsx" in broken[0]["message"]
    assert broken[0]["severity"] == "error"
    skipped = {
        Path(i["value"]).name: i["message"] for i in issues if i["rule_id"] == "source.file.skipped"
    }
    assert set(skipped) == {".DS_Store", "~$顧客管理_2026.xlsx"}
    assert "hidden file" in skipped[".DS_Store"]
    assert "lock file" in skipped["~$顧客管理_2026.xlsx"]
    # the terminal summary names the file that was not read, so exit 0 does not hide it
    summary = json.loads(res.stdout)
    unreadable = [f for f in summary["not_read"] if f["kind"] == "unreadable"]
    assert [Path(f["file"]).name for f in unreadable] == ["broken.xlsx"]
    text = runner.invoke(cli, ["audit", str(root), "--out", str(tmp_path / "runs2")])
    assert "NOT READ:" in text.stdout and "broken.xlsx" in text.stdout


def test_init_writes_the_same_sources_the_folder_audit_uses(
    runner: CliRunner, tmp_path: Path
) -> None:
    root = _folder(tmp_path / "exports")
    out = tmp_path / "my.yaml"
    res = runner.invoke(cli, ["init", str(root), "-o", str(out)])
    assert res.exit_code == 0, res.stderr
    cfg = yaml.safe_load(out.read_text(encoding="utf-8"))
    init_names = sorted(s["name"] for s in cfg["sources"])
    res = runner.invoke(
        cli, ["audit", str(root), "--out", str(tmp_path / "runs"), "--format", "json"]
    )
    doc, _ = _run_doc(res.stdout)
    assert init_names == sorted(s["name"] for s in doc["config"]["sources"])
    assert "not read (hidden file)" in out.read_text(encoding="utf-8")


def test_only_a_folder_with_nothing_readable_is_exit_3(runner: CliRunner, tmp_path: Path) -> None:
    root = tmp_path / "bad"
    root.mkdir()
    (root / "a.xlsx").write_bytes(b"PK\x03\x04 not a workbook")
    (root / "b.mbox").write_bytes(b"Subject: no separator\n\nhello\n")
    res = runner.invoke(cli, ["audit", str(root), "--out", str(tmp_path / "runs")])
    assert res.exit_code == 3, res.output
    assert "Traceback" not in res.stderr
    assert "1 other file(s) could not be read either" in res.stderr
    assert "format: eml" not in res.stderr


def test_an_explicit_file_name_with_brackets_is_not_a_pattern(
    runner: CliRunner, tmp_path: Path
) -> None:
    root = _folder(tmp_path / "exports")
    res = runner.invoke(
        cli,
        [
            "audit",
            str(root / "export [1].csv"),
            "--out",
            str(tmp_path / "runs"),
            "--format",
            "json",
        ],
    )
    assert res.exit_code == 0, res.stderr
    doc, run_dir = _run_doc(res.stdout)
    assert [Path(c["source_file"]).name for c in doc["counts"]] == ["export [1].csv"]
    contacts = (run_dir / "records" / "contacts.csv").read_text(encoding="utf-8-sig")
    assert "john@example.com" in contacts and "not-me@example.com" not in contacts
