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

import numpy as np
import pandas as pd

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
    frames = []
    iss = issues if issues is not None and len(issues) else None
    if iss is not None:
        iss = iss[
            iss["record_id"].notna() & iss["severity"].astype("object").isin(["error", "warning"])
        ]
        iss = iss.assign(
            record_id=iss["record_id"].astype(str),
            _field=iss["field"].astype("object").fillna("").astype(str),
            _dim=iss["dimension"].astype("object").fillna("").astype(str),
            _sev=iss["severity"].astype(str),
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
    for entity, frame in sorted(records.items()):
        if frame is None or frame.empty:
            continue
        ids = frame["record_id"].astype(str)
        out = pd.DataFrame(
            {
                "record_id": ids.to_numpy(),
                "entity": entity,
                "source": frame["source"].astype("object").to_numpy(),
                "owner": (
                    frame["owner"].astype("object").to_numpy()
                    if "owner" in frame
                    else np.full(len(frame), None, dtype=object)
                ),
            }
        )
        ent_rules = rules[
            rules["entity"].eq(entity) & rules["status"].eq("ok") & rules["severity"].ne("info")
        ]
        n_comp_rules = int(ent_rules["dimension"].eq("completeness").sum())
        mine = iss[iss["entity"].astype("object").eq(entity)] if iss is not None else None
        if mine is not None and len(mine):

            def per(mask: pd.Series, _m: pd.DataFrame = mine) -> pd.Series:
                return _m[mask].groupby("record_id")["rule_id"].nunique()

            valid_like = mine["_dim"].isin(["validity", "consistency", "integrity"])
            valid_err = per(valid_like & mine["_sev"].eq("error"))
            valid_warn = per(valid_like & mine["_sev"].eq("warning"))
            comp_err = per(mine["_dim"].eq("completeness") & mine["_sev"].eq("error"))
            comp_warn = per(mine["_dim"].eq("completeness") & mine["_sev"].eq("warning"))
            email = mine["_field"].str.startswith("email")
            email_err = per(email & mine["_sev"].eq("error"))
            email_warn = per(email & mine["_sev"].eq("warning"))
            fresh_err = per(mine["_dim"].eq("freshness") & mine["_sev"].eq("error"))
            fresh_warn = per(mine["_dim"].eq("freshness") & mine["_sev"].eq("warning"))
            n_err = mine[mine["_sev"].eq("error")].groupby("record_id").size()
            n_warn = mine[mine["_sev"].eq("warning")].groupby("record_id").size()
        else:
            valid_err = valid_warn = comp_err = comp_warn = pd.Series(dtype="float64")
            email_err = email_warn = pd.Series(dtype="float64")
            fresh_err = fresh_warn = n_err = n_warn = pd.Series(dtype="float64")

        def look(s: pd.Series, _ids: pd.Series = ids) -> np.ndarray:
            return s.reindex(_ids).fillna(0).to_numpy(dtype="float64")

        def health(err: pd.Series, warn: pd.Series) -> np.ndarray:
            return 1 - np.where(look(err) > 0, 1.0, np.where(look(warn) > 0, 0.5, 0.0))

        out["validity"] = health(valid_err, valid_warn)
        if n_comp_rules:
            out["completeness"] = health(comp_err, comp_warn)
        else:
            out["completeness"] = _fill_share(frame).to_numpy()
        out["duplicate_risk"] = (
            1 - pair_risk.reindex(ids).fillna(0).to_numpy(dtype="float64")
            if entity == "contacts"
            else np.nan
        )
        if entity == "contacts":
            penalty = np.where(look(email_err) > 0, 1.0, np.where(look(email_warn) > 0, 0.5, 0.0))
            out["email_health"] = np.where(frame["email"].notna().to_numpy(), 1 - penalty, 0.0)
        else:
            out["email_health"] = np.nan
        out["freshness"] = health(fresh_err, fresh_warn)
        out["score"] = out[list(COMPONENTS)].mean(axis=1, skipna=True)
        out["n_errors"] = look(n_err).astype("int64")
        out["n_warnings"] = look(n_warn).astype("int64")
        frames.append(out[RECORD_COLUMNS])
    if not frames:
        return pd.DataFrame({c: pd.Series(dtype="object") for c in RECORD_COLUMNS})
    return (
        pd.concat(frames, ignore_index=True)
        .sort_values("record_id", kind="stable")
        .reset_index(drop=True)
    )


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
