"""Inbox exports to tables: contacts met in mail, one activity per message, bounce events.

The mailbox owner is whoever the mail was delivered to (`Delivered-To`, `X-Original-To`) or,
failing that, the address present in most messages; every other address is a contact. A
contact's `last_activity_at` is the date of the latest message with them, the activity signal
the staleness rules and KPIs need. Bounce notices produce `email_events` rows instead of contacts.
"""

from __future__ import annotations

import datetime as dt
import email
from collections import Counter, deque
from collections.abc import Iterable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from email import policy
from email.message import Message
from email.utils import getaddresses, parsedate_to_datetime
from itertools import chain, islice
from typing import NamedTuple

import pandas as pd

from audit.columnwise import workers
from audit.sources.bounces import Report, analyze
from audit.sources.mailtext import decode_header_text
from audit.sources.readers import RawTable, Rejected

_SYSTEM = ("mailer-daemon", "postmaster", "mail-daemon", "no-reply", "noreply", "do-not-reply")


def parse(raw: bytes) -> Message:
    return email.message_from_bytes(raw, policy=policy.compat32)


def _date(msg: Message) -> str | None:
    value = msg.get("Date")
    if not value:
        return None
    try:
        d = parsedate_to_datetime(str(value))
    except (TypeError, ValueError, IndexError):
        return str(value).strip() or None
    if d is None:
        return None
    if d.tzinfo is None:
        d = d.replace(tzinfo=dt.UTC)
    return d.astimezone(dt.UTC).isoformat()


def _addrs(heads: dict[str, list[str]], *headers: str) -> list[tuple[str, str]]:
    values = []
    for h in headers:
        values += [decode_header_text(v) for v in heads.get(h.lower(), ())]
    out = []
    for name, addr in getaddresses(values):
        addr = addr.strip().strip("<>").lower()
        if "@" in addr:
            out.append((name.strip().strip('"'), addr))
    return out


def _header_index(msg: Message) -> dict[str, list[str]]:
    """Every header's raw values by lower-case name, gathered in one scan of the message.

    The same values, in the same order, as `header_values` finds; one scan per message instead
    of one per header asked for.
    """
    raw = getattr(msg, "_headers", None)  # compat32's getters would turn 8-bit bytes into U+FFFD
    index: dict[str, list[str]] = {}
    for k, v in raw if raw is not None else msg.items():
        index.setdefault(k.lower(), []).append(v)
    return index


class _Seen(NamedTuple):
    """What the tables need from one message; the parsed message itself is let go at once.

    Holding every parsed message until the end cost about 5 KB per message (2 GB for a
    400k-message mailbox) for the few fields read from it.
    """

    number: int  # the message number in the mailbox
    addrs: tuple[list[tuple[str, str]], list[tuple[str, str]], list[tuple[str, str]]]
    date: str | None
    subject: str | None
    message_id: str | None
    report: Report


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
        analyze(msg),
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


def _digested(messages: Iterable[tuple[int, bytes | Exception]]) -> Iterator[_Seen | Rejected]:
    """Every message digested, in mailbox order, on worker processes when there are many.

    The mailbox is still read once and in order here; at most a few batches of raw messages
    are in flight, so memory does not grow with the mailbox.
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
    batches = iter(lambda: list(islice(rest, BATCH)), [])
    with ProcessPoolExecutor(max_workers=n_workers) as pool:
        pending: deque[Future[list[_Seen | Rejected]]] = deque()
        for batch in batches:
            pending.append(pool.submit(_digest_batch, batch))
            if len(pending) >= 4 * n_workers:
                yield from pending.popleft().result()
        while pending:
            yield from pending.popleft().result()


def tables(messages: Iterable[tuple[int, bytes | Exception]], reader: str) -> list[RawTable]:
    """contacts, activities and email_events tables from (message number, raw bytes) pairs.

    One pass over the messages (the mailbox owner is known only once every address was seen),
    keeping a few fields per message; then one pass over those to build the rows.
    """
    seen: list[_Seen] = []
    rejected: list[Rejected] = []
    for item in _digested(messages):
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
    for index, (sender, rcpts, _), date, subject, message_id, report in seen:
        if report.kind in ("bounce", "delay"):
            for b in report.bounces:
                events.append(
                    {
                        "address": b.address,
                        "event": "bounce" if report.kind == "bounce" else "delay",
                        "classification": b.classification,
                        "status": b.status,
                        "reason": b.reason + (f": {b.diagnostic}" if b.diagnostic else ""),
                        "message_index": str(index),
                        "occurred_at": date,
                    }
                )
                event_rows.append(index)
            continue
        if report.kind in ("complaint", "delivered"):
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
        if report.kind == "autoreply":
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
