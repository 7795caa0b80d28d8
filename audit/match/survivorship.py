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
        default_factory=lambda: list[MasterCriterion](
            [
                "most_complete",
                "most_recent_activity",
                "oldest_created",
                "source_priority",
            ]
        )
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
        {t for f in rules.fields if (t := rules.rule_for(f).keep_losing_as) is not None}
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
    JSON {field: record_id} for the golden values taken from a record other than the survivor
    ({field: [record_ids]} for combined ones); every other non-empty value is the survivor's,
    and each field's rule is the same in every cluster (`field_rules`). `provenance` expands it
    to {field: [record_id, rule]}. Compact because golden.csv is a person's file: the full form
    repeated the record id and rule of ~30 fields per row, two thirds of the file at 1M contacts.

    Example:
        golden = propose_golden(records["contacts"], matches.clusters, cfg.sources)
    """
    rs = rules if isinstance(rules, SurvivorshipRules) else load_rules(rules)
    if contacts is None or clusters is None or clusters.empty or contacts.empty:
        return _no_golden(rs)
    return _propose(_members(contacts, clusters), sources, rs)


def propose_golden_at(
    contacts: pd.DataFrame,
    rows: np.ndarray,
    cluster_ids: np.ndarray,
    record_ids: np.ndarray,
    sources: Sequence[SourceConfig],
    rules: SurvivorshipRules,
) -> pd.DataFrame:
    """`propose_golden` for members whose contact rows are known: the members' `rows` in
    `contacts`, their `cluster_ids` and `record_ids` (distinct, every cluster two or more).

    The match stage holds these positions already; looking each member's id up again among
    the contacts and gathering every column twice was a fifth of its golden proposals.
    The rows may come in any order (each choice breaks its ties by record id), so they are
    read in the contacts' order, which reads memory forward.
    """
    if len(rows) == 0 or contacts is None or contacts.empty:
        return _no_golden(rules)
    by_row = np.argsort(rows, kind="stable")
    # only the columns a proposal reads: not `extra` (every unmapped column's JSON)
    read = [c for c in ("source", *_CANON) if c in contacts.columns]
    m = _member_rows(contacts[read], rows[by_row], cluster_ids[by_row], record_ids[by_row])
    return _propose(m, sources, rules)


def _no_golden(rs: SurvivorshipRules) -> pd.DataFrame:
    return pd.DataFrame({c: pd.Series(dtype="object") for c in golden_columns(rs)})


def _propose(
    m: pd.DataFrame, sources: Sequence[SourceConfig], rs: SurvivorshipRules
) -> pd.DataFrame:
    out_cols = golden_columns(rs)
    if m.empty:
        return _no_golden(rs)
    w = _Work(m, sources)
    canon = [c.name for c in schema.ENTITIES["contacts"]]

    master_pos, decided = w.master(rs.master)
    w.set_master(master_pos)
    rid = w.rid
    golden: dict[str, Any] = {
        "cluster_id": w.cluster_ids,
        "survivor_id": rid[master_pos],
        "survivor_rule": decided,
        "source": m["source"].to_numpy(dtype=object)[master_pos],
        "n_records": np.bincount(w.codes, minlength=w.k).astype("int64"),
        "merged_record_ids": w.joined_ids(),
    }
    picked: dict[str, np.ndarray] = {}
    pieces: list[pd.Series] = []
    for f in canon:
        fr = rs.rule_for(f)
        if fr.follows:
            continue
        if fr.rule == "combine":
            value, src_rids = _combine(w, f, fr.separator)
            golden[f] = value
            pieces.append(_prov_piece(f, src_rids))
            continue
        src = w.pick(f, fr)
        picked[f] = src
        golden[f] = w.take(f, src)
        pieces.append(_prov_piece(f, w.rid_json_at(np.where(src == master_pos, -1, src))))
    for f in _follow_order(rs, canon):
        fr = rs.rule_for(f)
        base = w.first(w.order("master"), w.present[f])
        src = base
        if fr.follows in picked:
            lead = picked[fr.follows]
            ok = lead >= 0
            has = np.zeros(w.k, dtype=bool)
            has[ok] = w.present[f][lead[ok]]
            src = np.where(has, lead, base)
        picked[f] = src
        golden[f] = w.take(f, src)
        pieces.append(_prov_piece(f, w.rid_json_at(np.where(src == master_pos, -1, src))))
    frame = pd.DataFrame(golden)
    for target in sorted({t for f in canon if (t := rs.rule_for(f).keep_losing_as) is not None}):
        fields = [f for f in canon if rs.rule_for(f).keep_losing_as == target]
        frame[target] = _losing(w, frame, fields)
    frame["golden_from"] = _join_prov(pieces, w.k)
    for c in out_cols:
        if c not in frame.columns:
            frame[c] = None
    return frame[out_cols]


def _follow_order(rs: SurvivorshipRules, canon: list[str]) -> list[str]:
    """Fields with `follows`, each after the field it follows (country_code after country)."""
    todo = [f for f in canon if rs.rule_for(f).follows]
    done: list[str] = []
    while todo:
        ready = [f for f in todo if rs.rule_for(f).follows not in todo]
        if not ready:  # a cycle: take them in column order, each falls back to the master
            ready = todo[:1]
        done += ready
        todo = [f for f in todo if f not in ready]
    return done


_MISSING = np.iinfo("int64").min
_CANON = tuple(c.name for c in schema.ENTITIES["contacts"])
_LAST = np.iinfo("int64").max


def _members(contacts: pd.DataFrame, clusters: pd.DataFrame) -> pd.DataFrame:
    """Cluster members (clusters of two or more) joined to their contact rows."""
    import pyarrow as pa
    import pyarrow.compute as pc

    mem = clusters[["cluster_id", "record_id"]].dropna()
    mem = pd.DataFrame(
        {"cluster_id": mem["cluster_id"].astype(str), "record_id": mem["record_id"].astype(str)}
    ).drop_duplicates("record_id")
    contact_ids = pa.array(contacts["record_id"].astype(str).to_numpy(dtype=object), pa.string())
    member_ids = pa.array(mem["record_id"].to_numpy(dtype=object), pa.string())
    # first contact row of each member id (a repeated record id keeps its first row)
    pos = pc.index_in(member_ids, value_set=contact_ids).to_numpy(zero_copy_only=False)
    found = ~np.isnan(pos) if pos.dtype.kind == "f" else np.ones(len(pos), dtype=bool)
    pos = pos[found].astype("int64")
    cids = mem["cluster_id"].to_numpy(dtype=object)[found]
    codes, uniq = pd.factorize(cids)
    keep = np.bincount(codes, minlength=len(uniq))[codes] >= 2
    rids = mem["record_id"].to_numpy(dtype=object)[found][keep]
    return _member_rows(contacts, pos[keep], cids[keep], rids)


def _member_rows(
    contacts: pd.DataFrame, rows: np.ndarray, cluster_ids: np.ndarray, record_ids: np.ndarray
) -> pd.DataFrame:
    """The contact rows at `rows`, each with its cluster id and record id (as text)."""
    m = contacts.iloc[rows].reset_index(drop=True)
    m = m.drop(columns=["cluster_id"], errors="ignore")
    m["record_id"] = record_ids
    m.insert(0, "cluster_id", cluster_ids)
    for c in schema.columns("contacts"):
        if c not in m.columns:
            m[c] = pd.Series([None] * len(m), index=m.index, dtype="object")
    return m


class _Work:
    """Member rows as numpy arrays: cluster codes, sort keys and orders shared by all fields."""

    def __init__(self, m: pd.DataFrame, sources: Sequence[SourceConfig]) -> None:
        self.m = m
        codes, uniq = pd.factorize(m["cluster_id"], sort=True)
        self.codes = codes.astype("int64")
        self.cluster_ids = np.asarray(uniq, dtype=object)
        self.k = len(uniq)
        self.rid = m["record_id"].to_numpy(dtype=object)
        self.rid_rank = _rank(m["record_id"])
        canon = [c.name for c in schema.ENTITIES["contacts"]]
        self.present = {c: _present(m[c]).to_numpy() for c in canon}
        mappable = [c.name for c in schema.ENTITIES["contacts"] if not c.derived]
        self.complete = np.sum([self.present[c] for c in mappable], axis=0).astype("int64")
        created, updated = _ns(m["created_at"]), _ns(m["updated_at"])
        activity = _ns(m["last_activity_at"])
        act = np.where(activity > _MISSING, activity, updated)
        rec = np.where(updated > _MISSING, updated, activity)
        rec = np.where(rec > _MISSING, rec, created)
        self.activity_desc = _desc(act)
        self.recency_desc = _desc(rec)
        self.created_asc = np.where(created > _MISSING, created, _LAST)
        prio = {s.name: s.priority for s in sources}
        self.prio = m["source"].map(prio).fillna(0).to_numpy(dtype="int64")
        self.is_master = np.zeros(len(m), dtype="int64")
        self._orders: dict[str, np.ndarray] = {}
        self._rid_json: Any = None

    def master(self, criteria: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
        """Master row per cluster, and the criterion that separated it from the runner-up."""
        keys = {
            "most_complete": -self.complete,
            "most_recent_activity": self.activity_desc,
            "oldest_created": self.created_asc,
            "source_priority": -self.prio,
        }
        ks = [keys[c] for c in criteria]
        order = np.lexsort((self.rid_rank, *reversed(ks), self.codes))
        starts = self._starts(order)
        first, second = order[starts], order[starts + 1]
        decided = np.full(self.k, "record_id", dtype=object)
        open_ = np.ones(self.k, dtype=bool)
        for name, key in zip(criteria, ks, strict=True):
            hit = open_ & (key[first] != key[second])
            decided[hit] = name
            open_ &= ~hit
        return first, decided

    def set_master(self, pos: np.ndarray) -> None:
        self.is_master[pos] = 1

    def _starts(self, order: np.ndarray) -> np.ndarray:
        c = self.codes[order]
        return np.flatnonzero(np.r_[True, c[1:] != c[:-1]])

    def order(self, name: str) -> np.ndarray:
        if name not in self._orders:
            im, rd, pr = -self.is_master, self.recency_desc, -self.prio
            keys = {
                "master": (self.rid_rank, rd, im, self.codes),
                "recent": (self.rid_rank, im, rd, self.codes),
                "priority": (self.rid_rank, rd, im, pr, self.codes),
            }[name]
            self._orders[name] = np.lexsort(keys)
        return self._orders[name]

    def first(self, order: np.ndarray, ok: np.ndarray) -> np.ndarray:
        """Per cluster, the first row in `order` where `ok`; -1 where there is none."""
        o = order[ok[order]]
        out = np.full(self.k, -1, dtype="int64")
        if len(o):
            c = self.codes[o]
            head = np.r_[True, c[1:] != c[:-1]]
            out[c[head]] = o[head]
        return out

    def pick(self, field: str, fr: FieldRule) -> np.ndarray:
        ok = self.present[field]
        rule = fr.rule
        if rule == "master":
            return self.first(self.order("master"), ok)
        if rule == "most_recent":
            return self.first(self.order("recent"), ok)
        if rule == "source_priority":
            return self.first(self.order("priority"), ok)
        im, rd = -self.is_master, self.recency_desc
        if rule == "preferred_source":
            rank = {s: i for i, s in enumerate(fr.sources)}
            srank = self.m["source"].map(rank).fillna(len(rank)).to_numpy(dtype="int64")
            return self.first(
                np.lexsort((self.rid_rank, rd, im, -self.prio, srank, self.codes)), ok
            )
        if rule == "longest":
            col = self.m[field]
            text = col if pd.api.types.is_string_dtype(col) else col.astype("str")
            length = text.str.len().fillna(-1).to_numpy(dtype="int64")
            return self.first(np.lexsort((self.rid_rank, rd, im, -length, self.codes)), ok)
        # earliest / latest
        col = self.m[field]
        if field.endswith("_at") or pd.api.types.is_datetime64_any_dtype(col):
            key = _ns(col)
        elif pd.api.types.is_numeric_dtype(col):
            key = pd.to_numeric(col, errors="coerce").rank(method="dense").fillna(0).to_numpy()
        else:
            key = pd.factorize(col.astype("string"), sort=True)[0]
        key = key if rule == "earliest" else _desc(np.asarray(key, dtype="int64"))
        return self.first(np.lexsort((self.rid_rank, im, key, self.codes)), ok)

    def take(self, field: str, src: np.ndarray) -> Any:
        return self.m[field].array.take(src, allow_fill=True)

    def rid_json_at(self, src: np.ndarray) -> Any:
        """JSON-quoted record ids of the rows in `src` (null where -1), as an Arrow array."""
        import pyarrow as pa

        if self._rid_json is None:
            import pyarrow.compute as pc

            ids = pa.array(self.rid, type=pa.string())
            plain = pc.match_substring_regex(ids, r'^[^"\\\x00-\x1f]*$')
            quoted = pc.binary_join_element_wise('"', ids, '"', "")
            odd = np.flatnonzero(~np.asarray(plain, dtype=bool))
            if len(odd):  # ids that need JSON escapes (rare)
                mask = np.zeros(len(ids), dtype=bool)
                mask[odd] = True
                fixed = [json.dumps(self.rid[i], ensure_ascii=False) for i in odd.tolist()]
                quoted = pc.replace_with_mask(quoted, pa.array(mask), pa.array(fixed, pa.string()))
            self._rid_json = quoted
        return self._rid_json.take(pa.array(src, mask=src < 0))

    def joined_ids(self) -> np.ndarray:
        order = np.lexsort((self.rid_rank, self.codes))
        return _join_groups(self.codes[order], self.rid[order], self.k, "; ")


def _rank(ids: pd.Series) -> np.ndarray:
    """Rank of each id in code-point order (Arrow's sort: UTF-8 byte order is the same)."""
    import pyarrow as pa
    import pyarrow.compute as pc

    order = pc.sort_indices(pa.array(ids.astype(str).to_numpy(dtype=object), type=pa.string()))
    rank = np.empty(len(ids), dtype="int64")
    rank[order.to_numpy()] = np.arange(len(ids), dtype="int64")
    return rank


def _desc(ns: np.ndarray) -> np.ndarray:
    """Sort key for descending order with missing values last."""
    return np.where(ns > _MISSING, -ns, _LAST)


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
    """Non-empty: not missing and, for text, not '' (normalize trims values already)."""
    import pyarrow as pa
    import pyarrow.compute as pc

    arr = getattr(s.array, "_pa_array", None)
    if arr is not None and (pa.types.is_string(arr.type) or pa.types.is_large_string(arr.type)):
        # Arrow text: tested in Arrow, without pandas' masked comparison
        ok_arr = pc.fill_null(pc.and_(pc.is_valid(arr), pc.not_equal(arr, "")), False)
        return pd.Series(np.asarray(ok_arr, dtype=bool), index=s.index)
    ok = s.notna()
    if s.dtype == object or pd.api.types.is_string_dtype(s):
        ok = ok & s.ne("").fillna(False).astype(bool)
    return ok.astype(bool)


def _combine(w: _Work, field: str, sep: str) -> tuple[np.ndarray, Any]:
    """All distinct values, master first then most recent, and the records they came from
    (per cluster a JSON list of record ids, null where the field is empty)."""
    import pyarrow as pa

    order = w.order("master")
    o = order[w.present[field][order]]
    values = pd.Series(w.m[field].to_numpy(dtype=object)[o].astype(str), dtype=object).str.strip()
    c = w.codes[o]
    first = ~pd.DataFrame({"c": c, "v": values}).duplicated(["c", "v"]).to_numpy()
    o, c, values = o[first], c[first], values.to_numpy(dtype=object)[first]
    joined = np.full(w.k, None, dtype=object)
    rids = pa.nulls(w.k, pa.string())
    if len(c):
        starts = np.flatnonzero(np.r_[True, c[1:] != c[:-1]])
        joined[c[starts]] = _joined(starts, values, sep).to_numpy(zero_copy_only=False)
        # json.dumps of the list: its items as JSON strings joined by ", " inside brackets
        lists = _joined(starts, w.rid_json_at(o), ", ")
        at = np.full(w.k, -1, np.int64)
        at[c[starts]] = np.arange(len(starts))
        rids = _bracketed(lists).take(pa.array(at, mask=at < 0))
    return joined, rids


def _bracketed(arr: Any) -> Any:
    """[item] around each string (null stays null)."""
    import pyarrow as pa
    import pyarrow.compute as pc

    return pc.binary_join_element_wise(pa.scalar("["), arr, pa.scalar("]"), "")


def _losing(w: _Work, golden: pd.DataFrame, fields: list[str]) -> np.ndarray:
    """Distinct non-golden values of `fields` per cluster, master first, '; '-joined."""
    order = w.order("master")
    codes: list[np.ndarray] = []
    values: list[np.ndarray] = []
    for f in fields:  # the golden values first: they are what the losing values must differ from
        g = np.asarray(golden[f], dtype=object)
        has = pd.notna(g)
        codes.append(np.flatnonzero(has))
        values.append(g[has])
    n_gold = sum(len(c) for c in codes)
    for f in fields:
        o = order[w.present[f][order]]
        codes.append(w.codes[o])
        values.append(w.m[f].to_numpy(dtype=object)[o])
    c = np.concatenate(codes).astype("int64")
    v = np.concatenate(values)
    if len(c) == n_gold:
        return np.full(w.k, None, dtype=object)
    gold = np.zeros(len(c), dtype=bool)
    gold[:n_gold] = True
    kcode = _fold_codes(v)
    idx = np.argsort(c, kind="stable")  # per cluster: golden, then field by field, master first
    c, v, kcode, gold = c[idx], v[idx], kcode[idx], gold[idx]
    seen = pd.Series(c * (int(kcode.max()) + 1) + kcode).duplicated().to_numpy()
    keep = ~seen & ~gold
    return _join_groups(c[keep], np.asarray([str(x) for x in v[keep]], dtype=object), w.k, "; ")


def _join_groups(codes: np.ndarray, values: np.ndarray, k: int, sep: str) -> np.ndarray:
    """sep-join `values` per group code (codes sorted ascending); None for empty groups."""
    out = np.full(k, None, dtype=object)
    if len(codes) == 0:
        return out
    starts = np.flatnonzero(np.r_[True, codes[1:] != codes[:-1]])
    out[codes[starts]] = _joined(starts, values, sep).to_numpy(zero_copy_only=False)
    return out


def _joined(starts: np.ndarray, values: Any, sep: str) -> Any:
    """One sep-joined Arrow string per run of `values` beginning at `starts` (in Arrow: no
    Python call per group)."""
    import pyarrow as pa
    import pyarrow.compute as pc

    vals = values if isinstance(values, pa.Array) else pa.array(values, type=pa.string())
    offsets = pa.array(np.r_[starts, len(vals)].astype(np.int32), pa.int32())
    return pc.binary_join(pa.ListArray.from_arrays(offsets, vals), sep)


def _fold_codes(values: np.ndarray) -> np.ndarray:
    """Equal codes for values equal once lower-cased and stripped of spaces and - . ( )."""
    import pyarrow as pa
    import pyarrow.compute as pc

    try:  # nearly always all text: Arrow reads the strings without a Python call per value
        arr = pa.array(values, type=pa.string())
    except (pa.ArrowInvalid, pa.ArrowTypeError):
        arr = None
    if arr is None or arr.null_count:  # str() of what is not text, as before ('None' too)
        arr = pa.array([v if isinstance(v, str) else str(v) for v in values], type=pa.string())
    # folded once per distinct value (a golden value is also among its cluster's values)
    d = pc.dictionary_encode(arr)
    key = pc.replace_substring_regex(pc.utf8_lower(d.dictionary), r"[\s\-().]", "")
    folded = pc.dictionary_encode(key).indices.to_numpy(zero_copy_only=False).astype("int64")
    return folded[d.indices.to_numpy(zero_copy_only=False)]


def _prov_piece(field: str, encoded: Any) -> Any:
    """'"field":<rid JSON>' per cluster (null where the value is empty or the survivor's)."""
    import pyarrow as pa
    import pyarrow.compute as pc

    arr = encoded if isinstance(encoded, pa.Array) else pa.array(encoded, type=pa.string())
    head = pa.scalar(json.dumps(field) + ":")
    return pc.binary_join_element_wise(head, arr, "")


def field_rules(rules: SurvivorshipRules | None = None) -> dict[str, str]:
    """{field: rule} as provenance names it ('longest', 'follows:full_name'), in the order the
    golden values are chosen: the same for every cluster, so golden_from leaves it out."""
    rs = rules or load_rules()
    canon = [c.name for c in schema.ENTITIES["contacts"]]
    out: dict[str, str] = {f: rs.rule_for(f).rule for f in canon if not rs.rule_for(f).follows}
    out.update({f: f"follows:{rs.rule_for(f).follows}" for f in _follow_order(rs, canon)})
    return out


def _filled(value: Any) -> bool:
    if value is None or value is pd.NA or value is pd.NaT:
        return False
    if isinstance(value, float) and value != value:
        return False
    return not (isinstance(value, str) and value == "")


def provenance(
    golden: Any, rules: SurvivorshipRules | dict[str, str] | None = None
) -> dict[str, list[Any]]:
    """{field: [record_id (or [record_ids]), rule]} for every non-empty value of one golden
    row (a mapping of its columns, as stored or read back as text), from its compact
    golden_from and the survivorship rules."""
    order = rules if isinstance(rules, dict) else field_rules(rules)
    text = golden.get("golden_from")
    taken = json.loads(text) if isinstance(text, str) and text.strip() else {}
    survivor = str(golden.get("survivor_id"))
    out: dict[str, list[Any]] = {}
    for f, rule in order.items():
        if f in taken:
            out[f] = [taken[f], rule]
        elif _filled(golden.get(f)):
            out[f] = [[survivor] if rule == "combine" else survivor, rule]
    return out


def _join_prov(pieces: list[Any], k: int) -> np.ndarray:
    """One JSON object per cluster from the field pieces, skipping empty fields."""
    import pyarrow as pa
    import pyarrow.compute as pc

    if not pieces:
        return np.full(k, "{}", dtype=object)
    # a leading non-null piece: Arrow drops a row whose pieces are all null when skipping
    opening = pa.array(np.full(k, "{", dtype=object), type=pa.string())
    joined = pc.binary_join_element_wise(opening, *pieces, ",", null_handling="skip")
    joined = pc.replace_substring(joined, "{,", "{", max_replacements=1)
    closed = pc.binary_join_element_wise(joined, pa.scalar("}"), "")
    return closed.to_numpy(zero_copy_only=False).astype(object)


def survivor_ids(golden: pd.DataFrame) -> set[str]:
    """Record ids chosen as master, for setting clusters.is_survivor."""
    if golden is None or golden.empty or "survivor_id" not in golden:
        return set()
    return set(golden["survivor_id"].dropna().astype(str))
