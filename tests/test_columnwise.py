"""columnwise.isin and shared_objects: what pandas gives, on every kind of column a stage has."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from audit.columnwise import isin, shared_objects

COLUMNS = [
    pd.Series(["a", "b", None, "c"]),  # Arrow text (pandas 3's str)
    pd.Series(["a", "b", None, "c"], dtype=object),
    pd.Series(["a", "b", np.nan], dtype=object),
    pd.Series(["a", 1, None], dtype=object),  # mixed objects: pandas decides
    pd.Series([1, 2, 3]),
    pd.Series([None, None], dtype=object),
    pd.Series(["a", "b"], dtype="string"),
    pd.concat([pd.Series(["a", "b"]), pd.Series(["c", None])], ignore_index=True),  # 2 chunks
    np.array(["a", "x", None], dtype=object),
]
CANDIDATES = [
    {"a", "c"},
    ["b"],
    [],
    ["a", None],  # a missing candidate matches missing cells, as in pandas
    pd.Index(["a"]),
    np.array(["c"], dtype=object),
    [1, "a"],
]


@pytest.mark.parametrize("values", COLUMNS)
@pytest.mark.parametrize("candidates", CANDIDATES)
def test_isin_agrees_with_pandas(values: object, candidates: object) -> None:
    given = list(candidates) if isinstance(candidates, set) else candidates
    expected = pd.Series(values).isin(given).to_numpy(dtype=bool)
    got = isin(values, candidates)
    assert got.dtype == bool
    assert got.tolist() == expected.tolist()


@pytest.mark.parametrize("values", [*COLUMNS[:7], pd.Series([1.5, np.nan]), pd.Series([1, 2])])
def test_shared_objects_gives_what_pandas_gives(values: pd.Series) -> None:
    values = pd.Series(values)
    for got, expected in (
        (shared_objects(values), values.astype("object").to_numpy()),
        (shared_objects(values, as_text=True), values.astype(str).to_numpy(dtype=object)),
    ):
        assert got.dtype == object
        assert [type(v) for v in got] == [type(v) for v in expected]
        assert pd.Series(got).equals(pd.Series(expected))


def test_shared_objects_makes_one_object_per_distinct_value() -> None:
    owners = pd.Series(["ann", "bob", None] * 1000)  # Arrow text, as normalize leaves it
    got = shared_objects(owners)
    assert len({id(v) for v in got}) == 3
