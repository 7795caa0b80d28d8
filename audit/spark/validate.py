"""The validate stage on Spark: the project's own checks per partition, laid out by each rule's
declared scope, with the pandas engine's issues, counts and GX contract.

Every rule kind declares the records it must see together (`audit.validate.kinds.Scope`):

- row (and reference): any split will do, so the rules run on the frame's own partitions; a
  reference rule's target column is small and goes to every partition whole;
- key: the rows go to a hash bucket of the key columns, so every key lies whole in one call;
- email_key: the rows, and the email events and activities that share their email key, go to a
  hash bucket of the key (the key is the checks' own `email_key`, computed in a first pass
  over each entity's email column); a record without a key is row-local and spread by position.

Inside a call, the rows keep the driver's order (evidence names the first of repeated rows),
and the checks run unchanged on frames with the driver's dtypes (`audit.spark.frames`). Each
call returns its findings (rendered there: the costly part), its counts per rule, and, when the
GX contract is on, the failed/checked masks as bits; the driver sums the counts, derives each
rule's status as the pandas engine does, and puts the findings in the pandas engine's order.

Whole-data facts a partition cannot see for itself are handed in: a with-entity (email events)
that exists but has no row in a bucket is stood for by one row without an address, so a check
that skips when there are no events at all does not skip there.
"""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
import pyarrow as pa

from audit import schema
from audit.config import RulesConfig
from audit.model import Records, Validation
from audit.spark.frames import (
    POS,
    ROWS_PER_PARTITION,
    decode,
    dtypes_of,
    slices,
    staging,
    table_of,
    to_spark,
)
from audit.validate import KINDS, load_rules
from audit.validate.engine import RuleRun, checked_frame, issues_for, run_rule
from audit.validate.kinds import Context, Outcome
from audit.validate.rulepack import Rule

if TYPE_CHECKING:
    from pyspark.sql import DataFrame, SparkSession

# the column of a with-entity that holds the address its rows are keyed by (what the
# staleness and bounce checks read: email_events.address, activities.contact_email)
WITH_KEY = {"email_events": "address", "activities": "contact_email"}
BUCKET, WHICH = "_bucket", "_which"
_ISSUE_COLS = [c for c in schema.ISSUE_COLUMNS]
_OUT = pa.schema(
    [
        # the call: its layout's number << 40 | the smallest position of its rows
        pa.field("call", pa.int64()),
        pa.field("rule", pa.int32()),  # index into the rule list; -1: the call's positions
        pa.field("pos", pa.int64()),  # an issue's row; -1 on counts rows
        *[pa.field(c, pa.string()) for c in _ISSUE_COLS],
        pa.field("n_checked", pa.int64()),
        pa.field("n_failed", pa.int64()),
        pa.field("status", pa.string()),
        pa.field("note", pa.string()),
        pa.field("failed", pa.binary()),  # np.packbits of the masks, in the call's row order
        pa.field("checked", pa.binary()),
    ]
)


@dataclass(frozen=True)
class _Piece:
    """One entity's rows in a call: the rule's entity first, then its with-entities."""

    entity: str
    dtypes: dict[str, Any]
    sentinel: bool = False  # the entity has rows elsewhere: stand in for them when absent


def validate_on_spark(
    spark: SparkSession,
    records: Records,
    cfg: RulesConfig,
    *,
    as_of: dt.date,
    stale_after_days: int = 730,
    base_dir: Path | None = None,
    partitions: int = 8,
    rows_per_partition: int = ROWS_PER_PARTITION,
) -> Validation:
    """`audit.validate.validate` with the checks run per partition on `spark`: the same
    issues, per-rule counts and GX contract (run on GX's Spark datasource). A frame is cut
    into one partition, and a key layout into one bucket, per `rows_per_partition` rows, at
    most `partitions` (`frames.slices`), and never more than `rows_per_partition` rows: a
    call holds its rows whole. The frames go to Spark through files (`frames.staging`)."""
    with staging(spark):
        return _validate(
            spark, records, cfg, as_of, stale_after_days, base_dir, partitions, rows_per_partition
        )


def _validate(
    spark: SparkSession,
    records: Records,
    cfg: RulesConfig,
    as_of: dt.date,
    stale_after_days: int,
    base_dir: Path | None,
    partitions: int,
    rows_per_partition: int,
) -> Validation:
    rules = load_rules(cfg, base_dir)
    ctx_args: dict[str, Any] = {"as_of": as_of, "stale_after_days": stale_after_days}
    local: list[int] = []
    layouts: dict[tuple[Any, ...], list[int]] = {}
    for x, rule in enumerate(rules):
        frame = records.get(rule.entity)
        scope = KINDS.get(rule.kind).scope_of(rule)
        if frame is None or len(frame) == 0 or rule.entity in scope.with_entities:
            # nothing to spread (skipped or empty), or a reference into the rule's own entity
            # (its target is the whole frame the partition is part of): the driver runs it
            local.append(x)
        elif scope.kind == "key":
            layouts.setdefault((rule.entity, "key", scope.keys), []).append(x)
        elif scope.kind == "email_key":
            layout = (rule.entity, "email_key", rule.field, scope.with_entities)
            layouts.setdefault(layout, []).append(x)
        else:
            layouts.setdefault((rule.entity, "row"), []).append(x)
    masks = bool(cfg.gx)
    shipped: dict[str, DataFrame] = {}

    def cut(rows: int) -> int:
        by_size = slices(rows, partitions, rows_per_partition)
        return max(by_size, -(-rows // max(1, rows_per_partition)))

    def ship(entity: str) -> DataFrame:
        if entity not in shipped:
            shipped[entity] = to_spark(spark, records[entity], cut(len(records[entity])))
        return shipped[entity]

    jobs: list[DataFrame] = []
    for layout, xs in sorted(layouts.items(), key=lambda kv: kv[1][0]):
        entity, how = layout[0], layout[1]
        picked = [(x, rules[x]) for x in xs]
        main = _Piece(entity, dtypes_of(records[entity]))
        if how == "row":
            refs = _references(records, [r for _, r in picked])
            fn = _call(picked, [main], refs, ctx_args, masks, len(jobs))
            jobs.append(ship(entity).mapInArrow(_per_partition(entity, fn), _DDL))
        elif how == "key":
            from pyspark.sql import functions as F

            fn = _call(picked, [main], {}, ctx_args, masks, len(jobs))
            keys = [F.col(k) for k in layout[2] if k in records[entity].columns]  # type: ignore[union-attr]
            # a key column the data lacks: the check skips, wherever the rows are
            buckets = F.lit(cut(len(records[entity])))
            bucket = F.pmod(F.xxhash64(*keys), buckets) if keys else F.lit(0)
            keyed = ship(entity).withColumn(BUCKET, bucket)
            jobs.append(keyed.groupBy(BUCKET).applyInArrow(_per_group([entity], fn), _DDL))
        else:
            field, with_entities = str(layout[2]), layout[3]
            pieces = [main]
            for w in with_entities:
                if w in records and w != entity:
                    pieces.append(_Piece(w, dtypes_of(records[w]), sentinel=len(records[w]) > 0))
            fn = _call(picked, pieces, {}, ctx_args, masks, len(jobs))
            parts = []
            buckets = cut(sum(len(records[p.entity]) for p in pieces))
            for i, piece in enumerate(pieces):
                if len(records[piece.entity]) == 0:
                    continue
                if i and piece.entity not in WITH_KEY:
                    raise ValueError(f"Spark validate: no email column known for {piece.entity}")
                column = field if i == 0 else WITH_KEY[piece.entity]
                parts.append(_keyed(ship(piece.entity), i, column, piece, buckets))
            union = parts[0]
            for part in parts[1:]:
                union = union.unionByName(part, allowMissingColumns=True)
            names = [p.entity for p in pieces]
            jobs.append(union.groupBy(BUCKET).applyInArrow(_per_group(names, fn), _DDL))
    got = _collect(jobs)
    runs, issues = _assemble(rules, local, got, records, ctx_args, masks)
    contract: dict[str, Any] = {}
    if cfg.gx:
        from audit.validate.gx import run_contract

        docs = cfg.gx_docs
        if docs is not None and base_dir is not None and not Path(docs).is_absolute():
            docs = str(base_dir / docs)
        from audit.spark.contract import as_batch

        contract = run_contract(
            runs,
            records,
            docs_dir=docs,
            as_of=as_of,
            spark_frame=lambda f: as_batch(spark, f, cut(len(f))),
        )
    return Validation(issues=issues, checked=checked_frame(runs), contract=contract)


def _references(records: Records, rules: list[Rule]) -> Records:
    """The target columns the reference rules read, each value once (what `references` needs:
    the values, and whether the target has rows at all)."""
    wanted: dict[str, set[str]] = {}
    for rule in rules:
        if KINDS.get(rule.kind).scope_of(rule).kind == "reference":
            for target in KINDS.get(rule.kind).scope_of(rule).with_entities:
                wanted.setdefault(target, set()).add(getattr(rule.params, "column", ""))
    out: Records = {}
    for target, cols in wanted.items():
        frame = records.get(target)
        if frame is None:
            continue
        have = sorted(c for c in cols if c in frame.columns)
        if have:
            out[target] = frame[have].drop_duplicates().reset_index(drop=True)
        else:  # rows, none of the columns: the check says so itself
            out[target] = pd.DataFrame(index=pd.RangeIndex(min(len(frame), 1)))
    return out


def _empty(dtypes: dict[str, Any], rows: int) -> pd.DataFrame:
    """A frame of the entity's columns with `rows` rows that hold no value."""
    return pd.DataFrame(
        {c: pd.Series([None] * rows, dtype=object).astype(d) for c, d in dtypes.items()}
    )


def _call(
    picked: list[tuple[int, Rule]],
    pieces: list[_Piece],
    refs: Records,
    ctx_args: dict[str, Any],
    masks: bool,
    job: int,
) -> Callable[[dict[str, pa.Table]], pa.Table | None]:
    """The work of one call: the picked rules on the call's rows of `pieces[0]`, with the
    call's rows of the other pieces beside them. Runs in a Spark worker."""

    def run(tables: dict[str, pa.Table]) -> pa.Table | None:
        from audit.validate.checks.basic import forget_distinct

        os.environ["CRM_AUDIT_WORKERS"] = "1"  # one Spark task per core already
        frames: dict[str, pd.DataFrame] = {}
        for piece in pieces:
            table = tables.get(piece.entity)
            if table is None or table.num_rows == 0:
                frames[piece.entity] = _empty(piece.dtypes, 1 if piece.sentinel else 0)
                continue
            frame = decode(table, piece.dtypes).sort_values(POS, kind="stable")
            frames[piece.entity] = frame.reset_index(drop=True)
        main = frames[pieces[0].entity]
        if POS not in main.columns or not len(main):
            return None
        pos = main[POS].to_numpy(np.int64)
        frames = {e: f.drop(columns=[POS], errors="ignore") for e, f in frames.items()}
        part = frames[pieces[0].entity]
        out = _Out((job << 40) | int(pos[0]))
        if masks:
            out.add(rule=-1, failed=pos.tobytes())
        ctx = Context(records={**refs, **frames}, **ctx_args)
        try:
            for x, rule in picked:
                done = run_rule(rule, ctx)
                o = done.outcome
                out.add(
                    rule=x,
                    n_checked=done.n_checked,
                    n_failed=done.n_failed,
                    status=done.status,
                    note=done.note,
                    failed=_bits(o.failed) if masks and o is not None else None,
                    checked=_bits(o.checked) if masks and o is not None else None,
                )
                if o is not None and done.n_failed:
                    found = issues_for(done, part)
                    rows = pos[np.flatnonzero(o.failed.to_numpy(bool))]
                    out.issues(x, rows, found)
        finally:
            forget_distinct()
        return out.table()

    return run


def _bits(mask: pd.Series | None) -> bytes | None:
    return None if mask is None else np.packbits(mask.to_numpy(bool)).tobytes()


class _Out:
    """The rows one call sends back (`_OUT`)."""

    def __init__(self, call: int) -> None:
        self.call = call
        self.cols: dict[str, list[Any]] = {f.name: [] for f in _OUT}

    def add(self, **values: Any) -> None:
        values.setdefault("pos", -1)
        for name, col in self.cols.items():
            col.append(self.call if name == "call" else values.get(name))

    def issues(self, rule: int, rows: np.ndarray, found: pd.DataFrame) -> None:
        n = len(found)
        self.cols["call"].extend([self.call] * n)
        self.cols["rule"].extend([rule] * n)
        self.cols["pos"].extend(rows.tolist())
        for c in _ISSUE_COLS:
            self.cols[c].extend(_text(v) for v in found[c].tolist())
        for c in ("n_checked", "n_failed", "status", "note", "failed", "checked"):
            self.cols[c].extend([None] * n)

    def table(self) -> pa.Table:
        return pa.table(self.cols, schema=_OUT)


def _text(v: Any) -> str | None:
    if v is None or (isinstance(v, float) and v != v) or v is pd.NA:
        return None
    return str(v)


def _per_partition(
    entity: str, fn: Callable[[dict[str, pa.Table]], pa.Table | None]
) -> Callable[[Iterator[pa.RecordBatch]], Iterator[pa.RecordBatch]]:
    def run(batches: Iterator[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
        table = table_of(batches)
        out = fn({entity: table}) if table is not None else None
        if out is not None:
            yield from out.to_batches()

    return run


def _per_group(
    names: list[str], fn: Callable[[dict[str, pa.Table]], pa.Table | None]
) -> Callable[[pa.Table], pa.Table]:
    """A bucket's rows of every piece (columns prefixed by the piece's number) to `fn`."""

    def run(table: pa.Table) -> pa.Table:
        import pyarrow.compute as pc

        tables: dict[str, pa.Table] = {}
        if len(names) == 1:
            tables[names[0]] = table
        else:
            which = table.column(WHICH)
            for i, name in enumerate(names):
                prefix = f"e{i}__"
                cols = [c for c in table.column_names if c.startswith(prefix)]
                if not cols:
                    continue
                rows = table.filter(pc.equal(which, i)).select(cols)
                tables[name] = rows.rename_columns([c[len(prefix) :] for c in cols])
        out = fn(tables)
        return out if out is not None else _OUT.empty_table()

    return run


def _keyed(sdf: DataFrame, i: int, column: str, piece: _Piece, buckets: int) -> DataFrame:
    """The piece's rows with the bucket of their email key (the checks' own key, computed in
    Python); rows without a key match nothing and are spread by position."""
    from pyspark.sql import functions as F

    dtype = piece.dtypes[column]

    def bucket(batches: Iterator[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
        import zlib

        from audit.spark.frames import decode_column
        from audit.validate.checks.basic import forget_distinct
        from audit.validate.checks.stale import _keys

        for batch in batches:
            keys = _keys(decode_column(batch.column(column), dtype))
            forget_distinct()
            codes, uniques = pd.factorize(keys.astype(object), use_na_sentinel=True)
            hashed = np.asarray(
                [zlib.crc32(str(k).encode("utf-8")) % buckets for k in uniques], dtype=np.int64
            )
            pos = batch.column(POS).to_numpy().astype(np.int64)
            out = np.where(codes < 0, pos % buckets, np.append(hashed, 0)[codes])
            yield pa.RecordBatch.from_arrays(
                [*batch.columns, pa.array(out, pa.int64())], [*batch.schema.names, BUCKET]
            )

    from pyspark.sql.types import LongType, StructField, StructType

    out_schema = StructType([*sdf.schema.fields, StructField(BUCKET, LongType())])
    keyed = sdf.mapInArrow(bucket, out_schema)
    cols = [F.col(c).alias(f"e{i}__{c}") for c in sdf.columns]
    return keyed.select(*cols, F.lit(i).alias(WHICH), F.col(BUCKET))


def _collect(jobs: list[DataFrame]) -> pa.Table:
    if not jobs:
        return _OUT.empty_table()
    union = jobs[0]
    for job in jobs[1:]:
        union = union.unionByName(job)
    return union.toArrow().cast(_OUT)


def _assemble(
    rules: list[Rule],
    local: list[int],
    got: pa.Table,
    records: Records,
    ctx_args: dict[str, Any],
    masks: bool,
) -> tuple[list[RuleRun], pd.DataFrame]:
    """The rule runs (counts summed, status as the pandas engine derives it, masks rebuilt
    over the whole frame) and the issues in the pandas engine's order."""
    runs: list[RuleRun | None] = [None] * len(rules)
    found: list[pd.DataFrame] = []
    ctx = Context(records=records, **ctx_args)
    from audit.validate.checks.basic import forget_distinct

    try:
        for x in local:
            runs[x] = run_rule(rules[x], ctx)
    finally:
        forget_distinct()
    for x in local:
        run = runs[x]
        if run is not None and run.outcome is not None and run.n_failed:
            frame = records[rules[x].entity]
            got_x = issues_for(run, frame)
            found.append(
                got_x.assign(_rule=x, _pos=np.flatnonzero(run.outcome.failed.to_numpy(bool)))
            )
    data = got.to_pydict()
    calls: dict[int, np.ndarray] = {}
    per_rule: dict[int, list[int]] = {}
    issue_rows: list[int] = []
    for k, (call, rule, pos) in enumerate(
        zip(data["call"], data["rule"], data["pos"], strict=True)
    ):
        if rule == -1:
            calls[call] = np.frombuffer(data["failed"][k], dtype=np.int64)
        elif pos == -1:
            per_rule.setdefault(rule, []).append(k)
        else:
            issue_rows.append(k)
    errored: set[int] = set()
    for x, ks in per_rule.items():
        rule = rules[x]
        ks = sorted(ks, key=lambda k: data["call"][k])
        statuses = [data["status"][k] for k in ks]
        if "errored" in statuses:
            note = min(str(data["note"][k]) for k in ks if data["status"][k] == "errored")
            runs[x] = RuleRun(rule, "errored", note, None, -1, 0)
            errored.add(x)
            continue
        ran = [k for k in ks if data["status"][k] != "skipped"]
        if not ran:
            runs[x] = RuleRun(rule, "skipped", data["note"][ks[0]], None, 0, 0)
            continue
        n_checked = sum(int(data["n_checked"][k]) for k in ran)
        n_failed = sum(int(data["n_failed"][k]) for k in ran)
        outcome = None
        if masks:
            n = len(records[rule.entity])
            failed, checked = np.zeros(n, bool), np.zeros(n, bool)
            for k in ran:
                at = calls[data["call"][k]]
                failed[at] = np.unpackbits(
                    np.frombuffer(data["failed"][k], np.uint8), count=len(at)
                )
                checked[at] = np.unpackbits(
                    np.frombuffer(data["checked"][k], np.uint8), count=len(at)
                )
            index = records[rule.entity].index
            outcome = Outcome(
                failed=pd.Series(failed, index=index), checked=pd.Series(checked, index=index)
            )
        status = "ok" if n_checked else "empty"
        empty = None if n_checked else f"no {rule.field} values to check"
        runs[x] = RuleRun(rule, status, empty, outcome, n_checked, n_failed)
    if issue_rows:
        take = pa.array(issue_rows, type=pa.int64())
        part = got.take(take).select(["rule", "pos", *_ISSUE_COLS]).to_pandas()
        part = part[~part["rule"].isin(list(errored))]
        part = part.rename(columns={"rule": "_rule", "pos": "_pos"})
        found.append(part)
    missing = [rules[x].id for x, r in enumerate(runs) if r is None]
    if missing:  # every rule was handed out: a call that did not answer is a bug here
        raise RuntimeError(f"Spark validate: no result for rules {', '.join(missing)}")
    if not found:
        return [r for r in runs if r is not None], schema.empty_issues()
    issues = pd.concat(found, ignore_index=True).sort_values(["_rule", "_pos"], kind="stable")
    issues = issues.drop(columns=["_rule", "_pos"]).astype(object)
    issues = issues.where(issues.notna(), None)
    return [r for r in runs if r is not None], schema.conform_issues(issues)


_SPARK_TYPES = {
    pa.int64(): "bigint",
    pa.int32(): "int",
    pa.string(): "string",
    pa.binary(): "binary",
}
_DDL = ", ".join(f"{f.name} {_SPARK_TYPES[f.type]}" for f in _OUT)
