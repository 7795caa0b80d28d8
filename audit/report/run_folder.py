"""The run folder: what a run leaves on disk, and how to read it back.

Layout of `reports/<run-id>/` (the json and csv writers always write these):

    run.json                  the run document (RUN_JSON_SCHEMA below)
    issues.csv                every finding, schema.ISSUE_COLUMNS
    duplicates.csv            candidate pairs (Matches.pairs)
    clusters.csv              duplicate clusters (Matches.clusters)
    golden.csv                proposed golden record per cluster (Matches.golden); its
                              golden_from names only the values not taken from the survivor
                              (survivorship.provenance expands it with the rules in run.json)
    bounces.csv               bounce messages: source_file, message_index, recipient, status,
                              classification, reason, date
    kpis.csv                  the KPI table (empty when the gate failed)
    ingest.csv                rows read / ingested / rejected per file
    impact.csv                raw vs clean KPI values (when the KPI stage gives a table)
    records/<entity>.csv      normalized records, one file per entity ...
    records/<entity>.parquet  ... and the same as Parquet, so later commands get the types back
                              (engine: spark: a folder of part files written by Spark, and
                              issues, duplicates and clusters also as <name>.parquet/ folders)
    scores/<table>.csv        by_dimension, by_entity, by_source, by_owner, by_field, by_rule,
                              inventory, checks (rules that ran), trend (vs previous runs)
    scores/by_record.parquet  the score of every record: Parquet only (one row per record, read
                              by programs, not people: as CSV it was the run's largest file
                              after the records themselves)
    breakdowns/<name>.csv     CRM report tables (pipeline, sales cycle, ...) when computed
    summary.html, summary.md, report.xlsx   the human-facing formats in output.formats
    merge_review.html, merge_proposals.xlsx/.csv   the duplicate clusters to review (at most
                              review.PAGE_CLUSTERS of them) ...
    merge_proposals.parquet   ... and every cluster, for programs (a decisions file too)
    manifest.json             written last: every file above with its sha256

A folder is complete only when manifest.json lists every file with the checksum it has: the
folder is built under a hidden staging name and renamed into place after the manifest is
written (`audit.fsio`), and every reader (`load_run`, `merge apply`) checks the manifest first,
so a run killed mid-write, a truncated file or a file swapped afterwards is refused with one
line. `merged/` (the output of `merge apply`) is not part of the run: it has its own journal.

CSV cells are neutralized against formula injection (see `audit.safe`); `load_run`
undoes that, so what it returns equals what was written.
"""

from __future__ import annotations

import json
from collections.abc import Collection
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from audit import safe, scoretrend
from audit.config import dump_config
from audit.errors import InputError
from audit.manifest import check_run_folder
from audit.model import RunResult

SCHEMA_VERSION = 1

RUN_JSON_SCHEMA = """\
run.json (schema_version 1). Keys are sorted; every value is deterministic for the same input
and config except `run_id` and `timings`.

| key | type | meaning |
| --- | --- | --- |
| schema_version | int | 1; bumped on any incompatible change |
| run_id | str | time-ordered unique id, e.g. 20260131T090512-1a2b3c-9f04e1 |
| as_of | date | reference date for freshness and KPIs |
| config | object | the resolved pipeline config (audit.config.dump_config) |
| records | {entity: int} | records per entity after normalize/merge |
| counts | [object] | per file and entity: rows_read, rows_ingested, rows_rejected |
| timings | {stage: seconds} | wall time per stage (not deterministic) |
| scores.overall | float 0..1 or null | overall score; null: nothing measured (overall_note) |
| scores.by_dimension / by_entity / by_source / by_owner / by_rule / by_field | [object] | scores |
| verdict | object | passed, reasons, warnings, withheld_kpis {kpi: reason}, quick_wins |
| kpis | [object] or null | kpi_id, title, period, value, unit, n, ...; null when the gate failed |
| impact | any | raw vs clean KPI values with their cause (KPI stage) |
| clean_view | object | KPI clean view: duplicates_merged, emails_excluded, deleted_excluded, ... |
| issues | object | total, by_dimension, by_severity, by_rule {rule_id: count} |
| duplicates | object | n_pairs, by_band, n_clusters, n_records_in_clusters, n_golden, stats |
| contract | object | Great Expectations suite summary (wall-clock keys removed) |
| history | object | previous: earlier runs (oldest first); trend: per-dimension deltas |
| changes | object or null | vs the previous run: scores, findings, clusters, kpis; null at first |
| decisions | object or null | decided pairs: precision per band, suggested thresholds |
| breakdowns | [str] | names of the CRM report tables in breakdowns/ |
| redacted | bool | emails, phones, id numbers and secret columns masked in this folder |
"""

# table name -> path inside the run folder (records/*, scores/*, breakdowns/* by prefix)
TOP_TABLES: dict[str, str] = {
    "issues": "issues.csv",
    "duplicates": "duplicates.csv",
    "clusters": "clusters.csv",
    "golden": "golden.csv",
    "bounces": "bounces.csv",
    "kpis": "kpis.csv",
    "ingest": "ingest.csv",
    "impact": "impact.csv",
}
SCORE_TABLES = (
    "by_dimension",
    "by_entity",
    "by_source",
    "by_owner",
    "by_record",
    "by_field",
    "by_rule",
    "inventory",
    "checks",
    "trend",
    "series",
)
BOUNCE_COLUMNS = [
    "source_file",
    "message_index",
    "recipient",
    "status",
    "classification",
    "reason",
    "date",
]
KPI_COLUMNS = ["kpi_id", "title", "period", "value", "unit", "n"]
# wall-clock keys that Great Expectations puts in its results
_CLOCK_KEYS = frozenset({"run_time", "validation_time", "timestamp", "batch_timestamp", "run_id"})


# tables kept as Parquet only: no person opens them, and at 1M contacts they are large
PARQUET_ONLY = frozenset({"scores/by_record"})
# the large tables an engine that writes Parquet datasets (engine: spark) also writes as
# `<name>.parquet/` beside the CSV; the records and PARQUET_ONLY tables are datasets there too
ENGINE_PARQUET = frozenset({"issues", "duplicates", "clusters"})


def table_file(name: str) -> str:
    """The run-folder file that holds every row of a table (what report.xlsx links to)."""
    return f"{name}.parquet" if name in PARQUET_ONLY else table_path(name)


def table_path(name: str) -> str:
    """Relative CSV path of a table name ('records/contacts' -> 'records/contacts.csv')."""
    if name in TOP_TABLES:
        return TOP_TABLES[name]
    return f"{name}.csv"


def _sorted(frame: pd.DataFrame | None, keys: list[str]) -> pd.DataFrame:
    if frame is None or not isinstance(frame, pd.DataFrame):
        return pd.DataFrame()
    by = [k for k in keys if k in frame.columns]
    if by and not _in_order(frame, by):
        frame = frame.sort_values(by, kind="stable", na_position="first")
    return frame.reset_index(drop=True)


def _in_order(frame: pd.DataFrame, by: list[str]) -> bool:
    """Whether a table is already in the order of its keys (no missing key): then it is not
    copied by a sort. The pairs and clusters arrive in order; at 1M contacts a copy of each
    is hundreds of megabytes."""
    try:
        if not all(frame[k].notna().all() for k in by):
            return False
        if len(frame) < 2:
            return True
        decided = np.zeros(len(frame) - 1, dtype=bool)  # row < next row on an earlier key
        tied = np.ones(len(frame) - 1, dtype=bool)
        for k in by:
            less, equal = _neighbours(frame[k])
            decided |= tied & less
            tied &= equal
        return bool((decided | tied).all())
    except TypeError:  # mixed types: let the sort decide
        return False


def _neighbours(col: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """For each row but the last: its key < the next row's, and its key == the next row's
    (Arrow compares text by code point, as the sort does)."""
    if isinstance(col.dtype, pd.StringDtype) and col.dtype.storage == "pyarrow":
        arr = pa.array(col.array)
        a, b = arr.slice(0, len(arr) - 1), arr.slice(1)
        return (
            pc.less(a, b).to_numpy(zero_copy_only=False),
            pc.equal(a, b).to_numpy(zero_copy_only=False),
        )
    values = col.to_numpy()
    a, b = values[:-1], values[1:]
    return np.asarray(a < b, dtype=bool), np.asarray(a == b, dtype=bool)


def bounces(records: dict[str, pd.DataFrame]) -> pd.DataFrame:
    """Bounce messages from email_events, with the columns bounces.csv promises."""
    ev = records.get("email_events")
    if ev is None or ev.empty or "event" not in ev.columns:
        return pd.DataFrame({c: pd.Series(dtype="object") for c in BOUNCE_COLUMNS})
    b = ev[ev["event"].astype("object").fillna("").str.lower() == "bounce"]
    out = pd.DataFrame(
        {
            "source_file": b.get("source_file"),
            "message_index": b.get("message_index"),
            "recipient": b.get("address"),
            "status": b.get("status"),
            "classification": b.get("classification"),
            "reason": b.get("reason"),
            "date": b.get("occurred_at"),
        }
    )
    return _sorted(out, ["source_file", "message_index", "recipient"])


def _scrub_clock(obj: Any) -> Any:
    if isinstance(obj, dict):
        return {k: _scrub_clock(v) for k, v in obj.items() if k not in _CLOCK_KEYS}
    if isinstance(obj, list):
        return [_scrub_clock(v) for v in obj]
    return obj


def _is_clock_key(key: str) -> bool:
    k = key.lower()
    return any(w in k for w in ("time", "timing", "seconds", "elapsed", "duration"))


def record_rows(frame: pd.DataFrame) -> pd.DataFrame:
    """A records table in the order its files hold it (by record_id). The csv writer sorts each
    entity just before writing it, so the stage holds one sorted copy at a time, not one of
    every entity (at 1M contacts those were gigabytes)."""
    return _sorted(frame, ["record_id"])


def record_order(frame: pd.DataFrame) -> np.ndarray | None:
    """The row positions of `record_rows(frame)` (None: `frame` is in that order already), for
    writers that take the rows a block at a time instead of holding a sorted copy (the largest
    records table's was the report stage's rise at 1M contacts: +0.59 GB). The key is sorted
    as `record_rows` sorts it, a one-column frame, so ties and missing ids fall the same way."""
    if "record_id" not in frame.columns or _in_order(frame, ["record_id"]):
        return None
    key = frame[["record_id"]].reset_index(drop=True)  # copy-on-write: no copy of the ids
    order = key.sort_values(["record_id"], kind="stable", na_position="first").index
    return np.asarray(order, dtype=np.intp)


def result_tables(result: RunResult) -> dict[str, pd.DataFrame]:
    """Every table of a run, in stable row order (the records in the stage's order: their
    rows are sorted when written, see `record_rows`)."""
    m, sc = result.matches, result.scorecard
    validation = result.extras.get("validation")
    checked = getattr(validation, "checked", None)
    kpis = result.kpis if result.kpis is not None else pd.DataFrame(columns=KPI_COLUMNS)
    tables: dict[str, pd.DataFrame] = {
        "issues": result.issues.reset_index(drop=True),
        "duplicates": _sorted(m.pairs, ["record_id_l", "record_id_r"]),
        "clusters": _sorted(m.clusters, ["cluster_id", "record_id"]),
        "golden": _sorted(m.golden, ["cluster_id"]),
        "bounces": bounces(result.records),
        "kpis": _sorted(kpis, ["kpi_id"]),
        "ingest": _sorted(result.ingest.counts, ["source", "source_file", "entity"]),
    }
    for entity, frame in sorted(result.records.items()):  # sorted as written: record_rows
        tables[f"records/{entity}"] = frame.reset_index(drop=True)
    score_frames = {
        "by_dimension": (sc.by_dimension, ["dimension"]),
        "by_entity": (sc.by_entity, ["entity", "dimension"]),
        "by_source": (sc.by_source, ["source", "dimension"]),
        "by_owner": (sc.by_owner, ["owner"]),
        "by_record": (sc.by_record, ["record_id"]),
        "by_field": (sc.by_field, ["entity", "field", "dimension"]),
        "by_rule": (sc.by_rule, ["rule_id"]),
        "inventory": (sc.inventory, ["entity", "field", "column"]),
        "checks": (checked, ["rule_id", "entity", "field"]),
    }
    for name, (frame, keys) in score_frames.items():
        tables[f"scores/{name}"] = _sorted(frame, keys)
    runs = list(result.extras.get("history") or [])
    current = scoretrend.current_scores(sc.overall, sc.by_dimension)
    tables["scores/trend"] = scoretrend.trend(runs, current)
    tables["scores/series"] = scoretrend.series(
        runs, current, run_id=result.run_id, as_of=result.as_of.isoformat()
    )
    impact = result.extras.get("impact")
    if isinstance(impact, pd.DataFrame):
        tables["impact"] = impact.reset_index(drop=True)
    for name, frame in sorted((result.extras.get("breakdowns") or {}).items()):
        if isinstance(frame, pd.DataFrame):
            tables[f"breakdowns/{name}"] = frame.reset_index(drop=True)
    return tables


def _count_by(frame: pd.DataFrame, col: str) -> dict[str, int]:
    if frame.empty or col not in frame.columns:
        return {}
    counts = frame[col].astype("object").fillna("").value_counts()
    return {str(k): int(v) for k, v in sorted(counts.items())}


def result_document(result: RunResult, tables: dict[str, pd.DataFrame]) -> dict[str, Any]:
    """The run.json document (not yet redacted)."""
    sc, v, m = result.scorecard, result.verdict, result.matches
    validation = result.extras.get("validation")
    stats = dict(m.stats or {})
    timings: dict[str, Any] = dict(sorted(result.timings.items()))
    for k in sorted(stats):
        if _is_clock_key(k):
            timings[f"match.{k}"] = stats.pop(k)
    pairs, clusters = tables["duplicates"], tables["clusters"]
    impact = result.extras.get("impact")
    doc: dict[str, Any] = {
        "schema_version": SCHEMA_VERSION,
        "run_id": result.run_id,
        "as_of": result.as_of.isoformat(),
        "config": dump_config(result.config),
        "records": {e: len(f) for e, f in sorted(result.records.items())},
        "counts": tables["ingest"],
        "timings": timings,
        "scores": {
            "overall": sc.overall,
            "overall_note": None
            if sc.overall == sc.overall
            else "n/a: no dimension was measured on the records read",
            **{k: tables[f"scores/{k}"] for k in ("by_dimension", "by_entity", "by_source")},
            "by_owner": tables["scores/by_owner"],
            **{k: tables[f"scores/{k}"] for k in ("by_rule", "by_field")},
        },
        "verdict": {
            "passed": bool(v.passed),
            "reasons": list(v.reasons),
            "warnings": list(v.warnings),
            "withheld_kpis": dict(sorted(v.withheld_kpis.items())),
            "quick_wins": list(v.quick_wins),
        },
        "kpis": None if result.kpis is None else tables["kpis"],
        "impact": impact,
        "clean_view": dict(sorted((result.extras.get("clean_stats") or {}).items())),
        "issues": {
            "total": len(result.issues),
            "by_dimension": _count_by(result.issues, "dimension"),
            "by_severity": _count_by(result.issues, "severity"),
            "by_rule": _count_by(result.issues, "rule_id"),
        },
        "duplicates": {
            "n_pairs": len(pairs),
            "by_band": _count_by(pairs, "band"),
            "n_clusters": int(clusters["cluster_id"].nunique()) if "cluster_id" in clusters else 0,
            "n_records_in_clusters": int(clusters["record_id"].nunique())
            if "record_id" in clusters
            else 0,
            "n_golden": len(tables["golden"]),
            "stats": stats,
        },
        "contract": _scrub_clock(safe.jsonable(getattr(validation, "contract", None) or {})),
        "history": {
            "previous": list(result.extras.get("history") or []),
            "trend": tables["scores/trend"],
        },
        "changes": result.extras.get("changes"),
        "decisions": result.extras.get("decisions"),
        "breakdowns": [n.split("/", 1)[1] for n in tables if n.startswith("breakdowns/")],
        "redacted": False,
    }
    return safe.jsonable(doc)


# ---------------------------------------------------------------------------------------------
# reading a run folder back


@dataclass(frozen=True)
class RunFolder:
    """A run folder read back from disk (for `crm-audit report` and the merge commands)."""

    path: Path
    run: dict[str, Any]
    tables: dict[str, pd.DataFrame] = field(default_factory=dict)

    @property
    def records(self) -> dict[str, pd.DataFrame]:
        return {n.split("/", 1)[1]: f for n, f in self.tables.items() if n.startswith("records/")}

    def table(self, name: str) -> pd.DataFrame:
        frame = self.tables.get(name)
        return frame if frame is not None else pd.DataFrame()

    @property
    def issues(self) -> pd.DataFrame:
        return self.table("issues")

    @property
    def pairs(self) -> pd.DataFrame:
        return self.table("duplicates")

    @property
    def clusters(self) -> pd.DataFrame:
        return self.table("clusters")

    @property
    def golden(self) -> pd.DataFrame:
        return self.table("golden")


_TEXT_COLUMNS = frozenset({"extra", "postal_code", "status", "period", "external_id"})


def _is_text_column(name: str) -> bool:
    n = name.lower()
    return (
        n in _TEXT_COLUMNS
        or n in safe.EMAIL_COLUMNS
        or n in safe.PHONE_COLUMNS
        or n == "id"
        or n.endswith("_id")
        or n.endswith("id_l")
        or n.endswith("id_r")
        or n.startswith("record_id")
    )


def read_table_csv(path: Path, *, all_text: bool = False) -> pd.DataFrame:
    """A run-folder CSV back as a frame: formula quotes removed, numbers typed, ids as text."""
    try:
        raw = pd.read_csv(path, dtype=str, keep_default_na=False, na_values=[""])
    except pd.errors.EmptyDataError:
        return pd.DataFrame()
    raw = safe.unneutralize_frame(raw)
    if all_text:
        return raw.astype("object").where(raw.notna(), None)
    for col in raw.columns:
        if _is_text_column(str(col)) or raw[col].isna().all():
            continue
        try:
            raw[col] = pd.to_numeric(raw[col])
        except (ValueError, TypeError):
            continue
    return raw


def load_run(run_dir: Path, *, only: Collection[str] | None = None) -> RunFolder:
    """Read a run folder written by `write_report` (run.json plus every table).

    `only` names the tables to read (e.g. {"issues", "clusters"}); the others are left on disk,
    which matters when a run compares itself with the previous one while its own frames are
    still in memory (the records of a 1M-contact run are gigabytes).
    """
    run_dir = Path(run_dir)
    listed = check_run_folder(run_dir)
    run_json = run_dir / "run.json"
    if "run.json" not in listed:
        raise InputError(
            f"{run_dir}: not a run folder (no run.json). Give a folder under reports/, "
            "e.g. reports/20260131T090512-1a2b3c."
        )
    try:
        run = json.loads(run_json.read_text(encoding="utf-8"))
    except (OSError, ValueError) as e:
        raise InputError(f"{run_json}: unreadable run document ({e}).") from None
    version = run.get("schema_version")
    if version != SCHEMA_VERSION:
        raise InputError(
            f"{run_json}: schema_version {version!r} is not supported (expected "
            f"{SCHEMA_VERSION}); re-run the audit with this version of crm-audit."
        )
    tables: dict[str, pd.DataFrame] = {}
    if only is not None:  # "issues" -> issues.csv, "records/contacts" -> records/contacts.*
        files = {TOP_TABLES.get(n, n) for n in only}
        listed = {r: v for r, v in listed.items() if r in files or r.rsplit(".", 1)[0] in only}
    for name, rel in TOP_TABLES.items():
        if rel in listed:
            tables[name] = read_table_csv(run_dir / rel, all_text=name == "issues")
    for folder in ("scores", "breakdowns"):
        for rel in sorted(listed):
            head, _, tail = rel.partition("/")
            if head == folder and tail.endswith(".csv") and "/" not in tail:
                tables[f"{folder}/{tail[:-4]}"] = read_table_csv(run_dir / rel)
    for name in sorted(PARQUET_ONLY):
        frame = _parquet_table(run_dir, listed, f"{name}.parquet")
        if frame is not None:
            tables[name] = frame
    rec = [r.partition("/")[2] for r in listed if r.startswith("records/")]
    entities = sorted(
        {Path(r).stem for r in rec if "/" not in r and r.endswith((".csv", ".parquet"))}
    )
    rec_dir = run_dir / "records"
    for entity in entities:
        frame = _parquet_table(run_dir, listed, f"records/{entity}.parquet")
        if frame is None:
            frame = read_table_csv(rec_dir / f"{entity}.csv")
        tables[f"records/{entity}"] = frame
    return RunFolder(path=run_dir, run=run, tables=tables)


def _parquet_table(run_dir: Path, listed: dict[str, str], rel: str) -> pd.DataFrame | None:
    """A table written as one Parquet file, or as a dataset folder of part files (engine:
    spark); None when there is neither. Only the part files the manifest lists are read."""
    if rel in listed:
        return pd.read_parquet(run_dir / rel)
    parts = sorted(r for r in listed if r.startswith(f"{rel}/") and r.endswith(".parquet"))
    if not parts:
        return None
    return pd.concat([pd.read_parquet(run_dir / p) for p in parts], ignore_index=True)
