"""mbox mailboxes (Gmail Takeout, Thunderbird, Apple Mail export)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from audit.errors import InputError
from audit.sources import mail
from audit.sources.readers import RawTable, ReaderOptions, reader

CHUNK = 8 << 20  # bytes read at a time; a message longer than this is gathered whole


def _messages(path: Path) -> Iterator[tuple[int, bytes | Exception]]:
    """Each message's bytes, in order, exactly as `mailbox.mbox(path).get_bytes` gives them.

    The stdlib reads the file a line at a time twice (a table of contents, then each message),
    about 3 microseconds a line; here the file is read in large chunks and split where a line
    starts with "From ". The same rules: text before the first "From " line is not a message,
    the "From " line itself is dropped, and the empty line before the next one (or before the
    end of the file) belongs to no message. Lines end at "\n", on every platform.
    """
    index = 0
    start: int | None = None  # where the open message's "From " line starts in `buf`
    buf = b"\n"  # a line end before the file's first byte: a "From " there starts a line too
    scan = 0
    try:
        with path.open("rb") as fh:
            while True:
                chunk = fh.read(CHUNK)
                buf += chunk
                while True:
                    at = buf.find(b"\nFrom ", scan)
                    if at < 0:
                        break
                    scan = at + 1
                    if start is not None:
                        index += 1
                        yield index, _body(buf, start, at + 1)
                    start = at + 1
                if not chunk:
                    break
                if start is None:  # keep what could begin a "\nFrom " line
                    buf, scan = buf[-6:], 0
                else:  # keep the open message
                    buf, scan, start = buf[start:], scan - start, 0
    except OSError as e:  # a disk error or a file that went away: the file is not read
        raise InputError(
            f"{path}: cannot be read past message {index} ({e.strerror or e}); copy the "
            "mailbox again and audit the copy."
        ) from None
    if start is not None:
        yield index + 1, _body(buf, start, len(buf))


def _body(buf: bytes, start: int, stop: int) -> bytes:
    """The message whose "From " line starts at `start` and which ends before `stop`."""
    first_end = buf.find(b"\n", start, stop)
    if first_end < 0:
        return b""
    if buf[stop - 2 : stop] == b"\n\n":
        stop -= 1
    return buf[first_end + 1 : stop]


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
    yield from mail.tables(_messages(path), "mbox", opts.pool)
