"""audit.xlsx, read back the way users and the pipeline read it: openpyxl and python-calamine."""

from __future__ import annotations

import datetime as dt
import zipfile
from pathlib import Path

import pandas as pd
import pytest
from openpyxl import load_workbook
from python_calamine import CalamineWorkbook

from audit.xlsx import Bold, Dropdown, Sheet, column_letter, write_xlsx

WHEN = dt.datetime(2026, 1, 31, 9, 5, 12)


def _calamine(path: Path, sheet: str) -> list[list[object]]:
    return CalamineWorkbook.from_path(str(path)).get_sheet_by_name(sheet).to_python()


def test_column_letters() -> None:
    assert [column_letter(i) for i in (0, 25, 26, 701, 702)] == ["A", "Z", "AA", "ZZ", "AAA"]


def test_rows_of_values_round_trip(tmp_path: Path) -> None:
    rows = [
        [" x & <y> ", 1.5, True, WHEN],
        [None, -3, "\x01z", dt.date(2026, 2, 1)],
        [
            "",
            float("nan"),
            False,
            dt.datetime(2026, 3, 1, 12, tzinfo=dt.timezone(dt.timedelta(hours=9))),
        ],
    ]
    path = write_xlsx(tmp_path / "t.xlsx", [Sheet('s<"1">', rows, header=["a", "b", "c", "d"])])
    ws = load_workbook(path)['s<"1">']
    got = list(ws.iter_rows(values_only=True))
    assert got[0] == ("a", "b", "c", "d")
    assert got[1] == (" x & <y> ", 1.5, True, WHEN)
    assert got[2] == (None, -3, "\ufffdz", dt.datetime(2026, 2, 1))
    assert got[3] == ("", None, False, dt.datetime(2026, 3, 1, 3))  # UTC, naive; "" is text
    assert all(c.font.b for c in ws[1]) and not ws["A2"].font.b
    assert ws.freeze_panes == "A2"
    cal = _calamine(path, 's<"1">')
    assert cal[1] == [" x & <y> ", 1.5, True, WHEN]
    assert cal[2][1:] == [-3, "\ufffdz", dt.date(2026, 2, 1)]  # a date cell reads as a date


def test_frame_columns_of_every_dtype_round_trip(tmp_path: Path) -> None:
    frame = pd.DataFrame(
        {
            "text": pd.Series(["a & <b>", None, "x\x02y"], dtype="str"),
            "obj": pd.Series(["p", 3, dt.date(2026, 1, 2)], dtype="object"),
            "flag": pd.Series([True, None, False], dtype="boolean"),
            "n": pd.Series([1, None, -7], dtype="Int64"),
            "f": [0.5, float("nan"), 1e-7],
            "when": pd.to_datetime(["2026-01-31 09:05:12", None, "2026-02-01 00:00:00"], utc=True),
        }
    )
    path = write_xlsx(tmp_path / "t.xlsx", [Sheet("t", frame, header=list(frame.columns))])
    ws = load_workbook(path)["t"]
    got = list(ws.iter_rows(values_only=True))
    assert got[0] == tuple(frame.columns)
    assert got[1] == ("a & <b>", "p", True, 1, 0.5, WHEN)
    assert got[2] == (None, 3, None, None, None, None)
    assert got[3] == ("x\ufffdy", dt.datetime(2026, 1, 2), False, -7, 1e-7, dt.datetime(2026, 2, 1))
    assert ws["A1"].font.b and ws.freeze_panes == "A2"
    cal = _calamine(path, "t")
    assert cal[1] == ["a & <b>", "p", True, 1, 0.5, WHEN]
    assert cal[3][3:5] == [-7, 1e-7]


def test_a_value_that_looks_like_a_formula_stays_text(tmp_path: Path) -> None:
    frame = pd.DataFrame({"v": pd.Series(["=1+2", "@SUM(A1)"], dtype="str")})
    path = write_xlsx(
        tmp_path / "f.xlsx",
        [Sheet("rows", [['=HYPERLINK("http://x")', "+1"]]), Sheet("frame", frame, header=["v"])],
        shared_strings=True,
    )
    with zipfile.ZipFile(path) as z:
        assert not any(b"<f>" in z.read(n) or b"<f " in z.read(n) for n in z.namelist())
    wb = load_workbook(path)
    assert wb["rows"]["A1"].value == '=HYPERLINK("http://x")' and wb["rows"]["A1"].data_type == "s"
    assert wb["frame"]["A2"].value == "=1+2" and wb["frame"]["A2"].data_type == "s"
    assert _calamine(path, "frame")[1:] == [["=1+2"], ["@SUM(A1)"]]


def test_title_fills_dropdown_widths_and_autofilter(tmp_path: Path) -> None:
    rows = [["c1", "golden", None], ["c1", "member", None], ["c2", "member", "approve"]]
    sheet = Sheet(
        "proposals",
        rows,
        header=["cluster", "role", "decision"],
        title="2026 顧客一覧",
        fills=[True, False, False],
        widths=[14, 11, 60],
        freeze_cols=2,
        autofilter=True,
        dropdown=Dropdown("decision", ("approve", "reject"), title="Decision", prompt="pick"),
    )
    path = write_xlsx(tmp_path / "p.xlsx", [sheet, Sheet("how to", [[Bold("Read me")], ["x"]])])
    wb = load_workbook(path)
    ws = wb["proposals"]
    assert ws["A1"].value == "2026 顧客一覧" and ws["A1"].font.b
    assert [str(r) for r in ws.merged_cells.ranges] == ["A1:C1"]
    assert [c.value for c in ws[3]] == ["cluster", "role", "decision"]
    assert ws.freeze_panes == "C4"
    assert ws["C4"].fill.fgColor.rgb == "FFFFF4CC" and ws["C4"].value is None  # shaded, empty
    assert ws["A5"].fill.fill_type is None
    (dv,) = ws.data_validations.dataValidation
    assert dv.type == "list" and dv.formula1 == '"approve,reject"' and str(dv.sqref) == "C4:C6"
    assert ws.auto_filter.ref == "A3:C6"
    assert ws.column_dimensions["C"].width == 60
    assert wb["how to"]["A1"].font.b and not wb["how to"]["A2"].font.b
    cal = _calamine(path, "proposals")
    assert cal[0][0] == "2026 顧客一覧" and cal[2] == ["cluster", "role", "decision"]
    assert cal[5] == ["c2", "member", "approve"]


def test_same_input_gives_the_same_bytes(tmp_path: Path) -> None:
    frame = pd.DataFrame({"a": [1.5, 2.0], "b": pd.Series(["x", None], dtype="str")})

    def make(name: str) -> bytes:
        sheets = [
            Sheet("f", frame, header=["a", "b"]),
            Sheet("r", [[WHEN, dt.date(2026, 1, 1), "y"]], title="T", header=["w", "d", "s"]),
        ]
        stamp = dt.datetime(2026, 5, 1)
        return write_xlsx(tmp_path / name, sheets, stamp=stamp, shared_strings=True).read_bytes()

    first = make("1.xlsx")
    assert make("2.xlsx") == first
    with zipfile.ZipFile(tmp_path / "1.xlsx") as z:
        assert {i.date_time for i in z.infolist()} == {(2026, 5, 1, 0, 0, 0)}
        assert b"2026-05-01T00:00:00Z" in z.read("docProps/core.xml")


def test_bad_requests_are_clear_errors(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="not in the header"):
        write_xlsx(
            tmp_path / "x.xlsx", [Sheet("s", [["a"]], header=["a"], dropdown=Dropdown("b", ("x",)))]
        )


def test_shaded_rows_of_a_frame_read_like_shaded_rows_of_values(tmp_path: Path) -> None:
    """The column-wise path shades rows as the row path does: same values, same fills."""
    from openpyxl import load_workbook

    when = dt.datetime(2026, 1, 2, 3, 4, 5)
    rows = [["golden", 1.5, when, None, True], ["member", None, None, "x", False]] * 2
    frame = pd.DataFrame(rows, columns=list("abcde")).astype(
        {"b": "float64", "c": "datetime64[ns]"}
    )
    fills = [True, False, False, True]
    write_xlsx(tmp_path / "r.xlsx", [Sheet("s", rows, header=list("abcde"), fills=fills)])
    write_xlsx(tmp_path / "f.xlsx", [Sheet("s", frame, header=list("abcde"), fills=fills)])
    got = []
    for name in ("r.xlsx", "f.xlsx"):
        ws = load_workbook(tmp_path / name)["s"]
        got.append(
            [
                [(c.value, c.fill.fgColor.rgb if c.fill.fill_type else None) for c in row]
                for row in ws.iter_rows(min_row=2, max_col=5)
            ]
        )
    assert got[0] == got[1]
    assert got[1][0][3] == (None, "FFFFF4CC") and got[1][1][0] == ("member", None)
    assert got[1][0][2] == (when, "FFFFF4CC") and got[1][3][4] == (False, "FFFFF4CC")


def test_arrow_text_and_python_text_give_the_same_workbook(tmp_path: Path) -> None:
    """A text column that is Arrow already (pandas' `str`) is written without a Python string
    per cell; the workbook must be the one its Python-text twin gives, shaded rows, escapes,
    illegal characters and missing cells included."""
    values = ["a & <b>", None, "x\x02y", "", "=1+2", "日本語 ✓"] * 3
    fills = [k % 4 == 0 for k in range(len(values))]
    paths = []
    for dtype in ("str", "object"):
        frame = pd.DataFrame({"t": pd.Series(values, dtype=dtype), "n": range(len(values))})
        sheet = Sheet("s", frame, header=["t", "n"], fills=fills)
        paths.append(write_xlsx(tmp_path / f"{dtype}.xlsx", [sheet]))
    assert paths[0].read_bytes() == paths[1].read_bytes()
