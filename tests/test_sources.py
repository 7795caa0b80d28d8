"""read_sources over folders, globs and several sources: provenance, ids, accounting."""

from __future__ import annotations

import shutil
from pathlib import Path

from audit import schema
from audit.config import SourceConfig
from audit.sources import read_sources

R = Path(__file__).parent / "fixtures" / "sources" / "readers"


def test_folder_with_mixed_files(tmp_path):
    for f in ("contacts_cp949.csv", "contacts.vcf", "inbox.mbox"):
        shutil.copy(R / f, tmp_path / f)
    (tmp_path / "notes.pdf").write_bytes(b"%PDF-1.4 junk")
    (tmp_path / ".DS_Store").write_bytes(b"\0\0")
    ingest = read_sources([SourceConfig(name="box", path=".")], base_dir=tmp_path)
    readers = set(ingest.files["reader"].dropna())
    assert readers == {"csv", "vcf", "mbox"}
    skipped = ingest.files[ingest.files["reader"].isna()]
    warnings = sorted(w for ws in skipped["warnings"] for w in ws)
    assert warnings == [
        ".DS_Store: hidden file",
        "notes.pdf: no reader for this kind of file",
    ]
    listed = ingest.issues[ingest.issues["rule_id"] == "source.file.skipped"]
    assert sorted(listed["value"]) == [".DS_Store", "notes.pdf"]
    c = ingest.records["contacts"]
    assert list(c.columns[: len(schema.columns("contacts"))]) == schema.columns("contacts")
    assert c["record_id"].is_unique
    assert set(c["source_file"]) == {"contacts_cp949.csv", "contacts.vcf", "inbox.mbox"}
    # every value is text or missing after sources: Arrow text, the source and file shared
    for col in c.columns:
        if col in ("source", "source_file"):
            assert c[col].dtype == object, col
            assert all(isinstance(v, str) for v in c[col]), col
        else:
            assert c[col].dtype == "str", col
            assert all(isinstance(v, str) for v in c[col].dropna()), col
    assert c["extra"].isna().any() and c["extra"].notna().any()


def test_record_ids_survive_row_shuffling(tmp_path):
    rows = ["name,email", "김민준,a@example.kr", "佐藤 花子,b@example.jp", "王伟,c@example.cn"]
    (tmp_path / "a.csv").write_text("\n".join(rows) + "\n", encoding="utf-8")
    (tmp_path / "b.csv").write_text("\n".join([rows[0], *rows[:0:-1]]) + "\n", encoding="utf-8")
    a = read_sources([SourceConfig(name="s", path="a.csv")], base_dir=tmp_path)
    b = read_sources([SourceConfig(name="s", path="b.csv")], base_dir=tmp_path)
    ids_a = dict(
        zip(a.records["contacts"]["email"], a.records["contacts"]["record_id"], strict=True)
    )
    ids_b = dict(
        zip(b.records["contacts"]["email"], b.records["contacts"]["record_id"], strict=True)
    )
    assert ids_a == ids_b


def test_glob_and_entity_for_generic_files(tmp_path):
    (tmp_path / "d1.csv").write_text("Deal Name,Amount,Stage\nA,1000,won\n", encoding="utf-8")
    (tmp_path / "d2.csv").write_text("Deal Name,Amount,Stage\nB,2000,lost\n", encoding="utf-8")
    ingest = read_sources(
        [SourceConfig(name="d", path="d*.csv", entity="deals")], base_dir=tmp_path
    )
    deals = ingest.records["deals"]
    assert deals["name"].tolist() == ["A", "B"] and deals["amount"].tolist() == ["1000", "2000"]
    assert ingest.counts["rows_read"].tolist() == [1, 1]


def test_catalog_lists_every_reader_profile_and_inspect_key():
    from audit.sources import INSPECT_KEYS, catalog_markdown
    from audit.sources.profiles import PROFILES
    from audit.sources.readers import READERS

    text = catalog_markdown()
    for name in [*READERS.names(), *PROFILES.names(), *INSPECT_KEYS]:
        assert f"`{name}`" in text
