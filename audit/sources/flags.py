"""The source app's own bounce, opt-out and deleted fields, as canonical evidence columns.

CRMs keep what they learned from sending: Salesforce `EmailBouncedReason`, HubSpot "Email hard
bounce reason", Intercom "Has hard bounced", Zoho "Email Opt Out", Salesforce `IsDeleted`. Left in
`extra` they were invisible to the stale-email rules, the reachability KPI and the customer
counts. A profile's `flags` (or a header synonym) fill four columns:

- `email_bounce` hard | soft, with `email_bounce_reason` "<header>: <the vendor's words>". The
  class comes from the reason text through the inbox bounce classifier (bounces.classify): a
  vendor's "hard bounce" whose words name a passing cause (mailbox full, spam block) is soft,
  and a bare flag or unclassifiable words keep the vendor's own verdict.
- `email_opt_out` and `is_deleted` as "true"/"false" text (normalize types them).

The original columns stay in `extra`: nothing read is replaced.
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Any

import pandas as pd

from audit.sources.bounces import classify
from audit.sources.decoding import fold_header

_YES = {"true", "t", "yes", "y", "1", "x", "checked", "on", "はい", "예", "是"}
_NO = {"false", "f", "no", "n", "0", "unchecked", "off", "いいえ", "아니오", "否", "none", "null"}
_NUMBER = re.compile(r"^\d+(\.0+)?$")
# classifier results that name no cause: the vendor's own verdict stands
_NO_CAUSE = {"other", "protocol", "unconfirmed_user_unknown"}
_CLASSES = {"hard", "soft"}


def _text(v: Any) -> str:
    return "" if v is None or (isinstance(v, float) and v != v) else str(v).strip()


def bounce_of(value: Any, header: str, *, hard: bool = True) -> tuple[str | None, str | None]:
    """(hard|soft|None, reason) for one cell of a vendor bounce field.

    `hard` is what the vendor's field claims when its words say nothing more (a flag, a count,
    "Bounced"); HubSpot's "Marketing emails bounced" is a count of hard and soft bounces alike.
    """
    cls, reason, _ = _bounce(_text(value), header, hard)
    return cls, reason


@lru_cache(maxsize=1 << 16)
def _bounce(t: str, header: str, hard: bool) -> tuple[str | None, str | None, bool]:
    """(class, reason, whether the cell had words): a reason text outranks a bare flag."""
    folded = t.casefold()
    if not t or folded in _NO or (_NUMBER.match(t) and float(t) == 0):
        return None, None, False
    if folded in _CLASSES:  # already canonical (a file written by crm-audit)
        return folded, f"{header}: {t}", True
    verdict = "hard" if hard else "soft"
    if folded in _YES or _NUMBER.match(t):
        return verdict, f"{header}: {t}", False
    cls, why = classify(None, t)
    if why in _NO_CAUSE:  # the words name no cause: the vendor's verdict stands
        return verdict, f"{header}: {t}", True
    return cls, f"{header}: {t} ({cls}: {why})", True


def _yes_no(value: Any, when: set[str] | None) -> bool | None:
    t = _text(value).casefold()
    if not t:
        return None
    if when is not None:
        return t in when
    # "true", "yes", a date of unsubscribing, a reason text: all say yes
    return not (t in _NO or (_NUMBER.match(t) and float(t) == 0))


def _as_text(flag: bool | None) -> str | None:
    return None if flag is None else "true" if flag else "false"


def apply_flags(
    out: pd.DataFrame, frame: pd.DataFrame, rules: list[Any], bounce_header: str | None = None
) -> pd.DataFrame:
    """Fill email_bounce(_reason), email_opt_out and is_deleted of `out` (the mapped frame)
    from a profile's flag rules over the raw `frame`. An `email_bounce` column that a synonym
    or override mapped from `bounce_header` holds raw text ("true", a reason): it is classed."""
    by_fold = {fold_header(str(h)): str(h) for h in reversed(list(frame.columns))}
    n = len(out)
    # per row: class from worded reasons, class from bare flags (words outrank flags:
    # Salesforce sets IsEmailBounced for a full mailbox too), and the reasons seen
    worded: list[str | None] = [None] * n
    bare: list[str | None] = [None] * n
    reasons: list[list[str]] = [[] for _ in range(n)]

    def add(i: int, cls: str | None, why: str | None, has_words: bool) -> None:
        if cls is None:
            return
        target = worded if has_words else bare
        if target[i] != "hard":
            target[i] = cls
        reasons[i].append(why or "")

    if "email_bounce" in out.columns:
        for i, v in enumerate(out["email_bounce"].tolist()):
            add(i, *_bounce(_text(v), bounce_header or "email_bounce", True))
    flags: dict[str, list[bool | None]] = {}
    for rule in rules:
        cols = [by_fold[fold_header(c)] for c in rule.column if fold_header(c) in by_fold]
        when = {v.casefold() for v in rule.when} if rule.when is not None else None
        for c in dict.fromkeys(cols):
            values = frame[c].tolist()
            if rule.flag == "email_bounce":
                at_cols = [by_fold[fold_header(a)] for a in rule.at if fold_header(a) in by_fold]
                dates = frame[at_cols[0]].tolist() if at_cols else [None] * n
                for i, (v, when_bounced) in enumerate(zip(values, dates, strict=True)):
                    if when is None or _text(v).casefold() in when:
                        cls, why, has_words = _bounce(_text(v), c, rule.hard)
                        if why and _text(when_bounced):
                            why += f" on {_text(when_bounced)}"
                        add(i, cls, why, has_words)
                continue
            got = flags.setdefault(rule.flag, [None] * n)
            for i, v in enumerate(values):
                yes = _yes_no(v, when)
                if yes is not None and got[i] is not True:
                    got[i] = yes
    bounce = [w if w is not None else b for w, b in zip(worded, bare, strict=True)]
    if "email_bounce" in out.columns or any(b is not None for b in bounce):
        out["email_bounce"] = pd.Series(bounce, index=out.index, dtype=object)
        out["email_bounce_reason"] = pd.Series(
            ["; ".join(r) if r else None for r in reasons], index=out.index, dtype=object
        )
    for col, got in flags.items():
        text = [_as_text(g) for g in got]
        if col in out.columns:  # a column mapped by name keeps its value where it has one
            have = out[col].astype(object).where(out[col].notna(), None).tolist()
            text = [h if h is not None else t for h, t in zip(have, text, strict=True)]
        out[col] = pd.Series(text, index=out.index, dtype=object)
    return out
