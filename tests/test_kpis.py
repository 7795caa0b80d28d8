"""KPIs against hand-computed cases (tests/fixtures/kpis.yaml), plus period and status rules."""

from __future__ import annotations

import datetime as dt
import math
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from audit.config import KpiConfig
from audit.errors import ConfigError
from audit.kpis import KPIS, compute_breakdowns, compute_kpis, kpi_needs, parse_period
from tests.factories import make_frame

FIXTURE = Path(__file__).parent / "fixtures" / "kpis.yaml"
CASES: list[dict[str, Any]] = yaml.safe_load(FIXTURE.read_text(encoding="utf-8"))["cases"]
AS_OF = dt.date(2026, 4, 2)


def expand(rows: list[dict[str, Any]]) -> dict[str, list[Any]]:
    """Rows (with `_repeat`/`_mod` shorthands) -> column lists of text, as sources hand them."""
    out: list[dict[str, Any]] = []
    for row in rows:
        n, mod = int(row.get("_repeat", 1)), int(row.get("_mod", 10**9))
        for i in range(n):
            out.append(
                {
                    k: None if v is None else str(v).format(i=i, m=i % mod)
                    for k, v in row.items()
                    if not k.startswith("_")
                }
            )
    cols = sorted({k for r in out for k in r})
    return {c: [r.get(c) for r in out] for c in cols}


def records_of(case: dict[str, Any]) -> dict[str, pd.DataFrame]:
    return {
        entity: make_frame(entity, source=entity[:3], **expand(rows))
        for entity, rows in case["records"].items()
    }


def run_case(case: dict[str, Any]) -> pd.Series:
    cfg = KpiConfig(
        period=case.get("period", "2026-Q1"),
        include=[case["kpi"]],
        params={case["kpi"]: case.get("params", {})},
    )
    out = compute_kpis(records_of(case), cfg, as_of=AS_OF)
    assert len(out) == 1
    return out.iloc[0]


@pytest.mark.parametrize("case", CASES, ids=[f"{c['kpi']}-{i}" for i, c in enumerate(CASES)])
def test_hand_computed_case(case: dict[str, Any]) -> None:
    row = run_case(case)
    expect = case["expect"]
    assert row["status"] == expect.get("status", "ok"), row["note"]
    if "value" in expect:
        assert row["value"] == pytest.approx(expect["value"], abs=1e-5), row["note"]
    if "n" in expect:
        assert int(row["n"]) == expect["n"]
    if "variant_contains" in expect:
        assert expect["variant_contains"] in row["variant"]


def test_every_registered_kpi_has_a_hand_computed_case() -> None:
    covered = {c["kpi"] for c in CASES}
    assert set(KPIS.names()) - covered == set()
    assert covered - set(KPIS.names()) == set()


def test_every_kpi_declares_fields_that_exist_in_the_schema() -> None:
    from audit import schema

    for spec in KPIS._entries.values():
        assert spec.definition and spec.title
        for f in (*spec.needs, *spec.uses):
            entity, col = f.split(".")
            assert col in schema.columns(entity), f"{spec.kpi_id}: {f}"


def test_no_input_data_is_no_data_not_an_error() -> None:
    out = compute_kpis({}, KpiConfig(), as_of=AS_OF)
    assert sorted(out["kpi_id"]) == KPIS.names()
    assert set(out["status"]) == {"no_data"}
    assert out["value"].isna().all()
    churn = out.set_index("kpi_id").loc["churn_rate"]
    assert churn["note"] == "no subscriptions records"


def test_withheld_kpi_keeps_its_reason_and_has_no_value() -> None:
    case = next(c for c in CASES if c["kpi"] == "churn_rate")
    reason = "subscriptions.canceled_at validity 0.71 < 0.90"
    out = compute_kpis(
        records_of(case),
        KpiConfig(include=["churn_rate"]),
        as_of=AS_OF,
        withheld={"churn_rate": reason},
    )
    row = out.iloc[0]
    assert (row["status"], row["note"]) == ("withheld", reason)
    assert math.isnan(row["value"])


def test_unknown_kpi_is_a_config_error_with_a_suggestion() -> None:
    with pytest.raises(ConfigError, match="Did you mean 'churn_rate'"):
        compute_kpis({}, KpiConfig(include=["churn_rte"]), as_of=AS_OF)


def test_kpi_needs_marks_optional_fields() -> None:
    needs = kpi_needs(KpiConfig(include=["churn_rate", "close_rate"]))
    assert needs["churn_rate"][0] == "subscriptions.started_at"
    assert "subscriptions.canceled_at?" in needs["churn_rate"]
    assert "deals.stage" in needs["close_rate"]


@pytest.mark.parametrize(
    "spec, start, end, label",
    [
        ("2026-Q1", "2026-01-01", "2026-04-01", "2026-Q1"),
        ("2026q4", "2026-10-01", "2027-01-01", "2026-Q4"),
        ("2026-03", "2026-03-01", "2026-04-01", "2026-03"),
        ("2026-12", "2026-12-01", "2027-01-01", "2026-12"),
        ("2026", "2026-01-01", "2027-01-01", "2026"),
        (None, "2026-01-01", "2026-04-01", "2026-Q1"),  # quarter before as_of 2026-04-02
        ({"start": "2026-02-10", "end": "2026-02-20"}, "2026-02-10", "2026-02-20", None),
    ],
)
def test_period_parsing(spec: Any, start: str, end: str, label: str | None) -> None:
    p = parse_period(spec, as_of=AS_OF)
    assert p.start == pd.Timestamp(start, tz="UTC")
    assert p.end == pd.Timestamp(end, tz="UTC")
    if label:
        assert p.label == label


def test_default_period_in_first_quarter_is_last_years_q4() -> None:
    assert parse_period(None, as_of=dt.date(2026, 2, 1)).label == "2025-Q4"


@pytest.mark.parametrize("bad", ["2026-13", "Q1", "last month"])
def test_bad_period_is_a_config_error(bad: str) -> None:
    with pytest.raises(ConfigError, match=r"kpis\.period"):
        parse_period(bad, as_of=AS_OF)


def test_period_from_config_model() -> None:
    cfg = KpiConfig.model_validate({"period": {"start": "2026-01-01", "end": "2026-02-01"}})
    assert parse_period(cfg.period, as_of=AS_OF).days == 31


def test_typed_records_give_the_same_values_as_text() -> None:
    """Normalize hands over typed columns; KPIs must not depend on text input."""
    case = next(c for c in CASES if c["kpi"] == "sales_cycle_length")
    recs = records_of(case)
    deals = recs["deals"].copy()
    for col in ("created_at", "closed_at"):
        deals[col] = pd.to_datetime(deals[col], utc=True)
    deals["is_won"] = deals["is_won"].map({"true": True, "false": False}).astype("boolean")
    cfg = KpiConfig(period="2026-Q1", include=["sales_cycle_length"])
    typed = compute_kpis({"deals": deals}, cfg, as_of=AS_OF).iloc[0]
    assert typed["value"] == pytest.approx(30)


def test_breakdowns_per_owner_source_and_reason() -> None:
    deals = make_frame(
        "deals",
        owner=["ann", "ann", "bob", "bob", None],
        stage=["closedwon", "closedlost", "proposal", "closedlost", "proposal"],
        is_won=["true", "false", None, "false", None],
        is_closed=["true", "true", None, "true", None],
        amount=["100", "50", "200", "70", None],
        probability=["1", "0", "40", "0", "0.5"],
        lost_reason=[None, "price", None, None, None],
        forecast_category=[None, None, "commit", None, "pipeline"],
        created_at=["2026-01-01"] * 5,
        closed_at=["2026-02-01", "2026-02-01", "2026-05-01", "2026-03-01", None],
    )
    contacts = make_frame(
        "contacts",
        lead_source=["web", "web", "event", None],
        lifecycle_stage=["customer", "lead", "customer", "lead"],
        created_at=["2026-01-05"] * 4,
    )
    quotas = make_frame("quotas", owner=["ann"], amount=["200"], period_start=["2026-01-01"])
    acts = make_frame(
        "activities",
        owner=["ann", "ann", "bob"],
        type=["call", "call", "email"],
        occurred_at=["2026-01-02", "2026-01-03", "2026-01-04"],
    )
    b = compute_breakdowns(
        {"deals": deals, "contacts": contacts, "quotas": quotas, "activities": acts},
        KpiConfig(period="2026-Q1"),
        as_of=AS_OF,
    )
    pipe = b["pipeline_by_stage"].set_index("stage")
    assert pipe.loc["proposal", "deals"] == 2
    assert pipe.loc["proposal", "weighted_amount"] == pytest.approx(80.0)  # 200 x 40%
    assert pipe.loc["proposal", "missing_amount"] == 1
    perf = b["sales_performance"].set_index("owner")
    assert perf.loc["ann", "win_rate"] == pytest.approx(0.5)
    assert perf.loc["ann", "attainment"] == pytest.approx(0.5)
    assert perf.loc["ann", "activities"] == 2
    assert perf.loc["bob", "lost"] == 1
    lost = b["lost_deals_by_reason"].set_index("lost_reason")
    assert lost["deals"].to_dict() == {"(none)": 1, "price": 1}
    conv = b["conversion_by_lead_source"].set_index("lead_source")
    assert conv.loc["web", "conversion_rate"] == pytest.approx(0.5)
    assert conv.loc["event", "conversion_rate"] == pytest.approx(1.0)
    fc = b["forecast"].set_index(["close_month", "forecast_category"])
    assert fc.loc[("2026-05", "commit"), "weighted_amount"] == pytest.approx(80.0)
    acts_by = b["activity_by_owner"]
    assert acts_by.to_dict("records")[0] == {"owner": "ann", "type": "call", "activities": 2}
    assert set(b) >= {
        "pipeline_by_stage",
        "forecast",
        "sales_performance",
        "goal_progress",
        "conversion_by_lead_source",
        "lead_source",
        "lost_deals_by_reason",
        "activity_by_owner",
        "profitability",
        "sales_cycle",
        "stage_length",
        "resolution_by_agent",
    }


def test_customer_profitability_shows_who_brings_the_money() -> None:
    orders = make_frame(
        "orders",
        customer_id=["a", "a", "b", "c", "c", None, "d"],
        amount=["100", "50", "300", "80", "40", "25", "500"],
        amount_refunded=[None, None, None, "80", None, None, None],
        status=["paid", "paid", "paid", "paid", "paid", "paid", "failed"],
        ordered_at=[
            "2026-01-05",
            "2025-11-05",  # before the period: revenue to date only
            "2026-02-01",
            "2026-02-02",  # refunded in full: not a purchase
            "2026-03-01",
            "2026-03-02",  # a guest order
            "2026-03-03",  # failed: no money
        ],
    )
    b = compute_breakdowns({"orders": orders}, KpiConfig(period="2026-Q1"), as_of=AS_OF)
    rows = b["customer_profitability"].set_index("customer")
    assert list(rows.index) == ["b", "a", "c", "(guest orders)"]
    assert rows["revenue"].tolist() == [300.0, 100.0, 40.0, 25.0]
    assert rows.loc["a", "revenue_to_date"] == 150.0
    assert rows.loc["b", "share"] == pytest.approx(300 / 465)
    assert rows.loc["c", "cum_share"] == pytest.approx(440 / 465)


def test_breakdowns_on_no_records_are_empty_frames() -> None:
    b = compute_breakdowns({}, KpiConfig(period="2026-Q1"), as_of=AS_OF)
    assert all(isinstance(f, pd.DataFrame) for f in b.values())
    assert b["pipeline_by_stage"].empty


def test_catalogue_lists_every_kpi_with_its_definition() -> None:
    from audit.kpis import catalogue_markdown

    text = catalogue_markdown()
    for name, spec in KPIS.items():
        assert f"| `{name}` |" in text
        assert spec.definition.replace("|", "\\|") in text


def test_notes_flag_mixed_currencies_undated_deals_and_partial_periods() -> None:
    deals = make_frame(
        "deals",
        stage=["closedwon", "closedlost", "closedwon"],
        amount=["10", "20", "30"],
        currency=["USD", "krw", "USD"],
        closed_at=["2026-02-01", "2026-02-01", None],
    )
    quotas = make_frame("quotas", owner=["a"], amount=["1"], period_start=["2026-01-01"])
    out = compute_kpis(
        {"deals": deals, "quotas": quotas},
        KpiConfig(period="2026-Q1", include=["close_rate", "quota_attainment"]),
        as_of=dt.date(2026, 3, 15),
    ).set_index("kpi_id")
    assert out.loc["close_rate", "note"] == (
        "1 won, 1 lost; 1 closed deals without closed_at left out; "
        "the period is not over on 2026-03-15: partial"
    )
    # a won and a dollar are never added: the KPI is withheld and says how to convert
    assert out.loc["quota_attainment", "status"] == "withheld"
    assert out.loc["quota_attainment", "note"] == (
        "deals amounts are in 2 currencies (KRW, USD): "
        "set kpis.currency and kpis.currency_rates to convert them"
    )
    converted = compute_kpis(
        {"deals": deals, "quotas": quotas},
        KpiConfig(
            period="2026-Q1",
            include=["quota_attainment"],
            currency="USD",
            currency_rates={"KRW": 0.5},
        ),
        as_of=dt.date(2026, 3, 15),
    ).set_index("kpi_id")
    assert converted.loc["quota_attainment", "status"] == "ok"
    assert "converted to USD" in converted.loc["quota_attainment", "note"]


def test_a_bare_year_in_yaml_is_a_period() -> None:
    cfg = KpiConfig.model_validate(yaml.safe_load("period: 2026"))
    assert parse_period(cfg.period, as_of=AS_OF).label == "2026"


def test_a_failing_kpi_is_a_row_not_a_crash() -> None:
    from audit.kpis import KpiValue, kpi
    from audit.kpis.catalogue import KPIS

    @kpi("zz_broken", title="Broken", unit="count", definition="raises", needs=("deals.stage",))
    def broken(frames, period, params) -> KpiValue:  # type: ignore[no-untyped-def]
        raise ZeroDivisionError("boom")

    try:
        deals = make_frame("deals", stage=["won"])
        out = compute_kpis({"deals": deals}, KpiConfig(include=["zz_broken"]), as_of=AS_OF)
        assert out.iloc[0]["status"] == "error"
        assert out.iloc[0]["note"] == "KPI failed: ZeroDivisionError: boom"
    finally:
        del KPIS._entries["zz_broken"]


@settings(deadline=None, max_examples=25)
@given(
    st.lists(
        st.tuples(
            st.integers(0, 7),  # customer
            st.integers(-400, 80),  # start day relative to 2026-01-01
            st.one_of(st.none(), st.integers(1, 400)),  # length in days, None = running
        ),
        min_size=1,
        max_size=25,
    )
)
def test_retention_and_churn_of_one_period_add_up_to_one(
    subs: list[tuple[int, int, int | None]],
) -> None:
    """Same population, same period: a customer at the start is either kept or lost, also
    when customers churn and come back, sign up, or hold several subscriptions."""
    base = pd.Timestamp("2026-01-01")
    rows = {
        "customer_id": [f"c{c}" for c, _, _ in subs],
        "started_at": [str((base + pd.Timedelta(days=s)).date()) for _, s, _ in subs],
        "ended_at": [
            None if n is None else str((base + pd.Timedelta(days=s + n)).date()) for _, s, n in subs
        ],
    }
    frame = make_frame("subscriptions", **rows)
    cfg = KpiConfig(period="2026-Q1", include=["retention_rate", "churn_rate"])
    out = compute_kpis({"subscriptions": frame}, cfg, as_of=AS_OF).set_index("kpi_id")
    if out.loc["churn_rate", "status"] != "ok":
        assert out.loc["retention_rate", "status"] == "no_data"
        return
    total = out.loc["retention_rate", "value"] + out.loc["churn_rate", "value"]
    assert total == pytest.approx(1.0)
    assert out.loc["retention_rate", "n"] == out.loc["churn_rate", "n"]
