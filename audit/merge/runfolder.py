"""Read what `merge apply` needs from a run folder, and CSV files as exact text.

Undo must give back the records file byte for byte, so the records are handled as text rows
(exactly the strings in the file) and written back with the same dialect, encoding and byte-order
mark. The typed frame (parquet when present) is used only to decide which values win.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from audit import schema
from audit.config import PipelineConfig, parse_config
from audit.errors import InputError

BOM = "\ufeff"
# what merging reads of duplicates.csv (the decisions store keeps each pair's score and band):
# the other 20 columns were 3/4 of the pairs' memory
PAIR_COLUMNS = frozenset({"record_id_l", "record_id_r", "score", "band"})


@dataclass
class TextTable:
    """A CSV file as exact strings, plus what is needed to write it back identically."""

    header: list[str]
    rows: list[list[str]]
    newline: str = "\n"
    bom: bool = False

    def column(self, name: str) -> list[str]:
        i = self.header.index(name)
        return [r[i] if i < len(r) else "" for r in self.rows]

    def to_text(self) -> str:
        buf = io.StringIO()
        w = csv.writer(buf, lineterminator=self.newline, quoting=csv.QUOTE_MINIMAL)
        w.writerow(self.header)
        w.writerows(self.rows)
        return (BOM if self.bom else "") + buf.getvalue()

    def to_bytes(self) -> bytes:
        return self.to_text().encode("utf-8")

    def writes(self, data: bytes, *, batch: int = 20_000) -> bool:
        """Whether `to_bytes()` would be exactly `data`, compared a batch of rows at a time
        (the whole text and its bytes are three copies of a file that is 0.5 GB at 1M rows)."""
        at = 0
        for part in self._chunks(batch):
            if data[at : at + len(part)] != part:
                return False
            at += len(part)
        return at == len(data)

    def _chunks(self, batch: int) -> Iterator[bytes]:
        """The bytes of `to_bytes()`: the header line, then `batch` rows at a time."""
        head = [[self.header]]
        parts = head + [self.rows[i : i + batch] for i in range(0, len(self.rows), batch)]
        for k, rows in enumerate(parts):
            buf = io.StringIO()
            w = csv.writer(buf, lineterminator=self.newline, quoting=csv.QUOTE_MINIMAL)
            w.writerows(rows)
            yield ((BOM if self.bom and k == 0 else "") + buf.getvalue()).encode("utf-8")


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def parse_text_table(data: bytes, *, where: str) -> TextTable:
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as e:
        raise InputError(
            f"{where}: not UTF-8 ({e}); it must be the file crm-audit wrote."
        ) from None
    bom = text.startswith(BOM)
    if bom:
        text = text[1:]
    first_end = text.find("\n")
    newline = "\r\n" if first_end > 0 and text[first_end - 1] == "\r" else "\n"
    rows = list(csv.reader(io.StringIO(text, newline="")))
    if not rows:
        raise InputError(f"{where}: the file is empty.")
    return TextTable(header=rows[0], rows=rows[1:], newline=newline, bom=bom)


def read_text_table(path: Path) -> tuple[TextTable, bytes]:
    try:
        data = path.read_bytes()
    except OSError as e:
        raise InputError(f"{path}: could not be read ({e.strerror or e}).") from None
    return parse_text_table(data, where=str(path)), data


@dataclass
class RunFolder:
    """The parts of a run folder (reports/<run-id>/) that merging reads."""

    path: Path
    run_id: str
    config: PipelineConfig
    config_data: dict[str, Any]
    records_csv: Path
    clusters: pd.DataFrame
    pairs: pd.DataFrame
    other_records: dict[str, Path] = field(default_factory=dict)

    def typed_contacts(self, table: TextTable) -> pd.DataFrame:
        """Contacts typed by schema kind: the parquet twin when present, else parsed text."""
        pq = self.records_csv.with_suffix(".parquet")
        if pq.is_file():
            try:
                frame = pd.read_parquet(pq)
                if "record_id" in frame and len(frame) == len(table.rows):
                    return frame
            except Exception:  # a broken twin: fall back to the CSV, which is the truth
                pass
        return typed_from_text(table)


def typed_from_text(table: TextTable) -> pd.DataFrame:
    frame = pd.DataFrame(table.rows, columns=table.header, dtype="object")
    frame = frame.where(frame.ne(""), None)
    kinds = schema.column_kinds("contacts")
    for c in frame.columns:
        kind = kinds.get(c)
        if kind == schema.DATETIME:
            frame[c] = pd.to_datetime(frame[c], utc=True, errors="coerce", format="ISO8601")
        elif kind in (schema.FLOAT, schema.INT):
            frame[c] = pd.to_numeric(frame[c], errors="coerce")
    return frame


def read_run(run_dir: Path) -> RunFolder:
    """Read run.json, records/contacts.csv, clusters.csv and duplicates.csv of a run folder."""
    from audit.manifest import check_run_folder

    run_dir = Path(run_dir)
    if not run_dir.is_dir():
        raise InputError(f"{run_dir}: not a run folder (give the folder reports/<run-id>/).")
    listed = check_run_folder(run_dir)  # complete, and unchanged since the run
    run_json = run_dir / "run.json"
    try:
        meta = json.loads(run_json.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise InputError(f"{run_json}: missing; is {run_dir} a crm-audit run folder?") from None
    except (OSError, ValueError) as e:
        raise InputError(f"{run_json}: could not be read ({e}).") from None
    cfg_data = meta.get("config")
    if not isinstance(cfg_data, dict):
        raise InputError(f"{run_json}: has no 'config' object; re-run the audit.")
    config = parse_config(
        cfg_data, source=str(run_json), base_dir=Path(cfg_data.get("base_dir", "."))
    )
    records_dir = run_dir / "records"
    records_csv = records_dir / "contacts.csv"
    if not records_csv.is_file():
        raise InputError(f"{records_csv}: missing; the run wrote no contact records to merge.")
    clusters = _read_frame(run_dir / "clusters.csv", required=("cluster_id", "record_id"))
    pairs_path = run_dir / "duplicates.csv"
    pairs = (
        _read_frame(pairs_path, required=(), only=PAIR_COLUMNS)
        if pairs_path.is_file()
        else pd.DataFrame()
    )
    if "records/contacts.csv" not in listed:
        raise InputError(f"{records_csv}: not in the run's manifest; re-run the audit.")
    others = {
        p.stem: p
        for p in sorted(records_dir.glob("*.csv"))
        if p.stem != "contacts" and f"records/{p.name}" in listed
    }
    return RunFolder(
        path=run_dir,
        run_id=str(meta.get("run_id") or run_dir.name),
        config=config,
        config_data=cfg_data,
        records_csv=records_csv,
        clusters=clusters,
        pairs=pairs,
        other_records=others,
    )


def _read_frame(
    path: Path, *, required: tuple[str, ...], only: frozenset[str] | None = None
) -> pd.DataFrame:
    try:
        frame = pd.read_csv(
            path,
            dtype=str,
            keep_default_na=False,
            encoding="utf-8-sig",
            usecols=None if only is None else (lambda c: c in only),
        )
    except FileNotFoundError:
        raise InputError(f"{path}: missing; is this a crm-audit run folder?") from None
    except pd.errors.EmptyDataError:
        frame = pd.DataFrame()
    except (OSError, ValueError, UnicodeDecodeError) as e:
        raise InputError(f"{path}: could not be read ({e}).") from None
    missing = [c for c in required if c not in frame.columns]
    if missing:
        raise InputError(f"{path}: has no column {', '.join(missing)}; re-run the audit.")
    return frame


def cluster_bands(clusters: pd.DataFrame) -> dict[str, str]:
    """cluster_id -> 'auto' when every row of the cluster is auto-band, else 'review'."""
    if clusters.empty:
        return {}
    if "band" not in clusters:
        return {str(c): "review" for c in clusters["cluster_id"].unique()}
    auto = clusters["band"].astype(str).str.lower().eq("auto")
    per = auto.groupby(clusters["cluster_id"].astype(str)).all()
    return {c: ("auto" if a else "review") for c, a in per.items()}


def relative_or_absolute(path: Path, base: Path) -> str:
    try:
        return str(path.resolve().relative_to(base.resolve()))
    except ValueError:
        return str(path.resolve())


def two_people(emails: dict[str, list[str]], members: list[str]) -> list[str]:
    """The different personal email addresses of a cluster's members, when there are two or more.

    A cluster holding two people's own mailboxes is two people (or one with two addresses):
    that is a person's call, never an unattended merge.
    """
    seen: dict[str, str] = {}  # record -> its first address, in member order
    for rid in members:
        vals = emails.get(rid) or []
        if vals:
            seen[rid] = vals[0]
    from audit.match.facts import personal_emails

    personal = personal_emails(seen.values())
    return sorted(personal) if len(personal) >= 2 else []
