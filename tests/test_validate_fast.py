"""Vectorized rule checks give exactly what their per-value definitions give."""

from __future__ import annotations

import datetime as dt

import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st

from audit.emailkey import email_key
from audit.validate.checks.integrity import RefParams, references
from audit.validate.kinds import Context
from audit.validate.rulepack import Rule

# ids and addresses as exports write them: spaces around, several in one cell, Gmail dots and
# '+tags', upper case, non-ASCII, control characters
ids = st.text(alphabet="ab1 ;\t\n\xa0é", max_size=6)
addresses = st.builds(
    lambda a, b: f"{a}@{b}",
    st.text(alphabet="aB.+ é\n", max_size=5),
    st.sampled_from(["gmail.com", "GoogleMail.com", "x.kr", "bücher.de", " y.jp ", ""]),
)


def _expected(values: list[str | None], targets: list[str], by_email: bool) -> list[str | None]:
    """The rule as documented: every ';'-separated part (stripped) must be among the target's
    values, compared as written or by email key (lower case without one)."""

    def norm(v: str) -> str:
        v = v.strip()
        return (email_key(v) or v.lower()) if by_email else v

    known = {norm(t) for t in targets}
    out: list[str | None] = []
    for v in values:
        if v is None:
            out.append(None)
            continue
        gone = [p.strip() for p in v.split(";") if p.strip() and norm(p) not in known]
        out.append(", ".join(gone) if gone else None)
    return out


@settings(max_examples=300, deadline=None)
@given(
    st.data(),
    st.booleans(),
)
def test_references_equal_the_per_value_definition(data: st.DataObject, by_email: bool) -> None:
    values = st.one_of(st.none(), addresses if by_email else ids, st.text(max_size=6))
    targets = data.draw(st.lists(addresses if by_email else ids, min_size=1, max_size=12))
    pointing = data.draw(st.lists(st.one_of(values, st.sampled_from(targets)), max_size=20))
    column = "email" if by_email else "external_id"
    contacts = pd.DataFrame({"record_id": [str(i) for i in range(len(targets))]})
    contacts[column] = pd.Series(targets, dtype="str")
    deals = pd.DataFrame({"record_id": [str(i) for i in range(len(pointing))]})
    deals["contact_id"] = pd.Series(pointing, dtype="str")
    params = RefParams(column=column, match="email" if by_email else "exact")
    rule = Rule("deals.contact_id.exists", "references", "deals", "contact_id", "integrity",
                "warning", "m", None, params, "t", "t")  # fmt: skip
    ctx = Context({"contacts": contacts, "deals": deals}, dt.date(2026, 1, 31), 730)
    if contacts[column].isna().all():
        return
    out = references(deals, rule, ctx)
    want = _expected([None if v != v else v for v in deals["contact_id"]], targets, by_email)
    got = [None if v is None else v.split(": ", 1)[1] for v in out.evidence]
    assert got == want


# placeholder lists' own words beside random text, so that both answers occur
junk = st.sampled_from(["test", "none", "n/a", "info", "example.com", "x", "0000000", "123456789"])
pieces = st.one_of(junk, st.text(alphabet="aex0179 .@-()[]+", max_size=6))
values = st.lists(pieces, min_size=1, max_size=4).map("".join)


@settings(max_examples=300, deadline=None)
@given(st.lists(values, min_size=1, max_size=25), st.sampled_from(["text", "email", "phone"]))
def test_placeholder_pass_equals_the_per_value_function(texts: list[str], which: str) -> None:
    from audit.validate.checks.basic import is_placeholder, placeholder_flags

    u = pd.Series(pd.array(texts, dtype="str"))
    got = placeholder_flags(u, which, frozenset({"n.v."}), False).tolist()
    assert got == [is_placeholder(v, which, frozenset({"n.v."}), False) for v in texts]


contact_like = st.lists(
    st.one_of(
        st.sampled_from(["+82 10-1234-5678", "(02) 312 3456", "a@b.co", "www.x.kr", "http://y"]),
        st.text(alphabet="0１٣ +()-./@wshtpaZ:\n\xa0", max_size=8),
    ),
    min_size=1,
    max_size=3,
).map(" ".join)


@settings(max_examples=300, deadline=None)
@given(st.lists(contact_like, min_size=1, max_size=25))
def test_wrong_field_equals_its_patterns_per_value(texts: list[str]) -> None:
    import re

    from audit.validate.checks.contact import _EMAIL_WORD, _LOOKS, WrongFieldParams, wrong_field

    frame = pd.DataFrame({"record_id": [str(i) for i in range(len(texts))]})
    frame["phone"] = pd.Series(texts, dtype="str")
    params = WrongFieldParams(looks_like=["email", "url", "phone"])
    rule = Rule("contacts.phone.wrong_field", "wrong_field", "contacts", "phone", "validity",
                "error", "m", None, params, "t", "t")  # fmt: skip
    out = wrong_field(frame, rule, Context({"contacts": frame}, dt.date(2026, 1, 31), 730))

    def looks(v: str) -> str | None:
        if re.search(_EMAIL_WORD, v):
            return "email"
        for look in ("url", "phone"):
            if re.fullmatch(_LOOKS[look], v):
                return look
        return None

    got = [None if v != v else v for v in out.extra["looks_like"]]
    assert got == [looks(v) for v in texts]


@settings(max_examples=300, deadline=None)
@given(st.lists(st.text(alphabet="ab+.@\n é", max_size=8), min_size=1, max_size=25))
def test_arrow_extract_equals_python_re(texts: list[str]) -> None:
    import re

    from audit.validate.checks.stale import _extract

    u = pd.Series(pd.array(texts, dtype="str"))
    for arrow, python in ((r"@(?P<d>[^@]+)$", r"@([^@]+)$"), (r"^(?P<l>[^@+]+)", r"^([^@+]+)")):
        got = [None if v != v else v for v in _extract(u, arrow)]
        want = [m.group(1) if (m := re.search(python, v)) else None for v in texts]
        assert got == want
