"""Matching that is safe on B2B data: shared phones and inboxes, conflicting identities, non-values.

The fixture tests/fixtures/match/b2b_shop_contacts.csv is written the way a shop's customer
exports look (a company's colleagues on one switchboard number and one email domain, a shared
info@ inbox, Excel's 3.60E+11 in place of phone numbers, a placeholder row exported twice) and
says in its `note` column which rows are really the same person. It is matched on top of a few
hundred generated background contacts so the unsupervised weights are realistic.
"""

from __future__ import annotations

import itertools
import json
from pathlib import Path

import pandas as pd
from click.testing import CliRunner

from audit.cli import cli
from tests.test_match import _pair, _run

FIXTURE = Path(__file__).parent / "fixtures" / "match" / "b2b_shop_contacts.csv"
COLUMNS = {
    "First Name": "first_name",
    "Last Name": "last_name",
    "Email": "email",
    "Company": "company",
    "Phone": "phone",
    "Address1": "address",
    "City": "city",
    "Zip": "postal_code",
}
SAME_PERSON = {("t:1", "t:8"), ("t:3", "t:9"), ("t:15", "t:16"), ("t:19", "t:20")}


def _fixture_match():
    raw = pd.read_csv(FIXTURE, dtype=str, keep_default_na=False).replace("", None)
    assert raw["id"].tolist() == [str(k) for k in range(1, len(raw) + 1)]
    cases = {canon: raw[col].tolist() for col, canon in COLUMNS.items()}
    return raw, _run(cases)


def _ours(m) -> pd.DataFrame:
    p = m.pairs
    return p[p.record_id_l.str.startswith("t:") & p.record_id_r.str.startswith("t:")]


def test_colleagues_on_one_switchboard_and_domain_are_never_auto_merged():
    # 1-7: seven named colleagues; 22-24: three colleagues exported without names
    raw, m = _fixture_match()
    ours = _ours(m)
    email = dict(zip([f"t:{k}" for k in raw["id"]], raw["Email"].str.lower(), strict=True))
    role = {"info", "office", "sales"}
    for row in ours[ours.band == "auto"].itertuples():
        a, b = email[row.record_id_l], email[row.record_id_r]
        personal = a and b and a.split("@")[0] not in role and b.split("@")[0] not in role
        assert not (personal and a != b), (row.record_id_l, row.record_id_r, row.why)
    colleagues = [f"t:{k}" for k in (*range(1, 8), 22, 23, 24)]
    for a, b in itertools.combinations(colleagues, 2):
        p = _pair(m, a, b)
        assert p is None or p.band != "auto", (a, b, p.why)


def test_true_duplicates_in_the_b2b_file_are_still_found():
    _, m = _fixture_match()
    for a, b in sorted(SAME_PERSON):
        p = _pair(m, a, b)
        assert p is not None, (a, b)
    assert _pair(m, "t:1", "t:8").band == "auto"
    assert _pair(m, "t:19", "t:20").band == "auto"  # Bob is Robert, same mailbox
    household = _pair(m, "t:19", "t:21")
    assert household is None or household.band != "auto"


def test_excel_mangled_phones_and_placeholders_never_match():
    _, m = _fixture_match()
    # 13 and 14 share nothing but 3.60E+11; 17 and 18 are a placeholder row twice
    assert _pair(m, "t:13", "t:14") is None
    assert _pair(m, "t:17", "t:18") is None
    for p in _ours(m).itertuples():
        assert "phone exact" not in p.why or {p.record_id_l, p.record_id_r} <= {
            f"t:{k}" for k in (1, 2, 3, 4, 5, 6, 7, 8, 9, 19, 20, 21)
        }, p
    # the info@ inbox is shared by three people: never auto, and the explanation says why
    for a, b in itertools.combinations(["t:10", "t:11", "t:12"], 2):
        p = _pair(m, a, b)
        assert p is None or p.band != "auto", (a, b, p.why)


def test_pair_explanation_names_the_guards_that_fired():
    _, m = _fixture_match()
    p = _pair(m, "t:3", "t:9")  # Kate / Kathryn on one address at one shared switchboard
    assert "phone shared by 7 people: weak" in p.why or "phone shared by 8 people" in p.why
    ours = _ours(m)
    held = ours[ours.why.str.contains("kept out of auto", regex=False)]
    assert (held.band != "auto").all()


def test_conflicting_identities_stay_out_of_auto_however_much_else_agrees():
    m = _run(
        {
            # same surname, phone, address, company; two different personal mailboxes
            "first_name": ["Maria", "Maria", "Jon", "Jonathan", "Lee", "Kim"],
            "last_name": ["Okafor", "Okafor", "Brandt", "Brandt", "Park", "Park"],
            "email": [
                "maria.okafor@gmail.com",
                "m.okafor@okafor-design.com",
                "jb@brandt.io",
                "jb@brandt.io",
                "lee.park@naver.com",
                "lee.park@naver.com",
            ],
            "phone": ["+1 415 555 0110"] * 2 + ["+1 415 555 0120"] * 2 + ["+1 415 555 0130"] * 2,
            "address": ["5 Elm St"] * 2 + ["9 Oak Ave"] * 2 + ["3 Pine Rd"] * 2,
        }
    )
    maria = _pair(m, "t:1", "t:2")
    assert maria is not None and maria.band == "review"
    assert "different personal emails: kept out of auto" in maria.why
    jon = _pair(m, "t:3", "t:4")  # a prefix of the name, one mailbox: the same person
    assert jon is not None and jon.band == "auto"
    park = _pair(m, "t:5", "t:6")  # Lee and Kim: two first names on one mailbox
    assert park is None or (park.band != "auto" and "different first names" in park.why)


def test_twenty_contacts_and_an_id_only_contact_exported_twice_audit_cleanly(tmp_path):
    """Issue #14: the pair explanation of two records with nothing but an id crashed (exit 4)."""
    rows = ["id,first_name,last_name,email,phone"]
    names = ["Ann Lee", "Bob Marsh", "Cara Ng", "Dan Ortiz", "Eve Park", "Finn Quinn", "Gus Reed"]
    names += ["Hana Sato", "Ivan Tran", "Jill Ude", "Kai Vance", "Lia West", "Max Xu", "Nia Young"]
    names += ["Oli Zane", "Pam Abbott", "Quin Baker", "Rex Cole", "Sue Dean", "Tom Eliot"]
    for k, full in enumerate(names, start=1):
        first, last = full.split()
        rows.append(f"{k},{first},{last},{first.lower()}@shop{k}.com,+1 415 555 {1000 + k}")
    rows += ["99,,,,", "99,,,,"]
    (tmp_path / "c.csv").write_text("\n".join(rows) + "\n", encoding="utf-8")
    cfg = tmp_path / "c.yaml"
    cfg.write_text(
        "version: 1\nsources:\n  - name: crm\n    path: c.csv\n    entity: contacts\n"
        "    columns: {id: external_id}\n",
        encoding="utf-8",
    )
    res = CliRunner().invoke(
        cli, ["audit", str(cfg), "--out", str(tmp_path / "runs"), "--format", "json"]
    )
    assert res.exit_code == 0, res.output
    run_dir = Path(json.loads(res.stdout)["run_dir"])
    dup = pd.read_csv(run_dir / "duplicates.csv", dtype=str, keep_default_na=False)
    assert len(dup) == 1
    assert dup["rule_id"].iloc[0] == "match.exact.external_id"


def test_cells_earlier_stages_flagged_are_not_matched_on():
    """A value the validate stage called a placeholder is no evidence, even if it looks real."""
    from audit import schema
    from audit.config import MatchConfig
    from audit.match import match
    from tests.factories import make_contacts
    from tests.test_match import _background_normalized, _normalized

    mine = _normalized(
        make_contacts(
            first_name=["Ines", "Ines"],
            last_name=["Duarte", "Duarte"],
            phone=["+1 415 555 0199", "+1 415 555 0199"],
            address=["1 Main St", "1 Main St"],
            postal_code=["94105", "94105"],
        )
    )
    both = pd.concat([mine, _background_normalized(400)], ignore_index=True)
    flagged = schema.empty_issues()
    flagged = pd.DataFrame(
        {
            "record_id": ["t:1", "t:2", "t:1", "t:2"],
            "field": ["phone", "phone", "address", "address"],
            "rule_id": ["contacts.phone.placeholder"] * 2 + ["normalize.address.unparseable"] * 2,
        }
    ).reindex(columns=flagged.columns)
    plain = match(both, MatchConfig())
    told = match(both, MatchConfig(), issues=flagged)
    assert _pair(plain, "t:1", "t:2") is not None  # name + phone + address + postcode agree
    p = _pair(told, "t:1", "t:2")  # a name and a postcode alone: not a duplicate
    assert p is None or ("phone exact" not in p.why and "address exact" not in p.why), p.why
