"""A large mailbox is read on a thread of its own while the other files are read: the result
must be exactly that of reading the files one after the other, and an error must stop it."""

from __future__ import annotations

import mailbox
import multiprocessing
import threading
from pathlib import Path

import pandas as pd
import pytest

import audit.sources as sources
from audit.config import SourceConfig
from audit.errors import ConfigError
from audit.model import Ingest
from audit.sources import mail, read_sources

FIXTURES = Path(__file__).parent / "fixtures"
R = FIXTURES / "sources" / "readers"


def _mailbox(path: Path, copies: int) -> None:
    """An mbox of the fixtures' real messages (provider bounces, an inbox, saved .eml)."""
    raws = [p.read_bytes() for p in sorted((FIXTURES / "real").glob("*.eml"))]
    raws += [p.read_bytes() for p in sorted((R / "eml_folder").glob("*"))]
    box = mailbox.mbox(str(R / "inbox.mbox"), create=False)
    try:
        raws += [box.get_bytes(k) for k in box.iterkeys()]
    finally:
        box.close()
    out = mailbox.mbox(str(path))
    try:
        for _ in range(copies):
            for raw in raws:
                out.add(raw)
    finally:
        out.close()


def _workspace(tmp_path: Path) -> list[SourceConfig]:
    _mailbox(tmp_path / "inbox.mbox", copies=6)
    (tmp_path / "broken.mbox").write_text("not a mailbox\n", encoding="utf-8")
    for f in ("contacts_cp949.csv", "ragged.csv", "contacts.vcf"):
        (tmp_path / f).write_bytes((R / f).read_bytes())
    return [
        SourceConfig(name="crm", path="contacts_cp949.csv"),
        SourceConfig(name="inbox", path="inbox.mbox"),
        SourceConfig(name="list", path="ragged.csv"),
        SourceConfig(name="broken", path="broken.mbox"),
        SourceConfig(name="cards", path="contacts.vcf"),
    ]


def _same(a: Ingest, b: Ingest) -> None:
    assert list(a.records) == list(b.records)
    for entity in a.records:
        pd.testing.assert_frame_equal(a.records[entity], b.records[entity], check_exact=True)
    for name in ("issues", "counts", "files"):
        pd.testing.assert_frame_equal(getattr(a, name), getattr(b, name), check_exact=True)


@pytest.fixture
def small_thresholds(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Thresholds a test mailbox reaches; returns the names of the threads mail was read on."""
    monkeypatch.setattr(mail, "PARALLEL_MIN", 10)
    monkeypatch.setattr(mail, "BATCH", 7)
    monkeypatch.setattr(sources, "AHEAD_MIN_BYTES", 1)
    threads: list[str] = []
    tables = mail.tables

    def spy(*args: object, **kwargs: object) -> object:
        threads.append(threading.current_thread().name)
        return tables(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(mail, "tables", spy)
    return threads


def test_mailbox_read_alongside_gives_the_serial_result(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, small_thresholds: list[str]
) -> None:
    srcs = _workspace(tmp_path)
    monkeypatch.setenv("CRM_AUDIT_WORKERS", "1")
    serial = read_sources(srcs, base_dir=tmp_path)
    assert small_thresholds == ["MainThread"]  # the broken one fails before its messages
    small_thresholds.clear()
    monkeypatch.setenv("CRM_AUDIT_WORKERS", "2")
    overlapped = read_sources(srcs, base_dir=tmp_path)
    assert [t.startswith("crm-audit-mailbox") for t in small_thresholds] == [True]
    _same(serial, overlapped)
    # what the comparison covers: mail contacts, rejected rows and an unreadable mailbox
    assert len(overlapped.records["activities"]) > 3 * mail.PARALLEL_MIN  # on the workers
    assert "source.row.too_many_fields" in set(overlapped.issues["rule_id"])
    unreadable = overlapped.issues[overlapped.issues["rule_id"] == "source.file.unreadable"]
    assert list(unreadable["value"]) == ["broken.mbox"]
    assert not multiprocessing.active_children()
    assert not [t for t in threading.enumerate() if t.name.startswith("crm-audit-mailbox")]


def test_an_error_in_a_later_file_stops_the_mailbox(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, small_thresholds: list[str]
) -> None:
    srcs = _workspace(tmp_path)
    bad = SourceConfig(name="crm", path="contacts_cp949.csv", columns={"이름": "shoe_size"})
    monkeypatch.setenv("CRM_AUDIT_WORKERS", "2")
    with pytest.raises(ConfigError, match=r"sources\[0\]\.columns: 'shoe_size'"):
        read_sources([bad, *srcs[1:]], base_dir=tmp_path)
    assert not multiprocessing.active_children()
    assert not [t for t in threading.enumerate() if t.name.startswith("crm-audit-mailbox")]
