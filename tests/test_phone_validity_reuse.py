"""Phone validity judged during normalize equals parsing the E.164 value again (the definition).

normalize parses each distinct (raw, region) once and derives validity from that parse; the
validate stage trusts it instead of calling phonenumbers a second time. These tests hold the
shortcut to the library's own answer, including the cases where re-parsing changes the number
(national prefixes, shared calling codes, Italian leading zeros, extensions).
"""

from __future__ import annotations

import datetime as dt
import random

import pandas as pd
import phonenumbers
from hypothesis import given, settings
from hypothesis import strategies as st

from audit.config import NormalizeConfig, RulesConfig
from audit.normalize import normalize
from audit.normalize.phones import parse_phone, parse_phone_checked
from audit.phone_validity import PROBLEMS, e164_problem
from audit.validate import validate
from tests.factories import make_contacts

REGIONS = sorted(phonenumbers.SUPPORTED_REGIONS)
PREFIXES = ["", "0", "00", "+", "+1", "+7", "+39 0", "+44", "+82 0", "+81", "+262", "+599"]


def _agrees(raw: str, region: str) -> bool:
    e164, ext, kind, problem = parse_phone_checked((raw, region))
    assert (e164, ext, kind) == parse_phone((raw, region))
    return e164 is None or problem == e164_problem(e164)


def test_validity_from_the_first_parse_equals_reparsing_e164_over_many_numbers() -> None:
    rng = random.Random(11)
    seen = 0
    for _ in range(20_000):
        region = rng.choice(REGIONS + ["KR", "JP", "US", "CN", "IT", "GB", "RU"] * 10)
        digits = "".join(rng.choice("0123456789") for _ in range(rng.randint(2, 16)))
        raw = rng.choice(PREFIXES) + digits + (" ext. 12" if rng.random() < 0.1 else "")
        assert _agrees(raw, region), (raw, region)
        seen += parse_phone((raw, region))[0] is not None
    assert seen > 5_000  # the loop really reached parsed numbers


@settings(max_examples=300, deadline=None)
@given(
    st.sampled_from(PREFIXES),
    st.text(alphabet="0123456789 -", min_size=2, max_size=18),
    st.sampled_from(REGIONS),
)
def test_validity_reuse_property(prefix: str, digits: str, region: str) -> None:
    assert _agrees(prefix + digits, region)


def test_validate_reads_what_normalize_judged_and_matches_per_row_calls() -> None:
    raw = make_contacts(
        4,
        phone=["010-1234-5678", "+39 06 698 81234", "010-0000-0000", "(212) 555-0100 x12"],
        country=["KR", "IT", "KR", "US"],
    )
    records, _ = normalize({"contacts": raw}, NormalizeConfig())
    c = records["contacts"]
    assert len(PROBLEMS) >= 3  # normalize left its answers for validate
    v = validate(records, RulesConfig(packs=["contacts.core"], gx=False), as_of=dt.date(2026, 1, 1))
    bad = set(v.issues.loc[v.issues["rule_id"] == "contacts.phone.valid", "record_id"])
    for rid, e164 in zip(c["record_id"], c["phone_e164"], strict=True):
        expected = isinstance(e164, str) and e164_problem(e164) is not None
        assert (rid in bad) == expected, (rid, e164)
    # a frame changed after normalize is still judged by value, never by a stale row flag
    changed = c.assign(phone_e164=pd.Series(["+82101234567899"] * 4, dtype="str"))
    v2 = validate(
        {"contacts": changed},
        RulesConfig(packs=["contacts.core"], gx=False),
        as_of=dt.date(2026, 1, 1),
    )
    assert e164_problem("+82101234567899") is not None  # one digit too many for Korea
    assert int((v2.issues["rule_id"] == "contacts.phone.valid").sum()) == 4
