"""Phone numbers to E.164 with phonenumbers, keeping extensions and the number type.

A number without '+country' is read in a default region: the source's `phone_region`, else the
record's country, else the config default. Full-width digits and odd dashes are folded first.
Parsing runs once per distinct (value, region) pair, across processes when there are many.
"""

from __future__ import annotations

import phonenumbers
from phonenumbers import PhoneNumberType

from audit.text import fold, fold_dashes

_TYPES = {
    PhoneNumberType.MOBILE: "mobile",
    PhoneNumberType.FIXED_LINE: "fixed",
    PhoneNumberType.FIXED_LINE_OR_MOBILE: "fixed_or_mobile",
    PhoneNumberType.TOLL_FREE: "toll_free",
    PhoneNumberType.VOIP: "voip",
}
REGIONS = frozenset(phonenumbers.SUPPORTED_REGIONS)


def parse_phone(item: tuple[str, str]) -> tuple[str | None, str | None, str | None]:
    """(e164, extension, type) for one (raw value, default region); e164 None if impossible.

    Module-level so a process pool can pickle it.
    """
    raw, region = item
    s = fold_dashes(fold(raw))
    if not any(ch.isdigit() for ch in s):
        return None, None, None
    if s.startswith("00") and not s.startswith("000"):
        s = "+" + s[2:]
    try:
        num = phonenumbers.parse(s, region)
    except phonenumbers.NumberParseException:
        return None, None, None
    if not phonenumbers.is_possible_number(num):
        return None, None, None
    e164 = phonenumbers.format_number(num, phonenumbers.PhoneNumberFormat.E164)
    kind = _TYPES.get(phonenumbers.number_type(num))
    return e164, (num.extension or None), kind


def region_for_country(code: str | None) -> str | None:
    return code if code in REGIONS else None
