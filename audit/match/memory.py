"""What matching remembers from earlier runs: reviewers' pair decisions and cluster ids.

A CRM is audited every week. Without memory every run starts from zero: a pair a reviewer
rejected is proposed again, and a cluster's id changes when a record with a smaller id joins it,
so a decision made on last week's page cannot be found this week. This module holds the two
pure steps the match stage takes with what the decisions store (`audit.review_store`) hands it:

- Decisions are kept per record pair, with a hash of each record's matched content (every
  field the matcher reads). A rejected pair whose two records are unchanged is never linked
  again; once either record changes, the decision is stale and the pair is proposed again.
  A cluster whose every member pair was approved (and is unchanged) arrives with
  decision=approve.
- Cluster ids are inherited (`stable_ids`): a new cluster takes the id of a previous cluster
  when it keeps the majority of that cluster's records (or exactly half, including its
  smallest record id); each previous id goes to one new cluster only, the one keeping the
  most of its records (ties: the one holding its smallest record id, then the smaller ids).
  So an unchanged cluster keeps its id; a cluster that grew keeps it; in a split the larger
  part (or the half with the smallest record id) keeps it; in a merge of two clusters the
  merged one keeps the id of the one that brought more records. Any other cluster gets a
  fresh id from its smallest record id (from all its record ids if that one is taken).
"""

from __future__ import annotations

import hashlib
import itertools
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

APPROVE, REJECT = "approve", "reject"
HASH_SKIP = frozenset({"record_id", "source"})  # identity, not content


@dataclass(frozen=True)
class PairDecision:
    """One remembered decision on a record pair (record_id_l < record_id_r)."""

    record_id_l: str
    record_id_r: str
    hash_l: str
    hash_r: str
    decision: str  # approve | reject


@dataclass(frozen=True)
class MatchMemory:
    """What the store knows before this run: pair decisions and the previous run's clusters."""

    decisions: Sequence[PairDecision] = ()
    previous_clusters: Mapping[str, Sequence[str]] = field(default_factory=dict)


HASH_BLOCK = 65_536  # rows hashed at a time: the joined text of 1M rows is not held at once


def content_hashes(frame: pd.DataFrame) -> list[str]:
    """A short hash per row of the values the matcher reads (missing values as empty text)."""
    cols = sorted(c for c in frame.columns if c not in HASH_SKIP)
    out: list[str] = []
    for start in range(0, len(frame), HASH_BLOCK):
        out += _block_hashes(frame.iloc[start : start + HASH_BLOCK], cols)
    return out


def _block_hashes(frame: pd.DataFrame, cols: list[str]) -> list[str]:
    texts = _arrow_texts(frame, cols)
    if texts is None:  # a column Arrow cannot hold as text as it is (numbers, surrogates)
        # in Python: pandas 3 would turn the joined text into Arrow text, which cannot hold
        # a lone surrogate either
        texts_py = [
            [
                "" if gone else str(v)
                for v, gone in zip(col.tolist(), col.isna().tolist(), strict=True)
            ]
            for col in (frame[c].astype("object") for c in cols)
        ] or [[""] * len(frame)]
        rows = [
            "\x1f".join(t).encode("utf-8", "surrogatepass") for t in zip(*texts_py, strict=True)
        ]
    else:
        # the rows joined in Arrow and handed over as bytes: one hash call per row is left
        rows = (
            pc.binary_join_element_wise(
                *texts, "\x1f", null_handling="replace", null_replacement=""
            )
            .cast(pa.binary())
            .to_pylist()
        )
    blake = hashlib.blake2b
    return [blake(t, digest_size=8).hexdigest() for t in rows]


def _arrow_texts(frame: pd.DataFrame, cols: list[str]) -> list[pa.Array] | None:
    """Each column as Arrow text (missing values stay null: the join reads them as ''), or
    None."""
    out = []
    for c in cols:
        col = frame[c]
        if not (pd.api.types.is_string_dtype(col) or col.dtype == object):
            return None
        try:
            arr = _arrow_text(col)
        except (pa.ArrowException, TypeError, ValueError, UnicodeError):
            return None
        out.append(arr)  # missing values are joined as '' (null_replacement)
    if not out:
        out.append(pa.array([""] * len(frame), pa.string()))
    return out


def _arrow_text(col: pd.Series) -> pa.Array:
    """A text column as Arrow text. An Arrow-backed column hands over its buffers: the way
    through numpy made one Python string per cell only to turn it back into Arrow text."""
    if col.dtype != object:
        backed = getattr(col.array, "__arrow_array__", None)
        if backed is not None:
            arr = backed()
            if pa.types.is_string(arr.type) or pa.types.is_large_string(arr.type):
                arr = arr.cast(pa.string())
                return arr.combine_chunks() if isinstance(arr, pa.ChunkedArray) else arr
    return pa.array(col.to_numpy(dtype=object), type=pa.string(), from_pandas=True)


def pair_key(a: str, b: str) -> tuple[str, str]:
    return (a, b) if a <= b else (b, a)


@dataclass
class Applied:
    """Which remembered decisions still hold in this run (record ids and hashes agree)."""

    rejected: set[tuple[str, str]] = field(default_factory=set)
    approved: set[tuple[str, str]] = field(default_factory=set)
    stale: list[PairDecision] = field(default_factory=list)  # a record changed: ask again
    absent: int = 0  # a record is not in this run


def fresh_decisions(memory: MatchMemory, hash_of: Mapping[str, str]) -> Applied:
    """Split the remembered decisions into those that hold, the stale ones and the absent ones.

    `hash_of` maps record id -> content hash for (at least) every record a decision names.
    """
    out = Applied()
    for d in memory.decisions:
        hl, hr = hash_of.get(d.record_id_l), hash_of.get(d.record_id_r)
        if hl is None or hr is None:
            out.absent += 1
        elif (hl, hr) != (d.hash_l, d.hash_r):
            out.stale.append(d)
        elif d.decision == REJECT:
            out.rejected.add((d.record_id_l, d.record_id_r))
        elif d.decision == APPROVE:
            out.approved.add((d.record_id_l, d.record_id_r))
    return out


def approved_clusters(
    members: Mapping[str, Sequence[str]], approved: set[tuple[str, str]]
) -> set[str]:
    """Cluster ids whose every member pair a reviewer approved (and which did not change)."""
    cids, rids = _flatten(members)
    return approved_in(cids, rids, approved)


def approved_in(cids: np.ndarray, rids: np.ndarray, approved: set[tuple[str, str]]) -> set[str]:
    """`approved_clusters` on member rows (cluster id, record id; each record once).

    A cluster of k records is approved when k(k-1)/2 distinct approved pairs (l < r) lie in it.
    """
    if not approved or not len(rids):
        return set()
    at = pd.Index(rids)
    code, uniq = pd.factorize(cids)
    pairs = np.array(sorted(approved), dtype=object).reshape(-1, 2)
    pairs = pairs[pairs[:, 0] < pairs[:, 1]]
    if not len(pairs):
        return set()
    li, ri = at.get_indexer(pairs[:, 0]), at.get_indexer(pairs[:, 1])
    inside = (li >= 0) & (ri >= 0)
    li, ri = li[inside], ri[inside]
    same = code[li] == code[ri]
    n_pairs = np.bincount(code[li[same]], minlength=len(uniq))
    size = np.bincount(code, minlength=len(uniq))
    ok = (size >= 2) & (n_pairs == size * (size - 1) // 2)
    return {str(c) for c in uniq[ok]}


def _flatten(groups: Mapping[str, Sequence[str]]) -> tuple[np.ndarray, np.ndarray]:
    """(group id per member, member) as object arrays, in the mapping's order."""
    keys = list(groups)
    sizes = np.fromiter((len(groups[k]) for k in keys), np.int64, len(keys))
    ids = np.empty(len(keys), dtype=object)
    ids[:] = keys
    flat = np.empty(int(sizes.sum()), dtype=object)
    flat[:] = list(itertools.chain.from_iterable(groups[k] for k in keys))
    return np.repeat(ids, sizes), flat


def stable_ids(
    current: Mapping[str, Sequence[str]], previous: Mapping[str, Sequence[str]]
) -> dict[str, str]:
    """current cluster id -> the id it keeps (inherited from `previous`, see the module doc).

    Both mappings are cluster id -> member record ids. Deterministic: the result depends only on
    the memberships, never on the order of the mappings.
    """
    cids, rids = _flatten(current)
    return inherited_ids(cids, rids, previous, empty=[c for c, r in current.items() if not r])


def inherited_ids(
    cids: np.ndarray,
    rids: np.ndarray,
    previous: Mapping[str, Sequence[str]],
    empty: Sequence[str] = (),
) -> dict[str, str]:
    """`stable_ids` on member rows (cluster id, record id; each record in one cluster), and
    the ids of clusters without members (`empty`), which only ever keep or hash their own id.

    Column-wise: the overlaps with previous clusters are counted with one factorize and one
    bincount, so the cost at 1M records is a few sorts, not a Python loop per record.
    """
    out: dict[str, str] = {}
    taken: set[str] = set()
    if not len(rids):
        return _fresh_ids(out, taken, [str(c) for c in empty], {})
    code, cur_ids = pd.factorize(np.asarray(cids, dtype=object))
    rids = np.asarray(rids, dtype=object)
    at = pd.Index(rids)
    k = len(cur_ids)
    cur_min = pd.Series(rids).groupby(code).min().to_numpy(dtype=object)
    if previous:
        pcid, prid = _flatten(previous)
        pcode, prev_ids = pd.factorize(pcid)
        size = np.bincount(pcode, minlength=len(prev_ids))
        prev_min = pd.Series(prid).groupby(pcode).min().to_numpy(dtype=object)
        # each record's owner is the last previous cluster naming it (as a dict would keep)
        last = ~pd.Index(prid).duplicated(keep="last")
        owner = np.full(len(rids), -1, np.int64)
        hit = at.get_indexer(prid[last])
        owner[hit[hit >= 0]] = pcode[last][hit >= 0]
        mine = owner >= 0
        width = np.int64(len(prev_ids))
        key, n = np.unique(code[mine].astype(np.int64) * width + owner[mine], return_counts=True)
        cur, pid = key // width, key % width
        # does the current cluster hold the previous cluster's smallest record?
        where_min = at.get_indexer(prev_min)
        holds = np.zeros(len(pid), np.int64)
        w = where_min[pid]
        holds[(w >= 0)] = (code[w[w >= 0]] == cur[w >= 0]).astype(np.int64)
        cand = (2 * n > size[pid]) | ((2 * n == size[pid]) & (holds == 1))
        order = pd.DataFrame(
            {
                "n": -n[cand],
                "h": -holds[cand],
                "pid": prev_ids[pid[cand]].astype(object),
                "min": cur_min[cur[cand]],
                "cur": cur[cand],
            }
        ).sort_values(["n", "h", "pid", "min"], kind="stable")
        done = np.zeros(k, bool)
        for c, p in zip(order["cur"].tolist(), order["pid"].tolist(), strict=True):
            if done[c] or p in taken:
                continue
            out[str(cur_ids[c])] = p
            done[c] = True
            taken.add(p)
    rest = [str(c) for c in cur_ids if str(c) not in out] + [str(c) for c in empty]
    return _fresh_ids(out, taken, rest, (cids, rids))


def _fresh_ids(out: dict[str, str], taken: set[str], rest: list[str], rows: Any) -> dict[str, str]:
    """The clusters that inherit nothing keep their natural id, in id order; one whose id was
    taken gets the hash of all its record ids."""
    members: dict[str, list[str]] | None = None
    for cid in sorted(rest):
        fresh = cid
        if fresh in taken:  # its natural id went to another cluster: hash all its members
            if members is None:
                members = {}
                if rows:
                    for c, r in zip(rows[0].tolist(), rows[1].tolist(), strict=True):
                        members.setdefault(str(c), []).append(str(r))
            recs = sorted(members.get(cid, []))
            fresh = "c" + hashlib.sha1("\x1f".join(recs).encode()).hexdigest()[:12]
        out[cid] = fresh
        taken.add(fresh)
    return out
