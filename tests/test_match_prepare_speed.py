"""The matcher's contact keys computed in Arrow give the same keys as the one-value-at-a-time
Python they replace (so a faster run never changes which records match)."""

from __future__ import annotations

import re
from pathlib import Path

import pyarrow as pa

from audit.match.prepare import _email_fallback, pa_email_fallback
from audit.sources import read_table

REAL = Path(__file__).resolve().parent / "fixtures" / "real"

ODD = [
    "",
    " ",
    "@",
    "a@",
    "@b",
    "no-at-sign",
    "x@y@gmail.com",
    "A.B+news@GMail.com",
    "  J.Doe@GoogleMail.COM ",
    "+@gmail.com",
    ".@gmail.com",
    "a b\tc@d.e",
    "a\x1fb@c.d",  # Python counts \x1c-\x1f and \v as whitespace; RE2's \s does not
    "a\x0bb @c.d",
    "ü@x.de",
    "ＡＢ@x.jp",  # full width: NFKC-folded
    "a\u200b@b.c",  # zero-width space
    "Straße@x.de",  # casefold: ss
    None,
]


def _real_emails() -> list[str]:
    out: list[str] = []
    for f in sorted(REAL.glob("*.csv")):
        frame = read_table(f).frame
        for col in frame.columns:
            if re.search("mail", str(col), re.I):
                out += [str(v) for v in frame[col].dropna()]
    return out


def test_email_keys_in_arrow_equal_the_python_keys():
    values = _real_emails()
    assert len(values) > 200  # the real exports hold hundreds of addresses
    values += ODD
    got = pa_email_fallback(pa.array(values, pa.string())).to_pylist()
    want = [_email_fallback(v) for v in values]
    assert [(v, g) for v, g, w in zip(values, got, want, strict=True) if g != w] == []
    assert got[values.index("A.B+news@GMail.com")] == "ab@gmail.com"
