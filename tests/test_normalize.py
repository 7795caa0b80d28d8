"""Normalize: each kind of value, then the stage contract (types, derived keys, issues, rows)."""

from __future__ import annotations

import pandas as pd
import pytest

from audit.config import NormalizeConfig, SourceConfig
from audit.normalize import normalize
from audit.normalize.companies import company_domain, company_key
from audit.normalize.countries import country_code
from audit.normalize.dates import parse_dates
from audit.normalize.emails import clean_email, email_domain, email_key
from audit.normalize.names import clean_text, name_case, name_key, split_latin
from audit.normalize.phones import parse_phone
from tests.factories import make_contacts, make_frame


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("ＡＢＣ　ｶﾅ", "ABC カナ"),
        ("  a\u200bb  c ", "ab c"),
        ("", None),
        ("   ", None),
    ],
)
def test_clean_text_folds_width_invisible_and_space(raw: str, expected: str | None) -> None:
    assert clean_text(raw) == expected


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("MCDONALD", "McDonald"),
        ("macleod", "MacLeod"),
        ("o'brien", "O'Brien"),
        ("ANNE-MARIE", "Anne-Marie"),
        ("JOHN VAN DER BERG", "John van der Berg"),
        ("mack", "Mack"),
        ("DeShawn", "DeShawn"),  # mixed case is kept as typed
        ("van Gogh", "van Gogh"),
        ("김민수", "김민수"),
        ("山田 太郎", "山田 太郎"),
    ],
)
def test_name_case(raw: str, expected: str) -> None:
    assert name_case(raw) == expected


def test_cjk_names_are_never_split_and_keep_family_first() -> None:
    assert split_latin("山田 太郎") == (None, None)
    assert split_latin("김 민수") == (None, None)
    assert split_latin("Smith, John") == ("John", "Smith")
    assert name_key("Smith, John") == name_key("john smith")
    assert name_key("김 민수") == "김민수"


@pytest.mark.parametrize(
    ("raw", "email", "key", "domain"),
    [
        (" John.Doe+news@GMail.com ", "john.doe+news@gmail.com", "johndoe@gmail.com", "gmail.com"),
        ("j.o.h.n@googlemail.com", "j.o.h.n@googlemail.com", "john@gmail.com", "googlemail.com"),
        ("Jane <JANE@Example.COM>", "jane@example.com", "jane@example.com", "example.com"),
        ("mailto:a.b+x@naver.com", "a.b+x@naver.com", "a.b+x@naver.com", "naver.com"),
        ("user@例え.jp", "user@例え.jp", "user@xn--r8jz45g.jp", "xn--r8jz45g.jp"),
        ("no-at-sign", "no-at-sign", None, None),
    ],
)
def test_email_clean_key_domain(raw: str, email: str, key: str | None, domain: str | None) -> None:
    cleaned, _ = clean_email(raw)
    assert cleaned == email
    assert email_key(cleaned) == key
    assert email_domain(cleaned) == domain


def test_email_with_several_addresses_keeps_the_first() -> None:
    assert clean_email("a@b.com; c@d.com") == ("a@b.com", True)


@pytest.mark.parametrize(
    ("raw", "region", "e164", "ext", "kind"),
    [
        ("010-1234-5678", "KR", "+821012345678", None, "mobile"),
        ("02-312-3456", "KR", "+8223123456", None, "fixed"),
        ("０９０－１２３４－５６７８", "JP", "+819012345678", None, "mobile"),
        ("03-1234-5678", "JP", "+81312345678", None, "fixed"),
        ("138 0013 8000", "CN", "+8613800138000", None, "mobile"),
        ("(212) 555-0142 ext. 12", "US", "+12125550142", "12", "fixed_or_mobile"),
        ("0082 10 1234 5678", "US", "+821012345678", None, "mobile"),
        ("abc", "US", None, None, None),
        ("12", "US", None, None, None),
    ],
)
def test_parse_phone(
    raw: str, region: str, e164: str | None, ext: str | None, kind: str | None
) -> None:
    assert parse_phone((raw, region)) == (e164, ext, kind)


@pytest.mark.parametrize(
    "name",
    ["Acme, Inc.", "ACME Inc", "Acme Corporation", "acme llc", "Acme Co., Ltd."],
)
def test_company_key_latin_forms(name: str) -> None:
    assert company_key(name) == "acme"


@pytest.mark.parametrize(
    ("typed", "domain"),
    [
        ("www.i40inc.com", "i40inc.com"),  # HubSpot's Company Domain Name as a user typed it
        ("AppraisalMC.com", "appraisalmc.com"),
        ("https://yamagata-corp.jp/", "yamagata-corp.jp"),  # a Website/URL column
        ("http://www2.example.co.uk:8080/about?x=1", "example.co.uk"),
        ("münchen.de", "xn--mnchen-3ya.de"),
        ("www.com", "www.com"),  # www is the name here, not a host prefix
        ("n/a", "n/a"),  # not a host: left for the rules
    ],
)
def test_company_domain_is_the_host_without_www(typed: str, domain: str) -> None:
    assert company_domain(typed) == domain


@pytest.mark.parametrize(
    "name",
    ["株式会社ソニー", "ソニー株式会社", "(株)ソニー", "㈱ソニー", "（株）ソニー", "ソニー (株)"],
)
def test_company_key_japanese_forms_before_or_after(name: str) -> None:
    assert company_key(name) == "ソニー"


@pytest.mark.parametrize("name", ["(주)삼성", "㈜삼성", "삼성 주식회사", "주식회사 삼성"])
def test_company_key_korean_forms(name: str) -> None:
    assert company_key(name) == "삼성"


def test_company_key_chinese_forms() -> None:
    assert company_key("台积电股份有限公司") == company_key("台积电有限公司") == "台积电"


@pytest.mark.parametrize(
    ("raw", "code"),
    [
        ("KR", "KR"),
        ("kor", "KR"),
        ("South Korea", "KR"),
        ("Korea, Republic of", "KR"),
        ("대한민국", "KR"),
        ("한국", "KR"),
        ("韓国", "KR"),
        ("韩国", "KR"),
        ("日本", "JP"),
        ("Japan", "JP"),
        ("中国", "CN"),
        ("中華人民共和国", "CN"),
        ("USA", "US"),
        ("U.S.A.", "US"),
        ("미국", "US"),
        ("アメリカ", "US"),
        ("美国", "US"),
        ("台灣", "TW"),
        ("Deutschland", "DE"),
        ("Narnia", None),
    ],
)
def test_country_code(raw: str, code: str | None) -> None:
    assert country_code(raw) == code


@pytest.mark.parametrize(
    ("raw", "tz", "utc"),
    [
        ("2026-01-05", "UTC", "2026-01-05 00:00"),
        ("2026-01-05 10:30:00", "Asia/Seoul", "2026-01-05 01:30"),
        ("2026-01-05T10:30:00Z", "Asia/Seoul", "2026-01-05 10:30"),
        ("2026-01-05T10:30:00+09:00", "UTC", "2026-01-05 01:30"),
        ("2026年1月5日", "UTC", "2026-01-05 00:00"),
        ("2026年1月5日 15時30分", "Asia/Tokyo", "2026-01-05 06:30"),
        ("2026. 1. 5.", "UTC", "2026-01-05 00:00"),
        ("2026. 1. 5. 오후 3:05:00", "Asia/Seoul", "2026-01-05 06:05"),
        ("2026. 1. 5. 오전 12:05:00", "UTC", "2026-01-05 00:05"),
        ("2026/01/05 下午 3:05:00", "Asia/Taipei", "2026-01-05 07:05"),
        ("2026년 1월 5일", "UTC", "2026-01-05 00:00"),
        ("45000", "UTC", "2023-03-15 00:00"),
        ("45000.5", "UTC", "2023-03-15 12:00"),
        ("Mon, 05 Jan 2026 10:00:00 +0900", "UTC", "2026-01-05 01:00"),
        ("Jan 5, 2026", "UTC", "2026-01-05 00:00"),
    ],
)
def test_parse_dates_formats(raw: str, tz: str, utc: str) -> None:
    out, failed = parse_dates(pd.Series([raw], dtype="str"), tz)
    assert str(out.dtype) == "datetime64[ns, UTC]"
    assert not failed.iloc[0]
    assert out.iloc[0] == pd.Timestamp(utc, tz="UTC")


def test_day_month_order_is_decided_per_column() -> None:
    us, _ = parse_dates(pd.Series(["03/04/2026", "12/25/2026"], dtype="str"))
    eu, _ = parse_dates(pd.Series(["03/04/2026", "25/12/2026"], dtype="str"))
    assert us.iloc[0].month == 3
    assert eu.iloc[0].month == 4


@pytest.mark.parametrize("raw", ["garbage", "2026-02-30", "9999-12-31", "13/13/2026"])
def test_unreadable_dates_fail_without_raising(raw: str) -> None:
    out, failed = parse_dates(pd.Series([raw, None], dtype="str"))
    assert out.isna().all()
    assert failed.tolist() == [True, False]


def _run(frames: dict[str, pd.DataFrame], **cfg: object) -> tuple[dict, pd.DataFrame]:
    sources = [SourceConfig(name="t", path="t.csv", **cfg)]  # type: ignore[arg-type]
    return normalize(frames, NormalizeConfig(), sources)


def test_normalize_types_columns_and_fills_derived_keys() -> None:
    c = make_contacts(
        email=[" John.Doe@GMAIL.com", "bad"],
        phone=["010-1234-5678", "john@x.com"],
        first_name=["JOHN", None],
        last_name=["MCDONALD", None],
        full_name=[None, "Jane Roe"],
        country=["대한민국", "Narnia"],
        company=["ACME Inc", "㈜삼성"],
        created_at=["2026-01-05", "garbage"],
    )
    d = make_frame("deals", amount=["$1,234.50", "abc"], is_closed=["Yes", "maybe"])
    recs, issues = _run({"contacts": c, "deals": d}, phone_region="KR", timezone="Asia/Seoul")
    out = recs["contacts"]
    assert len(out) == 2
    assert str(out["created_at"].dtype) == "datetime64[ns, UTC]"
    assert out["created_at"].iloc[0] == pd.Timestamp("2026-01-04 15:00", tz="UTC")
    row = out.iloc[0]
    assert row["email"] == "john.doe@gmail.com"
    assert row["email_key"] == "johndoe@gmail.com"
    assert row["email_domain"] == "gmail.com"
    assert row["phone_e164"] == "+821012345678"
    assert row["phone_type"] == "mobile"
    assert row["full_name"] == "John McDonald"
    assert row["company_key"] == "acme"
    assert row["country_code"] == "KR"
    assert out["first_name"].iloc[1] == "Jane" and out["last_name"].iloc[1] == "Roe"
    deals = recs["deals"]
    assert deals["amount"].dtype == "float64" and deals["amount"].iloc[0] == 1234.5
    assert str(deals["is_closed"].dtype) == "boolean" and bool(deals["is_closed"].iloc[0])
    found = set(zip(issues["record_id"], issues["rule_id"], issues["value"], strict=True))
    assert ("t:2", "normalize.date.unparseable", "garbage") in found
    assert ("t:2", "normalize.country.unknown", "Narnia") in found
    assert ("t:2", "normalize.phone.unparseable", "john@x.com") in found
    assert ("t:2", "normalize.number.unparseable", "abc") in found
    assert ("t:2", "normalize.bool.unparseable", "maybe") in found
    assert set(issues.columns) >= {"record_id", "rule_id", "message", "value", "suggestion"}


def test_phone_region_falls_back_to_record_country_then_default() -> None:
    c = make_contacts(phone=["090-1234-5678", "(212) 555-0142"], country=["日本", None])
    recs, _ = normalize({"contacts": c}, NormalizeConfig(default_region="US"), [])
    assert recs["contacts"]["phone_e164"].tolist() == ["+819012345678", "+12125550142"]


def test_mobile_is_used_when_phone_is_missing() -> None:
    c = make_contacts(phone=[None], mobile=["010-9876-5432"], country=["KR"])
    recs, _ = normalize({"contacts": c}, NormalizeConfig(), [])
    assert recs["contacts"]["phone_e164"].iloc[0] == "+821098765432"


def test_normalize_is_row_order_independent() -> None:
    c = make_contacts(
        email=["a@x.com", "B@Y.com", None, "c@z.com"],
        phone=["010-1111-2222", None, "02-312-3456", "zz"],
        created_at=["2026/1/5", "13/01/2026", None, "x"],
        country=["KR", "KR", "KR", "KR"],
    )
    recs1, iss1 = normalize({"contacts": c}, NormalizeConfig(), [])
    shuffled = c.sample(frac=1, random_state=3)
    recs2, iss2 = normalize({"contacts": shuffled}, NormalizeConfig(), [])
    a = recs1["contacts"].set_index("record_id").sort_index()
    b = recs2["contacts"].set_index("record_id").sort_index()
    pd.testing.assert_frame_equal(a, b)
    pd.testing.assert_frame_equal(iss1, iss2)
