"""Audits that remember: stable cluster ids, decisions that last, what changed since last run."""

from __future__ import annotations

import itertools
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from audit.config import MatchConfig
from audit.match import match
from audit.match.memory import MatchMemory, stable_ids

sys.path.insert(0, str(Path(__file__).resolve().parent / "benchmarks"))
from febrl import read_febrl

# --- the id rule, case by case --------------------------------------------------------------


def test_unchanged_and_grown_clusters_keep_their_id() -> None:
    prev = {"P1": ["b", "c"], "P2": ["x", "y", "z"]}
    cur = {"n1": ["a", "b", "c"], "n2": ["x", "y", "z"]}  # 'a' sorts before 'b' and joins P1
    assert stable_ids(cur, prev) == {"n1": "P1", "n2": "P2"}


def test_split_keeps_the_id_on_the_larger_part_or_the_half_with_the_smallest_record() -> None:
    prev = {"P": ["a", "b", "c", "d", "e"]}
    assert stable_ids({"n1": ["a", "b"], "n2": ["c", "d", "e"]}, prev) == {
        "n1": "n1",
        "n2": "P",
    }
    even = stable_ids({"n1": ["a", "b"], "n2": ["c", "d"]}, {"P": ["a", "b", "c", "d"]})
    assert even == {"n1": "P", "n2": "n2"}


def test_merge_keeps_the_id_of_the_cluster_that_brought_more_records() -> None:
    prev = {"P1": ["a", "b"], "P2": ["c", "d", "e"]}
    assert stable_ids({"n": ["a", "b", "c", "d", "e"]}, prev) == {"n": "P2"}


def test_a_minority_remnant_does_not_inherit_and_ids_never_collide() -> None:
    prev = {"P": ["a", "b", "c"]}
    out = stable_ids({"P": ["a", "q"], "n2": ["b", "c"]}, prev)
    # n2 keeps 2 of 3 records: it takes P; the remnant's natural id was P, so it gets a new one
    assert out["n2"] == "P"
    assert out["P"] != "P" and out["P"].startswith("c")
    assert len(set(out.values())) == 2


# --- two runs on FEBRL (public data): the second has 5% new records --------------------------


def _febrl_contacts(df: pd.DataFrame) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "record_id": "febrl:" + df["rec_id"],
            "source": "febrl",
            "first_name": df["given_name"],
            "last_name": df["surname"],
            "street_number": df["street_number"],
            "address": df["address_1"],
            "city": df["suburb"],
            "postal_code": df["postcode"],
            "region": df["state"],
            "dob": df["date_of_birth"],
            "ident": df["soc_sec_id"],
        }
    )


def _members(clusters: pd.DataFrame) -> dict[str, frozenset[str]]:
    return {str(c): frozenset(g["record_id"]) for c, g in clusters.groupby("cluster_id", sort=True)}


def test_cluster_ids_survive_a_rerun_with_5_percent_new_records(shared_data: Path) -> None:
    full = _febrl_contacts(read_febrl(shared_data / "febrl" / "dataset3.csv"))
    rng = np.random.default_rng(13)
    new = rng.random(len(full)) < 0.05
    first = match(full[~new].reset_index(drop=True), MatchConfig())
    before = _members(first.clusters)
    memory = MatchMemory(previous_clusters={k: sorted(v) for k, v in before.items()})
    second = match(full, MatchConfig(), memory=memory)
    after = _members(second.clusters)
    plain = _members(match(full, MatchConfig()).clusters)  # the same run without memory

    unchanged = {cid for cid, m in before.items() if m in set(after.values())}
    assert len(unchanged) > 900
    assert all(after.get(cid) == before[cid] for cid in unchanged)
    # clusters that only grew keep their id too, also when the newcomer's id sorts first
    grown = [c for c, m in before.items() if c in after and m < after[c]]
    assert len(grown) > 50
    renamed_without_memory = [c for c in grown if c not in plain]
    assert renamed_without_memory, "a newcomer with a smaller id must occur in this sample"
    assert second.stats["memory"]["clusters_keeping_previous_id"] >= len(unchanged) + len(grown)


def test_each_clustered_record_carries_its_own_content_hash(shared_data: Path) -> None:
    """The decisions store keeps a hash per clustered record, to tell later whether a decision
    still holds. A run with memory reorders the clusters (inherited ids): the hashes must move
    with their rows, or every decision would be judged stale (or, worse, fresh) by another
    record's content."""
    from audit.match.memory import content_hashes

    full = _febrl_contacts(read_febrl(shared_data / "febrl" / "dataset3.csv")).iloc[:2000]
    full = full.reset_index(drop=True)
    own = dict(zip(full["record_id"], content_hashes(full), strict=True))
    first = match(full.iloc[200:].reset_index(drop=True), MatchConfig())
    memory = MatchMemory(
        previous_clusters={k: sorted(v) for k, v in _members(first.clusters).items()}
    )
    for m in (first, match(full, MatchConfig(), memory=memory)):
        got = m.cluster_hashes.to_pylist()
        assert len(got) == len(m.clusters) > 100
        assert got == [own[r] for r in m.clusters["record_id"]]


def test_rejected_pairs_are_not_linked_until_a_record_changes(shared_data: Path) -> None:
    from audit.match.memory import PairDecision, content_hashes

    full = _febrl_contacts(read_febrl(shared_data / "febrl" / "dataset3.csv")).iloc[:1500]
    full = full.reset_index(drop=True)
    base = match(full, MatchConfig())
    members = _members(base.clusters)
    rejected = sorted(members)[:40]
    h = dict(zip(full["record_id"], content_hashes(full), strict=True))
    decisions = [
        PairDecision(a, b, h[a], h[b], "reject")
        for cid in rejected
        for a, b in itertools.combinations(sorted(members[cid]), 2)
    ]
    again = match(full, MatchConfig(), memory=MatchMemory(decisions=decisions))
    pairs = set(zip(again.pairs["record_id_l"], again.pairs["record_id_r"], strict=True))
    assert not pairs & {(d.record_id_l, d.record_id_r) for d in decisions}
    assert again.stats["memory"]["rejected_pairs_held"] == len(decisions)
    # one record of the first rejected pair moves house: its decision is stale, asked again
    d0 = decisions[0]
    moved = full.copy()
    moved.loc[moved["record_id"] == d0.record_id_l, "address"] = "1 other street"
    third = match(moved, MatchConfig(), memory=MatchMemory(decisions=decisions))
    assert third.stats["memory"]["stale_decisions"] >= 1
    assert third.stats["memory"]["rejected_pairs_held"] < len(decisions)


# --- learning from decisions ------------------------------------------------------------------


def test_band_precision_and_thresholds_from_decided_pairs(tmp_path: Path) -> None:
    from audit import review_store
    from audit.merge.decisions import Decision

    store = tmp_path / "decisions.sqlite"
    # 40 auto clusters of two records (scores 0.99..0.96), 10 review ones (0.80..0.71)
    clusters, hashes, scores, decisions = [], {}, {}, {}
    for k in range(50):
        a, b = f"s:{k:03d}a", f"s:{k:03d}b"
        cid = f"c{k:03d}"
        clusters += [(cid, a, ""), (cid, b, "")]
        hashes[a], hashes[b] = "h" + a, "h" + b
        auto = k < 40
        scores[(a, b)] = (
            0.99 - k * 0.001 if auto else 0.80 - (k - 40) * 0.01,
            "auto" if auto else "review",
        )
        # one auto pair and 6 of the 10 review pairs were false matches
        wrong = k == 39 or (not auto and k - 40 < 6)
        decisions[cid] = Decision(cid, "reject" if wrong else "approve")
    review_store.record_run(
        store, "r1", tmp_path, clusters, [hashes[r] for _, r, _ in clusters], {}
    )
    got = review_store.record_decisions(store, "r1", decisions, source="t.csv", scores=scores)
    assert (got.approved, got.rejected, got.pairs) == (43, 7, 50)
    learned = review_store.learn(store)
    assert learned["by_band"]["auto"]["precision"] == pytest.approx(39 / 40)
    assert learned["by_band"]["review"]["precision"] == pytest.approx(4 / 10)
    # the 39 best pairs are all right; the 40th (0.951) is wrong: 39/40 < 0.99 from there on
    assert learned["suggested_auto_threshold"] == pytest.approx(0.952)
    assert learned["suggested_review_threshold"] == pytest.approx(0.71)
    text = " ".join(review_store.learning_lines(learned))
    assert "from your 50 decided pairs" in text and "auto band precision 0.975" in text


def test_content_hashes_are_the_same_in_blocks_and_across_column_kinds(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A row's hash is blake2b (8 bytes) of its values joined by \\x1f (missing as ''), in
    column-name order, whether the column is Arrow text or Python objects, and whichever block
    of rows it is hashed in (a lone surrogate sends one block the slow way)."""
    import hashlib

    from audit.match import memory as mem

    rows = [
        ("r1", "Ann Lee", "ann@x.io", None),
        ("r2", "Bo 김", None, "+821012345678"),
        ("r3", "", "c@y.jp", "123"),
        ("r4", "Dee \ud800", "d@z.kr", None),  # not encodable as UTF-8: the fallback
        ("r5", "Eve", "e@w.cn", "9"),
    ]
    frame = pd.DataFrame(rows, columns=["record_id", "full_name", "email", "phone"], dtype=object)
    frame = frame.astype({"email": "str", "phone": "str"})  # Arrow text beside an object column

    def expected(name: object, email: object, phone: object) -> str:
        # column-name order: email, full_name, phone
        parts = ["" if v is None else str(v) for v in (email, name, phone)]
        data = "\x1f".join(parts).encode("utf-8", "surrogatepass")
        return hashlib.blake2b(data, digest_size=8).hexdigest()

    want = [expected(n, e, p) for _, n, e, p in rows]
    assert mem.content_hashes(frame) == want
    monkeypatch.setattr(mem, "HASH_BLOCK", 2)
    assert mem.content_hashes(frame) == want
