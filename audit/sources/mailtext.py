"""Text out of email headers and parts, tolerant of the broken encodings real mail carries."""

from __future__ import annotations

import re
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


_SURROGATES = re.compile("[\udc80-\udcff]")


def decode_header_text(value: object) -> str:
    """An RFC 2047 header as text; undecodable pieces are kept with replacement marks."""
    if value is None:
        return ""
    s = str(value)
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
    if not payload:
        # a part declared multipart whose boundary never appears keeps its body as text
        raw = part.get_payload()
        return raw if isinstance(raw, str) else ""
    if isinstance(payload, str):
        return payload
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
