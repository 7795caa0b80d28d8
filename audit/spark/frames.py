"""Record frames to Spark and back without losing a value or a dtype.

A stage function run on a partition must see the frame the pandas engine would give it: the
same dtypes (the checks branch on them), the same missing values, nanosecond datetimes. Spark's
own pandas conversion does not promise that (nullable integers with a gap come back as floats,
timestamps as naive microseconds, an all-missing column as INT), so the frames travel as Arrow
in a lossless encoding and every partition decodes them with the driver's dtypes:

- datetimes as int64 UTC nanoseconds (missing = null), restored with their zone;
- integers, floats and booleans as Arrow's own (nullable) types;
- text (str, object, string, category) as Arrow strings, restored with `astype(dtype)`.

An object column holding anything but text is refused (`TypeError` naming the column): it has
no lossless Arrow form here, and a silent `str()` would change what a check sees.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
import threading
from collections.abc import Iterable, Iterator, Mapping
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

if TYPE_CHECKING:
    from pyspark.sql import DataFrame, SparkSession

NAT = np.iinfo(np.int64).min
POS = "_pos"  # a row's position in the driver's frame: partitions sort by it
# rows per Spark partition (and per hash bucket) when the stages cut a frame; see `slices`
ROWS_PER_PARTITION = 50_000

Dtypes = Mapping[str, Any]


def _is_datetime(dtype: Any) -> bool:
    return isinstance(dtype, pd.DatetimeTZDtype) or (
        isinstance(dtype, np.dtype) and dtype.kind == "M"
    )


def _is_text(dtype: Any) -> bool:
    return (
        (isinstance(dtype, np.dtype) and dtype.kind == "O")
        or isinstance(dtype, pd.StringDtype | pd.CategoricalDtype)
        or str(dtype) in ("str", "string")
    )


def encode_column(name: str, s: pd.Series) -> pa.Array:
    """One column in its lossless Arrow form (see the module's docstring)."""
    dtype = s.dtype
    if _is_datetime(dtype):
        ns = pd.DatetimeIndex(s).as_unit("ns").asi8
        return pa.array(ns, type=pa.int64(), mask=s.isna().to_numpy(bool))
    if pd.api.types.is_bool_dtype(dtype):
        return pa.array(s.to_numpy(dtype=object, na_value=None), type=pa.bool_())
    if pd.api.types.is_integer_dtype(dtype):
        return pa.array(s.to_numpy(dtype=object, na_value=None), type=pa.int64())
    if pd.api.types.is_float_dtype(dtype):
        values = s.to_numpy(dtype=np.float64, na_value=np.nan)
        return pa.array(values, type=pa.float64(), mask=np.isnan(values))
    if _is_text(dtype):
        values = s.astype(object).to_numpy()
        missing = pd.isna(values)
        if pd.api.types.infer_dtype(values, skipna=True) not in ("string", "empty"):
            odd = next(
                v for v, m in zip(values, missing, strict=True) if not m and not isinstance(v, str)
            )
            raise TypeError(
                f"column {name!r} holds {type(odd).__name__} values, which the Spark engine "
                "cannot carry without changing them"
            )
        return pa.array(np.where(missing, None, values), type=pa.string())
    raise TypeError(f"column {name!r} has dtype {dtype}, which the Spark engine cannot carry")


def encode(frame: pd.DataFrame, *, positions: bool = True) -> pa.Table:
    """The frame as an Arrow table (plus each row's position in `POS` when asked)."""
    cols = {str(c): encode_column(str(c), frame[c]) for c in frame.columns}
    if positions:
        cols[POS] = pa.array(np.arange(len(frame), dtype=np.int64))
    return pa.table(cols)


def decode_column(arr: pa.Array | pa.ChunkedArray, dtype: Any) -> pd.Series:
    """The inverse of `encode_column` for a column whose driver dtype was `dtype`."""
    if _is_datetime(dtype):
        ns = pc.fill_null(arr, NAT).to_numpy().astype(np.int64)  # no float detour
        index = pd.DatetimeIndex(ns.view("M8[ns]"))
        if isinstance(dtype, pd.DatetimeTZDtype):
            index = index.tz_localize("UTC").tz_convert(dtype.tz)
        return pd.Series(index).astype(dtype)
    if pd.api.types.is_float_dtype(dtype):
        values = arr.to_numpy(zero_copy_only=False)
        return pd.Series(np.asarray(values, dtype=np.float64)).astype(dtype)
    values = np.asarray(arr.to_pylist(), dtype=object)
    return pd.Series(values, dtype=object).astype(dtype)


def decode(table: pa.Table, dtypes: Dtypes) -> pd.DataFrame:
    """A partition's frame, with the driver's columns (in its order) and dtypes."""
    out = pd.DataFrame({c: decode_column(table.column(c), d) for c, d in dtypes.items()})
    if POS in table.column_names:
        out[POS] = table.column(POS).to_numpy()
    return out


def dtypes_of(frame: pd.DataFrame) -> dict[str, Any]:
    return {str(c): frame[c].dtype for c in frame.columns}


def slices(rows: int, partitions: int, rows_per_partition: int = ROWS_PER_PARTITION) -> int:
    """How many partitions (or hash buckets) `rows` rows are cut into: one per
    `rows_per_partition` rows, at least one, at most `partitions`.

    Every partition is a Python call with a fixed cost (a worker, the stage's set-up, Arrow in
    and out): at 10,000 persons, 16 partitions per entity made normalize and validate spend
    more time starting calls than checking rows. Cut by size, a small entity is one call, and
    the entities of a stage, which run in one Spark job, keep every core busy.
    """
    return max(1, min(partitions, -(-rows // max(1, rows_per_partition))))


def to_spark(spark: SparkSession, frame: pd.DataFrame, partitions: int) -> DataFrame:
    """The frame (with positions) as a Spark frame of `partitions` partitions of consecutive
    rows (fewer when it has fewer rows); decode a partition with `dtypes_of(frame)`.

    Nothing is cached: the rows already live in the JVM, and a cache would hold them twice
    and cost a job per frame.
    """
    return arrow_to_spark(spark, encode(frame), partitions)


_STAGING = threading.local()
# the share of a local session's heap a stage's frames may take in memory (`staging`)
HEAP_SHARE = 8


@contextlib.contextmanager
def staging(spark: SparkSession, in_memory: int | None = None) -> Iterator[None]:
    """Frames sent to Spark inside this block go in memory while they add up to at most
    `in_memory` bytes of Arrow data (default: an eighth of a local session's heap), and the
    rest through Parquet files on disk, removed when the block ends. On a cluster the
    driver's disk is not the executors', so frames always go in memory there.

    A frame made from local rows (`createDataFrame`) keeps every row in the heap while the
    frame lives, and each task carries its partition's rows, serialized once more: at 300k
    contacts with a 1g heap, validate died serializing such a task. Read from a file, a task
    carries only the file's name and the heap holds the batches in flight. But files cost
    writing, a scan per slice and a Parquet decode per read (the 100k demo's normalize and
    validate: 7.5 and 11.5 more CPU seconds than in memory), so they are kept for what the
    heap cannot hold: a frame whose Arrow size (with the frames before it in the stage)
    passes an eighth of the heap (a heap of the default size holds 100k contacts' frames).
    """
    if getattr(_STAGING, "dir", None) is not None or not _local(spark):
        yield
        return
    if in_memory is None:
        in_memory = heap_bytes(spark) // HEAP_SHARE
    folder = tempfile.mkdtemp(prefix="crm-audit-spark-")
    _STAGING.dir, _STAGING.n, _STAGING.budget = folder, 0, in_memory
    try:
        yield
    finally:
        _STAGING.dir = None
        shutil.rmtree(folder, ignore_errors=True)


def heap_bytes(spark: SparkSession) -> int:
    """The most heap the session's JVM will take (`-Xmx`, from `spark.driver.memory`)."""
    return int(spark.sparkContext._jvm.java.lang.Runtime.getRuntime().maxMemory())


def _local(spark: SparkSession) -> bool:
    return str(spark.sparkContext.master).startswith("local")


def arrow_to_spark(
    spark: SparkSession, table: pa.Table, partitions: int, schema: Any = None
) -> DataFrame:
    """An Arrow table as a Spark frame of `partitions` partitions of consecutive rows (inside
    `staging`, past its memory budget: one Parquet file per slice, see `_from_files`).

    Spark makes a local Arrow table one partition per Arrow batch when it keeps the batches
    as an RDD (tables over `localRelationThreshold`; smaller ones become one partition per
    core), so the table goes as one batch per slice, kept as an RDD, without a shuffle.
    """
    table = table.combine_chunks()
    step = max(1, -(-table.num_rows // max(1, partitions)))
    folder = getattr(_STAGING, "dir", None)
    if folder is not None:
        if table.nbytes > _STAGING.budget:
            return _from_files(spark, table, step, folder, schema)
        _STAGING.budget -= table.nbytes
    conf = {
        "spark.sql.execution.arrow.maxRecordsPerBatch": str(step),
        "spark.sql.execution.arrow.localRelationThreshold": "0",
    }
    before = {k: spark.conf.get(k, None) for k in conf}
    for k, v in conf.items():
        spark.conf.set(k, v)
    try:
        return spark.createDataFrame(table, schema=schema)
    finally:
        for k, v in before.items():
            if v is None:
                spark.conf.unset(k)
            else:
                spark.conf.set(k, v)


def _from_files(
    spark: SparkSession, table: pa.Table, step: int, folder: str, schema: Any
) -> DataFrame:
    """The table's slices of `step` rows, each one Parquet file of one row group, read back
    as one frame: one scan per file, so each slice stays whole in one partition (a file
    Spark splits in two by size gives one empty partition beside it, never half a slice)."""
    from pyspark.sql.pandas.types import from_arrow_schema

    if schema is None:
        schema = from_arrow_schema(table.schema)
    frames = []
    for lo in range(0, max(1, table.num_rows), step):
        _STAGING.n += 1
        path = os.path.join(folder, f"{_STAGING.n:06d}.parquet")
        part = table.slice(lo, step)
        pq.write_table(part, path, row_group_size=max(1, part.num_rows))
        frames.append(spark.read.schema(schema).parquet(path))
    out = frames[0]
    for other in frames[1:]:
        out = out.union(other)
    return out


def table_of(batches: Iterable[pa.RecordBatch]) -> pa.Table | None:
    """A partition's batches as one table (None when the partition is empty)."""
    got = [b for b in batches if b.num_rows]
    return pa.Table.from_batches(got) if got else None
