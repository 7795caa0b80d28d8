"""A folder of exports audited without a config: nested folders, entities from the headers."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner

from audit.cli import cli
from audit.config import SourceConfig
from audit.sources import read_sources


def _export_tree(root: Path) -> Path:
    (root / "Takeout" / "Mail").mkdir(parents=True)
    (root / "members_export_1a2b").mkdir()
    (root / ".cache").mkdir()
    (root / "customers.csv").write_text(
        "name,email,phone\n김민준,minjun@example.kr,010-1234-5678\n", encoding="utf-8"
    )
    (root / "orders.csv").write_text(
        "external_id,customer_email,product,amount,currency,ordered_at\n"
        "o1,minjun@example.kr,Pro,120,KRW,2026-09-01\n",
        encoding="utf-8",
    )
    (root / "deal-stages.csv").write_text(
        "deal_id,stage,entered_at,exited_at\nd1,qualified,2026-08-01,2026-08-09\n",
        encoding="utf-8",
    )
    (root / "members_export_1a2b" / "contacts.csv").write_text(
        "email,full_name\nsato@example.jp,佐藤 花子\n", encoding="utf-8"
    )
    (root / ".cache" / "junk.csv").write_text("email\nhidden@example.com\n", encoding="utf-8")
    (root / "~$customers.xlsx").write_bytes(b"lock file")
    return root


def test_a_folder_source_reads_nested_folders_and_skips_hidden_files(tmp_path: Path) -> None:
    root = _export_tree(tmp_path / "exports")
    ingest = read_sources([SourceConfig(name="x", path=str(root))], base_dir=tmp_path)
    emails = set(ingest.records["contacts"]["email"])
    assert emails == {"minjun@example.kr", "sato@example.jp"}
    assert "hidden@example.com" not in emails


def test_profile_less_files_get_the_entity_their_headers_describe(tmp_path: Path) -> None:
    root = _export_tree(tmp_path / "exports")
    ingest = read_sources([SourceConfig(name="x", path=str(root))], base_dir=tmp_path)
    assert set(ingest.records) >= {"contacts", "orders", "deal_stages"}
    assert ingest.records["orders"]["product"].tolist() == ["Pro"]
    assert ingest.records["deal_stages"]["stage"].tolist() == ["qualified"]


def test_an_explicit_entity_still_wins(tmp_path: Path) -> None:
    root = _export_tree(tmp_path / "exports")
    src = SourceConfig(name="x", path=str(root / "orders.csv"), entity="contacts")
    ingest = read_sources([src], base_dir=tmp_path)
    assert list(ingest.records) == ["contacts"]


def test_inspect_json_has_nulls_not_nan(tmp_path: Path) -> None:
    root = _export_tree(tmp_path / "exports")
    result = CliRunner().invoke(
        cli, ["sources", "inspect", str(root / "orders.csv"), "--format", "json"]
    )
    assert result.exit_code == 0, result.stderr
    assert "NaN" not in result.stdout
    (rec,) = json.loads(result.stdout)
    assert rec["entity"] == "orders" and rec["profile"] is None and rec["sheet"] is None
    assert rec["header_row"] == 1


def test_a_canonical_header_wins_over_a_synonym_of_it(tmp_path: Path) -> None:
    # a file written by crm-audit (merge apply) has record_id (synonym of "record id") and
    # external_id: the external id must come from external_id, not from record_id
    f = tmp_path / "contacts.csv"
    f.write_text(
        "record_id,source,external_id,email\nhubspot:75819,hubspot,75819,kim@example.kr\n",
        encoding="utf-8",
    )
    ingest = read_sources([SourceConfig(name="hubspot", path=str(f))], base_dir=tmp_path)
    c = ingest.records["contacts"]
    assert c["external_id"].tolist() == ["75819"]
    assert c["record_id"].tolist() == ["hubspot:75819"]
    assert json.loads(c["extra"].iloc[0])["record_id"] == "hubspot:75819"
