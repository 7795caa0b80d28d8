"""Cross-script names: romanized keys (audit/romanize.py) and matching across scripts."""

from __future__ import annotations

import csv
import sys
from functools import lru_cache
from pathlib import Path

import pandas as pd
import pytest

from audit import romanize as rz
from audit.config import MatchConfig
from audit.match import match
from audit.match.prepare import features
from audit.normalize.names import name_columns

NAMES = Path(__file__).parent / "benchmarks" / "data" / "xscript_names.csv"
sys.path.insert(0, str(Path(__file__).resolve().parent / "benchmarks"))
from crm_synth import generate  # noqa: E402


@lru_cache(maxsize=1)
def _background() -> pd.DataFrame:
    """Realistic weights need a population: 2,000 synthetic CRM contacts, Latin and CJK."""
    raw, _ = generate(2000, seed=7)
    return raw.assign(record_id=["bg:" + r for r in raw["record_id"]], source="bg")


def native(lang: str, text: str, family: bool = False) -> str | None:
    return rz.fold(lang, rz.reading(text, lang, family=family))


@pytest.mark.parametrize(
    ("lang", "hangul_or_han", "spellings", "family"),
    [
        ("ko", "김", ["Kim", "Gim", "KIM"], True),
        ("ko", "이", ["Lee", "Yi", "Rhee", "Rhie", "I"], True),
        ("ko", "박", ["Park", "Bak", "Pak"], True),
        ("ko", "최", ["Choi", "Choe"], True),
        ("ko", "정", ["Jung", "Jeong", "Chung"], True),
        ("ko", "윤", ["Yoon", "Yun"], True),
        ("ko", "민준", ["Min-jun", "Min Jun", "Minjun", "MINJUN"], False),
        ("ja", "佐藤", ["Satō", "Satou", "Satoh", "Sato"], True),
        ("ja", "大野", ["Ōno", "Ohno", "Oono", "Ono"], True),
        ("ja", "太郎", ["Tarō", "Taro", "Tarou"], False),
        ("zh", "王", ["Wáng", "Wang", "WANG"], True),
        ("zh", "伟", ["Wěi", "Wei"], False),
        ("zh", "偉", ["Wei"], False),  # traditional
        ("zh", "張", ["Zhang", "Chang"], True),  # pinyin and Wade-Giles (Taiwan)
        ("zh", "英文", ["Ying-wen", "Yingwen", "Ing-wen"], False),
    ],
)
def test_spellings_people_write_meet_the_native_name(lang, hangul_or_han, spellings, family):
    want = native(lang, hangul_or_han, family)
    assert want
    assert {rz.fold(lang, s) for s in spellings} == {want}


@pytest.mark.parametrize(
    ("lang", "a", "b"),
    [
        ("ko", "Kim", "Park"),
        ("ko", "Minjun", "Minji"),
        ("ja", "Sato", "Saito"),
        ("ja", "Kato", "Goto"),
        ("zh", "Wang", "Huang"),
        ("zh", "Li", "Liu"),
    ],
)
def test_different_names_keep_different_keys(lang, a, b):
    assert rz.fold(lang, a) != rz.fold(lang, b)


def test_kana_and_kanji_of_one_reading_share_a_key():
    assert native("ja", "タナカ") == native("ja", "たなか") == native("ja", "田中", True)
    assert native("ja", "タロウ") == native("ja", "太郎")
    assert native("ja", "ｻﾄｳ") == native("ja", "佐藤", True)  # half-width kana


def test_surname_readings_of_polyphonic_characters():
    assert native("zh", "曾", True) == rz.fold("zh", "Zeng")
    assert native("zh", "單", True) == rz.fold("zh", "Shan")


def _pairs(region: str, part: str) -> list[dict]:
    lines = (ln for ln in NAMES.open(encoding="utf-8") if not ln.startswith("#"))
    return [r for r in csv.DictReader(lines) if r["region"] == region and r["part"] == part]


@pytest.mark.parametrize(
    ("region", "part", "floor"),
    [
        ("kr", "family", 0.9),
        ("kr", "given", 0.9),
        ("jp", "family", 0.93),
        ("cn", "family", 0.97),
        ("cn", "given", 0.95),
        ("tw", "family", 0.95),
        ("tw", "given", 0.9),
    ],
)
def test_real_name_pairs_from_public_lists_agree(region, part, floor):
    """Name parts and the romanizations people use, from independent public lists (see the
    file's header): the share whose keys agree. Japanese given names written in kanji are left
    out: the dictionary knows one reading of many (about 1 in 5 of that list's spellings)."""
    lang = {"kr": "ko", "jp": "ja", "cn": "zh", "tw": "zh"}[region]
    rows = _pairs(region, part)
    assert len(rows) >= 25
    ok = sum(native(lang, r["native"], part == "family") == rz.fold(lang, r["latin"]) for r in rows)
    assert ok / len(rows) >= floor


def test_japanese_given_names_in_kana_agree():
    rows = _pairs("jp", "given")
    ok = sum(native("ja", r["kana"]) == rz.fold("ja", r["latin"]) for r in rows)
    assert ok / len(rows) >= 0.97


def test_whole_latin_name_read_in_both_orders():
    want = rz.native_keys("ko", "민준", "김")
    for given, family in (("Min Jun", "Kim"), ("Kim Min", "Jun"), ("Minjun", "Gim")):
        _, _, ka, kb = rz.latin_keys("ko", given, family)
        assert want[0] + want[1] in (ka, kb)
    # the common family name is taken as the family, whichever end it is written at
    assert rz.latin_keys("ko", "Kim Min", "Jun")[:2] == want


def _contacts(rows: list[tuple]) -> pd.DataFrame:
    cols = ["record_id", "full_name", "email", "phone", "company", "city", "address"]
    df = pd.DataFrame(rows, columns=cols)
    df["source"] = df["record_id"].str[0].map({"s": "sheet", "c": "crm"})
    return df


def test_same_person_in_two_scripts_is_found_and_lookalikes_are_not_merged():
    rows = [
        # the same people, one record in native script, one romanized (other fields shared)
        ("s01", "김민준", None, "010-1111-2222", "Hanbit", "Seoul", None),
        ("c01", "Minjun Kim", "mj@hanbit.kr", "010-1111-2222", "Hanbit", "Seoul", None),
        ("s02", "田中 太郎", None, "090-1234-5678", "Sakura", "Tokyo", None),
        ("c02", "Taro Tanaka", "t.tanaka@sakura.jp", "090-1234-5678", None, "Tokyo", None),
        ("s03", "タナカ タロウ", "t.tanaka@sakura.jp", None, None, "Tokyo", None),
        ("s04", "王伟", "wangwei@huaxin.cn", None, "Huaxin", "Beijing", None),
        ("c04", "Wáng Wěi", "wangwei@huaxin.cn", None, "Huaxin", "Beijing", None),
        ("s05", "張志明", None, "0912-345-678", "Formosa", "Taipei", None),
        ("c05", "Chang Chih-ming", None, "0912-345-678", "Formosa", "Taipei", None),
        # a colleague: same family name, same company, another person
        ("c06", "Seoyeon Kim", "sy@hanbit.kr", "010-5555-6666", "Hanbit", "Seoul", None),
        # a namesake in the same city: same name, nothing else in common
        ("c07", "Wang Wei", "ww88@mail.cn", "139-0000-1111", "Other Co", "Beijing", None),
        # a family member at the same address with the same home phone
        ("s08", "박지훈", None, "02-777-8888", None, "Busan", "12 Haeundae-ro"),
        ("c09", "Park Seo-yeon", None, "02-777-8888", None, "Busan", "12 Haeundae-ro"),
    ]
    m = match(pd.concat([_contacts(rows), _background()], ignore_index=True), MatchConfig())
    got = {(r.record_id_l, r.record_id_r): r.band for r in m.pairs.itertuples()}
    for pair in (("c01", "s01"), ("c02", "s02"), ("c04", "s04"), ("c05", "s05")):
        assert got.get(pair) in ("auto", "review"), pair
    assert got.get(("c02", "s03")) in ("auto", "review")  # kanji vs kana via the romaji
    for pair in (("c06", "s01"), ("c06", "c01"), ("c07", "s04"), ("c07", "c04"), ("c09", "s08")):
        assert got.get(pair, "no") != "auto", pair


def test_a_latin_only_file_gets_no_cross_script_features():
    df = _contacts([("c1", "John Smith", None, None, None, "York", None)] * 1)
    f = features(df)
    assert f["xa_ko"].isna().all() and f["xs_script"].isna().all()


def test_normalize_derives_a_readable_romanized_name():
    df = pd.DataFrame(
        {
            "first_name": ["민준", None, "Anna"],
            "last_name": ["김", None, "Lee"],
            "full_name": [None, "タナカ タロウ", None],
        }
    )
    out = name_columns(df)
    assert out["name_latn"].tolist()[:2] == ["ko: gim minjun", "ja: tanaka tarou"]
    assert pd.isna(out["name_latn"].iloc[2])


@pytest.mark.parametrize(
    ("kanji", "romaji"),
    [  # public figures' given names as they write them in Latin letters
        ("翔平", "Shohei"),  # 大谷翔平
        ("結弦", "Yuzuru"),  # 羽生結弦
        ("春樹", "Haruki"),  # 村上春樹
        ("駿", "Hayao"),  # 宮崎駿
        ("拓哉", "Takuya"),  # 木村拓哉
        ("真央", "Mao"),  # 浅田真央
        ("一輝", "Kazuki"),
        ("一輝", "Ikki"),  # one spelling, two readings
        ("一平", "Ippei"),  # 水原一平: 一 ichi + 平 hei
        ("菜々子", "Nanako"),  # 々 repeats the kanji before it
        ("浩二", "Koji"),
        ("聡太", "Sota"),  # 藤井聡太
    ],
)
def test_a_kanji_given_name_agrees_with_any_of_its_name_readings(kanji, romaji):
    assert rz.kanji_reads_as(kanji, rz.fold("ja", romaji))


@pytest.mark.parametrize(
    ("kanji", "romaji"),
    [
        ("翔平", "Kenji"),
        ("結弦", "Haruki"),
        ("一輝", "Takuya"),
        ("拓哉", "Kazuya"),
        ("春樹", "Shohei"),
    ],
)
def test_a_kanji_given_name_does_not_agree_with_another_name(kanji, romaji):
    assert not rz.kanji_reads_as(kanji, rz.fold("ja", romaji))


def test_kanji_given_names_of_a_public_list_agree_with_their_romaji():
    """The public given-name list (kanji spellings with the romaji of their reading): the
    readings built from single kanji accept most spellings, and rarely another name's romaji.
    UniDic's single reading agrees for about 1 in 5 of them."""
    rows = [r for r in _pairs("jp", "given") if r["native"]]
    assert len(rows) > 1000
    ok = sum(rz.kanji_reads_as(r["native"], rz.fold("ja", r["latin"])) for r in rows)
    assert ok / len(rows) >= 0.82
    # another name of the list for each row (the list is sorted by reading: take one far off)
    half = len(rows) // 2
    others = [r["latin"] for r in rows[half:] + rows[:half]]
    wrong = sum(
        rz.kanji_reads_as(r["native"], rz.fold("ja", o))
        for r, o in zip(rows, others, strict=True)
        if rz.fold("ja", o) != rz.fold("ja", r["latin"])
    )
    assert wrong / len(rows) <= 0.01


def test_seung_and_sung_stay_two_korean_given_names():
    """승 is spelled Seung and 성 Sung (or Seong): the fold keeps 'eu' apart from 'eo'."""
    assert native("ko", "승준") == rz.fold("ko", "Seung-jun") != rz.fold("ko", "Sung-jun")
    assert native("ko", "성준") == rz.fold("ko", "Sung-jun") == rz.fold("ko", "Seong-jun")


def test_japanese_people_with_kanji_given_names_are_found_and_their_lookalikes_are_not():
    """Cases written by hand from public name lists: the same person written in kanji and in
    romaji (given name read by one of its name readings, Latin name in either order), next to
    colleagues with the same family name at one company, namesakes in one city and family
    members at one address."""
    rows = [
        ("s01", "町田 収平", None, "03-1111-2222", "Sakura", "Tokyo", None),
        ("c01", "Machida Shuhei", "machida@sakura.jp", None, "Sakura", "Tokyo", None),
        ("s02", "大谷翔平", None, "090-3333-4444", "Hoshi", "Osaka", None),
        ("c02", "Shohei Ohtani", "ohtani@hoshi.jp", "090-3333-4444", None, "Osaka", None),
        ("s03", "佐藤 一輝", "ikki@kaze.jp", None, "Kaze", "Nagoya", None),
        ("c03", "Ikki Sato", "ikki@kaze.jp", None, None, "Nagoya", None),
        # a colleague of 佐藤 一輝: same family name and company, another given name
        ("c04", "Sato Kenji", "kenji@kaze.jp", None, "Kaze", "Nagoya", None),
        # colleagues written family first in Latin letters, sharing company and city
        ("c05", "Kwon Gahee", "gahee@hanbit.kr", None, "Hanbit", "Seoul", None),
        ("c06", "Kwon Baekhyun", None, None, "Hanbit", "Seoul", None),
        ("s06", "권백현", None, "010-9999-0000", None, "Seoul", None),
        # a namesake of 町田 収平 in the same city, at another company
        ("c07", "Shuhei Machida", "shuhei.m@other.jp", "080-5555-6666", "Other", "Tokyo", None),
        # family members at one address with one home phone
        ("s08", "鈴木 一郎", None, "045-777-8888", None, "Yokohama", "1-2-3 Minato"),
        ("c09", "Hanako Suzuki", "hanako@mail.jp", "045-777-8888", None, "Yokohama", None),
        ("s10", "명승준", None, "02-123-4567", None, "Busan", "12 Haeundae-ro"),
        ("c11", "Sung-jun Myung", "sj@mail.kr", "02-123-4567", None, "Busan", None),
    ]
    m = match(pd.concat([_contacts(rows), _background()], ignore_index=True), MatchConfig())
    got = {(r.record_id_l, r.record_id_r): r.band for r in m.pairs.itertuples()}
    for pair in (("c01", "s01"), ("c02", "s02"), ("c03", "s03")):
        assert got.get(pair) in ("auto", "review"), pair
    lookalikes = [
        ("c04", "s03"),
        ("c03", "c04"),
        ("c05", "c06"),
        ("c05", "s06"),
        ("c01", "c07"),
        ("c07", "s01"),
        ("c09", "s08"),
        ("c11", "s10"),
    ]
    for pair in lookalikes:
        assert got.get(pair, "no") != "auto", pair
