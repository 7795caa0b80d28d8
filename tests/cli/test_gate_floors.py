"""The default gate on small real-shaped exports: red dimensions fail, unmeasured ones are n/a.

Each file is written the way the exporting app writes it (HubSpot's quoted CSV with its own
headers, a Postfix bounce mbox); the expected figures are counted by hand from the rows below.
"""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pandas as pd
from click.testing import CliRunner
from openpyxl import load_workbook

from audit.cli import cli

FIRST = ["Olivia", "Liam", "Emma", "Noah", "Ava", "Ethan", "Mia", "Lucas", "Sofia", "Mason"]
FIRST += ["Chloe", "Logan", "Grace", "Owen", "Zoe", "Caleb", "Hana", "Jun", "Yuna", "Sora"]
LAST = ["Walker", "Nguyen", "Patel", "Okafor", "Schmidt", "Rossi", "Tanaka", "Choi", "Lindqvist"]
LAST += ["Moreau", "Haddad", "Kowalski", "Silva", "Brennan", "Ito", "Park", "Novak", "Reyes"]
LAST += ["Fischer", "Dubois"]
HUBSPOT = ["Record ID", "First Name", "Last Name", "Email", "Contact owner", "Company Name"]
HUBSPOT += ["Lifecycle Stage", "Create Date", "Last Modified Date"]


def hubspot_contacts(path: Path, first_id: int, shift: int, emails: dict[int, str]) -> None:
    """20 distinct people; row i gets emails[i] (missing key: no email)."""
    with path.open("w", newline="", encoding="utf-8") as f:
        w = csv.writer(f, quoting=csv.QUOTE_ALL)
        w.writerow(HUBSPOT)
        for i in range(20):
            w.writerow(
                [
                    str(first_id + i),
                    FIRST[i],
                    LAST[(i + shift) % 20],
                    emails.get(i, ""),
                    "Dana Whitfield",
                    "Contoso Ltd",
                    "customer",
                    f"2025-02-1{i % 10} 10:00",
                    f"2025-05-2{i % 10} 12:30",
                ]
            )


def email_of(i: int, shift: int = 0) -> str:
    return f"{FIRST[i].lower()}.{LAST[(i + shift) % 20].lower()}@contoso.com"


def run_json(runner: CliRunner, target: Path, out: Path) -> tuple[int, dict, str]:
    res = runner.invoke(
        cli, ["run", str(target), "--out", str(out), "--as-of", "2025-07-01", "--format", "json"]
    )
    assert "Traceback" not in res.output
    return res.exit_code, json.loads(res.stdout), res.stdout


def test_a_folder_at_32_percent_completeness_fails_with_the_reason(
    runner: CliRunner, tmp_path: Path
) -> None:
    folder = tmp_path / "exports"
    folder.mkdir()
    # 7 of 20 and 6 of 20 contacts have an email: 13 of 40, every other value is fine
    hubspot_contacts(folder / "contacts-2025.csv", 5100, 0, {i: email_of(i) for i in range(7)})
    hubspot_contacts(folder / "contacts-events.csv", 6100, 7, {i: email_of(i, 7) for i in range(6)})
    res = runner.invoke(cli, ["run", str(folder), "--out", str(tmp_path / "runs")])
    assert res.exit_code == 1, res.output
    # the overall score (86.5%) is above thresholds.overall: only the floor catches it
    assert "quality:     86.5%" in res.stdout
    assert (
        "- completeness 32.5% < floor 80% (thresholds.dimensions.completeness): 27 of 40 "
        "contacts fail; 27 contacts have no email; see issues.csv"
    ) in res.stdout
    assert "completeness    32.5%  floor 80%  (27 of 40 rows fail)" in res.stdout
    issues = pd.read_csv(
        next((tmp_path / "runs").glob("*/run.json")).parent / "issues.csv",
        dtype=str,
        encoding="utf-8-sig",
    )
    assert (issues["rule_id"] == "contacts.email.required").sum() == 27


def test_30_percent_malformed_emails_give_email_validity_070_and_fail_the_gate(
    runner: CliRunner, tmp_path: Path
) -> None:
    bad = {
        2: "emma.patel@@contoso.com",
        5: "ethan rossi@contoso.com",
        8: "sofia.lindqvist@",
        11: "logan.kowalski.contoso.com",
        14: "zoe.ito@contoso",
        17: "jun.reyes@contoso..com",
    }
    src = tmp_path / "hubspot-contacts.csv"
    hubspot_contacts(src, 7200, 0, {i: bad.get(i, email_of(i)) for i in range(20)})
    code, data, _ = run_json(runner, src, tmp_path / "runs")
    assert code == 1
    field = pd.read_csv(Path(data["run_dir"]) / "scores" / "by_field.csv", encoding="utf-8-sig")
    email = field.set_index(["entity", "field"]).loc[("contacts", "email")]
    # 14 of 20 rows are valid, however many other email rules pass on the 6 bad ones
    assert email["validity"] == 0.7
    assert (email["n_checked"], email["n_failed"]) == (20, 6)
    assert data["dimensions"]["validity"]["score"] == 0.7
    assert data["gate"]["reasons"] == [
        "validity 70% < floor 90% (thresholds.dimensions.validity): 6 of 20 contacts fail; "
        "6 contacts fail contacts.email.valid; see issues.csv"
    ]


def test_a_floor_lowered_or_switched_off_in_the_config_lets_the_data_pass(
    runner: CliRunner, tmp_path: Path
) -> None:
    hubspot_contacts(tmp_path / "c.csv", 5100, 0, {i: email_of(i) for i in range(7)})
    cfg = tmp_path / "audit.yaml"
    cfg.write_text(
        "as_of: 2025-07-01\n"
        "sources: [{name: hs, path: c.csv}]\n"
        "rules: {gx: false}\n"
        "thresholds: {dimensions: {completeness: null}}\n"
        "history: {enabled: false}\n",
        encoding="utf-8",
    )
    code, data, _ = run_json(runner, cfg, tmp_path / "runs")
    assert data["dimensions"]["completeness"]["score"] == 0.35
    assert data["dimensions"]["completeness"]["floor"] is None
    assert data["dimensions"]["validity"]["floor"] == 0.9  # the other defaults still hold
    assert (code, data["gate"]["passed"]) == (0, True), data["gate"]["reasons"]


COMPANIES = """\
"Record ID","Company name","Company owner","Company Domain Name","Phone Number","Country/Region","City","Industry","Number of Employees","Create Date"
"8801","Northwind Traders","Dana Whitfield","northwind-traders.com","+1 206 555 0142","United States","Seattle","Wholesale","240","2024-11-04 09:12:00"
"8802","주식회사 한빛소프트","Dana Whitfield","hanbitsoft.co.kr","+82 2 3456 7890","South Korea","Seoul","Software","85","2025-01-15 14:03:00"
"8803","株式会社さくら物産","Ken Mori","sakura-bussan.co.jp","+81 3 1234 5678","Japan","Tokyo","Trading","1200","2025-02-20 10:30:00"
"8804","Contoso Ltd","Ken Mori","contoso.com","+44 20 7946 0958","United Kingdom","London","Consulting","56","2025-03-02 16:45:00"
"""  # noqa: E501


def test_companies_only_shows_na_everywhere_and_says_nothing_was_measurable(
    runner: CliRunner, tmp_path: Path
) -> None:
    src = tmp_path / "hubspot-companies.csv"
    src.write_text(COMPANIES, encoding="utf-8")
    code, data, _ = run_json(runner, src, tmp_path / "runs")
    assert code == 1
    assert data["records"] == {"companies": 4}
    assert data["score"] is None
    assert data["score_note"] == "n/a: no dimension was measured on the records read"
    for dim, d in data["dimensions"].items():
        assert d["score"] is None, dim
        assert d["note"] == "n/a: no rule checks it on the entities read: companies"
    assert data["gate"]["reasons"] == [
        "nothing measurable: no rule of the rule packs checks the records read (4 companies); "
        "every dimension is n/a, and the gate does not pass without evidence"
    ]
    run_dir = Path(data["run_dir"])
    doc = json.loads((run_dir / "run.json").read_text(encoding="utf-8"))
    assert doc["scores"]["overall"] is None and doc["scores"]["overall_note"]
    assert {d["score"] for d in doc["scores"]["by_dimension"]} == {None}
    md = (run_dir / "summary.md").read_text(encoding="utf-8")
    assert "**Overall quality score: n/a: no dimension was measured on the records read**" in md
    assert (
        "| completeness | n/a |  | n/a: no rule checks it on the entities read: companies |" in md
    )
    html = (run_dir / "summary.html").read_text(encoding="utf-8")
    assert ">n/a<" in html and "no dimension was measured" in html
    ws = load_workbook(run_dir / "report.xlsx").worksheets[0]
    cells = {r[0]: r[1:] for r in ws.iter_rows(values_only=True) if r and r[0]}
    assert cells["Overall quality score"][0] == (
        "n/a: no dimension was measured on the records read"
    )
    assert cells["completeness"][:2] == (
        "n/a",
        "n/a: no rule checks it on the entities read: companies",
    )


BOUNCES = """\
From MAILER-DAEMON Mon Mar 10 09:12:44 2025
Return-Path: <>
Date: Mon, 10 Mar 2025 09:12:44 +0000 (UTC)
From: MAILER-DAEMON@mail.northwind-traders.com (Mail Delivery System)
Subject: Undelivered Mail Returned to Sender
To: dana.whitfield@northwind-traders.com
Auto-Submitted: auto-replied
MIME-Version: 1.0
Content-Type: multipart/report; report-type=delivery-status; boundary="8F1C2A0D3E.1741597964/mx"

--8F1C2A0D3E.1741597964/mx
Content-Description: Notification
Content-Type: text/plain; charset=us-ascii

This is the mail system at host mail.northwind-traders.com.

<olivia.walker@contoso.com>: host mx1.contoso.com[203.0.113.25] said: 550 5.1.1
    <olivia.walker@contoso.com>: Recipient address rejected: User unknown in
    virtual mailbox table (in reply to RCPT TO command)

--8F1C2A0D3E.1741597964/mx
Content-Description: Delivery report
Content-Type: message/delivery-status

Reporting-MTA: dns; mail.northwind-traders.com
Arrival-Date: Mon, 10 Mar 2025 09:12:43 +0000 (UTC)

Final-Recipient: rfc822; olivia.walker@contoso.com
Original-Recipient: rfc822;olivia.walker@contoso.com
Action: failed
Status: 5.1.1
Remote-MTA: dns; mx1.contoso.com
Diagnostic-Code: smtp; 550 5.1.1 <olivia.walker@contoso.com>: Recipient address
    rejected: User unknown in virtual mailbox table

--8F1C2A0D3E.1741597964/mx--

From MAILER-DAEMON Tue Mar 11 14:02:10 2025
Return-Path: <>
Date: Tue, 11 Mar 2025 14:02:10 +0000 (UTC)
From: MAILER-DAEMON@mail.northwind-traders.com (Mail Delivery System)
Subject: Undelivered Mail Returned to Sender
To: dana.whitfield@northwind-traders.com
Auto-Submitted: auto-replied
MIME-Version: 1.0
Content-Type: multipart/report; report-type=delivery-status; boundary="B2"

--B2
Content-Type: text/plain; charset=us-ascii

Your message could not be delivered.

--B2
Content-Type: message/delivery-status

Reporting-MTA: dns; mail.northwind-traders.com

Final-Recipient: rfc822; liam.nguyen@fabrikam.co.jp
Action: failed
Status: 5.1.1
Diagnostic-Code: smtp; 550 5.1.1 No such user

Final-Recipient: rfc822; emma.patel@hanbitsoft.co.kr
Action: failed
Status: 5.2.2
Diagnostic-Code: smtp; 552 5.2.2 Mailbox full

--B2--
"""


def test_bounce_only_mbox_lists_the_dead_addresses_and_is_not_scored(
    runner: CliRunner, tmp_path: Path
) -> None:
    src = tmp_path / "bounces.mbox"
    src.write_text(BOUNCES, encoding="utf-8")
    res = runner.invoke(cli, ["run", str(src), "--out", str(tmp_path / "runs")])
    assert res.exit_code == 1, res.output
    out = res.stdout
    assert "quality:     n/a: no dimension was measured on the records read" in out
    assert "0.0%" not in out
    assert (
        "bounces:     3 (2 hard, 1 soft); 2 dead addresses: "
        "liam.nguyen@fabrikam.co.jp, olivia.walker@contoso.com"
    ) in out
    assert "- nothing measurable: no rule of the rule packs checks the records read " in out
    _, data, _ = run_json(runner, src, tmp_path / "runs2")
    assert data["bounces"]["dead_addresses"] == [
        "liam.nguyen@fabrikam.co.jp",
        "olivia.walker@contoso.com",
    ]
    assert {d["score"] for d in data["dimensions"].values()} == {None}
    md = (Path(data["run_dir"]) / "summary.md").read_text(encoding="utf-8")
    dead = md.split("### Dead addresses (hard bounces)")[1].split("##")[0]
    assert "olivia.walker@contoso.com | 5.1.1" in dead and "liam.nguyen@fabrikam.co.jp" in dead
    assert "emma.patel@hanbitsoft.co.kr" not in dead  # mailbox full: soft, not dead
    assert "3 bounce messages: 2 hard, 1 soft" in md
