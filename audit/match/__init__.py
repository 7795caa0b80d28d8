"""Match stage: duplicate contacts within and across sources, explained and clustered.

match(contacts, cfg, sources) -> Matches. Exact keys first (same external id within a source,
same email key, same E.164 phone), then fuzzy comparisons over candidate pairs from several
blocking keys, a Fellegi-Sunter probability learned without labels, three bands, and clusters in
which every two members match directly. The engine lives in `engine.py`; this module maps
record positions back to record ids and writes the uniqueness findings.
"""

from __future__ import annotations

import hashlib
import itertools
import time
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from audit import schema
from audit.columnwise import positions_in, shared_objects
from audit.config import MatchConfig, SourceConfig
from audit.match.memory import (
    HASH_BLOCK,
    HASH_SKIP,
    Applied,
    MatchMemory,
    approved_in,
    content_hashes,
    fresh_decisions,
    inherited_ids,
)
from audit.model import Matches

if TYPE_CHECKING:
    from audit.match.rules import MatchRules

PAIR_COLUMNS = ["record_id_l", "record_id_r", "score", "band", "rule_id"]
# contact columns the feature preparation reads (plus optional dob / ident / street_number)
FEATURE_INPUTS = (
    "record_id",
    "source",
    "external_id",
    "full_name",
    "first_name",
    "last_name",
    "email",
    "email_key",
    "phone",
    "mobile",
    "phone_e164",
    "company",
    "company_key",
    "address",
    "street_number",
    "city",
    "region",
    "postal_code",
    "dob",
    "ident",
)
GOLDEN_SLICE = 20_000  # clusters per call of propose_golden
CLUSTER_COLUMNS = [
    "cluster_id",
    "record_id",
    "band",
    "is_survivor",
    "n_records",
    "max_score",
    "decision",
]


def match(
    contacts: pd.DataFrame | None,
    cfg: MatchConfig,
    sources: Sequence[SourceConfig] = (),
    issues: pd.DataFrame | None = None,
    memory: MatchMemory | None = None,
    linker: Callable[..., Any] | None = None,
) -> Matches:
    """Find duplicate contacts; pairs, clusters, golden proposals, stats and issues.

    `linker` replaces `engine.link` (same arguments and result): a distributed engine links
    the features on its workers; everything around it stays here.

    `issues` are the earlier stages' findings: a cell they call a placeholder or unreadable is
    not matched on (see NON_VALUE_RULES).
    With `memory` (from the decisions store) rejected pairs are not linked again, clusters keep
    their previous ids and approved clusters arrive with decision=approve (`match.memory`).

    Example:
        m = match(records["contacts"], MatchConfig(), cfg.sources, validation.issues)
        m.pairs[m.pairs.band == "auto"]
    """
    from audit.match.heap import heap_served
    from audit.match.rules import load_rules

    rules = load_rules(cfg.rules)
    if contacts is None or len(contacts) == 0:
        return _empty()
    with heap_served():  # the stage's temporaries reuse freed memory; returned when it ends
        return _match(contacts, cfg, rules, sources, issues, memory, linker)


def _match(
    contacts: pd.DataFrame,
    cfg: MatchConfig,
    rules: MatchRules,
    sources: Sequence[SourceConfig],
    issues: pd.DataFrame | None,
    memory: MatchMemory | None,
    linker: Callable[..., Any] | None,
) -> Matches:
    from audit.match.blocking import Codes
    from audit.match.engine import Owned, link
    from audit.match.facts import value_facts
    from audit.match.heap import give_back
    from audit.match.prepare import features

    t0 = time.perf_counter()
    # one canonical record order (by record_id) makes every later step independent of the
    # input row order; only the columns matching reads are reordered
    id_text = pa.array(contacts["record_id"].astype(str))
    row_order = pc.sort_indices(id_text).to_numpy()
    used = [c for c in FEATURE_INPUTS if c in contacts.columns]
    data = contacts[used].take(row_order).reset_index(drop=True)
    id_text = id_text.take(pa.array(row_order))  # in record_id order
    ids = _sorted_ids(id_text, data)  # pairs and clusters keep them
    feats = features(data, _flagged(id_text, issues, used))
    del id_text
    del data  # only the features are needed from here on: keep the peak memory low
    # the first pass over the whole data set: how many people share each phone / email / address
    # the features' codes, begun here and finished by the comparer: each encoded once
    codes = Codes(feats) if linker is None else None
    facts = value_facts(feats, nicknames=rules.nicknames, codes=codes)
    t_prep = time.perf_counter() - t0
    remembered, forbid = _remembered(memory, contacts, used, row_order, ids)
    # handed over: `link` frees the frame once it is encoded (a linker of another engine
    # takes the frame itself)
    handed = Owned(feats, codes)
    del feats, codes
    linked = (linker or link)(
        handed if linker is None else handed.take(),
        rules,
        review=cfg.review_threshold,
        auto=cfg.auto_threshold,
        facts=facts,
        forbid=forbid,
    )
    del handed, facts
    t1 = time.perf_counter()
    # the pairs are held once from here on: `linked` would keep the unsorted table alive to
    # the end of the stage beside the sorted one
    p, labels, link_stats = linked.pairs, linked.labels, linked.stats
    del linked
    give_back()  # linking's temporaries are gone
    pi, pj = p["i"].to_numpy(np.int64), p["j"].to_numpy(np.int64)
    # records are sorted by record_id, so sorting positions sorts ids (l < r holds as i < j)
    order = np.lexsort((pj, pi))
    if len(order) and (order[1:] < order[:-1]).any():  # usually in order already: no copy
        p = p.iloc[order].reset_index(drop=True)
        pi, pj = pi[order], pj[order]
    pairs = p.drop(columns=["i", "j"])
    pairs.insert(0, "record_id_r", ids[pj])
    pairs.insert(0, "record_id_l", ids[pi])
    members, clusters = _clusters(ids, labels, pi, pj, p)
    members, clusters, hashes, mem_stats = _recall(
        memory, remembered, members, clusters, contacts, used, row_order
    )
    t2 = time.perf_counter()
    golden = _golden(contacts, clusters, sources, row_order[members])
    t3 = time.perf_counter()
    give_back()
    clusters, surv_pos = _survivors(clusters, golden, contacts, row_order, ids, members)
    issues = _issues(clusters, surv_pos, members, ids, pi, pj, p["score"].to_numpy())
    stats: dict[str, Any] = dict(link_stats)
    stats["timings"] = {
        "prepare": round(t_prep, 4),
        **stats["timings"],
        "clusters": round(t2 - t1, 4),
        "golden": round(t3 - t2, 4),
        "issues": round(time.perf_counter() - t3, 4),
    }
    stats["clusters"] = int(clusters["cluster_id"].nunique()) if len(clusters) else 0
    stats["records_in_clusters"] = len(clusters)
    if memory is not None:
        stats["memory"] = mem_stats
    return Matches(
        pairs=pairs,
        clusters=clusters,
        golden=golden,
        stats=stats,
        issues=issues,
        cluster_hashes=hashes,
    )


def _sorted_ids(id_text: pa.Array, data: pd.DataFrame) -> np.ndarray:
    """The record ids (`id_text`, in record_id order) as Python strings, made by Arrow in one
    pass (all distinct: `shared_objects` would look each up in a hash table to share none)."""
    if id_text.null_count:  # a missing id: as `shared_objects` gives it
        return shared_objects(data["record_id"], as_text=True)
    return np.asarray(id_text.to_numpy(zero_copy_only=False), object)


def _hashes_at(
    contacts: pd.DataFrame, used: list[str], row_order: np.ndarray, positions: np.ndarray
) -> np.ndarray:
    """Content hashes of the records at `positions` (record_id order), in that order."""
    # the rows are read in the contacts' own order, then put back: a gather of text in row
    # order reads memory forward (half the time of one in record_id order at 300k)
    rows = row_order[positions]
    by_row = np.argsort(rows, kind="stable")
    hashed = [c for c in used if c not in HASH_SKIP]  # not the ids: no hash reads them
    hashes = np.empty(len(rows), dtype=object)
    # a block of rows at a time: a copy of every clustered record's columns is not needed
    for start in range(0, len(rows), HASH_BLOCK):
        block = by_row[start : start + HASH_BLOCK]
        hashes[block] = np.array(content_hashes(contacts[hashed].take(rows[block])), object)
    return hashes


def _remembered(
    memory: MatchMemory | None,
    contacts: pd.DataFrame,
    used: list[str],
    row_order: np.ndarray,
    ids: np.ndarray,
) -> tuple[Applied | None, np.ndarray | None]:
    """The decisions that still hold, and the rejected ones as position keys for the engine."""
    if memory is None or not memory.decisions:
        return None, None
    index = pd.Index(ids)
    named = sorted({r for d in memory.decisions for r in (d.record_id_l, d.record_id_r)})
    at = index.get_indexer(named)
    here = at >= 0
    hash_of = dict(
        zip(
            [r for r, h in zip(named, here, strict=True) if h],
            _hashes_at(contacts, used, row_order, at[here]).tolist(),
            strict=True,
        )
    )
    applied = fresh_decisions(memory, hash_of)
    n = np.int64(len(ids))
    keys = [
        min(a, b) * n + max(a, b)
        for a, b in ((index.get_loc(x), index.get_loc(y)) for x, y in sorted(applied.rejected))
    ]
    return applied, np.array(sorted(keys), np.int64)


def _recall(
    memory: MatchMemory | None,
    applied: Applied | None,
    members: np.ndarray,
    clusters: pd.DataFrame,
    contacts: pd.DataFrame,
    used: list[str],
    row_order: np.ndarray,
) -> tuple[np.ndarray, pd.DataFrame, pa.Array, dict[str, Any]]:
    """Stable ids, decision=approve from approved pairs, and the clustered records' hashes
    (one per row of the clusters returned)."""
    clusters = clusters.assign(decision="")
    hashes = pa.array(
        _hashes_at(contacts, used, row_order, members) if len(members) else [], pa.string()
    )
    stats: dict[str, Any] = {}
    if memory is None or clusters.empty:
        if memory is not None:
            stats = _memory_stats(applied, 0, 0)
        return members, clusters, hashes, stats
    cids = clusters["cluster_id"].to_numpy(dtype=object)
    rids = clusters["record_id"].to_numpy(dtype=object)
    new_id = inherited_ids(cids, rids, memory.previous_clusters)
    kept = sum(1 for n in new_id.values() if n in memory.previous_clusters)
    ok = approved_in(cids, rids, applied.approved if applied else set())
    clusters = clusters.assign(
        cluster_id=clusters["cluster_id"].map(new_id),
        decision=np.where(clusters["cluster_id"].isin(ok), "approve", ""),
    )
    # (cluster_id, record_id) order; Arrow sorts text by code point, as Python compares it
    order = pc.sort_indices(
        pa.table(
            {
                "c": pa.array(clusters["cluster_id"].to_numpy(dtype=object), pa.string()),
                "r": pa.array(rids, pa.string()),
            }
        ),
        sort_keys=[("c", "ascending"), ("r", "ascending")],
    ).to_numpy()
    clusters = clusters.iloc[order].reset_index(drop=True)
    return members[order], clusters, hashes.take(order), _memory_stats(applied, kept, len(ok))


def _memory_stats(applied: Applied | None, kept_ids: int, approved: int) -> dict[str, Any]:
    return {
        "rejected_pairs_held": len(applied.rejected) if applied else 0,
        "approved_pairs_held": len(applied.approved) if applied else 0,
        "stale_decisions": len(applied.stale) if applied else 0,
        "decisions_on_absent_records": applied.absent if applied else 0,
        "clusters_keeping_previous_id": kept_ids,
        "clusters_arriving_approved": approved,
    }


# findings of earlier stages that say a cell holds no real value (its rule id ends so)
NON_VALUE_RULES = (
    ".placeholder",
    ".unparseable",
    ".spreadsheet",  # normalize.phone.spreadsheet: a phone Excel turned into 3.60E+11
    ".corrupt",
    ".mangled",
)


def _flagged(
    ids: pa.Array, issues: pd.DataFrame | None, columns: list[str]
) -> dict[str, np.ndarray]:
    """Input column -> per-record mask of cells an earlier stage flagged as non-values."""
    if issues is None or issues.empty or not {"record_id", "field", "rule_id"} <= set(issues):
        return {}
    rule = issues["rule_id"].astype(str)
    hit = issues[rule.str.endswith(NON_VALUE_RULES) & issues["field"].isin(columns)]
    if hit.empty:
        return {}
    # looked up in Arrow: a pandas index of every record id hashes each Python string
    pos = positions_in(
        pa.array(hit["record_id"].astype(str).to_numpy(dtype=object), pa.string()), ids
    )
    out: dict[str, np.ndarray] = {}
    for name, at in pd.Series(pos).groupby(hit["field"].astype(str).to_numpy()):
        mask = np.zeros(len(ids), bool)
        at = at.to_numpy()
        mask[at[at >= 0]] = True
        out[str(name)] = mask
    return out


def cluster_id(smallest_record_id: str) -> str:
    """A cluster's id: 'c' + 12 hex digits of the hash of its smallest record id (stable)."""
    return "c" + hashlib.sha1(smallest_record_id.encode("utf-8")).hexdigest()[:12]


def _empty() -> Matches:
    obj = pd.Series(dtype="object")
    pairs = pd.DataFrame({c: obj for c in PAIR_COLUMNS})
    clusters = pd.DataFrame({c: obj for c in CLUSTER_COLUMNS})
    return Matches(pairs=pairs, clusters=clusters, issues=schema.empty_issues())


def _clusters(
    ids: np.ndarray, labels: np.ndarray, pi: np.ndarray, pj: np.ndarray, p: pd.DataFrame
) -> tuple[np.ndarray, pd.DataFrame]:
    """Member positions (sorted by cluster_id, record_id) and the clusters table."""
    members = np.flatnonzero(labels >= 0)
    if len(members) == 0:
        return members, _empty().clusters
    lab = labels[members]
    uniq, first, inv = np.unique(lab, return_index=True, return_inverse=True)
    # positions are in record_id order, so each cluster's first member has its smallest id
    cid = np.array([cluster_id(str(ids[members[k]])) for k in first], dtype=object)
    size = np.bincount(inv)
    li = labels[pi]
    inside = (li >= 0) & (li == labels[pj])
    k_pair = np.searchsorted(uniq, li[inside])
    score = p["score"].to_numpy()[inside]
    is_auto = (p["band"].to_numpy() == "auto")[inside]
    best = np.zeros(len(uniq))
    np.maximum.at(best, k_pair, score)
    n_auto = np.bincount(k_pair, weights=is_auto, minlength=len(uniq))
    n_in = np.bincount(k_pair, minlength=len(uniq))
    band = np.where((n_in > 0) & (n_auto == n_in), "auto", "review")
    rank = np.empty(len(cid), np.int64)
    rank[pc.sort_indices(pa.array(cid, pa.string())).to_numpy()] = np.arange(len(cid))
    order = np.lexsort((members, rank[inv]))
    members, inv = members[order], inv[order]
    clusters = pd.DataFrame(
        {
            "cluster_id": cid[inv],
            "record_id": ids[members],
            "band": band[inv],
            "is_survivor": False,
            "n_records": size[inv].astype("int64"),
            "max_score": best[inv],
        }
    )
    return members, clusters


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
        from audit.match.survivorship import load_rules, propose_golden_at
    except ImportError:  # pragma: no cover - survivorship is built in parallel
        return pd.DataFrame()
    # proposals are per cluster, so they are made in slices of clusters: same result, and the
    # survivorship step's working memory stays bounded at 1M records
    cid = clusters["cluster_id"].to_numpy(dtype=object)
    rid = clusters["record_id"].to_numpy(dtype=object)
    starts = np.flatnonzero(np.r_[True, cid[1:] != cid[:-1]])
    cuts = [*starts[::GOLDEN_SLICE].tolist(), len(cid)]
    rules = load_rules()  # once, not once a slice
    parts = [
        propose_golden_at(data, positions[a:b], cid[a:b], rid[a:b], sources, rules)
        for a, b in itertools.pairwise(cuts)
    ]
    return parts[0] if len(parts) == 1 else pd.concat(parts, ignore_index=True)


def _survivors(
    clusters: pd.DataFrame,
    golden: pd.DataFrame,
    contacts: pd.DataFrame,
    order: np.ndarray,
    ids: np.ndarray,
    members: np.ndarray,
) -> tuple[pd.DataFrame, np.ndarray]:
    """is_survivor from the golden proposal; else the most complete record, then smallest id.

    Returns the clusters and, per member row, the position of its cluster's survivor.
    """
    if clusters.empty:
        return clusters, np.zeros(0, np.int64)
    k = pd.factorize(clusters["cluster_id"])[0]
    surv = np.zeros(0, np.int64)
    if "survivor_id" in golden.columns and len(golden):
        # looked up in Arrow: no Python string per member and survivor
        at = positions_in(
            pa.array(golden["survivor_id"].astype(str), pa.string()),
            pa.array(clusters["record_id"].astype(str), pa.string()),
        )
        surv = np.sort(members[at[at >= 0]])
    is_surv = np.isin(members, surv)
    has = np.bincount(k, weights=is_surv, minlength=k.max() + 1) == 1
    if not has.all():  # no (or an unusable) golden proposal: most complete record wins
        canon = [c.name for c in schema.ENTITIES["contacts"] if not c.derived]
        present = [c for c in canon if c in contacts.columns]
        filled = contacts.iloc[order[members]][present].notna().sum(axis=1).to_numpy()
        order = np.lexsort((members, -filled, k))
        first = order[np.r_[True, k[order][1:] != k[order][:-1]]]
        fallback = np.zeros(len(members), bool)
        fallback[first] = True
        is_surv = np.where(has[k], is_surv, fallback)
    surv_of = np.zeros(k.max() + 1, np.int64)
    surv_of[k[is_surv]] = members[is_surv]
    return clusters.assign(is_survivor=is_surv), surv_of[k]


def _score_notes(sc: np.ndarray) -> pa.Array:
    """' (score 0.912)' per score, '' where there is none (NaN); formatted once per distinct
    score, as Python formats it."""
    has = ~np.isnan(sc)
    uniq, inv = np.unique(sc[has], return_inverse=True)
    table = pa.array([f" (score {v:.3f})" for v in uniq.tolist()] + [""], pa.string())
    at = np.full(len(sc), len(uniq), np.intp)
    at[has] = inv.reshape(-1)
    return table.take(pa.array(at))


def _issues(
    clusters: pd.DataFrame,
    surv_pos: np.ndarray,
    members: np.ndarray,
    ids: np.ndarray,
    pi: np.ndarray,
    pj: np.ndarray,
    score: np.ndarray,
) -> pd.DataFrame:
    """One uniqueness finding per non-survivor cluster member, naming the record it duplicates."""
    if clusters.empty:
        return schema.empty_issues()
    rest = ~clusters["is_survivor"].to_numpy(bool)
    m, s = members[rest], surv_pos[rest]
    n = np.int64(len(ids))
    keys = pi * n + pj  # pairs are sorted by (i, j), so keys are sorted
    want = np.minimum(m, s) * n + np.maximum(m, s)
    at = np.minimum(np.searchsorted(keys, want), max(len(keys) - 1, 0))
    found = (len(keys) > 0) & (keys[at] == want) if len(keys) else np.zeros(len(m), bool)
    sc = np.where(found, score[at] if len(keys) else 0.0, np.nan)
    srt = np.argsort(m, kind="stable")  # positions follow record_id order
    m, s, sc = m[srt], s[srt], sc[srt]
    auto = (clusters["band"].to_numpy() == "auto")[rest][srt].astype(np.intp)
    k = len(m)
    # the text is joined in Arrow, not one Python string operation per finding
    survivor = pa.array(ids[s], pa.string())
    cid = pa.array(clusters["cluster_id"].to_numpy(dtype=object)[rest][srt], pa.string())

    def col(values: object) -> pd.Series:
        arr = np.empty(k, dtype=object)
        arr[:] = values
        return pd.Series(arr, dtype=object)

    def either(values: tuple[str, str]) -> pd.Series:
        # one shared string per value: 'auto' picks the first
        return col(np.array([values[1], values[0]], dtype=object)[auto])

    def text(arr: pa.Array) -> pd.Series:
        return col(arr.to_numpy(zero_copy_only=False))

    out = pd.DataFrame(
        {
            "record_id": col(ids[m]),
            "entity": col("contacts"),
            "field": col(None),
            "rule_id": either(("match.duplicate.probable", "match.duplicate.possible")),
            "dimension": col(schema.Dimension.UNIQUENESS.value),
            "severity": either(("warning", "info")),
            "message": either(
                (
                    "probable duplicate of another contact",
                    "possible duplicate of another contact (review)",
                )
            ),
            "value": col(None),
            "suggestion": text(pc.binary_join_element_wise("merge into ", survivor, "")),
            "evidence": text(
                pc.binary_join_element_wise(
                    "cluster ", cid, ": matches ", survivor, _score_notes(sc), ""
                )
            ),
        }
    )
    return out
