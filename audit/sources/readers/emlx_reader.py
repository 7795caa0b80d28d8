"""Apple Mail .emlx: a byte count line, the RFC 822 message, then an XML plist."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from audit.sources import mail
from audit.sources.readers import RawTable, ReaderOptions, reader


def unwrap(data: bytes) -> bytes:
    """The message bytes inside an .emlx (whole data when the count line is missing)."""
    nl = data.find(b"\n")
    head = data[:nl].strip() if nl > 0 else b""
    if head.isdigit():
        n = int(head)
        return data[nl + 1 : nl + 1 + n]
    return data


@reader("emlx", suffixes=(".emlx",))
def read_emlx(path: Path, opts: ReaderOptions) -> Iterator[RawTable]:
    """Apple Mail .emlx messages: contacts, activities, bounce events."""
    try:
        raw: bytes | Exception = unwrap(path.read_bytes())
    except OSError as e:
        raw = e
    messages = [] if isinstance(raw, bytes) and not raw.strip() else [(1, raw)]
    yield from mail.tables(messages, "emlx")
