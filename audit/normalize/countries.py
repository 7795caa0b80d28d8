"""Country names and codes to ISO 3166-1 alpha-2.

Names come from a table in English, Korean, Japanese and Chinese (data/countries.json, built
from the phonenumbers locale data), plus the aliases people actually type: USA, U.K., 한국, 米国.
"""

from __future__ import annotations

import json
import re
from functools import cache
from importlib import resources

from audit.text import fold

_ALIASES = {
    "US": "usa|u.s.|u.s.a.|us|america|united states of america|미합중국|米国|美國|アメリカ",
    "GB": "uk|u.k.|great britain|britain|england|scotland|wales|英國|イギリス|英国",
    "KR": "south korea|korea|republic of korea|korea, republic of|korea (south)|rok|한국|남한"
    "|大韓民国|韓国|韩国|韓國|大韩民国",
    "KP": "north korea|북한|北朝鮮|朝鲜",
    "JP": "japan|日本国|일본국|nippon",
    "CN": "china|prc|people's republic of china|mainland china|中國|中华人民共和国|중화인민공화국",
    "TW": "taiwan|roc|台灣|臺灣|中華民國|중화민국",
    "HK": "hong kong|香港|홍콩",
    "DE": "deutschland",
    "VN": "vietnam|viet nam",
    "RU": "russia|russian federation",
    "AE": "uae",
    "NL": "holland|the netherlands",
    "CZ": "czech republic|czechia",
    "TR": "turkey|türkiye",
}
_ALPHA3 = {
    "USA": "US", "GBR": "GB", "KOR": "KR", "PRK": "KP", "JPN": "JP", "CHN": "CN", "TWN": "TW",
    "HKG": "HK", "MAC": "MO", "SGP": "SG", "DEU": "DE", "FRA": "FR", "ITA": "IT", "ESP": "ES",
    "CAN": "CA", "AUS": "AU", "NZL": "NZ", "IND": "IN", "VNM": "VN", "THA": "TH", "IDN": "ID",
    "MYS": "MY", "PHL": "PH", "BRA": "BR", "MEX": "MX", "NLD": "NL", "BEL": "BE", "CHE": "CH",
    "AUT": "AT", "SWE": "SE", "NOR": "NO", "DNK": "DK", "FIN": "FI", "IRL": "IE", "POL": "PL",
    "PRT": "PT", "RUS": "RU", "TUR": "TR", "ARE": "AE", "SAU": "SA", "ISR": "IL", "ZAF": "ZA",
}  # fmt: skip


_DROP = re.compile(r"[\s.'’,()\-]+")


def _norm(s: str) -> str:
    return _DROP.sub("", fold(s).casefold())


@cache
def _table() -> dict[str, str]:
    raw = json.loads(
        resources.files("audit.normalize").joinpath("data/countries.json").read_text("utf-8")
    )
    out: dict[str, str] = {}
    for code, names in raw.items():
        out[_norm(code)] = code
        for n in names:
            out.setdefault(_norm(n), code)
    for code, text in _ALIASES.items():
        for alias in text.split("|"):
            out[_norm(alias)] = code
    for a3, code in _ALPHA3.items():
        out.setdefault(_norm(a3), code)
    return out


def country_code(value: str | None) -> str | None:
    """ISO alpha-2 for a country name or code in EN/KO/JA/ZH; None when unknown."""
    if not value:
        return None
    return _table().get(_norm(value))


TIMEZONES = {
    "KR": "Asia/Seoul",
    "JP": "Asia/Tokyo",
    "CN": "Asia/Shanghai",
    "TW": "Asia/Taipei",
    "HK": "Asia/Hong_Kong",
    "SG": "Asia/Singapore",
    "GB": "Europe/London",
    "DE": "Europe/Berlin",
    "FR": "Europe/Paris",
    "VN": "Asia/Ho_Chi_Minh",
    "TH": "Asia/Bangkok",
    "IN": "Asia/Kolkata",
}


def timezone_for_country(code: str | None) -> str | None:
    """The zone of a single-timezone country (naive timestamps from there are local time)."""
    return TIMEZONES.get(code or "")


@cache
def _names() -> dict[str, str]:
    raw = json.loads(
        resources.files("audit.normalize").joinpath("data/countries.json").read_text("utf-8")
    )
    return {code: names[0] for code, names in raw.items() if names}


def region_name(code: str) -> str:
    """The English name of an ISO alpha-2 region (the code itself when unknown)."""
    return _names().get(code, code)
