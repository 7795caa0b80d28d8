"""Company names: the display value stays as written; the key drops legal forms.

'Acme, Inc.', 'ACME Inc' and 'Acme Corporation' share a key, and so do
'株式会社ソニー', 'ソニー株式会社', '(株)ソニー' and '㈱ソニー' (NFKC turns ㈱ into (株)),
or '(주)삼성' and '삼성 주식회사'.
"""

from __future__ import annotations

import re

from audit.text import fold

# CJK legal forms, longest first so 股份有限公司 wins over 有限公司.
_CJK_FORMS = sorted(
    [
        "株式会社",
        "有限会社",
        "合同会社",
        "合資会社",
        "合名会社",
        "(株)",
        "(有)",
        "(合)",
        "주식회사",
        "유한회사",
        "유한책임회사",
        "(주)",
        "(유)",
        "股份有限公司",
        "有限责任公司",
        "有限責任公司",
        "有限公司",
        "集团有限公司",
        "公司",
    ],
    key=len,
    reverse=True,
)
_LATIN_FORMS = (
    "incorporated|inc|llc|l l c|ltd|limited|co|company|corp|corporation|gmbh|ag|kg|sa|sas|sarl"
    "|srl|spa|s p a|bv|nv|plc|pte|pty|kk|k k|oy|ab|as|llp|lp|pllc|pc|sl|sro|kft|zrt|holdings"
)
_LATIN_TAIL = re.compile(rf"(?:[\s,]+(?:{_LATIN_FORMS}))+$")
_PUNCT = re.compile(r"[^\w\s&]")
_OPEN = re.compile(r"\(\s*")
_CLOSE = re.compile(r"\s*\)")
_WS = re.compile(r"\s+")


def company_key(value: str | None) -> str | None:
    """Folded name without legal forms or punctuation; None when nothing is left."""
    if not value:
        return None
    s = fold(value).casefold()
    s = s.replace("（", "(").replace("）", ")")
    s = _OPEN.sub("(", _CLOSE.sub(")", s))
    changed = True
    while changed:  # '株式会社 X (株)' and the like: strip until nothing moves
        changed = False
        for form in _CJK_FORMS:
            if s.startswith(form) and len(s) > len(form):
                s, changed = s[len(form) :].strip(), True
            elif s.endswith(form) and len(s) > len(form):
                s, changed = s[: -len(form)].strip(), True
    s = _PUNCT.sub(" ", s)
    s = _WS.sub(" ", s).strip()
    stripped = _LATIN_TAIL.sub("", s).strip()
    if stripped:
        s = stripped
    s = s.replace("&", " and ")
    out = _WS.sub("", s)
    return out or None


_HOST = re.compile(r"^(?:[a-z][a-z0-9+.-]*://)?(?:[^@/\s]*@)?([^/?#:\s]+)(?::\d+)?(?:[/?#].*)?$")
_LABELS = re.compile(r"^(?:[a-z0-9](?:[a-z0-9-]*[a-z0-9])?\.)+(?:[a-z]{2,63}|xn--[a-z0-9-]+)$")


def company_domain(value: str | None) -> str | None:
    """A company's domain as one spelling: 'www.I40inc.com', 'https://i40inc.com/about' and
    'I40INC.COM.' are all i40inc.com, so the column compares and joins.

    A URL's host is the domain once a leading www. (www2., www3.) is dropped; international
    names are kept in punycode, as email domains are. A value that is no host name at all
    ('n/a', 'see notes') is left as written for the rules to see.
    """
    if not value:
        return value
    from audit.normalize.emails import domain_ascii

    m = _HOST.match(fold(value).strip().casefold())
    if not m:
        return value
    host = domain_ascii(m.group(1).strip(".").strip())
    host = re.sub(r"^www\d*\.(?=.+\..+)", "", host)
    return host if _LABELS.match(host) else value
