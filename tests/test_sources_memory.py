"""Frames read from workbooks hold one string object per distinct value (the memory of a
column of 7 stages over a million rows is 7 strings and the row pointers), frames read from
CSV hold Arrow text (no Python string at all), with the values exactly those of the file."""

from __future__ import annotations

import csv
from pathlib import Path

import openpyxl
import pandas as pd

from audit.sources import read_table
from audit.sources.readers import READERS, ReaderOptions

STAGES = ["lead", "subscriber", "opportunity", "customer", "evangelist", "other", "MQL"]
OWNERS = ["김민준", "佐藤 花子", "Jane Doe", None]


def _rows(n: int) -> list[list[str | None]]:
    return [
        [f"C{i:05d}", f"user{i}@example.com", STAGES[i % 7], OWNERS[i % 4], f"{i % 97:05d}"]
        for i in range(n)
    ]


HEADER = ["Record ID", "Email", "Lifecycle Stage", "Contact owner", "Postal Code"]


def _check(frame_values: dict[str, list[object]], rows: list[list[str | None]]) -> None:
    for j, h in enumerate(HEADER):
        col = frame_values[h]
        assert col == [r[j] for r in rows], h  # the file's values, None for an empty cell
        texts = [v for v in col if v is not None]
        assert len({id(v) for v in texts}) == len(set(texts)), h  # one object per value


def test_csv_and_workbook_frames_share_values(tmp_path: Path) -> None:
    rows = _rows(3000)
    with (tmp_path / "c.csv").open("w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(HEADER)
        w.writerows([["" if v is None else v for v in r] for r in rows])
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(HEADER)
    for r in rows:
        sheet.append(r)
    book.save(tmp_path / "c.xlsx")
    (table,) = list(READERS.get("excel").fn(tmp_path / "c.xlsx", ReaderOptions()))
    _check({h: table.frame[h].tolist() for h in HEADER}, rows)
    (table,) = list(READERS.get("csv").fn(tmp_path / "c.csv", ReaderOptions()))
    for h in HEADER:
        col = table.frame[h]
        assert isinstance(col.dtype, pd.StringDtype) and col.dtype.storage == "pyarrow", h
        assert col.astype(object).where(col.notna(), None).tolist() == [
            r[HEADER.index(h)] for r in rows
        ], h
    # commands that read a plain file (dedupe, merge apply) get Python values, shared
    _check({h: read_table(tmp_path / "c.csv").frame[h].tolist() for h in HEADER}, rows)
