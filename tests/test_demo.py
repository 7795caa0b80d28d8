"""The demo workspace: deterministic, readable by real readers, truth pointing at real rows."""

from __future__ import annotations

import csv
import email
import hashlib
import itertools
import mailbox
from email import policy
from pathlib import Path

import openpyxl
import pandas as pd
import phonenumbers
import pytest
from email_validator import EmailNotValidError, validate_email

from audit.config import load_config
from audit.demo import generate_workspace, workspace
from audit.demo.evaluate import NOT_FLAGGED, RULE_KINDS, evaluate
from audit.demo.problems import EMERGENT, PROBLEM_KINDS
from audit.demo.truth import mailbox_key

SIZE = 300


@pytest.fixture(scope="module")
def ws(tmp_path_factory: pytest.TempPathFactory):
    return generate_workspace(tmp_path_factory.mktemp("demo") / "ws", size=SIZE, seed=7)


@pytest.fixture(scope="module")
def ent(ws) -> pd.DataFrame:
    return pd.read_csv(ws.entities, dtype=str, keep_default_na=False)


@pytest.fixture(scope="module")
def prob(ws) -> pd.DataFrame:
    return pd.read_csv(ws.problems, dtype=str, keep_default_na=False)


def _digest(root: Path) -> dict[str, str]:
    return {
        str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(root.rglob("*"))
        if p.is_file()
    }


def test_same_seed_gives_byte_identical_files(ws, tmp_path: Path) -> None:
    again = generate_workspace(tmp_path / "again", size=SIZE, seed=7)
    assert _digest(again.root) == _digest(ws.root)
    other = generate_workspace(tmp_path / "other", size=SIZE, seed=8)
    a, b = _digest(other.root), _digest(ws.root)
    assert a.keys() == b.keys()
    assert a["data/" + workspace.HUBSPOT_CONTACTS] != b["data/" + workspace.HUBSPOT_CONTACTS]


def test_config_validates_and_names_known_profiles(ws, repo: Path) -> None:
    cfg = load_config(ws.config)
    assert str(cfg.as_of) == workspace.AS_OF
    assert cfg.kpis.period == workspace.PERIOD
    profiles = {s.profile for s in cfg.sources} - {"auto", "none"}
    assert profiles == {
        "hubspot.contacts", "hubspot.deals", "stripe.customers", "stripe.subscriptions",
        "mailchimp.cleaned", "mailchimp.subscribed", "mailchimp.unsubscribed", "zendesk.tickets",
    }  # fmt: skip
    shipped = {p.stem for p in (repo / "audit" / "sources" / "profiles").glob("*.yaml")}
    assert profiles <= shipped
    for s in cfg.sources:
        assert cfg.resolve(s.path).is_file(), s.path


def test_configs_demo_yaml_is_the_generated_config(repo: Path) -> None:
    expected = workspace.config_text("../crm-audit-demo/", "../crm-audit-demo/reports")
    assert (repo / "configs" / "demo.yaml").read_text(encoding="utf-8") == expected
    load_config(repo / "configs" / "demo.yaml")


def test_korean_csv_is_cp949_with_korean_headers(ws) -> None:
    raw = (ws.data_dir / workspace.KOREAN_CSV).read_bytes()
    with pytest.raises(UnicodeDecodeError):
        raw.decode("utf-8")
    text = raw.decode("cp949")
    assert text.startswith("이름,이메일,전화번호,회사")
    assert "\r\n" in text
    df = pd.read_csv(ws.data_dir / workspace.KOREAN_CSV, encoding="cp949", dtype=str)
    assert df["이름"].str.contains("[가-힣]").mean() > 0.5


def test_hubspot_export_quotes_every_field(ws) -> None:
    first = (ws.data_dir / workspace.HUBSPOT_CONTACTS).read_text(encoding="utf-8").splitlines()[0]
    assert first.startswith('"Record ID","First Name","Last Name","Email","Phone Number"')
    with (ws.data_dir / workspace.HUBSPOT_CONTACTS).open(encoding="utf-8") as f:
        rows = list(csv.reader(f))
    assert len({len(r) for r in rows}) == 1


def test_workbook_has_a_title_row_and_two_sheets(ws, ent) -> None:
    wb = openpyxl.load_workbook(ws.data_dir / workspace.WORKBOOK)
    assert wb.sheetnames == list(workspace.WORKBOOK_SHEETS)
    sheet = wb[workspace.WORKBOOK_SHEETS[0]]
    assert sheet["A1"].value == "2026年度 顧客一覧（社外秘）"
    assert any(str(r).startswith("A1:") for r in sheet.merged_cells.ranges)
    assert sheet["B3"].value == "氏名"
    for name in workspace.WORKBOOK_SHEETS:
        header_rows = 3 if name == workspace.WORKBOOK_SHEETS[0] else 1
        n_data = wb[name].max_row - header_rows
        truth = ent[ent["sheet"] == name]
        assert sorted(truth["source_row"].astype(int)) == list(range(1, n_data + 1))


def test_mbox_holds_mail_bounces_and_an_autoreply(ws) -> None:
    box = mailbox.mbox(ws.data_dir / workspace.MBOX)
    truth = pd.read_csv(ws.truth_dir / "mail.csv", dtype=str, keep_default_na=False)
    assert len(box) == len(truth)
    kinds = set(truth["kind"])
    assert {"mail", "bounce_hard", "bounce_soft", "autoreply"} <= kinds
    for i, msg in enumerate(box):
        row = truth.iloc[i]
        m = email.message_from_bytes(msg.as_bytes(), policy=policy.default)
        if row["kind"].startswith("bounce"):
            assert m.get_content_type() == "multipart/report"
            status = next(p for p in m.walk() if p.get_content_type() == "message/delivery-status")
            blocks = status.get_payload()
            recipient = blocks[1]
            assert recipient["Status"] == row["status"]
            assert recipient["Action"] == "failed"
            assert recipient["Status"][0] == ("5" if row["kind"] == "bounce_hard" else "4")
            assert row["recipient"] in recipient["Final-Recipient"]
        elif row["kind"] == "autoreply":
            assert m["Auto-Submitted"] == "auto-replied"
            assert m.get_content_type() == "text/plain"
        else:
            assert m["From"] and m["To"] and m["Message-ID"]
            m.get_content()  # decodes (base64 UTF-8 bodies included)


def test_every_contact_row_has_one_person_and_problems_point_at_real_rows(ws, ent, prob) -> None:
    files = ent[ent["header"] == ""].groupby(["source", "sheet"])["source_row"]
    for (source, _sheet), rows in files:
        rows = sorted(rows.astype(int))
        assert rows == list(range(1, len(rows) + 1)), source
    known = set(zip(ent["source"], ent["source_row"], strict=True))
    business = {"hubspot_deals", "orders", "zendesk"}
    for source, row in zip(prob["source"], prob["source_row"], strict=True):
        if source not in business:
            assert (source, row) in known
    assert set(prob["problem_kind"]) <= set(PROBLEM_KINDS)
    assert set(RULE_KINDS.values()) <= {*PROBLEM_KINDS, "email_repeated_soft_bounce"}


def test_enough_of_every_problem_and_duplicate_variant(ws, ent, prob) -> None:
    counts = prob["problem_kind"].value_counts()
    for kind in set(PROBLEM_KINDS) - set(EMERGENT):
        assert counts.get(kind, 0) >= 1, kind
    variants = set(itertools.chain.from_iterable(v.split("+") for v in ent["variant"] if v))
    assert {"name_typo", "name_order", "company_suffix", "fullwidth_digits"} <= variants
    people = ent[ent["person_id"].str.startswith("P")]
    per_person = people.groupby("person_id")["source"].nunique()
    assert (per_person >= 3).sum() >= 5  # the same person in spreadsheet, inbox and Stripe


def test_households_and_namesakes_are_different_persons(ws) -> None:
    persons = pd.read_csv(ws.truth_dir / "persons.csv", dtype=str, keep_default_na=False)
    by_id = persons.set_index("person_id")
    house = persons[persons["household_of"] != ""]
    same = persons[persons["namesake_of"] != ""]
    assert len(house) and len(same)
    for _, p in house.iterrows():
        a = by_id.loc[p["household_of"]]
        assert p["phone"] == a["phone"] and p["full_name"] != a["full_name"]
        assert p["email"] != a["email"]
    for _, p in same.iterrows():
        a = by_id.loc[p["namesake_of"]]
        assert p["full_name"] == a["full_name"] and p["email"] != a["email"]


REGION = {"hubspot": "US", "tokyo_customers": "JP", "expo_leads": "JP", "seoul_contacts": "KR"}


def test_unplanted_values_are_valid(ws, ent, prob) -> None:
    """Only planted problems are bad: clean phones parse, clean addresses are valid syntax."""
    bad_phone = set(
        zip(*[prob.loc[prob["field"] == "phone", c] for c in ("source", "source_row")], strict=True)
    )
    bad_email = set(
        zip(*[prob.loc[prob["field"] == "email", c] for c in ("source", "source_row")], strict=True)
    )
    hub = pd.read_csv(ws.data_dir / workspace.HUBSPOT_CONTACTS, dtype=str, keep_default_na=False)
    seoul = pd.read_csv(ws.data_dir / workspace.KOREAN_CSV, encoding="cp949", dtype=str)
    seoul = seoul.fillna("")
    for source, phones, emails in (
        ("hubspot", hub["Phone Number"], hub["Email"]),
        ("seoul_contacts", seoul["전화번호"], seoul["이메일"]),
    ):
        for i, (ph, em) in enumerate(zip(phones, emails, strict=True), start=1):
            if (source, str(i)) not in bad_phone and ph:
                n = phonenumbers.parse(ph, REGION[source])
                assert phonenumbers.is_valid_number(n), (source, i, ph)
            if (source, str(i)) not in bad_email and em:
                try:
                    validate_email(em, check_deliverability=False)
                except EmailNotValidError as e:  # pragma: no cover - the failure message
                    pytest.fail(f"{source} row {i}: {em} {e}")


def test_real_readers_account_for_every_row(ws, ent) -> None:
    from audit.sources import read_sources

    cfg = load_config(ws.config)
    ingest = read_sources(cfg.sources, base_dir=Path(cfg.base_dir))
    c = ingest.counts
    assert (c["rows_read"] == c["rows_ingested"] + c["rows_rejected"]).all()
    contacts = ingest.records["contacts"]
    for source in (
        "hubspot",
        "tokyo_customers",
        "expo_leads",
        "seoul_contacts",
        "stripe_customers",
    ):
        got = sorted(contacts.loc[contacts["source"] == source, "source_row"].astype(int))
        want = sorted(ent.loc[ent["source"] == source, "source_row"].astype(int))
        assert got == want, source
    for source, n in ws.n_rows.items():  # every data row of every other export arrives too
        if source == "inbox" or source in set(ent["source"]):
            continue
        got = c.loc[c["source"] == source, "rows_ingested"].sum()
        assert got == n, source
    inbox = set(contacts.loc[contacts["source"] == "inbox", "email"].map(mailbox_key))
    customers = ent[(ent["source"] == "inbox") & ent["person_id"].str.startswith("P")]
    assert set(customers["email"].map(mailbox_key)) <= inbox


def _perfect_run(ws, ent: pd.DataFrame, prob: pd.DataFrame, run_dir: Path) -> None:
    """A run folder as a perfect pipeline would write it, built from the truth itself."""
    (run_dir / "records").mkdir(parents=True)
    rows = ent[ent["header"] == ""]
    rec = pd.DataFrame(
        {
            "record_id": rows["source"] + ":" + rows["source_row"],
            "source": rows["source"],
            "source_row": rows["source_row"],
            "email": rows["email"],
        }
    )
    mail = ent[ent["header"] != ""].drop_duplicates("email")
    rec = pd.concat(
        [
            rec,
            pd.DataFrame(
                {
                    "record_id": "inbox:" + mail["email"],
                    "source": "inbox",
                    "source_row": mail["source_row"],
                    "email": mail["email"],
                }
            ),
        ]
    )
    rec.to_csv(run_dir / "records" / "contacts.csv", index=False)
    business = {"hubspot_deals": "deals", "orders": "orders", "zendesk": "tickets"}
    for source, entity in business.items():
        p = prob[prob["source"] == source]
        pd.DataFrame(
            {
                "record_id": source + ":" + p["source_row"],
                "source": source,
                "source_row": p["source_row"],
            }
        ).to_csv(run_dir / "records" / f"{entity}.csv", index=False)
    rule_for = {}
    for rule, kind in RULE_KINDS.items():
        rule_for.setdefault(kind, rule.replace("*", "email"))
    is_mail = prob["source"] == "inbox"
    rid = (prob["source"] + ":" + prob["source_row"]).where(~is_mail, "inbox:" + prob["detail"])
    pd.DataFrame({"record_id": rid, "rule_id": prob["problem_kind"].map(rule_for)}).to_csv(
        run_dir / "issues.csv", index=False
    )
    person = dict(zip(rec["record_id"], rec["record_id"].map(_person_map(ent)), strict=True))
    groups = pd.Series(person).dropna()
    pairs = [
        (a, b)
        for _, g in groups.groupby(groups)
        for a, b in itertools.combinations(sorted(g.index), 2)
    ]
    pd.DataFrame(pairs, columns=["record_id_l", "record_id_r"]).assign(band="auto").to_csv(
        run_dir / "duplicates.csv", index=False
    )


def _person_map(ent: pd.DataFrame) -> dict[str, str]:
    out = {}
    for s, r, e, p, h in zip(
        ent["source"], ent["source_row"], ent["email"], ent["person_id"], ent["header"], strict=True
    ):
        if not p.startswith("P"):
            continue
        out["inbox:" + e if h else f"{s}:{r}"] = p
    return out


def test_evaluate_gives_perfect_scores_to_a_perfect_run(ws, ent, prob, tmp_path: Path) -> None:
    _perfect_run(ws, ent, prob, tmp_path / "run")
    table = evaluate(tmp_path / "run", ws.truth_dir).set_index("check")
    for kind in set(prob["problem_kind"]) - set(NOT_FLAGGED):
        assert table.loc[kind, "recall"] == 1.0, kind
        assert table.loc[kind, "precision"] == 1.0, kind
    assert table.loc["email_soft_bounce.not_stale", "recall"] == 1.0
    assert table.loc["email_near_inactive.not_stale", "recall"] == 1.0
    assert table.loc["duplicates.pairs", "precision"] == 1.0
    assert table.loc["duplicates.pairs", "recall"] == 1.0
    assert table.loc["duplicates.pairs", "n_truth"] > 0
    for trap in ("household", "namesake"):
        assert table.loc[f"duplicates.not_merged.{trap}", "n_truth"] > 0
        assert table.loc[f"duplicates.not_merged.{trap}", "recall"] == 1.0
