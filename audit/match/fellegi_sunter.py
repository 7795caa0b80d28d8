"""Fellegi-Sunter weights learned without labels, and the calibrated match probability.

u (how often a level occurs between two unrelated records) is measured on random record pairs;
m (how often it occurs between two records of the same person) on the candidate pairs that the
*other* fields already call a confident match (leave-one-out), re-estimated a few times together
with the prior. Exact agreement on a common value (a frequent surname, a switchboard phone) is
weighed by that value's own frequency (term-frequency adjustment).

Fields that move together in life are not added up as if independent: household members share a
surname, an address and a phone, so inside a group the strongest agreement counts fully and the
others only by the group's `rest` factor. That single change is what keeps households and
same-name strangers out of the auto band, where a plain independent sum is overconfident.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from audit.match.compare import LEVELS, Compared, Comparer
from audit.match.rules import Comparison, Group, MatchRules

_M_TOP = 0.85
_M_FAR = 0.05
# Pseudo-counts so that a small input (20 rows) does not learn that everything agrees: u of an
# exact level starts from 1 in 1,000 over 10,000 imaginary pairs, a value's share from 1% over
# 10 imaginary records. At 5,000 records and more the data outweighs them.
PRIOR_PAIRS, PRIOR_U = 10_000.0, 0.001
PRIOR_RECORDS, PRIOR_SHARE = 10.0, 0.01
MAX_PRIOR = 0.05  # at most 1 in 20 record pairs is a duplicate, however small the input


@dataclass
class FieldWeights:
    comp: Comparison
    m: np.ndarray  # per level (index 0 = null, unused)
    u: np.ndarray
    tf_u: np.ndarray | None = None  # per value code: share of records holding that value
    tf_cap: float = 6.0

    @property
    def levels(self) -> tuple[str, ...]:
        return LEVELS[self.comp.kind]

    @property
    def bits(self) -> np.ndarray:
        w = np.log2(self.m / self.u)
        w[0] = 0.0
        return w

    def contribution(self, c: Compared) -> np.ndarray:
        w = self.bits.astype(np.float32)[c.level]
        if self.tf_u is not None:
            top = len(self.levels) - 1
            at = np.flatnonzero((c.tf_code >= 0) & (c.level == top))
            if len(at):
                w_tf = np.log2(self.m[top] / self.tf_u[c.tf_code[at]])
                hi = self.bits[top] + self.tf_cap
                w[at] = np.clip(w_tf, min(0.0, self.bits[top]), hi).astype(np.float32)
        if c.shared is not None:
            # a value many different people hold (a switchboard, office@, the company's street
            # address) says nothing about whether two of its holders are one person
            w[c.shared] = 0.0
        return w


@dataclass
class Model:
    fields: list[FieldWeights]
    groups: dict[str, Group]  # group -> rest factor (and the field that lifts it)
    prior: float  # probability that two random records match
    history: list[dict[str, float]] = field(default_factory=list)

    @property
    def prior_bits(self) -> float:
        return float(np.log2(self.prior / (1 - self.prior)))

    def combine(
        self,
        contrib: dict[str, np.ndarray],
        n: int,
        levels: dict[str, np.ndarray] | None = None,
    ) -> np.ndarray:
        """Total match weight (bits): prior + per group (strongest + rest x others + negatives).

        A group's fields move together only for some pairs: household members share a surname,
        a street and a phone but not a given name. Where all of the group's `same` fields agree
        at least at their named level (the same given and family name at the same street), the
        other agreements are not one household fact repeated but more evidence about one
        person, and count by `rest_same` instead.
        """
        total = np.full(n, self.prior_bits, np.float32)
        kinds = {f.comp.field: f.levels for f in self.fields}
        for g, grp in self.groups.items():
            cols = [contrib[f.comp.field] for f in self.fields if f.comp.group == g]
            lift: float | np.ndarray = grp.rest
            if grp.same and levels is not None and grp.rest_same != grp.rest:
                same = np.ones(n, bool)
                for name, least in grp.same.items():
                    lv = levels.get(name)
                    if lv is None or least not in kinds[name]:
                        same[:] = False
                        break
                    same &= lv >= kinds[name].index(least)
                lift = np.where(same, np.float32(grp.rest_same), np.float32(grp.rest))
            total += group_score(cols, grp.rest, n, lift)
        return total

    def bind(self, comparer: Comparer) -> Model:
        """This model's weights with the term-frequency tables of `comparer`'s value codes.

        `tf_u` is indexed by one Comparer's dictionary codes; a model trained on the driver is
        rebound to every partition's Comparer (built with the same global `ValueCounts`), which
        gives each value the same share it has in the whole data set.
        """
        from dataclasses import replace

        fields = [
            replace(f, tf_u=comparer.tf_shares(f.comp.field, PRIOR_RECORDS, PRIOR_SHARE))
            if f.tf_u is not None
            else f
            for f in self.fields
        ]
        return replace(self, fields=fields)

    def table(self) -> list[dict[str, object]]:
        """The learned weights as rows (field, level, m, u, bits) for reports and tests."""
        rows: list[dict[str, object]] = []
        for f in self.fields:
            for lv, name in enumerate(f.levels):
                if lv == 0:
                    continue
                rows.append(
                    {
                        "field": f.comp.field,
                        "level": name,
                        "m": round(float(f.m[lv]), 6),
                        "u": float(f"{f.u[lv]:.6g}"),
                        "bits": round(float(f.bits[lv]), 3),
                    }
                )
        return rows


def group_score(
    cols: list[np.ndarray], rest: float, n: int, rest_pos: float | np.ndarray | None = None
) -> np.ndarray:
    """Strongest agreement + `rest_pos` x the other agreements, and strongest disagreement +
    `rest` x the other disagreements (a move changes address, postcode and city at once)."""
    rest_pos = rest if rest_pos is None else rest_pos
    if not cols:
        return np.zeros(n, np.float32)
    if len(cols) == 1:
        return cols[0]
    stack = np.vstack(cols)
    pos = np.clip(stack, 0, None)
    neg = np.clip(stack, None, 0)
    best = pos.max(axis=0)
    worst = neg.min(axis=0)
    return best + rest_pos * (pos.sum(axis=0) - best) + worst + rest * (neg.sum(axis=0) - worst)


def probability(bits: np.ndarray) -> np.ndarray:
    return (1.0 / (1.0 + np.exp2(-np.clip(bits, -60, 60)))).astype(np.float64)


def _initial_m(kind: str) -> np.ndarray:
    k = len(LEVELS[kind])
    m = np.zeros(k)
    m[-1] = _M_TOP
    m[1] = _M_FAR
    if k > 3:
        m[2:-1] = (1 - _M_TOP - _M_FAR) / (k - 3)
    else:
        m[1] += 1 - _M_TOP - _M_FAR
    m[0] = 1.0
    return m


def _level_share(level: np.ndarray, k: int, alpha: float) -> np.ndarray:
    counts = np.bincount(level[level > 0], minlength=k).astype(float)
    counts[0] = 0
    counts[1:] += alpha
    out = counts / counts[1:].sum()
    out[0] = 1.0
    return out


def random_pairs(
    n: int, count: int, seed: int, side: np.ndarray | None
) -> tuple[np.ndarray, np.ndarray]:
    """Seeded random record pairs (across sides when linking), for u."""
    rng = np.random.default_rng(seed)
    if side is not None:
        left, right = np.flatnonzero(side == 0), np.flatnonzero(side == 1)
        if len(left) == 0 or len(right) == 0:
            return np.zeros(0, np.int64), np.zeros(0, np.int64)
        a = left[rng.integers(0, len(left), count)]
        b = right[rng.integers(0, len(right), count)]
    else:
        a = rng.integers(0, n, count)
        b = rng.integers(0, n, count)
    keep = a != b
    a, b = a[keep], b[keep]
    return np.minimum(a, b), np.maximum(a, b)


def _discount_matches(f: FieldWeights, exact: tuple[float, float], prior: float) -> None:
    """u(exact) among NON-matches: agreeing pairs minus the matches expected to agree.

    Counting every pair that shares a value overstates u where duplicates are common (FEBRL
    holds up to five records per person), which would understate the weight of agreement.
    """
    agree, both = exact
    matches = prior * both
    top = len(f.levels) - 1
    raw = (agree + PRIOR_PAIRS * PRIOR_U) / (both + PRIOR_PAIRS)
    u = (agree - f.m[top] * matches + PRIOR_PAIRS * PRIOR_U) / max(
        both - matches + PRIOR_PAIRS, 1.0
    )
    new = float(np.clip(u, max(raw * 0.1, 1e-12), 0.999))
    rest = f.u[1:top].sum()
    if rest > 0:
        f.u[1:top] *= (1 - new) / rest
    f.u[top] = new


def exact_agreement(counts: np.ndarray) -> tuple[float, float]:
    """(record pairs sharing a value, record pairs both holding one) from per-value counts.

    Order-free and exact in floating point (integer sums), so counts gathered from any number
    of partitions give the same figures as counts of one frame.
    """
    c = np.asarray(counts).astype(float)
    agree = float((c * (c - 1) / 2).sum())
    both = float(c.sum()) * (float(c.sum()) - 1) / 2
    return agree, max(both, 1.0)


def train(
    comparer: Comparer,
    rules: MatchRules,
    cand_i: np.ndarray,
    cand_j: np.ndarray,
    total_pairs: float,
    side: np.ndarray | None = None,
) -> Model:
    """Estimate u on random pairs, then m and the prior on a sample of the candidate pairs.

    `comparer` holds every record; `fit` is the same on any subset holding the pairs used.
    """
    t = rules.training
    n = comparer.n
    ri, rj = random_pairs(n, t.random_pairs, t.seed, side)
    exact_pairs: dict[str, tuple[float, float]] = {}
    for c in comparer.comparisons:
        counts = comparer.counts[c.field].astype(float)
        if side is None:
            exact_pairs[c.field] = exact_agreement(counts)
        else:
            codes = comparer.codes.get(c.field)
            k0 = np.bincount(codes[(codes >= 0) & (side == 0)], minlength=len(counts))
            k1 = np.bincount(codes[(codes >= 0) & (side == 1)], minlength=len(counts))
            agree = float((k0.astype(float) * k1).sum())
            both = float(k0.sum()) * float(k1.sum())
            exact_pairs[c.field] = (agree, max(both, 1.0))
    si, sj = sample_candidates(cand_i, cand_j, t.sample_pairs)
    return fit(
        comparer,
        rules,
        n=n,
        exact_pairs=exact_pairs,
        random=(ri, rj),
        sample=(si, sj),
        n_candidates=len(cand_i),
        total_pairs=total_pairs,
    )


def sample_candidates(
    cand_i: np.ndarray, cand_j: np.ndarray, size: int
) -> tuple[np.ndarray, np.ndarray]:
    """A deterministic, evenly spread sample of the candidate pairs (sorted by (i, j))."""
    step = max(1, len(cand_i) // size)
    return cand_i[::step], cand_j[::step]


def fit(
    comparer: Comparer,
    rules: MatchRules,
    *,
    n: int,
    exact_pairs: dict[str, tuple[float, float]],
    random: tuple[np.ndarray, np.ndarray],
    sample: tuple[np.ndarray, np.ndarray],
    n_candidates: int,
    total_pairs: float,
) -> Model:
    """The model from global figures and two sets of pairs given as rows of `comparer`.

    Everything that needs the whole data set (records n, pairs agreeing exactly, the number of
    candidates) is an argument, so a driver can train on the few rows the pairs name: a
    `Comparer` with global `ValueCounts` over those rows compares them as over all rows.
    """
    t = rules.training
    comps = comparer.comparisons
    ri, rj = random
    fields: list[FieldWeights] = []
    for c in comps:
        k = len(LEVELS[c.kind])
        # exact agreement between two random records is counted, not sampled: the number of
        # record pairs sharing a value, minus the expected true matches among them (see below);
        # the other levels are shared out by what the random pairs show among non-exact pairs
        agree, both = exact_pairs[c.field]
        u_exact = float(
            np.clip((agree + PRIOR_PAIRS * PRIOR_U) / (both + PRIOR_PAIRS), 1e-12, 0.999)
        )
        lv = comparer.compare(c, ri, rj).level
        lv = lv[(lv > 0) & (lv < k - 1)]
        other = np.bincount(lv, minlength=k)[1 : k - 1].astype(float) + 0.5
        u = np.ones(k)
        u[1 : k - 1] = other / other.sum() * (1 - u_exact)
        u[k - 1] = u_exact
        tf_u = None
        if c.tf:
            tf_u = comparer.tf_shares(c.field, PRIOR_RECORDS, PRIOR_SHARE)
        fields.append(FieldWeights(c, _initial_m(c.kind), u, tf_u, t.tf_max_bits))
    groups = {g: rules.groups[g] for g in sorted({c.group for c in comps})}
    prior = float(np.clip(0.5 * n / max(total_pairs, 1.0), 1e-12, MAX_PRIOR))
    model = Model(fields=fields, groups=groups, prior=prior)
    if n_candidates == 0:
        return model
    si, sj = sample
    compared = {c.field: comparer.compare(c, si, sj) for c in comps}
    ns = len(si)
    for _ in range(t.iterations):
        contrib = {f.comp.field: f.contribution(compared[f.comp.field]) for f in fields}
        for f in fields:
            others = {
                k: (v if k != f.comp.field else np.zeros(ns, np.float32))
                for k, v in contrib.items()
            }
            p_loo = probability(model.combine(others, ns))
            conf = p_loo >= t.confident
            lv = compared[f.comp.field].level[conf]
            if (lv > 0).sum() >= 20:
                f.m = _level_share(lv, len(f.levels), alpha=1.0)
        contrib = {f.comp.field: f.contribution(compared[f.comp.field]) for f in fields}
        p = probability(model.combine(contrib, ns))
        expected = float(p.sum()) * (n_candidates / ns)
        model.prior = float(np.clip(expected / max(total_pairs, 1.0), 1e-12, MAX_PRIOR))
        for f in fields:
            _discount_matches(f, exact_pairs[f.comp.field], model.prior)
        model.history.append({"prior": model.prior, "expected_matches": expected})
    return model
