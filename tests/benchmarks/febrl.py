"""FEBRL loading and pairwise scoring shared by the FEBRL accuracy script and its fast test."""

from __future__ import annotations

import itertools
from pathlib import Path

import pandas as pd


def read_febrl(path: Path) -> pd.DataFrame:
    return pd.read_csv(path, dtype=str, skipinitialspace=True, keep_default_na=False).replace(
        "", None
    )


def entity(ids: pd.Series) -> pd.Series:
    return ids.str.extract(r"^rec-(\d+)", expand=False)


def true_pairs_dedupe(df: pd.DataFrame) -> set[tuple[str, str]]:
    out: set[tuple[str, str]] = set()
    for _, grp in df.groupby(entity(df["rec_id"])):
        ids = sorted(grp["rec_id"])
        out.update(itertools.combinations(ids, 2))
    return out


def true_pairs_link(a: pd.DataFrame, b: pd.DataFrame) -> set[tuple[str, str]]:
    ea = dict(zip(entity(a["rec_id"]), a["rec_id"], strict=True))
    return {(ea[e], r) for e, r in zip(entity(b["rec_id"]), b["rec_id"], strict=True) if e in ea}


def prf(found: set[tuple[str, str]], truth: set[tuple[str, str]]) -> tuple[float, float, float]:
    tp = len(found & truth)
    p = tp / len(found) if found else 1.0
    r = tp / len(truth) if truth else 1.0
    f1 = 2 * p * r / (p + r) if p + r else 0.0
    return p, r, f1
