"""Stale-email signals: each one flags with its evidence; a single soft bounce does not."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest

from audit.config import NormalizeConfig, RulesConfig
from audit.normalize import normalize
from audit.validate import validate
from audit.validate.checks.stale import typo_fix
from tests.factories import make_contacts, make_frame

AS_OF = dt.date(2026, 1, 31)


def _validate(contacts: pd.DataFrame, events: pd.DataFrame | None = None, **kw: object):
    frames = {"contacts": contacts}
    if events is not None:
        frames["email_events"] = events
    recs, _ = normalize(frames, NormalizeConfig(), [])
    cfg = RulesConfig(packs=["contacts.stale"], gx=False, **kw)  # type: ignore[arg-type]
    return validate(recs, cfg, as_of=AS_OF, stale_after_days=730)


def _found(v, rule: str) -> dict[str, pd.Series]:
    sub = v.issues[v.issues["rule_id"] == rule]
    return {r["record_id"]: r for _, r in sub.iterrows()}


def _events() -> pd.DataFrame:
    return make_frame(
        "email_events",
        address=[
            "Dead@Example.org",
            "full@example.org",
            "flaky@example.org",
            "flaky@example.org",
            "flaky@example.org",
            "burst@example.org",
            "burst@example.org",
            "burst@example.org",
        ],
        event=["bounce"] * 8,
        classification=["hard", "soft", "soft", "soft", "soft", "soft", "soft", "soft"],
        status=["5.1.1", "4.2.2", "4.2.2", "4.2.2", "4.2.2", "4.4.1", "4.4.1", "4.4.1"],
        reason=["user unknown", "mailbox full", None, None, None, None, None, None],
        occurred_at=[
            "2025-11-02 10:00",
            "2025-12-01",
            "2025-10-01",
            "2025-10-20",
            "2025-11-15",
            "2025-12-01 10:00",
            "2025-12-01 11:00",
            "2025-12-01 12:00",
        ],
    )


def test_hard_bounce_flags_with_date_status_and_reason() -> None:
    c = make_contacts(email=["dead@example.org", "alive@example.org"])
    v = _validate(c, _events())
    hits = _found(v, "contacts.email.bounced")
    assert list(hits) == ["t:1"]
    ev = hits["t:1"]["evidence"]
    assert "2025-11-02" in ev and "5.1.1" in ev and "user unknown" in ev
    assert hits["t:1"]["dimension"] == "freshness"


def test_one_soft_bounce_is_not_stale_but_repeated_ones_over_a_period_are() -> None:
    c = make_contacts(email=["full@example.org", "flaky@example.org", "burst@example.org"])
    v = _validate(c, _events())
    assert "contacts.email.bounced" not in set(v.issues["rule_id"])
    soft = _found(v, "contacts.email.soft_bounced")
    # full: one soft bounce; burst: three within hours (not over a period); flaky: 3 over 45 days
    assert list(soft) == ["t:2"]
    assert "3 soft bounces" in soft["t:2"]["evidence"]


def test_bounce_rules_are_skipped_not_passed_without_an_inbox_export() -> None:
    v = _validate(make_contacts(email=["a@b.com"]))
    chk = v.checked.set_index("rule_id")
    assert chk.loc["contacts.email.bounced", "status"] == "skipped"
    assert chk.loc["contacts.email.bounced", "n_checked"] == 0
    assert "email_events" in chk.loc["contacts.email.bounced", "note"]


@pytest.mark.parametrize("status", ["cleaned", "Bounced", "hard bounce", "true"])
def test_app_export_status_marks_stale(status: str) -> None:
    c = make_contacts(email=["a@b.com", "c@d.com"], email_status=[status, "subscribed"])
    v = _validate(c)
    hits = _found(v, "contacts.email.cleaned")
    assert list(hits) == ["t:1"]
    assert status in hits["t:1"]["evidence"]


def test_inactive_uses_the_latest_activity_of_the_address_and_the_window() -> None:
    c = make_contacts(
        email=["old@b.com", "new@b.com", "upd@b.com", "none@b.com", "OLD@b.com", "both@b.com"],
        last_activity_at=["2023-06-01", "2025-06-01", None, None, None, "2023-01-01"],
        updated_at=[None, None, "2022-01-01", None, None, "2025-12-01"],
    )
    v = _validate(c)
    hits = _found(v, "contacts.email.inactive")
    # t:5 carries the same address as t:1 (case folded): stale wherever it is used.
    # t:3 has only updated_at (a list sync bumps it): never condemned on that alone.
    # t:6 was edited recently: a sign of life that clears the old activity date.
    assert sorted(hits) == ["t:1", "t:5"]
    assert "730 days" in hits["t:1"]["message"]
    assert "2023-06-01" in hits["t:1"]["evidence"]
    chk = v.checked.set_index("rule_id").loc["contacts.email.inactive"]
    assert chk["n_checked"] == 4  # rows without any activity date cannot be judged
    v2 = _validate(c, params={"contacts.email.inactive": {"days": 180}})
    assert sorted(_found(v2, "contacts.email.inactive")) == ["t:1", "t:2", "t:5"]


def test_activities_and_received_mail_keep_an_address_alive() -> None:
    c = make_contacts(email=["a@b.com", "c@d.com"], last_activity_at=["2022-01-01", "2022-01-01"])
    acts = make_frame("activities", contact_email=["A@b.com"], occurred_at=["2025-12-01"])
    recs, _ = normalize({"contacts": c, "activities": acts}, NormalizeConfig(), [])
    v = validate(recs, RulesConfig(packs=["contacts.stale"], gx=False), as_of=AS_OF)
    assert list(_found(v, "contacts.email.inactive")) == ["t:2"]


def test_disposable_role_and_typo_domains() -> None:
    c = make_contacts(
        email=[
            "kim@mailinator.com",
            "info@acme.co.kr",
            "Sales+kr@acme.com",
            "lee@gmial.com",
            "park@naver.co",
            "sato@yahoo.co.jpp",
            "ok@gmail.com",
            "ok@mail.com",
        ]
    )
    v = _validate(c)
    assert list(_found(v, "contacts.email.disposable")) == ["t:1"]
    assert sorted(_found(v, "contacts.email.role")) == ["t:2", "t:3"]
    typo = _found(v, "contacts.email.typo_domain")
    assert sorted(typo) == ["t:4", "t:5", "t:6"]
    # a guess for a person to confirm, said so, never a ready-made replacement address
    assert typo["t:4"]["suggestion"].startswith("did you mean lee@gmail.com? (a guess")
    assert typo["t:5"]["suggestion"].startswith("did you mean park@naver.com? (a guess")
    assert typo["t:6"]["suggestion"].startswith("did you mean sato@yahoo.co.jp? (a guess")


@pytest.mark.parametrize(
    ("domain", "fix"),
    [
        ("gmial.com", "gmail.com"),
        ("gmail.co", "gmail.com"),
        ("naver.co", "naver.com"),
        ("yahoo.jp", "yahoo.co.jp"),
        ("yahoo.co.jpp", "yahoo.co.jp"),
        ("hotmial.com", "hotmail.com"),
        ("daum.ne", "daum.net"),
        ("qq.con", "qq.com"),
        ("gmail.com", None),
        ("mail.com", None),
        ("ymail.com", None),
        ("acme.co.kr", None),
        ("samsung.com", None),
        # the typos the rule has always found stay found
        ("hotmaill.com", "hotmail.com"),
        ("gmail.coom", "gmail.com"),
        ("yahooo.com", "yahoo.com"),
        ("hotmal.com", "hotmail.com"),
        ("gmai.com", "gmail.com"),
        ("outlok.com", "outlook.com"),
        ("daum.ner", "daum.net"),
        # real companies one letter from a provider (Cisco Umbrella top sites): not typos
        ("aon.com", None),  # 3 letters: only the ending may be a slip
        ("gm.com", None),
        ("mi.com", None),
        ("hive.com", None),  # another first letter is another name
        ("cloud.com", None),
        ("mlive.com", None),
        ("zoro.com", None),  # r for h: not a slip of the fingers
        ("aol.con", "aol.com"),  # a short name with a slipped ending still is
    ],
)
def test_typo_fix(domain: str, fix: str | None) -> None:
    assert typo_fix(domain) == fix
