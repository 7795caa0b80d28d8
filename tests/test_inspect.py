"""`crm-audit sources inspect`: exit codes and literal output."""

from __future__ import annotations

import json
from pathlib import Path

from audit.cli import cli
from audit.sources import INSPECT_KEYS

R = Path(__file__).parent / "fixtures" / "sources"


def test_inspect_text(runner):
    result = runner.invoke(cli, ["sources", "inspect", str(R / "readers" / "contacts_cp949.csv")])
    assert result.exit_code == 0, result.output
    assert "encoding:   cp949" in result.output
    assert "이메일 -> email" in result.output


def test_inspect_json_keys_and_profile(runner):
    path = R / "salesforce.contacts" / "salesforce_contacts.csv"
    result = runner.invoke(cli, ["sources", "inspect", str(path), "--format", "json"])
    assert result.exit_code == 0
    data = json.loads(result.stdout)
    assert list(data[0]) == list(INSPECT_KEYS)
    assert data[0]["profile"] == "salesforce.contacts"
    assert data[0]["rows_rejected"] == 3
    assert "Custom Field" in data[0]["unmapped"]


def test_inspect_unreadable_file_exits_3_with_one_line(runner, tmp_path):
    bad = tmp_path / "bad.xlsx"
    bad.write_bytes(b"PK\x03\x04 not really a zip")
    result = runner.invoke(cli, ["sources", "inspect", str(bad)])
    assert result.exit_code == 3
    assert "bad.xlsx" in result.stderr and "Traceback" not in result.output
    assert len(result.stderr.strip().splitlines()) == 1


def test_inspect_missing_file_exits_3(runner, tmp_path):
    result = runner.invoke(cli, ["sources", "inspect", str(tmp_path / "nope.csv")])
    assert result.exit_code == 3 and "file not found" in result.stderr


def test_inspect_wrong_encoding_names_the_option(runner):
    path = R / "readers" / "contacts_cp949.csv"
    result = runner.invoke(cli, ["sources", "inspect", str(path), "--encoding", "utf-8"])
    assert result.exit_code == 3
    assert "it looks like cp949" in result.stderr and "--encoding" in result.stderr


def test_inspect_mail_shows_tables_built_by_the_reader(runner):
    result = runner.invoke(cli, ["sources", "inspect", str(R / "readers" / "inbox.mbox")])
    assert result.exit_code == 0
    assert "entity: email_events" in result.output
    assert "columns:    address, event, classification, status" in result.output
