"""The records files written without a sorted copy of the table (`record_order`): the CSV taken
a block at a time and the Parquet a column at a time are the very bytes the sorted copy gave
(`record_rows` + `csv_encode.write_table`, `stored_provenance` + pandas' `to_parquet`), which
byte-identical reruns, `load_run` and merge apply rely on."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow.parquet as pq
import pytest

from audit import schema
from audit.report import csv_encode
from audit.report.csv_writer import write_parquet, write_records_parquet
from audit.report.run_folder import record_order, record_rows

TEXT = ["plain", "a,b", '=HYPERLINK("x")', "line\nbreak", "", None, "한국어 テスト", "-5"]


def records(n: int, seed: int = 3, *, ids_missing: bool = False) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    ids = [f"crm:{k}" for k in rng.permutation(n)]
    ids[1] = ids[5]  # a repeated id: the sort must keep their order (stable)
    if ids_missing:
        ids[7] = None
    frame = pd.DataFrame(
        {
            "record_id": pd.array(ids, dtype="str"),
            "source": pd.Series(["crm"] * n, dtype=object),  # one shared string, object
            "source_row": pd.array([str(k + 2) for k in range(n)], dtype="str"),
            "full_name": pd.array([TEXT[k % len(TEXT)] for k in range(n)], dtype="str"),
            "score": np.where(np.arange(n) % 9 == 0, np.nan, rng.random(n)),
            "visits": pd.array([None if k % 4 == 0 else k for k in range(n)], dtype="Int64"),
            "opted_in": pd.array([None if k % 5 == 0 else k % 2 == 0 for k in range(n)]),
            "created_at": pd.to_datetime("2025-01-01", utc=True)
            + pd.to_timedelta(rng.integers(0, 10**9, n), unit="s"),
            "extra": pd.array([None] * n, dtype="str"),  # all missing: Parquet's null type
        }
    )
    return frame


def old_way(frame: pd.DataFrame, tmp: Path) -> tuple[bytes, bytes]:
    whole = record_rows(frame)
    csv = csv_encode.write_table(whole, tmp / "old.csv").read_bytes()
    parquet = write_parquet(schema.stored_provenance(whole), tmp / "old.parquet").read_bytes()
    return csv, parquet


# 70,000 rows: more than one CSV block; blanked ids need rows to blank
@pytest.mark.parametrize(
    ("n", "ids_missing"),
    [(0, False), (1, False), (40, False), (70_000, False), (40, True), (70_000, True)],
)
def test_records_written_in_order_are_the_sorted_copys_bytes(
    tmp_path: Path, n: int, ids_missing: bool
) -> None:
    frame = records(max(n, 40), ids_missing=ids_missing).iloc[:n]
    order = record_order(frame)
    assert n < 2 or order is not None  # shuffled ids: there is an order to take
    want_csv, want_parquet = old_way(frame, tmp_path)
    got_csv = csv_encode.write_table(frame, tmp_path / "new.csv", order).read_bytes()
    got_parquet = write_records_parquet(frame, order, tmp_path / "new.parquet").read_bytes()
    assert got_csv == want_csv
    assert got_parquet == want_parquet
    back = pd.read_parquet(tmp_path / "new.parquet")
    assert back["record_id"].tolist() == record_rows(frame)["record_id"].tolist()
    if n:  # the ids are stored as text (object columns), as earlier runs' files hold them
        assert (
            pq.ParquetFile(tmp_path / "new.parquet").schema_arrow.field("record_id").type
            == "string"
        )


def test_records_in_order_already_are_not_reordered(tmp_path: Path) -> None:
    frame = record_rows(records(50))
    assert record_order(frame) is None
    want_csv, want_parquet = old_way(frame, tmp_path)
    assert csv_encode.write_table(frame, tmp_path / "n.csv", None).read_bytes() == want_csv
    assert write_records_parquet(frame, None, tmp_path / "n.parquet").read_bytes() == want_parquet


def test_a_column_pyarrow_refuses_goes_the_old_way(tmp_path: Path) -> None:
    frame = records(60)
    frame["mixed"] = pd.Series([1, "a", 2.5] * 20, dtype=object)  # int, text, float
    order = record_order(frame)
    _, want = old_way(frame, tmp_path)
    got = write_records_parquet(frame, order, tmp_path / "m.parquet").read_bytes()
    assert got == want
    assert set(pd.read_parquet(tmp_path / "m.parquet")["mixed"]) == {"1", "2.5", "a"}


@pytest.mark.parametrize("ids_missing", [False, True])
def test_a_table_over_one_row_group_has_the_sorted_copys_rows_types_and_metadata(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, ids_missing: bool
) -> None:
    """Past ROW_GROUP_ROWS the file is written a row group at a time: the bytes differ, what
    a reader gets (rows, dtypes, the pandas metadata, the Arrow schema) is the sorted copy's."""
    import audit.report.csv_writer as csv_writer

    monkeypatch.setattr(csv_writer, "ROW_GROUP_ROWS", 16)
    frame = records(100, ids_missing=ids_missing)
    # a column missing in the first group only: its type is the whole column's (text), not null
    frame["late"] = pd.Series([None] * 40 + [f"v{k}" for k in range(60)], dtype=object)
    frame.attrs = {"entity": "contacts"}
    order = record_order(frame)
    _, want_bytes = old_way(frame, tmp_path)
    got = write_records_parquet(frame, order, tmp_path / "g.parquet")
    want, mine = pq.ParquetFile(tmp_path / "old.parquet"), pq.ParquetFile(got)
    assert mine.metadata.num_row_groups == 7 and want.metadata.num_row_groups == 1
    assert got.read_bytes() != want_bytes  # other bytes, as the docstring says
    assert mine.schema_arrow == want.schema_arrow  # types and the pandas metadata
    assert mine.schema_arrow.metadata == want.schema_arrow.metadata
    pd.testing.assert_frame_equal(pd.read_parquet(got), pd.read_parquet(tmp_path / "old.parquet"))
    assert pd.read_parquet(got).attrs == {"entity": "contacts"}
