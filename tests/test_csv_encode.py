"""The run folder's CSV writer (`audit.report.csv_encode`) writes the very bytes pandas' `to_csv`
wrote before it, on tables built to break a CSV writer, and the files read back to the values.

The reference is the previous writer, `safe.neutralize_frame(frame).to_csv(...)` with the run
folder's options: any difference in quoting, number or date text, line ends, BOM or formula
neutralization is a changed run folder, which byte-identical reruns and merge undo rely on.
"""

from __future__ import annotations

import csv
import datetime as dt
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from audit import safe
from audit.report import csv_encode
from audit.report.run_folder import read_table_csv

HOSTILE = [
    "plain",
    "a,b",
    'say "hi"',
    "line\nbreak",
    "cr\ronly",
    "\r\n",
    '"',
    ",",
    "=1+2",
    "+82 10-1234-5678",
    "-5",
    "@SUM(A1)",
    "\t=x",
    " =x",
    "\n=x",
    "'=x",
    "'x",
    '=HYPERLINK("http://x")',
    "-",
    "+",
    "@",
    "",
    None,
    "한국어 テスト 中文",
    "emoji 😀",
    "  lead",
    "trail  ",
    "nul\x00x",
]


def pandas_bytes(frame: pd.DataFrame, path: Path) -> bytes:
    safe.neutralize_frame(frame).to_csv(
        path,
        index=False,
        encoding="utf-8-sig",
        lineterminator="\r\n",
        float_format=csv_encode.FLOAT_FORMAT,
    )
    return path.read_bytes()


def assert_same_bytes(frame: pd.DataFrame, tmp_path: Path) -> bytes:
    want = pandas_bytes(frame, tmp_path / "pandas.csv")
    got = csv_encode.write_table(frame, tmp_path / "ours.csv").read_bytes()
    assert got == want
    return got


def hostile_frame() -> pd.DataFrame:
    n = len(HOSTILE)
    mixed = [1, 1.5, np.float64(0.1), True, dt.date(2020, 1, 2), "=x", float("nan"), pd.NA]
    mixed += [pd.NaT, None, {"a": 1}, [1, 2], 1e20, -0.0, float("inf"), np.int64(5), "a,b"]
    mixed += [pd.Timestamp("2020-01-01", tz="UTC"), "-3", *range(n - 19)]
    frame = pd.DataFrame(
        {
            "text": pd.array(HOSTILE, dtype="str"),
            "objects": pd.Series(HOSTILE, dtype=object),
            "mixed": pd.Series(mixed, dtype=object),
            "floats": [0.1, 1 / 3, 1e-20, 1e20, -0.0, np.nan, np.inf, -np.inf, 123456789012345.0]
            + [i / 7 for i in range(n - 9)],
            "ints": np.arange(n) - 5,
            "nullable_int": pd.array([1, None] * (n // 2), dtype="Int64"),
            "nullable_float": pd.array([1.5, None] * (n // 2), dtype="Float64"),
            "bools": [True, False] * (n // 2),
            "nullable_bool": pd.array([True, None] * (n // 2), dtype="boolean"),
            "utc": pd.to_datetime(["2020-01-01 10:00:00"] * n, utc=True),
            "dates": pd.to_datetime(["2020-01-01"] * n),
            "=formula,name": 1,
        }
    )
    frame.loc[3, "utc"] = pd.NaT
    return frame


def test_hostile_cells_give_the_same_bytes_as_pandas(tmp_path: Path) -> None:
    frame = hostile_frame()
    got = assert_same_bytes(frame, tmp_path)
    assert got.startswith(b"\xef\xbb\xbf")  # Excel needs the BOM to read UTF-8
    # and the file reads back to the values that went in (formula quotes removed again)
    back = read_table_csv(tmp_path / "ours.csv", all_text=True)
    assert back["text"].tolist() == [v if v else None for v in HOSTILE]
    assert back.columns[-1] == "=formula,name"


def test_repeated_floats_give_the_same_bytes_as_pandas(tmp_path: Path) -> None:
    # scores and weights repeat: each distinct value is formatted once (no -0.0 here, which
    # keeps the call per cell, see the hostile frame)
    rng = np.random.default_rng(7)
    pool = np.array(
        [0.1, 1 / 3, 1e-20, 1e20, np.nan, np.inf, -np.inf, 0.0, -2.5, 123456789012345.0]
    )
    frame = pd.DataFrame(
        {
            "score": rng.choice(pool, 5_000),
            "sim": np.round(rng.random(5_000), 2),
            "distinct": rng.random(5_000) * 1e6,
            "nullable": pd.array(rng.choice([0.25, None, 7.0], 5_000), dtype="Float64"),
        }
    )
    assert_same_bytes(frame, tmp_path)


def test_formula_cells_are_neutralized_and_plain_numbers_are_not(tmp_path: Path) -> None:
    frame = pd.DataFrame({"v": pd.array(["=1+2", "+82 10-1234-5678", "@x", "-5", "ok"], "str")})
    csv_encode.write_table(frame, tmp_path / "f.csv")
    rows = list(csv.reader((tmp_path / "f.csv").read_text(encoding="utf-8-sig").splitlines()))
    assert [r[0] for r in rows] == ["v", "'=1+2", "+82 10-1234-5678", "'@x", "-5", "ok"]


@pytest.mark.parametrize("rows", [0, 1, 5])
def test_empty_and_one_column_tables(rows: int, tmp_path: Path) -> None:
    # a one-column row with an empty cell is written "" by the csv module (not a blank line)
    values = ["", None, "a", '"', ""][:rows]
    assert_same_bytes(pd.DataFrame({"x": pd.array(values, dtype="str")}), tmp_path)
    assert_same_bytes(pd.DataFrame({"x": pd.Series(values, dtype=object)}), tmp_path)
    assert_same_bytes(pd.DataFrame({"": [np.nan, 1.0, 2.5][:rows]}), tmp_path)
    assert_same_bytes(hostile_frame().iloc[:rows], tmp_path)


def test_datetime_precision_follows_pandas_chunks(tmp_path: Path) -> None:
    """pandas picks the digits of a datetime column per chunk of 100,000 // columns rows: one
    value with milliseconds gives every value of its chunk milliseconds, and no other chunk."""
    rng = np.random.default_rng(1)
    m = 120_000
    ints = pd.Timestamp("2021-01-01", tz="UTC").value + rng.integers(0, 10**9, m) * 10**9
    ints[5] += 500_000_000  # milliseconds in the first chunk
    ints[60_000] += 1234  # nanoseconds in a later one
    ints[100_000] += 7000  # microseconds
    utc = pd.Series(pd.to_datetime(ints, utc=True))
    utc[7] = pd.NaT
    frame = pd.DataFrame({"utc": utc, "naive": utc.dt.tz_localize(None)})
    got = assert_same_bytes(frame, tmp_path).decode("utf-8-sig").split("\r\n")
    digits = [len(line.split(",")[0].partition(".")[2]) for line in got[1:-1]]
    # chunks of 50,000 rows (two columns): milliseconds, nanoseconds, microseconds
    assert {digits[0], digits[49_999]} == {len("000+00:00")}
    assert {digits[50_000], digits[99_999]} == {len("000000000+00:00")}
    assert {digits[100_000], digits[-1]} == {len("000000+00:00")}
    days = pd.to_datetime(ints // 86_400_000_000_000 * 86_400_000_000_000)
    days = pd.Series(days).copy()
    days[70_000] += pd.Timedelta(seconds=1)  # one chunk with a time of day
    assert_same_bytes(pd.DataFrame({"day": days, "n": 1}), tmp_path)
    for unit in ("s", "ms", "us"):
        assert_same_bytes(
            pd.DataFrame(
                {
                    "utc": utc.astype(f"datetime64[{unit}, UTC]"),
                    "naive": utc.dt.tz_localize(None).astype(f"datetime64[{unit}]"),
                }
            ),
            tmp_path,
        )


def test_other_types_fall_back_to_pandas(tmp_path: Path) -> None:
    ts = pd.Series(pd.to_datetime(["2020-01-01 10:00:00.5", "2020-06-01 10:00:00.0"]))
    assert_same_bytes(pd.DataFrame({"berlin": ts.dt.tz_localize("Europe/Berlin")}), tmp_path)
    assert_same_bytes(pd.DataFrame({"cat": pd.Categorical(["x", "=y", None])}), tmp_path)
    assert_same_bytes(pd.DataFrame({"span": pd.to_timedelta([1, None], unit="D")}), tmp_path)
    old = pd.Series(pd.to_datetime(["0900-01-01"]).astype("datetime64[s]"))
    assert_same_bytes(pd.DataFrame({"old": old}), tmp_path)


def test_many_rows_in_blocks(tmp_path: Path) -> None:
    n = 300_000  # several blocks of rows
    rng = np.random.default_rng(3)
    frame = pd.DataFrame(
        {
            "id": pd.array([f"id{i}" for i in range(n)], dtype="str"),
            "score": rng.random(n),
            "note": pd.array([HOSTILE[i % len(HOSTILE)] for i in range(n)], dtype="str"),
        }
    )
    assert_same_bytes(frame, tmp_path)


@settings(max_examples=60, deadline=None)
@given(
    rows=st.lists(
        st.tuples(
            st.text(max_size=8),
            st.one_of(st.none(), st.text()),
            st.floats(),
            st.integers(-(2**62), 2**62),
        ),
        max_size=8,
    )
)
def test_random_cells_give_the_same_bytes(rows: list[tuple], tmp_path_factory) -> None:
    tmp = tmp_path_factory.mktemp("csv")
    frame = pd.DataFrame(
        {
            "text": pd.array([r[0] for r in rows], dtype="str"),
            "maybe": pd.Series([r[1] for r in rows], dtype=object),
            "number": pd.Series([r[2] for r in rows], dtype="float64"),
            "count": pd.Series([r[3] for r in rows], dtype="int64"),
        }
    )
    try:
        want = pandas_bytes(frame, tmp / "pandas.csv")
    except UnicodeEncodeError:  # a lone surrogate: neither writer can store it
        with pytest.raises((UnicodeEncodeError, ValueError)):
            csv_encode.write_table(frame, tmp / "ours.csv")
        return
    assert csv_encode.write_table(frame, tmp / "ours.csv").read_bytes() == want


@pytest.mark.parametrize("dtype", ["str", "string[python]", object])
def test_neutralize_frame_quotes_formula_text_and_leaves_the_input_alone(dtype) -> None:
    cells = ["=1+2", "+82 10-1234-5678", " @x", "'=y", "-5", "ok", None, "\t=z"]
    frame = pd.DataFrame({"v": pd.Series(cells, dtype=dtype), "n": range(len(cells))})
    before = frame.copy()
    out = safe.neutralize_frame(frame)
    got = out["v"].astype(object).where(out["v"].notna(), None).tolist()
    assert got == ["'=1+2", "+82 10-1234-5678", "' @x", "''=y", "-5", "ok", None, "'\t=z"]
    assert out["v"].dtype == frame["v"].dtype and out["n"].tolist() == list(range(len(cells)))
    pd.testing.assert_frame_equal(frame, before)
    mixed = pd.DataFrame({"m": pd.Series(["=a", 3, None, "b", -1.5], dtype=object)})
    assert safe.neutralize_frame(mixed)["m"].tolist()[:2] == ["'=a", 3]


# cells near the line between a plain number and a formula: signs, digits (ASCII and others,
# which only Python's \d knows), the characters phone numbers use, spaces and quotes
_NUMBERISH = st.text(alphabet="+-=@*0123456789().-/;, \t\r\n'e\u0661\uff11", max_size=8)


@given(cells=st.lists(_NUMBERISH, max_size=12))
@example(cells=["+1e", "-1.5", "+\u0661", "+\uff11", "1e", "+82 10-1234", " -1", "-1\n", "*"])
@settings(max_examples=300)
def test_plain_numbers_left_in_arrow_are_what_neutralize_leaves(cells: list[str]) -> None:
    import pyarrow as pa

    want = [safe.neutralize(c) for c in cells]
    assert safe.neutralize_arrow(pa.array(cells, pa.large_string())).to_pylist() == want
    for dtype in ("str", object):
        frame = pd.DataFrame({"v": pd.Series(cells, dtype=dtype)})
        assert safe.neutralize_frame(frame)["v"].astype(object).tolist() == want


@settings(max_examples=40, deadline=None)
@given(
    seconds=st.lists(
        st.integers(-30_610_224_000, 253_402_300_799),  # 1000-01-01 to 9999-12-31 23:59:59
        min_size=1,
        max_size=12,
    ),
    nanos=st.integers(0, 999_999_999),
)
def test_datetimes_of_any_four_digit_year_give_pandas_bytes(
    seconds: list[int], nanos: int, tmp_path_factory
) -> None:
    """Before and after the epoch, leap days, midnights and the year 9999: pandas' text."""
    tmp = tmp_path_factory.mktemp("dates")
    at = pd.Series(np.array(seconds, dtype="int64").astype("datetime64[s]"))
    frame = pd.DataFrame(
        {
            "naive": at,
            "utc": at.dt.tz_localize("UTC"),
            "fraction": at.astype("datetime64[us]") + pd.Timedelta(microseconds=nanos // 1000),
        }
    )
    assert csv_encode.write_table(frame, tmp / "ours.csv").read_bytes() == pandas_bytes(
        frame, tmp / "pandas.csv"
    )
