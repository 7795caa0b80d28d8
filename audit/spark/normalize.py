"""The normalize stage on Spark: the project's own `normalize` on each partition's frame.

Normalize works value by value, except for facts of more than one row, each decided from
all the rows it concerns while every entity, contacts too, is cut into slices of at most
`rows_per_partition` consecutive rows (a call's result passes whole through the JVM: a
contact source in one call took the heap at 1M contacts):

- a contact source's phone region (inferred from the source's countries, calling codes,
  ccTLDs, scripts and file encodings when not configured): a first pass over the slices
  (only the columns it reads) sends back each source's evidence (`normalize.contact_evidence`),
  which the driver merges and decides, and hands to every call (`normalize.SourceFacts`);
- the source-level finding for a source whose national numbers mostly fail, which replaces
  its numbers' row findings: each call sends back its sources' phone tallies; the driver
  merges them, writes the source findings (`normalize.phone_summaries`, as the pandas engine
  does) and runs again, told the failing sources, only the calls holding their failures;
- a date column's day/month order where it is inferred (03/04/2026) is a fact of the whole
  column (per entity, column and time zone): each call records the values that voted and
  the order it used; the driver merges the votes (each distinct value once, as the pandas
  engine counts them) and runs again, with the whole column's order, only the calls whose
  own order differed (none, when a column's dates agree). Both second runs are one pass.

A call sends back its frame and findings pickled (pandas to pandas: every dtype as it was);
the driver puts the rows back in their order, so the records and issues are the pandas
engine's.
"""

from __future__ import annotations

import os
import pickle
from collections.abc import Callable, Iterator, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
import pyarrow as pa

from audit import schema
from audit.config import NormalizeConfig, SourceConfig
from audit.model import Issues, Records
from audit.normalize import (
    EVIDENCE_COLUMNS,
    PhoneTally,
    SourceFacts,
    contact_evidence,
    contact_regions,
    merge_by_source,
    normalize,
    phone_summaries,
)
from audit.normalize.dates import dayfirst_votes, decide_dayfirst, infer_dayfirst
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

if TYPE_CHECKING:
    from pyspark.sql import DataFrame, SparkSession

_DDL = "call bigint, payload binary"
_OUT = pa.schema([pa.field("call", pa.int64()), pa.field("payload", pa.binary())])

Key = tuple[str, str, str]  # entity, column, zone
Votes = tuple[set[str], set[str], set[str]]  # texts saying day first, month first, with dots
# what a call sends back: its rows (with positions), issues, date orders and phone tallies
Result = tuple[pd.DataFrame, pd.DataFrame, dict[Key, tuple[bool, Votes]], dict[str, PhoneTally]]


class _Orders:
    """The `date_order` of one call: the whole column's order where the driver knows it,
    else the call's own; records what it was asked (the votes and the order used)."""

    def __init__(self, forced: dict[Key, bool]) -> None:
        self.forced = forced
        self.seen: dict[Key, tuple[bool, Votes]] = {}

    def __call__(self, entity: str, column: str, zone: str, texts: list[str]) -> bool:
        key = (entity, column, zone)
        day, month, dots = dayfirst_votes(texts)
        own = infer_dayfirst(texts)
        used = self.forced.get(key, own)
        before = self.seen.get(key)
        votes = (set(day), set(month), set(dots))
        if before is not None:
            votes = tuple(a | b for a, b in zip(before[1], votes, strict=True))  # type: ignore[assignment]
        self.seen[key] = (used, votes)
        return used


def normalize_on_spark(
    spark: SparkSession,
    records: Records,
    cfg: NormalizeConfig,
    sources: Sequence[SourceConfig] = (),
    files: pd.DataFrame | None = None,
    *,
    calendar_tz: str | None = None,
    partitions: int = 8,
    rows_per_partition: int = ROWS_PER_PARTITION,
    max_rows: int = ROWS_PER_PARTITION,
) -> tuple[Records, Issues]:
    """`audit.normalize.normalize` run per partition on `spark`: the same records and issues.

    Every entity's calls run in one Spark job (a second one only for the calls whose date
    order was not their column's or that hold a failing source's numbers), after one small
    job for the contact sources' evidence. An entity is cut into one slice of consecutive
    rows per `rows_per_partition` rows, at most `partitions` (`frames.slices`), but always
    into slices of at most `max_rows` rows: each call's result passes whole through the
    JVM. The frames go to Spark through files (`frames.staging`)."""
    with staging(spark):
        return _normalize(
            spark,
            records,
            cfg,
            sources,
            files,
            calendar_tz,
            partitions,
            rows_per_partition,
            max_rows,
        )


def _normalize(
    spark: SparkSession,
    records: Records,
    cfg: NormalizeConfig,
    sources: Sequence[SourceConfig],
    files: pd.DataFrame | None,
    calendar_tz: str | None,
    partitions: int,
    rows_per_partition: int,
    max_rows: int,
) -> tuple[Records, Issues]:
    args: dict[str, Any] = {
        "cfg": cfg,
        "sources": list(sources),
        "files": files,
        "calendar_tz": calendar_tz,
    }
    out: Records = {}
    found: list[pd.DataFrame] = []
    entities = sorted(records)
    shipped: dict[int, DataFrame] = {}

    def cut_by(rows: int) -> int:
        return max(slices(rows, partitions, rows_per_partition), -(-rows // max(1, max_rows)))

    for x, entity in enumerate(entities):
        frame = records[entity]
        if len(frame) == 0:  # nothing to spread
            got, issues = normalize({entity: frame}, **args)
            out[entity] = got[entity]
            found.append(issues)
        else:
            shipped[x] = to_spark(spark, frame, cut_by(len(frame)))
    contacts = entities.index("contacts") if "contacts" in entities else -1
    facts = SourceFacts(regions={})
    if contacts in shipped:
        evidence = _evidence(shipped[contacts], records["contacts"], list(sources))
        facts = SourceFacts(regions=contact_regions(evidence, cfg, files))
    results = _run(shipped, entities, records, args, facts, forced={}, only=None)
    orders = _orders(results)
    tallies = merge_by_source(r[3] for c, r in sorted(results.items()) if c >> 40 == contacts)
    summary, failing = phone_summaries(tallies, facts.regions, cfg.default_region)
    found.extend(summary)
    redo = {
        call
        for call, (_, _, seen, counted) in results.items()
        if any(used != orders[key] for key, (used, _) in seen.items())
        or any(counted[name].failed for name in failing if name in counted)
    }
    if redo:
        facts = SourceFacts(regions=facts.regions, failing=failing)
        again = {x: sdf for x, sdf in shipped.items() if any(c >> 40 == x for c in redo)}
        results.update(_run(again, entities, records, args, facts, orders, redo))
    for x in shipped:
        entity = entities[x]
        parts = [results[c] for c in sorted(results) if c >> 40 == x]
        whole = pd.concat([p[0] for p in parts])
        whole = whole.sort_values(POS, kind="stable").drop(columns=[POS])
        whole.index = records[entity].index
        out[entity] = whole
        found.extend(p[1] for p in parts)
    out = {e: out[e] for e in entities}
    found = [f for f in found if len(f)]
    if not found:
        return out, schema.empty_issues()
    return out, schema.conform_issues(pd.concat(found, ignore_index=True))


def _evidence(sdf: DataFrame, frame: pd.DataFrame, sources: list[SourceConfig]) -> dict[str, Any]:
    """The first pass: each contact source's evidence of its country, from every slice
    (only the columns it reads travel), merged on the driver."""
    cols = [c for c in EVIDENCE_COLUMNS if c in frame.columns]
    dtypes = {c: frame[c].dtype for c in cols}

    def run(batches: Iterator[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
        table = table_of(batches)
        if table is None:
            return
        os.environ["CRM_AUDIT_WORKERS"] = "1"
        part = decode(table, dtypes).sort_values(POS, kind="stable").drop(columns=[POS])
        payload = pickle.dumps(contact_evidence(part.reset_index(drop=True), sources), protocol=5)
        call = int(table.column(POS).to_numpy().min())
        yield from pa.table({"call": [call], "payload": [payload]}, schema=_OUT).to_batches()

    got = sdf.select(*cols, POS).mapInArrow(run, _DDL).toArrow()
    calls, payloads = got.column("call").to_pylist(), got.column("payload").to_pylist()
    parts = [pickle.loads(p) for _, p in sorted(zip(calls, payloads, strict=True))]
    return merge_by_source(parts)


def _orders(results: dict[int, Result]) -> dict[Key, bool]:
    """Each date column's order from every call's votes, each distinct value counted once."""
    merged: dict[Key, Votes] = {}
    for _, _, seen, _ in results.values():
        for key, (_, votes) in seen.items():
            have = merged.setdefault(key, (set(), set(), set()))
            for a, b in zip(have, votes, strict=True):
                a |= b
    return {k: decide_dayfirst(len(d), len(m), len(s)) for k, (d, m, s) in merged.items()}


def _run(
    shipped: dict[int, DataFrame],
    entities: list[str],
    records: Records,
    args: dict[str, Any],
    facts: SourceFacts,
    forced: dict[Key, bool],
    only: set[int] | None,
) -> dict[int, Result]:
    """One pass over the shipped entities (number -> frame), in one Spark job:
    call (entity number << 40 | its first position) -> its `Result`."""
    jobs = []
    for x, sdf in sorted(shipped.items()):
        entity, frame = entities[x], records[entities[x]]
        fn = _call(entity, x, dtypes_of(frame), {**args, "facts": facts}, forced, only)
        jobs.append(sdf.mapInArrow(_batches(fn), _DDL))
    if not jobs:
        return {}
    job = jobs[0]
    for other in jobs[1:]:
        job = job.unionByName(other)
    got = job.toArrow()
    calls, payloads = got.column("call").to_pylist(), got.column("payload").to_pylist()
    return {c: pickle.loads(p) for c, p in zip(calls, payloads, strict=True)}


def _call(
    entity: str,
    number: int,
    dtypes: dict[str, Any],
    args: dict[str, Any],
    forced: dict[Key, bool],
    only: set[int] | None,
) -> Callable[[pa.Table], pa.Table | None]:
    """Normalize one call's rows (in the frame's order). Runs in a Spark worker."""

    def run(table: pa.Table) -> pa.Table | None:
        pos = np.sort(table.column(POS).to_numpy())
        call = (number << 40) | int(pos[0]) if len(pos) else -1
        if call < 0 or (only is not None and call not in only):
            return None
        os.environ["CRM_AUDIT_WORKERS"] = "1"  # one Spark task per core already
        part = decode(table, dtypes).sort_values(POS, kind="stable").reset_index(drop=True)
        positions = part.pop(POS).to_numpy()
        orders = _Orders(forced)
        tallies: dict[str, PhoneTally] = {}
        got, issues = normalize({entity: part}, **args, date_order=orders, tallies=tallies)
        rows = got[entity].assign(**{POS: positions})
        payload = pickle.dumps((rows, issues, orders.seen, tallies), protocol=5)
        return pa.table({"call": [call], "payload": [payload]}, schema=_OUT)

    return run


def _batches(
    fn: Callable[[pa.Table], pa.Table | None],
) -> Callable[[Iterator[pa.RecordBatch]], Iterator[pa.RecordBatch]]:
    def run(batches: Iterator[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
        table = table_of(batches)
        out = fn(table) if table is not None else None
        if out is not None:
            yield from out.to_batches()

    return run
