"""Field inventory: what information exists, where, how fresh, and whether anything uses it.

The seed articles advise knowing what is held before judging it. Every canonical column and
every unmapped source column (kept in `extra`) gets a row, so a field nobody fills, or one that
is filled but used by no rule and no KPI, stands out.
"""

from __future__ import annotations

import io
import json
from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.json as pj

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


def _extra_columns(frame: pd.DataFrame) -> list[tuple[str, np.ndarray, int]]:
    """The unmapped columns kept in `extra` (JSON text or dicts): per key, which rows fill it
    (empty text is missing) and how many distinct values fill it.

    Each distinct JSON text is parsed once: many records share one (a deal type, a lead
    status). Texts whose values are all text are parsed by Arrow's JSON reader, column by
    column (at 1M contacts json.loads and a frame of the parsed dicts were a third of the
    score stage); anything else (numbers, lists, a dict cell, a text Arrow reads otherwise
    than json.loads) goes through json.loads. The rows reach a key's values through their
    positions among the distinct cells, so no row-by-key table is built.
    """
    if "extra" not in frame or frame["extra"].isna().all():
        return []
    coded = _arrow_codes(frame["extra"])
    if coded is not None:  # Arrow text (the records' own): no Python string per row
        text, codes, uniq = coded
        raw = None
    else:
        raw = frame["extra"].to_numpy(dtype=object)
        text = np.fromiter((isinstance(v, str) for v in raw), bool, len(raw))
        codes = np.full(len(raw), -1, np.int64)
        codes[text], uniq = pd.factorize(raw[text])
    if raw is None or not any(isinstance(v, dict) for v in raw[~text]):
        read = _arrow_extra(uniq)
        if read is not None:
            codes[~text] = len(uniq)  # empty cells: the empty row after the texts
            return [(name, filled[codes], n) for name, filled, n in read]
    parsed: list[dict] = [_parse(v) for v in uniq]
    for i in np.flatnonzero(~text):  # dicts (JSON sources) and empty cells: one row each
        v = None if raw is None else raw[i]
        codes[i] = len(parsed)
        parsed.append(v if isinstance(v, dict) else {})
    table = pd.DataFrame(parsed)
    table = table.where(table.notna() & table.astype(str).ne(""), None)
    out = []
    for c in sorted(table.columns, key=str):
        filled = table[c].notna().to_numpy(dtype=bool)
        out.append((str(c), filled[codes], _distinct(table[c], filled)))
    return out


def _arrow_codes(extra: pd.Series) -> tuple[np.ndarray, np.ndarray, np.ndarray] | None:
    """For an Arrow text column: which rows hold text, each row's code among the distinct
    texts (-1 for none) and the distinct texts in order of first appearance, as
    `pd.factorize` of the rows' Python strings gives them; None for any other column."""
    if extra.dtype != "str":
        return None
    try:
        arr = pa.array(extra, from_pandas=True)
        if isinstance(arr, pa.ChunkedArray):
            arr = arr.combine_chunks()
        enc = arr.dictionary_encode()
    except (pa.ArrowException, TypeError):
        return None
    text = pc.is_valid(arr).to_numpy(zero_copy_only=False).astype(bool)
    codes = pc.fill_null(enc.indices.cast(pa.int64()), -1).to_numpy(zero_copy_only=False)
    uniq = np.asarray(enc.dictionary.to_numpy(zero_copy_only=False), dtype=object)
    return text, np.array(codes, dtype=np.int64), uniq


def _arrow_extra(texts: np.ndarray) -> list[tuple[str, np.ndarray, int]] | None:
    """Per key of the JSON texts, by Arrow: filled per text (and False for one more, empty
    row) and the distinct filled values; None unless every text is one JSON object whose
    values are all text or null, read as json.loads reads it.

    One text per line: a text with a line break, a byte-order mark (json.loads refuses it,
    Arrow skips it) or two objects on one line (more rows than texts) is left to json.loads.
    Arrow reads text that looks like a time as a timestamp, so the keys are read again as
    text once they are known.
    """
    lines = [t if t.strip() else "{}" for t in texts]  # json.loads: blank text is no values
    if not lines or any("\n" in t or "\r" in t or t.startswith("\ufeff") for t in lines):
        return None
    try:
        data = "\n".join(lines).encode("utf-8")
        # one block: its column buffers are large enough to go back to the system when freed
        # (1 MiB blocks left about 30 MB of small freed buffers in the heap at 300k contacts)
        block = min(max(len(data) + 16, 1 << 20), 1 << 30)
        opts = pj.ReadOptions(block_size=block)
        table = pj.read_json(io.BytesIO(data), read_options=opts)
        ok = (pa.types.is_string, pa.types.is_null, pa.types.is_timestamp)
        if table.num_rows != len(lines) or not all(
            any(is_(t) for is_ in ok) for t in table.schema.types
        ):
            return None
        times = [
            n
            for n, t in zip(table.column_names, table.schema.types, strict=True)
            if pa.types.is_timestamp(t)
        ]
        if times:  # only those keys read again, as text (the parser skips the others' values)
            as_text = pa.schema([(n, pa.string()) for n in times])
            parse = pj.ParseOptions(explicit_schema=as_text, unexpected_field_behavior="ignore")
            again = pj.read_json(io.BytesIO(data), read_options=opts, parse_options=parse)
            if again.num_rows != table.num_rows or again.column_names != times:
                return None
            for n in times:
                table = table.set_column(table.column_names.index(n), n, again[n])
    except (pa.ArrowException, UnicodeError):
        return None
    out = []
    for name in sorted(table.column_names):
        col = table[name]
        if pa.types.is_null(col.type):
            filled = np.zeros(len(lines), bool)
            n = 0
        else:
            col = col.combine_chunks()
            has = pc.and_(pc.is_valid(col), pc.not_equal(col, ""))
            filled = has.to_numpy(zero_copy_only=False).astype(bool)
            n = pc.count_distinct(col.filter(has)).as_py()
        out.append((name, np.append(filled, False), n))
    return out


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
        columns: list[tuple[str, np.ndarray, int, str]] = []
        for c in canonical:
            filled = frame[c].notna().to_numpy(dtype=bool)
            kind = "derived" if c in derived else "canonical"
            columns.append((c, filled, _distinct(frame[c], filled), kind))
        columns += [(c, filled, n, "extra") for c, filled, n in _extra_columns(frame)]
        for col, filled, distinct, kind in columns:
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
