"""Field inventory: what information exists, where, how fresh, and whether anything uses it.

The seed articles advise knowing what is held before judging it. Every canonical column and
every unmapped source column (kept in `extra`) gets a row, so a field nobody fills, or one that
is filled but used by no rule and no KPI, stands out.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd

from audit import schema
from audit.model import Records

INVENTORY_COLUMNS = [
    "entity",
    "field",
    "kind",
    "n_records",
    "n_filled",
    "fill_rate",
    "n_distinct",
    "sources",
    "latest_update",
    "used_by_rules",
    "used_by_kpis",
]
PROVENANCE = {"record_id", "source", "source_file", "source_row", "extra"}
# the column that says when a row of each entity last changed, best first
UPDATE_COLUMNS = (
    "updated_at",
    "last_activity_at",
    "solved_at",
    "closed_at",
    "renewed_at",
    "occurred_at",
    "answered_at",
    "ordered_at",
    "spent_on",
    "exited_at",
    "entered_at",
    "started_at",
    "period_start",
    "created_at",
)


def _as_time(s: pd.Series) -> pd.Series:
    if isinstance(s.dtype, pd.DatetimeTZDtype):
        return s
    return pd.to_datetime(s, utc=True, errors="coerce", format="mixed")


def _distinct(values: pd.Series, filled: np.ndarray) -> int:
    """Distinct filled values (nunique leaves out exactly what notna calls missing)."""
    try:
        return int(values.nunique())
    except TypeError:  # lists or objects from unmapped JSON columns
        return int(values[filled].astype(str).nunique())


def _extra_columns(frame: pd.DataFrame) -> list[tuple[str, pd.Series, np.ndarray]]:
    """The unmapped columns kept in `extra` (JSON text or dicts): per key, its values over the
    distinct `extra` cells (empty text is missing) and each row's position among them.

    Each distinct JSON text is parsed once and its values kept once: many records share one (a
    deal type, a lead status). The counts a column needs (filled rows, their sources, the latest
    update) are gathered through the row positions, so no row-by-key table is built: at 1M
    contacts it was 1M x 28 Python objects, copied by every step that read it.
    """
    if "extra" not in frame or frame["extra"].isna().all():
        return []
    raw = frame["extra"].to_numpy(dtype=object)
    text = np.fromiter((isinstance(v, str) for v in raw), bool, len(raw))
    codes = np.full(len(raw), -1, np.int64)
    codes[text], uniq = pd.factorize(raw[text])
    parsed: list[dict] = [_parse(v) for v in uniq]
    for i in np.flatnonzero(~text):  # dicts (JSON sources) and empty cells: one row each
        v = raw[i]
        codes[i] = len(parsed)
        parsed.append(v if isinstance(v, dict) else {})
    table = pd.DataFrame(parsed)
    table = table.where(table.notna() & table.astype(str).ne(""), None)
    return [(str(c), table[c], codes) for c in sorted(table.columns, key=str)]


def _parse(v: str) -> dict:
    try:
        obj = json.loads(v) if v.strip() else {}
    except ValueError:
        obj = {}
    return obj if isinstance(obj, dict) else {}


def _latest(stamp: pd.Series | None, ns: np.ndarray, filled: np.ndarray) -> str | None:
    """ISO time of the latest update among the filled rows (None when there is none)."""
    if stamp is None:
        return None
    ok = filled & (ns != NAT)
    if not ok.any():
        return None
    at = np.flatnonzero(ok)
    t = stamp.iloc[int(at[np.argmax(ns[at])])]
    return None if pd.isna(t) else t.isoformat()


NAT = np.iinfo(np.int64).min


def field_inventory(
    records: Records,
    rules: pd.DataFrame,
    kpi_needs: Mapping[str, Sequence[str]],
) -> pd.DataFrame:
    by_rule: dict[tuple[str, str], list[str]] = {}
    for r in rules.itertuples():
        by_rule.setdefault((r.entity, r.field), []).append(r.rule_id)
    by_kpi: dict[tuple[str, str], list[str]] = {}
    for kpi_id, fields in kpi_needs.items():
        for f in fields:
            entity, _, col = f.rstrip("?").partition(".")
            by_kpi.setdefault((entity, col), []).append(kpi_id)
    rows = []
    for entity, frame in sorted(records.items()):
        if frame is None:
            continue
        n = len(frame)
        stamp_col = next((c for c in UPDATE_COLUMNS if c in frame and frame[c].notna().any()), None)
        stamp = _as_time(frame[stamp_col]) if stamp_col else None
        # the latest update is a masked argmax over the timestamps' integers (NaT is int64 min)
        ns = pd.DatetimeIndex(stamp).asi8 if stamp is not None else np.zeros(n, np.int64)
        derived = {c.name for c in schema.ENTITIES.get(entity, ()) if c.derived}
        canonical = [c for c in frame.columns if c not in PROVENANCE]
        # the few distinct sources, as codes: which ones fill a column is a bincount
        src_code, src_uniq = pd.factorize(frame["source"].to_numpy(dtype=object))
        src_names = [None if s is None else str(s) for s in src_uniq]
        columns: list[tuple[str, pd.Series, np.ndarray | None, str]] = [
            (c, frame[c], None, "derived" if c in derived else "canonical") for c in canonical
        ]
        columns += [(c, v, at, "extra") for c, v, at in _extra_columns(frame)]
        for col, values, at, kind in columns:
            filled = values.notna().to_numpy(dtype=bool)
            distinct = _distinct(values, filled)
            if at is not None:  # values of the distinct `extra` cells: spread over the rows
                filled = filled[at]
            seen = np.bincount(src_code[filled & (src_code >= 0)], minlength=len(src_names))
            srcs = sorted({s for s, k in zip(src_names, seen, strict=True) if k and s is not None})
            n_filled = int(filled.sum())
            rows.append(
                {
                    "entity": entity,
                    "field": col,
                    "kind": kind,
                    "n_records": n,
                    "n_filled": n_filled,
                    "fill_rate": n_filled / n if n else float("nan"),
                    "n_distinct": distinct,
                    "sources": ", ".join(srcs),
                    "latest_update": _latest(stamp, ns, filled),
                    "used_by_rules": ", ".join(sorted(set(by_rule.get((entity, col), [])))),
                    "used_by_kpis": ", ".join(sorted(set(by_kpi.get((entity, col), [])))),
                }
            )
    out = pd.DataFrame(rows, columns=INVENTORY_COLUMNS)
    return out.sort_values(["entity", "kind", "field"], kind="stable").reset_index(drop=True)
