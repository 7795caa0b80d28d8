"""The GX contract's frame as a Spark frame, typed as GX's Spark datasource needs it.

The frame is the one `audit.validate.gx.run_contract` builds for the pandas datasource (the
fields GX checks itself, and the engine's flag columns), in record_id order. Spark would type
a flag column from its values (an all-missing one becomes INT, and GX's `IN (true)` then
fails), so flags go as booleans; fields keep Spark's natural type for their dtype (datetimes
as UTC timestamps, text as strings), so GX's Spark metrics compare what pandas compares.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
import pyarrow as pa

from audit.validate.gx import FLAG_PREFIX

if TYPE_CHECKING:
    from pyspark.sql import DataFrame, SparkSession


def _column(name: str, s: pd.Series) -> pa.Array:
    if name.startswith(FLAG_PREFIX):
        return pa.array(s.astype(object).where(s.notna(), None).tolist(), type=pa.bool_())
    if isinstance(s.dtype, pd.DatetimeTZDtype) or (
        isinstance(s.dtype, np.dtype) and s.dtype.kind == "M"
    ):
        utc = pd.to_datetime(s, utc=True).astype("datetime64[us, UTC]")
        return pa.array(utc, type=pa.timestamp("us", tz="UTC"))
    from audit.spark.frames import encode_column

    return encode_column(name, s)


def as_batch(spark: SparkSession, frame: pd.DataFrame, partitions: int = 1) -> DataFrame:
    """`frame` as a Spark frame for GX's dataframe asset (its partitions hold the rows in
    order, so GX's sample of unexpected values is the pandas datasource's).

    GX runs a Spark job per metric (241 for the demo's suite) over the frame it caches, so the
    frame has `partitions` partitions: left to Spark, a large table gets one per 10,000 rows
    (100 tasks a metric at 1M records), a small one one per core."""
    from audit.spark.frames import arrow_to_spark

    table = pa.table({str(c): _column(str(c), frame[c]) for c in frame.columns})
    return arrow_to_spark(spark, table, partitions)
