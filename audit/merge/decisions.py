"""Read a reviewer's merge decisions from the HTML page's download, the CSV or the XLSX.

Three shapes are accepted, so that a reviewer can use whichever tool they live in:
- JSON from merge_review.html: {"run_id": ..., "decisions": [{cluster_id, decision, split_off}]}
- a cluster table (CSV/XLSX): cluster_id, decision, split_off (record ids separated by ; , or
  spaces)
- the proposals table itself (merge_proposals.csv/.xlsx, one row per record): write approve or
  reject on any row of a cluster, and split on the record rows to keep out of the merge.
  A reject anywhere in a cluster wins (the safe choice).
- merge_proposals.parquet, the same table with every cluster (the CSV and XLSX hold the ones
  on the review page once a run has more), for deciding in bulk from a program.
"""

from __future__ import annotations

import csv
import io
import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from audit.errors import ConfigError, InputError
from audit.merge.cells import unneutralize
from audit.sources.decoding import decode

APPROVE, REJECT, SPLIT = "approve", "reject", "split"
# a decisions file is untrusted input read whole: far above any real review, far below harm
MAX_BYTES = 64 * 2**20
MAX_ROWS = 2_000_000
MAX_COLUMNS = 200
MAX_XLSX_INFLATED = 512 * 2**20  # the sheets' XML once unzipped (a zip bomb stops here)
# merge_proposals.parquet holds every cluster (about 1.2 rows per contact): only its decision
# columns are read, after its footer says how many rows and columns there are
MAX_PARQUET_BYTES = 2**30
MAX_PARQUET_ROWS = 20_000_000
_WORDS = {
    "approve": APPROVE,
    "approved": APPROVE,
    "merge": APPROVE,
    "yes": APPROVE,
    "y": APPROVE,
    "ok": APPROVE,
    "reject": REJECT,
    "rejected": REJECT,
    "no": REJECT,
    "n": REJECT,
    "keep separate": REJECT,
    "split": SPLIT,
    "": "",
    "-": "",
    "undecided": "",
}


@dataclass
class Decision:
    cluster_id: str
    decision: str  # approve | reject | split
    split_off: list[str] = field(default_factory=list)
    where: str = ""  # "file row N", for error messages


def read_decisions(path: Path) -> dict[str, Decision]:
    """cluster_id -> Decision (clusters without a decision are absent)."""
    path = Path(path)
    if not path.is_file():
        raise ConfigError(f"{path}: decisions file not found.")
    size = path.stat().st_size
    suffix = path.suffix.lower()
    if suffix == ".parquet":
        return _from_rows(path, _parquet_rows(path, size))
    if size > MAX_BYTES:
        raise InputError(
            f"{path}: {size // 2**20} MB is more than a decisions file can be "
            f"({MAX_BYTES // 2**20} MB); give the file downloaded from merge_review.html."
        )
    if suffix == ".json":
        return _from_json(path)
    if suffix in (".xlsx", ".xlsm"):
        rows = _xlsx_rows(path)
    elif suffix in (".csv", ".txt"):
        rows = _csv_rows(path)
    else:
        raise ConfigError(f"{path}: decisions must be a .json, .csv, .xlsx or .parquet file.")
    return _from_rows(path, rows)


def _word(path: Path, where: str, raw: str) -> str:
    w = _WORDS.get(re.sub(r"\s+", " ", raw.strip().lower()))
    if w is None:
        raise ConfigError(
            f"{path} {where}: decision {raw!r} is not one of approve, reject, split (or empty)."
        )
    return w


def _ids(raw: Any) -> list[str]:
    if raw is None:
        return []
    if isinstance(raw, list):
        return [str(x).strip() for x in raw if str(x).strip()]
    return [s for s in re.split(r"[;,\s]+", str(raw).strip()) if s]


def _from_json(path: Path) -> dict[str, Decision]:
    try:
        data = json.loads(path.read_text(encoding="utf-8-sig"))
    except (OSError, ValueError, RecursionError) as e:
        raise ConfigError(f"{path}: not a readable JSON decisions file ({e}).") from None
    items = data.get("decisions") if isinstance(data, dict) else data
    if not isinstance(items, list):
        raise ConfigError(f"{path}: expected {{'decisions': [...]}} as downloaded from the page.")
    out: dict[str, Decision] = {}
    for i, item in enumerate(items):
        where = f"decisions[{i}]"
        if not isinstance(item, dict) or not str(item.get("cluster_id") or "").strip():
            raise ConfigError(f"{path} {where}: each decision needs a cluster_id.")
        d = Decision(
            cluster_id=str(item["cluster_id"]).strip(),
            decision=_word(path, where, str(item.get("decision") or "")),
            split_off=_ids(item.get("split_off")),
            where=f"{path} {where}",
        )
        _add(path, out, d)
    return out


def run_id_of(path: Path) -> str | None:
    """The run id a JSON decisions file was made for, if it says."""
    if Path(path).suffix.lower() != ".json":
        return None
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8-sig"))
    except (OSError, ValueError):
        return None
    return str(data["run_id"]) if isinstance(data, dict) and data.get("run_id") else None


def _csv_rows(path: Path) -> list[tuple[int, dict[str, str]]]:
    try:
        data = path.read_bytes()
    except OSError as e:
        raise InputError(f"{path}: could not be read ({e}).") from None
    # Excel saves CSV in the local code page (cp949 in Korea, cp932 in Japan): decode it the
    # way every source file is decoded, so a reviewer's Korean notes are not mojibake
    text = decode(data, encoding=None, file=str(path)).text
    reader = csv.reader(io.StringIO(text, newline=""))
    rows = list(reader)
    return _rows_with_header(path, rows)


def _xlsx_rows(path: Path) -> list[tuple[int, dict[str, str]]]:
    import zipfile

    import openpyxl

    try:
        with zipfile.ZipFile(path) as z:
            inflated = sum(i.file_size for i in z.infolist())
    except (zipfile.BadZipFile, OSError) as e:
        raise InputError(f"{path}: could not be opened as an XLSX workbook ({e}).") from None
    if inflated > MAX_XLSX_INFLATED:
        raise InputError(
            f"{path}: unzips to {inflated // 2**20} MB, more than a decisions workbook can be "
            f"({MAX_XLSX_INFLATED // 2**20} MB); refused."
        )
    try:
        wb = openpyxl.load_workbook(path, read_only=True, data_only=True)
    except Exception as e:
        raise InputError(f"{path}: could not be opened as an XLSX workbook ({e}).") from None
    try:
        ws = wb["proposals"] if "proposals" in wb.sheetnames else wb.worksheets[0]
        rows = []
        for n, row in enumerate(ws.iter_rows(values_only=True), start=1):
            if n > MAX_ROWS or len(row) > MAX_COLUMNS:
                what = f"{n} rows" if n > MAX_ROWS else f"{len(row)} columns in row {n}"
                raise InputError(
                    f"{path}: {what}, more than a decisions sheet can have ({MAX_ROWS} rows, "
                    f"{MAX_COLUMNS} columns); refused."
                )
            rows.append(["" if v is None else str(v) for v in row])
    finally:
        wb.close()
    return _rows_with_header(path, rows)


def _parquet_rows(path: Path, size: int) -> list[tuple[int, dict[str, str]]]:
    """The decision columns of a Parquet proposals table, as rows that carry a decision (an
    undecided row decides nothing); row N is the table's Nth row."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    if size > MAX_PARQUET_BYTES:
        raise InputError(
            f"{path}: {size // 2**20} MB is more than a decisions table can be "
            f"({MAX_PARQUET_BYTES // 2**20} MB); refused."
        )
    try:
        meta = pq.ParquetFile(path).metadata
        names = list(meta.schema.names)
        if meta.num_rows > MAX_PARQUET_ROWS or len(names) > MAX_COLUMNS:
            raise InputError(
                f"{path}: {meta.num_rows} rows and {len(names)} columns, more than a decisions "
                f"table can have ({MAX_PARQUET_ROWS} rows, {MAX_COLUMNS} columns); refused."
            )
        wanted = {n.strip().lower(): n for n in names}
        if "cluster_id" not in wanted:
            raise ConfigError(f"{path}: has no cluster_id column.")
        if "decision" not in wanted:
            raise ConfigError(f"{path}: has no decision column.")
        keys = [
            k for k in ("cluster_id", "decision", "record_id", "role", "split_off") if k in wanted
        ]
        table = pq.read_table(path, columns=[wanted[k] for k in keys])
    except (pa.ArrowException, OSError) as e:
        raise InputError(f"{path}: could not be read as a Parquet table ({e}).") from None
    cols = {
        k: table.column(i).cast(pa.string()).to_pandas().fillna("").to_numpy(dtype=object)
        for i, k in enumerate(keys)
    }
    blank = [str(v).strip() == "" for v in cols["cluster_id"]]
    if any(blank):
        raise ConfigError(f"{path} row {blank.index(True) + 1}: cluster_id is empty.")
    decided = [i for i, v in enumerate(cols["decision"]) if str(v).strip()]
    return [(i + 1, {k: unneutralize(str(cols[k][i])) for k in keys}) for i in decided]


def _rows_with_header(path: Path, rows: list[list[str]]) -> list[tuple[int, dict[str, str]]]:
    """Rows as dicts keyed by lower-cased header, with their 1-based sheet row numbers."""
    for h, header in enumerate(rows):
        names = [c.strip().lower() for c in header]
        if "cluster_id" in names:
            out = []
            for n, row in enumerate(rows[h + 1 :], start=h + 2):
                if not any(str(v).strip() for v in row):
                    continue
                out.append(
                    (n, {k: unneutralize(str(v)) for k, v in zip(names, row, strict=False) if k})
                )
            return out
    raise ConfigError(f"{path}: no header row with a cluster_id column was found.")


def _from_rows(path: Path, rows: list[tuple[int, dict[str, str]]]) -> dict[str, Decision]:
    if rows and "decision" not in rows[0][1]:
        raise ConfigError(f"{path}: has no decision column.")
    long = bool(rows) and "record_id" in rows[0][1]
    out: dict[str, Decision] = {}
    if not long:
        for n, row in rows:
            cid = row.get("cluster_id", "").strip()
            if not cid:
                raise ConfigError(f"{path} row {n}: cluster_id is empty.")
            d = Decision(
                cid,
                _word(path, f"row {n}", row.get("decision", "")),
                _ids(row.get("split_off")),
                f"{path} row {n}",
            )
            _add(path, out, d)
        return out
    # the proposals table: one row per record (and a golden row without a record id)
    per: dict[str, dict[str, Any]] = {}
    for n, row in rows:
        cid = row.get("cluster_id", "").strip()
        if not cid:
            raise ConfigError(f"{path} row {n}: cluster_id is empty.")
        w = _word(path, f"row {n}", row.get("decision", ""))
        st = per.setdefault(cid, {"words": set(), "split": [], "where": f"{path} row {n}"})
        if not w:
            continue
        if w == SPLIT:
            rid = row.get("record_id", "").strip()
            if not rid or row.get("role", "").strip().lower() == "golden":
                raise ConfigError(
                    f"{path} row {n}: write split on the record row to keep out of the merge, "
                    "not on the golden row."
                )
            st["split"].append(rid)
        st["words"].add(w)
        st["where"] = f"{path} row {n}"
    for cid, st in per.items():
        words = st["words"]
        if not words:
            continue
        if REJECT in words:
            out[cid] = Decision(cid, REJECT, [], st["where"])
        elif st["split"]:
            out[cid] = Decision(cid, SPLIT, sorted(st["split"]), st["where"])
        else:
            out[cid] = Decision(cid, APPROVE, [], st["where"])
    return out


def _add(path: Path, out: dict[str, Decision], d: Decision) -> None:
    if not d.decision:
        return
    if d.decision == SPLIT and not d.split_off:
        raise ConfigError(f"{d.where}: split needs the record ids to split off (split_off).")
    prev = out.get(d.cluster_id)
    if prev is not None and (prev.decision, prev.split_off) != (d.decision, d.split_off):
        raise ConfigError(
            f"{d.where}: cluster {d.cluster_id} already has a different decision "
            f"({prev.where}); keep one."
        )
    out[d.cluster_id] = d


def decisions_to_rows(decisions: dict[str, Decision]) -> list[dict[str, str]]:
    """The cluster-table shape, for writing a decisions CSV from Python (tests, scripts)."""
    return [
        {"cluster_id": d.cluster_id, "decision": d.decision, "split_off": "; ".join(d.split_off)}
        for _, d in sorted(decisions.items())
    ]
