"""Inbox exports to tables: contacts met in mail, one activity per message, bounce events.

The mailbox owner is whoever the mail was delivered to (`Delivered-To`, `X-Original-To`) or,
failing that, the address present in most messages; every other address is a contact. A
contact's `last_activity_at` is the date of the latest message with them, the activity signal
the staleness rules and KPIs need. Bounce notices produce `email_events` rows instead of contacts.
"""

from __future__ import annotations

import datetime as dt
import email
import re
from collections import Counter, deque
from collections.abc import Iterable, Iterator
from concurrent.futures import Executor, Future, ProcessPoolExecutor
from email import policy
from email.message import Message
from email.utils import getaddresses, parsedate_to_datetime
from functools import lru_cache
from itertools import chain, islice
from typing import NamedTuple

import pandas as pd

from audit.columnwise import workers
from audit.sources.bounces import Bounce, analyze
from audit.sources.mailtext import CACHED_LEN, decode_header_text
from audit.sources.readers import RawTable, Rejected

_SYSTEM = ("mailer-daemon", "postmaster", "mail-daemon", "no-reply", "noreply", "do-not-reply")


def parse(raw: bytes) -> Message:
    """The message as the stdlib parser builds it (compat32: raw header values kept)."""
    return quick_parse(raw) or email.message_from_bytes(raw, policy=policy.compat32)


# the end of the header block: a line end, then an empty line (a line end of its own)
_HEADER_END = re.compile(rb"(\r\n|\r(?!\n)|\n)(?:\r\n|\r|\n)")
# one header as the stdlib parser takes it: a field name of printable ASCII but ':', then ':',
# blanks, the rest of the line and each continuation line (one that begins with a blank), then
# the line end; the value is what compat32 stores (first blanks dropped, last line end dropped)
_HEADER = re.compile(
    r"([\x21-\x39\x3b-\x7e]+):[ \t]*([^\r\n]*(?:(?:\r\n|\r|\n)[ \t][^\r\n]*)*)(?:\r\n|\r|\n)"
)
# characters str.splitlines ends a line at that the stdlib parser does not (\r and \n only)
_OTHER_BREAKS = re.compile("[\x0b\x0c\x1c\x1d\x1e]")
_OTHER_BREAK_BYTES = b"\x0b\x0c\x1c\x1d\x1e"


def quick_parse(raw: bytes) -> Message | None:
    """The Message the stdlib parser would build for a single-part message, built from one
    scan of the header block; None when the stdlib parser must do it.

    For a single-part message (not multipart/*, not message/*) the stdlib parser stores each
    header as (name, value) and the whole rest of the message, untouched, as the payload; its
    cost is a Python step per line of the body. Here the header block is split at its first
    empty line and each header is stored exactly as compat32 stores it, so every later reader
    (bounce analysis included) sees the same message. The stdlib parser still reads: multipart
    and message/* messages (their parts must be parsed), and any header block that is not plain
    (no empty line after it, a first line that is a continuation, an mbox "From " line, a line
    with no field name, a form feed or other line break the two parsers would split apart),
    where it applies its own repairs.
    """
    if raw[:1] in (b"\r", b"\n"):
        return None
    split = _split_uniform(raw)
    if split is None:
        split = _split_mixed(raw)
        if split is None:
            return None
    headers, body_start = split
    msg = _Indexed(headers)
    if msg.get_content_maintype() in ("multipart", "message"):
        return None
    msg.set_payload(raw[body_start:].decode("ascii", "surrogateescape"))
    return msg


# a field name as the stdlib parser takes it: printable ASCII but ':' (and no space)
_NAME = re.compile(r"[\x21-\x39\x3b-\x7e]+")
_NAMES_SEEN: set[str] = set()  # names already found valid (a mailbox uses a few dozen)


def _split_uniform(raw: bytes) -> tuple[list[tuple[str, str]], int] | None:
    """The headers and where the body starts, for a header block whose lines all end in "\n"
    or all in "\r\n" (nearly every message); None for any other block.

    With one line end throughout, the block ends at the first doubled line end, and a line is
    a string split: no regular expression walks the block character by character.
    """
    end = raw.find(b"\n\n")
    if end >= 0 and raw.find(b"\r", 0, end) < 0:
        eol, head_end, body_start = "\n", end + 1, end + 2
    else:
        end = raw.find(b"\r\n\r\n")
        if end < 0:
            return None
        head_end = end + 2
        pairs = raw.count(b"\r\n", 0, head_end)
        if raw.count(b"\r", 0, head_end) != pairs or raw.count(b"\n", 0, head_end) != pairs:
            return None  # a lone "\r" or "\n" in the block
        eol, body_start = "\r\n", end + 4
    block = raw[:head_end]
    if len(block.translate(None, _OTHER_BREAK_BYTES)) != head_end:
        return None  # a form feed or other break (the bytes check: a search is 5 us a block)
    lines = block.decode("ascii", "surrogateescape").split(eol)
    lines.pop()  # the block ends with a line end: nothing after it
    headers: list[tuple[str, str]] = []
    name: str | None = None
    value = ""
    for line in lines:
        if line[0] in " \t":
            if name is None:
                return None
            value += eol + line
            continue
        if name is not None:
            headers.append((name, value))
        name, colon, value = line.partition(":")
        if not colon:
            return None
        if name not in _NAMES_SEEN:
            if _NAME.fullmatch(name) is None:
                return None
            if len(_NAMES_SEEN) < 4096:
                _NAMES_SEEN.add(name)
        value = value.lstrip(" \t")
    if name is not None:
        headers.append((name, value))
    return headers, body_start


def _split_mixed(raw: bytes) -> tuple[list[tuple[str, str]], int] | None:
    """`_split_uniform` for a block that mixes line ends: one regular-expression scan that must
    cover the block without a gap (a line that is not a header leaves one)."""
    end = _HEADER_END.search(raw)
    if end is None:
        return None
    head = raw[: end.end(1)].decode("ascii", "surrogateescape")
    if _OTHER_BREAKS.search(head):
        return None
    headers: list[tuple[str, str]] = []
    pos = 0
    for field in _HEADER.finditer(head):
        if field.start() != pos:
            return None
        pos = field.end()
        headers.append((field.group(1), field.group(2)))
    if pos != len(head):
        return None
    return headers, end.end()


class _Indexed(Message):
    """A compat32 Message whose `get` and content type are looked up once per name.

    `Message.get` scans every header and lowercases each name on every call, and bounce
    analysis asks a dozen questions per message (content type, charset, sender, subject,
    auto-reply fields). The headers are a tuple: this message is only read (digested and let
    go), and a change that would make the answers stale fails at once instead. The content
    type and charset are worked out once per distinct Content-Type value in the mailbox
    (a mailbox has a handful), by the stdlib's own code on a message holding only that header.
    """

    def __init__(self, headers: list[tuple[str, str]]) -> None:
        super().__init__()
        self._headers = tuple(headers)
        # every raw value by lower-case name, in order (`_header_index`), and the first value
        # of each name as Message.get finds it
        index: dict[str, list[str]] = {}
        first: dict[str, tuple[str, str]] = {}
        for k, v in headers:
            low = k.lower()
            if low in index:
                index[low].append(v)
            else:
                index[low] = [v]
                first[low] = (k, v)
        self._index = index
        self._first = first
        self._fetched: dict[str, object] = {}

    def get(self, name: str, failobj: object = None) -> object:  # type: ignore[override]
        low = name.lower()
        try:
            return self._fetched[low]
        except KeyError:
            pass
        hit = self._first.get(low)
        if hit is None:
            return failobj
        # compat32 returns an ASCII value as it is (only surrogates make it a Header)
        value = hit[1] if hit[1].isascii() else self.policy.header_fetch_parse(*hit)
        self._fetched[low] = value
        return value

    def get_content_type(self) -> str:
        return _content_of(self._first.get("content-type"))[0]

    def get_content_charset(self, failobj: object = None) -> object:  # type: ignore[override]
        charset = _content_of(self._first.get("content-type"))[1]
        return failobj if charset is None else charset


def _content_of(header: tuple[str, str] | None) -> tuple[str, str | None]:
    """(content type, charset) of a message with this Content-Type header, as the stdlib works
    them out; once per value up to CACHED_LEN characters (a mailbox repeats a few values)."""
    if header is None or len(header[1]) <= CACHED_LEN:
        return _content_cached(header)
    return _content_uncached(header)


def _content_uncached(header: tuple[str, str] | None) -> tuple[str, str | None]:
    msg = Message()
    if header is not None:
        msg.set_raw(*header)  # stored as parsed, as the parser stores it
    return msg.get_content_type(), msg.get_content_charset()


_content_cached = lru_cache(maxsize=1 << 10)(_content_uncached)


_MONTHS = {
    m: i
    for i, m in enumerate(
        ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"], 1
    )
}
# the Date header as mail programs write it (RFC 5322 section 3.3, numeric zone)
_PLAIN_DATE = re.compile(
    r"(?:(?:Mon|Tue|Wed|Thu|Fri|Sat|Sun), )?(\d{1,2}) (Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|"
    r"Nov|Dec) (\d{4}) (\d\d):(\d\d):(\d\d) ([+-])(\d\d)(\d\d)"
)


def _plain_date(value: str) -> str | None:
    """What `_date` gives for a Date in the usual form, without the stdlib's general parser;
    None for any other form or an impossible date (then the stdlib decides)."""
    m = _PLAIN_DATE.fullmatch(value)
    if m is None:
        return None
    day, mon, year, hh, mm, ss, sign, zh, zm = m.groups()
    offset = int(zh) * 3600 + int(zm) * 60
    try:
        d = dt.datetime(int(year), _MONTHS[mon], int(day), int(hh), int(mm), int(ss))
        if offset:
            zone = dt.timezone(dt.timedelta(seconds=-offset if sign == "-" else offset))
            return d.replace(tzinfo=zone).astimezone(dt.UTC).isoformat()
    except (ValueError, OverflowError):
        return None
    return d.replace(tzinfo=dt.UTC).isoformat()


def _date(msg: Message) -> str | None:
    value = msg.get("Date")
    if not value:
        return None
    if type(value) is str:
        plain = _plain_date(value)
        if plain is not None:
            return plain
    try:
        d = parsedate_to_datetime(str(value))
    except (TypeError, ValueError, IndexError):
        return str(value).strip() or None
    if d is None:
        return None
    if d.tzinfo is None:
        d = d.replace(tzinfo=dt.UTC)
    return d.astimezone(dt.UTC).isoformat()


# one address as most mailers write it: `Display Name <local@domain>`, `<local@domain>` or a
# bare `local@domain`, with plain words in the name and dot-separated atoms in the address
_WORD = r"[^\s\"(),.:;<>@\[\]\\]+"
_SPEC = rf"{_WORD}(?:\.{_WORD})*@{_WORD}(?:\.{_WORD})*"
_SIMPLE_ADDR = re.compile(rf" ?(?:({_WORD}(?: {_WORD})*) )?<({_SPEC})> ?| ?({_SPEC}) ?")


def simple_addresses(value: str) -> list[tuple[str, str]] | None:
    """`getaddresses([value])` for a comma-separated list of plain addresses, without the
    stdlib's character-by-character parser; None when any item is not plain (quotes, comments,
    groups, routes, dots or runs of spaces in a name): then the stdlib parses it."""
    out = []
    for item in value.split(","):
        m = _SIMPLE_ADDR.fullmatch(item)
        if m is None:
            return None
        name, spec, bare = m.groups()
        out.append(("", bare) if bare is not None else (name or "", spec))
    return out


@lru_cache(maxsize=1 << 16)
def _parsed_addrs(values: tuple[str, ...]) -> tuple[tuple[str, str], ...]:
    """(name, lower-case address) of every address in the raw header values.

    Cached: a mailbox names the same people over and over (the owner in every message, each
    contact in each of their threads).
    """
    decoded = [decode_header_text(v) for v in values]
    pairs = simple_addresses(", ".join(decoded)) if decoded else []
    if pairs is None:
        pairs = getaddresses(decoded)
    out = []
    for name, addr in pairs:
        addr = addr.strip().strip("<>").lower()
        if "@" in addr:
            out.append((name.strip().strip('"'), addr))
    return tuple(out)


def _addrs(heads: dict[str, list[str]], *headers: str) -> list[tuple[str, str]]:
    values: list[str] = []
    for h in headers:
        values += heads.get(h.lower(), ())
    if sum(map(len, values)) > CACHED_LEN:  # a long list (or a hostile header): not kept
        return list(_parsed_addrs.__wrapped__(tuple(values)))
    return list(_parsed_addrs(tuple(values)))


def _header_index(msg: Message) -> dict[str, list[str]]:
    """Every header's raw values by lower-case name, gathered in one scan of the message.

    The same values, in the same order, as `header_values` finds; one scan per message instead
    of one per header asked for.
    """
    if isinstance(msg, _Indexed):
        return msg._index
    raw = getattr(msg, "_headers", None)  # compat32's getters would turn 8-bit bytes into U+FFFD
    index: dict[str, list[str]] = {}
    for k, v in raw if raw is not None else msg.items():
        index.setdefault(k.lower(), []).append(v)
    return index


class _Seen(NamedTuple):
    """What the tables need from one message; the parsed message itself is let go at once.

    Holding every parsed message until the end cost about 5 KB per message (2 GB for a
    400k-message mailbox) for the few fields read from it. The bounce report travels as its
    kind and a tuple of bounces, not as the `Report` dataclass: this tuple is pickled from a
    worker and back, and a dataclass (pickled by name, rebuilt through its `__dict__`) cost
    about 16 of the 24 microseconds that round trip took per message.
    """

    number: int  # the message number in the mailbox
    addrs: tuple[list[tuple[str, str]], list[tuple[str, str]], list[tuple[str, str]]]
    date: str | None
    subject: str | None
    message_id: str | None
    kind: str  # bounce | delay | autoreply | complaint | delivered | message (`Report.kind`)
    bounces: tuple[Bounce, ...]


def _unhanded(index: int, e: Exception) -> Rejected:
    """A message the mailbox could not hand over (damaged, unreadable): counted, in its place."""
    return Rejected(index, None, "source.row.unparseable", f"message unreadable: {e}", "")


def _digest(index: int, raw: bytes | Exception) -> _Seen | Rejected:
    """One message read: the fields the tables need, or why it could not be read."""
    if isinstance(raw, Exception):
        return _unhanded(index, raw)
    try:
        msg = parse(raw)
        _ = msg.get("Date"), msg.get("From")
    except Exception as e:  # a broken message is an issue, not a stop
        return Rejected(
            index,
            None,
            "source.row.unparseable",
            f"message unreadable: {e}",
            raw[:200].decode("utf-8", "replace"),
        )
    heads = _header_index(msg)
    subject = heads.get("subject")
    report = analyze(msg)
    return _Seen(
        index,
        (
            _addrs(heads, "From"),
            _addrs(heads, "To", "Cc"),
            _addrs(heads, "Delivered-To", "X-Original-To"),
        ),
        _date(msg),
        (decode_header_text(subject[0]) if subject else "") or None,
        (msg.get("Message-ID") or "").strip() or None,
        report.kind,
        tuple(report.bounces),
    )


def _digest_batch(batch: list[tuple[int, bytes] | Rejected]) -> list[_Seen | Rejected]:
    return [item if isinstance(item, Rejected) else _digest(*item) for item in batch]


def _sendable(
    items: Iterable[tuple[int, bytes | Exception]],
) -> Iterator[tuple[int, bytes] | Rejected]:
    """Messages for a worker: one the mailbox could not hand over is turned into its Rejected
    here, so no exception object (which may not pickle) crosses to a worker process."""
    for index, raw in items:
        yield _unhanded(index, raw) if isinstance(raw, Exception) else (index, raw)


# Parsing a message (stdlib email: MIME tree, addresses, bounce analysis) is about 0.5 ms of
# Python per message, the largest part of reading a big mailbox; messages are independent, so
# batches of them go to worker processes. Below PARALLEL_MIN messages a pool costs more than it
# saves. CRM_AUDIT_WORKERS sets the workers, as for the validators (1 = serial).
PARALLEL_MIN = 5_000
BATCH = 500


def start_pool() -> ProcessPoolExecutor | None:
    """A digest pool with its workers started now, or None when digesting is serial.

    The sources stage reads a large mailbox on a thread of its own while it reads the other
    files; the workers are forked here, before that thread starts, because a process forked
    while another thread is inside a C library can inherit a lock that is never released.
    """
    n_workers = workers()
    if n_workers <= 1:
        return None
    pool = ProcessPoolExecutor(max_workers=n_workers)
    pool.submit(int)  # the first task forks every worker (the "fork" start method)
    return pool


def _digested(
    messages: Iterable[tuple[int, bytes | Exception]], pool: Executor | None = None
) -> Iterator[_Seen | Rejected]:
    """Every message digested, in mailbox order, on worker processes when there are many.

    The mailbox is still read once and in order here; at most a few batches of raw messages
    are in flight, so memory does not grow with the mailbox. `pool` is a pool already started
    (`start_pool`); without one, a pool lives as long as this mailbox's reading.
    """
    it = iter(messages)
    first = list(islice(it, PARALLEL_MIN))
    n_workers = workers()
    if len(first) < PARALLEL_MIN or n_workers <= 1:
        for index, raw in first:
            yield _digest(index, raw)
        for index, raw in it:
            yield _digest(index, raw)
        return
    rest = _sendable(chain(first, it))
    if pool is not None:
        yield from _through(pool, rest, n_workers)
        return
    with ProcessPoolExecutor(max_workers=n_workers) as own:
        yield from _through(own, rest, n_workers)


def _through(
    pool: Executor, rest: Iterator[tuple[int, bytes] | Rejected], n_workers: int
) -> Iterator[_Seen | Rejected]:
    batches = iter(lambda: list(islice(rest, BATCH)), [])
    pending: deque[Future[list[_Seen | Rejected]]] = deque()
    for batch in batches:
        pending.append(pool.submit(_digest_batch, batch))
        if len(pending) >= 4 * n_workers:
            yield from pending.popleft().result()
    while pending:
        yield from pending.popleft().result()


def tables(
    messages: Iterable[tuple[int, bytes | Exception]],
    reader: str,
    pool: Executor | None = None,
) -> list[RawTable]:
    """contacts, activities and email_events tables from (message number, raw bytes) pairs.

    One pass over the messages (the mailbox owner is known only once every address was seen),
    keeping a few fields per message; then one pass over those to build the rows. `pool`: see
    `_digested`.
    """
    seen: list[_Seen] = []
    rejected: list[Rejected] = []
    for item in _digested(messages, pool):
        if isinstance(item, Rejected):
            rejected.append(item)
        else:
            seen.append(item)
    owners = _owners(m.addrs for m in seen)
    acts: list[dict[str, str | None]] = []
    act_rows: list[int] = []
    events: list[dict[str, str | None]] = []
    event_rows: list[int] = []
    contacts: dict[str, dict[str, str | None]] = {}
    first_seen: dict[str, int] = {}
    for index, (sender, rcpts, _), date, subject, message_id, kind, bounces in seen:
        if kind in ("bounce", "delay"):
            for b in bounces:
                events.append(
                    {
                        "address": b.address,
                        "event": "bounce" if kind == "bounce" else "delay",
                        "classification": b.classification,
                        "status": b.status,
                        "reason": b.reason + (f": {b.diagnostic}" if b.diagnostic else ""),
                        "message_index": str(index),
                        "occurred_at": date,
                    }
                )
                event_rows.append(index)
            continue
        if kind in ("complaint", "delivered"):
            continue
        outgoing = bool(sender) and sender[0][1] in owners
        counterpart = rcpts if outgoing else sender
        acts.append(
            {
                "external_id": message_id,
                "contact_email": counterpart[0][1] if counterpart else None,
                "type": "email",
                "direction": "out" if outgoing else "in",
                "subject": subject,
                "occurred_at": date,
            }
        )
        act_rows.append(index)
        if kind == "autoreply":
            continue
        for name, addr in sender + rcpts:
            if addr in owners or addr.split("@", 1)[0] in _SYSTEM:
                continue
            c = contacts.setdefault(
                addr, {"email": addr, "full_name": None, "last_activity_at": None}
            )
            first_seen.setdefault(addr, index)
            if date and (c["last_activity_at"] is None or date > c["last_activity_at"]):
                c["last_activity_at"] = date
                if name:
                    c["full_name"] = name
            elif name and not c["full_name"]:
                c["full_name"] = name
    out = []
    cols_c = ["email", "full_name", "last_activity_at"]
    rows_c = sorted(contacts)
    out.append(
        RawTable(
            frame=pd.DataFrame([contacts[a] for a in rows_c], columns=cols_c, dtype=object),
            source_row=[first_seen[a] for a in rows_c],
            entity="contacts",
            canonical=True,
            aggregate="email",
            reader=reader,
        )
    )
    cols_a = ["external_id", "contact_email", "type", "direction", "subject", "occurred_at"]
    out.append(
        RawTable(
            frame=pd.DataFrame(acts, columns=cols_a, dtype=object),
            source_row=act_rows,
            rejected=rejected,
            entity="activities",
            canonical=True,
            reader=reader,
        )
    )
    cols_e = [
        "address",
        "event",
        "classification",
        "status",
        "reason",
        "message_index",
        "occurred_at",
    ]
    out.append(
        RawTable(
            frame=pd.DataFrame(events, columns=cols_e, dtype=object),
            source_row=event_rows,
            entity="email_events",
            canonical=True,
            reader=reader,
        )
    )
    return out


def _owners(
    addrs: Iterable[tuple[list[tuple[str, str]], list[tuple[str, str]], list[tuple[str, str]]]],
) -> set[str]:
    delivered: Counter[str] = Counter()
    seen: Counter[str] = Counter()
    n = 0
    for sender, rcpts, deliv in addrs:
        n += 1
        for _, a in deliv:
            delivered[a] += 1
        for a in {a for _, a in sender + rcpts}:
            seen[a] += 1
    if delivered:
        return set(delivered)
    if n >= 3 and seen:
        top, count = max(sorted(seen.items()), key=lambda kv: kv[1])
        if count >= max(2, n * 0.6):
            return {top}
    return set()
