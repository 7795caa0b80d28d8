"""Survey exports are read as surveys (NPS/CSAT/CES found by question wording), with the
respondents who left an email, phone or name also read as contacts."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner

from audit.cli import cli

# Typeform's export shape (research/source_formats.md §3.10): `#`, one column per question
# with the question as header (HTML kept), then Response Type .. Network ID, Tags.
NPS_Q = "How likely are you to recommend <strong>Acme</strong> to a friend or colleague?"
CSAT_Q = "Overall, how satisfied were you with our support team?"
TYPEFORM_HEADER = [
    "#",
    NPS_Q,
    "What is the main reason for your score?",
    CSAT_Q,
    "What's your email?",
    "Response Type",
    "Start Date (UTC)",
    "Stage Date (UTC)",
    "Submit Date (UTC)",
    "Network ID",
    "Tags",
]
# (nps, csat, email)
ANSWERS = [
    ("10", "5", "kim@example.kr"),
    ("9", "4", ""),
    ("9", "5", ""),
    ("8", "3", "sato@example.jp"),
    ("7", "4", ""),
    ("6", "2", ""),
    ("3", "1", ""),
    ("10", "5", ""),
    ("0", "1", ""),
    ("5", "3", "wang@example.cn"),
]


def _typeform(path: Path) -> Path:
    import csv

    with path.open("w", encoding="utf-8", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(TYPEFORM_HEADER)
        for i, (nps, csat, email) in enumerate(ANSWERS, start=1):
            w.writerow(
                [
                    f"tok{i:03d}",
                    nps,
                    "because" if i % 3 == 0 else "",
                    csat,
                    email,
                    "completed",
                    f"2026-03-{i:02d} 09:00:00",
                    f"2026-03-{i:02d} 09:01:00",
                    f"2026-03-{i:02d} 09:02:00",
                    f"net{i}",
                    "",
                ]
            )
    return path


def test_a_typeform_export_gives_surveys_and_only_identified_respondents_as_contacts(
    runner: CliRunner, tmp_path: Path
) -> None:
    _typeform(tmp_path / "responses.csv")
    # the respondents have no names (completeness fails the default gate); this test is about
    # reading the survey, so the gate is opened to get the KPIs
    cfg = tmp_path / "survey.yaml"
    cfg.write_text(
        "sources:\n  - name: typeform\n    path: responses.csv\n"
        "thresholds:\n  overall: 0\n  dimensions: {completeness: 0}\n",
        encoding="utf-8",
    )
    res = runner.invoke(
        cli,
        [
            "audit",
            str(cfg),
            "--out",
            str(tmp_path / "runs"),
            "--as-of",
            "2026-04-15",
            "--format",
            "json",
        ],
    )
    assert res.exit_code == 0, res.stderr
    summary = json.loads(res.stdout)
    doc = json.loads((Path(summary["run_dir"]) / "run.json").read_text(encoding="utf-8"))
    counts = {c["entity"]: c for c in doc["counts"]}
    assert (
        counts["contacts"]["rows_read"],
        counts["contacts"]["rows_ingested"],
        counts["contacts"]["rows_rejected"],
    ) == (10, 3, 7)
    assert counts["surveys"]["rows_ingested"] == 20  # one NPS and one CSAT answer per response
    assert doc["records"]["surveys"] == 20 and doc["records"]["contacts"] == 3
    kpis = {k["kpi_id"]: k for k in doc["kpis"]}
    # promoters (9-10): 10, 9, 9, 10 = 4; detractors (0-6): 6, 3, 0, 5 = 4; of 10 answers
    assert kpis["nps"]["value"] == 0.0 and kpis["nps"]["n"] == 10
    # CSAT: 4-5 of 5: 5, 4, 5, 4, 5 = 5 of 10
    assert kpis["csat"]["value"] == 0.5


def test_qualtrics_and_surveymonkey_extra_header_rows_are_not_responses(
    runner: CliRunner, tmp_path: Path
) -> None:
    fixtures = Path(__file__).resolve().parents[1] / "fixtures" / "sources"
    for name in ("qualtrics.responses", "surveymonkey.responses"):
        (f,) = sorted((fixtures / name).glob("*.csv"))
        res = runner.invoke(cli, ["sources", "inspect", str(f), "--format", "json"])
        assert res.exit_code == 0, res.stderr
        recs = {r["entity"]: r for r in json.loads(res.stdout)}
        assert recs["contacts"]["profile"] == name
        assert recs["contacts"]["rows_read"] == 4  # the 4 responses, not the header rows
        assert recs["surveys"]["rows_read"] == 4
        assert any("nps 0-10" in w for w in recs["surveys"]["warnings"])


def test_a_korean_google_form_nps_question_is_found(runner: CliRunner, tmp_path: Path) -> None:
    f = tmp_path / "설문 응답.csv"
    f.write_text(
        "타임스탬프,이메일 주소,저희 서비스를 친구나 동료에게 추천할 가능성은 얼마나 됩니까?,"
        "개선할 점을 알려주세요\n"
        "2026. 3. 5 오후 2:03:04,minjun@example.kr,9,없음\n"
        "2026. 3. 6 오전 10:11:12,seoyeon@example.kr,4,가격\n",
        encoding="utf-8",
    )
    res = runner.invoke(cli, ["sources", "inspect", str(f), "--format", "json"])
    recs = {r["entity"]: r for r in json.loads(res.stdout)}
    assert recs["contacts"]["profile"] == "google_forms.responses"
    assert recs["contacts"]["rows_ingested"] == 2
    assert recs["surveys"]["rows_ingested"] == 2


def test_a_customer_list_with_a_csat_column_keeps_every_row_as_a_contact(
    runner: CliRunner, tmp_path: Path
) -> None:
    f = tmp_path / "accounts.csv"
    f.write_text("company,CSAT\nAcme,5\nGlobex,4\nInitech,3\n", encoding="utf-8")
    res = runner.invoke(cli, ["sources", "inspect", str(f), "--format", "json"])
    recs = {r["entity"]: r for r in json.loads(res.stdout)}
    assert (recs["contacts"]["rows_ingested"], recs["contacts"]["rows_rejected"]) == (3, 0)
    assert recs["surveys"]["rows_ingested"] == 3
