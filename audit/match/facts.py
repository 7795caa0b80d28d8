"""Facts about values that only the whole data set knows: how many people share each value.

A switchboard number, an office@ inbox or a company's street address is held by many different
people, so two records agreeing on it says little about whether they are one person. Such facts
are computed once, over all records, in a first pass (`value_facts`) and handed to the engine as an
argument; a stage working on one partition (Spark) must not recount them from the rows it sees.

A "person" here is approximated by the initials of the given and family name, in either order
(given names mapped to their nickname group first): typos, case, Bob for Robert and swapped
name order do not change it, while colleagues (Don, Ed, Kate) and household members (Ann, Tom)
mostly differ in it. Records holding the same value are one person when they share that key, the
whole name (also read across scripts), a personal email address, a national id or a birth
date.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import cache

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from audit.match.blocking import Codes

# matching features whose exact agreement is weighed by the number of people sharing the value
SHARED_FIELDS = ("phone", "email", "address")


@dataclass(frozen=True)
class ValueFacts:
    """feature -> value -> number of distinct people holding it (values held by one are absent)."""

    persons: dict[str, pd.Series] = field(default_factory=dict)

    def persons_of(self, name: str, values: np.ndarray) -> np.ndarray:
        """People sharing each of `values` (1 for a value only one person holds)."""
        s = self.persons.get(name)
        if s is None or len(s) == 0 or len(values) == 0:
            return np.ones(len(values), np.int64)
        got = s.reindex(pd.Index(values, dtype=object)).to_numpy(dtype=float)
        return np.nan_to_num(got, nan=1.0).astype(np.int64)


@cache
def role_locals() -> frozenset[str]:
    """Mailbox names of shared role inboxes (info, office, sales, ...): the validate stage's list
    plus a few that B2B exports show often."""
    from audit.valuelists import domain_list

    return domain_list("role_locals") | frozenset(
        {"office", "team", "sales", "mail", "service", "reception", "kontakt", "orders", "shop"}
    )


def is_role_email(emails: np.ndarray) -> np.ndarray:
    """True for role mailboxes (info@, office@, sales+eu@): they reach a team, not one person."""
    arr = pa.array(np.asarray(emails, dtype=object), type=pa.string(), from_pandas=True)
    local = pc.replace_substring_regex(pc.utf8_lower(arr), "[@+].*$", "")
    roles = pa.array(sorted(role_locals()), pa.string())
    return pc.fill_null(pc.is_in(local, value_set=roles), False).to_numpy(zero_copy_only=False)


def _codes(
    feats: pd.DataFrame, name: str, codes: Codes | None = None
) -> tuple[np.ndarray, pa.Array]:
    """Integer code per record (-1 = missing) and the distinct values, via Arrow (fast).

    With `codes` (the comparer's, for the same frame) a feature is encoded once for both."""
    if name not in feats.columns:
        return np.full(len(feats), -1, np.int64), pa.array([], pa.string())
    if codes is not None:
        return codes.get(name).astype(np.int64), codes.dictionary(name)
    arr = pa.array(feats[name], type=pa.string(), from_pandas=True)
    enc = pc.dictionary_encode(arr.combine_chunks() if isinstance(arr, pa.ChunkedArray) else arr)
    at = pc.fill_null(enc.indices, -1).to_numpy(zero_copy_only=False).astype(np.int64)
    return at, enc.dictionary


def person_key(
    feats: pd.DataFrame, nicknames: dict | None = None, codes: Codes | None = None
) -> np.ndarray:
    """Per record, a code that one person's records share despite typos, nicknames and swapped
    name order: the sorted initials of (canonical given name, family name); -1 without a given
    name."""
    canon: dict[str, str] = {}
    for name, variants in sorted((nicknames or {}).items()):
        for v in variants:
            canon.setdefault(str(v).casefold(), str(name).casefold())
    g, g_uniq = _codes(feats, "given", codes)
    f, f_uniq = _codes(feats, "family", codes)
    # initials as code points of the distinct values, broadcast back
    g_init = np.array([ord(canon.get(u, u)[:1] or " ") for u in g_uniq.to_pylist()] + [0])[g]
    f_init = np.array([ord(u[:1] or " ") for u in f_uniq.to_pylist()] + [0])[f]
    lo, hi = np.minimum(g_init, f_init), np.maximum(g_init, f_init)
    return np.where(g >= 0, lo * 0x110000 + hi, -1).astype(np.int64)


def value_facts(
    feats: pd.DataFrame,
    fields: Iterable[str] = SHARED_FIELDS,
    nicknames: dict | None = None,
    codes: Codes | None = None,
) -> ValueFacts:
    """People per value of each shared field, over every record of the data set (first pass).

    Values whose holders all carry one family name are not shared (a household's line is not a
    switchboard).

    Among the records holding a value, two are one person when they share the person key, the
    whole name, a personal email address, a national id or a birth date (so one person's typo,
    mis-split name or second address does not make them two); the people are what remains
    apart.
    """
    key = person_key(feats, nicknames, codes)
    person = np.where(key >= 0, pd.factorize(key)[0], -1)
    mail, uniq = _codes(feats, "email", codes)
    role = np.r_[is_role_email(uniq.to_numpy(zero_copy_only=False).astype(object)), True]
    mail = np.where(role[mail], -1, mail)  # code -1 reads the trailing True: missing
    # the family name's first letter survives typos and a CJK name split in the wrong place
    family = _codes(feats, "family_initial", codes)[0]
    # one person's records also share their whole name (whatever the split), a national id or
    # a birth date (namesakes and twins aside)
    same = [_codes(feats, c, codes)[0] for c in ("name", "ident", "dob")]
    # and one person written in two scripts (김민준 / Minjun Kim) shares a romanized reading of
    # the whole name in either word order (audit.match.xscript); all null for Latin-only data
    same += [
        _codes(feats, c, codes)[0]
        for c in sorted(feats.columns)
        if c.startswith(("xa_", "xb_")) and feats[c].notna().any()
    ]
    # a Japanese given name in kanji has many readings, so the whole name read in Latin
    # letters often differs: there, a Latin record sharing the value and the romanized family
    # name of a kanji / kana record is taken as that person (names a native record holds only)
    same += _native_family_links(feats, codes)
    persons: dict[str, pd.Series] = {}
    for name in fields:
        v, uniq = _codes(feats, name, codes)
        if len(uniq) == 0:
            continue
        # only values that records with two different person keys (or without one) hold can be
        # shared:
        # the linking below runs on their records alone, a small part of the data
        held = np.bincount(v[v >= 0], minlength=len(uniq))
        keys = _distinct(v, person, len(uniq))
        nameless = np.bincount(v[(v >= 0) & (person < 0)], minlength=len(uniq))
        maybe = (held >= 2) & ((keys >= 2) | (nameless > 0))
        sub = np.flatnonzero(maybe[np.maximum(v, 0)] & (v >= 0))
        n = np.zeros(len(uniq), np.int64)
        if len(sub):
            linkers = [person[sub], mail[sub], *(c[sub] for c in same)]
            n = _people_per_value(v[sub], linkers, len(uniq))
        # one family's members sharing their home line or address is a household, which the
        # household group of the match rules already weighs; people of two or more families
        # on one value are a company (or a shared inbox), and that value is no evidence
        # (no family name at all: nothing says it is one family, the people count stands)
        families = _distinct(v[sub], family[sub], len(uniq)) if len(sub) else n
        n = np.where(families != 1, n, np.minimum(n, 1))
        many = np.flatnonzero(n >= 2)
        values = uniq.take(pa.array(many)).to_numpy(zero_copy_only=False).astype(object)
        persons[name] = pd.Series(n[many], index=pd.Index(values, dtype=object))
    return ValueFacts(persons=persons)


def _native_family_links(feats: pd.DataFrame, codes: Codes | None = None) -> list[np.ndarray]:
    if "xs_script" not in feats.columns or "xf_ja" not in feats.columns:
        return []
    script = pd.to_numeric(feats["xs_script"], errors="coerce").fillna(0).to_numpy()
    native = np.isin(script, (3, 4))  # romanize.KANA, romanize.HAN
    if not native.any():
        return []
    out = []
    for col in ("xf_ja", "xfb_ja"):
        at, uniq = _codes(feats, col, codes)
        held = np.zeros(len(uniq) + 1, bool)
        held[at[native & (at >= 0)]] = True
        out.append(np.where((at >= 0) & held[at], at, -1))
    return out


def _distinct(value: np.ndarray, other: np.ndarray, n_values: int) -> np.ndarray:
    """Per value code, the number of distinct `other` codes among the records holding it."""
    ok = (value >= 0) & (other >= 0)
    width = int(other.max()) + 1 if ok.any() else 1
    pairs = pd.unique(value[ok].astype(np.int64) * width + other[ok])  # hashing, no sort
    return np.bincount(pairs // width, minlength=n_values)


def _people_per_value(value: np.ndarray, linkers: list[np.ndarray], n_values: int) -> np.ndarray:
    """Per value code: the groups its records form when two records holding it are linked by
    any of `linkers` (codes per record, -1 = unknown); records with no linker are not counted."""
    from scipy.sparse import coo_matrix
    from scipy.sparse.csgraph import connected_components

    rec = np.flatnonzero(value >= 0)
    v = value[rec].astype(np.int64)
    n_rec = len(rec)
    rows: list[np.ndarray] = []
    cols: list[np.ndarray] = []
    node_value: list[np.ndarray] = [np.full(n_rec, -1, np.int64)]  # record nodes: not counted
    offset = n_rec
    for codes in linkers:
        c = codes[rec]
        ok = c >= 0
        if not ok.any():
            continue
        key = v[ok] * (int(c.max()) + 1) + c[ok]
        node, uniq = pd.factorize(key)
        rows.append(np.flatnonzero(ok))
        cols.append(offset + node)
        node_value.append(uniq // (int(c.max()) + 1))
        offset += len(uniq)
    if not rows:
        return np.zeros(n_values, np.int64)
    r, c = np.concatenate(rows), np.concatenate(cols)
    graph = coo_matrix((np.ones(len(r), np.int8), (r, c)), shape=(offset, offset))
    _, comp = connected_components(graph, directed=False)
    nv = np.concatenate(node_value)
    used = nv >= 0
    width = int(comp.max()) + 1
    groups = np.unique(nv[used] * width + comp[used])
    return np.bincount(groups // width, minlength=n_values)


def personal_emails(values: Iterable[object]) -> set[str]:
    """The distinct personal (non-role, non-placeholder) addresses among `values`, lower case.

    Used by the merge safety net: a cluster holding two of them joins two people's mailboxes.
    """
    from audit.match.prepare import _email_placeholder

    vals = sorted({str(v).strip().lower() for v in values if v is not None and str(v).strip()})
    if not vals:
        return set()
    arr = np.array(vals, dtype=object)
    keep = ~is_role_email(arr) & ~_email_placeholder(pd.Series(arr, dtype=object))
    return set(arr[keep].tolist())


@dataclass(frozen=True)
class ValueCounts:
    """feature -> value -> number of records holding it, over the whole data set (first pass).

    A frame that is one partition of the data (Spark) cannot count its values itself: term
    frequencies, a phone's 'shared' level and u(exact) are global facts. Given these counts, a
    `Comparer` built on any subset of the records compares pairs exactly as one built on all of
    them.
    """

    counts: dict[str, pd.Series] = field(default_factory=dict)

    def of(self, name: str, values: np.ndarray) -> np.ndarray:
        """Records holding each of `values` (0 for a value not counted)."""
        s = self.counts.get(name)
        if s is None or len(s) == 0 or len(values) == 0:
            return np.zeros(len(values), np.int64)
        got = s.reindex(pd.Index(values, dtype=object)).to_numpy(dtype=float)
        return np.nan_to_num(got, nan=0.0).astype(np.int64)

    def total(self, name: str) -> int:
        """Records holding any value of `name`."""
        s = self.counts.get(name)
        return int(s.sum()) if s is not None else 0

    def values(self, name: str) -> set[str]:
        """The distinct values of `name` held by any record."""
        s = self.counts.get(name)
        return {str(v) for v in s.index[s.to_numpy() > 0]} if s is not None else set()

    def all_counts(self, name: str) -> np.ndarray:
        """Every value's count (in no particular order), for sums over all values."""
        s = self.counts.get(name)
        return s.to_numpy(np.int64) if s is not None else np.zeros(0, np.int64)


def value_counts(feats: pd.DataFrame, names: Iterable[str]) -> ValueCounts:
    """Records per value of each feature in `names` that `feats` has (the pandas first pass)."""
    out: dict[str, pd.Series] = {}
    for name in names:
        if name not in feats.columns:
            continue
        codes, uniq = _codes(feats, name)
        n = np.bincount(codes[codes >= 0], minlength=len(uniq))
        values = uniq.to_numpy(zero_copy_only=False).astype(object)
        out[name] = pd.Series(n.astype(np.int64), index=pd.Index(values, dtype=object))
    return ValueCounts(counts=out)
