"""Comparison library: per field, a level per pair (null, far, ..., exact) and a 0..1 similarity.

This is the only module that imports rapidfuzz. Each fuzzy scorer runs once per field over all
pairs that need it (`rapidfuzz.process.cpdist`, in C, both cores), never once per block. Exact
agreement is decided on integer codes, so strings are only touched where they differ.
Level 0 is always 'null' (a side is missing): it carries no weight, it is never a mismatch.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from audit import romanize as rz
from audit.match.blocking import Codes, as_arrow
from audit.match.facts import ValueCounts, ValueFacts, is_role_email
from audit.match.rules import Comparison
from audit.match.xscript import (
    NATIVE_FAMILY,
    SCRIPT,
    CrossScript,
    counted_columns,
    family_words,
)

LEVELS: dict[str, tuple[str, ...]] = {
    "exact": ("null", "far", "exact"),
    "name": ("null", "far", "close", "exact"),
    "given_name": ("null", "far", "close", "nickname", "exact"),
    "text": ("null", "far", "mid", "close", "exact"),
    "identifier": ("null", "far", "one_edit", "exact"),
    "date": ("null", "far", "close", "exact"),
    "email": ("null", "far", "same_local", "close", "exact"),
    "phone": ("null", "far", "tail", "shared", "exact"),
}
WORKERS = 2
# levels only a string similarity can give, per kind (used to bound a pair's best score)
FUZZY_LEVELS: dict[str, tuple[int, ...]] = {
    "name": (2,),
    "given_name": (2, 3),
    "text": (2, 3),
    "identifier": (2,),
    "date": (2,),
    "email": (3,),
}


@dataclass
class Compared:
    """Levels and similarities of one field over a set of pairs."""

    level: np.ndarray  # int8, index into LEVELS[kind]
    sim: np.ndarray  # float32, NaN where null
    tf_code: np.ndarray  # code of the agreed value on exact agreement, else -1
    pending: np.ndarray | None = None  # fuzzy=False: pairs a string similarity could lift
    # exact agreement on a value many different people hold (weightless), and how many they are
    shared: np.ndarray | None = None
    persons: np.ndarray | None = None


def counted_features(comparisons: list[Comparison]) -> list[str]:
    """The features whose value counts a `Comparer` needs (see `ValueCounts`)."""
    return sorted({c.field for c in comparisons} | set(counted_columns()))


class Comparer:
    """Holds the per-record data every comparison needs; compares any array of pairs.

    Without `counts` the value frequencies are counted on `feats` (right when `feats` is the
    whole data set); with them, `feats` may be any subset (a partition, the rows a driver
    fetched) and every comparison comes out as it would on the whole data set.
    """

    def __init__(
        self,
        feats: pd.DataFrame,
        comparisons: list[Comparison],
        nicknames: dict,
        facts: ValueFacts | None = None,
        *,
        counts: ValueCounts | None = None,
        codes: Codes | None = None,
    ):
        self.n = len(feats)
        # `codes` of this very frame, begun by `value_facts`: each feature encoded once
        self.codes = codes if codes is not None else Codes(feats)
        self.global_counts = counts
        if counts is None:
            self.comparisons = [c for c in comparisons if feats[c.field].notna().any()]
        else:
            self.comparisons = [c for c in comparisons if counts.total(c.field) > 0]
        self.counts: dict[str, np.ndarray] = {}
        self.persons: dict[str, np.ndarray] = {}  # people sharing each value code (global facts)
        facts = facts or ValueFacts()
        for c in self.comparisons:
            at = self.codes.get(c.field)
            if counts is None:
                self.counts[c.field] = np.bincount(at[at >= 0], minlength=int(at.max()) + 1)
            else:
                # a partition may hold no value of a field the data set has: one unused entry
                # keeps the lookups at code max(-1, 0) valid (they are masked as null)
                got = counts.of(c.field, self.codes.uniques(c.field))
                self.counts[c.field] = got if len(got) else np.zeros(1, np.int64)
            if c.shared_persons is not None:
                got = facts.persons_of(c.field, self.codes.uniques(c.field))
                self.persons[c.field] = got if len(got) else np.ones(1, np.int64)
        self.email_role = (
            is_role_email(self.codes.uniques("email"))
            if "email" in feats.columns
            else np.zeros(0, bool)
        )
        # given and family names share one vocabulary so swapped order can be detected
        both = pa.concat_arrays([as_arrow(feats["given"]), as_arrow(feats["family"])])
        enc = pc.dictionary_encode(both)
        joint = pc.fill_null(enc.indices, -1).to_numpy(zero_copy_only=False)
        n = len(feats)
        self._gj, self._fj = joint[:n].astype(np.int32), joint[n:].astype(np.int32)
        self._lengths: dict[str, np.ndarray] = {}
        self._nick = _nickname_pairs(
            self.codes.get("given"), self.codes.uniques("given"), nicknames
        )
        self.xs: CrossScript | None = None
        self._family_word = np.zeros(0, bool)
        if SCRIPT in feats.columns and feats[SCRIPT].notna().any():
            # the lambda holds the counts, not `self`: a Comparer in a reference cycle would
            # keep the features and every code array alive until the cyclic collector ran
            # (at 300k contacts about 200 MB through survivorship and the rest of the stage)
            per_field = self.counts
            self.xs = CrossScript(self.codes, lambda f: len(per_field[f]), counts)
            # family names (`xscript.family_words`): a statistic of the whole data set, so
            # with global `counts` it is read from them, never from the rows of this frame
            words = enc.dictionary.to_pylist()
            if counts is None:
                m = len(words)
                fam = np.bincount(self._fj[self._fj >= 0], minlength=m)
                giv = np.bincount(self._gj[self._gj >= 0], minlength=m)
                native = self.xs.native_family_keys()
            else:
                at = np.asarray(words, dtype=object)
                fam, giv = counts.of("family", at), counts.of("given", at)
                native = {
                    lang: counts.values(col)
                    for lang, col in zip(rz.LANGS, NATIVE_FAMILY, strict=True)
                }
            self._family_word = family_words(words, fam, giv, native)
        # every feature is encoded now: the frame can go (when its owner lets go of it too)
        self.codes.release()

    def tf_shares(self, field: str, prior_records: float, prior_share: float) -> np.ndarray:
        """Share of records holding each value code (term frequency), smoothed; for names, the
        romanized values' shares follow (see `CrossScript.agree` for their codes)."""
        counts = self.counts[field].astype(float)
        total = (
            float(counts.sum())
            if self.global_counts is None
            else float(self.global_counts.total(field))
        )
        out = (counts + prior_records * prior_share) / (total + prior_records)
        if self.xs is not None and field in ("given", "family"):
            out = np.concatenate([out, self.xs.shares(field, prior_records, prior_share)])
        return out

    def _strings(self, field: str, rows: np.ndarray) -> np.ndarray:
        """The strings of `rows` (all non-null) as Python objects, taken from the Arrow
        dictionary on demand: nothing of full size is kept per field."""
        codes = self.codes.get(field)[rows]
        d = self.codes.dictionary(field)
        return pc.take(d, pa.array(codes)).to_numpy(zero_copy_only=False)

    def _len(self, field: str) -> np.ndarray:
        """Characters per record (0 where missing), measured once per distinct value."""
        if field not in self._lengths:
            per_value = pc.utf8_length(self.codes.dictionary(field)).to_numpy()
            codes = self.codes.get(field)
            lens = np.where(codes >= 0, np.r_[per_value, 0][codes], 0)
            self._lengths[field] = lens.astype(np.int64)
        return self._lengths[field]

    def swapped(self, i: np.ndarray, j: np.ndarray) -> np.ndarray:
        """Pairs whose given and family names are swapped on one side (Kim Minjun / Minjun Kim)."""
        g, f = self._gj, self._fj
        return (g[i] >= 0) & (f[i] >= 0) & (g[i] == f[j]) & (f[i] == g[j]) & (g[i] != g[j])

    def _family_first(self, i: np.ndarray, j: np.ndarray) -> np.ndarray:
        """Pairs that share a family-name word in the given-name slot and differ in the other."""
        g, f = self._gj, self._fj
        same = (g[i] >= 0) & (g[i] == g[j]) & (f[i] >= 0) & (f[j] >= 0) & (f[i] != f[j])
        same &= self._family_word[np.maximum(g[i], 0)]
        idx = np.flatnonzero(same)
        if len(idx):  # a typo in the other slot (Gahee / Gahe) is one given name: keep it
            close = _jw(self._strings("family", i[idx]), self._strings("family", j[idx])) >= 0.9
            same[idx[close]] = False
        return same

    def compare(
        self, comp: Comparison, i: np.ndarray, j: np.ndarray, fuzzy: bool = True
    ) -> Compared:
        """Levels of one field over pairs (i, j).

        With fuzzy=False only integer codes are used (no string is touched): pairs that a string
        similarity could still lift above 'far' are flagged in `pending`, which lets the scorer
        drop hopeless pairs before paying for rapidfuzz.
        """
        field = comp.field
        if field in ("given", "family"):
            sw = self.swapped(i, j)
            other = "family" if field == "given" else "given"
            ci = self.codes.get(field)[i]
            own_j = self.codes.get(field)[j]
            cj = np.where(sw, self.codes.get(other)[j], own_j)
            # swapped pairs agree exactly; their frequency is taken from the side whose value
            # sits in this field (a family name in the given-name slot would look rare)
            cj = np.where(sw, ci, cj)
            # which side holds the swap is unknown: take the more frequent reading
            cnt = self.counts[field]
            tf_side = np.where(sw & (cnt[np.maximum(own_j, 0)] > cnt[np.maximum(ci, 0)]), own_j, ci)
        else:
            ci = self.codes.get(field)[i]
            cj = self.codes.get(field)[j]
            tf_side = ci
        n = len(i)
        null = (ci < 0) | (cj < 0)
        exact = ~null & (ci == cj)
        xs_hit = reads = None
        if self.xs is not None and field in ("given", "family"):
            xs_hit, xs_tf = self.xs.agree(field, i, j)  # same name in two scripts
            exact |= xs_hit
            reads = self.xs.reads_as(field, i, j, exact)  # another reading of it: close
            null |= reads
            if field == "given":  # a kanji given name read another way: unknown, not far
                null |= self.xs.unreadable(i, j, exact)
                # "Kwon Gahee" / "Kwon Baekhyun" written family first: the word they share in
                # the given-name slot is a family name (the data holds it more often as one),
                # so it says nothing of the given name, which sits in the other slot
                fam_first = self._family_first(i, j) & exact & ~xs_hit
                exact &= ~fam_first
                null |= fam_first
        todo = np.flatnonzero(~null & ~exact)
        labels = LEVELS[comp.kind]
        top = len(labels) - 1
        level = np.ones(n, np.int8)
        level[null] = 0
        level[exact] = top
        sim = np.full(n, np.nan, np.float32)
        sim[exact] = 1.0
        if reads is not None:
            level[reads] = labels.index("close")
            sim[reads] = 0.9
        tf_code = np.where(exact, tf_side, -1)
        if xs_hit is not None:
            tf_code = np.where(xs_hit, xs_tf, tf_code)
        kind = comp.kind
        shared = persons = None
        if field in self.persons:
            persons = np.where(exact, self.persons[field][np.maximum(ci, 0)], 0)
            shared = exact & (persons >= (comp.shared_persons or 2))
            if field == "address" and "street_number" in self.codes.columns:
                # with the house number in its own column the address is a street: many
                # people live on one, and the number's own comparison tells them apart
                sn = self.codes.get("street_number")
                shared &= (sn[i] < 0) & (sn[j] < 0)
            persons = np.where(shared, persons, 0)
        if not fuzzy:
            pending = np.zeros(n, bool)
            if kind in FUZZY_LEVELS:
                pending[todo] = True
            if kind == "email":
                dc = self.codes.get("email_domain")
                pending[todo] = dc[i[todo]] == dc[j[todo]]
                lc = self.codes.get("email_local")
                level[todo[lc[i[todo]] == lc[j[todo]]]] = 2
            elif kind == "phone":
                tc = self.codes.get("phone_tail")
                level[todo[(tc[i[todo]] >= 0) & (tc[i[todo]] == tc[j[todo]])]] = 2
                level[exact & (self.counts[field][np.maximum(ci, 0)] >= comp.shared_at)] = 3
                if shared is not None:
                    level[shared] = 3
            return Compared(
                level=level,
                sim=sim,
                tf_code=tf_code,
                pending=pending,
                shared=shared,
                persons=persons,
            )
        a = self._strings(field, i[todo])
        b = self._strings(field, j[todo])
        if kind in ("name", "given_name", "text"):
            s = _jw(a, b)
            sim[todo] = s
            if kind == "text":
                level[todo[s >= comp.mid]] = 2
                level[todo[s >= comp.close]] = 3
            else:
                level[todo[s >= comp.close]] = 2
            if kind == "given_name":
                nick = self._is_nickname(ci[todo], cj[todo], a, b, s, i[todo], j[todo])
                level[todo[nick]] = 3
                sim[todo[nick]] = np.maximum(sim[todo[nick]], 0.95)
        elif kind in ("identifier", "date"):
            d = _osa(a, b)
            longest = np.maximum(self._len(field)[i[todo]], self._len(field)[j[todo]])
            sim[todo] = np.clip(1.0 - d / np.maximum(longest, 1), 0.0, 1.0)
            close = d <= 1
            if kind == "date":
                close |= _day_month_swapped(a, b)
            level[todo[close]] = 2
        elif kind == "email":
            # a similar local part at another domain is mostly the name again (john.smith71@
            # vs john.smith@): only a typo at the same domain counts as close
            # a typo is one edit at the same domain, and not a digit added or changed
            # (adam.brown38@ vs adam.brown@ are two people named Adam Brown)
            la = self._strings("email_local", i[todo])
            lb = self._strings("email_local", j[todo])
            s = _jw(la, lb)
            sim[todo] = s * 0.9
            dc = self.codes.get("email_domain")
            same_domain = np.flatnonzero(dc[i[todo]] == dc[j[todo]])
            if len(same_domain):
                xa, xb = la[same_domain], lb[same_domain]
                one = np.flatnonzero(_osa(xa, xb) <= 1)
                typo = one[~_digits_only_difference(xa[one], xb[one])]
                level[todo[same_domain[typo]]] = 3
            lc = self.codes.get("email_local")
            same_local = lc[i[todo]] == lc[j[todo]]
            level[todo[same_local]] = 2
        elif kind == "phone":
            tc = self.codes.get("phone_tail")
            tail = (tc[i[todo]] >= 0) & (tc[i[todo]] == tc[j[todo]])
            level[todo[tail]] = 2
            sim[todo] = np.where(tail, 0.7, 0.0)
            level[exact & (self.counts[field][np.maximum(ci, 0)] >= comp.shared_at)] = 3
            if shared is not None:
                level[shared] = 3
        elif kind == "exact":
            sim[todo] = 0.0
        return Compared(level=level, sim=sim, tf_code=tf_code, shared=shared, persons=persons)

    def _is_nickname(
        self,
        ci: np.ndarray,
        cj: np.ndarray,
        a: np.ndarray,
        b: np.ndarray,
        s: np.ndarray,
        ii: np.ndarray,
        jj: np.ndarray,
    ) -> np.ndarray:
        k = np.int64(max(int(self.codes.get("given").max()) + 1, 1))
        out = (
            np.isin(ci.astype(np.int64) * k + cj, self._nick)
            if len(self._nick)
            else np.zeros(len(ci), bool)
        )
        # an initial on one side ("j" / "john") or a prefix ("chris" / "christopher")
        la = self._len("given")[ii]
        lb = self._len("given")[jj]
        short = np.flatnonzero(((la <= 2) | (lb <= 2) | (s >= 0.8)) & ~out & (s < 0.88))
        if len(short):
            pre = np.fromiter(
                (
                    (y.startswith(x) if len(x) <= len(y) else x.startswith(y))
                    and (min(len(x), len(y)) == 1 or min(len(x), len(y)) >= 3)
                    for x, y in zip(a[short], b[short], strict=True)
                ),
                bool,
                len(short),
            )
            out[short[pre]] = True
        return out


def _nickname_pairs(codes: np.ndarray, uniques: np.ndarray, nicknames: dict) -> np.ndarray:
    """Encoded (code_a, code_b) pairs of given names that are nickname variants of each other."""
    vocab = {str(v): k for k, v in enumerate(uniques)}
    k = max(int(codes.max()) + 1, 1) if len(codes) else 1
    out: set[int] = set()
    for canon, variants in sorted(nicknames.items()):
        group = sorted({str(canon).casefold(), *(str(v).casefold() for v in variants)})
        present = [vocab[g] for g in group if g in vocab]
        for x in present:
            for y in present:
                if x != y:
                    out.add(x * k + y)
    return np.array(sorted(out), np.int64)


def _jw(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    from rapidfuzz.distance import JaroWinkler
    from rapidfuzz.process import cpdist

    if len(a) == 0:
        return np.zeros(0, np.float32)
    return cpdist(
        list(a), list(b), scorer=JaroWinkler.normalized_similarity, workers=WORKERS
    ).astype(np.float32)


def _osa(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    from rapidfuzz.distance import OSA
    from rapidfuzz.process import cpdist

    if len(a) == 0:
        return np.zeros(0, np.int32)
    return cpdist(list(a), list(b), scorer=OSA.distance, workers=WORKERS)


def _lev_sim(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    from rapidfuzz.distance import Levenshtein
    from rapidfuzz.process import cpdist

    if len(a) == 0:
        return np.zeros(0, np.float32)
    return cpdist(
        list(a), list(b), scorer=Levenshtein.normalized_similarity, workers=WORKERS
    ).astype(np.float32)


def _digits_only_difference(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    strip = str.maketrans("", "", "0123456789")
    return np.fromiter(
        (x.translate(strip) == y.translate(strip) for x, y in zip(a, b, strict=True)), bool, len(a)
    )


def _day_month_swapped(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return np.fromiter(
        (
            len(x) == 8 and len(y) == 8 and x[:4] == y[:4] and x[4:6] == y[6:8] and x[6:8] == y[4:6]
            for x, y in zip(a, b, strict=True)
        ),
        bool,
        len(a),
    )
