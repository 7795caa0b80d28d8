"""Score stage: turn the checks that ran into 0..1 quality scores, and inventory the fields.

Every score is a share of rows with no failed check, so a number means what a user would count:
validity 0.70 says 30 of 100 checked rows carry an invalid value. A rule's pass rate is
1 − failed ÷ checked. A field's score in a dimension is the share of its checked rows that fail
none of the rules checking it (not the mean over those rules, which would dilute one broken
check among the passing ones). A dimension's score is, over the entities it checks, the rows that
fail none of its rules ÷ the rows checked (the most rows any of its rules checked per entity).
The overall score is the weighted mean of the measured dimensions. A dimension with no rule is
"not measured" (score NaN, shown as n/a, with a note saying why), never a silent 1.0 or 0.0, and
takes no part in the overall score; with nothing measured the overall score is NaN too.
Info-severity rules are listed in the rule table but do not move any score: they inform, they
do not judge.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from audit.columnwise import positions_in, shared_objects
from audit.config import Thresholds
from audit.model import Issues, Matches, Records, Scorecard
from audit.schema import Dimension
from audit.score.inventory import field_inventory
from audit.score.records import COMPONENTS, owner_scores, record_scores
from audit.score.rules import DUPLICATE_RULE, duplicate_extras, rule_table

__all__ = ["COMPONENTS", "DUPLICATE_RULE", "dimension_scores", "failing_rows", "score"]

VALIDITY_LIKE = ("validity", "consistency", "integrity")
FAIL_COLUMNS = ["rule_id", "entity", "field", "dimension", "record_id"]


def _counted(rules: pd.DataFrame) -> pd.DataFrame:
    """The rules that move scores: ran on at least one row, and judge (not info)."""
    return rules[rules["status"].eq("ok") & rules["severity"].ne("info")]


def failing_rows(rules: pd.DataFrame, issues: Issues, matches: Matches) -> pd.DataFrame:
    """rule_id, entity, field, dimension, record_id: one row per (counted rule, failing record).

    Findings come from the Issues table (errors and warnings of the counted rules); the fuzzy
    duplicate rule fails the records beyond one per duplicate cluster. The record ids are a
    categorical (coded once in Arrow): every count of distinct failing records that the
    scores take from this table groups integers, not a Python string per finding.
    """
    counted = _counted(rules)
    parts = []
    ids: list[Any] = []
    if issues is not None and len(issues):
        keep = issues["record_id"].notna() & issues["severity"].astype("object").isin(
            ["error", "warning"]
        )
        iss = pd.DataFrame(
            {
                "rule_id": _per_value(issues.loc[keep, "rule_id"], _as_str),
                "entity": _per_value(issues.loc[keep, "entity"], _text_or_empty),
                "_at": np.arange(int(keep.sum())),
            }
        )
        ids.append(issues.loc[keep, "record_id"])
        meta = counted.loc[counted["rule_id"].ne(DUPLICATE_RULE), FAIL_COLUMNS[:4]]
        parts.append(iss.merge(meta, on=["rule_id", "entity"], how="inner"))
    if counted["rule_id"].eq(DUPLICATE_RULE).any():
        extras = _sorted_ids(duplicate_extras(matches))
        parts.append(
            pd.DataFrame(
                {
                    "rule_id": DUPLICATE_RULE,
                    "entity": "contacts",
                    "field": "",
                    "dimension": "uniqueness",
                    "_at": np.arange(len(extras)) + sum(len(i) for i in ids),
                }
            )
        )
        ids.append(pd.Series(extras, dtype=object))
    parts = [p for p in parts if len(p)]
    if not parts:
        return pd.DataFrame({c: pd.Series(dtype=object) for c in FAIL_COLUMNS})
    out = pd.concat(parts, ignore_index=True)
    codes = _id_codes(ids)
    out["record_id"] = codes.take(out.pop("_at").to_numpy())
    return out[FAIL_COLUMNS].drop_duplicates(ignore_index=True)


def _as_str(v: object) -> object:
    """`astype(str)` of one value: text as it is, a missing value stays missing."""
    return np.nan if v is None or v is pd.NA or (isinstance(v, float) and v != v) else str(v)


def _text_or_empty(v: object) -> str:
    return "" if v is None or v is pd.NA or (isinstance(v, float) and v != v) else str(v)


def _per_value(col: pd.Series, fn: Any) -> np.ndarray:
    """`fn` of each cell as objects, computed once per distinct value (few rule ids and
    entities over hundreds of thousands of findings)."""
    codes, uniq = pd.factorize(col.astype("object"))
    values = np.empty(len(uniq) + 1, dtype=object)
    values[:] = [*(fn(u) for u in uniq), fn(None)]
    return values[codes]


def _id_codes(ids: list[pd.Series]) -> pd.Categorical:
    """The record ids (as `astype(str)` spells them) as one categorical, coded in Arrow."""
    try:
        arrays = [
            pa.array(i.to_numpy(dtype=object), type=pa.large_string(), from_pandas=True)
            for i in ids
        ]
        enc = pa.chunked_array(arrays, type=pa.large_string()).dictionary_encode()
        codes = np.concatenate(
            [pc.fill_null(c.indices, -1).to_numpy(zero_copy_only=False) for c in enc.chunks]
        )
        cats = pd.Index(pd.array(enc.chunk(0).dictionary, dtype="str"))
        return pd.Categorical.from_codes(codes, categories=cats)
    except (pa.ArrowException, TypeError, ValueError, UnicodeError):
        text = np.concatenate([i.astype(str).to_numpy(dtype=object) for i in ids])
        return pd.Categorical(text)


def _sorted_ids(ids: set[str]) -> list[str]:
    """`sorted(ids)` by Arrow (code-point order, as Python compares strings)."""
    try:
        arr = pa.array(list(ids), type=pa.string())
    except (pa.ArrowException, UnicodeError):
        return sorted(ids)
    return arr.take(pc.sort_indices(arr)).to_pylist()


def _rows(rules: pd.DataFrame, failing: pd.DataFrame, keys: list[str]) -> pd.DataFrame:
    """Per group of `keys` (which include entity): rows checked, rows failing, share passing.

    Rows checked is the most rows any rule of the group checked; rows failing is the number of
    distinct failing records, and never less than the worst single rule's count (a check that
    reports a count without one issue per row still counts).
    """
    counted = _counted(rules)
    if counted.empty:
        return pd.DataFrame(columns=[*keys, "n_checked", "n_failed", "score"])
    g = counted.groupby(keys, sort=True)
    out = pd.DataFrame({"n_checked": g["n_checked"].max(), "worst": g["n_failed"].max()})
    ids = failing.groupby(keys, sort=True)["record_id"].nunique() if len(failing) else None
    distinct = ids.reindex(out.index).fillna(0) if ids is not None else 0
    out["n_failed"] = np.minimum(np.maximum(out["worst"], distinct), out["n_checked"])
    out["n_failed"] = out["n_failed"].astype("int64")
    out["score"] = 1 - out["n_failed"] / out["n_checked"].where(out["n_checked"] > 0)
    return out.drop(columns="worst").reset_index()


def _not_measured_note(rules: pd.DataFrame, dim: str, entities: Sequence[str]) -> str:
    mine = rules[rules["dimension"].eq(dim)]
    if mine["status"].eq("errored").any():
        ids = ", ".join(sorted(mine.loc[mine["status"].eq("errored"), "rule_id"]))
        return f"n/a: its checks errored ({ids}), so the result is unknown"
    present = mine[mine["entity"].isin(entities)]
    if len(present):
        return (
            f"n/a: its {len(present)} rules found nothing to check: their columns are "
            "missing or empty in the data"
        )
    if set(mine["severity"]) == {"info"}:
        return "n/a: only info rules check it, and they do not score"
    read = ", ".join(entities) or "none"
    return f"n/a: no rule checks it on the entities read: {read}"


def dimension_scores(
    rules: pd.DataFrame,
    weights: Mapping[str, float],
    failing: pd.DataFrame | None = None,
    entities: Sequence[str] = (),
) -> pd.DataFrame:
    """dimension, score, status, n_rules, n_checked, n_failed (rows), n_errored, weight, note."""
    if failing is None:
        failing = pd.DataFrame({c: pd.Series(dtype=object) for c in FAIL_COLUMNS})
    per_entity = _rows(rules, failing, ["dimension", "entity"])
    counted = _counted(rules)
    rows = []
    for dim in Dimension:
        mine = rules[rules["dimension"].eq(dim.value)]
        n_rules = int(counted["dimension"].eq(dim.value).sum())
        errored = int(mine["status"].eq("errored").sum())
        e = per_entity[per_entity["dimension"].eq(dim.value)]
        n_checked, n_failed = int(e["n_checked"].sum()), int(e["n_failed"].sum())
        measured = n_rules > 0 and n_checked > 0
        rows.append(
            {
                "dimension": dim.value,
                "score": 1 - n_failed / n_checked if measured else float("nan"),
                "status": "measured" if measured else ("errored" if errored else "not_measured"),
                "n_rules": n_rules,
                "n_checked": n_checked,
                "n_failed": n_failed,
                "n_errored": errored,
                "weight": float(weights.get(dim, weights.get(dim.value, 1.0))),
                "note": "" if measured else _not_measured_note(rules, dim.value, entities),
            }
        )
    return pd.DataFrame(rows)


def overall_score(by_dimension: pd.DataFrame) -> float:
    """Weighted mean of the measured dimensions; NaN when none was measured (shown as n/a)."""
    m = by_dimension[by_dimension["status"].eq("measured") & by_dimension["weight"].gt(0)]
    if m.empty:
        return float("nan")
    return float((m["score"] * m["weight"]).sum() / m["weight"].sum())


def rule_lift(rules: pd.DataFrame, failing: pd.DataFrame, by_dimension: pd.DataFrame) -> pd.Series:
    """Points (0-100) the overall score gains when every failure of a rule is fixed.

    Fixing a rule only clears the rows where it is the dimension's sole failing check; those
    rows lift the dimension by rows ÷ rows checked, the overall by the dimension's weight share.
    """
    lift = pd.Series(0.0, index=rules.index)
    dims = by_dimension[by_dimension["status"].eq("measured") & by_dimension["weight"].gt(0)]
    total_w = float(dims["weight"].sum())
    if not total_w or failing.empty:
        sole = pd.Series(dtype="int64")
    else:
        per_row = failing.groupby(["entity", "dimension", "record_id"])["rule_id"]
        alone = failing[per_row.transform("nunique").eq(1)]
        sole = alone.groupby(["rule_id", "entity"])["record_id"].nunique()
    known = set(failing["rule_id"].unique()) if len(failing) else set()
    info = dims.set_index("dimension")
    for i, r in rules.iterrows():
        if r["status"] != "ok" or r["severity"] == "info" or r["dimension"] not in info.index:
            continue
        n = int(sole.get((r["rule_id"], r["entity"]), 0))
        if r["rule_id"] not in known:
            n = int(r["n_failed"])  # a count without issue rows: assume its rows fail alone
        d = info.loc[r["dimension"]]
        if n and d["n_checked"]:
            lift[i] = n / d["n_checked"] * d["weight"] / total_w * 100
    return lift


def field_scores(
    rules: pd.DataFrame, inventory: pd.DataFrame, failing: pd.DataFrame | None = None
) -> pd.DataFrame:
    """Per entity.field: fill rate, validity and score as shares of rows with no failed check.

    validity: rows checked by the field's validity, consistency and integrity rules that fail
    none of them; score: rows that fail none of the field's rules (any dimension).
    """
    cols = ["entity", "field", "fill_rate", "validity", "score", "n_rules", "n_checked", "n_failed"]
    if failing is None:
        failing = pd.DataFrame({c: pd.Series(dtype=object) for c in FAIL_COLUMNS})
    r = _counted(rules)
    r = r[r["field"].ne("")]
    f = failing[failing["field"].ne("")]
    every = _rows(r, f, ["entity", "field"]).set_index(["entity", "field"])
    valid = _rows(
        r[r["dimension"].isin(VALIDITY_LIKE)],
        f[f["dimension"].isin(VALIDITY_LIKE)],
        ["entity", "field"],
    ).set_index(["entity", "field"])
    n_rules = r.groupby(["entity", "field"]).size()
    inv = inventory[inventory["kind"].ne("extra")]
    fill = {
        (e, fl): fr for e, fl, fr in zip(inv["entity"], inv["field"], inv["fill_rate"], strict=True)
    }
    rows = []
    for key in sorted(set(fill) | set(every.index)):
        fr = fill.get(key, float("nan"))
        has = key in every.index
        rows.append(
            {
                "entity": key[0],
                "field": key[1],
                "fill_rate": fr,
                "validity": float(valid.loc[key, "score"]) if key in valid.index else float("nan"),
                "score": float(every.loc[key, "score"]) if has else fr,
                "n_rules": int(n_rules.get(key, 0)),
                "n_checked": int(every.loc[key, "n_checked"]) if has else 0,
                "n_failed": int(every.loc[key, "n_failed"]) if has else 0,
            }
        )
    return pd.DataFrame(rows, columns=cols)


def source_scores(
    records: Records,
    rules: pd.DataFrame,
    failing: pd.DataFrame,
    weights: Mapping[str, float],
) -> pd.DataFrame:
    """Long table: source, dimension (incl. 'overall'), score, n_records.

    The dimension scores restricted to each source's rows: its failing records ÷ its share of
    the rows checked (a failure count with no issue rows is spread by that share).
    """
    rows_by: dict[tuple[str, str], int] = {}
    n_entity: dict[str, int] = {}
    for entity, frame in records.items():
        if frame is None or frame.empty:
            continue
        for s, n in frame["source"].astype(str).value_counts().items():
            rows_by[(entity, str(s))] = int(n)
        n_entity[entity] = len(frame)
    sources = sorted({s for _, s in rows_by})
    per_entity = _rows(rules, failing, ["dimension", "entity"])
    fail = failing.drop_duplicates(["entity", "dimension", "record_id"])
    found = _source_of(records, fail["record_id"].to_numpy(dtype=object))
    fail = fail.assign(_src=pd.Series(found, index=fail.index, dtype=object))
    known = fail.groupby(["entity", "dimension"]).size()
    by_src = fail.dropna(subset=["_src"]).groupby(["entity", "dimension", "_src"]).size()
    out = []
    for s in sources:
        n_records = sum(n for (e, src), n in rows_by.items() if src == s)
        checked: dict[str, float] = {}
        failed: dict[str, float] = {}
        for r in per_entity.itertuples():
            rows_s, n_e = rows_by.get((r.entity, s), 0), n_entity.get(r.entity, 0)
            if not rows_s or not n_e or not r.n_checked:
                continue
            share = rows_s / n_e
            rest = max(0, r.n_failed - int(known.get((r.entity, r.dimension), 0)))
            f = by_src.get((r.entity, r.dimension, s), 0) + rest * share
            checked[r.dimension] = checked.get(r.dimension, 0.0) + r.n_checked * share
            failed[r.dimension] = failed.get(r.dimension, 0.0) + f
        scores = {d: max(0.0, 1 - failed[d] / checked[d]) for d in checked if checked[d] > 0}
        for d, v in sorted(scores.items()):
            out.append({"source": s, "dimension": d, "score": v, "n_records": n_records})
        w = {d: float(weights.get(d, 1.0)) for d in scores}
        total = sum(w.values())
        overall = sum(scores[d] * w[d] for d in scores) / total if total else float("nan")
        out.append({"source": s, "dimension": "overall", "score": overall, "n_records": n_records})
    return pd.DataFrame(out, columns=["source", "dimension", "score", "n_records"])


def _source_of(records: Records, rids: np.ndarray) -> np.ndarray:
    """The source of each record id (None where no record has it); a record id read twice
    keeps its last source, as a dict update over every entity's rows would.

    One Arrow hash lookup per entity: a Python-object index of every record id (3.4M at 1M
    contacts) cost more than the rest of the per-source scores.
    """
    found = np.full(len(rids), None, dtype=object)
    try:
        want = pa.array(rids, type=pa.large_string())
    except (pa.ArrowException, UnicodeError):
        return _source_of_py(records, rids)
    for frame in records.values():
        if frame is None or frame.empty or not len(rids):
            continue
        # reversed, so that the first match Arrow finds is the id's last row; the ids go to
        # Arrow as text once (no Python string per id and back), the few sources are shared
        src = shared_objects(frame["source"], as_text=True)[::-1]
        try:
            ids = pa.array(frame["record_id"].astype(str), from_pandas=True)
            if isinstance(ids, pa.ChunkedArray):
                ids = ids.combine_chunks()
            value_set = ids.cast(pa.large_string())[::-1]
        except (pa.ArrowException, UnicodeError):
            return _source_of_py(records, rids)
        at = positions_in(want, value_set)
        hit = at >= 0
        found[hit] = src[at[hit]]
    return found


def _source_of_py(records: Records, rids: np.ndarray) -> np.ndarray:
    """_source_of through a pandas index, for ids Arrow cannot hold."""
    rid_parts, src_parts = [], []
    for frame in records.values():
        if frame is None or frame.empty:
            continue
        rid_parts.append(frame["record_id"].astype(str).to_numpy(dtype=object))
        src_parts.append(frame["source"].astype(str).to_numpy(dtype=object))
    rid = np.concatenate(rid_parts) if rid_parts else np.zeros(0, dtype=object)
    srcs = np.concatenate(src_parts) if src_parts else np.zeros(0, dtype=object)
    last = ~pd.Index(rid).duplicated(keep="last")
    src_of = pd.Series(srcs[last], index=pd.Index(rid[last], dtype=object), dtype=object)
    at = src_of.index.get_indexer(rids)
    found = np.full(len(rids), None, dtype=object)
    found[at >= 0] = src_of.to_numpy(dtype=object)[at[at >= 0]]
    return found


def score(
    records: Records,
    issues: Issues,
    matches: Matches,
    cfg: Thresholds,
    *,
    checked: pd.DataFrame | None = None,
    kpi_needs: Mapping[str, Sequence[str]] | None = None,
) -> Scorecard:
    """Score the records from the checks that ran (`checked`), the findings and the duplicates.

    Example:
        sc = score(records, issues, matches, cfg.thresholds, checked=validation.checked)
        sc.overall, sc.by_dimension, sc.by_owner.head()
    """
    records = {e: f for e, f in records.items() if f is not None}
    n_rows = {e: len(f) for e, f in records.items()}
    weights = {str(k): float(v) for k, v in cfg.weights.items()}
    rules = rule_table(checked, issues, matches, n_rows)
    failing = failing_rows(rules, issues, matches)
    entities = sorted(e for e, n in n_rows.items() if n)
    by_dimension = dimension_scores(rules, weights, failing, entities)
    by_entity = _rows(rules, failing, ["entity", "dimension"])
    rules = rules.assign(lift=rule_lift(rules, failing, by_dimension))
    inventory = field_inventory(records, rules, kpi_needs or {})
    by_record = record_scores(records, issues, matches, rules)
    return Scorecard(
        overall=overall_score(by_dimension),
        by_dimension=by_dimension,
        by_source=source_scores(records, rules, failing, weights),
        by_owner=owner_scores(by_record),
        by_record=by_record,
        by_field=field_scores(rules, inventory, failing),
        by_rule=rules,
        inventory=inventory,
        by_entity=by_entity[["entity", "dimension", "score", "n_checked", "n_failed"]],
    )
