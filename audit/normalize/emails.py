"""Email addresses: a clean display value, the domain, and a matching key.

The display value is trimmed and lower-cased (mail systems treat addresses case-insensitively in
practice, and every CRM we read lower-cases on import). The key additionally folds what a
provider ignores: Gmail dots and '+tags', so jane.doe+news@gmail.com and janedoe@googlemail.com
meet in matching. Validity is judged later, by the validate stage.
"""

from __future__ import annotations

import re
from typing import Any

import numpy as np
import pandas as pd

from audit.columnwise import broadcast, factorize
from audit.emailkey import domain_ascii, email_key
from audit.text import fold

# One '@', ASCII letters/digits/._%+- only, alphanumeric at both ends: fold, unquoting and the
# multiple-address split leave such a value alone, so clean_email is just lower-casing
# (tests/test_normalize.py checks this against clean_email).
_PLAIN = r"[A-Za-z0-9](?:[A-Za-z0-9._%+\-]*[A-Za-z0-9])?@[A-Za-z0-9](?:[A-Za-z0-9.\-]*[A-Za-z0-9])?"
_ANGLE = re.compile(r"<([^<>@\s]+@[^<>\s]+)>")
_SPLIT = re.compile(r"[;,\s]+")


def clean_email(value: object) -> tuple[str | None, bool]:
    """(clean address, was_multiple). Keeps a value without '@' as text for validate to judge."""
    if value is None or value is pd.NA or (isinstance(value, float) and value != value):
        return None, False
    s = fold(str(value))
    m = _ANGLE.search(s)
    if m:
        s = m.group(1)
    s = s.strip().strip("'\"<>").strip()
    if s.lower().startswith("mailto:"):
        s = s[7:]
    multiple = False
    if s.count("@") > 1:
        # 'a@x.com; b@y.com': several addresses in one field. Keep the first one. A single
        # address is never cut at spaces or commas: 'john smith@x.com' must stay invalid.
        with_at = [p for p in _SPLIT.split(s) if "@" in p]
        if len(with_at) > 1 and all(p.count("@") == 1 for p in with_at):
            multiple, s = True, with_at[0]
    # one strip over every wrapper character at once: stripping them in two passes left
    # '0<' from '0<.', which a second cleaning turned into '0' (not idempotent)
    s = s.strip(".;, \t'\"<>")
    if not s:
        return None, False
    local, at, domain = s.rpartition("@")
    if not at:
        return s.lower(), multiple
    return f"{local.lower()}@{domain.lower().rstrip('.')}", multiple


def email_domain(email: str | None) -> str | None:
    if not email or "@" not in email:
        return None
    return domain_ascii(email.rpartition("@")[2]) or None


def email_columns(
    series: pd.Series, keys: dict[str, tuple[str | None, str | None]] | None = None
) -> dict[str, pd.Series]:
    """email (clean), email_key, email_domain and a 'multiple' flag, computed per distinct value.

    `keys` (clean address -> (key, domain)) carries the answers over to the next column: the
    deals', orders' and tickets' addresses are mostly the contacts' own.
    """
    codes, uniques = factorize(series)
    cleaned: list[tuple[str | None, bool]] = [(None, False)] * len(uniques)
    plain = np.zeros(len(uniques), dtype=bool)
    if uniques:
        u = pd.Series(pd.array(uniques, dtype="str"))
        plain = u.str.fullmatch(_PLAIN).fillna(False).to_numpy(bool)
        for i, low in zip(np.flatnonzero(plain), u[plain].str.lower().tolist(), strict=True):
            cleaned[i] = (low, False)
    for i in np.flatnonzero(~plain):
        cleaned[i] = clean_email(uniques[i])
    emails = [c[0] for c in cleaned]
    known = {} if keys is None else keys
    for e in emails:
        if e is not None and e not in known:
            known[e] = (email_key(e), email_domain(e))
    out: dict[str, list[Any]] = {
        "email": emails,
        "email_key": [None if e is None else known[e][0] for e in emails],
        "email_domain": [None if e is None else known[e][1] for e in emails],
        "multiple": [c[1] for c in cleaned],
    }
    res = {k: broadcast(codes, v, series.index) for k, v in out.items() if k != "multiple"}
    res["multiple"] = (
        broadcast(codes, out["multiple"], series.index, dtype=None).fillna(False).astype(bool)
    )
    return res
