"""mbox mailboxes (Gmail Takeout, Thunderbird, Apple Mail export)."""

from __future__ import annotations

import mailbox
from collections.abc import Iterator
from pathlib import Path

from audit.errors import InputError
from audit.sources import mail
from audit.sources.readers import RawTable, ReaderOptions, reader


def _messages(path: Path) -> Iterator[tuple[int, bytes | Exception]]:
    box = mailbox.mbox(str(path), create=False)
    try:
        for i, key in enumerate(box.iterkeys(), start=1):
            try:
                yield i, box.get_bytes(key)
            except Exception as e:  # one damaged message must not lose the others
                yield i, e
    finally:
        box.close()


@reader("mbox", suffixes=(".mbox", ".mbx"))
def read_mbox(path: Path, opts: ReaderOptions) -> Iterator[RawTable]:
    """Contacts, activities and bounce events from an mbox file."""
    with path.open("rb") as fh:
        head = fh.read(4096)
    # blank lines before the first "From " line are common in hand-joined mailboxes; the stdlib
    # parser skips them, so only the first line with text must be a "From " separator
    first = head.lstrip(b"\r\n\t ")
    if first and not first.startswith(b"From "):
        raise InputError(
            f"{path}: is not an mbox mailbox (its first line with text does not start with "
            "'From '); check that this is the mailbox export you meant."
        )
    yield from mail.tables(_messages(path), "mbox")
