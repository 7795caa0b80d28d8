"""The matching engine on prepared features: block, compare, train, score, band, cluster.

Works on record positions (0..n-1) so it serves the pipeline's contacts, the plain-file
`dedupe` command and the benchmarks alike; the caller maps positions back to its own ids.
Candidate pairs are scored in chunks so that peak memory stays flat at 1M records.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from audit.match.blocking import Codes, candidate_pairs
from audit.match.cluster import cluster
from audit.match.compare import FUZZY_LEVELS, LEVELS, Comparer, _osa
from audit.match.facts import ValueFacts, value_facts
from audit.match.fellegi_sunter import Model, probability, train
from audit.match.prepare import has_cjk
from audit.match.rules import MatchRules

CHUNK = 1_000_000
FUZZY_RULE = "match.fuzzy"
_WMAX = 600  # explanation weights are shown in tenths of a bit, clipped to +-60


@dataclass
class Linked:
    pairs: pd.DataFrame  # i, j, score, band, rule_id, sim_<f>, w_<f>, why (band review/auto)
    labels: np.ndarray  # cluster label per record position, -1 when the record has no duplicate
    stats: dict[str, Any] = field(default_factory=dict)
    model: Model | None = None


class _Scorer:
    def __init__(self, comparer: Comparer, model: Model, rules: MatchRules) -> None:
        self.comparer = comparer
        self.model = model
        self.exact_rules = [
            (b.exact_rule, b.keys) for b in rules.blocking if b.exact_rule is not None
        ]
        self.comparisons = 0
        self.pruned = 0
        self.guards = rules.guards
        self._best: dict[str, float] = {}
        for f in model.fields:
            lv = FUZZY_LEVELS.get(f.comp.kind, ())
            self._best[f.comp.field] = max((float(f.bits[k]) for k in lv), default=-np.inf)

    def _bound(self, i: np.ndarray, j: np.ndarray) -> np.ndarray:
        """An upper bound of each pair's probability from integer codes alone."""
        contrib: dict[str, np.ndarray] = {}
        levels: dict[str, np.ndarray] = {}
        for f in self.model.fields:
            c = self.comparer.compare(f.comp, i, j, fuzzy=False)
            w = f.contribution(c)
            if c.pending is not None and c.pending.any():
                w = np.where(c.pending, np.maximum(w, self._best[f.comp.field]), w)
            contrib[f.comp.field] = w.astype(np.float32)
            levels[f.comp.field] = c.level  # the exact level needs no string: final here
        p = probability(self.model.combine(contrib, len(i), levels))
        ext = self.comparer.codes.get("external_id")
        p[(ext[i] >= 0) & (ext[i] == ext[j])] = 1.0  # forced to 1 by match.exact.external_id
        return p

    def score(
        self, i: np.ndarray, j: np.ndarray, detail: bool = False, floor: float | None = None
    ) -> dict[str, Any]:
        """Score pairs. With `floor`, pairs whose best possible score is below it are not
        compared on strings at all (their score is reported as 0)."""
        if floor is not None and len(i):
            need = self._bound(i, j) >= floor
            if not need.all():
                sub = self.score(i[need], j[need], detail)
                out: dict[str, Any] = {}
                for k, v in sub.items():
                    full = np.zeros(len(i), dtype=v.dtype)
                    if k == "rule_id":
                        full[:] = FUZZY_RULE
                    full[need] = v
                    out[k] = full
                self.pruned += int((~need).sum())
                return out
        self.comparisons += len(i)
        n = len(i)
        out = {}
        contrib: dict[str, np.ndarray] = {}
        levels: dict[str, np.ndarray] = {}
        shared: dict[str, np.ndarray] = {}
        for f in self.model.fields:
            c = self.comparer.compare(f.comp, i, j)
            contrib[f.comp.field] = f.contribution(c)
            levels[f.comp.field] = c.level
            if c.shared is not None:
                shared[f.comp.field] = c.shared
                if detail:
                    out[f"persons_{f.comp.field}"] = c.persons
            if detail:
                out[f"sim_{f.comp.field}"] = c.sim
                out[f"w_{f.comp.field}"] = contrib[f.comp.field]
                out[f"lv_{f.comp.field}"] = c.level
        bits = self.model.combine(contrib, n, levels)
        p = probability(bits)
        rule = np.full(n, "", dtype=object)
        codes = self.comparer.codes
        for rule_id, keys in reversed(self.exact_rules):
            agree = np.ones(n, bool)
            for k in keys:
                ck = codes.get(k)
                agree &= (ck[i] >= 0) & (ck[i] == ck[j])
                if k in shared:  # agreeing on a switchboard or office@ is not an exact match
                    agree &= ~shared[k]
            rule[agree] = rule_id
            if rule_id == "match.exact.external_id":
                p[agree] = 1.0  # the same system id twice in one source is the same record
        for guard in self.guards:
            elsewhere = np.zeros(n, bool)
            for f in self.model.fields:
                name = f.comp.field
                if name in guard.fields:
                    continue
                weak = [f.levels.index(x) for x in guard.weak_levels.get(name, ()) if x in f.levels]
                lv = levels[name]
                elsewhere |= (contrib[name] > 0) & ~np.isin(lv, weak)
            capped = ~elsewhere & (p > guard.max_score) & (rule != "match.exact.external_id")
            p[capped] = guard.max_score
            rule[capped] = guard.id
        rule[rule == ""] = FUZZY_RULE
        out["score"] = p
        out["bits"] = bits
        out["rule_id"] = rule
        out["conflict_email"], out["conflict_given"] = self._conflicts(i, j, levels, shared)
        return out

    def _conflicts(
        self,
        i: np.ndarray,
        j: np.ndarray,
        levels: dict[str, np.ndarray],
        shared: dict[str, np.ndarray],
    ) -> tuple[np.ndarray, np.ndarray]:
        """Identity evidence that two records are two people, whatever else agrees.

        Two different personal (non-role, non-shared) email keys (Gmail dots and +tags are
        folded before); or two clearly different
        given names: not equal, swapped (also with one typo in either name), a nickname, an
        initial or prefix, a close spelling, one typo, or written in different scripts (a
        transliteration this engine cannot judge);
        unless the two records carry the same national id (FEBRL's soc_sec_id, a tax id).
        """
        n = len(i)
        email = np.zeros(n, bool)
        given = np.zeros(n, bool)
        codes = self.comparer.codes
        if "email" in levels:
            c = codes.get("email")
            lv = levels["email"]
            role = self.comparer.email_role
            # 'close' (one edit at the same domain) too: a typo or a colleague with the same
            # name (leah.erickson@ / leaherickson@); either way a person should look first
            email = (c[i] >= 0) & (c[j] >= 0) & (lv >= 1) & (lv < len(LEVELS["email"]) - 1)
            at = np.flatnonzero(email)
            email[at] = ~role[c[i[at]]] & ~role[c[j[at]]]
            persons = self.comparer.persons.get("email")
            if persons is not None:
                at = np.flatnonzero(email)
                email[at] = (persons[c[i[at]]] < 2) & (persons[c[j[at]]] < 2)
        if "given" in levels:
            c = codes.get("given")
            given = (c[i] >= 0) & (c[j] >= 0) & (levels["given"] == 1)
            at = np.flatnonzero(given)
            if len(at):
                u = codes.uniques("given")
                ca, cb = c[i[at]], c[j[at]]
                a, b = u[ca], u[cb]
                typo = _osa(a, b) <= 1
                # per distinct name, not per pair: far fewer names than pairs
                cjk = np.fromiter((has_cjk(x) for x in u), bool, len(u))
                ascii_ = np.fromiter((x.isascii() for x in u), bool, len(u))
                script = (cjk[ca] != cjk[cb]) | ~(ascii_[ca] & ascii_[cb])
                # written in swapped order with a slip (Levi Weber / Weler Levi): one person
                fam = codes.get("family")
                fi, fj = fam[i[at]], fam[j[at]]
                both = (fi >= 0) & (fj >= 0)
                swap = np.zeros(len(at), bool)
                if both.any():
                    fu = codes.uniques("family")
                    k = np.flatnonzero(both)
                    swap[k] = (_osa(a[k], fu[fj[k]]) <= 1) & (_osa(fu[fi[k]], b[k]) <= 1)
                given[at] = ~typo & ~script & ~swap
            if "ident" in levels:  # the same national id is the same person, whatever the name
                given &= levels["ident"] != len(LEVELS["identifier"]) - 1
        return email, given


class Owned:
    """A features frame handed to `link` for good: `link` drops it once its codes are built.

    The codes and their dictionaries hold everything blocking, training and scoring read, so
    a caller that keeps no reference of its own saves the frame's size through linking (about
    100 MB at 300k contacts, growing with the data).
    """

    def __init__(self, frame: pd.DataFrame, codes: Codes | None = None) -> None:
        self._frame: pd.DataFrame | None = frame
        # the frame's codes begun by the caller (`value_facts` encodes what it reads with
        # them): the comparer finishes them, each feature encoded once
        self._codes = codes

    def take_codes(self) -> Codes | None:
        """The codes handed with the frame (None when none were); the holder lets go of them."""
        codes, self._codes = self._codes, None
        return codes

    def take(self) -> pd.DataFrame:
        """The frame; the holder is empty afterwards (taking twice is a bug)."""
        frame, self._frame = self._frame, None
        if frame is None:
            raise RuntimeError("the features frame was taken already")
        return frame


def link(
    feats: pd.DataFrame | Owned,
    rules: MatchRules,
    *,
    review: float,
    auto: float,
    side: np.ndarray | None = None,
    facts: ValueFacts | None = None,
    forbid: np.ndarray | None = None,
) -> Linked:
    """Find duplicate pairs (within one set, or across two sides when `side` is given).

    `facts` are the global value facts (`value_facts` over the whole data set); without them
    they are counted on `feats`, which is right only when `feats` is the whole data set.
    `forbid` holds keys i * n + j (i < j) of pairs a reviewer rejected: they are never linked,
    neither as a candidate nor when a cluster is checked for completeness.
    `feats` given as `Owned` is freed once the comparer has encoded it.
    """
    timings: dict[str, float] = {}
    t = time.perf_counter()
    codes = feats.take_codes() if isinstance(feats, Owned) else None
    frame = feats.take() if isinstance(feats, Owned) else feats
    del feats
    n = len(frame)
    if facts is None:
        facts = value_facts(frame, nicknames=rules.nicknames, codes=codes)
    comparer = Comparer(frame, rules.comparisons, rules.nicknames, facts, codes=codes)
    del codes
    del frame  # the last reference when it came as `Owned`
    cand_i, cand_j, block_counts = candidate_pairs(comparer.codes, rules.blocking, side)
    timings["blocking"] = round(time.perf_counter() - t, 4)
    n_candidates = len(cand_i)
    if side is not None:
        total = float((side == 0).sum()) * float((side == 1).sum())
    else:
        total = n * (n - 1) / 2
    t = time.perf_counter()
    model = train(comparer, rules, cand_i, cand_j, total, side)
    timings["training"] = round(time.perf_counter() - t, 4)
    t = time.perf_counter()
    scorer = _Scorer(comparer, model, rules)
    ki, kj, detail = _score_chunks(scorer, cand_i, cand_j, review)
    n_forbidden = 0
    if forbid is not None and len(forbid) and len(ki):
        ok = ~np.isin(np.minimum(ki, kj) * n + np.maximum(ki, kj), forbid)
        n_forbidden = int((~ok).sum())
        ki, kj = ki[ok], kj[ok]
        detail = {k: v[ok] for k, v in detail.items()}
    timings["scoring"] = round(time.perf_counter() - t, 4)
    t = time.perf_counter()

    score_more = _rescorer(scorer, review, forbid, n)
    labels, (ei, ej, es) = cluster(n, ki, kj, detail["score"], review, score_more)
    timings["clustering"] = round(time.perf_counter() - t, 4)
    t = time.perf_counter()
    extra = es >= review
    # member pairs first scored while checking clusters
    more = scorer.score(ei[extra], ej[extra], detail=True) if extra.any() else None
    comparisons, pruned = scorer.comparisons, scorer.pruned
    # the codes, value tables and candidates are done with: the pairs table and its
    # explanations are built without them (at 300k contacts about 200 MB)
    del scorer, comparer, score_more, cand_i, cand_j
    pairs = _pairs_frame(ki, kj, detail, model, review, auto)
    del detail
    if more is not None:
        pairs = pd.concat(
            [pairs, _pairs_frame(ei[extra], ej[extra], more, model, review, auto)],
            ignore_index=True,
        )
    timings["explain"] = round(time.perf_counter() - t, 4)
    stats: dict[str, Any] = {
        "records": n,
        "candidate_pairs": n_candidates,
        "candidate_pairs_by_rule": block_counts,
        "comparisons": int(comparisons),
        "pruned_before_strings": int(pruned),
        "pairs_review_or_better": len(pairs),
        "cluster_check_pairs": len(ei),
        "rejected_pairs_not_linked": n_forbidden,
        "prior": model.prior,
        "weights": model.table(),
        "timings": timings,
    }
    return Linked(pairs=pairs, labels=labels, stats=stats, model=model)


def _rescorer(
    scorer: _Scorer, review: float, forbid: np.ndarray | None, n: int
) -> Callable[[np.ndarray, np.ndarray], np.ndarray]:
    """Scores of pairs met while checking clusters (0 for a pair a reviewer rejected)."""

    def score_more(a: np.ndarray, b: np.ndarray) -> np.ndarray:
        got = scorer.score(a, b, floor=review)["score"]
        if forbid is not None and len(forbid):
            got = np.where(np.isin(np.minimum(a, b) * n + np.maximum(a, b), forbid), 0.0, got)
        return got

    return score_more


def _score_chunks(
    scorer: _Scorer, cand_i: np.ndarray, cand_j: np.ndarray, review: float
) -> tuple[np.ndarray, np.ndarray, dict[str, np.ndarray]]:
    """The candidates scoring `review` or more and their detail, scored CHUNK pairs at a time.
    A function of its own so that the chunks' arrays are gone when it returns."""
    kept: list[dict[str, Any]] = []
    keep_i: list[np.ndarray] = []
    keep_j: list[np.ndarray] = []
    for s in range(0, len(cand_i), CHUNK):
        ci, cj = cand_i[s : s + CHUNK], cand_j[s : s + CHUNK]
        d = scorer.score(ci, cj, detail=True, floor=review)
        hit = d["score"] >= review
        kept.append({k: v[hit] for k, v in d.items()})
        keep_i.append(ci[hit])
        keep_j.append(cj[hit])
        del d, hit  # before the next chunk is scored
    ki = np.concatenate(keep_i) if keep_i else np.zeros(0, np.int64)
    kj = np.concatenate(keep_j) if keep_j else np.zeros(0, np.int64)
    if not kept:
        return ki, kj, scorer.score(ki, kj, detail=True)
    if len(kept) == 1:
        return ki, kj, kept[0]
    detail = {}
    for k in list(kept[0]):  # one field at a time: the chunks' copy goes as it is joined
        detail[k] = np.concatenate([d.pop(k) for d in kept])
    return ki, kj, detail


def score_candidates(
    scorer: _Scorer, i: np.ndarray, j: np.ndarray, *, review: float, auto: float
) -> tuple[pd.DataFrame, np.ndarray]:
    """The pairs among candidates (i, j) that score `review` or more: the pairs table and the
    unrounded scores (clustering needs those: the table's are rounded, and ties would break
    differently). Per pair, so any split of the candidates gives the same rows; this is what a
    partition of a distributed engine calls on its frame (`i, j` are rows of the scorer's
    Comparer)."""
    d = scorer.score(i, j, detail=True, floor=review)
    hit = d["score"] >= review
    kept = {k: v[hit] for k, v in d.items()}
    return _pairs_frame(i[hit], j[hit], kept, scorer.model, review, auto), kept["score"]


def make_scorer(comparer: Comparer, model: Model, rules: MatchRules) -> _Scorer:
    """A scorer for `comparer`'s rows with `model` rebound to its value codes (`Model.bind`)."""
    return _Scorer(comparer, model.bind(comparer), rules)


def _pairs_frame(
    i: np.ndarray, j: np.ndarray, d: dict[str, Any], model: Model, review: float, auto: float
) -> pd.DataFrame:
    score = d["score"]
    band = np.where(score >= auto, "auto", np.where(score >= review, "review", "no"))
    # conflicting identity evidence: such a pair may be reviewed, never merged unseen
    held = (band == "auto") & (d["conflict_email"] | d["conflict_given"])
    band[held] = "review"
    cols: dict[str, Any] = {
        "i": i,
        "j": j,
        "score": np.round(score, 6),
        "band": band,
        "rule_id": d["rule_id"],
    }
    for f in model.fields:
        name = f.comp.field
        cols[f"sim_{name}"] = np.round(d[f"sim_{name}"].astype(np.float64), 4)
    for f in model.fields:
        name = f.comp.field
        cols[f"w_{name}"] = np.round(d[f"w_{name}"].astype(np.float64), 2)
    cols["why"] = _why(d, model, len(i))
    return pd.DataFrame(cols)


def _why(d: dict[str, Any], model: Model, n: int) -> pd.Series:
    """'email exact (+13.8), phone far (-1.6), ...' per pair, built in Arrow from lookup tables."""
    parts: list[pa.Array] = []
    span = 2 * _WMAX + 1
    for f in model.fields:
        name = f.comp.field
        lv = d[f"lv_{name}"].astype(np.int64)
        w10 = np.clip(np.rint(d[f"w_{name}"] * 10), -_WMAX, _WMAX).astype(np.int64) + _WMAX
        # one table per field: (level, weight in tenths of a bit) -> "email exact (+13.8)"
        table = pa.array(
            [
                None if k == 0 else f"{name} {LEVELS[f.comp.kind][k]} ({(v - _WMAX) / 10:+.1f})"
                for k in range(len(LEVELS[f.comp.kind]))
                for v in range(span)
            ],
            type=pa.string(),
        )
        parts.append(pc.take(table, pa.array(lv * span + w10)))
    for f in model.fields:
        persons = d.get(f"persons_{f.comp.field}")
        if persons is not None:
            note = np.full(n, None, dtype=object)
            at = np.flatnonzero(persons > 0)
            note[at] = [f"{f.comp.field} shared by {k} people: weak" for k in persons[at].tolist()]
            parts.append(pa.array(note, type=pa.string()))
    for key, text in (
        ("conflict_email", "different personal emails: kept out of auto"),
        ("conflict_given", "different first names: kept out of auto"),
    ):
        # numpy's stubs have no overload for a None branch; at run time it is an object array
        flagged = np.where(d[key], text, None)  # type: ignore[call-overload]
        parts.append(pa.array(flagged.tolist(), type=pa.string()))
    if not parts:
        return pd.Series([""] * n, dtype="str")
    joined = pc.binary_join_element_wise(*parts, ", ", null_handling="skip")
    if len(joined) != n:  # Arrow returns an empty array when every input is all null
        return pd.Series([""] * n, dtype="str")
    # kept in Arrow (pandas' `str`), as the pairs' other text columns are: one Python string
    # per pair (a million at 1M contacts) was ~130 MB held to the end of the run, and a forked
    # child's reads of them (refcounts) copied every page they lay on
    return pd.Series(pd.array(joined, dtype="str"))
