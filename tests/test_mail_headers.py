"""The mailbox's fast paths read a message as the stdlib parser does, on the messages where a
header-only shortcut would go wrong: a bounce whose only sign is a header, a bounce whose only
sign is in a base64 body, multipart delivery reports, auto-replies, RFC 2047 names in CJK,
folded headers, a missing or untidy Content-Type, charsets other than UTF-8, CRLF line ends.

Each message is digested twice: as the connector does it (`mail._digest`), and with the quick
header split turned off, so that every message goes through `email.message_from_bytes`. The
two must give the same record; real messages (the sisimai corpus, the repository's fixtures)
wherever one exists, and what each must come out as is checked too.
"""

from __future__ import annotations

import base64
from pathlib import Path

import pytest

from audit.sources import mail

FIXTURES = Path(__file__).parent / "fixtures"


def _both(raw: bytes, monkeypatch: pytest.MonkeyPatch) -> mail._Seen:
    """The record the connector makes, after checking the stdlib alone makes the same."""
    fast = mail._digest(7, raw)
    with monkeypatch.context() as m:
        m.setattr(mail, "quick_parse", lambda raw: None)
        slow = mail._digest(7, raw)
    assert isinstance(fast, mail._Seen)
    assert fast == slow
    return fast


def _real(shared_data: Path, name: str) -> bytes:
    return (shared_data / "bounces" / "eml" / name).read_bytes()


# (file, what the connector must make of it, why the file is here)
_REAL = [
    ("lhost-exim-05.eml", "bounce", "X-Failed-Recipients names the address, no Content-Type"),
    ("lhost-qmail-11.eml", "bounce", "CRLF line ends, no Content-Type"),
    ("lhost-mfilter-01.eml", "bounce", "ISO-2022-JP body, quoted charset"),
    ("lhost-gmail-03.eml", "bounce", "ISO-8859-1, quoted-printable body"),
    ("lhost-mxlogic-03.eml", "bounce", "Content-Type folded over two lines"),
    ("lhost-domino-01.eml", "bounce", "Content-Type 'Text/Plain' in mixed case, no charset"),
    ("lhost-imailserver-06.eml", "bounce", "charset with a trailing blank"),
    ("lhost-mailru-01.eml", "bounce", "RFC 2047 encoded headers, 8bit UTF-8 body"),
    ("rfc3834-04.eml", "autoreply", "windows-1252, quoted-printable auto-reply"),
    ("rfc3834-01.eml", "autoreply", "Auto-Submitted header, no Content-Type"),
    ("lhost-einsundeins-03.eml", "autoreply", "8bit UTF-8 auto-reply"),
    ("lhost-amazonses-11.eml", "complaint", "SES notification JSON in a plain body"),
    ("not-bounce-is-not-bounce-01.eml", "message", "CRLF, RFC 2047 Japanese subject"),
    ("lhost-notes-01.eml", "message", "ISO-2022-JP, not a bounce"),
    ("lhost-postfix-01.eml", "bounce", "multipart/report with message/delivery-status"),
    ("lhost-exim-38.eml", "autoreply", "an autoreply from a mail server"),
]


@pytest.mark.parametrize(("name", "kind", "why"), _REAL, ids=[r[0] for r in _REAL])
def test_real_messages_read_fast_are_read_as_the_stdlib_reads_them(
    shared_data: Path, monkeypatch: pytest.MonkeyPatch, name: str, kind: str, why: str
) -> None:
    seen = _both(_real(shared_data, name), monkeypatch)
    assert seen.kind == kind, why
    assert bool(seen.bounces) == (kind in ("bounce", "delay")), why


def test_the_quick_split_takes_the_plain_ones_and_leaves_the_multipart_report(
    shared_data: Path,
) -> None:
    """Guard for the test above: its plain messages really went the quick way."""
    for name, _kind, _why in _REAL:
        raw = _real(shared_data, name)
        quick = mail.quick_parse(raw)
        assert (quick is None) == (name == "lhost-postfix-01.eml"), name


def test_a_header_is_the_only_sign_of_a_bounce(
    shared_data: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An ordinary real message, with one header added: X-Failed-Recipients. Neither its
    subject, its sender nor its body says anything about a failure."""
    raw = _real(shared_data, "not-bounce-is-not-bounce-01.eml")
    assert _both(raw, monkeypatch).kind == "message"
    flagged = b"X-Failed-Recipients: gone@example.org\r\n" + raw
    seen = _both(flagged, monkeypatch)
    assert seen.kind == "bounce"
    assert [b.address for b in seen.bounces] == ["gone@example.org"]


def test_a_base64_body_is_the_only_sign_of_a_bounce(monkeypatch: pytest.MonkeyPatch) -> None:
    """A delivery-status block pasted into a plain message, base64-encoded, under headers that
    say nothing: the body must still be decoded and read (a header-only reading misses it)."""
    status = (
        b"Reporting-MTA: dns; mx.example.net\n\n"
        b"Final-Recipient: rfc822; lost@example.org\n"
        b"Action: failed\nStatus: 5.1.1\n"
        b"Diagnostic-Code: smtp; 550 5.1.1 <lost@example.org>: Recipient address rejected: "
        b"User unknown in virtual mailbox table\n"
    )
    raw = (
        b"From: =?UTF-8?B?55Sw5LitIOe+juWSsg==?= <misaki.tanaka@example.com>\n"
        b"To: Sales <sales@example.com>\n"
        b"Subject: =?UTF-8?B?5aWR57SE5pu05paw44Gu44GU55u46KuH?=\n"
        b"Date: Sat, 03 May 2025 01:35:11 +0900\n"
        b'Content-Type: text/plain; charset="UTF-8"\n'
        b"Content-Transfer-Encoding: base64\n\n" + base64.encodebytes(status)
    )
    seen = _both(raw, monkeypatch)
    assert seen.kind == "bounce"
    assert [(b.address, b.classification) for b in seen.bounces] == [("lost@example.org", "hard")]
    # and the same message with a neutral body is an ordinary message from a named person
    plain = raw.split(b"\n\n", 1)[0] + b"\n\n" + base64.encodebytes(b"Hello,\nSee you.\n")
    seen = _both(plain, monkeypatch)
    assert seen.kind == "message"
    assert seen.addrs[0] == [("田中 美咲", "misaki.tanaka@example.com")]
    assert seen.subject == "契約更新のご相談"


def test_cjk_names_folded_headers_and_charsets_in_the_fixture_mailbox(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The repository's own real-shaped mailbox and .eml files: Korean and Japanese names in
    encoded words, a folded recipient list, a multipart bounce."""
    from audit.sources.readers.mbox_reader import _messages

    raws = [raw for _, raw in _messages(FIXTURES / "sources" / "readers" / "inbox.mbox")]
    raws += [p.read_bytes() for p in sorted(FIXTURES.rglob("*.eml"))]
    names = set()
    for raw in raws:
        seen = _both(raw, monkeypatch)
        names |= {n for part in seen.addrs for n, _ in part}
    assert {"김민준", "佐藤 花子"} <= names


@pytest.mark.parametrize(
    "content_type",
    [
        None,
        "text/plain",
        "TEXT/PLAIN; CHARSET=ISO-2022-JP",
        'text/plain; charset="ks_c_5601-1987"',
        "text/plain; charset*=utf-8''%E2%82%AC",  # RFC 2231: a parameter value in its own charset
        "text/plain; charset=\udce9t\udce9",  # raw 8-bit bytes in the header
        "text/plain;\n\tcharset=shift_jis",
        "text",  # broken: no subtype, so text/plain
        "text/plain; charset=" + "x" * 600,  # longer than the cache takes
    ],
)
def test_content_type_and_charset_are_the_stdlib_ones(content_type: str | None) -> None:
    head = "" if content_type is None else f"Content-Type: {content_type}\n"
    raw = f"From: a@example.com\n{head}\nbody\n".encode("utf-8", "surrogateescape")
    quick = mail.quick_parse(raw)
    assert quick is not None
    full = mail.email.message_from_bytes(raw, policy=mail.policy.compat32)
    assert quick.get_content_type() == full.get_content_type()
    assert quick.get_content_charset() == full.get_content_charset()
    assert quick.get_content_charset("fallback") == full.get_content_charset("fallback")


def test_a_single_part_is_analysed_as_the_tree_walk_analyses_it(shared_data: Path) -> None:
    """The single-part reading of a bounce asks what the general walk over parts asks: the
    same report for every real single-part message (the corpus, the fixtures), whichever
    parser built it."""
    from audit.sources import bounces

    raws = [p.read_bytes() for p in sorted((shared_data / "bounces" / "eml").glob("*.eml"))]
    raws += [p.read_bytes() for p in sorted(FIXTURES.rglob("*.eml"))]
    kinds = set()
    for raw in raws:
        for msg in (mail.quick_parse(raw), mail.email.message_from_bytes(raw)):
            if msg is None or msg.is_multipart():
                continue
            want = bounces._analyze_tree(msg)
            assert bounces._analyze_single(msg) == want
            kinds.add(want.kind)
    assert {"bounce", "delay", "autoreply", "complaint", "delivered", "message"} <= kinds
