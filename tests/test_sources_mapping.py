"""Headers as real exports and hand-made sheets write them: near-miss vendor exports, legacy
abbreviations, prefixes, and the required/optional markers of import templates."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner

from audit.cli import cli

# Salesforce Data Export Contact.csv field order (research/source_formats.md §3.2, as public
# SOQL and field lists show it), exported without AccountId: no signature matched in full.
SF_CONTACT_NO_ACCOUNT = (
    "Id,IsDeleted,MasterRecordId,LastName,FirstName,Salutation,Name,OtherStreet,OtherCity,"
    "MailingStreet,MailingCity,MailingState,MailingPostalCode,MailingCountry,Phone,Fax,"
    "MobilePhone,HomePhone,Email,Title,Department,LeadSource,OwnerId,CreatedDate,"
    "LastModifiedDate,LastActivityDate,EmailBouncedReason,EmailBouncedDate,IsEmailBounced\n"
    "0035g00000A1bCdAAJ,false,,Kim,Minjun,Mr.,Minjun Kim,,,1 Teheran-ro,Seoul,,06164,"
    "South Korea,+82 2 555 0100,,+82 10 1234 5678,,minjun@example.kr,CTO,IT,Web,"
    "0055g000001AbCdAAE,2025-01-05T09:00:00.000Z,2025-06-01T09:00:00.000Z,2025-05-30,,,false\n"
)


def _inspect(runner: CliRunner, path: Path) -> list[dict]:
    res = runner.invoke(cli, ["sources", "inspect", str(path), "--format", "json"])
    assert res.exit_code == 0, res.stderr
    return json.loads(res.stdout)


def test_a_salesforce_export_missing_one_signature_column_is_still_salesforce(
    runner: CliRunner, tmp_path: Path
) -> None:
    f = tmp_path / "Contact.csv"
    f.write_text(SF_CONTACT_NO_ACCOUNT, encoding="utf-8")
    (rec,) = _inspect(runner, f)
    assert rec["profile"] == "salesforce.contacts"
    assert any(
        "looks like salesforce.contacts: 3 of 4 signature columns; AccountId missing" in w
        for w in rec["warnings"]
    )
    m = rec["mapping"]
    assert m["MobilePhone"] == "mobile"
    assert (m["MailingStreet"], m["MailingCity"], m["MailingCountry"]) == (
        "address",
        "city",
        "country",
    )
    assert "MobilePhone" not in rec["unmapped"]
    # the text summary says it too
    res = runner.invoke(cli, ["sources", "inspect", str(f)])
    assert "looks like salesforce.contacts" in res.stdout


def test_a_generic_header_that_misses_every_signature_is_not_forced_onto_a_profile(
    runner: CliRunner, tmp_path: Path
) -> None:
    f = tmp_path / "list.csv"
    f.write_text("Name,Email,Phone\nKim,kim@example.com,010-1234-5678\n", encoding="utf-8")
    (rec,) = _inspect(runner, f)
    assert rec["profile"] is None
    assert not any("looks like" in w for w in rec["warnings"])


def test_legacy_abbreviated_and_prefixed_headers_map(runner: CliRunner, tmp_path: Path) -> None:
    f = tmp_path / "legacy_crm.csv"
    f.write_text(
        "Cntct_ID,Cntct_Fst,Cntct_Lst,Cntct_Eml,Cntct_Ph,Mailing Street,MailingCity,Company Phone\n"
        "C-17,Ji-eun,Lee,lee@example.kr,02-555-0100,12 Sejong-daero,Seoul,02-555-0199\n",
        encoding="utf-8",
    )
    (rec,) = _inspect(runner, f)
    assert rec["mapping"] == {
        "Cntct_ID": "external_id",
        "Cntct_Fst": "first_name",
        "Cntct_Lst": "last_name",
        "Cntct_Eml": "email",
        "Cntct_Ph": "phone",
        "Mailing Street": "address",
        "MailingCity": "city",
    }
    # a company's phone is not the contact's phone: kept, not guessed
    assert rec["unmapped"] == ["Company Phone"]


def test_japanese_import_template_markers_are_ignored(runner: CliRunner, tmp_path: Path) -> None:
    f = tmp_path / "取引先リスト.csv"
    f.write_text(
        "取引先名(必須),担当者名（必須）,メールアドレス*,電話番号（任意）,担当営業,備考\n"
        "株式会社さくら,佐藤 花子,hanako@example.jp,03-1234-5678,鈴木,展示会\n",
        encoding="utf-8",
    )
    (rec,) = _inspect(runner, f)
    assert rec["mapping"] == {
        "取引先名(必須)": "company",
        "担当者名（必須）": "full_name",
        "メールアドレス*": "email",
        "電話番号（任意）": "phone",
        "担当営業": "owner",
    }
    assert rec["unmapped"] == ["備考"]


def test_a_near_miss_that_maps_less_than_the_header_names_is_not_used(
    runner: CliRunner, tmp_path: Path
) -> None:
    # a hand-made deals sheet shares 3 of 4 columns with a Salesforce opportunity report,
    # but its "Deal Name" is only understood by the generic header names
    f = tmp_path / "deals.csv"
    f.write_text(
        "Deal Name,Stage,Amount,Close Date\nAcme renewal,won,12000,2026-01-10\n", encoding="utf-8"
    )
    (rec,) = _inspect(runner, f)
    assert rec["profile"] is None
    assert rec["mapping"]["Deal Name"] == "name"
    assert any("looks like salesforce.opportunities" in w for w in rec["warnings"])


def test_two_equally_near_profiles_map_by_neither_and_say_so(monkeypatch) -> None:
    # two list tools whose exports share a shape: a header missing one column of each
    # signature must not be guessed to belong to either
    import importlib

    from audit.registry import Registry
    from audit.sources.profiles import Profile

    detect_mod = importlib.import_module("audit.sources.detect")

    reg: Registry[Profile] = Registry("profile")
    for name, extra in (("tool_a.members", "Tool A ID"), ("tool_b.members", "Tool B ID")):
        reg.add(
            name,
            Profile(
                name=name,
                entity="contacts",
                detect=[["Email", "Full Name", "Signup Date", extra]],
                columns={"email": ["Email"], "full_name": ["Full Name"]},
            ),
        )
    monkeypatch.setattr(detect_mod, "PROFILES", reg)
    prof, note = detect_mod.detect(["Email", "Full Name", "Signup Date", "Phone"])
    assert prof is None
    assert note is not None and "tool_a.members or tool_b.members" in note


def test_cjk_outlook_and_phone_export_headers_map(runner: CliRunner, tmp_path: Path) -> None:
    # the Chinese Outlook CSV writes 主要电子邮件 / 移动电话号码; Korean Outlook 전자 메일 주소 /
    # 휴대폰; Japanese Outlook 電子メール アドレス / 携帯電話
    cases = {
        "zh.csv": ("名字,姓氏,主要电子邮件,移动电话号码\n丽,王,li.wang@example.cn,13912345678\n"),
        "ko.csv": ("이름,전자 메일 주소,휴대폰 번호\n김민준,minjun@example.kr,010-1234-5678\n"),
        "ja.csv": (
            "氏名,電子メール アドレス,携帯電話番号\n佐藤 花子,hanako@example.jp,090-1234-5678\n"
        ),
    }
    for name, text in cases.items():
        f = tmp_path / name
        f.write_text(text, encoding="utf-8")
        (rec,) = _inspect(runner, f)
        assert {"email", "mobile"} <= set(rec["mapping"].values()), (name, rec["mapping"])


def test_a_name_column_per_script_maps_the_first_and_keeps_the_other(
    runner: CliRunner, tmp_path: Path
) -> None:
    f = tmp_path / "cards.csv"
    f.write_text(
        "NAME_JA,NAME_EN,AFFILIATION,EMAIL\n飯島ゆん,Yun Iijima,キャラ班,yun@example.jp\n",
        encoding="utf-8",
    )
    (rec,) = _inspect(runner, f)
    assert rec["mapping"]["NAME_JA"] == "full_name"
    assert "NAME_EN" in rec["unmapped"]  # kept in extra, not dropped


def test_an_account_list_is_read_as_companies(runner: CliRunner, tmp_path: Path) -> None:
    f = tmp_path / "accounts.csv"
    f.write_text(
        "取引先ID(必須),取引先名(必須),住所,電話番号,業種,URL,従業員数\n"
        "12927008,ヤマガタ株式会社,神奈川県横浜市西区高島2-6-34,045-461-4000,印刷,"
        "https://yamagata-corp.jp/,250\n",
        encoding="utf-8",
    )
    (rec,) = _inspect(runner, f)
    assert rec["entity"] == "companies"
    assert rec["mapping"]["取引先名(必須)"] == "name"
    assert rec["mapping"]["従業員数"] == "employees"
    # a few columns only, still no person in it: an account list
    g = tmp_path / "short.csv"
    g.write_text(
        "Company Name,Website,Phone\nAcme Towing LLC,acmetowing.com,(407) 261-8810\n",
        encoding="utf-8",
    )
    assert _inspect(runner, g)[0]["entity"] == "companies"
    # a customer sheet naming only the company (company, CSAT) stays a contact list
    k = tmp_path / "customers.csv"
    k.write_text("Company Name,Phone\nAcme Towing LLC,(407) 261-8810\n", encoding="utf-8")
    assert _inspect(runner, k)[0]["entity"] == "contacts"
    # the same company column next to a person's name is a contact list
    h = tmp_path / "people.csv"
    h.write_text(
        "会社名,担当者名,電話番号\nヤマガタ株式会社,佐藤 花子,045-461-4000\n", encoding="utf-8"
    )
    assert _inspect(runner, h)[0]["entity"] == "contacts"
    # an orders table with a company column stays orders
    o = tmp_path / "orders.csv"
    o.write_text(
        "company,product,amount,currency,status,ordered_at\nAcme,Pro,10,USD,paid,2026-01-02\n",
        encoding="utf-8",
    )
    assert _inspect(runner, o)[0]["entity"] == "orders"
