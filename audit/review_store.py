"""The decisions store: what reviewers decided and what each run clustered, across runs.

It sits beside the run history (`decisions.sqlite` in the same folder as `history.sqlite`), so
a weekly audit remembers last week's review. Decisions are kept per record pair with a hash of
each record's matched content (`audit.match.memory`): a rejected pair is not proposed again
until one of its records changes, and a cluster whose pairs were all approved arrives approved.
Each run also leaves its clusters (for stable cluster ids next time), the content hashes of its
clustered records (so a decisions file read later can be keyed by content) and its run folder
(so the next run can say what changed since).

SQLite is in the standard library; one small file opened like the history (`audit.sqlitedb`):
each write is one transaction, concurrent runs and reviewers queue behind a busy timeout (WAL),
and the file is checked on open. The store is a memory, never a reason for an audit or a merge
to fail: a corrupt store is moved aside (kept, renamed `decisions.sqlite.corrupt-<pid>`) with a
warning and a new one starts. What the user loses then until they review again: the remembered
decisions (rejected pairs are proposed again, approved clusters wait for approval again),
cluster ids stable against the previous run, the "changes since the previous run" section and
the band precision learned from decisions.
"""

from __future__ import annotations

import json
import sqlite3
import warnings
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from operator import itemgetter
from pathlib import Path
from typing import Any

from audit.match.memory import APPROVE, REJECT, MatchMemory, PairDecision, pair_key
from audit.messages import band_name, msg
from audit.sqlitedb import HistoryWarning, open_checked, transaction

FILE_NAME = "decisions.sqlite"
KEEP_RUNS = 20  # runs whose clusters are kept (a decisions file names one of them)

# run_clusters holds a row per clustered record per kept run (822,357 rows a run at 1M
# contacts): WITHOUT ROWID keeps each row in its primary key's b-tree alone, not in a table and
# an index of the same keys (measured at 1M: the run's rows written in 2.5-2.7 s, was 4.0; the
# file 131 MB, was 199). A store made before keeps its table as it is: the SQL is the same.
_SCHEMA = """
CREATE TABLE IF NOT EXISTS store_runs (
    run_id TEXT PRIMARY KEY,
    run_dir TEXT NOT NULL,
    memory TEXT NOT NULL,
    pending INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS run_clusters (
    run_id TEXT NOT NULL,
    cluster_id TEXT NOT NULL,
    record_id TEXT NOT NULL,
    content_hash TEXT NOT NULL,
    decision TEXT NOT NULL,
    PRIMARY KEY (run_id, record_id)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS pair_decisions (
    record_id_l TEXT NOT NULL,
    record_id_r TEXT NOT NULL,
    hash_l TEXT NOT NULL,
    hash_r TEXT NOT NULL,
    decision TEXT NOT NULL CHECK (decision IN ('approve', 'reject')),
    cluster_id TEXT NOT NULL,
    run_id TEXT NOT NULL,
    source TEXT NOT NULL,
    score REAL,
    band TEXT NOT NULL DEFAULT '',
    PRIMARY KEY (record_id_l, record_id_r)
);
"""


def store_path(history_path: Path) -> Path:
    """The store beside a history file."""
    return Path(history_path).with_name(FILE_NAME)


class DecisionsWarning(HistoryWarning):
    """The decisions store could not be used; the audit or merge went on without it."""


LOST = (
    "remembered review decisions, stable cluster ids and the changes since the previous run "
    "start afresh; the old file is kept"
)


@contextmanager
def _open(path: Path) -> Iterator[sqlite3.Connection | None]:
    """The checked store, or None (after a DecisionsWarning) when it cannot be used."""
    con = open_checked(
        Path(path), _SCHEMA, what="decisions store", lost=LOST, warning=DecisionsWarning
    )
    try:
        yield con
    finally:
        if con is not None:
            con.close()


def _not_read(path: Path, e: Exception) -> None:
    warnings.warn(f"{path}: decisions store not read ({e}).", DecisionsWarning, stacklevel=3)


def _not_written(path: Path, e: Exception) -> None:
    warnings.warn(f"{path}: decisions store not written ({e}).", DecisionsWarning, stacklevel=3)


def load_memory(path: Path, *, before: str | None = None) -> MatchMemory:
    """Every remembered pair decision and the clusters of the latest run before `before`."""
    if not Path(path).exists():
        return MatchMemory()
    with _open(Path(path)) as con:
        if con is None:
            return MatchMemory()
        try:
            decisions = [
                PairDecision(*row)
                for row in con.execute(
                    "SELECT record_id_l, record_id_r, hash_l, hash_r, decision "
                    "FROM pair_decisions ORDER BY record_id_l, record_id_r"
                )
            ]
            prev = _latest(con, before)
            clusters: dict[str, list[str]] = {}
            if prev is not None:
                for cid, rid in con.execute(
                    "SELECT cluster_id, record_id FROM run_clusters WHERE run_id = ? "
                    "ORDER BY cluster_id, record_id",
                    (prev[0],),
                ):
                    clusters.setdefault(cid, []).append(rid)
        except sqlite3.Error as e:
            _not_read(path, e)
            return MatchMemory()
    return MatchMemory(decisions=decisions, previous_clusters=clusters)


def _latest(con: sqlite3.Connection, before: str | None) -> tuple[str, str] | None:
    row = con.execute(
        "SELECT run_id, run_dir FROM store_runs WHERE (? IS NULL OR run_id < ?) "
        "ORDER BY run_id DESC LIMIT 1",
        (before, before),
    ).fetchone()
    return None if row is None else (str(row[0]), str(row[1]))


def previous_run(path: Path, before: str) -> tuple[str, Path] | None:
    """(run id, run folder) of the latest run recorded before `before`, if any."""
    if not Path(path).exists():
        return None
    with _open(Path(path)) as con:
        if con is None:
            return None
        try:
            got = _latest(con, before)
        except sqlite3.Error as e:
            _not_read(path, e)
            return None
    return None if got is None else (got[0], Path(got[1]))


def record_run(
    path: Path,
    run_id: str,
    run_dir: Path,
    clusters: list[tuple[str, str, str]],
    hashes: Sequence[str],
    memory_stats: Mapping[str, Any],
) -> None:
    """Remember a run: its folder, its clusters (cluster id, record id, decision) and each
    clustered record's content hash (`hashes`, one per row of `clusters`, in that order)."""
    pending = len({c for c, _, d in clusters if not d})
    with _open(Path(path)) as con:
        if con is None:
            return
        try:
            with transaction(con):  # the run's rows all together, or none
                con.execute("DELETE FROM run_clusters WHERE run_id = ?", (run_id,))
                con.execute(
                    "INSERT OR REPLACE INTO store_runs VALUES (?,?,?,?)",
                    (
                        run_id,
                        str(Path(run_dir).resolve()),
                        json.dumps(dict(memory_stats)),
                        pending,
                    ),
                )
                # in key order (run_id, record_id): each row lands beside the last one in the
                # primary key's index instead of at a random page (822,357 rows at 1M contacts:
                # 5.9 -> 2.4 s)
                con.executemany(
                    "INSERT INTO run_clusters VALUES (?,?,?,?,?)",
                    sorted(
                        (
                            (run_id, c, r, h, d)
                            for (c, r, d), h in zip(clusters, hashes, strict=True)
                        ),
                        key=itemgetter(2),
                    ),
                )
                # decisions files are read for recent runs; older runs' clusters are not needed.
                # Each run is looked up by its key: a scan of every kept row (16M at 1M
                # contacts) for the rows of the one run that falls out would grow each run.
                con.execute(
                    "DELETE FROM run_clusters WHERE run_id IN "
                    "(SELECT run_id FROM store_runs ORDER BY run_id DESC LIMIT -1 OFFSET ?)",
                    (KEEP_RUNS,),
                )
        except sqlite3.Error as e:
            _not_written(path, e)


@dataclass
class Recorded:
    approved: int = 0  # clusters
    rejected: int = 0
    split: int = 0
    pairs: int = 0
    unknown_clusters: int = 0  # not clusters of that run: nothing to key them by
    known_run: bool = True
    stored: bool = True  # False: the store could not be used (a DecisionsWarning said why)


def record_decisions(
    path: Path,
    run_id: str,
    decisions: Mapping[str, Any],
    *,
    source: str,
    scores: Mapping[tuple[str, str], tuple[float, str]] | None = None,
) -> Recorded:
    """Remember a reviewer's decisions on `run_id`'s clusters, as pair decisions.

    `decisions` is cluster id -> audit.merge.decisions.Decision. Approve: every member pair
    approved. Reject: every member pair rejected. Split: the split-off records rejected against
    the others, the others approved together. A later decision on a pair replaces an earlier one.
    `scores` ((l, r) -> (score, band) from the run's pairs) lets the store learn how precise
    each band is (`learn`).
    """
    scores = scores or {}
    out = Recorded()
    if not decisions:
        return out
    with _open(Path(path)) as con:
        if con is None:
            out.stored = False
            return out
        try:
            with transaction(con):  # read the run's clusters and write the pairs as one
                _decide(con, run_id, decisions, source, scores, out)
        except sqlite3.Error as e:
            _not_written(path, e)
            return Recorded(stored=False)
    return out


def _decide(
    con: sqlite3.Connection,
    run_id: str,
    decisions: Mapping[str, Any],
    source: str,
    scores: Mapping[tuple[str, str], tuple[float, str]],
    out: Recorded,
) -> None:
    rows = con.execute(
        "SELECT cluster_id, record_id, content_hash FROM run_clusters WHERE run_id = ?",
        (run_id,),
    ).fetchall()
    if not rows:
        out.known_run = False
        return
    members: dict[str, list[str]] = {}
    hash_of: dict[str, str] = {}
    for cid, rid, h in rows:
        members.setdefault(cid, []).append(rid)
        hash_of[rid] = h
    new: list[tuple[str, str, str, str, str, str, str, str, float | None, str]] = []
    for cid, d in sorted(decisions.items()):
        recs = sorted(members.get(cid, []))
        if not recs:
            out.unknown_clusters += 1
            continue
        off = set(d.split_off) if d.decision == "split" else set()
        for k, a in enumerate(recs):
            for b in recs[k + 1 :]:
                if d.decision == "split":
                    verdict = REJECT if (a in off) != (b in off) else APPROVE
                    if a in off and b in off:
                        continue  # the split-off records among themselves: not decided
                else:
                    verdict = APPROVE if d.decision == APPROVE else REJECT
                lo, hi = pair_key(a, b)
                sc, band = scores.get((lo, hi), (None, ""))
                new.append(
                    (lo, hi, hash_of[lo], hash_of[hi], verdict, cid, run_id, source, sc, band)
                )
        if d.decision == APPROVE:
            out.approved += 1
        elif d.decision == REJECT:
            out.rejected += 1
        else:
            out.split += 1
    con.executemany("INSERT OR REPLACE INTO pair_decisions VALUES (?,?,?,?,?,?,?,?,?,?)", new)
    out.pairs = len(new)


def status(path: Path) -> dict[str, Any]:
    """Pending, decided and stale, as of the latest run: what `crm-audit review status` prints."""
    if not Path(path).exists():
        return {"store": str(path), "latest_run": None}
    unusable: dict[str, Any] = {
        "store": str(path),
        "latest_run": None,
        "unusable": True,
        "decided_pairs": {APPROVE: 0, REJECT: 0},
        "decided_clusters": {APPROVE: 0, REJECT: 0},
    }
    with _open(Path(path)) as con:
        if con is None:
            return unusable
        try:
            return _status(con, path)
        except sqlite3.Error as e:
            _not_read(path, e)
            return unusable


def _status(con: sqlite3.Connection, path: Path) -> dict[str, Any]:
    latest = _latest(con, None)
    counts = dict(
        con.execute(
            "SELECT decision, COUNT(*) FROM pair_decisions GROUP BY decision ORDER BY decision"
        ).fetchall()
    )
    clusters = dict(
        con.execute(
            "SELECT decision, COUNT(DISTINCT cluster_id) FROM pair_decisions "
            "GROUP BY decision ORDER BY decision"
        ).fetchall()
    )
    out: dict[str, Any] = {
        "store": str(path),
        "latest_run": None,
        "decided_pairs": {APPROVE: counts.get(APPROVE, 0), REJECT: counts.get(REJECT, 0)},
        "decided_clusters": {
            APPROVE: clusters.get(APPROVE, 0),
            REJECT: clusters.get(REJECT, 0),
        },
    }
    if latest is None:
        return out
    run_id, run_dir = latest
    mem = con.execute("SELECT memory FROM store_runs WHERE run_id = ?", (run_id,)).fetchone()[0]
    # pending: no decision when the run was made, and none recorded for it since
    pending, n_pending_records = con.execute(
        "SELECT COUNT(DISTINCT cluster_id), COUNT(*) FROM run_clusters WHERE run_id = ? "
        "AND decision = '' AND cluster_id NOT IN "
        "(SELECT cluster_id FROM pair_decisions WHERE run_id = ?)",
        (run_id, run_id),
    ).fetchone()
    memory = json.loads(mem)
    out.update(
        latest_run=run_id,
        run_dir=run_dir,
        pending_clusters=int(pending),
        pending_records=int(n_pending_records),
        arrived_approved=int(memory.get("clusters_arriving_approved", 0)),
        rejected_pairs_held=int(memory.get("rejected_pairs_held", 0)),
        stale_decisions=int(memory.get("stale_decisions", 0)),
    )
    return out


MIN_LABELS = 30  # fewer decided pairs than this say too little about a band's precision
TARGET_PRECISION = 0.99  # an auto band should merge at most one wrong pair in a hundred


def learn(path: Path) -> dict[str, Any] | None:
    """Precision of each band, and suggested thresholds, from the pairs reviewers decided.

    Precision of a band = approved / decided among its decided pairs (a rejected pair was a
    false match). Suggested auto threshold: the lowest score at which the decided pairs at or
    above it are at least TARGET_PRECISION precise (with MIN_LABELS pairs above it; none until
    a reviewer rejected at least one pair, as nothing shows where precision drops). Suggested
    review threshold: the lowest score a reviewer ever approved. None when nothing is decided.
    """
    if not Path(path).exists():
        return None
    with _open(Path(path)) as con:
        if con is None:
            return None
        try:
            rows = con.execute(
                "SELECT score, band, decision FROM pair_decisions WHERE score IS NOT NULL "
                "ORDER BY score DESC, record_id_l, record_id_r"
            ).fetchall()
        except sqlite3.Error as e:
            _not_read(path, e)
            return None
    if not rows:
        return None
    by_band: dict[str, dict[str, Any]] = {}
    for _, band, decision in rows:
        b = by_band.setdefault(band or "unknown", {APPROVE: 0, REJECT: 0})
        b[decision] += 1
    for b in by_band.values():
        n = b[APPROVE] + b[REJECT]
        b["n"] = n
        b["precision"] = round(b[APPROVE] / n, 4) if n else None
        b["enough"] = n >= MIN_LABELS
    auto = None
    ok = 0
    has_reject = any(d == REJECT for _, _, d in rows)
    for k, (score, _, decision) in enumerate(rows, start=1):
        ok += decision == APPROVE
        # without a rejected pair there is no evidence of where precision drops: no suggestion
        if has_reject and k >= MIN_LABELS and ok / k >= TARGET_PRECISION:
            auto = float(score)
    approved = [float(s) for s, _, d in rows if d == APPROVE]
    return {
        "labelled_pairs": len(rows),
        "by_band": dict(sorted(by_band.items())),
        "suggested_auto_threshold": None if auto is None else round(auto, 4),
        "suggested_review_threshold": round(min(approved), 4) if approved else None,
        "min_labels": MIN_LABELS,
        "target_precision": TARGET_PRECISION,
    }


def learning_lines(learned: Mapping[str, Any] | None, language: str = "en") -> list[str]:
    """'from your 340 decided pairs: auto band precision 0.998 (...)', for reports."""
    if not learned:
        return []
    parts = []
    for band, b in learned["by_band"].items():
        if b["precision"] is None:
            continue
        counts = {"approved": b[APPROVE], "rejected": b[REJECT]}
        if b["enough"]:
            parts.append(
                msg(
                    "learn.band",
                    language,
                    band=band_name(band, language),
                    precision=f"{b['precision']:.3f}",
                    **counts,
                )
            )
        else:
            parts.append(
                msg(
                    "learn.band_few",
                    language,
                    band=band_name(band, language),
                    precision=f"{b['precision']:.3f}",
                    min=learned["min_labels"],
                    **counts,
                )
            )
    out = [msg("learn.from", language, n=learned["labelled_pairs"], bands="; ".join(parts))]
    sa, sr = learned["suggested_auto_threshold"], learned["suggested_review_threshold"]
    if sa is not None or sr is not None:
        which = [f"match.auto_threshold {sa}"] if sa is not None else []
        which += [f"match.review_threshold {sr}"] if sr is not None else []
        joined = (
            msg("gate.see_both", language, a=which[0], b=which[1]) if len(which) == 2 else which[0]
        )
        if sa is not None:
            key, extra = "learn.thresholds_precision", {"target": learned["target_precision"]}
        else:
            key, extra = "learn.thresholds", {}
        out.append(msg(key, language, which=joined, **extra))
    return out
