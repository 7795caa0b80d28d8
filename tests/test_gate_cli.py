"""`crm-audit run` exits 1 with reasons and quick wins when the data misses strict thresholds."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner

from audit.cli import cli

CONTACTS = """\
email,first_name,last_name,owner,created_at,last_activity_at,lead_source,lifecycle_stage
ann@example.org,Ann,Lee,rep1,2026-01-05,2026-02-01,web,customer
bob@@bad,Bob,Kim,rep2,2026-01-07,2026-02-03,event,lead
,Cho,Park,rep2,2026-02-07,2026-03-01,event,lead
dan@shop.co.kr,Dan,Yoon,rep1,2026-02-08,2026-03-02,web,customer
"""
DEALS = """\
external_id,name,stage,amount,is_won,is_closed,created_at,closed_at,owner
d1,A,closedwon,100,true,true,2026-01-05,2026-02-01,rep1
d2,B,closedlost,50,false,true,2026-01-05,2026-02-11,rep2
d3,C,closedwon,70,true,true,2026-01-05,2026-03-01,rep2
"""


def workspace(tmp_path: Path, thresholds: str) -> Path:
    (tmp_path / "contacts.csv").write_text(CONTACTS, encoding="utf-8")
    (tmp_path / "deals.csv").write_text(DEALS, encoding="utf-8")
    cfg = tmp_path / "audit.yaml"
    cfg.write_text(
        "as_of: 2026-04-02\n"
        "sources:\n"
        "  - {name: crm, path: contacts.csv, entity: contacts, profile: none}\n"
        "  - {name: pipe, path: deals.csv, entity: deals, profile: none}\n"
        "rules: {gx: false}\n"
        f"thresholds: {thresholds}\n"
        "kpis: {period: 2026-Q1, include: [close_rate, email_reachability, active_customers]}\n"
        "output: {dir: out, formats: [json]}\n"
        "history: {enabled: false}\n",
        encoding="utf-8",
    )
    return cfg


def test_run_fails_with_reasons_and_quick_wins_on_strict_thresholds(
    runner: CliRunner, tmp_path: Path
) -> None:
    cfg = workspace(tmp_path, "{overall: 0.99, dimensions: {validity: 0.99}}")
    result = runner.invoke(cli, ["run", str(cfg), "--strict"])
    assert result.exit_code == 1, result.output
    out = result.stdout
    assert "gate:        FAILED" in out
    assert "- overall 0." in out and "< 0.99 (thresholds.overall)" in out
    assert "(thresholds.dimensions.validity)" in out
    assert "quick wins:" in out
    assert "points" in out.split("quick wins:")[1]
    assert "Traceback" not in result.output


def test_run_json_then_kpis_from_the_run_folder(runner: CliRunner, tmp_path: Path) -> None:
    # 2 of 4 contacts have an invalid email (ann@example.org is a placeholder, bob@@bad is
    # malformed) and 1 of 4 has none: red under the default floors (validity 90%, completeness
    # 80%, per entity), so this config lowers them to keep the KPIs flowing
    cfg = workspace(
        tmp_path,
        "{overall: 0.5, kpi_inputs: 0.9, dimensions: {validity: 0.5, completeness: 0.75}}",
    )
    result = runner.invoke(cli, ["run", str(cfg), "--format", "json"])
    data = json.loads(result.stdout)
    gate = data["gate"]
    assert data["dimensions"]["validity"]["floor"] == 0.5
    assert data["dimensions"]["validity"]["by_entity"] == {"contacts": 0.5, "deals": 1.0}
    assert (
        data["dimensions"]["validity"]["n_failed"],
        data["dimensions"]["validity"]["n_checked"],
    ) == (2, 7)
    # one email of four missing and one malformed: reachability is withheld, the rest computed
    assert gate["passed"] and result.exit_code == 0, gate["reasons"]
    assert gate["withheld_kpis"]["email_reachability"].startswith(
        "contacts.email completeness 0.75"
    )
    kpis = {k["kpi_id"]: k["value"] for k in data["kpis"]}
    assert kpis["close_rate"] == 0.6667  # 2 won of 3 closed
    assert kpis["email_reachability"] is None

    run_dir = Path(data["run_dir"])
    text = runner.invoke(cli, ["kpis", str(run_dir)])
    assert text.exit_code == 0, text.output
    assert "KPIs for 2026-Q1 (as of 2026-04-02)" in text.stdout
    assert "66.7%" in text.stdout.split("close_rate")[1].splitlines()[0]
    assert "withheld" in text.stdout.split("email_reachability")[1].splitlines()[0]
    js = runner.invoke(cli, ["kpis", str(run_dir), "--period", "2026-02", "--format", "json"])
    rows = {r["kpi_id"]: r for r in json.loads(js.stdout)["kpis"]}
    assert rows["close_rate"]["period"] == "2026-02"
    assert (rows["close_rate"]["value"], rows["close_rate"]["n"]) == (0.5, 2)  # d1 won, d2 lost
    assert rows["active_customers"]["value"] == 2


def test_kpis_command_withholds_everything_when_the_gate_fails(
    runner: CliRunner, tmp_path: Path
) -> None:
    cfg = workspace(tmp_path, "{overall: 1.0}")
    result = runner.invoke(cli, ["kpis", str(cfg), "--format", "json"])
    assert result.exit_code == 1
    doc = json.loads(result.stdout)
    assert doc["gate_reasons"]
    assert {r["status"] for r in doc["kpis"]} == {"withheld"}
