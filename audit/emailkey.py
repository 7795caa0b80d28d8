"""The matching key of an email address, shared by normalize, validate and merge.

The key folds what a provider ignores (Gmail dots, documented '+tag' sub-addressing,
googlemail -> gmail), so two spellings of one mailbox meet. Validation groups by it (stale and
integrity checks) and merge re-keys golden records with it, so it lives below the stages instead
of inside normalize.
"""

from __future__ import annotations

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
