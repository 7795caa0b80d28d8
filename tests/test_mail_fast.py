"""The fast mail paths give what the standard library gives: the message parse, the mbox split,
addresses and dates. Each is checked against the stdlib itself on real messages and on
generated ones, never against values of our own."""

from __future__ import annotations

import datetime as dt
import email
import mailbox
from email import policy
from email.utils import getaddresses, parsedate_to_datetime
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from audit.sources import mail
from audit.sources.bounces import analyze
from audit.sources.readers import mbox_reader

FIXTURES = Path(__file__).parent / "fixtures"


def _stdlib(raw: bytes) -> email.message.Message:
    return email.message_from_bytes(raw, policy=policy.compat32)


def _same_message(raw: bytes) -> bool:
    """quick_parse either declines or builds what the stdlib parser builds."""
    quick = mail.quick_parse(raw)
    if quick is None:
        return False
    full = _stdlib(raw)
    assert list(quick.items()) == list(full.items())
    assert list(quick._headers) == full._headers  # raw values, 8-bit bytes kept
    assert quick.get_payload() == full.get_payload()
    assert quick.get_payload(decode=True) == full.get_payload(decode=True)
    for name in ("Date", "From", "subject", "CONTENT-TYPE", "X-Absent"):
        assert str(quick.get(name)) == str(full.get(name))
    assert quick.get_content_type() == full.get_content_type()
    assert quick.get_content_charset() == full.get_content_charset()
    assert analyze(quick) == analyze(full)
    return True


def _fixture_messages() -> list[bytes]:
    raws = [p.read_bytes() for p in sorted(FIXTURES.rglob("*.eml"))]
    for box_path in sorted(FIXTURES.rglob("*.mbox")):
        box = mailbox.mbox(str(box_path), create=False)
        try:
            raws += [box.get_bytes(k) for k in box.iterkeys()]
        finally:
            box.close()
    return raws


def test_quick_parse_is_the_stdlib_message_on_the_fixtures() -> None:
    raws = _fixture_messages()
    quick = sum(_same_message(raw) for raw in raws)
    assert quick >= 5  # plain messages took the quick path
    assert quick < len(raws)  # multipart reports did not


def test_quick_parse_is_the_stdlib_message_on_real_bounces(shared_data: Path) -> None:
    """584 real bounce notices and non-bounces: the same message, so the same classes."""
    files = sorted((shared_data / "bounces" / "eml").glob("*.eml"))
    assert len(files) >= 500
    quick = sum(_same_message(p.read_bytes()) for p in files)
    # the single-part text notices (qmail, Exim, Yahoo, ...) are read quickly; multipart
    # reports and files that begin with an mbox "From " line go to the stdlib parser
    assert 150 <= quick <= 250


def test_quick_parse_declines_what_it_cannot_take_exactly() -> None:
    multipart = b'Content-Type: multipart/mixed; boundary="b"\n\n--b\n\nx\n--b--\n'
    assert mail.quick_parse(multipart) is None
    assert mail.quick_parse(b"Content-Type: message/rfc822\n\nFrom: a@b\n\nx\n") is None
    assert mail.quick_parse(b"From a@b Mon Jan  1 00:00:00 2024\nSubject: x\n\nbody\n") is None
    assert mail.quick_parse(b" folded first\nSubject: x\n\nbody\n") is None
    assert mail.quick_parse(b"Subject: x\nnot a header\n\nbody\n") is None
    assert mail.quick_parse(b"Subject: x\n") is None  # no end of the header block
    assert mail.quick_parse(b"Subject: x\x0cy\n\nbody\n") is None
    assert mail.quick_parse(b"\nbody only\n") is None


_NAMES = st.sampled_from(
    ["From", "To", "Subject", "Date", "Content-Type", "content-transfer-encoding", "X-A", "to"]
)
_VALUE_TEXT = st.text(
    alphabet=st.sampled_from([*"ab =?:;<>@,\"'\t", "\udce9", "é", "\r", "\x0b"]),
    max_size=12,
)
_EOL = st.sampled_from(["\n", "\r\n", "\r"])


@st.composite
def _raw_messages(draw: st.DrawFn, uniform: bool = False) -> bytes:
    """A header block of fields, folds and junk lines, each line ending its own way, or all
    lines ending one way (`uniform`: the split most real messages take)."""
    one_eol = draw(_EOL)
    eol = st.just(one_eol) if uniform else _EOL
    lines = []
    for _ in range(draw(st.integers(0, 6))):
        kind = draw(st.sampled_from(["field", "field", "fold", "junk"]))
        if kind == "field":
            gap = draw(st.sampled_from(["", " ", "\t", " \t "]))
            line = f"{draw(_NAMES)}:{gap}{draw(_VALUE_TEXT)}"
        elif kind == "fold":
            line = draw(st.sampled_from([" ", "\t"])) + draw(_VALUE_TEXT)
        else:
            line = draw(st.sampled_from(["From x", ":x", "no colon", "Content-Type: text/html"]))
        lines.append(line + draw(eol))
    body = draw(st.sampled_from(["", "body\n", "a\r\nb\r\n", "Final-Recipient: x\n"]))
    text = "".join(lines) + draw(eol) + body
    return text.encode("utf-8", "surrogateescape")


@settings(max_examples=400)
@given(_raw_messages())
def test_quick_parse_matches_the_stdlib_on_generated_messages(raw: bytes) -> None:
    _same_message(raw)


@settings(max_examples=400)
@given(_raw_messages(uniform=True))
def test_quick_parse_matches_the_stdlib_with_one_line_end_throughout(raw: bytes) -> None:
    _same_message(raw)


# -- the mbox split ----------------------------------------------------------------------


def _stdlib_mbox(path: Path) -> list[bytes]:
    box = mailbox.mbox(str(path), create=False)
    try:
        return [box.get_bytes(k) for k in box.iterkeys()]
    finally:
        box.close()


def test_mbox_split_is_the_stdlib_split_on_the_fixtures(monkeypatch: pytest.MonkeyPatch) -> None:
    boxes = sorted(FIXTURES.rglob("*.mbox"))
    assert boxes
    for path in boxes:
        want = _stdlib_mbox(path)
        assert [raw for _, raw in mbox_reader._messages(path)] == want
        monkeypatch.setattr(mbox_reader, "CHUNK", 5)  # messages cut across many chunks
        assert [raw for _, raw in mbox_reader._messages(path)] == want
        monkeypatch.undo()


_PIECES = st.sampled_from(
    [
        b"From a@b Mon\n",
        b"From ",
        b"\n",
        b"x\n",
        b"From\n",
        b"S: y\n",
        b"\n\n",
        b"From b",
        b"\r\n",
        b" From c\n",
        b">From d\n",
        b"z",
    ]
)


@given(st.lists(_PIECES, max_size=14), st.sampled_from([1, 3, 7, 1 << 20]))
def test_mbox_split_matches_the_stdlib_on_generated_files(
    tmp_path_factory: pytest.TempPathFactory, pieces: list[bytes], chunk: int
) -> None:
    path = tmp_path_factory.mktemp("mbox") / "box.mbox"
    path.write_bytes(b"".join(pieces))
    old = mbox_reader.CHUNK
    mbox_reader.CHUNK = chunk
    try:
        got = [raw for _, raw in mbox_reader._messages(path)]
    finally:
        mbox_reader.CHUNK = old
    assert got == _stdlib_mbox(path)


# -- addresses and dates -----------------------------------------------------------------

_ADDR_TEXT = st.lists(
    st.sampled_from(
        [
            "a",
            "B",
            ".",
            "@",
            "<",
            ">",
            " ",
            "  ",
            ",",
            ", ",
            '"',
            "(",
            ")",
            "\\",
            ":",
            ";",
            "[",
            "田中",
            "\u3000",
            "\t",
            "x@Y.org",
            "<a.b@C.co>",
            "Emily Carter ",
            "J. R. ",
        ]
    ),
    max_size=8,
).map("".join)


@settings(max_examples=400)
@given(_ADDR_TEXT)
def test_simple_addresses_are_what_getaddresses_finds(value: str) -> None:
    got = mail.simple_addresses(value)
    if got is not None:
        assert got == getaddresses([value])


def test_simple_addresses_take_the_usual_forms() -> None:
    value = "Emily Carter <emily.carter@example.com>, <a@b.co>, x.y@z.org, 田中 美咲 <t@e.jp>"
    assert mail.simple_addresses(value) == getaddresses([value])
    assert mail.simple_addresses('"Carter, Emily" <e@x.com>') is None  # quotes: the stdlib


_DATES = st.builds(
    "{}{} {} {} {:02d}:{:02d}:{:02d} {}{:02d}{:02d}".format,
    st.sampled_from(["", "Sat, ", "Mon, "]),
    st.integers(0, 32),
    st.sampled_from(["Jan", "Feb", "May", "Dec", "Foo"]),
    st.integers(1, 9999),
    st.integers(0, 25),
    st.integers(0, 61),
    st.integers(0, 61),
    st.sampled_from(["+", "-"]),
    st.integers(0, 30),
    st.integers(0, 99),
)


@given(_DATES)
def test_plain_dates_are_what_the_stdlib_parser_gives(value: str) -> None:
    quick = mail._plain_date(value)
    if quick is None:
        return
    d = parsedate_to_datetime(value)
    if d.tzinfo is None:
        d = d.replace(tzinfo=dt.UTC)
    assert quick == d.astimezone(dt.UTC).isoformat()
