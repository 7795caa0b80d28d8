"""The validate stage end to end: planted problems are found (and nothing else), every rule is
accounted for in `checked`, and output does not depend on row order."""

from __future__ import annotations

import datetime as dt
import random
import re
from pathlib import Path

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from audit import schema
from audit.config import NormalizeConfig, RulesConfig
from audit.normalize import normalize
from audit.packdata import find_rule_file
from audit.validate import validate
from audit.validate.checks.contact import FAST_VALID_EMAIL, email_problem, phone_problem
from audit.validate.rulepack import load_pack
from tests.factories import make_contacts, make_frame

AS_OF = dt.date(2026, 1, 31)

# planted kind -> the rule that must find it
RULE_FOR = {
    "email_syntax": "contacts.email.valid",
    "email_placeholder": "contacts.email.placeholder",
    "phone_placeholder": "contacts.phone.placeholder",
    "name_placeholder": "contacts.last_name.placeholder",
    "email_in_phone": "contacts.phone.wrong_field",
    "missing_email": "contacts.email.required",
    # only valid numbers get an E.164 value: normalize reports the others, naming the region
    "phone_invalid": "normalize.phone.invalid",
    "phone_country": "contacts.phone.country_mismatch",
    "disposable": "contacts.email.disposable",
    "role": "contacts.email.role",
    "typo_domain": "contacts.email.typo_domain",
    "cleaned": "contacts.email.cleaned",
    "inactive": "contacts.email.inactive",
    "hard_bounce": "contacts.email.bounced",
    "future_created": "contacts.created_at.not_future",
}


def planted(n: int = 300, seed: int = 11) -> tuple[dict[str, pd.DataFrame], set[tuple[str, str]]]:
    """Clean KR/JP/US contacts with one planted problem on every third row."""
    rng = random.Random(seed)
    rows: list[dict[str, object]] = []
    truth: set[tuple[str, str]] = set()
    bounced: list[str] = []
    kinds = sorted(RULE_FOR)
    for i in range(n):
        region = ["KR", "JP", "US"][i % 3]
        phone = {
            "KR": f"010-{rng.randint(2000, 4999)}-{rng.randint(1000, 9999)}",
            "JP": f"090-{rng.randint(2000, 9999)}-{rng.randint(1000, 9999)}",
            "US": f"(212) 555-{rng.randint(1000, 1999)}",
        }[region]
        row: dict[str, object] = {
            "first_name": f"Given{i}",
            "last_name": f"Family{i}",
            "email": f"person{i}@{['naver.com', 'gmail.com', 'outlook.com'][i % 3]}",
            "phone": phone,
            "country": region,
            "created_at": "2024-05-01",
            "last_activity_at": "2025-09-01",
            "email_status": "subscribed",
        }
        rid = f"t:{i + 1}"
        if i % 3 == 0:
            kind = kinds[(i // 3) % len(kinds)]
            truth.add((rid, RULE_FOR[kind]))
            if kind == "email_syntax":
                row["email"] = f"person{i}@@naver.com"
            elif kind == "email_placeholder":
                row["email"] = "none@none.com" if i % 2 else "test@test.com"
            elif kind == "phone_placeholder":
                row["phone"], row["country"] = "010-0000-0000", "KR"
            elif kind == "name_placeholder":
                row["last_name"] = "nolastname"
            elif kind == "email_in_phone":
                row["phone"] = f"person{i}@naver.com"
            elif kind == "missing_email":
                row["email"] = None
            elif kind == "phone_invalid":
                row["phone"], row["country"] = "+82 10 1234", "KR"
            elif kind == "phone_country":
                row["phone"], row["country"] = "+81 90 1234 5678", "KR"
            elif kind == "disposable":
                row["email"] = f"person{i}@mailinator.com"
            elif kind == "role":
                row["email"] = f"info@company{i}.co.kr"
            elif kind == "typo_domain":
                row["email"] = f"person{i}@gmial.com"
            elif kind == "cleaned":
                row["email_status"] = "cleaned"
            elif kind == "inactive":
                row["last_activity_at"] = "2023-01-15"
            elif kind == "hard_bounce":
                bounced.append(str(row["email"]))
            elif kind == "future_created":
                row["created_at"] = "2026-06-01"
        rows.append(row)
    cols = {k: [r[k] for r in rows] for k in rows[0]}
    events = make_frame(
        "email_events",
        address=[*bounced, "person1@gmail.com"],
        event=["bounce"] * (len(bounced) + 1),
        classification=["hard"] * len(bounced) + ["soft"],
        status=["5.1.1"] * len(bounced) + ["4.2.2"],
        reason=["user unknown"] * len(bounced) + ["mailbox full"],
        occurred_at=["2025-12-01"] * (len(bounced) + 1),
    )
    return {"contacts": make_contacts(**cols), "email_events": events}, truth


def _run(frames: dict[str, pd.DataFrame], **cfg: object):
    recs, _ = normalize(frames, NormalizeConfig(), [])
    rc = RulesConfig(gx=False, **cfg)  # type: ignore[arg-type]
    return recs, validate(recs, rc, as_of=AS_OF, stale_after_days=730)


def test_planted_problems_are_found_with_full_precision_and_recall() -> None:
    frames, truth = planted()
    recs, norm_issues = normalize(frames, NormalizeConfig(), [])
    v = validate(
        recs,
        RulesConfig(gx=False, packs=["contacts.core", "contacts.stale"]),
        as_of=AS_OF,
        stale_after_days=730,
    )
    found = set(zip(v.issues["record_id"], v.issues["rule_id"], strict=True))
    found |= set(zip(norm_issues["record_id"], norm_issues["rule_id"], strict=True))
    for rule in sorted(set(RULE_FOR.values())):
        want = {t for t in truth if t[1] == rule}
        got = {f for f in found if f[1] == rule}
        tp = len(want & got)
        precision = tp / len(got) if got else 1.0
        recall = tp / len(want) if want else 1.0
        assert want, rule
        assert (precision, recall) == (1.0, 1.0), (rule, want - got, got - want)


def test_issues_and_checked_follow_the_contract() -> None:
    frames, _ = planted(60)
    _, v = _run(frames)
    assert list(v.issues.columns) == schema.ISSUE_COLUMNS
    assert v.issues["message"].notna().all()
    assert set(v.issues["severity"]) <= {"error", "warning", "info"}
    chk = v.checked
    assert {"rule_id", "entity", "field", "dimension", "severity", "n_checked", "n_failed"} <= set(
        chk.columns
    )
    per_rule = v.issues.groupby("rule_id").size()
    for _, r in chk.iterrows():
        assert r["n_failed"] == per_rule.get(r["rule_id"], 0)
        assert r["n_failed"] <= max(r["n_checked"], 0)


def test_rules_for_absent_entities_are_skipped_not_passed() -> None:
    frames, _ = planted(30)
    _, v = _run(frames, packs=["contacts.core", "tickets.core"])
    t = v.checked[v.checked["entity"] == "tickets"]
    assert len(t) == len(load_pack(find_rule_file("tickets.core"))) >= 4
    assert set(t["status"]) == {"skipped"} and set(t["n_checked"]) == {0}
    assert t["note"].str.contains("no tickets").all()


def test_a_rule_whose_column_has_no_values_says_so() -> None:
    frames, _ = planted(30)
    _, v = _run(frames, packs=["contacts.core"])
    row = v.checked.set_index("rule_id").loc["contacts.mobile.placeholder"]
    assert row["status"] == "empty" and row["n_checked"] == 0


def test_a_check_that_raises_is_errored_and_the_others_still_run(tmp_path: Path) -> None:
    (tmp_path / "bad.yaml").write_text(
        "pack: bad\nentity: contacts\nrules:\n"
        "  - id: contacts.created_at.after_email\n    kind: date_order\n    field: created_at\n"
        "    after: email\n    dimension: consistency\n    message: m\n",
        encoding="utf-8",
    )
    frames, _ = planted(30)
    recs, _ = normalize(frames, NormalizeConfig(), [])
    v = validate(
        recs,
        RulesConfig(packs=["contacts.core", "bad.yaml"], gx=False),
        as_of=AS_OF,
        base_dir=tmp_path,
    )
    row = v.checked.set_index("rule_id").loc["contacts.created_at.after_email"]
    assert row["status"] == "errored" and row["n_checked"] == -1
    assert (v.checked["status"] == "ok").sum() > 5


def test_output_does_not_depend_on_row_order() -> None:
    frames, _ = planted(90)
    _, v1 = _run(frames)
    shuffled = {k: f.sample(frac=1, random_state=5) for k, f in frames.items()}
    _, v2 = _run(shuffled)
    pd.testing.assert_frame_equal(v1.issues, v2.issues)
    pd.testing.assert_frame_equal(v1.checked, v2.checked)


def test_deal_ticket_and_reference_rules() -> None:
    contacts = make_contacts(external_id=["C1", "C2"], email=["a@x.com", "b@x.com"])
    deals = make_frame(
        "deals",
        amount=["100", "-5", "10"],
        is_closed=["true", "true", "false"],
        closed_at=["2026-01-10", None, None],
        created_at=["2026-01-01", "2026-01-01", "2026-01-01"],
        contact_id=["C1", "C9", None],
        contact_email=[None, None, "A@X.com"],
    )
    tickets = make_frame(
        "tickets",
        created_at=["2026-01-05 10:00", "2026-01-05 10:00"],
        solved_at=["2026-01-05 12:00", "2026-01-04 09:00"],
        requester_email=["b@x.com", "zz@x.com"],
    )
    _, v = _run(
        {"contacts": contacts, "deals": deals, "tickets": tickets},
        packs=["deals.core", "tickets.core"],
    )
    found = set(zip(v.issues["record_id"], v.issues["rule_id"], strict=True))
    assert ("t:2", "deals.amount.non_negative") in found
    assert ("t:2", "deals.closed_at.required_if_closed") in found
    assert ("t:2", "deals.contact_id.exists") in found
    assert ("t:3", "deals.contact_email.exists") not in found  # email keys match
    assert ("t:2", "tickets.solved_at.after_created") in found
    assert ("t:2", "tickets.requester_email.exists") in found
    assert ("t:1", "tickets.solved_at.after_created") not in found
    assert not any(r.startswith("deals.") and rid == "t:1" for rid, r in found)


def test_email_and_phone_validity_equal_per_row_library_calls() -> None:
    values = [
        "a@b.com",
        "a@@b.com",
        "a b@c.com",
        "a@localhost",
        "x@xn--r8jz45g.jp",
        "a@b",
        "john..doe@x.com",
        ".a@x.com",
        "a@-x.com",
        "müller@example.de",
        None,
    ] * 3
    phones = ["010-1234-5678", "+82 10 1234", "+1 212 555 0142", "+81 3 1234 5678", None] * 3
    c = make_contacts(email=values, phone=phones[: len(values)] + [None] * (len(values) - 15))
    recs, v = _run({"contacts": c}, packs=["contacts.core"])
    flagged = v.issues.groupby("rule_id")["record_id"].apply(set).to_dict()
    out = recs["contacts"]
    for _, row in out.iterrows():
        e, p = row["email"], row["phone_e164"]
        exp_e = isinstance(e, str) and email_problem(e) is not None
        exp_p = isinstance(p, str) and phone_problem(p) is not None
        assert (row["record_id"] in flagged.get("contacts.email.valid", set())) == exp_e, e
        assert (row["record_id"] in flagged.get("contacts.phone.valid", set())) == exp_p, p


@pytest.mark.slow
def test_parallel_path_equals_serial(monkeypatch: pytest.MonkeyPatch) -> None:
    """Enough distinct values to use the process pool; results equal the one-process run."""
    from audit import columnwise

    monkeypatch.setattr(columnwise, "PARALLEL_MIN", 50)
    frames, _ = planted(300)
    _, par = _run(frames, packs=["contacts.core"])
    monkeypatch.setenv("CRM_AUDIT_WORKERS", "1")
    _, ser = _run(frames, packs=["contacts.core"])
    pd.testing.assert_frame_equal(par.issues, ser.issues)


_atom = st.text(alphabet="abcxyz0189_+-", min_size=1, max_size=12)
_label = st.from_regex(r"[a-z0-9](?:[a-z0-9-]{0,20}[a-z0-9])?", fullmatch=True)
_tld = st.from_regex(r"[a-z](?:[a-z0-9-]{0,8}[a-z])?", fullmatch=True)
_address = st.builds(
    lambda atoms, labels, tld: ".".join(atoms) + "@" + ".".join([*labels, tld]),
    st.lists(_atom, min_size=1, max_size=4),
    st.lists(_label, min_size=1, max_size=3),
    st.one_of(_tld, st.sampled_from(["com", "local", "test", "onion", "co", "arpa"])),
)


@settings(max_examples=400, deadline=None)
@given(_address)
def test_fast_accept_pattern_only_accepts_what_email_validator_accepts(address: str) -> None:
    """Every address the vectorized pre-pass settles as valid, email-validator accepts too."""
    if re.fullmatch(FAST_VALID_EMAIL, address):
        assert email_problem(address) is None, address


def test_empty_frames_run_every_rule_without_errors() -> None:
    recs, issues = normalize(
        {"contacts": schema.empty("contacts"), "deals": schema.empty("deals")},
        NormalizeConfig(),
        [],
    )
    assert len(issues) == 0
    assert str(recs["contacts"]["created_at"].dtype) == "datetime64[ns, UTC]"
    v = validate(recs, RulesConfig(gx=False), as_of=AS_OF)
    assert set(v.checked["status"]) == {"empty", "skipped"}
    assert (v.checked["n_checked"] == 0).all()
