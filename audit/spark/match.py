"""Linking on Spark: the same result as `audit.match.engine.link`, computed per partition.

1. value counts (records per value of every compared feature), counted by the driver, which
   holds the features: the global facts a partition cannot count itself (`ValueCounts`);
2. blocking: per rule, the driver codes each record's key as an integer (the pandas engine's
   `Codes`), and the records with a complete key go, as (position, rule, key), to a bucket
   of the key, so every block lies whole in one call of the project's `block_pairs`; the
   pairs come to the driver, which keeps each once (the union `candidate_pairs` makes).
   Sending the key texts instead (a union of one select per rule over the features, then a
   shuffle) cost 26 s at 100k contacts on 2 idle cores for 2 s of pandas work;
3. training on the driver from the rows the random and sampled pairs name (`fit`);
4. scoring: the candidates are split by a hash of their first record; each split gets the rows
   its pairs name and runs the project's scorer with the model rebound to its codes;
5. clustering on the driver's edge list (`cluster`), completing components with the rows the
   driver fetches.
"""

from __future__ import annotations

import itertools
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
import pyarrow as pa

from audit.match.blocking import Codes, block_pairs
from audit.match.cluster import cluster, components
from audit.match.compare import Comparer, counted_features
from audit.match.engine import Linked, _pairs_frame, make_scorer, score_candidates
from audit.match.facts import ValueCounts, ValueFacts, value_counts, value_facts
from audit.match.fellegi_sunter import (
    exact_agreement,
    fit,
    random_pairs,
    sample_candidates,
)
from audit.match.rules import MatchRules
from audit.spark.frames import ROWS_PER_PARTITION, arrow_to_spark, slices, staging, table_of

if TYPE_CHECKING:
    from pyspark.sql import DataFrame, SparkSession

POS = "_pos"
STAT = -1  # i of a row that carries a partition's counters instead of a pair


def _as_strings(frame: pd.DataFrame) -> pd.DataFrame:
    """Feature columns as the pandas engine holds them (Arrow-backed strings)."""
    return frame.astype("string[pyarrow]")


def to_spark(spark: SparkSession, feats: pd.DataFrame, partitions: int = 1) -> DataFrame:
    """The features with their record position, as a Spark frame (inside `frames.staging`,
    read from files: the scoring join reads them once, so nothing is cached in the heap)."""
    table = pa.Table.from_pandas(
        feats.assign(**{POS: np.arange(len(feats), dtype=np.int64)}), preserve_index=False
    )
    schema = pa.schema(
        [pa.field(n, pa.int64() if n == POS else pa.string()) for n in table.column_names]
    )
    return arrow_to_spark(spark, table.cast(schema), partitions)


_BLOCKED = pa.schema(
    [
        pa.field("i", pa.int64()),
        pa.field("j", pa.int64()),
        pa.field("rule", pa.int32()),
        pa.field("pairs", pa.int64()),
        pa.field("skipped_keys", pa.int64()),
        pa.field("skipped_pairs", pa.int64()),
    ]
)
_BLOCKED_DDL = "i long, j long, rule int, pairs long, skipped_keys long, skipped_pairs long"


def _block_call(
    max_blocks: list[int],
) -> Callable[[Any], Any]:
    """Pairs of one bucket: every rule's blocks that fall in it lie whole in its rows."""

    def run(batches: Any) -> Any:
        table = table_of(batches)
        if table is None:
            return
        pos = table.column(POS).to_numpy()
        rule = table.column("_rule").to_numpy()
        key = table.column("_key").to_numpy()
        order = np.lexsort((pos, rule))
        pos, rule, key = pos[order], rule[order], key[order]
        cols: dict[str, list[np.ndarray]] = {f.name: [] for f in _BLOCKED}
        for x in np.unique(rule):
            lo, hi = np.searchsorted(rule, [x, x + 1])
            a, b, counts = block_pairs(key[lo:hi], max_blocks[int(x)])
            p = pos[lo:hi]
            none = np.zeros(len(a), np.int64)
            for name, values in (
                ("i", np.r_[p[a], STAT]),
                ("j", np.r_[p[b], STAT]),
                ("rule", np.full(len(a) + 1, x, np.int32)),
                *((c, np.r_[none, counts[c]]) for c in ("pairs", "skipped_keys", "skipped_pairs")),
            ):
                cols[name].append(values)
        out = {f.name: pa.array(np.concatenate(cols[f.name]), f.type) for f in _BLOCKED}
        yield from pa.table(out, schema=_BLOCKED).to_batches()

    return run


def candidates(
    spark: SparkSession, feats: pd.DataFrame, rules: MatchRules, buckets: int
) -> tuple[np.ndarray, np.ndarray, dict[str, dict[str, int]]]:
    """The union of every rule's pairs, sorted by (i, j), and the counts per rule.

    The driver codes the keys and cuts the (position, rule, key) rows into `buckets` Spark
    partitions by a hash of (rule, key), so a block never spans two and no shuffle is needed.
    """
    codes = Codes(feats)
    used = [  # a key no record has: the pandas engine skips the rule too
        r for r in rules.blocking if not any(feats[k].isna().all() for k in r.keys)
    ]
    if not used:
        empty = np.zeros(0, np.int64)
        return empty, empty, {}
    pos, rule, key = [], [], []
    for x, r in enumerate(used):
        k = codes.key(list(r.keys))
        have = np.flatnonzero(k >= 0)
        pos.append(have)
        rule.append(np.full(len(have), x, np.int32))
        key.append(k[have])
    p, r_, k_ = np.concatenate(pos), np.concatenate(rule), np.concatenate(key)
    mixed = (k_.astype(np.uint64) + r_.astype(np.uint64) * np.uint64(0x9E3779B97F4A7C15)) * (
        np.uint64(0xBF58476D1CE4E5B9)
    )
    bucket = ((mixed >> np.uint64(29)) % np.uint64(buckets)).astype(np.int64)
    order = np.argsort(bucket, kind="stable")
    bounds = np.searchsorted(bucket[order], np.arange(buckets + 1))
    table = pa.table({POS: p[order], "_rule": r_[order], "_key": k_[order]})
    parts = [
        arrow_to_spark(spark, table.slice(lo, hi - lo), 1)
        for lo, hi in itertools.pairwise(bounds)
        if hi > lo
    ]
    job = parts[0]
    for other in parts[1:]:
        job = job.unionByName(other)
    got = job.mapInArrow(_block_call([r.max_block for r in used]), _BLOCKED_DDL).toArrow()
    i_all = got.column("i").to_numpy()
    stat = i_all == STAT
    stats: dict[str, dict[str, int]] = {}
    rules_col = got.column("rule").to_numpy()
    for x, r in enumerate(used):
        mine = stat & (rules_col == x)
        stats[r.id] = {
            c: int(got.column(c).to_numpy()[mine].sum())
            for c in ("pairs", "skipped_keys", "skipped_pairs")
        }
    i = i_all[~stat].astype(np.int64)
    j = got.column("j").to_numpy()[~stat].astype(np.int64)
    n = np.int64(len(feats))
    ids = i * n + j
    ids.sort()
    uniq = ids[np.r_[True, ids[1:] != ids[:-1]]] if len(ids) else ids
    return uniq // n, uniq % n, stats


class _Rows:
    """Comparers over the driver's rows of given positions (global value counts)."""

    def __init__(
        self, feats: pd.DataFrame, rules: MatchRules, facts: ValueFacts, counts: ValueCounts
    ) -> None:
        self.feats, self.rules, self.facts, self.counts = feats, rules, facts, counts

    def comparer(self, positions: np.ndarray) -> tuple[Comparer, np.ndarray]:
        need = np.unique(positions)
        sub = self.feats.iloc[need].reset_index(drop=True)
        comparer = Comparer(
            sub, self.rules.comparisons, self.rules.nicknames, self.facts, counts=self.counts
        )
        return comparer, need


def _score_udf(
    columns: list[str],
    rules: MatchRules,
    facts: ValueFacts,
    counts: ValueCounts,
    model: Any,
    review: float,
    auto: float,
    out_cols: list[str],
) -> Callable[[pd.DataFrame, pd.DataFrame], pd.DataFrame]:
    def run(pairs: pd.DataFrame, rows: pd.DataFrame) -> pd.DataFrame:
        from audit.match import compare

        compare.WORKERS = 1  # one Spark task per core already
        rows = rows.sort_values(POS, kind="stable").drop_duplicates(POS).reset_index(drop=True)
        pos = rows[POS].to_numpy(np.int64)
        comparer = Comparer(
            _as_strings(rows[columns]), rules.comparisons, rules.nicknames, facts, counts=counts
        )
        scorer = make_scorer(comparer, model, rules)
        gi = pairs["i"].to_numpy(np.int64)
        gj = pairs["j"].to_numpy(np.int64)
        frame, raw = score_candidates(
            scorer, np.searchsorted(pos, gi), np.searchsorted(pos, gj), review=review, auto=auto
        )
        frame["i"] = pos[frame["i"].to_numpy(np.int64)]
        frame["j"] = pos[frame["j"].to_numpy(np.int64)]
        frame["score_raw"] = raw
        frame["comparisons"] = 0
        frame["pruned"] = 0
        stat: dict[str, list[int | None]] = {c: [None] for c in out_cols}
        stat.update(
            {
                "i": [STAT],
                "j": [STAT],
                "comparisons": [scorer.comparisons],
                "pruned": [scorer.pruned],
            }
        )
        out = pd.concat([frame, pd.DataFrame(stat)], ignore_index=True)[out_cols]
        for c in out.columns:  # Spark takes plain objects, not pandas' Arrow-backed strings
            if out[c].dtype == object or str(out[c].dtype).startswith(("str", "string")):
                out[c] = out[c].astype(object).where(out[c].notna(), None)
        return out

    return run


def _pairs_schema(model: Any) -> tuple[list[str], str]:
    cols = [("i", "long"), ("j", "long"), ("score", "double"), ("band", "string")]
    cols.append(("rule_id", "string"))
    cols += [(f"sim_{f.comp.field}", "double") for f in model.fields]
    cols += [(f"w_{f.comp.field}", "double") for f in model.fields]
    cols += [("why", "string"), ("score_raw", "double")]
    cols += [("comparisons", "long"), ("pruned", "long")]
    return [c for c, _ in cols], ", ".join(f"`{c}` {t}" for c, t in cols)


def score_on_spark(
    spark: SparkSession,
    sdf: DataFrame,
    ci: np.ndarray,
    cj: np.ndarray,
    *,
    columns: list[str],
    rules: MatchRules,
    facts: ValueFacts,
    counts: ValueCounts,
    model: Any,
    review: float,
    auto: float,
    buckets: int,
) -> tuple[pd.DataFrame, int, int]:
    """Pairs scoring `review` or more (sorted by (i, j)), comparisons and pruned pairs."""
    from pyspark.sql import functions as F

    out_cols, schema = _pairs_schema(model)
    if len(ci) == 0:
        empty = pd.DataFrame({c: pd.Series(dtype=object) for c in out_cols[:-2]})
        return empty.astype({"i": np.int64, "j": np.int64}), 0, 0
    table = pa.table({"i": pa.array(ci, pa.int64()), "j": pa.array(cj, pa.int64())})
    # through `arrow_to_spark`: past the stage's memory budget the pairs go as files too (a
    # 100k run with a 512m heap died launching the scoring tasks that carried them)
    pairs = arrow_to_spark(spark, table, buckets)
    pairs = pairs.withColumn("_g", F.pmod(F.xxhash64("i"), F.lit(buckets)))
    wanted = (
        pairs.select(F.col("_g").alias("_h"), F.col("i").alias(POS))
        .unionByName(pairs.select(F.col("_g").alias("_h"), F.col("j").alias(POS)))
        .distinct()
    )
    rows = wanted.join(sdf, on=POS, how="inner")
    udf = _score_udf(columns, rules, facts, counts, model, review, auto, out_cols)
    got = pairs.groupBy("_g").cogroup(rows.groupBy("_h")).applyInPandas(udf, schema).toPandas()
    stat = got["i"].to_numpy() == STAT
    comparisons = int(got.loc[stat, "comparisons"].sum())
    pruned = int(got.loc[stat, "pruned"].sum())
    got = got[~stat].drop(columns=["comparisons", "pruned"])
    order = np.lexsort((got["j"].to_numpy(np.int64), got["i"].to_numpy(np.int64)))
    got = got.iloc[order].reset_index(drop=True)
    for c in ("band", "rule_id", "why"):  # Arrow text, as the pandas engine hands them over
        got[c] = got[c].astype("str")
    return got, comparisons, pruned


def components_on_spark(spark: SparkSession, n: int, i: np.ndarray, j: np.ndarray) -> np.ndarray:
    """Connected components of the edge list in Spark SQL: every record takes the smallest
    label among its neighbours until none changes (min-label propagation; no GraphFrames,
    whose JVM package is not on PyPI). Label = the component's smallest position."""
    from pyspark.sql import functions as F

    table = pa.table({"src": pa.array(i, pa.int64()), "dst": pa.array(j, pa.int64())})
    e = spark.createDataFrame(table)
    both = e.unionByName(e.select(F.col("dst").alias("src"), F.col("src").alias("dst")))
    both = both.localCheckpoint()
    lab = both.select(F.col("src").alias("id")).distinct()
    lab = lab.withColumn("label", F.col("id")).localCheckpoint()
    while True:
        msg = both.join(lab, both["src"] == lab["id"]).select(both["dst"].alias("id"), lab["label"])
        new = lab.unionByName(msg).groupBy("id").agg(F.min("label").alias("label"))
        new = new.localCheckpoint()
        old = lab.withColumnRenamed("label", "old")
        changed = new.join(old, "id").where(F.col("label") < F.col("old")).count()
        lab = new
        if changed == 0:
            break
    got = lab.toPandas()
    labels = np.arange(n, dtype=np.int64)
    labels[got["id"].to_numpy(np.int64)] = got["label"].to_numpy(np.int64)
    return labels


def link_on_spark(
    spark: SparkSession,
    feats: pd.DataFrame,
    rules: MatchRules,
    *,
    review: float,
    auto: float,
    side: np.ndarray | None = None,
    facts: ValueFacts | None = None,
    forbid: np.ndarray | None = None,
    buckets: int = 8,
    driver_edges: int = 5_000_000,
    rows_per_partition: int = ROWS_PER_PARTITION,
) -> Linked:
    """`engine.link` on a Spark session: same arguments, same result (linking two sides with
    `side` is the plain `dedupe` command's and stays on pandas). Blocking and scoring use one
    bucket per `rows_per_partition` records (or candidate pairs), at most `buckets`. The
    frames go to Spark through files (`frames.staging`)."""
    with staging(spark):
        return _link(
            spark, feats, rules, review, auto, side, facts, forbid, buckets, driver_edges,
            rows_per_partition,
        )  # fmt: skip


def _link(
    spark: SparkSession,
    feats: pd.DataFrame,
    rules: MatchRules,
    review: float,
    auto: float,
    side: np.ndarray | None,
    facts: ValueFacts | None,
    forbid: np.ndarray | None,
    buckets: int,
    driver_edges: int,
    rows_per_partition: int,
) -> Linked:
    if side is not None:
        raise ValueError("linking two sides runs on the pandas engine")
    timings: dict[str, float] = {}
    t = time.perf_counter()
    n = len(feats)
    if facts is None:
        facts = value_facts(feats, nicknames=rules.nicknames)
    columns = list(feats.columns)
    sdf = to_spark(spark, feats, slices(n, buckets, rows_per_partition))
    try:
        counts = value_counts(feats, counted_features(rules.comparisons))
        cut = slices(n, buckets, rows_per_partition)
        ci, cj, block_counts = candidates(spark, feats, rules, cut)
        timings["blocking"] = round(time.perf_counter() - t, 4)

        t = time.perf_counter()
        rows = _Rows(feats, rules, facts, counts)
        tr = rules.training
        ri, rj = random_pairs(n, tr.random_pairs, tr.seed, None)
        si, sj = sample_candidates(ci, cj, tr.sample_pairs)
        comparer, need = rows.comparer(np.concatenate([ri, rj, si, sj]))
        at = np.searchsorted
        model = fit(
            comparer,
            rules,
            n=n,
            exact_pairs={
                c.field: exact_agreement(counts.all_counts(c.field)) for c in comparer.comparisons
            },
            random=(at(need, ri), at(need, rj)),
            sample=(at(need, si), at(need, sj)),
            n_candidates=len(ci),
            total_pairs=n * (n - 1) / 2,
        )
        timings["training"] = round(time.perf_counter() - t, 4)

        t = time.perf_counter()
        scored, comparisons, pruned = score_on_spark(
            spark,
            sdf,
            ci,
            cj,
            columns=columns,
            rules=rules,
            facts=facts,
            counts=counts,
            model=model,
            review=review,
            auto=auto,
            buckets=slices(len(ci), buckets, rows_per_partition),
        )
    finally:
        del sdf
    ki = scored["i"].to_numpy(np.int64)
    kj = scored["j"].to_numpy(np.int64)
    n_forbidden = 0
    if forbid is not None and len(forbid) and len(ki):
        ok = ~np.isin(np.minimum(ki, kj) * n + np.maximum(ki, kj), forbid)
        n_forbidden = int((~ok).sum())
        scored = scored[ok].reset_index(drop=True)
        ki, kj = ki[ok], kj[ok]
    timings["scoring"] = round(time.perf_counter() - t, 4)

    t = time.perf_counter()
    driver = {"comparisons": 0, "pruned": 0}

    def _score_more(a: np.ndarray, b: np.ndarray) -> np.ndarray:
        comp, where = rows.comparer(np.concatenate([a, b]))
        scorer = make_scorer(comp, model, rules)
        got = scorer.score(at(where, a), at(where, b), floor=review)["score"]
        driver["comparisons"] += scorer.comparisons
        driver["pruned"] += scorer.pruned
        if forbid is not None and len(forbid):
            got = np.where(np.isin(np.minimum(a, b) * n + np.maximum(a, b), forbid), 0.0, got)
        return got

    def _connect(n: int, i: np.ndarray, j: np.ndarray) -> np.ndarray:
        if len(i) <= driver_edges:
            return components(n, i, j)
        return components_on_spark(spark, n, i, j)

    labels, (ei, ej, es) = cluster(
        n, ki, kj, scored["score_raw"].to_numpy(np.float64), review, _score_more, _connect
    )
    timings["clustering"] = round(time.perf_counter() - t, 4)
    t = time.perf_counter()
    pairs = scored.drop(columns=["score_raw"])
    extra = es >= review
    if extra.any():  # member pairs first scored while checking clusters
        a, b = ei[extra], ej[extra]
        comp, where = rows.comparer(np.concatenate([a, b]))
        scorer = make_scorer(comp, model, rules)
        more = scorer.score(at(where, a), at(where, b), detail=True)
        driver["comparisons"] += scorer.comparisons
        pairs = pd.concat([pairs, _pairs_frame(a, b, more, model, review, auto)], ignore_index=True)
    timings["explain"] = round(time.perf_counter() - t, 4)
    stats: dict[str, Any] = {
        "records": n,
        "candidate_pairs": len(ci),
        "candidate_pairs_by_rule": block_counts,
        "comparisons": comparisons + driver["comparisons"],
        "pruned_before_strings": pruned + driver["pruned"],
        "pairs_review_or_better": len(pairs),
        "cluster_check_pairs": len(ei),
        "rejected_pairs_not_linked": n_forbidden,
        "prior": model.prior,
        "weights": model.table(),
        "timings": timings,
    }
    return Linked(pairs=pairs, labels=labels, stats=stats, model=model)


def linker(
    spark: SparkSession,
    buckets: int,
    driver_edges: int = 5_000_000,
    rows_per_partition: int = ROWS_PER_PARTITION,
) -> Callable[..., Linked]:
    """`link_on_spark` bound to a session, with `engine.link`'s signature (`match(linker=)`)."""

    def run(feats: pd.DataFrame, rules: MatchRules, **kw: Any) -> Linked:
        return link_on_spark(
            spark,
            feats,
            rules,
            buckets=buckets,
            driver_edges=driver_edges,
            rows_per_partition=rows_per_partition,
            **kw,
        )

    return run
