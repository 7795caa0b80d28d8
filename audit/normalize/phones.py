"""Phone numbers to E.164 with phonenumbers, keeping extensions and the number type.

A number without '+country' is read in a default region: the source's `phone_region`, else the
record's country, else the config default. Full-width digits and odd dashes are folded first.
Parsing runs once per distinct (value, region) pair, across processes when there are many.

The same parse also settles whether the E.164 result is a valid number, so the validate stage
does not parse every number a second time (about 30 us a number): `PROBLEMS` remembers, per
E.164 string, exactly what `e164_problem` would answer for it.
"""

from __future__ import annotations

import re
from functools import cache

import phonenumbers
from phonenumbers import PhoneMetadata, PhoneNumberType

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
INVALID = "not a valid number for its country (wrong length or unassigned prefix)"


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


def e164_problem(value: str) -> str | None:
    """None when phonenumbers parses the E.164 value and says it is a valid number, else why.

    This is the definition of phone validity; module-level so a process pool can pickle it.
    """
    try:
        num = phonenumbers.parse(value, None)
    except phonenumbers.NumberParseException as e:
        return str(e)
    if phonenumbers.is_valid_number(num):
        return None
    return INVALID


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


class ProblemCache:
    """E.164 value -> e164_problem(value), filled by normalize, read by validate.

    Keyed by the value itself, so a hit is always the library's answer for that exact string,
    whatever happened to the frame in between; misses are computed by the caller. Cleared at the
    start of each normalize run, so it holds one run's numbers at most.
    """

    def __init__(self) -> None:
        self._known: dict[str, str | None] = {}

    def clear(self) -> None:
        self._known.clear()

    def update(self, pairs: dict[str, str | None]) -> None:
        self._known.update(pairs)

    def get(self, value: str) -> tuple[bool, str | None]:
        """(known, problem)."""
        if value in self._known:
            return True, self._known[value]
        return False, None

    def __len__(self) -> int:
        return len(self._known)


PROBLEMS = ProblemCache()


def region_for_country(code: str | None) -> str | None:
    return code if code in REGIONS else None
