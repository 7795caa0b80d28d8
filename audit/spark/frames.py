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

from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

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


def arrow_to_spark(spark: SparkSession, table: pa.Table, partitions: int) -> DataFrame:
    """An Arrow table as a Spark frame of `partitions` partitions of consecutive rows.

    Spark makes a local Arrow table one partition per Arrow batch when it keeps the batches
    as an RDD (tables over `localRelationThreshold`; smaller ones become one partition per
    core), so the table goes as one batch per slice, kept as an RDD, without a shuffle.
    """
    table = table.combine_chunks()
    step = max(1, -(-table.num_rows // max(1, partitions)))
    conf = {
        "spark.sql.execution.arrow.maxRecordsPerBatch": str(step),
        "spark.sql.execution.arrow.localRelationThreshold": "0",
    }
    before = {k: spark.conf.get(k, None) for k in conf}
    for k, v in conf.items():
        spark.conf.set(k, v)
    try:
        return spark.createDataFrame(table)
    finally:
        for k, v in before.items():
            if v is None:
                spark.conf.unset(k)
            else:
                spark.conf.set(k, v)


def table_of(batches: Iterable[pa.RecordBatch]) -> pa.Table | None:
    """A partition's batches as one table (None when the partition is empty)."""
    got = [b for b in batches if b.num_rows]
    return pa.Table.from_batches(got) if got else None
