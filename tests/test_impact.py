"""Impact of data quality: KPI values on raw records beside the cleaned view, with the cause."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest

from audit.config import KpiConfig
from audit.kpis import clean_records, kpi_impact
from audit.model import Matches
from tests.factories import make_contacts, make_frame
from tests.test_score import issues

AS_OF = dt.date(2026, 4, 2)


def world() -> tuple[dict[str, pd.DataFrame], pd.DataFrame, Matches]:
    contacts = make_contacts(
        email=["ann@x.com", "ann.lee@x.com", "bob@x.com", "bad@@x"],
        last_activity_at=["2026-02-01"] * 4,
    )
    subs = make_frame(
        "subscriptions",
        customer_email=["ann@x.com", "ANN.LEE@x.com", "bob@x.com"],
        started_at=["2025-01-01", "2025-06-01", "2025-01-01"],
        ended_at=["2026-02-01", None, None],
    )
    clusters = pd.DataFrame(
        {
            "cluster_id": ["c1", "c1", "c9", "c9"],
            "record_id": ["t:1", "t:2", "t:3", "t:4"],
            "band": ["auto", "auto", "review", "review"],  # review band stays unmerged
            "is_survivor": [True, False, True, False],
        }
    )
    iss = issues(("t:4", "contacts", "email", "contacts.email.valid", "validity", "error"))
    return (
        {"contacts": contacts, "subscriptions": subs},
        iss,
        Matches(pairs=pd.DataFrame(), clusters=clusters),
    )


def test_clean_view_merges_trusted_clusters_and_drops_bad_emails() -> None:
    records, iss, matches = world()
    clean, stats = clean_records(records, iss, matches)
    assert stats == {
        "duplicates_merged": 1,
        "emails_excluded": 1,
        "references_repointed": 1,
        "business_duplicates_removed": 0,
        "deleted_excluded": 0,
    }
    assert clean["contacts"]["record_id"].tolist() == ["t:1", "t:3", "t:4"]
    assert clean["contacts"].set_index("record_id").loc["t:4", "email"] is None
    assert clean["subscriptions"]["customer_email"].tolist()[1] == "ann@x.com"
    assert records["contacts"]["email"].tolist()[3] == "bad@@x"  # input untouched


def test_approved_decision_merges_a_review_cluster_too() -> None:
    records, iss, matches = world()
    cl = matches.clusters.assign(decision=[None, None, "approve", "approve"])
    _, stats = clean_records(records, iss, Matches(pairs=matches.pairs, clusters=cl))
    assert stats["duplicates_merged"] == 2


def test_impact_shows_raw_and_clean_values_with_the_cause() -> None:
    records, iss, matches = world()
    clean, stats = clean_records(records, iss, matches)
    cfg = KpiConfig(period="2026-Q1", include=["churn_rate", "email_reachability", "nps"])
    out = kpi_impact(records, clean, cfg, AS_OF, stats=stats).set_index("kpi_id")
    churn = out.loc["churn_rate"]
    # raw: ann@x.com and ann.lee@x.com are two customers, one churned: 1/3;
    # clean: one customer who still has a live subscription: 0/2
    assert churn["raw_value"] == pytest.approx(1 / 3)
    assert churn["clean_value"] == pytest.approx(0.0)
    assert churn["delta"] == pytest.approx(-1 / 3)
    assert churn["cause"] == (
        "customer count -25% after merging 1 duplicates; denominator 3 -> 2; "
        "churn_rate 33.3% -> 0.0%"
    )
    reach = out.loc["email_reachability"]
    assert (reach["raw_value"], reach["clean_value"]) == pytest.approx((0.75, 2 / 3))
    assert "1 invalid or stale emails excluded" in reach["cause"]
    assert out.loc["nps", "cause"] == "no data"


def test_unchanged_kpi_says_so() -> None:
    records, iss, _ = world()
    empty = Matches(pairs=pd.DataFrame(), clusters=pd.DataFrame())
    clean, stats = clean_records(records, iss.iloc[0:0], empty)
    out = kpi_impact(records, clean, KpiConfig(period="2026-Q1", include=["churn_rate"]), AS_OF)
    assert out.iloc[0]["cause"] == "no change"
    assert stats["duplicates_merged"] == 0


def test_survivor_takes_the_golden_values_of_its_cluster() -> None:
    records, iss, matches = world()
    records["contacts"]["phone"] = None
    golden = pd.DataFrame(
        {"cluster_id": ["c1"], "survivor_id": ["t:1"], "phone": ["+8210"], "email": [None]}
    )
    clean, _ = clean_records(
        records, iss, Matches(pairs=matches.pairs, clusters=matches.clusters, golden=golden)
    )
    c = clean["contacts"].set_index("record_id")
    assert c.loc["t:1", "phone"] == "+8210"
    assert c.loc["t:1", "email"] == "ann@x.com"  # a missing golden value keeps the survivor's
    assert pd.isna(c.loc["t:3", "phone"])
