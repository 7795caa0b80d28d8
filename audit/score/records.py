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

from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from audit.columnwise import shared_objects
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


def _fill_share(frame: pd.DataFrame) -> np.ndarray:
    """Share of the columns this entity actually carries (any value anywhere) that are filled.

    The filled cells are counted as integers and divided once: the mean of 0/1 floats that
    `frame[cols].notna().mean(axis=1)` gave, without a frame of flags.
    """
    cols = [c for c in frame.columns if c not in SKIP_FILL and frame[c].notna().any()]
    if not cols:
        return np.ones(len(frame), dtype="float64")
    filled = np.zeros(len(frame), dtype=np.int64)
    for c in cols:
        filled += frame[c].notna().to_numpy(dtype=bool)
    return filled / float(len(cols))


class _Findings:
    """The errors and warnings with a record id, taken apart once for every entity: each
    finding's flags (severity, component, whether a rule broke) from the few distinct values
    of its columns, and its rows per entity. Per row it keeps only booleans and the ids, no
    Python text per finding."""

    def __init__(self, issues: Issues) -> None:
        keep = issues["record_id"].notna() & issues["severity"].astype("object").isin(
            ["error", "warning"]
        )
        iss = issues.loc[keep, ["record_id", "entity", "field", "dimension", "severity"]]
        self.ids = iss["record_id"]
        self.has_rule = issues.loc[keep, "rule_id"].notna().to_numpy(dtype=bool)
        dim = _per_distinct(iss["dimension"], lambda v: _text(v))
        self.error = _per_distinct(iss["severity"], lambda v: str(v) == "error")
        self.warning = _per_distinct(iss["severity"], lambda v: str(v) == "warning")
        self.parts = {
            "validity": _per_distinct(iss["dimension"], lambda v: _text(v) in VALIDITY_LIKE),
            "completeness": dim == "completeness",
            "email": _per_distinct(iss["field"], lambda v: _text(v).startswith("email")),
            "freshness": dim == "freshness",
        }
        codes, uniq = pd.factorize(iss["entity"].astype("object"))
        self.rows = {u: np.flatnonzero(codes == i) for i, u in enumerate(uniq)}


VALIDITY_LIKE = ("validity", "consistency", "integrity")


def _text(v: object) -> str:
    """A cell as the findings' columns read it: missing is empty text."""
    return "" if v is None or v is pd.NA or (isinstance(v, float) and v != v) else str(v)


def _per_distinct(col: pd.Series, fn: Any) -> np.ndarray:
    """`fn` of each cell, computed once per distinct value (a missing cell gets `fn(None)`)."""
    codes, uniq = pd.factorize(col.astype("object"))
    values = [fn(u) for u in uniq] + [fn(None)]
    return np.asarray(values, dtype=object if isinstance(values[0], str) else None)[codes]


def _pair_risk(matches: Matches) -> tuple[pd.Series, np.ndarray] | None:
    """The ids of the duplicate pairs' records (left then right) and each one's pair score."""
    pairs = matches.pairs if matches is not None else None
    if pairs is None or pairs.empty or not {"score", "band"} <= set(pairs.columns):
        return None
    p = pairs[pairs["band"].astype("object").isin(["auto", "review"])]
    ids = pd.concat([p["record_id_l"], p["record_id_r"]], ignore_index=True).astype(str)
    s = p["score"].to_numpy(dtype="float64")
    return ids, np.concatenate([s, s])


def record_scores(
    records: Records, issues: Issues, matches: Matches, rules: pd.DataFrame
) -> pd.DataFrame:
    found = _Findings(issues) if issues is not None and len(issues) else None
    pair_risk = _pair_risk(matches)
    entities = sorted(e for e, f in records.items() if f is not None and not f.empty)
    pieces: list[dict[str, Any]] = []
    labels = {"source": _Labels(), "owner": _Labels()}
    for code, entity in enumerate(entities):
        frame = records[entity]
        n = len(frame)
        rows = found.rows.get(entity) if found is not None else None
        wanted = [found.ids.iloc[rows]] if found is not None and rows is not None else []
        risk = pair_risk if entity == "contacts" and pair_risk is not None else None
        if risk is not None:
            wanted.append(risk[0])
        # the entity's ids, its findings' ids and its pairs' ids coded in one pass; the ids
        # stay Arrow text (no Python string per id, 3.4M at 1M contacts)
        ids_of = _IdLookup(frame["record_id"], wanted)
        out: dict[str, Any] = {
            "record_id": ids_of.text,
            "entity": np.full(n, code, dtype=np.int8),
        }
        labels["source"].add(frame["source"], n)
        labels["owner"].add(frame.get("owner"), n)
        ent_rules = rules[
            rules["entity"].eq(entity) & rules["status"].eq("ok") & rules["severity"].ne("info")
        ]
        n_comp_rules = int(ent_rules["dimension"].eq("completeness").sum())
        # each record's findings as flags per (component, severity) and counts per severity,
        # gathered by the codes of the findings' record ids among the entity's ids
        row_of, k = ids_of.row_of, ids_of.k
        flag: dict[tuple[str, str], np.ndarray] = {}
        count: dict[str, np.ndarray] = {}
        if found is not None and rows is not None:
            at = ids_of.found(0)
            ruled_all = found.has_rule[rows]
            for level, sev in (("error", found.error[rows]), ("warning", found.warning[rows])):
                hit = sev & (at >= 0)
                count[level] = np.bincount(at[hit], minlength=k)[row_of]
                # a component counts rules broken, so a finding without a rule id flags nothing
                ruled = hit & ruled_all
                for name, mask in found.parts.items():
                    seen = np.zeros(k, bool)
                    seen[at[ruled & mask[rows]]] = True
                    flag[(name, level)] = seen[row_of]

        def penalty(name: str, _flag: dict = flag, _n: int = n) -> np.ndarray:
            none = np.zeros(_n, bool)
            err, warn = _flag.get((name, "error"), none), _flag.get((name, "warning"), none)
            return np.where(err, 1.0, np.where(warn, 0.5, 0.0))

        out["validity"] = 1 - penalty("validity")
        if n_comp_rules:
            out["completeness"] = 1 - penalty("completeness")
        else:
            out["completeness"] = _fill_share(frame)
        if risk is not None:
            out["duplicate_risk"] = 1 - ids_of.max_of(len(wanted) - 1, risk[1])
        elif entity == "contacts":
            out["duplicate_risk"] = np.ones(n, dtype="float64")
        else:
            out["duplicate_risk"] = np.nan
        if entity == "contacts":
            email_ok = frame["email"].notna().to_numpy()
            out["email_health"] = np.where(email_ok, 1 - penalty("email"), 0.0)
        else:
            out["email_health"] = np.nan
        out["freshness"] = 1 - penalty("freshness")
        out["score"] = _mean_of([_values(out[c], n) for c in COMPONENTS])
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
        if c in labels:
            columns[c] = labels[c].column(order)
            continue
        parts_c = [p.pop(c) for p in pieces]
        if c == "entity":
            codes = np.concatenate(parts_c)[order]
            cats = pd.Index(entities, dtype="str")
            columns[c] = pd.Series(pd.Categorical.from_codes(codes, categories=cats))
        else:
            columns[c] = pd.Series(np.concatenate(parts_c)[order])
        del parts_c
    return pd.DataFrame(columns, copy=False)


class _Labels:
    """A few distinct texts per row (the source, the owner) as a categorical: each entity's
    column coded once, the codes joined and put in id order (3.4M rows at 1M contacts: 1 to
    4 bytes a row instead of an Arrow text or a Python object each).

    The categories' dtype is the dtype the joined column had as Python objects before (`str`,
    or `object` where an entity has no such column), so `stored_record_scores` writes the file
    as before. A column that holds anything but text is joined as objects, as before.
    """

    def __init__(self) -> None:
        self.columns: list[tuple[pd.Series | None, int]] = []
        self.parts: list[tuple[np.ndarray, list[Any]]] = []
        self.proxies: list[pd.Series] = []
        self.text = True

    def add(self, col: pd.Series | None, n: int) -> None:
        self.columns.append((col, n))
        if not self.text:
            return
        if col is None:
            self.parts.append((np.full(n, -1, np.intp), []))
            self.proxies.append(pd.Series(np.array([None], dtype=object)))
            return
        if col.dtype == object or isinstance(col.dtype, pd.StringDtype):
            codes, uniq = pd.factorize(col, use_na_sentinel=True)
            values = list(uniq)
            if all(isinstance(v, str) for v in values):
                self.parts.append((codes, values))
                # one cell of each kind: pandas infers the same dtype from it as from the
                # entity's whole column of Python objects (what the table held before)
                proxy = np.array([*values, *_missing_kinds(col, codes)], dtype=object)
                self.proxies.append(pd.Series(proxy))
                return
        self.text = False

    def column(self, order: np.ndarray) -> pd.Series:
        """The rows' labels, joined over the entities and put in `order`."""
        dtype = pd.concat(self.proxies, ignore_index=True).dtype if self.text else None
        if dtype is None or not (dtype == np.dtype(object) or isinstance(dtype, pd.StringDtype)):
            objs = [
                pd.Series(shared_objects(c) if c is not None else np.full(n, None, dtype=object))
                for c, n in self.columns
            ]
            return pd.concat(objs, ignore_index=True).take(order).reset_index(drop=True)
        index = pd.Index(sorted({v for _, values in self.parts for v in values}), dtype=dtype)
        codes = np.concatenate(
            [
                np.append(index.get_indexer(values), -1)[c] if values else c
                for c, values in self.parts
            ]
        )  # a missing cell's code -1 picks the -1 after the entity's values
        return pd.Series(pd.Categorical.from_codes(codes[order], categories=index))


def _missing_kinds(col: pd.Series, codes: np.ndarray) -> list[Any]:
    """One missing cell of each kind (None, NaN, pd.NA), as the column's objects hold them."""
    if not (codes < 0).any():
        return []
    if col.dtype != object:
        return [col.dtype.na_value]
    return list(pd.unique(col.to_numpy()[codes < 0]))  # None, NaN and pd.NA stay apart


class _IdLookup:
    """The record ids of one entity as codes, with the ids it is asked about (`wanted`: the
    findings' ids, the pairs' ids) coded in the same pass: each row's code (`row_of`, the
    ids' codes in order of first appearance, so a key's code is below `k`, the distinct
    keys), and each wanted id's code among the keys (-1 where no row has it).

    The ids are taken to Arrow text once (`text`, as the per-record table keeps them) and
    dictionary-encoded together in Arrow, with no Python string per id (at 1M contacts the
    entities hold 3.4M ids) and one hash table for all the lookups; missing ids go through
    pandas as before.
    """

    def __init__(self, rid: pd.Series, wanted: list[pd.Series]) -> None:
        keys = _arrow_text(rid)
        arrows = [_arrow_text(w) for w in wanted] if keys is not None else []
        n = len(rid)
        self.bounds = np.cumsum([n, *(len(w) for w in wanted)])
        if keys is not None and keys.null_count == 0 and all(a is not None for a in arrows):
            self.text = keys
            both = pa.chunked_array([keys, *arrows], type=pa.large_string())
            enc = both.dictionary_encode()
            codes = np.concatenate(
                [
                    pc.fill_null(chunk.indices, -1).to_numpy(zero_copy_only=False)
                    for chunk in enc.chunks
                ]
            ).astype(np.intp, copy=False)
        else:
            ids = shared_objects(rid, as_text=True)
            self.text = pa.array(ids, type=pa.large_string(), from_pandas=True)
            parts = [ids, *(w.astype(str).to_numpy(dtype=object) for w in wanted)]
            codes, _ = pd.factorize(np.concatenate(parts), use_na_sentinel=True)
        self.row_of = codes[:n]
        self.k = int(self.row_of.max()) + 1 if n else 0
        self.codes = codes

    def found(self, i: int) -> np.ndarray:
        """The code of each id of `wanted[i]`, -1 where no row has it."""
        at = self.codes[self.bounds[i] : self.bounds[i + 1]]
        return np.where(at < self.k, at, -1)

    def max_of(self, i: int, values: np.ndarray) -> np.ndarray:
        """The largest of `values` (one per id of `wanted[i]`) at each row, 0 where its id has
        none or only NaN."""
        at = self.found(i)
        hit = at >= 0
        best = np.full(self.k, np.nan)
        np.fmax.at(best, at[hit], values[hit])
        got = best[self.row_of]
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


def _mean_of(columns: list[np.ndarray]) -> np.ndarray:
    """The row mean of the components, skipping the empty ones (NaN where all are empty), as
    `frame.mean(axis=1)` gives it: the filled values added left to right, divided by their
    count (no frame of them)."""
    total = np.zeros(len(columns[0]), dtype="float64")
    count = np.zeros(len(columns[0]), dtype="float64")
    for c in columns:
        c = np.asarray(c, dtype="float64")
        ok = ~np.isnan(c)
        total += np.where(ok, c, 0.0)
        count += ok
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(count > 0, total / count, np.nan)


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
