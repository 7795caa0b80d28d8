"""The rule table every score is built from: one row per check that ran, with its pass rate.

The validate stage reports each rule it ran (`Validation.checked`), failures or not. Findings of
other stages (sources, normalize) and duplicates found by match have no such row, so they are
added here as pseudo-rules measured against the entity's row count.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from audit.columnwise import isin
from audit.model import Issues, Matches

RULE_COLUMNS = [
    "rule_id",
    "entity",
    "field",
    "dimension",
    "severity",
    "n_checked",
    "n_failed",
    "pass_rate",
    "status",
    "origin",
]
DUPLICATE_RULE = "match.duplicate.records"
DUPLICATE_BANDS = ("auto", "review")


def _groups(pairs: pd.DataFrame) -> Callable[[str], str]:
    """Union-find over duplicate pairs: find(record) gives its group's smallest record id."""
    parent: dict[str, str] = {}

    def find(x: str) -> str:
        while parent.setdefault(x, x) != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    for a, b in zip(
        pairs["record_id_l"].astype(str), pairs["record_id_r"].astype(str), strict=True
    ):
        ra, rb = find(a), find(b)
        if ra != rb:
            parent[max(ra, rb)] = min(ra, rb)
    return find


def _text(v: object) -> str:
    return "" if v is None or (isinstance(v, float) and v != v) or v is pd.NA else str(v)


def _texts(s: pd.Series) -> pd.Series:
    """`_text` of every value, column-wise."""
    obj = s.astype("object")
    return obj.where(obj.notna(), "").astype(str)


def duplicate_excess(matches: Matches, *, with_members: bool = True) -> tuple[int, set[str]]:
    """(records beyond one per duplicate cluster, ids of every record in such a cluster).

    Without `with_members` the ids are not gathered (an empty set) and the clusters' sizes are
    counted on Arrow codes of their ids, not on a Python string per clustered record.
    """
    cl = matches.clusters if matches is not None else None
    if cl is not None and not cl.empty and {"cluster_id", "record_id"} <= set(cl.columns):
        if "band" in cl.columns:
            cl = cl[cl["band"].astype("object").isin(DUPLICATE_BANDS)]
        if not with_members:
            sizes_of = _cluster_sizes(cl)
            if sizes_of is not None:
                return int((sizes_of[sizes_of > 1] - 1).sum()), set()
        sizes = cl.groupby("cluster_id")["record_id"].nunique()
        sizes = sizes[sizes > 1]
        inside = cl.loc[isin(cl["cluster_id"], sizes.index), "record_id"]
        members = set(inside.astype(str).tolist())  # tolist: not one Arrow scalar per row
        return int((sizes - 1).sum()), members
    pairs = matches.pairs if matches is not None else None
    if pairs is None or pairs.empty or "band" not in pairs:
        return 0, set()
    p = pairs[pairs["band"].astype("object").isin(DUPLICATE_BANDS)]
    members = set(p["record_id_l"].astype(str)) | set(p["record_id_r"].astype(str))
    # without clusters, count connected groups by union-find over the pairs
    find = _groups(p)
    groups = {find(m) for m in members}
    return len(members) - len(groups), members


def _cluster_sizes(cl: pd.DataFrame) -> np.ndarray | None:
    """Distinct record ids per cluster (missing ones not counted), as
    `groupby("cluster_id")["record_id"].nunique()` counts them; None where Arrow cannot code
    the ids."""
    try:
        c, r = _arrow_codes(cl["cluster_id"]), _arrow_codes(cl["record_id"])
    except (pa.ArrowException, TypeError, ValueError, UnicodeError):
        return None
    ok = (c >= 0) & (r >= 0)
    if not ok.any():
        return np.zeros(0, np.int64)
    width = int(r.max()) + 1  # a (cluster, record) pair as one integer
    key = np.unique(c[ok] * width + r[ok])
    return np.bincount(key // width, minlength=int(c.max()) + 1)


def _arrow_codes(col: pd.Series) -> np.ndarray:
    """Each cell's code among the column's distinct values (-1 where missing), by Arrow."""
    arr = pa.array(col.astype("str"), from_pandas=True)
    if isinstance(arr, pa.ChunkedArray):
        arr = arr.combine_chunks()
    enc = arr.dictionary_encode()
    return np.asarray(pc.fill_null(enc.indices, -1).to_numpy(zero_copy_only=False), np.int64)


def duplicate_extras(matches: Matches) -> set[str]:
    """Ids of the records beyond one per duplicate cluster: the rows a merge would remove.

    The survivor of each cluster stays; without a survivor flag the smallest id stays.
    """
    cl = matches.clusters if matches is not None else None
    if cl is not None and not cl.empty and {"cluster_id", "record_id"} <= set(cl.columns):
        if "band" in cl.columns:
            cl = cl[cl["band"].astype("object").isin(DUPLICATE_BANDS)]
        cl = cl.assign(record_id=cl["record_id"].astype(str))
        if "is_survivor" in cl.columns:
            flag = cl["is_survivor"]
            if pd.api.types.is_bool_dtype(flag) and not flag.hasnans:
                surv = flag.astype(bool)
            else:  # read back as text ("True" / "False") or with missing values
                surv = flag.astype("object").astype(str).str.lower().eq("true")
            cl = cl.assign(_keep=surv)
            kept = cl.groupby("cluster_id")["_keep"].transform("any")
            if not kept.all():  # the smallest id stays only where no survivor is flagged
                rest = cl[~kept.to_numpy()]
                first = rest["record_id"].eq(
                    rest.groupby("cluster_id")["record_id"].transform("min")
                )
                keep = cl["_keep"].to_numpy(copy=True)
                keep[np.flatnonzero(~kept.to_numpy())] = first.to_numpy(dtype=bool)
                cl = cl.assign(_keep=keep)
        else:
            first = cl["record_id"].eq(cl.groupby("cluster_id")["record_id"].transform("min"))
            cl = cl.assign(_keep=first)
        return set(cl.loc[~cl["_keep"], "record_id"].tolist())
    _, members = duplicate_excess(matches)
    if not members:
        return set()
    pairs = matches.pairs
    p = pairs[pairs["band"].astype("object").isin(DUPLICATE_BANDS)]
    find = _groups(p)
    return {m for m in members if find(m) != m}


def rule_table(
    checked: pd.DataFrame | None,
    issues: Issues,
    matches: Matches,
    n_rows: Mapping[str, int],
) -> pd.DataFrame:
    """One row per rule: counts, pass_rate, status (ok, empty, skipped, errored), origin."""
    rows: list[dict[str, object]] = []
    seen: set[str] = set()
    if checked is not None and not checked.empty:
        for r in checked.to_dict("records"):
            n_checked = r.get("n_checked")
            n_checked = -1 if n_checked is None or pd.isna(n_checked) else int(n_checked)
            status = _text(r.get("status")) or "ok"
            if n_checked < 0 or status in ("error", "errored", "failed_to_run"):
                status = "errored"
            rid = _text(r.get("rule_id"))
            seen.add(rid)
            rows.append(
                {
                    "rule_id": rid,
                    "entity": _text(r.get("entity")),
                    "field": _text(r.get("field")),
                    "dimension": _text(r.get("dimension")),
                    "severity": _text(r.get("severity")) or "error",
                    "n_checked": max(n_checked, 0),
                    "n_failed": int(r.get("n_failed") or 0) if status != "errored" else 0,
                    "status": status,
                    "origin": "validate",
                }
            )
    if issues is not None and len(issues):
        iss = issues[
            ~issues["rule_id"].astype("object").isin(seen)
            & ~_texts(issues["rule_id"]).str.startswith("match.")
            & issues["severity"].astype("object").isin(["error", "warning"])
            & issues["record_id"].notna()
        ]
        if len(iss):
            g = iss.groupby(["rule_id", "entity"], sort=True, dropna=False).agg(
                field=("field", "first"),
                dimension=("dimension", "first"),
                severity=("severity", "first"),
                n_failed=("record_id", "nunique"),
            )
            for (rid, entity), r in g.iterrows():
                n = int(n_rows.get(_text(entity), 0))
                rows.append(
                    {
                        "rule_id": _text(rid),
                        "entity": _text(entity),
                        "field": _text(r["field"]),
                        "dimension": _text(r["dimension"]) or "validity",
                        "severity": _text(r["severity"]),
                        "n_checked": max(n, int(r["n_failed"])),
                        "n_failed": int(r["n_failed"]),
                        "status": "ok",
                        "origin": "issues",
                    }
                )
    n_contacts = int(n_rows.get("contacts", 0))
    if n_contacts:  # fuzzy duplicates, beside any exact-key uniqueness rule of the packs
        excess, _ = duplicate_excess(matches, with_members=False)
        rows.append(
            {
                "rule_id": DUPLICATE_RULE,
                "entity": "contacts",
                "field": "",
                "dimension": "uniqueness",
                "severity": "error",
                "n_checked": n_contacts,
                "n_failed": excess,
                "status": "ok",
                "origin": "match",
            }
        )
    out = pd.DataFrame(rows, columns=[c for c in RULE_COLUMNS if c != "pass_rate"])
    out["n_checked"] = out["n_checked"].astype("int64")
    out["n_failed"] = out["n_failed"].astype("int64")
    with np.errstate(divide="ignore", invalid="ignore"):
        rate = 1 - out["n_failed"] / out["n_checked"].where(out["n_checked"] > 0)
    out["pass_rate"] = rate.where(out["status"] != "errored").clip(0, 1).astype("float64")
    out.loc[out["n_checked"].eq(0) & out["status"].eq("ok"), "status"] = "empty"
    return out[RULE_COLUMNS].sort_values("rule_id", kind="stable").reset_index(drop=True)
