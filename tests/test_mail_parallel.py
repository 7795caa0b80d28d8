"""A large mailbox is digested on worker processes: the tables must equal the serial ones."""

from __future__ import annotations

import mailbox
from pathlib import Path

import pytest

from audit.sources import mail

FIXTURES = Path(__file__).parent / "fixtures"


def _real_messages() -> list[bytes]:
    """Real messages of the fixtures: two provider bounces, an inbox and a folder of .eml."""
    raws = [p.read_bytes() for p in sorted((FIXTURES / "real").glob("*.eml"))]
    raws += [p.read_bytes() for p in sorted((FIXTURES / "sources/readers/eml_folder").glob("*"))]
    box = mailbox.mbox(str(FIXTURES / "sources/readers/inbox.mbox"), create=False)
    try:
        raws += [box.get_bytes(k) for k in box.iterkeys()]
    finally:
        box.close()
    return raws


def _stream(raws: list[bytes], copies: int) -> list[tuple[int, bytes | Exception]]:
    out: list[tuple[int, bytes | Exception]] = []
    for i in range(copies):
        for raw in raws:
            out.append((len(out) + 1, raw))
        if i == 3:  # a message the mailbox could not hand over stays counted, in its place
            out.append((len(out) + 1, OSError("damaged")))
    return out


def _snapshot(tables: list) -> list:
    return [
        (
            t.entity,
            t.frame.to_csv(index=False),
            t.source_row,
            [tuple(vars(r).values()) for r in t.rejected],
        )
        for t in tables
    ]


def test_parallel_digest_gives_the_serial_tables(monkeypatch: pytest.MonkeyPatch) -> None:
    raws = _real_messages()
    assert len(raws) >= 8
    stream = _stream(raws, copies=12)
    monkeypatch.setenv("CRM_AUDIT_WORKERS", "1")
    serial = mail.tables(iter(stream), "mbox")
    monkeypatch.setenv("CRM_AUDIT_WORKERS", "2")
    monkeypatch.setattr(mail, "PARALLEL_MIN", 10)
    monkeypatch.setattr(mail, "BATCH", 7)
    pools: list[int] = []

    class Spy(mail.ProcessPoolExecutor):
        def __init__(self, max_workers: int) -> None:
            pools.append(max_workers)
            super().__init__(max_workers=max_workers)

    monkeypatch.setattr(mail, "ProcessPoolExecutor", Spy)
    parallel = mail.tables(iter(stream), "mbox")
    assert pools == [2]  # the pool did the work
    assert _snapshot(parallel) == _snapshot(serial)
    by_entity = {t.entity: t for t in serial}
    assert len(by_entity["email_events"].frame) >= 12  # the bounces were recognised
    assert [r.row for r in by_entity["activities"].rejected] == [4 * len(raws) + 1]
