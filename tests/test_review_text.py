"""The display text of the merge files, column-wise (#12): the same text a person reads for
a value however the column is typed, at the edges of time included."""

from __future__ import annotations

import numpy as np
import pandas as pd

from audit.merge.review import _text_columns

STAMPS = [
    "1969-12-31T12:00:00.5",  # before 1970 with a fraction: the second is floored
    "1969-12-31T00:00:00",
    None,
    "2020-02-29T00:00:00.000000001",  # one nanosecond past midnight is a time, not a date
    "2262-04-11T23:47:16",
    "1677-09-22",  # next to the lower bound of nanosecond timestamps
    "2024-01-01T05:06:07",
]
SHOWN = [
    "1969-12-31 12:00:00 UTC",
    "1969-12-31",
    "",
    "2020-02-29 00:00:00 UTC",
    "2262-04-11 23:47:16 UTC",
    "1677-09-22",
    "2024-01-01 05:06:07 UTC",
]


def test_timestamps_read_as_dates_or_utc_times_whatever_the_zone_and_unit() -> None:
    utc = pd.to_datetime(STAMPS, utc=True, format="ISO8601").as_unit("ns")
    frame = pd.DataFrame(
        {
            "seoul": utc.tz_convert("Asia/Seoul"),
            "naive": utc.tz_localize(None),
            "micro": utc.as_unit("us"),
            "none": pd.Series([pd.NaT] * len(STAMPS), dtype="datetime64[ns, UTC]"),
        }
    )
    out = _text_columns(frame, ["seoul", "naive", "micro", "none", "absent"])
    assert out["seoul"] == SHOWN
    assert out["naive"] == SHOWN
    # a microsecond column cannot hold the nanosecond: that value is midnight, a date
    assert out["micro"] == [*SHOWN[:3], "2020-02-29", *SHOWN[4:]]
    assert out["none"] == [""] * len(STAMPS)
    assert out["absent"] == [""] * len(STAMPS)


def test_flags_text_and_mixed_values() -> None:
    frame = pd.DataFrame(
        {
            "flag": pd.array([True, None, False], dtype="boolean"),
            "text": pd.Series(["=x", "", "ü"], dtype=object),
            "mixed": pd.Series([None, 1.0, np.nan], dtype=object),
        }
    )
    out = _text_columns(frame, ["flag", "text", "mixed"])
    assert out == {"flag": ["True", "", "False"], "text": ["=x", "", "ü"], "mixed": ["", "1", ""]}
