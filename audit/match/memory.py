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
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import pandas as pd

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


def content_hashes(frame: pd.DataFrame) -> list[str]:
    """A short hash per row of the values the matcher reads (missing values as empty text)."""
    cols = sorted(c for c in frame.columns if c not in HASH_SKIP)
    joined = pd.Series([""] * len(frame), index=frame.index, dtype=object)
    for k, c in enumerate(cols):
        col = frame[c]
        text = col.astype("object").where(col.notna(), "").astype(str)
        joined = text if k == 0 else joined + "\x1f" + text
    return [
        hashlib.blake2b(t.encode("utf-8", "surrogatepass"), digest_size=8).hexdigest()
        for t in joined.tolist()
    ]


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
    out = set()
    for cid, recs in members.items():
        rs = sorted(recs)
        if len(rs) >= 2 and all((a, b) in approved for k, a in enumerate(rs) for b in rs[k + 1 :]):
            out.add(cid)
    return out


def stable_ids(
    current: Mapping[str, Sequence[str]], previous: Mapping[str, Sequence[str]]
) -> dict[str, str]:
    """current cluster id -> the id it keeps (inherited from `previous`, see the module doc).

    Both mappings are cluster id -> member record ids. Deterministic: the result depends only on
    the memberships, never on the order of the mappings.
    """
    owner: dict[str, str] = {}
    for pid, recs in previous.items():
        for r in recs:
            owner[r] = pid
    prev_min = {pid: min(recs) for pid, recs in previous.items() if recs}
    candidates: list[tuple[int, int, str, str]] = []
    for recs in current.values():
        overlap: dict[str, int] = {}
        for r in recs:
            owned = owner.get(r)
            if owned is not None:
                overlap[owned] = overlap.get(owned, 0) + 1
        for pid, n in overlap.items():
            holds_min = int(prev_min[pid] in recs)
            size = len(previous[pid])
            if 2 * n > size or (2 * n == size and holds_min):
                candidates.append((-n, -holds_min, pid, min(recs)))
    candidates.sort()
    by_min = {min(recs): cid for cid, recs in current.items() if recs}
    out: dict[str, str] = {}
    taken: set[str] = set()
    for _, _, pid, cur_min in candidates:
        cid = by_min[cur_min]
        if cid in out or pid in taken:
            continue
        out[cid] = pid
        taken.add(pid)
    for cid, recs in sorted(current.items()):
        if cid in out:
            continue
        fresh = cid
        if fresh in taken:  # its natural id went to another cluster: hash all its members
            fresh = "c" + hashlib.sha1("\x1f".join(sorted(recs)).encode()).hexdigest()[:12]
        out[cid] = fresh
        taken.add(fresh)
    return out
