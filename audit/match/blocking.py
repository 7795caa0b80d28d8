"""Blocking keys -> candidate pairs, as numpy arrays, counted before they are generated.

Every key value becomes an integer code; records are sorted by code once per rule and all pairs
inside each block are produced with `np.repeat` arithmetic, never a Python loop per block (the
shape that keeps 1M records in seconds, DESIGN.md). Blocks larger than the rule's `max_block`
(a switchboard phone, a very common name) are skipped and reported, so skewed keys cannot blow up
the pair count.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from audit.match.rules import BlockingRule


def as_arrow(series: pd.Series) -> pa.Array:
    """A text column as one contiguous Arrow string array (nulls for missing)."""
    arr = pa.array(series, type=pa.string(), from_pandas=True)
    return arr.combine_chunks() if isinstance(arr, pa.ChunkedArray) else arr


class Codes:
    """Integer codes per feature (-1 = missing), computed once and shared by all rules.

    Codes are int32 (a code is below the number of records); products of codes are taken in
    int64 (`key`, the nickname and pair keys). `release` encodes every column and lets go of
    the frame: from then on the codes and their dictionaries hold all a comparison reads.
    """

    def __init__(self, frame: pd.DataFrame) -> None:
        self.frame: pd.DataFrame | None = frame
        self.n = len(frame)
        self.columns = tuple(frame.columns)
        self._cache: dict[str, np.ndarray] = {}
        self._uniques: dict[str, np.ndarray] = {}
        self._dicts: dict[str, pa.Array] = {}

    def get(self, name: str) -> np.ndarray:
        if name not in self._cache:
            if self.frame is None:
                raise KeyError(name)
            enc = pc.dictionary_encode(as_arrow(self.frame[name]))
            idx = pc.fill_null(enc.indices, -1).to_numpy(zero_copy_only=False)
            self._cache[name] = idx.astype(np.int32, copy=False)
            self._dicts[name] = enc.dictionary
        return self._cache[name]

    def release(self) -> None:
        """Encode every column now and drop the frame (the caller may then free it)."""
        for name in self.columns:
            self.get(name)
        self.frame = None

    def all_missing(self, name: str) -> bool:
        """True when no record holds a value of `name`."""
        return not (self.get(name) >= 0).any()

    def dictionary(self, name: str) -> pa.Array:
        """The Arrow array of distinct values behind `get(name)`'s codes."""
        self.get(name)
        return self._dicts[name]

    def uniques(self, name: str) -> np.ndarray:
        """The distinct values behind `get(name)`'s codes, in code order."""
        self.get(name)
        if name not in self._uniques:
            d = self._dicts[name]
            self._uniques[name] = d.to_numpy(zero_copy_only=False).astype(object)
        return self._uniques[name]

    def key(self, names: list[str]) -> np.ndarray:
        """One code per record for a combination of features (-1 when any part is missing)."""
        out = self.get(names[0]).astype(np.int64)
        for name in names[1:]:
            c = self.get(name)
            width = int(c.max()) + 2 if len(c) else 1
            missing = (out < 0) | (c < 0)
            out = out * width + c
            out[missing] = -1
            if len(names) > 2:  # keep the codes small so later products cannot overflow
                valid = out >= 0
                out[valid] = pd.factorize(out[valid])[0]
        return out


def block_stats(key: np.ndarray, max_block: int) -> tuple[np.ndarray, np.ndarray, dict[str, int]]:
    """Sorted record order, block sizes, and counts; the pairs themselves are not made here."""
    idx = np.flatnonzero(key >= 0)
    order = idx[np.argsort(key[idx], kind="stable")]
    k = key[order]
    if len(k) == 0:
        return order, np.zeros(0, np.int64), {"pairs": 0, "skipped_keys": 0, "skipped_pairs": 0}
    starts = np.flatnonzero(np.r_[True, k[1:] != k[:-1]])
    sizes = np.diff(np.r_[starts, len(k)])
    block_pairs = sizes * (sizes - 1) // 2
    over = sizes > max_block
    counts = {
        "pairs": int(block_pairs[~over].sum()),
        "skipped_keys": int(over.sum()),
        "skipped_pairs": int(block_pairs[over].sum()),
    }
    return order, sizes, counts


def block_pairs(key: np.ndarray, max_block: int) -> tuple[np.ndarray, np.ndarray, dict[str, int]]:
    """All pairs (i < j) of records sharing a key value, from blocks of 2..max_block records."""
    order, sizes, counts = block_stats(key, max_block)
    if counts["pairs"] == 0:
        empty = np.zeros(0, np.int64)
        return empty, empty, counts
    starts = np.r_[0, np.cumsum(sizes)[:-1]]
    keep = (sizes >= 2) & (sizes <= max_block)
    s = sizes[keep]
    st = starts[keep]
    # every element at local position p of a block of size s pairs with the s-1-p after it
    elem_start = np.repeat(st, s)
    elem_size = np.repeat(s, s)
    elem_pos = np.arange(len(elem_start)) - np.repeat(np.cumsum(s) - s, s)
    cnt = elem_size - 1 - elem_pos
    first = np.repeat(elem_start + elem_pos, cnt)
    offs = np.arange(len(first)) - np.repeat(np.cumsum(cnt) - cnt, cnt)
    a = order[first]
    b = order[first + 1 + offs]
    return np.minimum(a, b), np.maximum(a, b), counts


def candidate_pairs(
    codes: Codes,
    rules: list[BlockingRule],
    side: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray, dict[str, dict[str, int]]]:
    """Union of the pairs of every rule, sorted by (i, j), and the counts per rule.

    With `side` (0/1 per record) only pairs across the two sides are kept (linking two files).
    """
    n = codes.n
    stats: dict[str, dict[str, int]] = {}
    ids: list[np.ndarray] = []
    for rule in rules:
        if any(codes.all_missing(k) for k in rule.keys):
            continue
        a, b, counts = block_pairs(codes.key(rule.keys), rule.max_block)
        if side is not None and len(a):
            cross = side[a] != side[b]
            a, b = a[cross], b[cross]
            counts["pairs_across"] = int(cross.sum())
        stats[rule.id] = counts
        ids.append(a.astype(np.int64) * n + b)
    if not ids:
        empty = np.zeros(0, np.int64)
        return empty, empty, stats
    all_ids = np.concatenate(ids)
    all_ids.sort()  # a plain sort + diff is several times faster than np.unique here
    uniq = all_ids[np.r_[True, all_ids[1:] != all_ids[:-1]]] if len(all_ids) else all_ids
    return uniq // n, uniq % n, stats
