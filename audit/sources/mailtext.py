"""Text out of email headers and parts, tolerant of the broken encodings real mail carries."""

from __future__ import annotations

from email.header import decode_header, make_header
from email.message import Message

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


def decode_header_text(value: object) -> str:
    """An RFC 2047 header as text; undecodable pieces are kept with replacement marks."""
    if value is None:
        return ""
    s = str(value)
    if "=?" not in s:
        return s
    try:
        return str(make_header(decode_header(s)))
    except Exception:  # malformed encoded-words are common in spam and old mailers
        out = []
        try:
            for chunk, cs in decode_header(s):
                if isinstance(chunk, bytes):
                    out.append(chunk.decode(_codec(cs), errors="replace"))
                else:
                    out.append(chunk)
        except Exception:
            return s
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
    if payload is None:
        raw = part.get_payload()
        return raw if isinstance(raw, str) else ""
    if isinstance(payload, str):
        return payload
    return payload.decode(_codec(part.get_content_charset()), errors="replace")
