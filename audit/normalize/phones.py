"""Phone numbers to E.164 with phonenumbers, keeping extensions and the number type.

A number without '+country' is read in the regions a record offers, strongest evidence first
(regions.py decides which); only a valid number becomes E.164, and a value a spreadsheet turned
into a number (3.60E+11, a '.0' tail, a lost trunk 0) is never taken for a phone. Full-width
digits and odd dashes are folded first. Parsing runs once per distinct (value, regions) pair,
across processes when there are many.

The same parse also settles whether the E.164 result is a valid number, so the validate stage
does not parse every number a second time (about 30 us a number): `audit.phone_validity.PROBLEMS`
remembers, per E.164 string, exactly what `e164_problem` would answer for it.
"""

from __future__ import annotations

import re
from functools import cache

import phonenumbers
from phonenumbers import PhoneMetadata, PhoneNumberType

from audit.phone_validity import INVALID, e164_problem
from audit.text import fold, fold_dashes

_TYPES = {
    PhoneNumberType.MOBILE: "mobile",
    PhoneNumberType.FIXED_LINE: "fixed",
    PhoneNumberType.FIXED_LINE_OR_MOBILE: "fixed_or_mobile",
    PhoneNumberType.TOLL_FREE: "toll_free",
    PhoneNumberType.VOIP: "voip",
}
REGIONS = frozenset(phonenumbers.SUPPORTED_REGIONS)
_SPACES = re.compile(r"\s+")


def parse_phone(item: tuple[str, str]) -> tuple[str | None, str | None, str | None]:
    """(e164, extension, type) for one (raw value, default region); e164 None if impossible.

    Module-level so a process pool can pickle it.
    """
    return parse_phone_checked(item)[:3]


def parse_phone_checked(
    item: tuple[str, str],
) -> tuple[str | None, str | None, str | None, str | None]:
    """parse_phone plus `e164_problem(e164)` (None when valid or when there is no E.164)."""
    raw, region = item
    # fold() of ASCII text only collapses whitespace; skipping NFKC saves a few us a number
    s = _SPACES.sub(" ", raw).strip() if raw.isascii() else fold_dashes(fold(raw))
    if not any(ch.isdigit() for ch in s):
        return None, None, None, None
    if s.startswith("00") and not s.startswith("000"):
        s = "+" + s[2:]
    try:
        num = phonenumbers.parse(s, region)
    except phonenumbers.NumberParseException:
        return None, None, None, None
    if not phonenumbers.is_possible_number(num):
        return None, None, None, None
    e164 = phonenumbers.format_number(num, phonenumbers.PhoneNumberFormat.E164)
    ntype = phonenumbers.number_type(num)
    return e164, (num.extension or None), _TYPES.get(ntype), _problem_of_parsed(num, e164, ntype)


def _problem_of_parsed(num: phonenumbers.PhoneNumber, e164: str, ntype: int) -> str | None:
    """`e164_problem(e164)` without parsing e164 again, when that provably gives `num` back.

    Re-parsing '+<cc><nsn>' finds the same country code (calling codes are prefix-free) and the
    same national significant number unless the country's national-prefix rule matches the
    start of nsn, or nsn is shorter than 2 / longer than 17 digits (parse errors). Validity
    depends only on (cc, nsn), so outside those cases it equals is_valid_number(num); inside
    them, e164 is simply parsed again. is_valid_number(num) is number_type(num) != UNKNOWN:
    both look the number up in the metadata of region_code_for_number(num) (no region: no
    metadata, UNKNOWN, invalid), so the type computed for phone_type answers it.
    """
    cc = num.country_code
    nsn = phonenumbers.national_significant_number(num)
    ccs = str(cc)
    if (
        e164 != f"+{ccs}{nsn}"
        or not 2 <= len(nsn) <= 17
        or not nsn.isdigit()
        or not nsn.isascii()
        or cc not in phonenumbers.COUNTRY_CODE_TO_REGION_CODE
        or any(int(ccs[:k]) in phonenumbers.COUNTRY_CODE_TO_REGION_CODE for k in range(1, len(ccs)))
    ):
        return e164_problem(e164)
    prefix = _national_prefix(cc)
    if prefix is None or prefix.match(nsn):
        return e164_problem(e164)
    return None if ntype != PhoneNumberType.UNKNOWN else INVALID


_NO_PREFIX = re.compile(r"(?!)")  # matches nothing: the country has no national prefix rule


@cache
def _national_prefix(cc: int) -> re.Pattern[str] | None:
    """The national-prefix pattern parse() applies to a '+cc' number (None: unknown country)."""
    region = phonenumbers.region_code_for_country_code(cc)
    meta = PhoneMetadata.metadata_for_region_or_calling_code(cc, region)
    if meta is None:
        return None
    pattern = meta.national_prefix_for_parsing
    return re.compile(pattern) if pattern else _NO_PREFIX


# --- reading one raw value under the regions a record offers -------------------------------

# verdicts of read_phone (None: a valid number, written as E.164)
UNPARSEABLE = "unparseable"  # no digits, or nothing phonenumbers can read as a number
NOT_VALID = "invalid"  # reads as a number, but not a valid one in any region tried
SPREADSHEET = "spreadsheet"  # a spreadsheet turned the phone into a number: precision lost

# 3.60E+11, 8.2e9: Excel shows long numbers in scientific notation and saves what it shows
_SCIENTIFIC = re.compile(r"[+-]?\d+(?:[.,]\d+)?[eE][+-]?\d+")
# 9012345678.0: a number column read as float and written back
_FLOAT_TAIL = re.compile(r"\+?\d{5,}\.0+")
_DIGITS_ONLY = re.compile(r"\d{6,}")
_MIN_DIGITS = 6  # fewer digits than any country's subscriber numbers: not a phone at all


def spreadsheet_damage(raw: str) -> str | None:
    """Why the value is a spreadsheet number rather than a phone, or None.

    Regardless of region: scientific notation has lost digits for good, and a '.0' tail
    shows a float column (which has also dropped any leading zero).
    """
    s = raw.strip()
    if _SCIENTIFIC.fullmatch(s):
        return "scientific notation (digits are lost)"
    if _FLOAT_TAIL.fullmatch(s):
        return "a '.0' float tail"
    return None


def _lost_leading_zero(raw: str, e164: str, region: str) -> bool:
    """A bare digit run whose country always writes its trunk '0', without it (90... for 090...).

    phonenumbers accepts national numbers without the trunk prefix, so 9012345678 reads as a
    valid Japanese mobile; but nobody in Japan writes it so: a spreadsheet that stored the
    phone as a number dropped the zero. Countries whose formats mark the prefix optional
    (India's mobiles, Beijing's 010) or that have none (US '1' is not written) are not flagged.
    """
    s = raw.strip()
    if not _DIGITS_ONLY.fullmatch(s) or s.startswith("0"):
        return False
    meta = PhoneMetadata.metadata_for_region(region)
    if meta is None or meta.national_prefix != "0" or not e164.endswith(s):
        return False
    nsn = phonenumbers.national_significant_number(phonenumbers.parse(e164, None))
    if s != nsn:
        return False
    fmt = _choose_format(meta.number_format, nsn)
    if fmt is None or not fmt.national_prefix_formatting_rule:
        return False
    return "0" in fmt.national_prefix_formatting_rule and not (
        fmt.national_prefix_optional_when_formatting
    )


def _choose_format(formats: list, nsn: str):  # type: ignore[no-untyped-def]
    from phonenumbers.phonenumberutil import _choose_formatting_pattern_for_number

    return _choose_formatting_pattern_for_number(formats, nsn)


PhoneRead = tuple[str | None, str | None, str | None, str | None, str | None, str | None]


def read_phone(item: tuple[str, str]) -> PhoneRead:
    """(e164, ext, type, region used, verdict, detail) for (raw value, regions to try).

    `regions` is a comma-separated chain ("KR,JP"): the number is read in the first region
    and, when it is not a valid number there, in the next. E.164 is given only for a valid
    number; otherwise verdict says why (UNPARSEABLE, NOT_VALID, SPREADSHEET) and detail
    adds what a person needs (the regions tried, the kind of spreadsheet damage).
    A number written with '+country' is read as such (region used None).
    Module-level so a process pool can pickle it.
    """
    raw, chain = item
    damage = spreadsheet_damage(raw)
    if damage is not None:
        return None, None, None, None, SPREADSHEET, damage
    regions = chain.split(",")
    readable = False
    for region in regions:
        e164, ext, kind, problem = parse_phone_checked((raw, region))
        if e164 is None:
            continue
        readable = True
        international = _is_international(raw)
        if problem is None:
            if not international and _lost_leading_zero(raw, e164, region):
                return None, None, None, region, SPREADSHEET, f"lost its leading 0 ({region})"
            return e164, ext, kind, (None if international else region), None, None
        if international:
            return None, None, None, None, NOT_VALID, _calling_code(e164)
    if not readable and _is_international(raw):
        return None, None, None, None, UNPARSEABLE, None
    if not readable and sum(ch.isdigit() for ch in raw) < _MIN_DIGITS:
        return None, None, None, regions[0], UNPARSEABLE, chain
    # readable somewhere but valid nowhere, or enough digits for a phone but not a possible
    # number in these regions (090-1234-5678 read as US)
    return None, None, None, regions[0], NOT_VALID, chain


def _calling_code(e164: str) -> str:
    """'+81 (JP)' for an E.164 string whose country code phonenumbers knows."""
    try:
        cc = phonenumbers.parse(e164, None).country_code
    except phonenumbers.NumberParseException:
        return e164[:4]
    return f"+{cc} ({phonenumbers.region_code_for_country_code(cc or 0)})"


def _is_international(raw: str) -> bool:
    s = raw.strip()
    if not s.isascii():
        s = fold_dashes(fold(s))
    s = s.lstrip("(")
    return s.startswith("+") or (s.startswith("00") and not s.startswith("000"))


@cache
def example_number(region: str | None) -> str:
    """A mobile number of the region in international format (+81 90-1234-5678), for hints."""
    if region:
        num = phonenumbers.example_number_for_type(region, PhoneNumberType.MOBILE)
        if num is None:
            num = phonenumbers.example_number(region)
        if num is not None:
            return phonenumbers.format_number(num, phonenumbers.PhoneNumberFormat.INTERNATIONAL)
    return "+<country code> <number>"
