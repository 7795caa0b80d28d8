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


dates = st.one_of(
    st.sampled_from(["2026-01-05", "2026-01-05 14:03", "2026-01-05T14:03:00Z", "05/01/2026"]),
    st.builds(
        lambda pad, d, end: f"{pad}{d}{end}",
        st.sampled_from(["", " ", "\n", "\xa0", "\u3000"]),
        st.sampled_from(["2026-03-04", "2026-03-04 10:00", "2026年3月4日", "13/04/2026", "x"]),
        st.sampled_from(["", " ", "\n", "\t", "\xa0"]),
    ),
)


@settings(max_examples=200, deadline=None)
@given(st.lists(st.one_of(st.none(), dates), min_size=1, max_size=20))
def test_dates_from_arrow_text_equal_the_per_value_strip(values: list[str | None]) -> None:
    from audit.normalize.dates import parse_dates

    # an object column takes the per-value path (str(v).strip() for every distinct value)
    text = parse_dates(pd.Series(values, dtype="str"), "Asia/Seoul", date_tz="UTC")
    objects = parse_dates(pd.Series(values, dtype=object), "Asia/Seoul", date_tz="UTC")
    pd.testing.assert_series_equal(text[0], objects[0])
    pd.testing.assert_series_equal(text[1], objects[1])
