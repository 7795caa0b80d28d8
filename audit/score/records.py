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
# How the table holds its numbers: a component that is 1, 0.5, 0 or empty by construction
# (the findings' flags) as float32, which holds those four values exactly; the counts as
# int32. The other components (a fill share, a pair score) and the record score stay float64.
# `stored_record_scores` gives the float64 and int64 columns back, so the Parquet file and
# every figure computed from it are what they were. At 1M contacts (3.4M rows) this and the
# entity as a categorical keep about 120 MB less through the report.
COMPACT = {
    "validity": "float32",
    "completeness": "float64",
    "duplicate_risk": "float64",
    "email_health": "float32",
    "freshness": "float32",
    "score": "float64",
    "n_errors": "int32",
    "n_warnings": "int32",
}
STORED = {c: "int64" if c.startswith("n_") else "float64" for c in COMPACT}


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
    entities = sorted(e for e, f in records.items() if f is not None and not f.empty)
    pieces: list[dict[str, Any]] = []
    for code, entity in enumerate(entities):
        frame = records[entity]
        n = len(frame)
        # the ids stay Arrow text (no Python string per id, 3.4M at 1M contacts); the owners
        # and sources share one Python string per distinct value, as the old table did
        ids_of = _IdLookup(frame["record_id"])
        out: dict[str, Any] = {
            "record_id": ids_of.text,
            "entity": np.full(n, code, dtype=np.int8),
            "source": pd.Series(shared_objects(frame["source"])),
            "owner": pd.Series(
                shared_objects(frame["owner"])
                if "owner" in frame
                else np.full(n, None, dtype=object)
            ),
        }
        ent_rules = rules[
            rules["entity"].eq(entity) & rules["status"].eq("ok") & rules["severity"].ne("info")
        ]
        n_comp_rules = int(ent_rules["dimension"].eq("completeness").sum())
        # each record's findings as flags per (component, severity) and counts per severity,
        # gathered with one lookup of the findings' record ids among the entity's ids
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

        def penalty(name: str, _flag: dict = flag, _n: int = n) -> np.ndarray:
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
        out["score"] = _mean_of(_values(out[c], n) for c in COMPONENTS)
        zero = np.zeros(n, np.int32)
        out["n_errors"] = count.get("error", zero)
        out["n_warnings"] = count.get("warning", zero)
        for c in (*COMPONENTS, "score", "n_errors", "n_warnings"):
            out[c] = _values(out[c], n).astype(COMPACT[c], copy=False)
        pieces.append(out)
    if not pieces:
        return pd.DataFrame({c: pd.Series(dtype="object") for c in RECORD_COLUMNS})
    # one column at a time: concatenated, put in id order and its parts let go, so the rows
    # exist about once over (a concatenated frame and its sorted copy were two more copies of
    # 3.4M rows at 1M contacts)
    ids = pa.chunked_array([p.pop("record_id") for p in pieces], type=pa.large_string())
    order = pc.sort_indices(ids).to_numpy()
    columns: dict[str, Any] = {"record_id": _text_series(ids.take(order))}
    del ids
    for c in RECORD_COLUMNS[1:]:
        parts_c = [p.pop(c) for p in pieces]
        if c in ("source", "owner"):
            joined = pd.concat(parts_c, ignore_index=True)
            columns[c] = joined.take(order).reset_index(drop=True)
        elif c == "entity":
            codes = np.concatenate(parts_c)[order]
            cats = pd.Index(entities, dtype="str")
            columns[c] = pd.Series(pd.Categorical.from_codes(codes, categories=cats))
        else:
            columns[c] = pd.Series(np.concatenate(parts_c)[order])
        del parts_c
    return pd.DataFrame(columns, copy=False)


class _IdLookup:
    """The record ids of one entity as codes: each row's code (`row_of`: the position of the
    first row with its id, or the id's place among the distinct ones), and lookups of ids.

    The ids are taken to Arrow text once (`text`, as the per-record table keeps them) and
    hashed in Arrow, with no Python string per id (at 1M contacts the entities hold 3.4M
    ids); missing ids go through pandas as before.
    """

    def __init__(self, rid: pd.Series) -> None:
        keys = _arrow_text(rid)
        self.keys = keys if keys is not None and keys.null_count == 0 else None
        if self.keys is not None:
            self.text = self.keys
            self.row_of = positions_in(self.keys, self.keys)
            self.k = len(self.keys)
        else:
            self.ids = shared_objects(rid, as_text=True)
            self.text = pa.array(self.ids, type=pa.large_string(), from_pandas=True)
            self.row_of, uniq = pd.factorize(self.ids)
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
        return self.uniq.get_indexer(wanted.to_numpy(dtype=object))

    def values_of(self, by_id: pd.Series) -> np.ndarray:
        """`by_id` (a float per distinct id) at each row, 0 where it has none or is NaN."""
        if not len(by_id):
            return np.zeros(len(self.text), dtype="float64")
        index = self._arrow(by_id.index.to_numpy(dtype=object))
        if index is None:
            ids = self.ids if self.keys is None else self.keys.to_numpy(zero_copy_only=False)
            return by_id.reindex(ids).fillna(0).to_numpy(dtype="float64")
        pos = positions_in(self.keys, index)
        got = np.where(pos >= 0, by_id.to_numpy(dtype="float64")[np.maximum(pos, 0)], np.nan)
        return np.where(np.isnan(got), 0.0, got)


def _arrow_text(rid: pd.Series) -> pa.Array | None:
    """The ids as one Arrow text array (large_string), as `astype(str)` spells them; None
    where Arrow cannot hold them."""
    try:
        text = rid if rid.dtype == "str" else rid.astype("str")
        arr = pa.array(text, from_pandas=True)
        if isinstance(arr, pa.ChunkedArray):
            arr = arr.combine_chunks()
        return arr.cast(pa.large_string())
    except (pa.ArrowException, TypeError, ValueError, UnicodeError):
        return None


def _text_series(ids: pa.ChunkedArray) -> pd.Series:
    """Arrow text as a pandas `str` column (what pandas infers for a column of strings)."""
    arr = ids.combine_chunks() if ids.num_chunks != 1 else ids.chunk(0)
    return pd.Series(pd.array(arr, dtype="str"))


def _values(values: Any, n: int) -> np.ndarray:
    """A component as n values (a scalar, such as NaN where it does not apply, repeated as a
    frame would)."""
    if isinstance(values, pd.Series):
        return values.to_numpy()
    if np.ndim(values) == 0:
        return np.full(n, values, dtype="float64")
    return np.asarray(values)


def _mean_of(columns: Iterable[Any]) -> np.ndarray:
    """The row mean of the components, skipping the empty ones (NaN where all are empty), as
    `frame.mean(axis=1)` gives it."""
    stack = np.column_stack([np.asarray(c, dtype="float64") for c in columns])
    return pd.DataFrame(stack).mean(axis=1, skipna=True).to_numpy()


def stored_record_scores(by_record: pd.DataFrame) -> pd.DataFrame:
    """The per-record scores as their file holds them (and as a program reading it expects):
    the entity as text, the components float64, the counts int64. Only the compact columns
    are converted (the rest are shared), so a writer converts while it writes."""
    out = {}
    for c in by_record.columns:
        col = by_record[c]
        if isinstance(col.dtype, pd.CategoricalDtype):
            col = col.astype(col.cat.categories.dtype)
        elif c in STORED and col.dtype != STORED[c] and pd.api.types.is_numeric_dtype(col):
            col = col.astype(STORED[c])
        out[c] = col
    return pd.DataFrame(out, copy=False)


def owner_scores(by_record: pd.DataFrame) -> pd.DataFrame:
    """Per owner: mean record score and components, counts, and the weakest component."""
    cols = ["owner", "score", "n_records", "n_errors", "n_warnings", *COMPONENTS, "weakest"]
    keep = by_record["owner"].notna()
    if not keep.any():
        return pd.DataFrame({c: pd.Series(dtype="object") for c in cols})
    # only the columns the means read, as float64 and int64 (means of float32 would round)
    rows = stored_record_scores(
        by_record.loc[keep, ["owner", "score", *COMPONENTS, "n_errors", "n_warnings"]]
    )
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
