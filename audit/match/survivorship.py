"""Golden-record proposal: pick a master per duplicate cluster and a source for every value.

The rules are declarative (rules/survivorship/*.yaml) because "which value wins" is a business
decision that differs per company: HubSpot's primary-wins vs most-recent-wins confusion and
overwritten create dates are among the most reported merge surprises. Every golden value carries
its provenance (record and rule), and losing values are kept in alternate columns, so a reviewer
can see why a value won and nothing is lost by merging.

Vectorized over all clusters at once (one sort per ordering, not one Python call per cluster),
because the match stage calls this on every run, including the 1M-contact benchmark.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pandas as pd
import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from audit import schema
from audit.config import SourceConfig
from audit.errors import ConfigError
from audit.packdata import find_rule_file

DEFAULT_RULES = "survivorship/contacts.default"

MasterCriterion = Literal[
    "most_complete", "most_recent_activity", "oldest_created", "source_priority"
]
FieldRuleName = Literal[
    "master",
    "most_recent",
    "preferred_source",
    "source_priority",
    "longest",
    "earliest",
    "latest",
    "combine",
]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid")


class FieldRule(_Model):
    rule: FieldRuleName = "master"
    sources: list[str] = Field(default_factory=list, description="for preferred_source")
    separator: str = Field("; ", description="for combine")
    keep_losing_as: str | None = Field(None, description="golden column for losing values")
    follows: str | None = Field(None, description="take the value from the same record as this")


class SurvivorshipRules(_Model):
    version: Literal[1] = 1
    entity: Literal["contacts"] = "contacts"
    master: list[MasterCriterion] = Field(
        default_factory=lambda: [
            "most_complete",
            "most_recent_activity",
            "oldest_created",
            "source_priority",
        ]
    )
    default: FieldRuleName = "master"
    fields: dict[str, FieldRule | FieldRuleName] = Field(default_factory=dict)

    def rule_for(self, field: str) -> FieldRule:
        r = self.fields.get(field)
        if r is None:
            return FieldRule(rule=self.default)
        return FieldRule(rule=r) if isinstance(r, str) else r


def load_rules(
    name: str | Path | None = None, *, base_dir: Path | None = None
) -> SurvivorshipRules:
    """Load survivorship rules by shipped name ('survivorship/contacts.default') or YAML path."""
    path = find_rule_file(str(name or DEFAULT_RULES), base_dir=base_dir, what="survivorship rules")
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as e:
        raise ConfigError(f"{path}: survivorship rules could not be read ({e}).") from None
    try:
        rules = SurvivorshipRules.model_validate(data or {})
    except ValidationError as e:
        err = e.errors()[0]
        where = ".".join(str(p) for p in err["loc"]) or "(top level)"
        raise ConfigError(f"{path} ({where}): {err['msg']}.") from None
    known = set(schema.columns("contacts"))
    for f in rules.fields:
        if f not in known:
            raise ConfigError(f"{path} (fields.{f}): not a canonical contacts column.")
        fr = rules.rule_for(f)
        if fr.follows and fr.follows not in known:
            raise ConfigError(f"{path} (fields.{f}.follows): {fr.follows!r} is not a column.")
        if fr.rule == "preferred_source" and not fr.sources:
            raise ConfigError(f"{path} (fields.{f}): preferred_source needs a `sources` list.")
    return rules


def golden_columns(rules: SurvivorshipRules | None = None) -> list[str]:
    """Columns of the golden frame, in order."""
    rules = rules or load_rules()
    alternates = sorted(
        {rules.rule_for(f).keep_losing_as for f in rules.fields} - {None}  # type: ignore[arg-type]
    )
    return [
        "cluster_id",
        "survivor_id",
        "survivor_rule",
        "source",
        "n_records",
        "merged_record_ids",
        *[c.name for c in schema.ENTITIES["contacts"]],
        *alternates,
        "golden_from",
    ]


def propose_golden(
    contacts: pd.DataFrame,
    clusters: pd.DataFrame,
    sources: Sequence[SourceConfig] = (),
    *,
    rules: str | Path | SurvivorshipRules | None = None,
) -> pd.DataFrame:
    """One proposed golden record per cluster of two or more records.

    Columns: cluster_id, survivor_id (the master record), survivor_rule (the master criterion
    that decided), source (the survivor's), n_records, merged_record_ids ("; "-joined, sorted),
    every canonical contacts column, the alternate_* columns of losing values, and golden_from:
    JSON {field: [record_id, rule]} for every non-empty golden value.

    Example:
        golden = propose_golden(records["contacts"], matches.clusters, cfg.sources)
    """
    rs = rules if isinstance(rules, SurvivorshipRules) else load_rules(rules)
    out_cols = golden_columns(rs)
    if contacts is None or clusters is None or clusters.empty or contacts.empty:
        return pd.DataFrame({c: pd.Series(dtype="object") for c in out_cols})
    canon = [c.name for c in schema.ENTITIES["contacts"]]
    mem = clusters[["cluster_id", "record_id"]].dropna().drop_duplicates("record_id")
    mem = mem.astype({"cluster_id": "object", "record_id": "object"})
    cont = schema.conform(contacts, "contacts")
    cont = cont.drop_duplicates("record_id").astype({"record_id": "object"})
    m = mem.merge(cont, on="record_id", how="inner")
    size = m.groupby("cluster_id")["record_id"].transform("size")
    m = m[size >= 2].reset_index(drop=True)
    if m.empty:
        return pd.DataFrame({c: pd.Series(dtype="object") for c in out_cols})
    m["cluster_id"] = m["cluster_id"].astype(str)
    m["record_id"] = m["record_id"].astype(str)

    present = {c: _present(m[c]) for c in canon}
    mappable = [c.name for c in schema.ENTITIES["contacts"] if not c.derived]
    m["_complete"] = np.sum([present[c].to_numpy() for c in mappable], axis=0)
    created = _ns(m["created_at"])
    updated = _ns(m["updated_at"])
    activity = _ns(m["last_activity_at"])
    m["_activity"] = np.where(activity > _MISSING, activity, updated)
    rec = np.where(updated > _MISSING, updated, activity)
    m["_recency"] = np.where(rec > _MISSING, rec, created)
    m["_created"] = np.where(created > _MISSING, created, -_MISSING)  # missing sorts last
    prio = {s.name: s.priority for s in sources}
    m["_prio"] = m["source"].map(prio).fillna(0).astype("int64")

    # master: criteria top-down, then smallest record_id
    crit_cols = {
        "most_complete": ("_complete", False),
        "most_recent_activity": ("_activity", False),
        "oldest_created": ("_created", True),
        "source_priority": ("_prio", False),
    }
    keys = [crit_cols[c] for c in rs.master]
    by = ["cluster_id", *[k for k, _ in keys], "record_id"]
    asc = [True, *[a for _, a in keys], True]
    ms = m.sort_values(by, ascending=asc, kind="stable")
    rank = ms.groupby("cluster_id", sort=False).cumcount()
    first = ms[rank.to_numpy() == 0].set_index("cluster_id")
    second = ms[rank.to_numpy() == 1].set_index("cluster_id").reindex(first.index)
    decided = pd.Series("record_id", index=first.index, dtype="object")
    undecided = pd.Series(True, index=first.index)
    for name in rs.master:
        col = crit_cols[name][0]
        differs = first[col].to_numpy() != second[col].to_numpy()
        hit = undecided.to_numpy() & differs
        decided[hit] = name
        undecided[hit] = False
    survivor = first["record_id"]
    m["_is_master"] = m["record_id"].isin(set(survivor.to_numpy())).astype("int8")

    golden = pd.DataFrame(index=pd.Index(sorted(first.index), name="cluster_id"))
    golden["survivor_id"] = survivor
    golden["survivor_rule"] = decided
    golden["source"] = first["source"]
    grouped_ids = m.sort_values("record_id", kind="stable").groupby("cluster_id")["record_id"]
    golden["n_records"] = grouped_ids.size()
    golden["merged_record_ids"] = grouped_ids.agg("; ".join)

    orders = _Orders(m)
    provenance: list[pd.Series] = []
    picked_from: dict[str, pd.Series] = {}
    follows: list[str] = []
    for f in canon:
        fr = rs.rule_for(f)
        if fr.follows:
            follows.append(f)
            continue
        value, rid = _apply_rule(m, f, fr, present[f], orders)
        golden[f] = value.reindex(golden.index)
        picked_from[f] = rid.reindex(golden.index)
        provenance.append(_prov_piece(f, picked_from[f], fr.rule))
    for f in follows:
        fr = rs.rule_for(f)
        src_rid = picked_from.get(fr.follows or "")
        value, rid = _follow(m, f, src_rid, present[f], orders)
        golden[f] = value.reindex(golden.index)
        provenance.append(_prov_piece(f, rid.reindex(golden.index), f"follows:{fr.follows}"))
    for target in sorted({rs.rule_for(f).keep_losing_as for f in canon} - {None}):
        fields = [f for f in canon if rs.rule_for(f).keep_losing_as == target]
        golden[target] = _losing(m, golden, fields, orders).reindex(golden.index)
    golden["golden_from"] = _join_prov(provenance, golden.index)
    golden = golden.reset_index()
    for c in out_cols:
        if c not in golden.columns:
            golden[c] = None
    return golden[out_cols].reset_index(drop=True)


_MISSING = np.iinfo("int64").min


def _ns(s: pd.Series) -> np.ndarray:
    """Timestamps as int64 ns (missing = int64 min), accepting text columns too."""
    if not isinstance(s.dtype, pd.DatetimeTZDtype) and not pd.api.types.is_datetime64_dtype(s):
        s = pd.to_datetime(s, utc=True, errors="coerce", format="ISO8601")
    if isinstance(s.dtype, pd.DatetimeTZDtype):
        s = s.dt.tz_convert("UTC").dt.tz_localize(None)
    s = s.astype("datetime64[ns]")
    out = s.to_numpy().astype("int64")
    out[s.isna().to_numpy()] = _MISSING
    return out


def _present(s: pd.Series) -> pd.Series:
    """Non-empty: not missing and, for text, not blank."""
    ok = s.notna()
    if s.dtype == object or pd.api.types.is_string_dtype(s):
        ok = ok & s.astype("string").str.strip().ne("").fillna(False).astype(bool)
    return ok.astype(bool)


class _Orders:
    """Row orders reused across fields, each as a sorted copy of the member frame."""

    def __init__(self, m: pd.DataFrame) -> None:
        self.m = m
        self._cache: dict[str, pd.Index] = {}

    def get(self, name: str) -> pd.Index:
        if name not in self._cache:
            by, asc = {
                "master": (["_is_master", "_recency", "record_id"], [False, False, True]),
                "recent": (["_recency", "_is_master", "record_id"], [False, False, True]),
                "priority": (
                    ["_prio", "_is_master", "_recency", "record_id"],
                    [False, False, False, True],
                ),
            }[name]
            s = self.m.sort_values(["cluster_id", *by], ascending=[True, *asc], kind="stable")
            self._cache[name] = s.index
        return self._cache[name]


def _first(
    m: pd.DataFrame, field: str, ok: pd.Series, order: pd.Index
) -> tuple[pd.Series, pd.Series]:
    """The first present value per cluster in `order`, and the record it came from."""
    idx = order[ok.reindex(order).to_numpy()]
    sub = m.loc[idx, ["cluster_id", field, "record_id"]].drop_duplicates("cluster_id")
    sub = sub.set_index("cluster_id")
    return sub[field], sub["record_id"]


def _apply_rule(
    m: pd.DataFrame, field: str, fr: FieldRule, ok: pd.Series, orders: _Orders
) -> tuple[pd.Series, pd.Series]:
    rule = fr.rule
    if rule == "master":
        return _first(m, field, ok, orders.get("master"))
    if rule == "most_recent":
        return _first(m, field, ok, orders.get("recent"))
    if rule == "source_priority":
        return _first(m, field, ok, orders.get("priority"))
    if rule == "preferred_source":
        rank = {s: i for i, s in enumerate(fr.sources)}
        tmp = m.assign(_srank=m["source"].map(rank).fillna(len(rank)).astype("int64"))
        order = tmp.sort_values(
            ["cluster_id", "_srank", "_prio", "_is_master", "_recency", "record_id"],
            ascending=[True, True, False, False, False, True],
            kind="stable",
        ).index
        return _first(m, field, ok, order)
    if rule == "longest":
        length = m[field].astype("string").str.strip().str.len().fillna(-1).astype("int64")
        order = (
            m.assign(_len=length)
            .sort_values(
                ["cluster_id", "_len", "_is_master", "_recency", "record_id"],
                ascending=[True, False, False, False, True],
                kind="stable",
            )
            .index
        )
        return _first(m, field, ok, order)
    if rule in ("earliest", "latest"):
        col = m[field]
        if field.endswith("_at") or pd.api.types.is_datetime64_any_dtype(col):
            key = pd.Series(_ns(col), index=m.index)
        elif pd.api.types.is_numeric_dtype(col):
            key = col
        else:
            key = col.astype("string")
        order = (
            m.assign(_key=key)
            .sort_values(
                ["cluster_id", "_key", "_is_master", "record_id"],
                ascending=[True, rule == "earliest", False, True],
                kind="stable",
                na_position="last",
            )
            .index
        )
        return _first(m, field, ok, order)
    # combine: distinct values, master first, then most recent
    order = orders.get("master")
    sub = m.loc[order[ok.reindex(order).to_numpy()], ["cluster_id", field, "record_id"]]
    sub = sub.assign(_v=sub[field].astype(str).str.strip())
    sub = sub.drop_duplicates(["cluster_id", "_v"])
    g = sub.groupby("cluster_id", sort=False)
    return g["_v"].agg(fr.separator.join), g["record_id"].agg(list)


def _follow(
    m: pd.DataFrame,
    field: str,
    src_rid: pd.Series | None,
    ok: pd.Series,
    orders: _Orders,
) -> tuple[pd.Series, pd.Series]:
    """Take `field` from the record that supplied the followed field; else master rule."""
    base_v, base_r = _first(m, field, ok, orders.get("master"))
    if src_rid is None:
        return base_v, base_r
    src = src_rid.dropna()
    src = src[src.map(lambda x: isinstance(x, str))]
    by_rid = m.set_index("record_id")[field]
    v = pd.Series(by_rid.reindex(src.to_numpy()).to_numpy(), index=src.index)
    has = v.notna()
    v_ok, r_ok = v[has], src[has]
    rest = base_v.index.difference(v_ok.index)
    value = pd.concat([v_ok, base_v.reindex(rest)]) if len(rest) else v_ok
    rid = pd.concat([r_ok, base_r.reindex(rest)]) if len(rest) else r_ok
    return value, rid


def _losing(m: pd.DataFrame, golden: pd.DataFrame, fields: list[str], orders: _Orders) -> pd.Series:
    """Distinct non-golden values of `fields` per cluster, master first, '; '-joined."""
    order = orders.get("master")
    parts = []
    for f in fields:
        sub = m.loc[order, ["cluster_id", f]].rename(columns={f: "_v"})
        sub["_pos"] = np.arange(len(sub))
        parts.append(sub[sub["_v"].notna()])
    long = pd.concat(parts, ignore_index=True)
    long["_v"] = long["_v"].astype(str).str.strip()
    long = long[long["_v"].ne("")]
    long["_k"] = _fold(long["_v"])
    kept = set()
    for f in fields:
        g = golden[f].dropna()
        kept.update(zip(g.index, _fold(g.astype(str)), strict=True))
    long = long.sort_values(["cluster_id", "_pos"], kind="stable")
    long = long.drop_duplicates(["cluster_id", "_k"])
    keep = [(c, k) not in kept for c, k in zip(long["cluster_id"], long["_k"], strict=True)]
    long = long[np.asarray(keep, dtype=bool)]
    return long.groupby("cluster_id", sort=False)["_v"].agg("; ".join)


def _fold(s: pd.Series) -> pd.Series:
    return s.str.casefold().str.replace(r"[\s\-().]", "", regex=True)


def _prov_piece(field: str, rid: pd.Series, rule: str) -> pd.Series:
    """'"field":["rid","rule"]' per cluster (None where the golden value is empty)."""
    head = json.dumps(field) + ":["
    tail = "," + json.dumps(rule) + "]"

    def enc(x: Any) -> str | None:
        if isinstance(x, str):
            return json.dumps(x, ensure_ascii=False)
        if isinstance(x, list):
            return json.dumps(x, ensure_ascii=False)
        return None

    encoded = rid.map(enc).astype("string")
    return head + encoded + tail


def _join_prov(pieces: list[pd.Series], index: pd.Index) -> pd.Series:
    if not pieces:
        return pd.Series("{}", index=index)
    frame = pd.concat([p.reindex(index) for p in pieces], axis=1).astype("object")
    rows = frame.to_numpy()
    return pd.Series(
        ["{" + ",".join(x for x in row if isinstance(x, str)) + "}" for row in rows],
        index=index,
        dtype="object",
    )


def survivor_ids(golden: pd.DataFrame) -> set[str]:
    """Record ids chosen as master, for setting clusters.is_survivor."""
    if golden is None or golden.empty or "survivor_id" not in golden:
        return set()
    return set(golden["survivor_id"].dropna().astype(str))
