"""What the data problems did to each KPI: the value on raw records beside the cleaned value.

"Clean" is what the audit proposes, applied in memory: duplicate clusters in the trusted bands
collapsed onto their survivor (and other entities' references to a merged contact re-pointed
to the survivor), and email addresses that failed validation or went stale left out. Nothing
is written; `merge apply` is still the way to change the data.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Callable, Collection, Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa

from audit import schema
from audit.columnwise import isin, positions_in
from audit.config import KpiConfig
from audit.kpis.catalogue import format_value
from audit.model import Issues, Matches, Records

# columns of other entities that point at a contact, by what they hold
EMAIL_REFS = {
    "deals": "contact_email",
    "subscriptions": "customer_email",
    "orders": "customer_email",
    "tickets": "requester_email",
    "surveys": "respondent_email",
    "activities": "contact_email",
}
ID_REFS = {
    "deals": "contact_id",
    "subscriptions": "customer_id",
    "orders": "customer_id",
    "tickets": "requester_id",
    "surveys": "respondent_id",
    "activities": "contact_id",
}
CUSTOMER_ENTITIES = {"contacts", "subscriptions", "orders", "deals", "surveys", "tickets"}
# the contacts' columns clean_records itself reads (and the provenance every view keeps)
CLEANING_READS = ("record_id", "source", "email", "external_id", "is_deleted")
APPROVED = {"approve", "approved", "merge", "accept", "accepted", "yes"}


def _text(s: pd.Series) -> pd.Series:
    """str(v) of each present value, None for missing (object dtype)."""
    values = s.astype("string").to_numpy(dtype=object, na_value=None)
    return pd.Series(values, index=s.index, dtype="object")


def _per_distinct(s: pd.Series, step: Callable[[pd.Series], pd.Series]) -> pd.Series:
    """`step` (string methods over str(v) of each present value, as Python strings) run once
    per distinct text and spread back over the rows; None for missing and empty.

    Issue fields, emails and ids repeat across rows: at 300k contacts the per-row Python strip
    and casefold was a fifth of the cleaning.
    """
    codes, uniq = pd.factorize(s.astype("string"), use_na_sentinel=True)
    out = step(pd.Series(np.asarray(uniq, dtype=object), dtype="object"))
    out = out.where(out.notna() & out.ne(""), None)
    values = np.empty(len(out) + 1, dtype=object)
    values[: len(out)] = out.to_numpy(dtype=object)
    values[len(out)] = None
    return pd.Series(values[codes], index=s.index, dtype="object")


def _folded(s: pd.Series) -> pd.Series:
    """_fold over a column: Python's strip and casefold per value, None for empty."""
    return _per_distinct(s, lambda t: t.str.strip().str.casefold())


def _stripped(s: pd.Series) -> pd.Series:
    """_strip over a column: Python's strip per value, None for empty."""
    return _per_distinct(s, lambda t: t.str.strip())


def _reference_map(lo: pd.DataFrame, su: pd.DataFrame, col: str, key: Any) -> pd.Series:
    """key(merged-away contact's value) -> the survivor's value, for survivors that have one
    (the last pair wins where two merged-away contacts share a key)."""
    if col not in lo:
        return pd.Series(dtype="object")
    k = key(lo[col]).to_numpy(dtype=object)
    ok = pd.notna(k) & _folded(su[col]).notna().to_numpy()
    out = pd.Series(su[col].to_numpy(dtype=object)[ok], index=k[ok], dtype="object")
    return out[~out.index.duplicated(keep="last")]


def _merged_away(matches: Matches, bands: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
    """(record id of every non-survivor in a trusted cluster, its survivor's record id), each
    non-survivor once (a record listed in two clusters keeps the last, as a dict would)."""
    none = np.zeros(0, dtype=object)
    cl = matches.clusters
    if cl is None or cl.empty or not {"cluster_id", "record_id"} <= set(cl.columns):
        return none, none
    trusted = pd.Series(False, index=cl.index)
    if "band" in cl:
        trusted |= cl["band"].astype("object").isin(list(bands))
    if "decision" in cl:
        trusted |= _folded(cl["decision"]).isin(APPROVED).to_numpy()
    cl = cl[trusted]
    if cl.empty:
        return none, none
    if "is_survivor" not in cl:
        surv = pd.Series(False, index=cl.index)
    elif pd.api.types.is_bool_dtype(cl["is_survivor"]):
        surv = cl["is_survivor"].fillna(False)
    else:  # read back from a decisions file: any spelling of true
        surv = cl["is_survivor"].map(lambda v: v is True or v == 1 or str(v).casefold() == "true")
    # ids stay Arrow strings: sorting and grouping them needs no Python object per row
    cl = pd.DataFrame(
        {
            "cid": cl["cluster_id"].astype(str).reset_index(drop=True),
            "rid": cl["record_id"].astype(str).reset_index(drop=True),
            "surv": surv.astype(bool).to_numpy(),
        }
    ).sort_values(["cid", "surv", "rid"], ascending=[True, False, True], kind="stable")
    first = cl.groupby("cid", sort=False)["rid"].transform("first")
    losers = (cl["rid"] != first).to_numpy()
    lost = cl["rid"].to_numpy(dtype=object)[losers]
    into = first.to_numpy(dtype=object)[losers]
    if pd.Index(lost).has_duplicates:  # rare (a decisions file naming a record twice)
        once = dict(zip(lost, into, strict=True))
        lost, into = np.array(list(once), dtype=object), np.array(list(once.values()), dtype=object)
    return lost, into


def _first_rows(ids: pd.Series, wanted: pd.Series | np.ndarray) -> np.ndarray:
    """The first position of each wanted id in `ids`, -1 where it has none.

    By one Arrow hash lookup when both are text: a pandas index of the contacts' ids made a
    Python string per contact (and hashed them) for a few thousand merged records.
    """
    try:
        keys = pa.array(ids, from_pandas=True)
        if isinstance(keys, pa.ChunkedArray):
            keys = keys.combine_chunks()
        text = pa.types.is_string(keys.type) or pa.types.is_large_string(keys.type)
        want = pa.array(wanted, type=keys.type, from_pandas=True) if text else None
    except (pa.ArrowException, TypeError, ValueError):
        want = None
    if want is None:
        index = pd.Index(np.asarray(ids.to_numpy(dtype=object), dtype=object))
        first = ~index.duplicated()
        rows = np.flatnonzero(first)
        at = index[first].get_indexer(np.asarray(wanted, dtype=object))
        return np.where(at >= 0, rows[np.maximum(at, 0)], -1)
    if isinstance(want, pa.ChunkedArray):
        want = want.combine_chunks()
    return positions_in(want, keys)


def _apply_golden(contacts: pd.DataFrame, matches: Matches, survivors: np.ndarray) -> pd.DataFrame:
    """Give each merged survivor the golden record's values (the merge's proposed result)."""
    golden = getattr(matches, "golden", None)
    if golden is None or golden.empty or "survivor_id" not in golden or not len(survivors):
        return contacts
    sid = golden["survivor_id"].astype(str)
    # positions of the golden rows of these survivors (the first one per survivor): the golden
    # table is read a column at a time through them, never copied whole (at 300k contacts each
    # copy of its 45 columns was about 90 MB)
    chosen = np.flatnonzero(isin(sid, survivors))
    chosen = chosen[~golden["survivor_id"].iloc[chosen].duplicated().to_numpy()]
    if not len(chosen):
        return contacts
    # the golden row of each survivor among the contacts: only those rows are touched
    at = _first_rows(sid.iloc[chosen], contacts["record_id"].astype(str))
    rows = np.flatnonzero(at >= 0)
    src = chosen[at[rows]]
    skip = {"record_id", "source", "source_file", "source_row", "extra"}
    for col in contacts.columns:
        if col in skip or col not in golden:
            continue
        picked = golden[col].take(src)
        take = picked.notna().to_numpy()
        if not take.any():
            continue
        dtype = contacts[col].dtype
        if dtype.kind in "iu" and len(rows) < len(contacts):
            continue  # a numpy integer column cannot hold the other rows' gaps: as before
        try:
            values = picked[take].astype(dtype)
        except (TypeError, ValueError):
            continue  # a golden value that does not fit the column's type: keep the survivor's
        column = contacts[col].copy()
        column.iloc[rows[take]] = values.array
        contacts[col] = column
    return contacts


# Business records whose copies inflate KPIs when an export is read twice or pasted twice.
BUSINESS_ENTITIES = ("deals", "orders", "tickets", "subscriptions")


def first_copies(frame: pd.DataFrame, entity: str) -> pd.DataFrame:
    """The frame with each record once: the first row per (source, external id), and the first
    of rows without an id that repeat each other value for value (the `<entity>.external_id.
    unique` and `<entity>.row.duplicate` rules report the rest)."""
    has_id = (
        frame["external_id"].notna()
        if "external_id" in frame
        else pd.Series(False, index=frame.index)
    )
    by_id = frame[has_id].duplicated(subset=["source", "external_id"], keep="first")
    cols = ["source", *(c for c in schema.content_columns(entity) if c in frame.columns)]
    no_id = frame.loc[~has_id, cols]
    by_content = no_id.astype(str).where(no_id.notna(), "\x00").duplicated(keep="first")
    drop = pd.concat([by_id, by_content]).reindex(frame.index, fill_value=False)
    if not drop.any():
        return frame  # the same object: the KPIs' typed view of it is shared with the raw one
    return frame[~drop.astype(bool)]


# The findings' columns `clean_records` reads (the KPI stage reads no other): which records
# have an email finding of error severity or of freshness. The run hands the KPI child only
# these, so it does not make a Python string per cell of the findings' text (message, value,
# suggestion, evidence: most of the table's bytes). tests/test_kpis_beside.py compares.
ISSUE_READS = ("record_id", "entity", "field", "severity", "dimension")


def clean_records(
    records: Records,
    issues: Issues,
    matches: Matches,
    *,
    bands: Sequence[str] = ("auto",),
    columns: Mapping[str, Collection[str]] | None = None,
) -> tuple[Records, dict[str, int]]:
    """(records with the audit's fixes applied in memory, counts of what changed).

    Clusters whose band is in `bands`, or whose `decision` approves the merge, collapse onto
    their survivor; emails with an error-severity finding or a freshness finding are cleared;
    contacts the source marks deleted or archived (`is_deleted`) are left out.

    With `columns` (entity -> names, audit.kpis.kpi_columns) the cleaned contacts keep only
    those columns and the ones cleaning reads: every copy of their rows (the deleted left out,
    the merged away dropped, the golden values written) then copies a few of their 41 columns.
    """
    out = dict(records)
    stats = {
        "duplicates_merged": 0,
        "emails_excluded": 0,
        "references_repointed": 0,
        "business_duplicates_removed": 0,
        "deleted_excluded": 0,
    }
    for entity in BUSINESS_ENTITIES:
        frame = out.get(entity)
        if frame is not None and len(frame):
            kept = first_copies(frame, entity)
            if len(kept) < len(frame):
                stats["business_duplicates_removed"] += len(frame) - len(kept)
                stats[f"{entity}_duplicates_removed"] = len(frame) - len(kept)
            out[entity] = kept
    contacts = records.get("contacts")
    if contacts is None or contacts.empty:
        return out, stats
    if columns is not None:
        wanted = {*columns.get("contacts", ()), *CLEANING_READS}
        contacts = contacts[[c for c in contacts.columns if c in wanted]]
    if "is_deleted" in contacts:
        # deleted or archived in the source (Salesforce IsDeleted, ...): not a customer any more
        flag = contacts["is_deleted"]
        if pd.api.types.is_bool_dtype(flag):
            gone = flag.fillna(False).astype(bool)
        else:  # not normalized (a caller's own frame): True, or any spelling of 'true'
            gone = flag.map(
                lambda v: v is True or (isinstance(v, str) and v.strip().casefold() == "true")
            )
            gone = gone.fillna(False).astype(bool)
        stats["deleted_excluded"] = int(gone.sum())
        if gone.any():
            contacts = contacts[~gone.to_numpy()]
    away, into = _merged_away(matches, bands)
    rid = contacts["record_id"].astype(str)
    # the first contact row of each merged-away record and of its survivor, pairs with both
    at_lo, at_su = _first_rows(rid, away), _first_rows(rid, into)
    both = (at_lo >= 0) & (at_su >= 0)
    refs = contacts[[c for c in ("email", "external_id") if c in contacts]]
    lo = refs.iloc[at_lo[both]]
    su = refs.iloc[at_su[both]]
    email_map = _reference_map(lo, su, "email", _folded)
    id_map = _reference_map(lo, su, "external_id", _stripped)
    keep = ~isin(rid, away)
    stats["duplicates_merged"] = int((~keep).sum())
    cleaned = _apply_golden(contacts[keep], matches, pd.unique(into))
    if issues is not None and len(issues):
        iss = issues[issues["entity"].astype("object").eq("contacts")]
        field = _folded(iss["field"]).fillna("")
        bad = iss[
            field.str.startswith("email")
            & (
                iss["severity"].astype("object").eq("error")
                | iss["dimension"].astype("object").eq("freshness")
            )
        ]
        drop = pd.Series(
            isin(cleaned["record_id"], bad["record_id"].dropna().unique()), index=cleaned.index
        )
        drop &= cleaned["email"].notna()
        stats["emails_excluded"] = int(drop.sum())
        cleaned["email"] = cleaned["email"].astype("object").where(~drop, None)
    out["contacts"] = cleaned
    for entity, col in EMAIL_REFS.items():
        frame = out.get(entity)
        if frame is None or frame.empty:
            continue
        # a frame with nothing to re-point stays the same object (its typed view is shared)
        for ref, refs, key in ((col, email_map, _folded), (ID_REFS[entity], id_map, _stripped)):
            if refs.empty or ref not in frame:
                continue
            keys = key(frame[ref])
            hit = isin(keys, refs.index)
            if hit.any():
                # only the rows that point at a merged-away contact are looked up
                at = np.flatnonzero(hit)
                values = np.array(frame[ref].astype("object").to_numpy(), dtype=object)
                values[at] = keys.iloc[at].map(refs).to_numpy(dtype=object)
                moved = pd.Series(values, index=frame.index, name=ref, dtype="object")
                frame = frame.assign(**{ref: moved})
                stats["references_repointed"] += int(hit.sum())
        out[entity] = frame
    return out, stats


def kpi_impact(
    raw_records: Records,
    clean: Records,
    cfg: KpiConfig,
    as_of: dt.date,
    *,
    stats: dict[str, int] | None = None,
) -> pd.DataFrame:
    """kpi_id, title, unit, raw_value, clean_value, delta, raw_n, clean_n, cause.

    Example:
        clean, stats = clean_records(records, issues, matches)
        impact = kpi_impact(records, clean, cfg.kpis, as_of, stats=stats)
    """
    from audit.kpis import compute_kpis

    return impact_table(
        compute_kpis(raw_records, cfg, as_of=as_of),
        compute_kpis(clean, cfg, as_of=as_of),
        cfg,
        n_raw=len(raw_records.get("contacts", pd.DataFrame())),
        n_clean=len(clean.get("contacts", pd.DataFrame())),
        stats=stats,
    )


def impact_table(
    raw_kpis: pd.DataFrame,
    clean_kpis: pd.DataFrame,
    cfg: KpiConfig,
    *,
    n_raw: int,
    n_clean: int,
    stats: dict[str, int] | None = None,
) -> pd.DataFrame:
    """kpi_impact from the two KPI tables (compute_kpis on the raw and the cleaned records,
    nothing withheld) and the contact counts of both: a run computes each table once."""
    from audit.kpis import selected

    raw = raw_kpis.set_index("kpi_id")
    cln = clean_kpis.set_index("kpi_id")
    n_cln = n_clean
    stats = stats or {}
    rows = []
    for spec in selected(cfg):
        r, c = raw.loc[spec.kpi_id], cln.loc[spec.kpi_id]
        rv, cv = float(r["value"]), float(c["value"])
        delta = cv - rv if not (math.isnan(rv) or math.isnan(cv)) else math.nan
        fields = {f.split("?")[0] for f in (*spec.needs, *spec.uses)}
        entities = {f.split(".")[0] for f in fields}
        cause = []
        if n_raw != n_cln and entities & CUSTOMER_ENTITIES:
            pct = (n_cln - n_raw) / n_raw if n_raw else 0.0
            deleted = stats.get("deleted_excluded", 0)
            merged = stats.get("duplicates_merged", n_raw - n_cln - deleted)
            why = [f"merging {merged:,} duplicates"] if merged else []
            if deleted:
                why.append(f"leaving out {deleted:,} deleted or archived contacts")
            cause.append(f"customer count {pct:+.0%} after {' and '.join(why)}")
        if stats.get("emails_excluded") and "contacts.email" in fields:
            cause.append(f"{stats['emails_excluded']:,} invalid or stale emails excluded")
        for entity in sorted(entities & set(BUSINESS_ENTITIES)):
            if stats.get(f"{entity}_duplicates_removed"):
                n = stats[f"{entity}_duplicates_removed"]
                cause.append(f"{n:,} duplicate {entity} rows counted once")
        rn, cn = r["n"], c["n"]
        if not (pd.isna(rn) or pd.isna(cn)) and int(rn) != int(cn):
            cause.append(f"denominator {int(rn):,} -> {int(cn):,}")
        if r["status"] != c["status"]:
            cause.append(f"status {r['status']} -> {c['status']}")
        moved = not math.isnan(delta) and abs(delta) > 1e-12
        changed = (
            moved or r["status"] != c["status"] or any(x.startswith("denominator") for x in cause)
        )
        if changed:
            cause.append(
                f"{spec.kpi_id} {format_value(rv, spec.unit)} -> {format_value(cv, spec.unit)}"
            )
        elif r["status"] == "no_data" and c["status"] == "no_data":
            cause = ["no data"]
        else:
            cause = ["no change"]
        rows.append(
            {
                "kpi_id": spec.kpi_id,
                "title": spec.title,
                "unit": spec.unit,
                "raw_value": rv,
                "clean_value": cv,
                "delta": delta,
                "raw_n": rn,
                "clean_n": cn,
                "cause": "; ".join(cause),
            }
        )
    out = pd.DataFrame(rows)
    if not out.empty:
        out["raw_n"] = out["raw_n"].astype("Int64")
        out["clean_n"] = out["clean_n"].astype("Int64")
    return out
