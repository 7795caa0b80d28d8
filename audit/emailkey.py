"""The matching key of an email address, shared by normalize, validate and merge.

The key folds what a provider ignores (Gmail dots, documented '+tag' sub-addressing,
googlemail -> gmail), so two spellings of one mailbox meet. Validation groups by it (stale and
integrity checks) and merge re-keys golden records with it, so it lives below the stages instead
of inside normalize.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

_GMAIL = {"gmail.com", "googlemail.com"}
# Providers that deliver local+tag@ to local@ (documented sub-addressing).
_PLUS_TAG = _GMAIL | {
    "outlook.com",
    "hotmail.com",
    "live.com",
    "icloud.com",
    "me.com",
    "fastmail.com",
    "protonmail.com",
    "proton.me",
}


def domain_ascii(domain: str) -> str:
    """IDN domains as punycode so lists and comparisons work on one spelling."""
    if domain.isascii():
        return domain
    try:
        return domain.encode("idna").decode("ascii")
    except UnicodeError:
        return domain


def email_key(email: str | None) -> str | None:
    """Matching key: provider-ignored dots and +tags folded, googlemail -> gmail."""
    if not email or "@" not in email:
        return None
    local, _, domain = email.rpartition("@")
    domain = domain_ascii(domain)
    if domain in _PLUS_TAG:
        local = local.split("+", 1)[0]
    if domain in _GMAIL:
        local = local.replace(".", "")
        domain = "gmail.com"
    if not local or not domain:
        return None
    return f"{local}@{domain}"


def email_domain(email: str | None) -> str | None:
    """The address's domain (IDN as punycode), None without an '@' or a domain."""
    if not email or "@" not in email:
        return None
    return domain_ascii(email.rpartition("@")[2]) or None


def key_columns(values: pa.Array) -> tuple[pa.Array, pa.Array]:
    """`email_key` and `email_domain` of every text in `values` (nulls stay null), as Arrow.

    A million addresses one Python call at a time cost seconds in normalize and again in
    validate; an ASCII address needs no IDNA, so its key is a few Arrow passes (the local part
    and the domain split at the last '@', the '+tag' cut at the first '+', Gmail's dots
    dropped). Non-ASCII texts get the per-value functions. tests/test_normalize_fast.py checks
    both against the per-value functions.
    """
    text = values.type
    none = pa.scalar(None, text)
    at = pc.match_substring(values, "@")
    domain = pc.replace_substring_regex(values, "(?s)^.*@", "")  # after the last '@'
    local = pc.replace_substring_regex(values, "(?s)@[^@]*$", "")  # before it
    plus = pc.is_in(domain, value_set=pa.array(sorted(_PLUS_TAG), text))
    local = pc.if_else(plus, pc.replace_substring_regex(local, r"(?s)\+.*", ""), local)
    gmail = pc.is_in(domain, value_set=pa.array(sorted(_GMAIL), text))
    local = pc.if_else(gmail, pc.replace_substring(local, ".", ""), local)
    host = pc.if_else(gmail, pa.scalar("gmail.com", text), domain)
    filled = pc.and_(pc.greater(pc.binary_length(local), 0), pc.greater(pc.binary_length(host), 0))
    key = pc.if_else(
        pc.and_(at, filled), pc.binary_join_element_wise(local, host, pa.scalar("@", text)), none
    )
    dom = pc.if_else(pc.and_(at, pc.greater(pc.binary_length(domain), 0)), domain, none)
    ascii_ = pc.fill_null(pc.string_is_ascii(values), True).to_numpy(zero_copy_only=False)
    odd = np.flatnonzero(~np.asarray(ascii_, dtype=bool))
    if len(odd):
        texts = values.take(pa.array(odd)).to_pylist()
        key = with_values_at(key, odd, [email_key(t) for t in texts])
        dom = with_values_at(dom, odd, [email_domain(t) for t in texts])
    return key, dom


def with_values_at(arr: pa.Array, at: np.ndarray, values: list[str | None]) -> pa.Array:
    """`arr` with `values` put at positions `at`."""
    picks = np.full(len(arr), len(values), dtype=np.int64)
    picks[at] = np.arange(len(values))
    spread = pa.array([*values, None], arr.type).take(pa.array(picks))
    mask = np.zeros(len(arr), dtype=bool)
    mask[at] = True
    return pc.if_else(pa.array(mask), spread, arr)
