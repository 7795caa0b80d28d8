"""Every registered rule kind has a passing and a failing example, and is documented."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pandas as pd
import pytest

from audit.config import NormalizeConfig
from audit.normalize import normalize
from audit.validate import kind_catalogue
from audit.validate.engine import run_rule
from audit.validate.kinds import KINDS, Context
from audit.validate.rulepack import Rule
from tests.factories import make_frame

AS_OF = dt.date(2026, 1, 31)

# kind -> (entity, field, params, columns of a 2-row frame: row 1 passes, row 2 fails)
EXAMPLES: dict[str, tuple[str, str, dict[str, Any], dict[str, list[Any]]]] = {
    "required": ("contacts", "email", {}, {"email": ["a@b.com", None]}),
    "matches": (
        "contacts",
        "postal_code",
        {"pattern": r"^\d{5}$"},
        {"postal_code": ["04524", "4524"]},
    ),
    "in_set": (
        "surveys",
        "survey_type",
        {"values": ["nps", "csat"]},
        {"survey_type": ["nps", "x"]},
    ),
    "range": ("deals", "amount", {"min": 0}, {"amount": ["10", "-1"]}),
    "unique": ("contacts", "external_id", {}, {"external_id": ["A", "B", "B"]}),
    # the same deal pasted twice (no id): the second copy is reported, not the first
    "duplicate_row": ("deals", "name", {}, {"name": ["A", "B", "B"], "amount": ["1", "2", "2"]}),
    "max_age": (
        "contacts",
        "updated_at",
        {"days": 30},
        {"updated_at": ["2026-01-20", "2025-01-01"]},
    ),
    "not_future": ("contacts", "created_at", {}, {"created_at": ["2026-01-31", "2026-03-01"]}),
    "placeholder": ("contacts", "last_name", {}, {"last_name": ["Kim", "nolastname"]}),
    "email_valid": ("contacts", "email", {}, {"email": ["a@b.com", "a@@b.com"]}),
    "phone_valid": ("contacts", "phone", {}, {"phone": ["+821012345678", "+821"]}),
    "wrong_field": (
        "contacts",
        "phone",
        {"looks_like": ["email"]},
        {"phone": ["010-1234-5678", "kim@naver.com"]},
    ),
    "phone_country": (
        "contacts",
        "phone",
        {"country_field": "country"},
        {"phone": ["+821012345678", "+819012345678"], "country": ["KR", "KR"]},
    ),
    "required_if": (
        "deals",
        "closed_at",
        {"when": "is_closed"},
        {"is_closed": ["true", "true"], "closed_at": ["2026-01-01", None]},
    ),
    "date_order": (
        "tickets",
        "solved_at",
        {"after": "created_at"},
        {"created_at": ["2026-01-01", "2026-01-05"], "solved_at": ["2026-01-02", "2026-01-04"]},
    ),
    "references": (
        "deals",
        "contact_id",
        {"to": "contacts", "column": "external_id"},
        {"contact_id": ["C1", "C9"]},
    ),
    "hard_bounce": ("contacts", "email", {}, {"email": ["ok@b.com", "dead@b.com"]}),
    "soft_bounces": ("contacts", "email", {}, {"email": ["ok@b.com", "full@b.com"]}),
    "status_flag": (
        "contacts",
        "email",
        {},
        {"email": ["a@b.com", "c@d.com"], "email_status": ["subscribed", "cleaned"]},
    ),
    "inactive": (
        "contacts",
        "email",
        {"days": 365},
        {"email": ["a@b.com", "c@d.com"], "last_activity_at": ["2025-12-01", "2023-01-01"]},
    ),
    "marked": (
        "contacts",
        "email",
        {"flag": "email_opt_out"},
        {"email": ["a@b.com", "c@d.com"], "email_opt_out": ["false", "yes"]},
    ),
    "domain_in_list": ("contacts", "email", {}, {"email": ["a@gmail.com", "a@mailinator.com"]}),
    "role_account": ("contacts", "email", {}, {"email": ["kim@acme.com", "sales@acme.com"]}),
    "typo_domain": ("contacts", "email", {}, {"email": ["a@gmail.com", "a@gmial.com"]}),
}


def _records(entity: str, cols: dict[str, list[Any]]) -> dict[str, pd.DataFrame]:
    frames = {entity: make_frame(entity, **cols)}
    frames["contacts"] = frames.get("contacts", make_frame("contacts", external_id=["C1"]))
    frames["email_events"] = make_frame(
        "email_events",
        address=["dead@b.com", "full@b.com", "full@b.com", "full@b.com", "ok@b.com"],
        event=["bounce"] * 5,
        classification=["hard", "soft", "soft", "soft", "soft"],
        status=["5.1.1", "4.2.2", "4.2.2", "4.2.2", "4.2.2"],
        occurred_at=["2025-12-01", "2025-10-01", "2025-10-09", "2025-11-01", "2025-11-01"],
    )
    recs, _ = normalize(frames, NormalizeConfig(default_region="KR"), [])
    return recs


def test_every_kind_has_an_example() -> None:
    assert set(EXAMPLES) == set(KINDS.names())


@pytest.mark.parametrize("name", sorted(EXAMPLES))
def test_kind_passes_the_good_row_and_fails_the_bad_one(name: str) -> None:
    entity, field, params, cols = EXAMPLES[name]
    kind = KINDS.get(name)
    rule = Rule(
        id=f"{entity}.{field}.example",
        kind=name,
        entity=entity,
        field=field,
        dimension="validity",
        severity="warning",
        message="{value}",
        suggestion=None,
        params=kind.params.model_validate(params),
        pack="test",
        source="test",
    )
    recs = _records(entity, cols)
    run = run_rule(rule, Context(records=recs, as_of=AS_OF, stale_after_days=730))
    assert run.status == "ok", run.note
    failed = run.outcome.failed.tolist()
    assert failed[0] is False or failed[0] == False  # noqa: E712 - numpy bools
    assert failed[-1]
    assert run.n_failed == sum(failed) and run.n_checked >= run.n_failed


def test_every_kind_is_documented() -> None:
    rows = {r["kind"]: r for r in kind_catalogue()}
    assert set(rows) == set(KINDS.names())
    for r in rows.values():
        assert r["doc"] and r["doc"] != r["kind"]
        assert r["engine"] in {"gx", "vectorized"}


def test_placeholder_words_inside_a_full_name_and_typo_needs_a_sane_domain() -> None:
    from audit.validate.checks.basic import is_placeholder
    from audit.validate.checks.stale import typo_fix

    assert is_placeholder("浩二 nolastname", "text", tokens=True)
    assert not is_placeholder("浩二 nolastname", "text")
    assert not is_placeholder("Testa Rossi", "text", tokens=True)
    assert typo_fix("gmail,com") is None  # a syntax error, reported by contacts.email.valid


def test_a_bracketed_filler_is_a_placeholder_and_a_bracketed_name_is_not() -> None:
    # HubSpot writes "[not provided]" for a name a form did not ask for
    from audit.validate.checks.basic import is_placeholder

    for filler in ("[not provided]", "(none)", "<unknown>", "【なし】", "( N/A )"):
        assert is_placeholder(filler, "text"), filler
    for name in ("[Smith]", "(Bob)", "Kim (Minjun)"):
        assert not is_placeholder(name, "text"), name


def test_a_dispatch_or_front_desk_mailbox_is_a_role_address() -> None:
    # a towing company's dispatch@ and a clinic's reception@ reach whoever is on shift
    from audit.validate.checks.stale import role_account

    emails = ["dispatch@greenwaytowing.com", "reception@clinic.example", "dispatcher.kim@x.com"]
    frame = make_frame("contacts", email=emails)
    rule = Rule("contacts.email.role", "role_account", "contacts", "email", "validity",
                "warning", "m", None, None, "t", "t")  # fmt: skip
    ctx = Context(records={"contacts": frame}, as_of=AS_OF, stale_after_days=730)
    assert role_account(frame, rule, ctx).failed.tolist() == [True, True, False]


def test_an_email_typed_into_first_name_is_found_in_the_full_name() -> None:
    # HubSpot: First Name 'drew.radley@axis-amc.com', Last Name 'A'
    from audit.validate.checks.contact import WrongFieldParams, wrong_field

    names = ["drew.radley@axis-amc.com A", "Ann Lee", "Lee @ Acme", "kim@naver.com", None]
    frame = make_frame("contacts", full_name=names)
    rule = Rule("contacts.full_name.wrong_field", "wrong_field", "contacts", "full_name",
                "validity", "error", "m", None, WrongFieldParams(looks_like=["email", "phone"]),
                "t", "t")  # fmt: skip
    ctx = Context(records={"contacts": frame}, as_of=AS_OF, stale_after_days=730)
    assert wrong_field(frame, rule, ctx).failed.tolist() == [True, False, False, True, False]


def test_unique_within_a_group() -> None:
    from audit.validate.checks.basic import UniqueParams, unique

    frame = make_frame("contacts", external_id=["A", "A", "A", "B"])
    frame["source"] = ["s1", "s1", "s2", "s2"]
    rule = Rule("contacts.external_id.unique", "unique", "contacts", "external_id", "uniqueness",
                "warning", "m", None, UniqueParams(within="source"), "t", "t")  # fmt: skip
    ctx = Context(records={"contacts": frame}, as_of=AS_OF, stale_after_days=730)
    out = unique(frame, rule, ctx)
    assert out.failed.tolist() == [True, True, False, False]
    assert out.evidence.iloc[0] == "2 records share this value"


PLACEHOLDER_SAMPLES = [
    "test", "Test", "TEST ", "asdf", "N/A", "xxx", "aaaa", "a a a", "---", "?", "Kim", "Na",
    "nolastname", "浩二 nolastname", "John nolastname", "contest", "테스트", "없음",
    "none@none.com", "test@test.com", "a@example.com", "x@x.com", "kim@naver.com",
    "010-0000-0000", "123-456-7890", "+1 123 456 7890", "010-1234-5678", "０１０-００００-００００",
    "02-312-3456", "5555555555", "12345", "", "info@test.com", "x@localhost", "aaa@aaa.com",
    "[not provided]", "(none)", "<Unknown>", "[Smith]", "(Bob)",
]  # fmt: skip


@pytest.mark.parametrize("which", ["text", "email", "phone"])
@pytest.mark.parametrize("tokens", [False, True])
def test_vectorized_placeholder_pass_equals_the_per_value_function(
    which: str, tokens: bool
) -> None:
    from audit.validate.checks.basic import is_placeholder, placeholder_flags

    u = pd.Series(pd.array(PLACEHOLDER_SAMPLES, dtype="str"))
    got = placeholder_flags(u, which, frozenset({"n.v."}), tokens).tolist()
    want = [is_placeholder(v, which, frozenset({"n.v."}), tokens) for v in PLACEHOLDER_SAMPLES]
    assert got == want


def test_a_source_mark_on_a_frame_without_a_source_column() -> None:
    # a frame handed to validate from a notebook need not carry provenance; the mark is still
    # reported (found by mypy: the evidence was built on the plain string '?' and crashed)
    from audit.validate.checks.stale import MarkedParams, marked

    frame = pd.DataFrame({"email": ["a@b.com", "c@d.com"], "email_opt_out": ["no", "yes"]})
    rule = Rule("contacts.email.opted_out", "marked", "contacts", "email", "validity",
                "warning", "m", None, MarkedParams(), "t", "t")  # fmt: skip
    ctx = Context(records={"contacts": frame}, as_of=AS_OF, stale_after_days=730)
    out = marked(frame, rule, ctx)
    assert out.failed.tolist() == [False, True]
    assert out.evidence.tolist()[1] == "?: email_opt_out = true"


def test_a_pasted_row_is_a_duplicate_only_when_every_typed_value_repeats() -> None:
    # after normalize the deal's columns are typed (float amount, UTC datetimes): a copy must
    # repeat each of them exactly, a missing value repeats a missing value, and a second later
    # or a cent more is another deal
    cols = {
        "name": ["Renewal", "Renewal", "Renewal", "Renewal", "Renewal", "Renewal"],
        "amount": ["1200.50", "1200.50", "1200.50", None, None, "1200.51"],
        "created_at": [
            "2026-01-05 10:00:00",
            "2026-01-05 10:00:00",
            "2026-01-05 10:00:01",
            "2026-01-05",
            "2026-01-05",
            "2026-01-05 10:00:00",
        ],
    }
    recs = _records("deals", cols)
    rule = Rule(
        id="deals.row.duplicate",
        kind="duplicate_row",
        entity="deals",
        field=None,
        dimension="uniqueness",
        severity="warning",
        message="{value}",
        suggestion=None,
        params=KINDS.get("duplicate_row").params.model_validate({}),
        pack="test",
        source="test",
    )
    run = run_rule(rule, Context(records=recs, as_of=AS_OF, stale_after_days=730))
    assert run.outcome.failed.tolist() == [False, True, False, False, True, False]
    evidence = run.outcome.evidence[run.outcome.failed].tolist()
    assert evidence == ["same as t:1", "same as t:4"]
