"""Phones read in the right country, and spreadsheet numbers never taken for phones.

The expected values below were written by reading the fixture files in tests/fixtures/phones
(see PROVENANCE.md there), not by running the tool: a Japanese cp932 customer list, Indian
vCards, a HubSpot export whose rows carry only "IP Country Code".
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import phonenumbers
import pytest

from audit.config import NormalizeConfig, SourceConfig
from audit.match.prepare import features
from audit.normalize import normalize
from audit.normalize.phones import read_phone, spreadsheet_damage
from audit.sources import read_sources
from tests.factories import make_contacts

FIXTURES = Path(__file__).parent / "fixtures" / "phones"


def _audit(name: str, **source: object) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(contacts, normalize findings) of one fixture with no config but what is given."""
    src = SourceConfig(name="src", path=str(FIXTURES / name), **source)  # type: ignore[arg-type]
    ingest = read_sources([src], base_dir=FIXTURES)
    records, issues = normalize(ingest.records, NormalizeConfig(), [src], files=ingest.files)
    contacts = records["contacts"]
    return contacts.set_index(contacts["source_row"].astype(str)), issues


def _e164(contacts: pd.DataFrame) -> dict[str, str | None]:
    return {str(k): (v if isinstance(v, str) else None) for k, v in contacts["phone_e164"].items()}


def _valid(e164: str) -> bool:
    return phonenumbers.is_valid_number(phonenumbers.parse(e164, None))


@pytest.mark.parametrize(
    "name",
    [
        "jp_customers_cp932.csv",
        "in_contacts.vcf",
        "in_national_only.vcf",
        "hubspot_ip_country_mn.csv",
    ],
)
def test_no_e164_value_in_cleaned_records_is_an_invalid_number(name: str) -> None:
    contacts, _ = _audit(name)
    written = contacts["phone_e164"].dropna().tolist()
    assert written and all(_valid(v) for v in written)


def test_japanese_cp932_list_comes_out_as_japanese_numbers_with_no_config() -> None:
    contacts, issues = _audit("jp_customers_cp932.csv")
    got = _e164(contacts)
    # rows 1-10, 13, 14, 16 of the file: mobiles 0X0-, Tokyo 03, Osaka 06, Sendai 022,
    # one written without dashes and one in full-width digits
    assert got == {
        "1": "+819012345601",
        "2": "+818023456702",
        "3": "+817034567803",
        "4": "+819045678904",
        "5": "+818056789005",
        "6": "+81312345606",
        "7": "+81663457807",
        "8": "+819087654308",
        "9": "+819012345609",
        "10": "+818098765410",
        "11": None,  # 9012345611: the spreadsheet dropped the leading 0
        "12": None,  # 9.01235E+09: scientific notation
        "13": "+818011112213",
        "14": "+81222345614",
        "15": None,  # no phone
        "16": "+819022223316",
    }
    assert set(contacts["phone_region"].dropna()) == {"JP"}
    assert set(contacts["phone_region_from"].dropna()) == {"source evidence"}
    by_rule = issues.groupby("rule_id")["record_id"].apply(lambda s: sorted(s.dropna())).to_dict()
    assert by_rule["normalize.phone.spreadsheet"] == ["src:11", "src:12"]
    assert "normalize.phone.invalid" not in by_rule
    inferred = issues[issues["rule_id"] == "normalize.phone.region_inferred"]
    assert len(inferred) == 1 and "JP" in inferred["message"].iloc[0]
    assert "cp932" in inferred["evidence"].iloc[0]


def test_a_wrong_explicit_region_is_reported_once_for_the_source_with_the_likely_country() -> None:
    contacts, issues = _audit("jp_customers_cp932.csv", phone_region="US")
    summary = issues[issues["rule_id"] == "normalize.phone.region"]
    assert len(summary) == 1
    row = summary.iloc[0]
    assert row["record_id"] is None
    assert "do not parse as US numbers" in row["message"] and "Japan" in row["message"]
    assert "phone_region: JP" in row["suggestion"]
    # the hundreds of identical row findings are folded into that one
    assert not issues["rule_id"].isin(["normalize.phone.invalid"]).any()
    # 090-... is not a US number, so nothing national became +1 (the user's US kept only
    # the one bare digit run that is a valid US number)
    assert contacts["phone_e164"].dropna().tolist() == ["+19012345611"]


def test_indian_vcard_national_numbers_follow_the_files_own_plus91_numbers() -> None:
    contacts, _ = _audit("in_contacts.vcf")
    numbers = set(contacts["phone_e164"].dropna())
    assert {
        "+919988776601",
        "+919001234502",
        "+919962730303",
        "+918154888305",  # the first TEL kept as phone; the cell goes to mobile
        "+919876543206",
        "+918887776607",
        "+919123456708",
        "+917817074709",
        "+919997742110",
    } == numbers
    assert not any(n.startswith("+1") for n in numbers)


def test_indian_numbers_with_no_country_anywhere_are_not_made_american() -> None:
    contacts, issues = _audit("in_national_only.vcf")
    numbers = contacts["phone_e164"].dropna().tolist()
    assert not any(n.startswith("+1") for n in numbers)
    # the numbers themselves are the evidence: all six are valid Indian numbers
    assert sorted(numbers) == sorted(
        [
            "+919001234502",
            "+919876543206",
            "+918887776607",
            "+917817074709",
            "+919997742110",
            "+919123456708",
        ]
    )
    note = issues[issues["rule_id"] == "normalize.phone.region_inferred"]
    assert "IN" in note["message"].iloc[0] and "valid as IN" in note["evidence"].iloc[0]


def test_hubspot_ip_country_code_gives_mongolian_numbers() -> None:
    contacts, issues = _audit("hubspot_ip_country_mn.csv")
    got = _e164(contacts)
    assert got == {
        "1": "+97688112201",
        "2": "+97699112202",
        "3": "+97695011203",
        "4": "+97680081204",
        "5": "+97670111205",
        "6": "+97695112206",  # from Mobile Phone Number
        "7": None,  # 8.81122E+7
        "8": "+14155550108",  # IP Country Code us
        "9": "+97699112209",  # written with +976
    }
    assert contacts.loc["1", "phone_region_from"] == "IP Country Code"
    assert contacts.loc["9", "phone_region_from"] == "+country code"
    assert not issues["rule_id"].isin(["normalize.phone.unparseable"]).any()
    assert issues.loc[issues["rule_id"] == "normalize.phone.spreadsheet", "value"].tolist() == [
        "8.81122E+7"
    ]


@pytest.mark.parametrize(
    ("raw", "damaged"),
    [
        ("3.60E+11", True),
        ("8.2E+9", True),
        ("8.2e9", True),
        ("9012345678.0", True),
        ("090-1234-5678", False),
        ("+81 90 1234 5678", False),
        ("2125550142", False),
    ],
)
def test_spreadsheet_numbers_are_recognised_whatever_the_region(raw: str, damaged: bool) -> None:
    assert (spreadsheet_damage(raw) is not None) == damaged


@pytest.mark.parametrize(
    ("raw", "region", "verdict"),
    [
        ("9012345678", "JP", "spreadsheet"),  # 090-1234-5678 stored as a number
        ("1012345678", "KR", "spreadsheet"),  # 010-1234-5678
        ("7911123456", "GB", "spreadsheet"),  # 07911 123456
        ("9876543210", "IN", None),  # Indian mobiles are written without the 0
        ("2125550142", "US", None),  # the US trunk 1 is not written either
        ("09012345678", "JP", None),
    ],
)
def test_a_lost_leading_zero_is_a_spreadsheet_finding_only_where_the_zero_is_always_written(
    raw: str, region: str, verdict: str | None
) -> None:
    e164, _, _, _, got, _ = read_phone((raw, region))
    assert got == verdict
    assert (e164 is None) == (verdict is not None)


def test_spreadsheet_numbers_never_block_or_match() -> None:
    raw = make_contacts(
        # 010-1234-5678 itself is the placeholder every Korean form shows: a real-looking one
        phone=["3.60E+11", "3.60E+11", "010-3141-5926"],
        country=["KR", "KR", "KR"],
    )
    records, issues = normalize({"contacts": raw}, NormalizeConfig())
    c = records["contacts"]
    assert c["phone_e164"].isna().tolist() == [True, True, False]
    assert features(c)["phone"].isna().tolist() == [True, True, False]
    assert (issues["rule_id"] == "normalize.phone.spreadsheet").sum() == 2


def test_region_order_explicit_then_record_country_then_evidence() -> None:
    raw = make_contacts(
        phone=["010-1234-5678", "(212) 555-0142", "090-1234-5678", "+44 20 7946 0958"],
        country=[None, "US", "JP", None],
        source=["s", "s", "s", "s"],
    )
    src = SourceConfig(name="s", path="x.csv", phone_region="KR")
    records, _ = normalize({"contacts": raw}, NormalizeConfig(), [src])
    c = records["contacts"]
    assert c["phone_e164"].tolist() == [
        "+821012345678",
        "+12125550142",  # not a Korean number: the record's own country US reads it
        "+819012345678",
        "+442079460958",
    ]
    assert c["phone_region_from"].tolist() == [
        "sources[].phone_region",
        "country",
        "country",
        "+country code",
    ]


def test_an_invalid_number_names_the_region_tried_and_an_example_of_that_country() -> None:
    raw = make_contacts(phone=["03-1234"], country=["JP"])
    _, issues = normalize({"contacts": raw}, NormalizeConfig())
    row = issues[issues["field"] == "phone"].iloc[0]
    assert row["rule_id"] == "normalize.phone.invalid"
    assert "JP" in row["message"]
    assert "+81" in row["suggestion"] and "+82" not in row["suggestion"]
    assert row["evidence"] == "region JP from country"


def test_vendor_country_columns_kept_in_extra_give_the_record_its_region() -> None:
    raw = make_contacts(
        phone=["090-1234-5678", "98765 43210", "8811 2233", "(212) 555-0142"],
        extra=[
            '{"Locale": "ja-JP"}',
            '{"IP Country": "india", "IP Country Code": "in"}',
            '{"Default Address Country Code": "MN"}',
            '{"Notes": "no country here"}',
        ],
    )
    records, _ = normalize({"contacts": raw}, NormalizeConfig())
    c = records["contacts"]
    assert c["phone_e164"].tolist() == [
        "+819012345678",
        "+919876543210",
        "+97688112233",
        "+12125550142",
    ]
    assert c["phone_region_from"].tolist() == [
        "Locale",
        "IP Country Code",
        "Default Address Country Code",
        "normalize.default_region",
    ]


def test_northwind_customers_each_phone_read_in_its_own_country_or_reported() -> None:
    """Microsoft's Northwind sample customers (21 countries, national formats of the 1990s).

    By reading the file: France went from 8 to 10 digits in 1996 (40.32.21.21), London's 171
    became 020 in 2000 and Mexico City's (5) became 55 in 2001, so those are findings naming
    their own country, never E.164 values, and never read as US numbers.
    """
    contacts, issues = _audit("northwind_customers.csv")
    written = contacts.dropna(subset=["phone_e164"])
    assert written["phone_e164"].map(_valid).all()
    for e164, country in zip(written["phone_e164"], written["country_code"], strict=True):
        cc = phonenumbers.parse(e164, None).country_code
        assert country in phonenumbers.COUNTRY_CODE_TO_REGION_CODE[cc], (e164, country)
    invalid = issues[issues["rule_id"] == "normalize.phone.invalid"]
    by_id = contacts.set_index("record_id")
    assert len(invalid) == int(contacts["phone_e164"].isna().sum())
    for rid, message in zip(invalid["record_id"], invalid["message"], strict=True):
        assert f"valid {by_id.loc[rid, 'country_code']} number" in message
    old = contacts["phone"].str.match(r"\d\d\.\d\d\.|\(171\)|\(5\) 555")
    # 7 French, 4 London (171), 3 Mexico City (5) 555 and one Venezuelan (5) 555 number
    assert old.sum() == 15 and contacts.loc[old, "phone_e164"].isna().all()
    # each record was read in its own country: no source-wide guess, no source-level finding
    assert not issues["rule_id"].isin(["normalize.phone.region"]).any()
    assert set(written["phone_region_from"]) == {"country"}
