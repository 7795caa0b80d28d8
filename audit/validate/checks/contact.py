"""Contact-point kinds: email and phone validity, values in the wrong field, phone vs country.

email-validator and phonenumbers cost about 30 us a call, so they run once per distinct value,
after a vectorized pre-pass that settles the obvious cases, and across processes when there are
many distinct values. The answer is identical to calling them on every row.
"""

from __future__ import annotations

import re
from typing import Any, Literal

import numpy as np
import pandas as pd

from audit.columnwise import map_values
from audit.phone_validity import PROBLEMS, e164_problem

from ..kinds import Context, Outcome, Params, kind
from .basic import column, distinct, on_distinct


def email_problem(value: str) -> str | None:
    """None when email-validator accepts the address (no DNS), else its reason.

    Module-level so a process pool can pickle it.
    """
    from email_validator import EmailNotValidError, validate_email

    try:
        validate_email(value, check_deliverability=False)
    except EmailNotValidError as e:
        return str(e)
    return None


def phone_problem(value: str) -> str | None:
    """None when phonenumbers parses the E.164 value and says it is a valid number."""
    return e164_problem(value)


_AT_ONCE = re.compile(r"^[^@]+@[^@]+$")
# Plain lower-case ASCII addresses that email-validator always accepts (no quoting, no IDNA,
# no '--' labels, no special-use TLD, within RFC lengths): the bulk of any CRM. Settling them
# with one vectorized match saves ~30 us per distinct address; tests/test_validate.py checks
# the pattern against email-validator itself.
FAST_VALID_EMAIL = (
    r"(?=[^@]{1,64}@)(?=.{3,254}$)"
    r"[a-z0-9_+\-]+(?:\.[a-z0-9_+\-]+)*"
    r"@(?!.*--)(?!.*\.(?:arpa|invalid|local|localhost|onion|test)$)"
    r"(?:[a-z0-9](?:[a-z0-9\-]{0,61}[a-z0-9])?\.)+[a-z](?:[a-z0-9\-]{0,61}[a-z])?"
)


@kind("email_valid")
def email_valid(frame: pd.DataFrame, rule: Any, ctx: Context) -> Outcome:
    """Present addresses must pass email-validator's syntax check (no DNS lookups)."""
    s = column(frame, rule.field)
    codes, uniques = factorize(s)
    reasons: list[str | None] = [None] * len(uniques)
    todo = list(range(len(uniques)))
    if uniques:
        u = pd.Series(pd.array([str(v) for v in uniques], dtype="str"))
        # pre-pass: without exactly one '@' (and text on both sides) no address is valid;
        # plain ASCII addresses of the usual shape are valid without asking
        obvious = ~u.str.fullmatch(_AT_ONCE.pattern).fillna(False).to_numpy(bool)
        for i in np.flatnonzero(obvious):
            reasons[i] = "An email address must have exactly one @-sign with text on each side."
        plain = u.str.fullmatch(FAST_VALID_EMAIL).fillna(False).to_numpy(bool)
        todo = [int(i) for i in np.flatnonzero(~obvious & ~plain)]
    results = map_values(email_problem, [str(uniques[i]) for i in todo], parallel=True)
    for k, r in zip(todo, results, strict=True):
        reasons[k] = r
    per_row = _spread(codes, reasons, s.index)
    return Outcome(failed=per_row.notna(), evidence=per_row)


@kind("phone_valid")
def phone_valid(frame: pd.DataFrame, rule: Any, ctx: Context) -> Outcome:
    """Present E.164 numbers must be valid numbers for their country (phonenumbers)."""
    s = column(frame, rule.field)
    codes, uniques = factorize(s)
    # normalize already judged the numbers it produced (same answer: see PROBLEMS)
    results: list[str | None] = [None] * len(uniques)
    todo: list[int] = []
    for i, v in enumerate(uniques):
        known, problem = PROBLEMS.get(str(v))
        if known:
            results[i] = problem
        else:
            todo.append(i)
    fresh = map_values(e164_problem, [str(uniques[i]) for i in todo], parallel=True)
    for i, r in zip(todo, fresh, strict=True):
        results[i] = r
    per_row = _spread(codes, results, s.index)
    return Outcome(failed=per_row.notna(), evidence=per_row)


def factorize(series: pd.Series) -> tuple[np.ndarray, list[Any]]:
    """Codes (-1 for missing) and the distinct values as Python objects (shared per run)."""
    codes, uniques = distinct(series)
    return codes, list(np.asarray(uniques, dtype=object))


def _spread(codes: np.ndarray, values: list[Any], index: pd.Index) -> pd.Series:
    arr = np.asarray([*values, None], dtype=object)[np.where(codes < 0, len(values), codes)]
    return pd.Series(arr, index=index, dtype=object)


_EMAIL_LIKE = r"[^@\s]+@[^@\s]+\.[^@\s]+"
_PHONE_LIKE = r"[+(]?\d[\d\s().\-/]{5,}\d"
_EMAIL_WORD = r"(?:^|\s)[^@\s]+@[^@\s]+\.[^@\s]+(?:\s|$)"


class WrongFieldParams(Params):
    looks_like: list[Literal["email", "phone", "url"]]


_LOOKS = {
    "email": _EMAIL_LIKE,
    "phone": _PHONE_LIKE,
    "url": r"(?:https?://|www\.)\S+",
}


@kind("wrong_field", params=WrongFieldParams)
def wrong_field(frame: pd.DataFrame, rule: Any, ctx: Context) -> Outcome:
    """Present values must not look like another kind of value (an email in the phone field)."""
    s = column(frame, rule.field)

    def looks(u: pd.Series) -> np.ndarray:
        what = np.full(len(u), None, dtype=object)
        for look in rule.params.looks_like:
            # pandas runs these patterns (\s, \d) in Python: only the values that can match
            # go there, found by a test that Arrow runs and the pattern implies
            maybe = _could_be(u, look)
            found = np.zeros(len(u), dtype=bool)
            if maybe.any():
                sub = u[maybe]
                if look == "email":  # an address is never part of a name or a number, even as
                    # a word among others ('drew.radley@axis-amc.com A' from First + Last Name)
                    hit = sub.str.contains(_EMAIL_WORD, regex=True)
                else:
                    hit = sub.str.fullmatch(_LOOKS[look])
                found[maybe] = hit.fillna(False).to_numpy(bool)
            hit_here = found & (what == None)  # noqa: E711
            what[hit_here] = look
        return what

    what = on_distinct(s, looks)
    bad = what.notna()
    labels = what.to_numpy(dtype=object)
    evidence_arr = np.full(len(labels), None, dtype=object)
    for look in rule.params.looks_like:
        evidence_arr[labels == look] = f"looks like {'an' if look == 'email' else 'a'} {look}"
    evidence = pd.Series(evidence_arr, index=s.index, dtype=object)
    return Outcome(failed=bad, extra={"looks_like": what}, evidence=evidence)


def _could_be(u: pd.Series, look: str) -> np.ndarray:
    """The distinct values `_LOOKS[look]` (or `_EMAIL_WORD`) can match at all: an address holds
    an '@', a URL starts with http or www., and a phone number (digits, spaces, +().-/) holds
    no ASCII letter and no '@'."""
    if look == "email":
        maybe = u.str.contains("@", regex=False)
    elif look == "url":
        maybe = u.str.startswith(("http", "www."))
    else:
        maybe = ~u.str.contains("[A-Za-z@]", regex=True)
    return maybe.fillna(False).to_numpy(bool)


class PhoneCountryParams(Params):
    country_field: str = "country_code"


def calling_code(e164: str) -> int | None:
    import phonenumbers

    digits = e164.lstrip("+")
    for n in (1, 2, 3):
        cc = int(digits[:n]) if digits[:n].isdigit() else 0
        if cc in phonenumbers.COUNTRY_CODE_TO_REGION_CODE:
            return cc
    return None


@kind(
    "phone_country",
    params=PhoneCountryParams,
    columns=lambda r: (r.params.country_field,),
)
def phone_country(frame: pd.DataFrame, rule: Any, ctx: Context) -> Outcome:
    """The phone's country calling code must fit the record's country (+82 for KR)."""
    import phonenumbers

    s = column(frame, rule.field)
    country = column(frame, rule.params.country_field)
    both = s.notna() & country.notna()
    codes, uniques = factorize(s)
    # the calling code depends only on the first three digits: judge each prefix once
    by_prefix: dict[str, tuple[int, frozenset[str]] | None] = {}
    regions: list[tuple[int, frozenset[str]] | None] = []
    for v in uniques:
        head = str(v).lstrip("+")[:3]
        if head not in by_prefix:
            cc = calling_code(head)
            by_prefix[head] = (
                (cc, frozenset(phonenumbers.COUNTRY_CODE_TO_REGION_CODE.get(cc, ())))
                if cc
                else None
            )
        regions.append(by_prefix[head])
    per_row = _spread(codes, regions, s.index)
    # judge each distinct (number, country) pair once, not every row
    ccodes, countries = factorize(country)
    pair = np.where(
        (codes < 0) | (ccodes < 0), -1, codes.astype(np.int64) * max(1, len(countries)) + ccodes
    )
    combos, inverse = np.unique(pair, return_inverse=True)
    fit_combo = np.ones(len(combos), dtype=bool)
    for j, c in enumerate(combos.tolist()):
        if c >= 0:
            r = regions[c // max(1, len(countries))]
            fit_combo[j] = r is None or countries[c % max(1, len(countries))] in r[1]
    bad = both & ~pd.Series(fit_combo[inverse.reshape(-1)], index=frame.index)
    evidence = pd.Series(None, index=frame.index, dtype=object)
    if bad.any():
        evidence[bad] = [
            f"calling code +{r[0]} ({phonenumbers.region_code_for_country_code(r[0])}), "
            f"record country {c}"
            for r, c in zip(per_row[bad], country[bad].astype(object), strict=True)
        ]
    return Outcome(failed=bad, checked=both, evidence=evidence)
