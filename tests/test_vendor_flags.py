"""The CRM's own bounce, opt-out and deleted fields are evidence (issue #9, part 2).

Headers come from vendor documentation or real exports (each profile's comment names its
source); the bounce reasons are server replies as Gmail, Postfix, Yahoo and Exchange write them.
Files go through the CLI, as a user runs them.
"""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pandas as pd
import pytest
from click.testing import CliRunner

from audit.cli import cli
from audit.config import SourceConfig
from audit.sources import read_sources
from audit.sources.flags import bounce_of

FIXTURE = Path(__file__).parent / "fixtures" / "vendor" / "Contact.csv"


def _run(tmp_path: Path, runner: CliRunner, files: dict[str, str], kpis: bool = True) -> Path:
    """`crm-audit run` on a config over `files`; returns the run folder."""
    tmp_path.mkdir(parents=True, exist_ok=True)
    for name, text in files.items():
        (tmp_path / name).write_text(text, encoding="utf-8")
    srcs = "".join(f"  - name: {Path(n).stem.lower()}\n    path: {n}\n" for n in files)
    cfg = tmp_path / "c.yaml"
    cfg.write_text(
        "as_of: 2026-04-02\nsources:\n"
        + srcs
        + "thresholds:\n  overall: 0\n  kpi_inputs: 0\n  dimensions: {freshness: 0}\n"
        "kpis:\n  period: 2026-Q1\n  include: [active_customers, email_reachability]\n"
        "output:\n  dir: runs\n",
        encoding="utf-8",
    )
    result = runner.invoke(cli, ["run", str(cfg)])
    assert result.exit_code == 0, result.output + result.stderr
    (run_dir,) = [d for d in (tmp_path / "runs").iterdir() if (d / "run.json").is_file()]
    return run_dir


def _issues(run_dir: Path, rule_id: str) -> pd.DataFrame:
    i = pd.read_csv(run_dir / "issues.csv", dtype=str, keep_default_na=False)
    return i[i["rule_id"] == rule_id]


def _kpi(run_dir: Path, kpi_id: str) -> pd.Series:
    k = pd.read_csv(run_dir / "kpis.csv")
    return k.set_index("kpi_id").loc[kpi_id]


def _salesforce(deleted: bool = True) -> str:
    text = FIXTURE.read_text(encoding="utf-8")
    if deleted:
        return text
    rows = list(csv.reader(io.StringIO(text)))
    for r in rows[1:]:
        r[1] = "false"
    out = io.StringIO()
    csv.writer(out, lineterminator="\n").writerows(rows)
    return out.getvalue()


def test_every_salesforce_hard_bounce_is_a_freshness_finding(
    runner: CliRunner, tmp_path: Path
) -> None:
    run_dir = _run(tmp_path, runner, {"Contact.csv": _salesforce()})
    raw = pd.read_csv(FIXTURE, dtype=str, keep_default_na=False)
    bounced = _issues(run_dir, "contacts.email.bounced")
    assert (bounced["dimension"] == "freshness").all()
    # 21 rows carry a permanent failure; the two over-quota / deferred ones are soft
    hard_rows = raw[
        raw["EmailBouncedReason"].ne("") & ~raw["EmailBouncedReason"].str[:1].isin(["4"])
    ]
    hard_rows = hard_rows[~hard_rows["EmailBouncedReason"].str.contains("over quota")]
    assert len(hard_rows) == 21
    assert sorted(bounced["value"]) == sorted(hard_rows["Email"])
    # the vendor's own words are the evidence
    for email, reason, date in zip(
        hard_rows["Email"],
        hard_rows["EmailBouncedReason"],
        hard_rows["EmailBouncedDate"],
        strict=True,
    ):
        (ev,) = bounced.loc[bounced["value"] == email, "evidence"]
        assert (
            reason in ev and f"on {date}" in ev and ev.startswith("marked hard-bounced by contact")
        )
    soft = raw.loc[raw["EmailBouncedReason"].str.contains("over quota|deferred"), "Email"]
    assert not set(soft) & set(bounced["value"])
    # reachability: the hard bounces are not reachable, the soft ones are
    reach = _kpi(run_dir, "email_reachability")
    # (on the KPIs' clean view: the 4 deleted contacts are out, 15 of the other 36 are fine)
    assert (reach["value"], int(reach["n"])) == (pytest.approx(15 / 36), 36)


def test_deleted_rows_are_left_out_of_the_kpis_and_counted(
    runner: CliRunner, tmp_path: Path
) -> None:
    with_deleted = _run(tmp_path / "a", runner, {"Contact.csv": _salesforce(deleted=True)})
    none_deleted = _run(tmp_path / "b", runner, {"Contact.csv": _salesforce(deleted=False)})
    raw = pd.read_csv(FIXTURE, dtype=str, keep_default_na=False)
    n_deleted = int((raw["IsDeleted"] == "true").sum())
    assert n_deleted == 4
    a, b = _kpi(with_deleted, "active_customers"), _kpi(none_deleted, "active_customers")
    assert (int(b["n"]), b["value"]) == (40, 40)
    assert (int(a["n"]), a["value"]) == (40 - n_deleted, 40 - n_deleted)
    doc = json.loads((with_deleted / "run.json").read_text(encoding="utf-8"))
    assert doc["clean_view"]["deleted_excluded"] == n_deleted
    assert doc["issues"]["by_rule"]["contacts.record.deleted"] == n_deleted
    assert (
        json.loads((none_deleted / "run.json").read_text())["clean_view"]["deleted_excluded"] == 0
    )
    impact = pd.read_csv(with_deleted / "impact.csv").set_index("kpi_id")
    assert "leaving out 4 deleted or archived contacts" in impact.loc["active_customers", "cause"]


def test_opted_out_is_reported_as_info_not_an_error(runner: CliRunner, tmp_path: Path) -> None:
    run_dir = _run(tmp_path, runner, {"Contact.csv": _salesforce()})
    raw = pd.read_csv(FIXTURE, dtype=str, keep_default_na=False)
    opted = _issues(run_dir, "contacts.email.opted_out")
    assert sorted(opted["value"]) == sorted(raw.loc[raw["HasOptedOutOfEmail"] == "true", "Email"])
    assert set(opted["severity"]) == {"info"}
    assert "opted out" in _kpi(run_dir, "email_reachability")["note"]


HUBSPOT = (
    "Record ID,First Name,Last Name,Email,Contact owner,Lifecycle Stage,"
    "Email hard bounce reason,Marketing emails bounced,Unsubscribed from all email\n"
    "101,Ann,Lee,ann@corp-a.example,Kim,customer,"
    '"550 5.1.1 <ann@corp-a.example>: Recipient address rejected: User unknown",1,false\n'
    "102,Bo,Park,bo@corp-b.example,Kim,customer,"
    '"552-5.2.2 The email account that you tried to reach is over quota.",1,false\n'
    "103,Cy,Cho,cy@corp-c.example,Kim,customer,,2,true\n"
    "104,Di,Han,di@corp-d.example,Kim,customer,,0,false\n"
)


def test_hubspot_reason_text_decides_hard_or_soft(runner: CliRunner, tmp_path: Path) -> None:
    run_dir = _run(tmp_path, runner, {"hubspot.csv": HUBSPOT})
    bounced = _issues(run_dir, "contacts.email.bounced")
    # HubSpot calls a full mailbox a hard bounce; its own words say it is not a dead address
    assert bounced["value"].tolist() == ["ann@corp-a.example"]
    assert "User unknown" in bounced["evidence"].iloc[0]
    recs = pd.read_csv(run_dir / "records" / "contacts.csv", dtype=str).set_index("email")
    assert recs.loc["bo@corp-b.example", "email_bounce"] == "soft"
    assert recs.loc["cy@corp-c.example", "email_bounce"] == "soft"  # a count, no reason
    assert pd.isna(recs.loc["di@corp-d.example", "email_bounce"])
    assert _issues(run_dir, "contacts.email.opted_out")["value"].tolist() == ["cy@corp-c.example"]
    assert _kpi(run_dir, "email_reachability")["value"] == pytest.approx(3 / 4)


def _contacts(tmp_path: Path, name: str, text: str) -> pd.DataFrame:
    (tmp_path / name).write_text(text, encoding="utf-8")
    ingest = read_sources([SourceConfig(name="s", path=name)], base_dir=tmp_path)
    return ingest.records["contacts"]


@pytest.mark.parametrize(
    ("name", "text", "expect"),
    [
        (  # Intercom people export attributes
            "intercom.csv",
            "Name,Email,User ID,Last seen,Unsubscribed from emails,Marked email as spam,"
            "Has hard bounced\nA,a@x.example,1,2026-01-01,false,false,true\n"
            "B,b@x.example,2,2026-01-01,false,true,false\n",
            [("hard", "false"), (None, "true")],
        ),
        (  # Pipedrive "Person - Marketing status"
            "pipedrive.csv",
            "Person - Name,Person - Email,Person - Marketing status\n"
            "A,a@x.example,Bounced\nB,b@x.example,Unsubscribed\n",
            [("hard", "false"), (None, "true")],
        ),
        (  # Zoho CRM Contacts "Email Opt Out"
            "zoho.csv",
            "Record Id,Contact Owner,Last Name,Mailing City,Email,Email Opt Out\n"
            "1,o,A,c,a@x.example,false\n2,o,B,c,b@x.example,true\n",
            [(None, "false"), (None, "true")],
        ),
        (  # Shopify customers: not accepting email marketing
            "shopify.csv",
            "First Name,Last Name,Email,Accepts Email Marketing,Total Spent\n"
            "A,A,a@x.example,yes,1\nB,B,b@x.example,no,1\n",
            [(None, "false"), (None, "true")],
        ),
        (  # no profile: generic header synonyms
            "plain.csv",
            "Name,Email,Bounced,Unsubscribed\nA,a@x.example,yes,no\nB,b@x.example,,yes\n",
            [("hard", "no"), (None, "yes")],
        ),
    ],
)
def test_vendor_fields_reach_the_canonical_columns(
    tmp_path: Path, name: str, text: str, expect: list[tuple[str | None, str | None]]
) -> None:
    c = _contacts(tmp_path, name, text)
    got = [
        (None if pd.isna(b) else b, None if pd.isna(o) else o)
        for b, o in zip(c["email_bounce"], c["email_opt_out"], strict=True)
    ]
    assert got == expect
    if name == "plain.csv":  # a synonym-mapped column keeps its raw value in the reason
        assert c["email_bounce_reason"].tolist()[0] == "Bounced: yes"
    else:  # a profile's vendor columns are still there, in extra
        assert all(json.loads(e) for e in c["extra"])


def test_stripe_deleted_customer(tmp_path: Path) -> None:
    c = _contacts(
        tmp_path,
        "stripe.csv",
        "id,Email,Created (UTC),Delinquent,deleted\n"
        "cus_1,a@x.example,2025-01-01 10:00,false,\ncus_2,b@x.example,2025-01-02 10:00,true,true\n",
    )
    assert [None if pd.isna(v) else v for v in c["is_deleted"]] == [None, "true"]
    assert "Delinquent" in json.loads(c["extra"].iloc[1])  # a payment state, kept as read


def test_generic_deleted_column_and_nothing_lost(tmp_path: Path) -> None:
    c = _contacts(tmp_path, "p.csv", "Name,Email,Deleted\nA,a@x.example,yes\nB,b@x.example,\n")
    assert c["is_deleted"].tolist()[0] == "yes"
    assert pd.isna(c["is_deleted"].tolist()[1])


@pytest.mark.parametrize(
    ("value", "hard", "cls"),
    [
        ("true", True, "hard"),
        ("false", True, None),
        ("0", False, None),
        ("3", False, "soft"),
        ("550 5.1.1 user unknown", False, "hard"),  # the words outrank a soft field
        ("552 5.2.2 mailbox full", True, "soft"),  # ... and a hard one
        ("Mailbox does not exist", True, "hard"),  # no cause named: the vendor's verdict
    ],
)
def test_bounce_class_of_one_cell(value: str, hard: bool, cls: str | None) -> None:
    assert bounce_of(value, "h", hard=hard)[0] == cls
