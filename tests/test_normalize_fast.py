"""Vectorized fast paths in normalize give exactly the per-value functions' answers."""

from __future__ import annotations

import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st

from audit.normalize.emails import clean_email, email_columns, email_domain, email_key

local = st.text(alphabet="abcXYZ019._%+-'\"<> ;,@:", min_size=0, max_size=12)
domain = st.text(alphabet="abcXYZ019.-ＡＢ", min_size=0, max_size=12)
emails = st.one_of(
    st.builds(lambda a, b: f"{a}@{b}", local, domain),
    st.text(max_size=20),
    st.sampled_from(["Jane.Doe+news@GMail.com", "mailto:A@B.CO", "a@b.com.", ".a@b.com"]),
)


@settings(max_examples=300, deadline=None)
@given(st.lists(emails, min_size=1, max_size=30))
def test_email_columns_equal_clean_email_per_value(values: list[str]) -> None:
    cols = email_columns(pd.Series(values, dtype="str"))
    for i, v in enumerate(values):
        e, multiple = clean_email(v)
        got = cols["email"].iloc[i]
        assert (None if got != got else got) == e, v
        assert bool(cols["multiple"].iloc[i]) == multiple
        k, d = cols["email_key"].iloc[i], cols["email_domain"].iloc[i]
        assert (None if k != k else k) == email_key(e)
        assert (None if d != d else d) == email_domain(e)


# the providers whose '+tags' and dots the key folds, beside others and IDN domains
providers = st.sampled_from(
    ["gmail.com", "googlemail.com", "outlook.com", "proton.me", "naver.com", "bücher.de", "", "x"]
)
texts = st.one_of(
    st.builds(lambda a, b: f"{a}@{b}", st.text(alphabet="ab.+@\n é", max_size=8), providers),
    st.text(alphabet="ab.+@\n é漢", max_size=12),
)


@settings(max_examples=400, deadline=None)
@given(st.lists(st.one_of(st.none(), texts), min_size=1, max_size=30))
def test_arrow_email_keys_equal_the_per_value_functions(values: list[str | None]) -> None:
    import pyarrow as pa

    from audit.emailkey import key_columns

    keys, domains = key_columns(pa.array(values, pa.large_string()))
    assert keys.to_pylist() == [email_key(v) for v in values]
    assert domains.to_pylist() == [email_domain(v) for v in values]
