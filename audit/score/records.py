"""Per-record health: validity, completeness, duplicate risk, email health and staleness.

One row per record of every entity. Each component is 1 (no finding), 0.5 (warnings only) or
0 (an error), however many rules check it, so an owner's mean of a component reads as the
share of their records that are clean in it (a warned record counts half), the way dimension
scores are shares of clean rows. A
component that does not apply (email health of a deal) is left empty and the record score is
the mean of the rest.
Owners are ranked on the same numbers, which makes a CRM adoption problem visible by rep.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from audit.columnwise import positions_in, shared_objects
from audit.model import Issues, Matches, Records

COMPONENTS = ("validity", "completeness", "duplicate_risk", "email_health", "freshness")
RECORD_COLUMNS = [
    "record_id",
    "entity",
    "source",
    "owner",
    "score",
    *COMPONENTS,
    "n_errors",
    "n_warnings",
]
SKIP_FILL = {"record_id", "source", "source_file", "source_row", "extra"}


def _fill_share(frame: pd.DataFrame) -> pd.Series:
    """Share of the columns this entity actually carries (any value anywhere) that are filled."""
    cols = [c for c in frame.columns if c not in SKIP_FILL and frame[c].notna().any()]
    if not cols:
        return pd.Series(1.0, index=frame.index)
    return frame[cols].notna().mean(axis=1).astype("float64")


def record_scores(
    records: Records, issues: Issues, matches: Matches, rules: pd.DataFrame
) -> pd.DataFrame:
    iss = issues if issues is not None and len(issues) else None
    if iss is not None:
        iss = iss[
            iss["record_id"].notna() & iss["severity"].astype("object").isin(["error", "warning"])
        ]
        iss = pd.DataFrame(
            {
                "record_id": iss["record_id"].astype(str).to_numpy(),
                "entity": iss["entity"].astype("object").to_numpy(),
                "field": iss["field"].astype("object").fillna("").astype(str).to_numpy(),
                "dim": iss["dimension"].astype("object").fillna("").astype(str).to_numpy(),
                "sev": iss["severity"].astype(str).to_numpy(dtype=object),
                "has_rule": iss["rule_id"].notna().to_numpy(dtype=bool),
            }
        )
    pair_risk = pd.Series(dtype="float64")
    pairs = matches.pairs if matches is not None else None
    if pairs is not None and not pairs.empty and {"score", "band"} <= set(pairs.columns):
        p = pairs[pairs["band"].astype("object").isin(["auto", "review"])]
        both = pd.concat(
            [
                pd.DataFrame({"rid": p["record_id_l"].astype(str), "s": p["score"]}),
                pd.DataFrame({"rid": p["record_id_r"].astype(str), "s": p["score"]}),
            ]
        )
        pair_risk = both.groupby("rid")["s"].max().astype("float64")
    pieces: list[dict[str, pd.Series]] = []
    for entity, frame in sorted(records.items()):
        if frame is None or frame.empty:
            continue
        # no new Python string per row: the owners stay objects to the end of the run
        ids = shared_objects(frame["record_id"], as_text=True)
        # the entity's columns stay apart (no frame, no block of floats) until they are put in
        # record id order one column at a time below
        out: dict[str, Any] = {
            "record_id": pd.Series(ids),
            "entity": pd.Series(entity, index=pd.RangeIndex(len(ids))),
            "source": pd.Series(shared_objects(frame["source"])),
            "owner": pd.Series(
                shared_objects(frame["owner"])
                if "owner" in frame
                else np.full(len(frame), None, dtype=object)
            ),
        }
        ent_rules = rules[
            rules["entity"].eq(entity) & rules["status"].eq("ok") & rules["severity"].ne("info")
        ]
        n_comp_rules = int(ent_rules["dimension"].eq("completeness").sum())
        # each record's findings as flags per (component, severity) and counts per severity,
        # gathered with one lookup of the findings' record ids among the entity's ids
        ids_of = _IdLookup(out["record_id"], ids)
        row_of, k = ids_of.row_of, ids_of.k
        flag: dict[tuple[str, str], np.ndarray] = {}
        count: dict[str, np.ndarray] = {}
        mine = iss[iss["entity"] == entity] if iss is not None else None
        if mine is not None and len(mine):
            at = ids_of.find(mine["record_id"])
            dim, sev, field = mine["dim"].to_numpy(), mine["sev"].to_numpy(), mine["field"]
            parts = {
                "validity": np.isin(dim, ["validity", "consistency", "integrity"]),
                "completeness": dim == "completeness",
                "email": field.str.startswith("email").to_numpy(dtype=bool),
                "freshness": dim == "freshness",
            }
            for level in ("error", "warning"):
                hit = (sev == level) & (at >= 0)
                count[level] = np.bincount(at[hit], minlength=k)[row_of]
                # a component counts rules broken, so a finding without a rule id flags nothing
                ruled = hit & mine["has_rule"].to_numpy()
                for name, mask in parts.items():
                    seen = np.zeros(k, bool)
                    seen[at[ruled & mask]] = True
                    flag[(name, level)] = seen[row_of]

        def penalty(name: str, _flag: dict = flag, _n: int = len(ids)) -> np.ndarray:
            none = np.zeros(_n, bool)
            err, warn = _flag.get((name, "error"), none), _flag.get((name, "warning"), none)
            return np.where(err, 1.0, np.where(warn, 0.5, 0.0))

        out["validity"] = 1 - penalty("validity")
        if n_comp_rules:
            out["completeness"] = 1 - penalty("completeness")
        else:
            out["completeness"] = _fill_share(frame).to_numpy()
        out["duplicate_risk"] = 1 - ids_of.values_of(pair_risk) if entity == "contacts" else np.nan
        if entity == "contacts":
            email_ok = frame["email"].notna().to_numpy()
            out["email_health"] = np.where(email_ok, 1 - penalty("email"), 0.0)
        else:
            out["email_health"] = np.nan
        out["freshness"] = 1 - penalty("freshness")
        out["score"] = _mean_of(_column(out[c], len(ids)) for c in COMPONENTS)
        zero = np.zeros(len(ids), np.int64)
        out["n_errors"] = count.get("error", zero).astype("int64")
        out["n_warnings"] = count.get("warning", zero).astype("int64")
        pieces.append({c: _column(out[c], len(ids)) for c in RECORD_COLUMNS})
    if not pieces:
        return pd.DataFrame({c: pd.Series(dtype="object") for c in RECORD_COLUMNS})
    # one column at a time: concatenated, put in id order and its parts let go, so the rows
    # exist about once over (a concatenated frame and its sorted copy were two more copies of
    # 3.4M rows at 1M contacts)
    columns = {}
    for c in RECORD_COLUMNS:
        joined = pd.concat([p.pop(c) for p in pieces], ignore_index=True)
        if c == "record_id":
            order = _id_order(joined)
        columns[c] = joined.take(order).reset_index(drop=True)
        del joined
    return pd.DataFrame(columns, copy=False)


class _IdLookup:
    """The record ids of one entity as codes: each row's code (`row_of`: the position of the
    first row with its id, or the id's place among the distinct ones), and lookups of ids.

    Arrow text is hashed in Arrow, with no Python string per id (at 1M contacts the entities
    hold 3.4M ids); missing ids, or ids Arrow does not hold, go through pandas as before.
    """

    def __init__(self, rid: pd.Series, ids: np.ndarray) -> None:
        self.ids = ids
        keys = None
        if rid.dtype == "str":
            try:
                keys = pa.array(rid, from_pandas=True)
            except (pa.ArrowException, TypeError):
                keys = None
        if isinstance(keys, pa.ChunkedArray):
            keys = keys.combine_chunks()
        self.keys = keys if keys is not None and keys.null_count == 0 else None
        if self.keys is not None:
            self.row_of = positions_in(self.keys, self.keys)
            self.k = len(self.keys)
        else:
            self.row_of, uniq = pd.factorize(ids)
            self.uniq = pd.Index(uniq)
            self.k = len(uniq)

    def _arrow(self, values: Any) -> pa.Array | None:
        if self.keys is None:
            return None
        try:
            return pa.array(values, from_pandas=True, type=pa.string())
        except (pa.ArrowException, TypeError):
            return None

    def find(self, wanted: pd.Series) -> np.ndarray:
        """The code of each wanted id, -1 where no row has it."""
        w = self._arrow(wanted)
        if w is not None:
            return positions_in(w, self.keys)
        if self.keys is None:
            return self.uniq.get_indexer(wanted.to_numpy(dtype=object))
        first = np.flatnonzero(self.row_of == np.arange(self.k))
        at = pd.Index(self.ids[first]).get_indexer(wanted.to_numpy(dtype=object))
        return np.where(at >= 0, first[at], -1)

    def values_of(self, by_id: pd.Series) -> np.ndarray:
        """`by_id` (a float per distinct id) at each row, 0 where it has none or is NaN."""
        index = self._arrow(by_id.index.to_numpy(dtype=object)) if len(by_id) else None
        if index is None:
            return by_id.reindex(self.ids).fillna(0).to_numpy(dtype="float64")
        pos = positions_in(self.keys, index)
        got = np.where(pos >= 0, by_id.to_numpy(dtype="float64")[np.maximum(pos, 0)], np.nan)
        return np.where(np.isnan(got), 0.0, got)


def _column(values: Any, n: int) -> pd.Series:
    """A component as a column of n rows (a scalar, such as NaN where it does not apply,
    repeated as a frame would)."""
    if isinstance(values, pd.Series):
        return values
    if np.ndim(values) == 0:
        return pd.Series(np.full(n, values, dtype="float64"))
    return pd.Series(values)


def _mean_of(columns: Iterable[Any]) -> np.ndarray:
    """The row mean of the components, skipping the empty ones (NaN where all are empty), as
    `frame.mean(axis=1)` gives it."""
    stack = np.column_stack([np.asarray(c, dtype="float64") for c in columns])
    return pd.DataFrame(stack).mean(axis=1, skipna=True).to_numpy()


def _id_order(ids: pd.Series) -> np.ndarray:
    """A stable sort by record id in Python's string order (Arrow compares code points too,
    without a Python comparison per step); ids Arrow cannot hold fall back to numpy."""
    try:
        # Arrow text is sorted as it is: no Python string per id on the way
        arr = pa.array(ids, from_pandas=True)
        if not pa.types.is_string(arr.type) and not pa.types.is_large_string(arr.type):
            arr = pa.array(ids.to_numpy(dtype=object), type=pa.string())
    except (pa.ArrowException, UnicodeError):
        return np.argsort(ids.to_numpy(dtype=object), kind="stable")
    return pc.sort_indices(arr).to_numpy()


def owner_scores(by_record: pd.DataFrame) -> pd.DataFrame:
    """Per owner: mean record score and components, counts, and the weakest component."""
    cols = ["owner", "score", "n_records", "n_errors", "n_warnings", *COMPONENTS, "weakest"]
    rows = by_record[by_record["owner"].notna()]
    if rows.empty:
        return pd.DataFrame({c: pd.Series(dtype="object") for c in cols})
    rows = rows.assign(owner=rows["owner"].astype(str).str.strip())
    g = rows.groupby("owner", sort=True)
    out = g[["score", *COMPONENTS]].mean()
    out["n_records"] = g.size()
    out["n_errors"] = g["n_errors"].sum()
    out["n_warnings"] = g["n_warnings"].sum()
    comp = out[list(COMPONENTS)]
    out["weakest"] = comp.apply(lambda r: r.dropna().idxmin() if r.notna().any() else None, axis=1)
    out = out.reset_index()
    return out[cols].sort_values(["score", "owner"], kind="stable").reset_index(drop=True)
