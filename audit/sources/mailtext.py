"""Text out of email headers and parts, tolerant of the broken encodings real mail carries."""

from __future__ import annotations

import base64
import binascii
import re
from email.message import Message
from functools import lru_cache

_CHARSET_FIX = {
    "ks_c_5601-1987": "cp949",
    "euc-kr": "cp949",
    "shift_jis": "cp932",
    "x-sjis": "cp932",
    "gb2312": "gb18030",
    "gbk": "gb18030",
    "iso-2022-jp": "iso2022_jp_ext",
    "unknown-8bit": "utf-8",
}


_SURROGATES = re.compile("[\udc80-\udcff]")


def decode_header_text(value: object) -> str:
    """An RFC 2047 header as text; undecodable pieces are kept with replacement marks."""
    if value is None:
        return ""
    s = value if type(value) is str else str(value)
    return _decoded_short(s) if len(s) <= CACHED_LEN else _decoded(s)


# Header values up to this length are decoded once per mailbox: names and subjects recur in
# every thread. Longer ones (rare, and possibly hostile) are not kept.
CACHED_LEN = 512


def _decoded(s: str) -> str:
    if _SURROGATES.search(s):
        # raw 8-bit header (common from Asian mailers): the parser kept the bytes as surrogates
        raw = s.encode("ascii", "surrogateescape")
        for codec in ("utf-8", "cp949", "cp932", "gb18030"):
            try:
                s = raw.decode(codec)
                break
            except UnicodeDecodeError:
                continue
        else:
            s = raw.decode("utf-8", errors="replace")
    if "=?" not in s:
        return s
    return _decode_words(s)


_decoded_short = lru_cache(maxsize=1 << 16)(_decoded)


# RFC 2047 encoded word; charset may carry an RFC 2231 language tag (utf-8*ko)
_WORD = re.compile(r"=\?([^?\s]+)\?([bBqQ])\?([^?\s]*)\?=")
_QP_HEX = re.compile(rb"=([0-9A-Fa-f]{2})")


def _word_bytes(enc: str, text: str) -> bytes | None:
    try:
        if enc in "bB":
            return base64.b64decode(text + "=" * (-len(text) % 4))
        raw = text.replace("_", " ").encode("ascii", "replace")
        return _QP_HEX.sub(lambda m: bytes([int(m.group(1), 16)]), raw)
    except (binascii.Error, ValueError):
        return None


def _decode_words(s: str) -> str:
    """Decode RFC 2047 encoded words in one linear pass.

    The standard library's decode_header pops from the front of a list (quadratic): a 2 MB
    Subject of 100k encoded words took over a minute. Here consecutive words of one charset
    are joined as bytes before decoding (a multi-byte character may be split across two words),
    and the white space between two encoded words is dropped, as RFC 2047 section 6.2 says.
    """
    out: list[str] = []
    pending: bytearray = bytearray()
    pending_cs: str | None = None
    pos = 0

    def flush() -> None:
        nonlocal pending, pending_cs
        if pending_cs is not None:
            out.append(bytes(pending).decode(_codec(pending_cs), errors="replace"))
        pending, pending_cs = bytearray(), None

    for m in _WORD.finditer(s):
        gap = s[pos : m.start()]
        charset = m.group(1).split("*", 1)[0]
        data = _word_bytes(m.group(2), m.group(3))
        if data is None:  # not decodable: keep the word as written
            flush()
            out.append(gap + m.group(0))
            pos = m.end()
            continue
        between_words = pending_cs is not None and not gap.strip()
        if not between_words:
            flush()
            out.append(gap)
        elif pending_cs is not None and charset.lower() != pending_cs.lower():
            flush()
        if pending_cs is None:
            pending_cs = charset
        pending += data
        pos = m.end()
    flush()
    out.append(s[pos:])
    return "".join(out)


def _codec(charset: str | None) -> str:
    cs = (charset or "utf-8").lower()
    cs = _CHARSET_FIX.get(cs, cs)
    try:
        "".encode(cs)
    except LookupError:
        return "utf-8"
    return cs


def part_text(part: Message) -> str:
    """A non-multipart part's text, transfer-decoded and charset-decoded."""
    try:
        payload = part.get_payload(decode=True)
    except Exception:
        payload = None
    if not payload:
        # a part declared multipart whose boundary never appears keeps its body as text
        raw = part.get_payload()
        return raw if isinstance(raw, str) else ""
    if isinstance(payload, str):
        return payload
    if not isinstance(payload, bytes):
        return ""
    return payload.decode(_codec(part.get_content_charset()), errors="replace")


def header_values(msg: Message, name: str) -> list[str]:
    """Every value of a header as text, raw 8-bit (UTF-8/cp949/...) headers included.

    compat32's public getters turn undeclared 8-bit bytes into U+FFFD; the stored value still
    holds them as surrogates, which decode_header_text can recover.
    """
    raw = getattr(msg, "_headers", None)
    if raw is None:
        return [decode_header_text(v) for v in msg.get_all(name, [])]
    low = name.lower()
    return [decode_header_text(v) for k, v in raw if k.lower() == low]
