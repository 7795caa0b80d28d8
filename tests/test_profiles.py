"""Contract test over every registered export profile (STYLE 2.6)."""

from __future__ import annotations

from pathlib import Path

import pytest

from audit import schema
from audit.config import SourceConfig
from audit.sources import read_sources
from audit.sources.detect import candidates
from audit.sources.profiles import PROFILES

FIXTURES = Path(__file__).parent / "fixtures" / "sources"
CJK = ("김민준", "佐藤 花子", "王伟")


def _fixture(name: str) -> Path:
    files = sorted((FIXTURES / name).glob("*"))
    assert files, f"profile {name} has no fixture under tests/fixtures/sources/{name}/"
    return files[0]


@pytest.mark.parametrize("name", PROFILES.names())
def test_profile_fixture_detects_to_this_profile_only(name):
    path = _fixture(name)
    ingest = read_sources([SourceConfig(name="s", path=str(path))], base_dir=path.parent)
    info = ingest.files.iloc[0]
    assert info["profile"] == name
    assert info["profile_candidates"] == [name]
    prof = PROFILES.get(name)
    assert info["entity"] == prof.entity
    # every mapped column is a canonical column of the entity
    assert set(info["mapping"].values()) <= schema.mappable(prof.entity)
    # accounting invariant
    for c in ingest.counts.to_dict("records"):
        assert c["rows_read"] == c["rows_ingested"] + c["rows_rejected"]
    frame = ingest.records[prof.entity]
    assert len(frame) == 4
    assert list(frame.columns[: len(schema.columns(prof.entity))]) == schema.columns(prof.entity)
    # nothing read is dropped: the extra column carries the unmapped ones
    if info["unmapped"]:
        assert frame["extra"].notna().all()


@pytest.mark.parametrize("name", PROFILES.names())
def test_cjk_text_survives_byte_for_byte(name):
    path = _fixture(name)
    ingest = read_sources([SourceConfig(name="s", path=str(path))], base_dir=path.parent)
    frame = ingest.records[PROFILES.get(name).entity]
    text = "\n".join(str(v) for v in frame.drop(columns=["record_id"]).to_numpy().ravel())
    wanted = ("佐藤",) if name == "kintone.customers" else CJK
    for w in wanted:
        if any(
            w in line
            for line in path.read_bytes()
            .decode("cp932" if name.startswith("kintone") else "utf-8-sig")
            .splitlines()
        ):
            assert w in text


def test_salesforce_footer_is_reported_not_read():
    path = _fixture("salesforce.contacts")
    ingest = read_sources([SourceConfig(name="sf", path=str(path))], base_dir=path.parent)
    assert len(ingest.records["contacts"]) == 4
    footers = ingest.issues[ingest.issues["rule_id"] == "source.row.footer"]
    assert len(footers) == 3 and set(footers["severity"]) == {"info"}
    c = ingest.counts.iloc[0]
    assert (c["rows_read"], c["rows_ingested"], c["rows_rejected"]) == (7, 4, 3)
    # IsEmailBounced = true is the vendor's own hard bounce, kept with the field it came from
    c0 = ingest.records["contacts"].iloc[0]
    assert (c0["email_bounce"], c0["email_bounce_reason"]) == ("hard", "IsEmailBounced: true")


def test_shopify_apostrophes_are_stripped_and_leading_zeros_kept():
    path = _fixture("shopify.customers")
    ingest = read_sources([SourceConfig(name="sh", path=str(path))], base_dir=path.parent)
    c = ingest.records["contacts"]
    assert c["external_id"].tolist()[:2] == ["1000", "1001"]
    assert c["postal_code"].tolist()[1] == "04524"
    assert c["phone"].tolist()[3] == "+1 415 555 0100"


def test_mailchimp_status_comes_from_the_file_kind():
    for kind in ("subscribed", "unsubscribed", "cleaned"):
        path = _fixture(f"mailchimp.{kind}")
        ingest = read_sources([SourceConfig(name="m", path=str(path))], base_dir=path.parent)
        assert set(ingest.records["contacts"]["email_status"]) == {kind}


def test_stripe_metadata_columns_go_to_extra():
    path = _fixture("stripe.customers")
    ingest = read_sources([SourceConfig(name="st", path=str(path))], base_dir=path.parent)
    assert (
        '"Custom Note (metadata)": "Custom Note (metadata)-1"'
        in ingest.records["contacts"]["extra"].iloc[0]
    )


def test_kintone_cp932_is_decoded():
    path = _fixture("kintone.customers")
    ingest = read_sources([SourceConfig(name="k", path=str(path))], base_dir=path.parent)
    assert ingest.files.iloc[0]["encoding"] == "cp932"
    assert ingest.records["contacts"]["company"].iloc[0] == "株式会社さくら"


def test_user_profile_file_and_column_override(tmp_path):
    (tmp_path / "p.yaml").write_text(
        "name: acme.people\nentity: contacts\ndetect: [[Kunde, Mail]]\n"
        "columns: {full_name: [Kunde], email: [Mail]}\n",
        encoding="utf-8",
    )
    (tmp_path / "x.csv").write_text("Kunde,Mail,Tel\n김민준,k@example.kr,010\n", encoding="utf-8")
    src = SourceConfig(name="a", path="x.csv", profile="p.yaml", columns={"Tel": "phone"})
    ingest = read_sources([src], base_dir=tmp_path)
    row = ingest.records["contacts"].iloc[0]
    assert (row["full_name"], row["email"], row["phone"]) == ("김민준", "k@example.kr", "010")
    assert ingest.files.iloc[0]["profile"] == "acme.people"


def test_unknown_profile_name_is_a_config_error(tmp_path):
    from audit.errors import ConfigError

    (tmp_path / "x.csv").write_text("a,b\n1,2\n", encoding="utf-8")
    with pytest.raises(ConfigError, match=r"hubspot\.contacts"):
        read_sources(
            [SourceConfig(name="a", path="x.csv", profile="hubspot.contact")], base_dir=tmp_path
        )


def test_generic_header_synonyms():
    assert candidates(["이름", "이메일"]) == []


def test_typeform_html_in_question_headers(tmp_path):
    (tmp_path / "t.csv").write_text(
        "#,<strong>What's your email?</strong>,<em>이름</em>,Submit Date (UTC),Network ID\n"
        "abc,kim@example.co.kr,김민준,2024-03-05 05:03:04,n1\n",
        encoding="utf-8",
    )
    ingest = read_sources([SourceConfig(name="t", path="t.csv")], base_dir=tmp_path)
    assert ingest.files.iloc[0]["profile"] == "typeform.responses"
    row = ingest.records["contacts"].iloc[0]
    assert (row["email"], row["full_name"]) == ("kim@example.co.kr", "김민준")


def test_google_multi_value_cells_give_the_first_value_and_keep_the_cell(tmp_path):
    # Google CSV joins a label's several values with " ::: " (legacy and current exports)
    f = tmp_path / "contacts.csv"
    f.write_text(
        "Name,Given Name,Family Name,Group Membership,E-mail 1 - Type,E-mail 1 - Value,"
        "Phone 1 - Type,Phone 1 - Value\n"
        "Ravi Menon,Ravi,Menon,* myContacts,* Work,sales-rec@1and1.com ::: ravi@example.in,"
        "Mobile,+919020505839 ::: +919847501915 ::: +918714202351\n"
        "Anu Nair,Anu,Nair,* myContacts,* Home,anu@example.in,Mobile,+91 95394 47413\n",
        encoding="utf-8",
    )
    ingest = read_sources([SourceConfig(name="g", path=str(f))], base_dir=tmp_path)
    info = ingest.files.iloc[0]
    assert info["profile"] == "google.contacts"
    rec = ingest.records["contacts"]
    assert rec["phone"].tolist() == ["+919020505839", "+91 95394 47413"]
    assert rec["email"].tolist() == ["sales-rec@1and1.com", "anu@example.in"]
    assert "+918714202351" in rec["extra"].iloc[0] and "ravi@example.in" in rec["extra"].iloc[0]
    assert any("':::'" in w for w in info["warnings"])
