"""Sources a Spark session reads: tables, and folders (or URIs) of Parquet or CSV files.

`SparkSources(spark)` is the sources stage's connector (`audit.sources.Connector`): it reads with
the session and hands back each file's rows as a file reader would (header as written, every value
as text, 1-based data-row numbers), so the stage maps them with the same profiles, header mapping
and provenance as an export file. A table and the same rows as a CSV give the same records.

Values become text the way a person reads them, once, here: integral floats without ".0",
timestamps in ISO 8601 (with their offset when the column has a time zone), nested values as
JSON. Provenance: a folder's rows keep their part file and their row in it (Parquet's row index,
a CSV file's data-row number); a table's rows are numbered in its files' order, or, for a table
with no files behind it (a view over a database), in the order of their values, so that the same
table always gives the same `source_row`.
"""

from __future__ import annotations

import datetime as dt
import json
import math
import re
from decimal import Decimal
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlparse

import pandas as pd

from audit.config import SourceConfig
from audit.errors import InputError
from audit.sources.readers import RawTable, Rejected
from audit.sources.readers.excel_reader import cell_text

# columns this module adds to what it reads; names no export uses
_FILE, _ROW, _BAD = "__crm_audit_file", "__crm_audit_row", "__crm_audit_corrupt"
_URI = re.compile(r"^[A-Za-z][A-Za-z0-9+.\-]+:/")


def _text(v: Any) -> str | None:
    """One typed value as the text a person reads (see the module docstring)."""
    if v is None:
        return None
    if isinstance(v, str):
        return v or None
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, float) and math.isnan(v):
        return None
    if isinstance(v, Decimal):
        return format(v, "f")
    if isinstance(v, (list, dict)):
        return json.dumps(v, ensure_ascii=False, sort_keys=True, default=str)
    if isinstance(v, dt.datetime) and v.tzinfo is not None:
        return v.isoformat(sep="T")
    return cell_text(v)


def _short(e: BaseException) -> str:
    """The first line of a Spark error, without the JVM stack."""
    text = str(getattr(e, "desc", None) or e).strip()
    first = text.splitlines()[0] if text else type(e).__name__
    return first[:300]


class SparkSources:
    """The connector the sources stage calls for tables and Spark-read folders."""

    def __init__(self, spark: Any) -> None:
        self.spark = spark

    def __call__(self, src: SourceConfig, base_dir: Path, where: str) -> list[tuple[str, RawTable]]:
        if src.table is not None:
            return self._table(src, where)
        return self._folder(src, base_dir, where)

    # -- reading ---------------------------------------------------------------------------

    def _table(self, src: SourceConfig, where: str) -> list[tuple[str, RawTable]]:
        from pyspark.errors import AnalysisException

        name = str(src.table)
        try:
            df = self.spark.table(name)
        except AnalysisException as e:
            raise InputError(
                f"{where}.table: {name}: no such table or view in the Spark session's catalog "
                f"({_short(e)}); check the name with SHOW TABLES, or the session's catalog and "
                "warehouse settings."
            ) from None
        _check_types(df, name, where)
        columns = list(df.columns)
        try:  # a table stored in files: number its rows in file order
            df = df.select(
                *columns,
                df["_metadata.file_path"].alias(_FILE),
                df["_metadata.row_index"].alias(_ROW),
            )
            ordered = True
        except AnalysisException:  # a view or a table with no files behind it
            ordered = False
        data = self._collect(df, columns, name, where)
        if ordered:
            data = data.sort_values([_FILE, _ROW], kind="stable")
        else:  # no order of its own: the order of the values, so every read numbers alike
            data = data.sort_values(columns, kind="stable", na_position="first")
        frame = data[columns].reset_index(drop=True)
        table = RawTable(frame, list(range(1, len(frame) + 1)), reader="spark-table")
        return [(name, table)]

    def _folder(self, src: SourceConfig, base_dir: Path, where: str) -> list[tuple[str, RawTable]]:
        path = str(src.path)
        local: Path | None = None
        if _URI.match(path):
            target = path
        else:
            raw = Path(path).expanduser()
            local = raw if raw.is_absolute() else base_dir / raw
            if not local.exists():
                raise InputError(f"{local}: folder not found ({where}.path = {path!r}).")
            target = local.resolve().as_uri()
        fmt = "parquet" if src.format == "parquet" else "csv"
        label = local if local is not None else path
        try:
            if fmt == "parquet":
                df = self.spark.read.parquet(target)
                columns = list(df.columns)
                _check_types(df, str(label), where)
                df = df.select(
                    *columns,
                    df["_metadata.file_path"].alias(_FILE),
                    (df["_metadata.row_index"] + 1).alias(_ROW),
                )
            else:
                df, columns = self._csv(src, target)
        except Exception as e:  # schema inference reads every footer: a broken file fails here
            if not _spark_error(e):
                raise
            raise InputError(
                f"{label}: Spark cannot read it as {fmt} ({_why(e)}); check {where}.path "
                f"and {where}.format, and fix or remove a file that is not {fmt}."
            ) from None
        data = self._collect(df, columns, str(label), where)
        if fmt == "csv":
            data = _csv_rows(data)
        return self._by_file(data, columns, src, fmt, local, base_dir, where)

    def _csv(self, src: SourceConfig, target: str) -> tuple[Any, list[str]]:
        """The folder's CSV files as text, every file checked against the first one's header.

        RFC 4180 quoting ("" inside quotes), values over several lines, the source's encoding
        and delimiter. A row with more or fewer fields than the header is kept whole in a
        corrupt-record column and becomes a rejected row, as with the file reader.
        """
        from pyspark.sql import functions as F
        from pyspark.sql.types import StringType, StructField, StructType

        opts = {
            "header": "true",
            "multiLine": "true",  # quoted line breaks; each file is then read by one task
            "quote": '"',
            "escape": '"',
            "encoding": src.encoding or "UTF-8",
            "sep": src.delimiter or ",",
            "inferSchema": "false",
            "enforceSchema": "false",  # a file whose header differs is an error, not shifted
            "mode": "PERMISSIVE",
        }
        header = self.spark.read.options(**opts).csv(target).columns
        header = [h.lstrip("\ufeff") for h in header]
        schema = StructType(
            [StructField(h, StringType()) for h in header] + [StructField(_BAD, StringType())]
        )
        df = (
            self.spark.read.options(**opts, columnNameOfCorruptRecord=_BAD)
            .schema(schema)
            .csv(target)
        )
        df = df.select(
            *header,
            _BAD,
            F.col("_metadata.file_path").alias(_FILE),
            F.monotonically_increasing_id().alias(_ROW),
        )
        return df, header

    def _collect(self, df: Any, columns: list[str], label: str, where: str) -> pd.DataFrame:
        """Every row on the driver (the stages after this one run there)."""
        try:
            arrow = _textual(df, columns).toArrow()
        except Exception as e:  # a file that is not what it says: one line, not a JVM trace
            if not _spark_error(e):
                raise
            raise InputError(
                f"{label}: a file could not be read ({_why(e)}); {where}: fix or remove the "
                "file and re-run."
            ) from None
        out = {}
        for name in arrow.column_names:
            col = arrow.column(name)
            if name in (_FILE, _ROW):
                out[name] = col.to_pylist()
            else:
                out[name] = [_text(v) for v in col.to_pylist()]
        return pd.DataFrame(out, dtype=object, columns=arrow.column_names)

    def _by_file(
        self,
        data: pd.DataFrame,
        columns: list[str],
        src: SourceConfig,
        fmt: str,
        local: Path | None,
        base_dir: Path,
        where: str,
    ) -> list[tuple[str, RawTable]]:
        """One table per file, in file order, as a folder of export files is read."""
        out = []
        if data.empty:  # files without rows: still one table, so the run counts 0 rows read
            name = _label(str(local.resolve().as_uri()), base_dir) if local else str(src.path)
            return [(name, RawTable(data[columns], [], reader=f"spark-{fmt}"))]
        data = data.sort_values([_FILE, _ROW], kind="stable")
        for uri, part in data.groupby(_FILE, sort=True):
            label = _label(str(uri), base_dir) if local is not None else str(uri)
            rows = part[_ROW].astype(int).tolist()
            if fmt == "csv":
                _check_decoded(part, columns, rows, label, src, where)
            rejected = []
            keep = [True] * len(part)
            if fmt == "csv":
                for k, (row, raw) in enumerate(zip(rows, part[_BAD].tolist(), strict=True)):
                    if raw is not None:
                        keep[k] = False
                        rejected.append(
                            Rejected(
                                row,
                                None,
                                "source.row.unparseable",
                                f"not {len(columns)} fields as in the header",
                                raw,
                            )
                        )
            frame = part.loc[keep, columns].reset_index(drop=True)
            table = RawTable(
                frame,
                [r for r, k in zip(rows, keep, strict=True) if k],
                rejected=rejected,
                reader=f"spark-{fmt}",
                encoding=(src.encoding or "utf-8") if fmt == "csv" else None,
                delimiter=(src.delimiter or ",") if fmt == "csv" else None,
                header_row=1 if fmt == "csv" else None,
            )
            out.append((label, table))
        return out


def _check_decoded(
    part: pd.DataFrame,
    columns: list[str],
    rows: list[int],
    label: str,
    src: SourceConfig,
    where: str,
) -> None:
    """Spark puts U+FFFD where bytes are not text in the encoding it was given, silently: a
    file in another encoding is refused here instead, naming the first such row."""
    for col in [*columns, _BAD]:
        hit = part[col].str.contains("\ufffd", regex=False).fillna(False).to_numpy(dtype=bool)
        if hit.any():
            row = rows[int(hit.argmax())]
            raise InputError(
                f"{label} row {row}: is not {src.encoding or 'UTF-8'} text; set "
                f"{where}.encoding to the files' encoding (cp1252, cp949, cp932, gb18030, ...)."
            )


def _csv_rows(data: pd.DataFrame) -> pd.DataFrame:
    """1-based data-row numbers per file: a file is read by one task in order (multiLine), so
    its rows are consecutive in the collected ids."""
    order = data[_ROW].astype("int64")
    first = order.groupby(data[_FILE]).transform("min")
    return data.assign(**{_ROW: (order - first + 1).astype(object)})


def _label(uri: str, base_dir: Path) -> str:
    """A part file as the run names files: relative to the config's folder when inside it."""
    parsed = urlparse(uri)
    if parsed.scheme not in ("", "file"):
        return uri
    path = Path(unquote(parsed.path))
    try:
        return path.resolve().relative_to(base_dir.resolve()).as_posix()
    except ValueError:
        return path.as_posix()


def _check_types(df: Any, label: str, where: str) -> None:
    """Binary columns have no text a person could check: refuse them, naming the column."""
    from pyspark.sql.types import BinaryType

    for field in df.schema.fields:
        if isinstance(field.dataType, BinaryType):
            raise InputError(
                f"{label}: column {field.name!r} holds binary data, which crm-audit cannot "
                f"read as text; {where}: read a view that leaves it out or casts it to a string."
            )


def _textual(df: Any, columns: list[str]) -> Any:
    """Nested and interval columns as text in Spark (JSON for nested ones); others as they
    are, made text on the driver by `_text`."""
    from pyspark.sql import functions as F
    from pyspark.sql.types import (
        ArrayType,
        BooleanType,
        DateType,
        DecimalType,
        MapType,
        NumericType,
        StringType,
        StructType,
        TimestampNTZType,
        TimestampType,
    )

    plain = (
        BooleanType,
        DateType,
        DecimalType,
        NumericType,
        StringType,
        TimestampNTZType,
        TimestampType,
    )
    nested = (ArrayType, MapType, StructType)
    cols = []
    for field in df.schema.fields:
        col = F.col(f"`{field.name}`")
        if field.name not in columns or isinstance(field.dataType, plain):
            cols.append(col)
        elif isinstance(field.dataType, nested):
            cols.append(F.to_json(col).alias(field.name))
        else:
            cols.append(col.cast("string").alias(field.name))
    return df.select(*cols)


def _spark_error(e: BaseException) -> bool:
    """Whether Spark raised it about the data (the JVM's or PySpark's own error types)."""
    from py4j.protocol import Py4JJavaError  # type: ignore[import-untyped]
    from pyspark.errors import PySparkException

    return isinstance(e, (PySparkException, Py4JJavaError))


def _why(e: BaseException) -> str:
    """The reason inside a failed Spark job: the innermost 'Caused by' line, or the first."""
    text = str(e)
    causes = re.findall(r"Caused by: ([^\n]+)", text)
    line = causes[-1] if causes else _short(e)
    return line.strip()[:300]
