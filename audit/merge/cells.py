"""Make values safe to put in a spreadsheet cell or a shared report.

A cell that starts with = + - @ tab or CR may run as a formula when the CSV or sheet is opened
(CSV injection). Phone numbers such as `+82 10-1234-5678` and negative amounts start with + or -
too, and a business user must still read them as written, so those get no prefix: a value made
only of digits, spaces and - . ( ) / cannot call a function or reference another file.
"""

from __future__ import annotations

import re
from typing import Any

_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")
# digits (or masked digits) with phone punctuation and list separators: cannot call anything
_PLAIN_NUMBER = re.compile(r"[+-]?[\d*][\d* ().\-/;,]*")
_EMAIL = re.compile(r"^([^@\s]{1,2})[^@\s]*(@.+)$")


def _needs_quote(value: str) -> bool:
    """The same rule as the run folder's CSV writer, so text read back round-trips."""
    stripped = value.lstrip(" \n")
    if stripped.startswith("'") and stripped[1:2] in ("=", "+", "-", "@", "\t", "\r", "'"):
        return True
    if not value.startswith(_TRIGGERS) and not stripped.startswith(_TRIGGERS):
        return False
    return not _PLAIN_NUMBER.fullmatch(value)


def neutralize(value: str) -> str:
    """Prefix a single quote where a spreadsheet would treat the text as a formula."""
    return "'" + value if value and _needs_quote(value) else value


def unneutralize(value: str) -> str:
    """Undo `neutralize` on text read back from a sheet or a run folder's CSV."""
    if value.startswith("'") and _needs_quote(value[1:]):
        return value[1:]
    return value


def as_text(value: Any) -> str:
    """A cell value as display text: '' for missing, ISO for timestamps, no float noise."""
    if value is None:
        return ""
    try:
        import pandas as pd

        if value is pd.NA or value is pd.NaT:
            return ""
        if isinstance(value, pd.Timestamp):
            return value.isoformat()
    except ImportError:  # pragma: no cover
        pass
    if isinstance(value, float):
        if value != value:
            return ""
        return str(int(value)) if value.is_integer() else repr(value)
    return str(value)


def redact_email(value: str) -> str:
    """'john.doe@example.com' -> 'jo***@example.com' (the domain stays: it is useful)."""
    m = _EMAIL.match(value)
    return f"{m.group(1)}***{m.group(2)}" if m else "***"


def redact_phone(value: str) -> str:
    """Mask every digit but the last two: '+82 10-1234-5678' -> '+** **-****-**78'."""
    digits = sum(ch.isdigit() for ch in value)
    seen = 0
    out = []
    for ch in value:
        if ch.isdigit():
            seen += 1
            out.append(ch if seen > digits - 2 else "*")
        else:
            out.append(ch)
    return "".join(out)


EMAIL_FIELDS = frozenset({"email", "email_key", "alternate_emails"})
PHONE_FIELDS = frozenset({"phone", "mobile", "phone_e164", "alternate_phones"})


def redact(field: str, value: str) -> str:
    """Mask emails and phones of a field's display text (multi-values split on '; ')."""
    if not value:
        return value
    if field in EMAIL_FIELDS:
        return "; ".join(redact_email(v) for v in value.split("; "))
    if field in PHONE_FIELDS:
        return "; ".join(redact_phone(v) for v in value.split("; "))
    return value
