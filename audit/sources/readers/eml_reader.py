"""Single .eml messages and folders of them (Outlook/Thunderbird drag-and-drop, Maildir)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from audit.sources import mail
from audit.sources.readers import RawTable, ReaderOptions, reader


@reader("eml", suffixes=(".eml",))
def read_eml(path: Path, opts: ReaderOptions) -> Iterator[RawTable]:
    """.eml messages (one per file, folders of them): contacts, activities, bounce events."""
    try:
        raw: bytes | Exception = path.read_bytes()
    except OSError as e:
        raw = e
    messages = [] if isinstance(raw, bytes) and not raw.strip() else [(1, raw)]
    yield from mail.tables(messages, "eml")
