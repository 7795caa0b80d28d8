"""The run folder's tables as CSV (RFC 4180: CRLF rows, so a bare CR in a value is quoted; UTF-8
with BOM, so Excel opens CJK text correctly), and the
records also as Parquet so that later commands reload their types exactly. Tables no person
reads (`run_folder.PARQUET_ONLY`: the per-record scores) are Parquet only.

Every CSV cell goes through `safe.neutralize` (formula injection; `csv_encode` writes the bytes
of `to_csv`, column-wise); Parquet is not opened
by spreadsheets and keeps the values as they are (already redacted when asked).
"""

from __future__ import annotations

from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from audit import schema
from audit.report import csv_encode
from audit.report.context import ReportContext, writer
from audit.report.run_folder import (
    BOUNCE_COLUMNS,
    ENGINE_PARQUET,
    KPI_COLUMNS,
    PARQUET_ONLY,
    record_order,
    record_rows,
    table_path,
)
from audit.score.records import stored_record_scores

ENCODING = csv_encode.ENCODING
# always present, even when empty, so scripts can rely on them
_ALWAYS = ("issues", "duplicates", "clusters", "golden", "bounces", "kpis", "ingest")
# header of a core table when its stage gave an empty frame without columns
_DEFAULT_HEADERS = {
    "issues": schema.ISSUE_COLUMNS,
    "duplicates": ["record_id_l", "record_id_r", "score", "band", "rule_id"],
    "clusters": ["cluster_id", "record_id", "band", "is_survivor"],
    "golden": ["cluster_id"],
    "bounces": BOUNCE_COLUMNS,
    "kpis": KPI_COLUMNS,
    "ingest": ["source", "source_file", "entity", "rows_read", "rows_ingested", "rows_rejected"],
}


def write_csv_table(frame: pd.DataFrame, path: Path) -> Path:
    """The bytes of `safe.neutralize_frame(frame).to_csv(...)`, encoded column-wise."""
    return csv_encode.write_table(frame, path)


def write_parquet(frame: pd.DataFrame, path: Path) -> Path:
    """Parquet, falling back to text for object columns of mixed types (rare, from extras)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        frame.to_parquet(path, index=False)
    except (TypeError, ValueError):  # pyarrow's ArrowTypeError / ArrowInvalid
        fixed = frame.copy()
        for col in fixed.columns:
            if fixed[col].dtype == object:
                fixed[col] = fixed[col].map(lambda v: v if v is None else str(v))
        fixed.to_parquet(path, index=False)
    return path


# Rows per Parquet row group of a records file: a larger table is written a group at a time,
# so only one group's sorted Arrow columns are held (the whole sorted table was the report's
# largest rise at 1M contacts, +0.59 GB); up to this size the file is one row group, as before
ROW_GROUP_ROWS = 131_072


def write_records_parquet(frame: pd.DataFrame, order: np.ndarray | None, path: Path) -> Path:
    """`write_parquet(schema.stored_provenance(frame.take(order)), path)` without a sorted copy
    of the frame: the same bytes up to `ROW_GROUP_ROWS` rows, and beyond it the same rows,
    types and pandas metadata in row groups of that size.

    Each column is first converted on its own (the ids' Python text, which `stored_provenance`
    makes, one column at a time) to learn its Arrow type, and let go; then the rows are taken in
    order a row group at a time and converted with those types. So the stage holds the records
    once plus one column or one row group, not a sorted pandas copy, the ids as Python text and
    the Arrow table of both at once. Anything the column-wise path does not take (repeated
    column names, a column pyarrow refuses) goes the old way."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    if order is None:
        return write_parquet(schema.stored_provenance(frame), path)
    if not frame.columns.is_unique or not all(isinstance(c, str) for c in frame.columns):
        return write_parquet(schema.stored_provenance(frame.take(order)), path)
    whole = len(order) <= ROW_GROUP_ROWS
    columns: list[pa.ChunkedArray] = []
    fields: list[pa.Field] = []
    try:
        for name in frame.columns:
            # a column's type is the whole column's (a group of only missing values would
            # say null); the sorted column itself is kept only when the file is one group
            one = schema.stored_provenance(frame[[name]].take(order) if whole else frame[[name]])
            table = pa.Table.from_pandas(one, preserve_index=False)
            del one
            if whole:
                columns.append(table.column(0))
            fields.append(table.schema.field(0))
            del table
        # the pandas metadata to_parquet writes: it depends on the columns' dtypes and Arrow
        # types only, so an empty frame with the types found above gives the same
        head = schema.stored_provenance(frame.iloc[:0])
        types = pa.schema(fields)
        meta = pa.Table.from_pandas(head, schema=types, preserve_index=False).schema.metadata
    except (TypeError, ValueError):  # pyarrow's ArrowTypeError / ArrowInvalid
        columns.clear()
        return write_parquet(schema.stored_provenance(frame.take(order)), path)
    if frame.attrs:  # as pandas' to_parquet adds them
        import json

        meta = {**(meta or {}), b"PANDAS_ATTRS": json.dumps(frame.attrs).encode()}
    types = types.with_metadata(meta)
    path.parent.mkdir(parents=True, exist_ok=True)
    if whole:
        sorted_table = pa.Table.from_arrays(columns, schema=types)
        del columns
        pq.write_table(sorted_table, str(path), compression="snappy")
        return path
    with pq.ParquetWriter(str(path), types, compression="snappy") as out:
        for start in range(0, len(order), ROW_GROUP_ROWS):
            rows = schema.stored_provenance(frame.take(order[start : start + ROW_GROUP_ROWS]))
            group = pa.Table.from_pandas(rows, schema=types, preserve_index=False)
            del rows
            out.write_table(group, row_group_size=ROW_GROUP_ROWS)
            del group
    return path


@writer("csv", suffix=".csv", always=True)
def write_csv(ctx: ReportContext, out_dir: Path) -> list[Path]:
    """Every table of the run: issues, duplicates, clusters, golden, bounces, records, scores.

    pyarrow writes the Parquet files on a second thread (it releases the GIL while it encodes
    and compresses) while this one encodes the CSV files; each file is the same either way.
    """
    paths: list[Path | Future[list[Path]]] = []
    names = sorted(set(ctx.tables) | set(_ALWAYS))
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="parquet") as pool:

        def parquet(frame: pd.DataFrame, path: Path, write: Any = write_parquet) -> None:
            if ctx.parquet is not None and not frame.columns.empty:
                paths.extend(ctx.parquet(frame, path))  # the engine's (Spark) writer, here
            else:  # one file waits at most: a queue would hold every sorted records copy
                for earlier in paths:
                    if isinstance(earlier, Future):
                        earlier.result()
                paths.append(pool.submit(lambda: [write(frame, path)]))

        for name in names:
            frame = ctx.table(name)
            if frame.columns.empty and name in _DEFAULT_HEADERS:
                frame = pd.DataFrame(columns=_DEFAULT_HEADERS[name])
            if name not in _ALWAYS and frame.columns.empty and not name.startswith("records/"):
                continue  # a scorecard table the score stage did not fill
            if name.startswith("records/") and ctx.parquet is None:
                # the rows in record_id order, taken a block (a column) at a time: no sorted
                # copy of the table (redacted: sorted already, so `order` is None)
                order = None if ctx.redact else record_order(frame)
                paths.append(csv_encode.write_table(frame, out_dir / table_path(name), order))
                parquet(
                    frame,
                    out_dir / f"{name}.parquet",
                    lambda f, p, order=order: write_records_parquet(f, order, p),
                )
                continue
            if name.startswith("records/") and not ctx.redact:  # redacted: sorted already
                frame = record_rows(frame)
            if name in PARQUET_ONLY:  # the per-record scores' compact columns written as before
                parquet(stored_record_scores(frame), out_dir / f"{name}.parquet")
                continue
            paths.append(write_csv_table(frame, out_dir / table_path(name)))
            if name.startswith("records/"):
                parquet(schema.stored_provenance(frame), out_dir / f"{name}.parquet")
            elif ctx.parquet is not None and name in ENGINE_PARQUET:
                parquet(frame, out_dir / f"{name}.parquet")
    out: list[Path] = []
    for p in paths:  # a failed Parquet write raises here, after the others finished
        out.extend(p.result() if isinstance(p, Future) else [p])
    return out
