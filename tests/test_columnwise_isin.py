"""columnwise.isin: the same answer as pandas' isin, on every kind of column a stage hands it."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from audit.columnwise import isin

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
