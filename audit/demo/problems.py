"""Planting the problems real CRM exports have, and writing down each one as ground truth.

Two kinds of damage: duplicate rows (the same person typed again, with the variations people
actually produce) and bad values (syntax errors, placeholders, values in the wrong column,
missing fields). Every planted problem is appended to `Planted.problems` keyed by the row's
`uid`, so the truth survives the later shuffling of rows.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

import numpy as np
import pandas as pd

from audit.demo import names as nm

FULLWIDTH = str.maketrans("0123456789-", "０１２３４５６７８９－")

# Problem kinds, with what each means; truth/README.md is generated from this table.
PROBLEM_KINDS: dict[str, str] = {
    "email_syntax": "e-mail address that is not syntactically valid (no @, two @, space, no TLD)",
    "phone_invalid": "phone number that phonenumbers rejects for the source's region",
    "placeholder": "junk value typed to get past a required field, in generated shapes no "
    "detector table lists (zzzz, qwer, kkkk@kkkk.com, 010-2222-2222, 987-654-3210)",
    "wrong_field": "a value in the wrong column (an e-mail address in the phone column)",
    "missing_email": "e-mail left empty on a contact row",
    "missing_name": "name left empty on a contact row",
    "email_bounced": "address hard-bounced: an RFC 3464 report with status 5.x.x is in the mbox",
    "email_soft_bounce": "address soft-bounced (4.x.x) once: NOT stale, must not be flagged",
    "email_cleaned": "address is in the Mailchimp 'cleaned' export (undeliverable)",
    "email_inactive": "no activity for more than two years before as_of (760 days and further)",
    "email_near_inactive": "last activity 700 days before as_of: inside the 730-day window, NOT "
    "stale, must not be flagged",
    "email_disposable": "address on a disposable-mail domain (held out: from a public list, not "
    "from the detector's)",
    "email_role": "role account (offers@, compliance@, hosting@, ...) where a person is expected "
    "(held out: from a public list, not from the detector's)",
    "email_typo_domain": "domain that is a typo of a common one (gmaii.com, hoymail.com, ...; "
    "held out: from a public list, not from the detector's)",
    "deal_closed_no_close_date": "deal in a closed stage without a close date",
    "deal_negative_amount": "deal with a negative amount",
    "deal_orphan_contact": "deal associated with a contact id that exists nowhere",
    "order_negative_amount": "order with a negative amount",
    "ticket_solved_before_created": "ticket whose solved time is before its creation time",
    "ticket_orphan_requester": "ticket whose requester address is on no contact row (it was "
    "mistyped or left out there): an integrity finding, not planted on purpose",
}

# kinds that follow from other damage rather than being planted: there may be none of them
EMERGENT = ("ticket_orphan_requester",)

STALE_KIND_TO_PROBLEM = {
    "hard_bounce": "email_bounced",
    "soft_bounce": "email_soft_bounce",
    "cleaned": "email_cleaned",
    "inactive": "email_inactive",
    "near_inactive": "email_near_inactive",
    "disposable": "email_disposable",
    "role": "email_role",
    "typo_domain": "email_typo_domain",
}


@dataclass
class Planted:
    """Rows of one source plus the problems planted in them (keyed by uid)."""

    rows: pd.DataFrame
    problems: list[dict[str, Any]] = field(default_factory=list)

    def add(self, uid: int, field_: str, kind: str, detail: str) -> None:
        self.problems.append({"uid": uid, "field": field_, "problem_kind": kind, "detail": detail})


# ---------------------------------------------------------------- duplicates


def _typo(word: str, r: float) -> str:
    """One keyboard slip: a swapped pair or a dropped letter (Latin); a space added (CJK)."""
    if not word or len(word) < 3:
        return word + word[-1:] if word else word
    if not word.isascii():
        return word
    i = 1 + int(r * (len(word) - 2))
    if r < 0.5:
        return word[:i] + word[i + 1] + word[i] + word[i + 2 :]
    return word[:i] + word[i + 1 :]


def company_variant(company: str | None, form: str | None, locale: str, r: float) -> str | None:
    """The same company written with another legal form: Inc. / 株式会社 / (주) variants."""
    if not isinstance(company, str) or not isinstance(form, str):
        return company
    name = _strip_form(company, form)
    alts = nm.LEGAL_VARIANTS.get(locale, {}).get(form)
    if not alts:
        alts = ["{}"]
    return alts[int(r * len(alts)) % len(alts)].format(name)


def _strip_form(company: str, form: str) -> str:
    pre, _, post = form.partition("{}")
    name = company
    if pre and name.startswith(pre):
        name = name[len(pre) :]
    if post and name.endswith(post):
        name = name[: -len(post)]
    return name


def gmail_variant(email: str, r: float) -> str:
    """Same Gmail mailbox, different spelling: dots moved or a +tag added."""
    local, _, dom = email.partition("@")
    if r < 0.5:
        plain = local.replace(".", "")
        if len(plain) > 3:
            local = plain[:2] + "." + plain[2:] if "." not in local else plain
        return f"{local}@{dom}"
    return f"{local}+{('crm', 'news', 'work', 'shop')[int(r * 8) % 4]}@{dom}"


def make_duplicates(
    base: pd.DataFrame, share: float, rng: np.random.Generator, *, name_cols: str = "split"
) -> pd.DataFrame:
    """Copies of `share` of the rows, each changed the way people re-enter a contact."""
    k = round(len(base) * share)
    if k == 0:
        return base.iloc[0:0].copy()
    src = rng.choice(len(base), size=k, replace=False)
    dup = base.iloc[src].copy().reset_index(drop=True)
    r1, r2, r3 = rng.random(k), rng.random(k), rng.random(k)
    out: dict[str, list[Any]] = {c: dup[c].tolist() for c in dup.columns}
    variants = []
    for i in range(k):
        lc = out["locale"][i]
        stale = out["stale_kind"][i]
        choices = ["name_typo", "phone_format", "company_suffix", "email_case"]
        if lc == "en" and out["first_name"][i] in nm.NICKNAMES:
            choices += ["nickname", "nickname"]  # held-out pairs: enough of them to measure
        choices.append("name_order")
        if isinstance(out["phone"][i], str):
            choices.append("fullwidth_digits")
        if isinstance(out["email"][i], str) and out["email"][i].endswith("@gmail.com"):
            choices += ["gmail_variant", "gmail_variant"]
        if not stale:
            choices.append("other_email")
        kind = choices[int(r1[i] * len(choices))]
        applied = [kind]
        _apply_variant(out, i, kind, lc, r2[i])
        if r3[i] < 0.35:  # a second change on a third of the copies
            second = "phone_format" if kind != "phone_format" else "company_suffix"
            _apply_variant(out, i, second, lc, r3[i])
            applied.append(second)
        variants.append("+".join(applied))
    res = pd.DataFrame(out)
    res["variant"] = variants
    return res


def _apply_variant(out: dict[str, list[Any]], i: int, kind: str, lc: str, r: float) -> None:
    first, last = out["first_name"][i], out["last_name"][i]
    if kind == "name_typo":
        if lc == "en":
            out["first_name"][i] = _typo(first, r) if r < 0.5 else first
            out["last_name"][i] = _typo(last, r) if r >= 0.5 else last
        out["full_name"][i] = _display(lc, out["first_name"][i], out["last_name"][i], spaced=True)
    elif kind == "nickname":
        out["first_name"][i] = nm.NICKNAMES.get(first, first)
        out["full_name"][i] = _display(lc, out["first_name"][i], last)
    elif kind == "name_order":
        out["first_name"][i], out["last_name"][i] = last, first
        out["full_name"][i] = f"{first} {last}" if lc != "en" else f"{last} {first}"
    elif kind == "fullwidth_digits":
        out["phone"][i] = str(out["phone"][i]).translate(FULLWIDTH)
    elif kind == "phone_format":
        p = out["phone"][i]
        if isinstance(p, str):
            out["phone"][i] = (
                "".join(ch for ch in p if ch.isdigit() or ch == "+")
                if r < 0.5
                else p.replace("-", " ")
            )
    elif kind == "company_suffix":
        out["company"][i] = company_variant(out["company"][i], out["company_form"][i], lc, r)
    elif kind == "email_case":
        e = out["email"][i]
        if isinstance(e, str):
            local, _, dom = e.partition("@")
            out["email"][i] = f"{local[:1].upper()}{local[1:]}@{dom.capitalize()}"
    elif kind == "gmail_variant":
        out["email"][i] = gmail_variant(out["email"][i], r)
    elif kind == "other_email":
        e = out["email"][i]
        if isinstance(e, str):
            local = e.partition("@")[0].split("+")[0]
            dom = nm.PERSONAL_DOMAINS[lc][int(r * 5) % len(nm.PERSONAL_DOMAINS[lc])]
            out["email"][i] = f"{local}.{int(r * 90) + 10}@{dom}"


def _display(lc: str, first: str, last: str, spaced: bool = False) -> str:
    if lc == "en":
        return f"{first} {last}"
    if lc == "ja" or spaced:
        return f"{last} {first}"
    return f"{last}{first}"


# ---------------------------------------------------------------- bad values

RATES = {
    "email_syntax": 0.012,
    "phone_invalid": 0.012,
    "placeholder": 0.015,
    "wrong_field": 0.005,
    "missing_email": 0.01,
    "missing_name": 0.005,
}


@lru_cache(maxsize=64)
def phone_is_valid(value: str, region: str) -> bool:
    import phonenumbers

    try:
        return phonenumbers.is_valid_number(phonenumbers.parse(value, region))
    except phonenumbers.NumberParseException:
        return False


def _bad_email(email: str, r: float) -> tuple[str, str]:
    local, _, dom = email.partition("@")
    forms = [
        (f"{local}{dom}", "no @"),
        (f"{local}@@{dom}", "two @"),
        (f"{local[:2]} {local[2:]}@{dom}", "space in local part"),
        (f"{local}@{dom.split('.', 1)[0]}", "no top-level domain"),
        (f"{local}@{dom.replace('.', ',', 1)}", "comma in domain"),
    ]
    return forms[int(r * len(forms)) % len(forms)]


def _bad_phone(phone: str, r: float) -> tuple[str, str]:
    digits = "".join(ch for ch in phone if ch.isdigit())
    forms = [
        (digits[:5], "too short"),
        (phone + "99", "extra digits"),
        ("ask reception", "text instead of a number"),
        (digits[:3] + "-" + digits[3:5], "truncated"),
    ]
    return forms[int(r * len(forms)) % len(forms)]


def plant_bad_values(
    planted: Planted,
    rng: np.random.Generator,
    *,
    region: str,
    fields: tuple[str, ...] = ("email", "phone", "name", "company"),
    scale: float = 1.0,
) -> None:
    """Damage a few rows per kind (never the rows of persons whose mailbox is the test)."""
    rows = planted.rows
    n = len(rows)
    eligible = np.flatnonzero(rows["stale_kind"].isna().to_numpy())
    rng.shuffle(eligible)
    at = 0
    cols = {
        c: rows[c].tolist()
        for c in ("email", "phone", "first_name", "last_name", "full_name", "company")
    }
    uids = rows["uid"].tolist()
    country = rows["country"].tolist()
    for kind, rate in RATES.items():
        k = round(n * rate * scale)
        if kind in ("email_syntax", "missing_email") and "email" not in fields:
            continue
        if kind in ("phone_invalid", "wrong_field") and "phone" not in fields:
            continue
        picked = eligible[at : at + k]
        at += k
        for j, i in enumerate(picked):
            r = float(rng.random())
            uid = uids[i]
            email, phone = cols["email"][i], cols["phone"][i]
            if kind == "email_syntax" and isinstance(email, str):
                cols["email"][i], how = _bad_email(email, r)
                planted.add(uid, "email", kind, how)
            elif kind == "phone_invalid" and isinstance(phone, str):
                cols["phone"][i], how = _bad_phone(phone, r)
                planted.add(uid, "phone", kind, how)
            elif kind == "wrong_field" and isinstance(email, str):
                cols["phone"][i] = email
                planted.add(uid, "phone", kind, "e-mail address in the phone column")
                planted.add(uid, "phone", "phone_invalid", "an e-mail address is not a phone")
            elif kind == "missing_email" and isinstance(email, str):
                cols["email"][i] = None
                planted.add(uid, "email", kind, "e-mail left empty")
            elif kind == "missing_name":
                cols["first_name"][i] = cols["last_name"][i] = cols["full_name"][i] = None
                planted.add(uid, "full_name", kind, "name left empty")
            elif kind == "placeholder":
                _placeholder(planted, cols, i, uid, j, r, country[i], region, fields)
    for c, v in cols.items():
        rows[c] = v


KEYBOARD_ROWS = ("qwertyuiop", "asdfghjkl", "zxcvbnm", "poiuytrewq", "lkjhgfdsa")


def placeholder_text(r: float) -> str:
    """A generated junk value: one letter repeated, or a run along a keyboard row."""
    k = int(r * 1000)
    if k % 2:
        return "jkmvwz"[k % 6] * (4 + k % 3)
    row = KEYBOARD_ROWS[k % len(KEYBOARD_ROWS)]
    start = 1 + (k // 7) % 3  # not from the row's start: qwerty and asdf are in the tables
    return row[start : start + 4 + (k // 3) % 3]


def placeholder_phone(region: str, r: float) -> str:
    """A generated junk phone of the region's length: one digit repeated, or counting down."""
    d = "234678"[int(r * 1000) % 6]  # the placeholder table lists 0, 1, 5 and 9 runs
    if r < 0.3:
        return {"KR": "010-9876-5432", "JP": "090-9876-5432", "CN": "198-7654-3210"}.get(
            region, "987-654-3210"
        )
    return {
        "KR": f"010-{d * 4}-{d * 4}",
        "JP": f"090-{d * 4}-{d * 4}",
        "CN": f"1{d * 2}-{d * 4}-{d * 4}",
    }.get(region, f"{d * 3}-{d * 3}-{d * 4}")


def _placeholder(
    planted: Planted,
    cols: dict[str, list[Any]],
    i: int,
    uid: int,
    j: int,
    r: float,
    country: str,
    region: str,
    fields: tuple[str, ...],
) -> None:
    which = [f for f in ("name", "email", "phone", "company") if f in fields]
    what = which[j % len(which)]
    v = placeholder_text(r)
    if what == "name":
        if r < 0.4:
            cols["last_name"][i] = v
            cols["full_name"][i] = f"{cols['first_name'][i]} {v}"
            planted.add(uid, "last_name", "placeholder", v)
        else:
            cols["first_name"][i] = v
            cols["last_name"][i] = v if r > 0.8 else None
            cols["full_name"][i] = v
            planted.add(uid, "full_name", "placeholder", v)
    elif what == "email":
        v = f"{v}@{v}.com"
        cols["email"][i] = v
        planted.add(uid, "email", "placeholder", v)
    elif what == "phone":
        v = placeholder_phone(region if r < 0.6 else "US", r)
        cols["phone"][i] = v
        planted.add(uid, "phone", "placeholder", v)
        if not phone_is_valid(v, region):
            planted.add(uid, "phone", "phone_invalid", f"placeholder {v} is not a valid number")
    else:
        cols["company"][i] = v
        planted.add(uid, "company", "placeholder", v)
