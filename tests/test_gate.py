"""Gate: reasons, warnings, strict mode, per-KPI withholding and quick wins."""

from __future__ import annotations

import pandas as pd
import pytest

from audit.config import Thresholds
from audit.gate import gate, quick_wins
from audit.schema import empty_issues
from audit.score import score
from tests.factories import make_contacts, make_frame
from tests.test_score import CHECKED, EMPTY_MATCHES, ISSUES, checked, issues, ten_contacts


def card(records=None, chk=CHECKED, iss=ISSUES, **thresholds):  # type: ignore[no-untyped-def]
    records = {"contacts": ten_contacts()} if records is None else records
    return score(records, iss, EMPTY_MATCHES, Thresholds(**thresholds), checked=chk)


def test_passes_when_every_threshold_is_met() -> None:
    # overall 0.77 = (0.8 + 0.5 + 1.0) / 3; completeness and validity meet lowered floors
    v = gate(card(), Thresholds(overall=0.7, dimensions={"completeness": 0.5, "validity": 0.8}))
    assert v.passed and v.reasons == ()


def test_default_floors_fail_a_red_dimension_behind_a_green_overall() -> None:
    v = gate(card(), Thresholds(overall=0.7))
    assert not v.passed
    assert v.reasons == (
        "completeness 50% < floor 80% (thresholds.dimensions.completeness): 5 of 10 contacts "
        "fail; 5 contacts have no email; see issues.csv",
        "validity 80% < floor 90% (thresholds.dimensions.validity): 2 of 10 contacts fail; "
        "2 contacts fail contacts.email.valid; see issues.csv",
    )


def test_a_floor_holds_for_each_entity_not_only_for_the_pooled_rows() -> None:
    contacts = make_contacts(email=[f"p{i}@x.com" for i in range(10)])
    deals = make_frame("deals", amount=[str(i) for i in range(40)])
    chk = checked(
        ("contacts.email.valid", "contacts", "email", "validity", "error", 10, 3),
        ("deals.amount.non_negative", "deals", "amount", "validity", "error", 40, 0),
    )
    iss = issues(
        *[
            (f"t:{i}", "contacts", "email", "contacts.email.valid", "validity", "error")
            for i in (1, 2, 3)
        ]
    )
    sc = card(records={"contacts": contacts, "deals": deals}, chk=chk, iss=iss)
    dims = sc.by_dimension.set_index("dimension")
    assert dims.loc["validity", "score"] == pytest.approx(47 / 50)  # pooled: 3 of 50 rows
    v = gate(sc, Thresholds(overall=0.5))
    assert v.reasons == (
        "validity of contacts 70% < floor 90% (thresholds.dimensions.validity): 3 of 10 "
        "contacts fail; 3 contacts fail contacts.email.valid; see issues.csv",
    )


def test_a_floor_can_be_switched_off_and_unmeasured_dimensions_are_not_gated() -> None:
    off = gate(card(), Thresholds(overall=0.7, dimensions={"completeness": None, "validity": None}))
    zero = gate(card(), Thresholds(overall=0.7, dimensions={"completeness": 0, "validity": 0}))
    assert off.passed and zero.passed
    # freshness, consistency and integrity are not measured here: n/a, not failures
    assert Thresholds().floors()["freshness"] == 0.8


def test_overall_dimension_and_rule_thresholds_give_readable_reasons() -> None:
    t = Thresholds(
        overall=0.85,
        dimensions={"completeness": 0.9, "freshness": 0.5},
        rules={"contacts.email.valid": 0.95, "contacts.phone.valid": 0.5, "nope.rule.x": 0.5},
    )
    v = gate(card(), t)
    assert not v.passed
    assert v.reasons == (
        "overall 0.77 < 0.85 (thresholds.overall)",
        "completeness 50% < floor 90% (thresholds.dimensions.completeness): 5 of 10 contacts "
        "fail; 5 contacts have no email; see issues.csv",
        "validity 80% < floor 90% (thresholds.dimensions.validity): 2 of 10 contacts fail; "
        "2 contacts fail contacts.email.valid; see issues.csv",
        "contacts.email.valid pass rate 0.80 < 0.95 (2 rows fail)",
        "nope.rule.x did not run, but thresholds.rules requires 0.50",
    )


def test_warning_rule_below_its_threshold_fails_only_when_strict() -> None:
    chk = checked(
        ("contacts.phone.valid", "contacts", "phone", "validity", "warning", 10, 3),
        ("contacts.email.required", "contacts", "email", "completeness", "error", 10, 0),
    )
    sc = card(chk=chk, iss=empty_issues())
    # the validity floor is switched off: only the warning rule's own threshold is at stake
    lax = gate(
        sc,
        Thresholds(overall=0.5, dimensions={"validity": None}, rules={"contacts.phone.valid": 0.9}),
    )
    assert lax.passed
    assert lax.warnings == ("contacts.phone.valid pass rate 0.70 < 0.90 (3 rows fail)",)
    strict = gate(
        sc,
        Thresholds(
            overall=0.5,
            dimensions={"validity": None},
            rules={"contacts.phone.valid": 0.9},
            strict=True,
        ),
    )
    assert not strict.passed
    assert strict.reasons == ("strict: contacts.phone.valid pass rate 0.70 < 0.90 (3 rows fail)",)


@pytest.mark.parametrize(
    "records, chk, reason",
    [
        ({}, CHECKED, "no records were read: empty inputs never pass (check the sources)"),
        ({"contacts": make_contacts(n=0)}, CHECKED, "no records were read"),
        (None, checked(), "no rule of the rule packs ran on the records read (10 contacts)"),
        (
            None,
            checked(("contacts.email.valid", "contacts", "email", "validity", "error", -1, 0)),
            "check contacts.email.valid errored: its result is unknown, so it fails",
        ),
    ],
)
def test_nothing_passes_silently(records, chk, reason) -> None:  # type: ignore[no-untyped-def]
    sc = card(records=records, chk=None if chk.empty else chk, iss=empty_issues())
    v = gate(sc, Thresholds(overall=0.0))
    assert not v.passed
    assert any(r.startswith(reason) for r in v.reasons), v.reasons


def test_kpi_withheld_on_its_own_inputs_while_the_gate_passes() -> None:
    subs = make_frame(
        "subscriptions",
        started_at=["2025-01-01"] * 71 + [None] * 29,
        canceled_at=[None] * 100,  # optional: empty for active subscriptions is not missing
    )
    sc = card(records={"contacts": ten_contacts(), "subscriptions": subs})
    needs = {
        "churn_rate": ["subscriptions.started_at", "subscriptions.canceled_at?"],
        "email_reachability": ["contacts.email"],
        "nps": ["surveys.score"],  # no surveys: no_data later, not withheld
    }
    v = gate(sc, Thresholds(overall=0.5, dimensions={"completeness": 0.5, "validity": 0.5}), needs)
    assert v.passed
    assert v.withheld_kpis == {
        "churn_rate": "subscriptions.started_at completeness 0.71 < 0.90",
        "email_reachability": "contacts.email validity 0.80 < 0.90",
    }
    assert "churn_rate withheld: subscriptions.started_at completeness 0.71 < 0.90" in v.warnings


def test_kpi_withheld_when_its_field_validity_is_low() -> None:
    v = gate(card(), Thresholds(overall=0.5, kpi_inputs=0.9), {"reach": ["contacts.email"]})
    assert v.withheld_kpis == {"reach": "contacts.email validity 0.80 < 0.90"}


def test_missing_column_is_named() -> None:
    deals = make_frame("deals", amount=["1", "2"])
    sc = card(records={"contacts": ten_contacts(), "deals": deals})
    v = gate(sc, Thresholds(overall=0.5), {"close_rate": ["deals.stage"]})
    assert v.withheld_kpis == {"close_rate": "deals.stage is missing (no value in 2 rows)"}


def test_quick_wins_rank_fixes_by_points_of_overall_score() -> None:
    sc = card()
    # completeness: 5 rows fail only the required rule, of 10 rows, x 1/3 weight share
    # = +16.7 points; email validity: 2 of 10 rows x 1/3 = +6.7 points
    assert quick_wins(sc) == (
        "fix 5 contacts.email.required failures: +16.7 points",
        "fix 2 contacts.email.valid failures: +6.7 points",
    )
    assert gate(sc, Thresholds(overall=0.99)).quick_wins == quick_wins(sc)


def test_duplicates_awaiting_merge_are_a_warning() -> None:
    clusters = pd.DataFrame(
        {"cluster_id": ["c", "c"], "record_id": ["t:1", "t:2"], "band": ["review", "review"]}
    )
    from audit.model import Matches

    sc = score(
        {"contacts": ten_contacts()},
        ISSUES,
        Matches(pairs=EMPTY_MATCHES.pairs, clusters=clusters),
        Thresholds(),
        checked=CHECKED,
    )
    v = gate(sc, Thresholds(overall=0.5, strict=True))
    assert (
        "1 duplicate contact record awaits a merge decision (crm-audit merge apply)" in v.warnings
    )
    assert not v.passed


def test_required_column_missing_fails_other_skipped_rules_warn() -> None:
    chk = checked(
        ("contacts.email.valid", "contacts", "email", "validity", "error", 10, 0),
        ("contacts.phone.required", "contacts", "phone", "completeness", "error", 0, 0),
        ("contacts.email.bounced", "contacts", "email", "freshness", "error", 0, 0),
        ("deals.amount.required", "deals", "amount", "completeness", "error", 0, 0),  # no deals
    )
    v = gate(card(chk=chk, iss=empty_issues()), Thresholds(overall=0.5))
    assert v.reasons == (
        "required column contacts.phone is missing from the data "
        "(contacts.phone.required could not run)",
    )
    assert v.warnings[0] == (
        "1 rule could not check its column (missing in the data): contacts.email.bounced"
    )
