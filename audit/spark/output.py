"""The run folder's large tables as Parquet datasets written by Spark (engine: spark).

With the Spark engine the records, issues, duplicate pairs, clusters and per-record scores are
written by the session as folders of part files, `records/contacts.parquet/part-00000.parquet`,
at the path where the pandas engine writes one file. Readers that take a Parquet path (pandas,
pyarrow, Spark, DuckDB) read either. The rows and values are the pandas engine's: the frame is
turned into Arrow exactly as pandas does for its own Parquet file, then handed to Spark.

The part files are renamed from Spark's `part-<n>-<job uuid>` to `part-<n>.parquet`, and the
`_SUCCESS` and checksum files are left out, so the same run gives the same files, byte for
byte. On a cluster the run folder must be on storage that the driver and the executors share
(docs/scale.md).
"""

from __future__ import annotations

import math
import shutil
from pathlib import Path
from typing import Any

import pandas as pd

ROWS_PER_FILE = 500_000  # about 100-250 MB of records per part file


def _arrow(frame: pd.DataFrame) -> Any:
    """The Arrow table pandas' own `to_parquet` would write, in types Spark can hold."""
    import pyarrow as pa

    try:
        table = pa.Table.from_pandas(frame, preserve_index=False)
    except (TypeError, ValueError):  # an object column of mixed types: as report/csv_writer
        fixed = frame.copy()
        for col in fixed.columns:
            if fixed[col].dtype == object:
                fixed[col] = fixed[col].map(lambda v: v if v is None else str(v))
        table = pa.Table.from_pandas(fixed, preserve_index=False)
    fields = []
    for field in table.schema:
        t = field.type
        if pa.types.is_null(t):  # a column with no value: Spark writes no void columns
            t = pa.string()
        elif pa.types.is_dictionary(t):
            t = t.value_type
        elif pa.types.is_unsigned_integer(t):
            t = pa.int64()
        elif pa.types.is_timestamp(t) and t.unit == "ns":
            t = pa.timestamp("us", tz=t.tz)  # Spark's precision; records carry no nanoseconds
        fields.append(pa.field(field.name, t))
    return table.cast(pa.schema(fields), safe=False).replace_schema_metadata(None)


def _spark_schema(table: Any) -> Any:
    """Spark's schema for the table: a timestamp without a zone stays one (TIMESTAMP_NTZ)."""
    import pyarrow as pa
    from pyspark.sql.pandas.types import from_arrow_type
    from pyspark.sql.types import StructField, StructType

    return StructType(
        [
            StructField(
                f.name,
                from_arrow_type(f.type, prefer_timestamp_ntz=pa.types.is_timestamp(f.type)),
                nullable=True,
            )
            for f in table.schema
        ]
    )


def write_dataset(spark: Any, frame: pd.DataFrame, folder: Path) -> list[Path]:
    """Write `frame` as a Parquet dataset folder with Spark; return its part files.

    The rows keep their order: part files are consecutive slices, numbered in order.
    """
    from audit.spark.frames import staging

    with staging(spark):  # the rows go to Spark through files, not the JVM's heap
        return _write(spark, frame, Path(folder))


def _write(spark: Any, frame: pd.DataFrame, folder: Path) -> list[Path]:
    from audit.spark.frames import arrow_to_spark

    table = _arrow(frame)
    files = max(1, math.ceil(len(frame) / ROWS_PER_FILE))
    df = arrow_to_spark(spark, table, files, schema=_spark_schema(table))
    df = df.coalesce(files)
    scratch = folder.parent / f".{folder.name}.spark"  # dot: never listed in the manifest
    shutil.rmtree(scratch, ignore_errors=True)
    folder.parent.mkdir(parents=True, exist_ok=True)
    key = "spark.sql.parquet.outputTimestampType"
    before = spark.conf.get(key, None)
    spark.conf.set(key, "TIMESTAMP_MICROS")  # not INT96: every Parquet reader takes it
    try:
        df.write.mode("error").option("compression", "snappy").parquet(scratch.as_uri())
    finally:
        if before is None:
            spark.conf.unset(key)
        else:
            spark.conf.set(key, before)
    try:
        parts = sorted(scratch.glob("part-*.parquet"))
        folder.mkdir()
        out = []
        for k, part in enumerate(parts):
            target = folder / f"part-{k:05d}.parquet"
            part.rename(target)
            out.append(target)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    return out
