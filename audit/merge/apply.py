"""Apply reviewed merges to a run's contacts, and undo them exactly from the merge log.

`apply_merge` never touches the run folder's files: it writes an output folder (default
RUN/merged/) with the merged contacts, a merge log and a config that re-runs the pipeline on the
merged data. The merged contacts file has the same columns and text formats as the run's
records file (plus merged_record_ids and the alternate_* columns): untouched rows are copied as
they were, and each approved cluster becomes one golden row in its survivor's place. The log keeps
every merged record's original row and position, so `undo_merge` rebuilds the pre-merge file
byte for byte (checked against the sha256 recorded at apply time), with no backup window:
the log is the backup.
"""

from __future__ import annotations

import contextlib
import csv
import fcntl
import functools
import io
import json
import os
import re
import shutil
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd
import yaml

from audit import review_store, schema
from audit.errors import ConfigError, InputError
from audit.fsio import (
    atomic_write,
    commit_dir,
    link_into,
    new_staging_dir,
    old_path,
    output_errors,
    recover_dir,
    staging_path,
)
from audit.match.survivorship import (
    DEFAULT_RULES,
    field_rules,
    load_rules,
    propose_golden,
    provenance,
)
from audit.merge.cells import as_text, neutralize, unneutralize
from audit.merge.decisions import APPROVE, REJECT, SPLIT, Decision, read_decisions, run_id_of
from audit.merge.runfolder import (
    RunFolder,
    TextTable,
    cluster_bands,
    parse_text_table,
    read_run,
    read_text_table,
    sha256,
    two_people,
)
from audit.normalize.emails import clean_email, email_key

LOG_FORMAT = "crm-audit.merge-log"
FROM_STORE = "store"  # --decisions store: the approvals remembered in the decisions store
MERGED_FILE = "contacts.csv"
LOG_FILE = "merge_log.json"
# the merged records' original rows (exact text, by position): what undo puts back. Version 1
# logs held them inline as JSON objects, 199 MB at 100k contacts with every cluster approved,
# which put 1M contacts past MAX_LOG_BYTES; as zstd Parquet they are a few percent of that
ORIGINALS_FILE = "merge_originals.parquet"
LOG_VERSION = 2
CONFIG_FILE = "config.merged.yaml"
# columns of other entities that name a contact, and how: by external id or by email address
CONTACT_REFS: dict[str, str] = {
    "contact_id": "id",
    "customer_id": "id",
    "requester_id": "id",
    "respondent_id": "id",
    "contact_email": "email",
    "customer_email": "email",
    "requester_email": "email",
    "respondent_email": "email",
}
REF_SEPARATOR = ";"  # multi-valued references ('101;102'), as the integrity rule reads them
MAX_LOG_BYTES = 2**30  # a log is read whole: refuse one no apply could have written here
# the originals are read whole too (every string column of the rows that merged)
MAX_ORIGINALS_BYTES = 2**32


@dataclass
class MergeResult:
    out_dir: Path
    contacts: Path
    log: Path
    config: Path
    n_before: int
    n_after: int
    merged: list[str] = field(default_factory=list)  # cluster ids merged
    skipped: dict[str, str] = field(default_factory=dict)  # cluster id -> why not merged
    repointed: dict[str, dict[str, int]] = field(default_factory=dict)  # entity -> column -> n
    recovered: str | None = None  # what was done with an earlier, interrupted apply or undo
    remembered: review_store.Recorded | None = None  # decisions kept in the decisions store


@dataclass
class UndoResult:
    restored: Path
    n_rows: int
    identical: bool
    already: bool = False


def apply_merge(
    run_dir: Path,
    decisions_path: Path | None,
    *,
    out_dir: Path | None = None,
    rules: str | Path | None = None,
) -> MergeResult:
    """Merge approved (and, if the config allows, auto-band) clusters of a run into golden rows.

    Example:
        res = apply_merge(Path("reports/20260131T090512-1a2b3c"), Path("decisions.json"))
        print(res.n_before, "->", res.n_after, "contacts; log:", res.log)
    """
    run = read_run(run_dir)
    out_dir = Path(out_dir) if out_dir is not None else run.path / "merged"
    from_store = decisions_path is not None and str(decisions_path) == FROM_STORE
    if from_store:
        decisions, decisions_path = _remembered_approvals(run), None
    else:
        decisions = read_decisions(decisions_path) if decisions_path is not None else {}
    if decisions_path is not None:
        made_for = run_id_of(decisions_path)
        if made_for and made_for != run.run_id:
            raise ConfigError(
                f"{decisions_path}: these decisions were made for run {made_for}, not "
                f"{run.run_id}; download them again from this run's merge_review.html."
            )
    table, raw = read_text_table(run.records_csv)
    if "record_id" not in table.header:
        raise InputError(f"{run.records_csv}: has no record_id column; re-run the audit.")
    rids = table.column("record_id")
    if len(set(rids)) != len(rids):
        dup = next(r for r, n in Counter(rids).items() if n > 1)
        raise InputError(f"{run.records_csv}: record id {dup!r} appears twice; re-run the audit.")
    groups, skipped, why = _plan(run, decisions, set(rids), _emails_by_record(table, rids))
    rules_name = rules or _rules_from_config(run)
    rs = load_rules(rules_name, base_dir=Path(run.config.base_dir))
    typed = run.typed_contacts(table)
    clusters = pd.DataFrame(
        [(cid, rid) for cid, members in groups.items() for rid in members],
        columns=["cluster_id", "record_id"],
    )
    golden = propose_golden(typed, clusters, run.config.sources, rules=rs)
    gold: dict[str, dict[str, Any]] = {str(g["cluster_id"]): g for g in _rows_of(golden)}

    alt_cols = [c for c in golden.columns if c.startswith("alternate_")]
    added = [c for c in ["merged_record_ids", *alt_cols] if c not in table.header]
    header = table.header + added
    pos = {rid: i for i, rid in enumerate(rids)}
    survivor_of: dict[str, str] = {}
    consumed: set[str] = set()
    for cid, g in gold.items():
        survivor_of[str(g["survivor_id"])] = cid
        consumed.update(groups[cid])
    bands = cluster_bands(run.clusters)
    default_region = run.config.normalize.default_region
    regions = {s.name: s.phone_region or default_region for s in run.config.sources}
    order = field_rules(rs)  # the same for every cluster: built once, not per golden row
    out_rows: list[list[str]] = []
    entries = []
    golden_rows: list[list[str]] = []  # one per entry, for re-pointing references
    for i, row in enumerate(table.rows):
        rid = rids[i]
        if rid in survivor_of:
            cid = survivor_of[rid]
            g = gold[cid]
            prov = provenance(g, order)
            out_rows.append(_golden_row(table, header, added, g, prov, pos, regions))
            golden_rows.append(out_rows[-1])
            members = sorted(groups[cid], key=pos.__getitem__)
            entries.append(
                {
                    "cluster_id": cid,
                    "decision": why[cid],
                    "band": bands.get(cid, "review"),
                    "survivor": rid,
                    "survivor_rule": as_text(g["survivor_rule"]),
                    "record_ids": members,
                    "split_off": decisions[cid].split_off if cid in decisions else [],
                    # as golden.csv has it: only the values not taken from the survivor, each
                    # field's rule once in field_rules (expanded per cluster: 1.6 kB a cluster)
                    "golden_from": _taken(g),
                }
            )
        elif rid in consumed:
            continue
        else:
            out_rows.append(_pad(row, table) + [""] * len(added))
    merged = TextTable(header=header, rows=out_rows, newline=table.newline, bom=table.bom)
    merged_bytes = merged.to_bytes()
    exact = table.writes(raw)
    # what undo needs beyond the merged file: the merged records' rows as they were, by position
    positions = sorted(pos[m] for e in entries for m in e["record_ids"])
    originals = _originals_bytes(table, positions)

    log: dict[str, Any] = {
        "format": LOG_FORMAT,
        "version": LOG_VERSION,
        "state": "committed",
        "run_id": run.run_id,
        "run_dir": str(run.path.resolve()),
        "input": {
            "file": str(run.records_csv.resolve()),
            "sha256": sha256(raw),
            "rows": len(table.rows),
            "columns": table.header,
            "newline": table.newline,
            "bom": table.bom,
        },
        "output": {"file": MERGED_FILE, "sha256": sha256(merged_bytes), "rows": len(out_rows)},
        "originals": {
            "file": ORIGINALS_FILE,
            "sha256": sha256(originals),
            "rows": len(positions),
        },
        "decisions": (
            {
                "file": str(Path(decisions_path).resolve()),
                "sha256": sha256(Path(decisions_path).read_bytes()),
            }
            if decisions_path is not None
            else None
        ),
        "rules": str(rules_name),
        "apply_auto": bool(run.config.match.apply_auto),
        "added_columns": added,
        "field_rules": order,
        "clusters": entries,
        "skipped": [{"cluster_id": c, "reason": r} for c, r in sorted(skipped.items())],
    }
    if not exact:
        # the records file uses a CSV dialect we would not reproduce: keep it verbatim
        log["input"]["verbatim"] = raw.decode("utf-8")
    repoint = _repoint_maps(entries, golden_rows, header, table, pos, merged)
    _refuse_input(out_dir / MERGED_FILE, run)
    with output_lock(out_dir), output_errors(out_dir):
        recovered = recover_dir(out_dir, log_committed)
        previous = _owned_output(out_dir)
        staging = new_staging_dir(out_dir)
        try:
            (staging / MERGED_FILE).write_bytes(merged_bytes)
            (staging / ORIGINALS_FILE).write_bytes(originals)
            _, repointed = _write_merged_config(
                run, staging, merged, table, repoint, final_dir=out_dir
            )
            log["repointed"] = repointed
            carried = _carry_over(out_dir, staging, previous)
            # the journal: what this apply wrote, with checksums; written last, it commits
            log["files"] = _file_sums(staging, carried)
            text = _log_text(log).encode("utf-8")
            _refuse_oversized_log(out_dir / LOG_FILE, len(text))
            (staging / LOG_FILE).write_bytes(text)
            commit_dir(staging, out_dir)
        except BaseException:
            shutil.rmtree(staging, ignore_errors=True)
            raise
    remembered = None
    if decisions_path is not None:
        remembered = remember_decisions(run, decisions, source=str(Path(decisions_path).name))
    return MergeResult(
        out_dir=out_dir,
        contacts=out_dir / MERGED_FILE,
        log=out_dir / LOG_FILE,
        config=out_dir / CONFIG_FILE,
        n_before=log["input"]["rows"],
        n_after=len(out_rows),
        merged=sorted(gold),
        skipped=skipped,
        repointed=repointed,
        recovered=recovered,
        remembered=remembered,
    )


@contextlib.contextmanager
def output_lock(out_dir: Path) -> Iterator[None]:
    """One apply or undo at a time per output folder: a lock on the folder that holds it.

    Locking the parent folder itself leaves no lock file behind (the run folder stays as the
    run wrote it); a second apply or undo waits for the first to finish.
    """
    out_dir.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(out_dir.parent, os.O_RDONLY)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)  # closing releases the lock


def log_committed(folder: Path) -> bool:
    """Whether a merge output folder holds a committed log (the last thing apply writes)."""
    try:
        log = json.loads((folder / LOG_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    return isinstance(log, dict) and log.get("state") in ("committed", "undone")


def _owned_output(out_dir: Path) -> set[str]:
    """The files a previous apply wrote into `out_dir` (refusing a folder that is not ours).

    The output folder is replaced as a whole, so it must be new, empty, or a merge output;
    files a user added to a merge output are carried over.
    """
    if not out_dir.exists():
        return set()
    if not out_dir.is_dir():
        raise ConfigError(f"{out_dir}: is a file; choose a folder for the merge output (--out).")
    if not any(out_dir.iterdir()):
        return set()
    try:
        log = json.loads((out_dir / LOG_FILE).read_text(encoding="utf-8"))
        files = log.get("files") if isinstance(log, dict) else None
    except (OSError, ValueError):
        log, files = None, None
    if not isinstance(log, dict) or log.get("format") != LOG_FORMAT:
        raise ConfigError(
            f"{out_dir}: exists and is not a merge output (no {LOG_FILE}); it would be "
            "replaced, so choose a new or empty folder (--out)."
        )
    if not isinstance(files, dict):  # a log from before the journal: our names only
        files = {MERGED_FILE: "", CONFIG_FILE: ""}
        for entity in schema.ENTITIES:
            for p in (out_dir / entity).glob("*.csv"):
                files[f"{entity}/{p.name}"] = ""
            files[f"{entity}.csv"] = ""
    return {str(k) for k in files} | {LOG_FILE}


def _carry_over(out_dir: Path, staging: Path, owned: set[str]) -> set[str]:
    """Files a user put into a merge output stay there (hard-linked into the new folder)."""
    carried: set[str] = set()
    if not out_dir.is_dir():
        return carried
    for src in sorted(out_dir.rglob("*")):
        rel = src.relative_to(out_dir).as_posix()
        if src.is_dir() or rel in owned or (staging / rel).exists():
            continue
        link_into(src, staging / rel)
        carried.add(rel)
    return carried


def _file_sums(folder: Path, carried: set[str]) -> dict[str, str]:
    """sha256 of every file this apply wrote (not the log, not a user's carried-over file)."""
    out = {}
    for p in sorted(folder.rglob("*")):
        rel = p.relative_to(folder).as_posix()
        if p.is_file() and rel != LOG_FILE and rel not in carried:
            out[rel] = sha256(p.read_bytes())
    return out


def store_of(run: RunFolder) -> Path:
    """The decisions store the run was recorded in (beside its history file)."""
    cfg = run.config
    hist = cfg.resolve(cfg.history.path) if cfg.history.path else run.path.parent / "history.sqlite"
    return review_store.store_path(hist)


def remember_decisions(
    run: RunFolder, decisions: dict[str, Decision], *, source: str
) -> review_store.Recorded:
    """Keep a reviewer's decisions in the store, so the next run does not ask again."""
    scores: dict[tuple[str, str], tuple[float, str]] = {}
    p = run.pairs
    if not p.empty and {"record_id_l", "record_id_r", "score", "band"} <= set(p.columns):
        for a, b, sc, band in zip(
            p["record_id_l"].astype(str),
            p["record_id_r"].astype(str),
            pd.to_numeric(p["score"], errors="coerce"),
            p["band"].astype(str),
            strict=True,
        ):
            if sc == sc:
                scores[(min(a, b), max(a, b))] = (float(sc), band)
    return review_store.record_decisions(
        store_of(run), run.run_id, decisions, source=source, scores=scores
    )


def _remembered_approvals(run: RunFolder) -> dict[str, Decision]:
    """`--decisions store`: the clusters that arrived approved from earlier decisions."""
    c = run.clusters
    if c.empty or "decision" not in c.columns:
        return {}
    ok = c[c["decision"].astype(str).eq(APPROVE)]
    return {
        str(cid): Decision(str(cid), APPROVE, [], "decisions store")
        for cid in sorted(ok["cluster_id"].astype(str).unique())
    }


def _rows_of(frame: pd.DataFrame) -> list[dict[str, Any]]:
    """The frame's rows as dicts, missing values as None (`to_dict` iterates Arrow columns
    one boxed value at a time: 3x slower at 32k golden rows)."""
    names = [str(c) for c in frame.columns]
    cols = [frame[c].to_numpy(dtype=object, na_value=None) for c in frame.columns]
    return [dict(zip(names, vals, strict=True)) for vals in zip(*cols, strict=True)]


def _taken(golden: dict[str, Any]) -> dict[str, Any]:
    """A golden row's compact golden_from: {field: record id (or ids)} taken from a record
    other than the survivor."""
    text = golden.get("golden_from")
    taken = json.loads(text) if isinstance(text, str) and text.strip() else {}
    return taken if isinstance(taken, dict) else {}


def _originals_bytes(table: TextTable, positions: list[int]) -> bytes:
    """The rows at `positions` (sorted) as a Parquet file: position, then every column as the
    exact text of the records file. Parquet because undo reads it column by column, and zstd
    because its text repeats (sources, files, domains)."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    rows = [_pad(table.rows[p], table) for p in positions]
    cols: dict[str, pa.Array] = {"position": pa.array(positions, pa.int64())}
    for i, name in enumerate(table.header):
        cols[name] = pa.array([r[i] for r in rows], pa.string())
    sink = pa.BufferOutputStream()
    # the columns by number: a records file may repeat a name, a Parquet schema may not
    names = ["position", *(f"c{i}" for i in range(len(table.header)))]
    pq.write_table(
        pa.Table.from_arrays(list(cols.values()), names=names),
        sink,
        compression="zstd",
        write_statistics=False,
    )
    return sink.getvalue().to_pybytes()


def _read_originals(log: dict[str, Any], out_dir: Path) -> dict[int, list[str]]:
    """position -> original row, from the originals file the log names, checked: its sha256,
    its shape, positions in range and each once, and exactly the records the log merged."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    meta, inp = log["originals"], log["input"]
    path = out_dir / ORIGINALS_FILE
    try:
        if path.stat().st_size > MAX_ORIGINALS_BYTES:
            raise InputError(
                f"{path}: larger than any merge could have written "
                f"({MAX_ORIGINALS_BYTES // 2**20} MB); refused, nothing was changed."
            )
        data = path.read_bytes()
    except FileNotFoundError:
        raise InputError(
            f"{path}: missing; it holds the merged records' original rows, which undo needs."
        ) from None
    except OSError as e:
        raise InputError(f"{path}: could not be read ({e.strerror or e}).") from None
    if sha256(data) != meta["sha256"]:
        raise InputError(
            f"{path}: changed since the merge (sha256 differs from {LOG_FILE}); "
            "undo would not be exact. Nothing was changed."
        )
    columns: list[str] = inp["columns"]
    try:
        t = pq.read_table(pa.BufferReader(data))
    except (pa.ArrowException, OSError) as e:
        raise InputError(f"{path}: not a readable Parquet file ({e}).") from None
    names = ["position", *(f"c{i}" for i in range(len(columns)))]
    ok = t.column_names == names and t.num_rows == meta["rows"]
    ok = ok and t.schema.field(0).type == pa.int64()
    ok = ok and all(f.type == pa.string() for f in list(t.schema)[1:])
    if not ok or t.column(0).null_count or any(c.null_count for c in t.columns[1:]):
        raise InputError(
            f"{path}: does not hold the {len(columns)} columns of the {meta['rows']} merged "
            "rows the merge log names; nothing was changed."
        )
    positions = t.column(0).to_pylist()
    if any(not 0 <= p < inp["rows"] for p in positions) or len(set(positions)) != len(positions):
        raise InputError(
            f"{path}: a position is out of range or repeated; it may have been edited. "
            "Nothing was changed."
        )
    values = [t.column(i + 1).to_pylist() for i in range(len(columns))]
    rows = [list(r) for r in zip(*values, strict=True)] if values else []
    rid_i = columns.index("record_id")
    merged_ids = sorted(r for c in log["clusters"] for r in c["record_ids"])
    if sorted(r[rid_i] for r in rows) != merged_ids:
        raise InputError(
            f"{path}: its records are not the ones the merge log merged; it may have been "
            "edited. Nothing was changed."
        )
    return dict(zip(positions, rows, strict=True))


def _refuse_oversized_log(path: Path, size: int) -> None:
    """A log `merge undo` would refuse to read must not be written: refuse the apply instead."""
    if size > MAX_LOG_BYTES:
        raise InputError(
            f"{path}: the merge log would be {size // 2**20} MB, more than `merge undo` reads "
            f"({MAX_LOG_BYTES // 2**20} MB), so the merge could not be undone; nothing was "
            "written. Approve fewer clusters in one apply."
        )


def _log_text(log: dict[str, Any]) -> str:
    """The log as JSON with one cluster per line: readable, diffable and fast to write."""
    head = {k: v for k, v in log.items() if k not in ("clusters", "skipped")}
    lines = ["{"]
    for k, v in head.items():
        lines.append(f"{json.dumps(k)}: {json.dumps(v, ensure_ascii=False)},")
    for key in ("clusters", "skipped"):
        items = [json.dumps(x, ensure_ascii=False) for x in log[key]]
        end = "," if key == "clusters" else ""
        lines.append(
            f"{json.dumps(key)}: ["
            + (("\n" + ",\n".join(items) + "\n") if items else "")
            + "]"
            + end
        )
    lines.append("}")
    return "\n".join(lines) + "\n"


def _rules_from_config(run: RunFolder) -> str:
    return str(getattr(run.config.match, "survivorship", None) or DEFAULT_RULES)


def _pad(row: list[str], table: TextTable) -> list[str]:
    n = len(table.header)
    return row + [""] * (n - len(row)) if len(row) < n else row


def _refuse_input(path: Path, run: RunFolder) -> None:
    """Never write over a file the run (or the user) gave us as input."""
    target = path.resolve()
    inputs = {run.records_csv.resolve(), *(p.resolve() for p in run.other_records.values())}
    if target in inputs:
        raise ConfigError(
            f"{path}: --out would overwrite the run's records; choose another folder."
        )


def _emails_by_record(table: TextTable, rids: list[str]) -> dict[str, list[str]]:
    """record id -> its email address(es) as the records file holds them (key, then raw)."""
    out: dict[str, list[str]] = {}
    for c in (c for c in ("email_key", "email") if c in table.header):
        for rid, v in zip(rids, table.column(c), strict=True):
            key = email_key(v) if v and v.strip() else None
            if key and rid not in out:
                out[rid] = [key]
    return out


def _plan(
    run: RunFolder,
    decisions: dict[str, Decision],
    known_ids: set[str],
    emails: dict[str, list[str]] | None = None,
) -> tuple[dict[str, list[str]], dict[str, str], dict[str, str]]:
    """Which records merge together: cluster id -> member record ids (two or more)."""
    members: dict[str, list[str]] = {}
    for cid, rid in zip(
        run.clusters["cluster_id"].astype(str), run.clusters["record_id"].astype(str), strict=True
    ):
        members.setdefault(cid, [])
        if rid not in members[cid]:
            members[cid].append(rid)
    bands = cluster_bands(run.clusters)
    clusters_csv = run.path / "clusters.csv"
    for cid, d in decisions.items():
        if cid not in members:
            raise ConfigError(
                f"{d.where}: unknown cluster {cid!r} (not in {clusters_csv}); "
                "were these decisions made for another run?"
            )
        stray = [r for r in d.split_off if r not in members[cid]]
        if stray:
            raise ConfigError(
                f"{d.where}: record {stray[0]!r} is not in cluster {cid}; "
                f"its records are {', '.join(sorted(members[cid]))}."
            )
    for cid, ms in members.items():
        missing = [r for r in ms if r not in known_ids]
        if missing:
            raise InputError(
                f"{clusters_csv}: cluster {cid} names record {missing[0]!r}, which is not in "
                f"{run.records_csv}; re-run the audit."
            )
    groups: dict[str, list[str]] = {}
    skipped: dict[str, str] = {}
    why: dict[str, str] = {}
    for cid in sorted(members):
        ms = members[cid]
        dec = decisions.get(cid)
        if dec is not None and dec.decision == REJECT:
            skipped[cid] = "rejected"
            continue
        if dec is not None and (dec.decision == SPLIT or dec.split_off):
            keep = [r for r in ms if r not in set(dec.split_off)]
            if len(keep) < 2:
                skipped[cid] = "split: fewer than two records left"
                continue
            groups[cid], why[cid] = keep, SPLIT
            continue
        if dec is not None and dec.decision == APPROVE:
            groups[cid], why[cid] = ms, APPROVE
            continue
        conflict = two_people(emails or {}, ms)
        if bands.get(cid) == "auto" and run.config.match.apply_auto and conflict:
            skipped[cid] = (
                f"auto band, but its records carry {len(conflict)} different personal emails; "
                "approve it in the review to merge"
            )
            continue
        if bands.get(cid) == "auto" and run.config.match.apply_auto:
            groups[cid], why[cid] = ms, "auto"
            continue
        skipped[cid] = (
            "auto band, but match.apply_auto is false"
            if bands.get(cid) == "auto"
            else "no decision"
        )
    groups = {c: ms for c, ms in groups.items() if len(ms) >= 2}
    return groups, skipped, why


def _golden_row(
    table: TextTable,
    header: list[str],
    added: list[str],
    g: dict[str, Any],
    prov: dict[str, Any],
    pos: dict[str, int],
    regions: dict[str, str] | None = None,
) -> list[str]:
    """The golden record as text: each value copied from the record it was taken from.

    The golden row lives in its survivor's source, so a local phone number taken from a
    source with another phone region is written in E.164 (it would not parse there).
    """
    survivor = _pad(table.rows[pos[str(g["survivor_id"])]], table)
    src_i = table.header.index("source") if "source" in table.header else -1
    regions = regions or {}
    canon = {c.name for c in schema.ENTITIES["contacts"]}
    out = []
    for i, col in enumerate(header):
        if col in added:
            out.append(neutralize(as_text(g.get(col))))
        elif col in canon:
            src = prov.get(col)
            if src is None:
                out.append("")
            elif isinstance(src[0], str) and src[0] in pos:
                donor = _pad(table.rows[pos[src[0]]], table)
                text = donor[i]
                if (
                    col == "phone"
                    and src_i >= 0
                    and not text.lstrip("'").startswith("+")
                    and regions.get(donor[src_i]) != regions.get(survivor[src_i])
                ):
                    text = neutralize(as_text(g.get("phone_e164"))) or text
                out.append(text)
            else:  # combined values: no single record holds the text
                out.append(neutralize(as_text(g.get(col))))
        else:
            out.append(survivor[i])  # provenance, extra and unknown columns: the survivor's
    return out


# what a cell that neutralize or unneutralize would change starts with (safe._needs_quote:
# a trigger or the guard quote, possibly after spaces and newlines); any other cell is kept
# as it is without a call, which is most of the millions of cells a merge copies
_GUARD_LEADS = frozenset("=+-@\t\r' \n")


def _guard(row: list[str]) -> list[str]:
    """A row of run-folder text for a CSV the merge writes: formula-like cells neutralized,
    like every writer.

    Cells that already carry the run folder's guard quote keep exactly that one quote; the
    merged config marks these files `formula_guard: true`, so the pipeline reads real values.
    """
    return [neutralize(unneutralize(v)) if v[:1] in _GUARD_LEADS else v for v in row]


def _guard_plain(row: list[str]) -> list[str]:
    """A row of plain values (see `_plain`) for a CSV the merge writes: neutralized once.

    `_guard` would strip a quote the value itself begins with ("'=x" read back as "=x").
    """
    return [neutralize(v) if v[:1] in _GUARD_LEADS else v for v in row]


def _plain(row: list[str]) -> list[str]:
    """A run-folder CSV row without its formula-guard quotes: the pipeline reads real values."""
    return [unneutralize(v) if v[:1] == "'" else v for v in row]


@functools.lru_cache(maxsize=2**16)  # deals, tickets, ... name the same contacts again and again
def _ref_key(value: str, how: str) -> str:
    """The key references are compared by: the id, or the email key normalize would give."""
    v = value.strip()
    if how != "email" or not v:
        return v
    clean = clean_email(v)[0] or v.lower()
    return email_key(clean) or clean


@dataclass
class Repoint:
    """Where references to merged-away contacts go: old id/email key -> the golden row's value."""

    ids: dict[str, str] = field(default_factory=dict)
    emails: dict[str, str] = field(default_factory=dict)

    def rewrite(self, value: str, how: str) -> tuple[str, int]:
        """The value with every reference to a merged-away contact replaced, and how many."""
        if not value.strip():
            return value, 0
        table = self.ids if how == "id" else self.emails
        parts = value.split(REF_SEPARATOR)
        out: list[str] = []
        n = 0
        for part in parts:
            new = table.get(_ref_key(part, how))
            if new is None:
                out.append(part)
                continue
            n += 1
            if new not in (p.strip() for p in out):  # two merged contacts: one reference
                lead = part[: len(part) - len(part.lstrip())]
                out.append(lead + new + part[len(part.rstrip()) :])
        return (REF_SEPARATOR.join(out), n) if n else (value, 0)


def _repoint_maps(
    entries: list[dict[str, Any]],
    golden_rows: list[list[str]],
    header: list[str],
    table: TextTable,
    pos: dict[str, int],
    merged: TextTable,
) -> Repoint:
    """Each merged record's external id and email key -> its golden row's, as a CRM merge does.

    Keys that a contact still in the merged file carries are left alone (they still resolve),
    and so is a key that two golden rows claim: no guessing which one a reference meant.
    """
    kept: dict[str, set[str]] = {"id": set(), "email": set()}
    for how, col in (("id", "external_id"), ("email", "email")):
        if col in merged.header:
            kept[how] = {_ref_key(unneutralize(v), how) for v in merged.column(col) if v}
    found: dict[str, dict[str, set[str]]] = {"id": {}, "email": {}}
    for how, col in (("id", "external_id"), ("email", "email")):
        if col not in header or col not in table.header:
            continue
        gi, oi = header.index(col), table.header.index(col)
        for e, grow in zip(entries, golden_rows, strict=True):
            target = unneutralize(grow[gi]).strip()
            if not target:
                continue
            for m in e["record_ids"]:
                orow = table.rows[pos[m]]
                key = _ref_key(unneutralize(orow[oi] if oi < len(orow) else ""), how)
                if key and key not in kept[how] and key != _ref_key(target, how):
                    found[how].setdefault(key, set()).add(target)
    ids = {k: next(iter(v)) for k, v in found["id"].items() if len(v) == 1}
    emails = {k: next(iter(v)) for k, v in found["email"].items() if len(v) == 1}
    return Repoint(ids=ids, emails=emails)


def _sources_in(path: Path) -> set[str]:
    """The source names a records file holds, read row by row (its rows are not kept)."""
    try:
        text = path.read_bytes().decode("utf-8")
    except (OSError, UnicodeDecodeError) as e:
        raise InputError(f"{path}: could not be read ({e}).") from None
    reader = csv.reader(io.StringIO(text.removeprefix("\ufeff"), newline=""))
    header = next(reader, [])
    if "source" not in header:
        return set()
    i = header.index("source")
    return {r[i] if i < len(r) else "" for r in reader}


def _repoint_rows(
    table: TextTable, repoint: Repoint | None
) -> tuple[list[list[str]], list[dict[str, int]]]:
    """The table's rows (plain text) with contact references re-pointed; hits per row, column."""
    rows = [_plain(_pad(r, table)) for r in table.rows]
    hits: list[dict[str, int]] = [{} for _ in rows]
    if repoint is None:
        return rows, hits
    for col, how in CONTACT_REFS.items():
        if col not in table.header:
            continue
        i = table.header.index(col)
        for r, h in zip(rows, hits, strict=True):
            r[i], k = repoint.rewrite(r[i], how)
            if k:
                h[col] = k
    return rows, hits


def _write_merged_config(
    run: RunFolder,
    out_dir: Path,
    merged: TextTable,
    original: TextTable,
    repoint: Repoint | None = None,
    final_dir: Path | None = None,
) -> tuple[Path, dict[str, dict[str, int]]]:
    """The run's config with its contact sources replaced by slices of the merged contacts.

    One slice per original source (merged/contacts/<source>.csv, canonical headers), so each
    keeps its own phone region and timezone: a Seoul sheet's 010-... numbers must still parse
    as Korean when the pipeline re-reads them. Deals, tickets and the other entities that name
    contacts get their references re-pointed from merged-away contacts to the golden rows, in
    slices of their own (merged/<entity>/<source>.csv, same source names, so same record ids).
    """
    data = json.loads(json.dumps(run.config_data))  # deep copy
    base = Path(data.pop("base_dir", ".") or ".")

    def absolute(p: str | None) -> str | None:
        if p is None:
            return None
        q = Path(p).expanduser()
        return str(q if q.is_absolute() else (base / q).resolve())

    src_col = merged.column("source") if "source" in merged.header else []
    # every source that gave contacts, also those whose records all merged into others
    contact_sources = sorted(set(original.column("source")) if "source" in original.header else [])
    by_name = {s.get("name"): s for s in data.get("sources", [])}
    slices_dir = out_dir / "contacts"
    new_sources: list[dict[str, Any]] = []
    for name in contact_sources:
        rows = [_guard(r) for r, s in zip(merged.rows, src_col, strict=True) if s == name]
        if not rows:
            continue
        part = TextTable(header=merged.header, rows=rows, newline=merged.newline, bom=merged.bom)
        slices_dir.mkdir(parents=True, exist_ok=True)
        target = slices_dir / f"{name or 'unknown'}.csv"
        target.write_bytes(part.to_bytes())
        orig = by_name.get(name, {})
        src: dict[str, Any] = {
            "name": name if name in by_name else f"{name or 'unknown'}_merged",
            "path": f"contacts/{target.name}",
            "format": "csv",
            "profile": "none",
            "entity": "contacts",
            "formula_guard": True,
        }
        for key in ("phone_region", "timezone", "priority"):
            if orig.get(key) not in (None, 0):
                src[key] = orig[key]
        new_sources.append(src)
    # one entity at a time (at 1M contacts they are 2M rows of text): first only the sources
    # each one names, since a source that gave records of two entities (a folder of exports)
    # cannot become one slice under its own name: it stays as it was, its references not
    # re-pointed
    entities_of: dict[str, set[str]] = {}
    for entity, p in sorted(run.other_records.items()):
        for s in _sources_in(p):
            entities_of.setdefault(s, set()).add(entity)
    paths = (absolute(x.get("path")) for x in by_name.values())
    inputs = {Path(p).resolve() for p in paths if p}
    final_dir = final_dir or out_dir
    replacement: dict[str, dict[str, Any]] = {}
    repointed: dict[str, dict[str, int]] = {}
    kept_rows: dict[str, TextTable] = {}  # rows of the contact sources, per entity
    for entity, p in sorted(run.other_records.items()):
        other = read_text_table(p)[0]
        if "source" not in other.header:
            continue
        src_names = other.column("source")
        refs = any(c in other.header for c in CONTACT_REFS)
        if not refs:  # only the contact sources' rows are written (below), as they were
            keep = [
                _guard_plain(_plain(_pad(r, other)))
                for r, s in zip(other.rows, src_names, strict=True)
                if s in contact_sources
            ]
            if keep:
                kept_rows[entity] = TextTable(other.header, keep, other.newline, other.bom)
            continue
        rows, hits = _repoint_rows(other, repoint)
        keep = [
            _guard_plain(r) for r, s in zip(rows, src_names, strict=True) if s in contact_sources
        ]
        if keep:
            kept_rows[entity] = TextTable(other.header, keep, other.newline, other.bom)
        counts: dict[str, int] = {}
        for name in sorted(set(src_names)):
            mine = [i for i, s in enumerate(src_names) if s == name]
            if name not in contact_sources:  # contact sources' rows: in <entity>.csv below
                if name not in by_name or entities_of[name] != {entity}:
                    continue
                part = TextTable(
                    header=other.header,
                    rows=[_guard_plain(rows[i]) for i in mine],
                    newline=other.newline,
                    bom=other.bom,
                )
                target = out_dir / entity / f"{name}.csv"
                _refuse_input(final_dir / entity / target.name, run)
                if (final_dir / entity / target.name).resolve() in inputs:
                    raise ConfigError(
                        f"{target}: --out would overwrite an input export; choose another folder."
                    )
                target.parent.mkdir(parents=True, exist_ok=True)
                target.write_bytes(part.to_bytes())
                src = {
                    "name": name,
                    "path": f"{entity}/{target.name}",
                    "format": "csv",
                    "profile": "none",
                    "entity": entity,
                    "formula_guard": True,
                }
                for key in ("phone_region", "timezone", "priority"):
                    if by_name[name].get(key) not in (None, 0):
                        src[key] = by_name[name][key]
                replacement[name] = src
            for i in mine:
                for col, k in hits[i].items():
                    counts[col] = counts.get(col, 0) + k
        if counts:
            repointed[entity] = dict(sorted(counts.items()))
        del other, rows, hits
    for s in data.get("sources", []):
        if s.get("name") in contact_sources:
            continue
        if s.get("name") in replacement:
            new_sources.append(replacement[s["name"]])
            continue
        kept = dict(s)
        kept["path"] = absolute(s.get("path"))
        new_sources.append(kept)
    # entities other than contacts that the replaced sources also produced (mail: bounces)
    for entity, part in kept_rows.items():
        target = out_dir / f"{entity}.csv"
        target.write_bytes(part.to_bytes())
        new_sources.append(
            {
                "name": f"{entity}_merged",
                "path": target.name,
                "entity": entity,
                "profile": "none",
                "formula_guard": True,
            }
        )
    data["sources"] = new_sources
    out = data.get("output") or {}
    if out.get("dir"):
        out["dir"] = absolute(out["dir"])
    hist = data.get("history") or {}
    if hist.get("path"):
        hist["path"] = absolute(hist["path"])
    rules = data.get("rules") or {}
    rules["packs"] = [
        absolute(p) if str(p).endswith((".yaml", ".yml")) else p for p in rules.get("packs", [])
    ]
    if rules.get("gx_docs"):
        rules["gx_docs"] = absolute(rules["gx_docs"])
    match = data.get("match") or {}
    for key in ("rules", "survivorship"):
        if str(match.get(key, "")).endswith((".yaml", ".yml")):
            match[key] = absolute(match[key])
    path = out_dir / CONFIG_FILE
    head = (
        f"# Written by `crm-audit merge apply` for run {run.run_id}: the run's config with its\n"
        "# contact sources replaced by the merged contacts (one slice per source, in contacts/)\n"
        "# and the deals, tickets, ... that named merged-away contacts re-pointed (<entity>/).\n"
        "# Re-run the audit on merged data: crm-audit run <this file>\n"
    )
    path.write_text(
        head + yaml.safe_dump(data, sort_keys=False, allow_unicode=True), encoding="utf-8"
    )
    return path, repointed


def undo_merge(log_path: Path, *, out: Path | None = None, force: bool = False) -> UndoResult:
    """Rebuild the pre-merge records from a merge log and the merged contacts file.

    The log is untrusted input: it is checked field by field, only the merge output folder it
    sits in (or `out`) is written, the restored records must match the sha256 recorded at
    apply time before anything is written, and a file the apply wrote is removed only while its
    checksum still matches the log. An interrupted apply is finished or rolled back first.
    Writes over the merged contacts file unless `out` is given.
    """
    log_path = Path(log_path)
    out_dir = log_path.parent
    pending = staging_path(out_dir).exists() or old_path(out_dir).exists()
    if not out_dir.is_dir() and not pending:
        raise ConfigError(f"{log_path}: merge log not found.")
    with output_lock(out_dir), output_errors(out_dir):
        recovered = recover_dir(out_dir, log_committed)
        if not log_path.is_file():
            if recovered:
                raise InputError(
                    f"{log_path}: the merge was interrupted before it finished ({recovered}); "
                    "the records are as they were, nothing to undo."
                )
            raise ConfigError(f"{log_path}: merge log not found.")
        log = read_log(log_path)
        return _undo(log_path, log, out, force)


def _undo(log_path: Path, log: dict[str, Any], out: Path | None, force: bool) -> UndoResult:
    out_dir = log_path.parent
    merged_path = out_dir / MERGED_FILE
    inp = log["input"]
    try:
        current = merged_path.read_bytes()
    except FileNotFoundError:
        current = None
    if current is None:
        raise InputError(
            f"{merged_path}: the merged contacts file is missing; it is needed to undo."
        )
    already = sha256(current) == inp["sha256"]
    changed = sha256(current) != log["output"]["sha256"]
    if not already and changed and not force:
        raise InputError(
            f"{merged_path}: changed since the merge (sha256 differs from {log_path}); "
            "undo would not be exact. Use --force to restore the merged records anyway."
        )
    if already:
        data = current
    elif "verbatim" in inp:
        data = inp["verbatim"].encode("utf-8")
    else:
        data = _rebuild(log, current, merged_path)
    identical = sha256(data) == inp["sha256"]
    if not identical and ("verbatim" in inp or not force):
        raise InputError(
            f"{log_path}: the restored records would not match the checksum the log recorded "
            "at apply time (was the log edited?); nothing was changed."
            + ("" if "verbatim" in inp else " Use --force to restore anyway.")
        )
    restored = parse_text_table(data, where=str(merged_path))
    if out is not None:
        target = Path(out)
        if target.resolve() == log_path.resolve():
            raise ConfigError(f"{target}: --out would overwrite the merge log.")
        target.parent.mkdir(parents=True, exist_ok=True)
        atomic_write(target, data)
        return UndoResult(target, len(restored.rows), identical, already=already)
    if already and log.get("state") == "undone":
        return UndoResult(merged_path, len(restored.rows), True, already=True)
    _resync(log_path, log, restored, data)
    return UndoResult(merged_path, len(restored.rows), identical, already=already)


def _rebuild(log: dict[str, Any], current: bytes, merged_path: Path) -> bytes:
    """The pre-merge records from the merged file: originals back in place of golden rows."""
    inp = log["input"]
    table = parse_text_table(current, where=str(merged_path))
    columns: list[str] = inp["columns"]
    missing = [c for c in columns if c not in table.header]
    if missing:
        raise InputError(f"{merged_path}: column {missing[0]!r} was removed; cannot undo.")
    if "record_id" not in table.header or "record_id" not in columns:
        raise InputError(f"{merged_path}: has no record_id column; cannot undo.")
    idx = [table.header.index(c) for c in columns]
    rid_i = table.header.index("record_id")
    golden_ids = {c["survivor"] for c in log["clusters"]}
    merged_ids = {r for c in log["clusters"] for r in c["record_ids"]}
    slots: list[list[str] | None] = [None] * inp["rows"]
    if "originals" in log:  # version 2: the rows are in the originals file
        for p, orig in _read_originals(log, merged_path.parent).items():
            slots[p] = orig
    for c in log["clusters"]:
        for o in c.get("originals", []):  # version 1: inline
            slots[o["position"]] = [str(o["row"].get(col, "")) for col in columns]
    rest = iter(
        [row[i] if i < len(row) else "" for i in idx]
        for row in table.rows
        if (row[rid_i] if rid_i < len(row) else "") not in golden_ids
    )
    for k in range(len(slots)):
        if slots[k] is None:
            row = next(rest, None)
            if row is None:
                raise InputError(f"{merged_path}: rows were removed since the merge; cannot undo.")
            if row[columns.index("record_id")] in merged_ids:
                raise InputError(f"{merged_path}: a merged record reappeared; cannot undo.")
            slots[k] = row
    if next(rest, None) is not None:
        raise InputError(f"{merged_path}: rows were added since the merge; cannot undo.")
    restored = TextTable(
        header=columns,
        rows=[s for s in slots if s is not None],
        newline=inp["newline"],
        bom=inp["bom"],
    )
    return restored.to_bytes()


def _resync(log_path: Path, log: dict[str, Any], restored: TextTable, data: bytes) -> None:
    """Put the restored records in place and make config.merged.yaml and its slices match.

    The slices are rebuilt from the run folder when it is still there, complete and holds the
    very records the log was made from; otherwise they (and the re-pointed tables) are removed.
    Files are removed only while their checksum matches the log: never a file the apply did
    not write, nor one changed since.
    """
    out_dir = log_path.parent
    run = _run_of(log)
    scratch = out_dir.parent / f".{out_dir.name}.undo"
    shutil.rmtree(scratch, ignore_errors=True)
    scratch.mkdir()
    try:
        if run is not None:
            _write_merged_config(run, scratch, restored, restored, final_dir=out_dir)
        new_files = _file_sums(scratch, set())
        for rel in sorted(new_files):
            (out_dir / rel).parent.mkdir(parents=True, exist_ok=True)
            _confined(out_dir, rel)
            os.replace(scratch / rel, out_dir / rel)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    atomic_write(out_dir / MERGED_FILE, data)
    new_files[MERGED_FILE] = sha256(data)
    for rel, digest in sorted(log.get("files", {}).items()):
        p = out_dir / rel
        if rel in new_files or not p.is_file() or p.is_symlink():
            continue
        _confined(out_dir, rel)
        if sha256(p.read_bytes()) == digest:
            p.unlink()
            with contextlib.suppress(OSError):
                p.parent.rmdir() if p.parent != out_dir else None
    log = dict(log, state="undone", files=new_files)
    atomic_write(log_path, _log_text(log))


def _confined(out_dir: Path, rel: str) -> None:
    """A file undo writes or removes must really be inside the output folder (no symlinked
    folder leading elsewhere)."""
    if not (out_dir / rel).resolve().is_relative_to(out_dir.resolve()):
        raise InputError(
            f"{out_dir / rel}: leads outside {out_dir} (a symbolic link?); refused, nothing "
            "more was changed."
        )


def _run_of(log: dict[str, Any]) -> RunFolder | None:
    """The run folder the log was made from, if it still is exactly that (checked, not trusted)."""
    try:
        run = read_run(Path(str(log.get("run_dir") or "")))
        same = sha256(run.records_csv.read_bytes()) == log["input"]["sha256"]
    except (InputError, ConfigError, OSError):
        return None
    return run if same else None


_SHA = re.compile(r"[0-9a-f]{64}")


def read_log(log_path: Path) -> dict[str, Any]:
    """A merge log, checked as untrusted input: shapes, types, positions and file names."""
    try:
        if log_path.stat().st_size > MAX_LOG_BYTES:
            raise ValueError(f"larger than {MAX_LOG_BYTES // 2**20} MB")
        log = json.loads(log_path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(f"{log_path}: merge log not found.") from None
    except (OSError, ValueError, RecursionError) as e:
        raise InputError(f"{log_path}: not a readable merge log ({e}).") from None
    if not isinstance(log, dict) or log.get("format") != LOG_FORMAT:
        raise ConfigError(f"{log_path}: not a crm-audit merge log (merge_log.json).")
    try:
        _check_log(log, log_path.parent)
    except (KeyError, TypeError, ValueError, IndexError) as e:
        raise InputError(
            f"{log_path}: not a valid merge log ({e}); it may have been edited. "
            "Nothing was changed."
        ) from None
    return log


def _check_log(log: dict[str, Any], out_dir: Path) -> None:
    def need(ok: bool, what: str) -> None:
        if not ok:
            raise ValueError(what)

    def text_list(v: Any) -> bool:
        return isinstance(v, list) and all(isinstance(x, str) for x in v)

    need(log.get("state", "committed") in ("committed", "undone"), "state is not committed")
    inp, outp = log["input"], log["output"]
    need(isinstance(inp, dict) and isinstance(outp, dict), "input/output are not objects")
    need(isinstance(inp["sha256"], str) and bool(_SHA.fullmatch(inp["sha256"])), "input.sha256")
    need(isinstance(outp["sha256"], str) and bool(_SHA.fullmatch(outp["sha256"])), "output.sha256")
    need(outp["file"] == MERGED_FILE, f"output.file must be {MERGED_FILE}")
    rows = inp["rows"]
    need(isinstance(rows, int) and not isinstance(rows, bool) and rows >= 0, "input.rows")
    need(text_list(inp["columns"]) and "record_id" in inp["columns"], "input.columns")
    need(inp["newline"] in ("\n", "\r\n") and isinstance(inp["bom"], bool), "input dialect")
    need(isinstance(inp.get("verbatim", ""), str), "input.verbatim")
    need(isinstance(log["clusters"], list), "clusters")
    if "originals" in log:
        o = log["originals"]
        need(
            isinstance(o, dict) and o["file"] == ORIGINALS_FILE, f"originals.file: {ORIGINALS_FILE}"
        )
        need(isinstance(o["sha256"], str) and bool(_SHA.fullmatch(o["sha256"])), "originals.sha256")
        n = o["rows"]
        need(isinstance(n, int) and not isinstance(n, bool) and 0 <= n <= rows, "originals.rows")
    seen: set[int] = set()
    for c in log["clusters"]:
        need(isinstance(c, dict) and isinstance(c["survivor"], str), "clusters[].survivor")
        need(text_list(c["record_ids"]), "clusters[].record_ids")
        need("originals" in c or "originals" in log, "clusters[].originals")
        for o in c.get("originals", []):
            pos = o["position"]
            need(isinstance(pos, int) and 0 <= pos < rows and pos not in seen, "position")
            seen.add(pos)
            need(isinstance(o["row"], dict), "originals[].row")
            need(all(isinstance(v, str) for v in o["row"].values()), "originals[].row values")
    files = log.get("files", {})
    need(isinstance(files, dict), "files")
    root = out_dir.resolve()
    for rel, digest in files.items():
        need(isinstance(digest, str) and bool(_SHA.fullmatch(digest)), f"files[{rel!r}]")
        p = Path(rel)
        inside = (out_dir / p).resolve().is_relative_to(root)
        need(
            bool(rel) and not p.is_absolute() and ".." not in p.parts and inside,
            f"path {rel!r} leads outside {out_dir.name}/",
        )
        need(rel != LOG_FILE, "the log lists itself")
