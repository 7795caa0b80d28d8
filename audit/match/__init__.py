"""Match stage: duplicate contacts within and across sources, explained and clustered.

match(contacts, cfg, sources) -> Matches. Exact keys first (same external id within a source,
same email key, same E.164 phone), then fuzzy comparisons over candidate pairs from several
blocking keys, a Fellegi-Sunter probability learned without labels, three bands, and clusters in
which every two members match directly. The engine lives in `engine.py`; this module maps
record positions back to record ids and writes the uniqueness findings.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from audit import schema
from audit.config import MatchConfig, SourceConfig
from audit.model import Matches

PAIR_COLUMNS = ["record_id_l", "record_id_r", "score", "band", "rule_id"]
CLUSTER_COLUMNS = ["cluster_id", "record_id", "band", "is_survivor", "n_records", "max_score"]


def match(
    contacts: pd.DataFrame | None,
    cfg: MatchConfig,
    sources: Sequence[SourceConfig] = (),
) -> Matches:
    """Find duplicate contacts; pairs, clusters, golden proposals, stats and issues.

    Example:
        m = match(records["contacts"], MatchConfig(), cfg.sources)
        m.pairs[m.pairs.band == "auto"]
    """
    from audit.match.engine import link
    from audit.match.prepare import features
    from audit.match.rules import load_rules

    rules = load_rules(cfg.rules)
    if contacts is None or len(contacts) == 0:
        return _empty()
    t0 = time.perf_counter()
    data = contacts.sort_values("record_id", kind="stable").reset_index(drop=True)
    ids = data["record_id"].astype(str).to_numpy(dtype=object)
    feats = features(data)
    t_prep = time.perf_counter() - t0
    linked = link(feats, rules, review=cfg.review_threshold, auto=cfg.auto_threshold)
    t1 = time.perf_counter()
    p = linked.pairs
    pairs = p.drop(columns=["i", "j"])
    pairs.insert(0, "record_id_r", ids[p["j"].to_numpy()])
    pairs.insert(0, "record_id_l", ids[p["i"].to_numpy()])
    pairs = pairs.sort_values(["record_id_l", "record_id_r"], kind="stable").reset_index(drop=True)
    clusters = _clusters(ids, linked.labels, pairs)
    golden = _golden(data, clusters, sources, np.flatnonzero(linked.labels >= 0))
    clusters = _survivors(clusters, golden, data)
    issues = _issues(clusters, pairs)
    stats: dict[str, Any] = dict(linked.stats)
    stats["timings"] = {
        "prepare": round(t_prep, 4),
        **stats["timings"],
        "clusters_and_issues": round(time.perf_counter() - t1, 4),
    }
    stats["clusters"] = int(clusters["cluster_id"].nunique()) if len(clusters) else 0
    stats["records_in_clusters"] = len(clusters)
    return Matches(pairs=pairs, clusters=clusters, golden=golden, stats=stats, issues=issues)


def cluster_id(smallest_record_id: str) -> str:
    """A cluster's id: 'c' + 12 hex digits of the hash of its smallest record id (stable)."""
    return "c" + hashlib.sha1(smallest_record_id.encode("utf-8")).hexdigest()[:12]


def _empty() -> Matches:
    obj = pd.Series(dtype="object")
    pairs = pd.DataFrame({c: obj for c in PAIR_COLUMNS})
    clusters = pd.DataFrame({c: obj for c in CLUSTER_COLUMNS})
    return Matches(pairs=pairs, clusters=clusters, issues=schema.empty_issues())


def _clusters(ids: np.ndarray, labels: np.ndarray, pairs: pd.DataFrame) -> pd.DataFrame:
    has = labels >= 0
    df = pd.DataFrame({"label": labels[has], "record_id": ids[has]})
    if df.empty:
        return _empty().clusters
    # records are sorted by record_id, so a cluster's first member holds its smallest id
    first = df.drop_duplicates("label")
    names = dict(zip(first["label"], [cluster_id(r) for r in first["record_id"]], strict=True))
    df["cluster_id"] = df["label"].map(names)
    df["n_records"] = df.groupby("label")["record_id"].transform("size").astype("int64")
    # cluster band: auto only when every member pair inside it is auto
    by_rec = dict(zip(df["record_id"], df["cluster_id"], strict=True))
    cl = pairs["record_id_l"].map(by_rec)
    inside = pairs[cl.notna() & (cl == pairs["record_id_r"].map(by_rec))]
    inside = inside.assign(cluster_id=cl[inside.index])
    worst = inside.groupby("cluster_id")["score"].agg(["min", "max"])
    band_auto = inside.assign(a=inside["band"] == "auto").groupby("cluster_id")["a"].all()
    df["band"] = np.where(df["cluster_id"].map(band_auto).fillna(False), "auto", "review")
    df["max_score"] = df["cluster_id"].map(worst["max"]).astype("float64")
    df["is_survivor"] = False
    out = df[CLUSTER_COLUMNS].sort_values(["cluster_id", "record_id"], kind="stable")
    return out.reset_index(drop=True)


def _golden(
    data: pd.DataFrame,
    clusters: pd.DataFrame,
    sources: Sequence[SourceConfig],
    positions: np.ndarray,
) -> pd.DataFrame:
    """Golden proposals from the survivorship module; empty if it is missing or fails."""
    if clusters.empty:
        return pd.DataFrame()
    try:
        from audit.match.survivorship import propose_golden
    except ImportError:  # pragma: no cover - survivorship is built in parallel
        return pd.DataFrame()
    return propose_golden(data.iloc[positions], clusters, sources)


def _survivors(clusters: pd.DataFrame, golden: pd.DataFrame, data: pd.DataFrame) -> pd.DataFrame:
    """is_survivor from the golden proposal; else the most complete record, then smallest id."""
    if clusters.empty:
        return clusters
    if "survivor_id" in golden.columns and len(golden):
        surv = set(golden["survivor_id"].astype(str))
    else:
        canon = [c.name for c in schema.ENTITIES["contacts"] if not c.derived]
        present = [c for c in canon if c in data.columns]
        filled = data[present].notna().sum(axis=1)
        fill = dict(zip(data["record_id"].astype(str), filled, strict=True))
        tmp = clusters.assign(_f=clusters["record_id"].map(fill))
        tmp = tmp.sort_values(["cluster_id", "_f", "record_id"], ascending=[True, False, True])
        surv = set(tmp.drop_duplicates("cluster_id")["record_id"])
    return clusters.assign(is_survivor=clusters["record_id"].isin(surv))


def _issues(clusters: pd.DataFrame, pairs: pd.DataFrame) -> pd.DataFrame:
    """One uniqueness finding per non-survivor cluster member, naming the record it duplicates."""
    if clusters.empty:
        return schema.empty_issues()
    surv = clusters[clusters["is_survivor"]].set_index("cluster_id")["record_id"]
    rest = clusters[~clusters["is_survivor"]].copy()
    rest["survivor"] = rest["cluster_id"].map(surv)
    key = pairs.set_index(["record_id_l", "record_id_r"])["score"]
    lo = rest[["record_id", "survivor"]].min(axis=1)
    hi = rest[["record_id", "survivor"]].max(axis=1)
    idx = pd.MultiIndex.from_arrays([lo, hi])
    rest["score"] = key.reindex(idx).to_numpy()
    auto = rest["band"] == "auto"
    score_txt = rest["score"].map(lambda s: "" if pd.isna(s) else f" (score {s:.3f})")
    return schema.conform_issues(
        pd.DataFrame(
            {
                "record_id": rest["record_id"].to_numpy(),
                "entity": "contacts",
                "field": None,
                "rule_id": np.where(auto, "match.duplicate.probable", "match.duplicate.possible"),
                "dimension": schema.Dimension.UNIQUENESS.value,
                "severity": np.where(auto, "warning", "info"),
                "message": np.where(
                    auto,
                    "probable duplicate of another contact",
                    "possible duplicate of another contact (review)",
                ),
                "value": None,
                "suggestion": ("merge into " + rest["survivor"].astype(str)).to_numpy(),
                "evidence": (
                    "cluster "
                    + rest["cluster_id"].astype(str)
                    + ": matches "
                    + rest["survivor"].astype(str)
                    + score_txt
                ).to_numpy(),
            }
        )
    )
