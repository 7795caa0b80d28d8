"""Sources stage: read every configured export into canonical frames, losing nothing.

`read_sources(cfg.sources, base_dir=...)` finds the files of each source (a file, a glob or a
folder), reads them with the reader registered for their format (`readers/`), recognizes vendor
exports by header (`profiles/`, `detect.py`), maps headers onto canonical columns and keeps every
unmapped column in `extra`. Every value stays text; typing is normalize's job. Rows a reader
could not take become `source.row.*` issues, so for each file and entity
`rows_read == rows_ingested + rows_rejected`.

`inspect_paths(paths)` runs the same reading without a config and reports, per file and table,
what `crm-audit sources inspect` prints.
"""

from __future__ import annotations

import glob as globmod
import json
import re
import stat
from collections.abc import Callable, Sequence
from concurrent.futures import Executor, Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from audit import schema
from audit.config import SourceConfig
from audit.errors import AuditError, ConfigError, InputError
from audit.model import Ingest
from audit.sources import mail, surveys
from audit.sources.decoding import fold_header
from audit.sources.detect import candidates, detect, generic_mapping, guess_entity
from audit.sources.flags import apply_flags
from audit.sources.listing import folder_files, source_name
from audit.sources.profiles import PROFILES, Profile, load_profile
from audit.sources.provenance import content_ids, key_ids
from audit.sources.readers import (
    READERS,
    Limits,
    RawTable,
    ReaderOptions,
    ReaderSpec,
    Rejected,
    reader_for_suffix,
)
from audit.sources.readers.csv_reader import plain_text

__all__ = [
    "INSPECT_KEYS",
    "Connector",
    "catalog_markdown",
    "inspect_paths",
    "read_sources",
    "read_table",
    "session_source",
    "sources_for_paths",
]

COUNT_COLUMNS = ["source", "source_file", "entity", "rows_read", "rows_ingested", "rows_rejected"]
# Keys of each inspect record (JSON output of `crm-audit sources inspect --format json`).
INSPECT_KEYS: dict[str, str] = {
    "source": "source name (the file stem when inspecting paths)",
    "source_file": "file read (with #sheet for workbooks with several sheets read)",
    "reader": "reader used: csv, excel, mbox, eml, emlx, vcf, json",
    "profile": "detected or configured export profile, or null for a generic mapping",
    "profile_candidates": "every profile whose header signature matched",
    "entity": "canonical entity the rows were mapped to (contacts, deals, ...)",
    "encoding": "text encoding used (utf-8, utf-8-sig, utf-16, cp949, cp932, ...), or null",
    "delimiter": "CSV delimiter, or null",
    "sheet": "spreadsheet sheet name, or null",
    "header_row": "1-based line/row of the header in the file, or null",
    "rows_read": "data rows seen (rows_ingested + rows_rejected)",
    "rows_ingested": "rows kept as records",
    "rows_rejected": "rows turned into source.row.* issues",
    "mapping": "object: file header -> canonical column",
    "unmapped": "file headers kept in the `extra` JSON column",
    "warnings": "list of notes: skipped title rows, hidden sheets, NUL bytes, mixed encodings",
}
_MAIL_READERS = ("mbox", "eml", "emlx")
_GLOB = re.compile(r"[*?\[]")
_APOSTROPHE = re.compile(r"^'(?=[\w +\-().]+$)")


@dataclass
class _Loaded:
    entity: str
    frame: pd.DataFrame  # provenance (no record_id yet) + canonical + extra
    keys_from: str | None  # column whose values can serve as record keys
    count: dict[str, Any]
    info: dict[str, Any]
    issues: list[dict[str, Any]]
    aggregate: str | None
    own_ids: list[str | None] | None = None  # record ids a crm-audit output file carries


def _own_ids(frame: pd.DataFrame) -> list[str | None]:
    """The record ids a file crm-audit wrote (merge apply) carries in its record_id column,
    which the generic mapping keeps in `extra`: re-reading the merged contacts must give each
    record the id it had, or every decision made about it is lost."""
    if "extra" not in frame.columns:
        return [None] * len(frame)
    out: list[str | None] = []
    for text in frame["extra"].tolist():
        try:
            rid = json.loads(text).get("record_id") if isinstance(text, str) else None
        except (ValueError, AttributeError):
            rid = None
        out.append(str(rid) if rid else None)
    return out


def _resolve(
    src: SourceConfig, base_dir: Path, where: str
) -> tuple[list[Path], list[tuple[Path, str]]]:
    """(files to read, [(file not read, reason)]) for a source's path, glob or folder.

    A path that exists is taken as written, never as a pattern: `export [1].csv` is a file
    name, not a character class. Only a path that does not exist is tried as a glob.
    """
    assert src.path is not None  # a table source is read by a connector
    raw = Path(src.path).expanduser()
    full = raw if raw.is_absolute() else base_dir / raw
    if not full.exists() and _GLOB.search(src.path):
        hits = sorted(Path(p) for p in globmod.glob(str(full), recursive=True))
        hits = [p for p in hits if p.is_file()]
        if not hits:
            raise InputError(
                f"{full}: the pattern matches no file ({where}.path); check the folder and "
                "the pattern."
            )
        return hits, []
    if not full.exists():
        raise InputError(f"{full}: file not found ({where}.path = {src.path!r}).")
    if full.is_dir():
        files, skipped = folder_files(full)
        if not files:
            raise InputError(f"{full}: the folder has no file to read ({where}.path).")
        return files, skipped
    return [full], []


def _sniff_reader(path: Path) -> ReaderSpec | None:
    try:
        with path.open("rb") as fh:
            head = fh.read(2048)
    except OSError:
        return None
    if head.lstrip(b"\r\n").startswith(b"From "):
        return READERS.get("mbox")
    if head.startswith((b"PK\x03\x04", b"\xd0\xcf\x11\xe0")):
        return READERS.get("excel")
    if b"BEGIN:VCARD" in head.upper():
        return READERS.get("vcf")
    if re.match(rb"^\s*[\[{]", head):
        return READERS.get("json")
    if re.search(rb"^(Received|Return-Path|From|Message-ID|Delivered-To):", head, re.M | re.I):
        return READERS.get("eml")
    return None


def _choose_reader(path: Path, fmt: str, *, in_folder: bool) -> ReaderSpec | None:
    if fmt and fmt != "auto":
        if fmt in ("xlsx", "xls", "ods", "xlsm"):
            fmt = "excel"
        if fmt in ("tsv", "txt"):
            fmt = "csv"
        return READERS.get(fmt)
    spec = reader_for_suffix(path.suffix)
    if spec is not None:
        return spec
    sniffed = _sniff_reader(path)
    if sniffed is not None or in_folder:
        return sniffed
    return READERS.get("csv")


def _profile_for(src: SourceConfig, base_dir: Path, where: str) -> Profile | str | None:
    """A Profile, None for generic mapping ('none'), or 'auto'."""
    value = (src.profile or "auto").strip()
    if value == "auto":
        return "auto"
    if value == "none":
        return None
    if value.endswith((".yaml", ".yml")):
        p = Path(value).expanduser()
        return load_profile(p if p.is_absolute() else base_dir / p)
    try:
        return PROFILES.get(value)
    except ConfigError as e:
        raise ConfigError(f"{where}.profile: {e}") from None


def _rel(path: Path, base_dir: Path) -> str:
    try:
        rel = path.resolve().relative_to(base_dir.resolve()).as_posix()
    except ValueError:
        rel = path.as_posix()
    # a name with bytes that are not UTF-8 (an old Latin-1 disk) cannot be written to a report
    # as it is: show the bad bytes as U+FFFD, the file itself is still read by its real name
    return rel.encode("utf-8", "surrogateescape").decode("utf-8", "replace")


def _no_loop(path: Path) -> Path:
    """`path.resolve()`, or one clear line for a symbolic link that loops."""
    try:
        return path.resolve()
    except (RuntimeError, OSError):
        raise InputError(
            f"{path}: is a symbolic link that loops back on itself; not read."
        ) from None


def _coalesce(frame: pd.DataFrame, cols: list[str]) -> pd.Series:
    out = frame[cols[0]]
    for c in cols[1:]:
        out = out.where(out.notna(), frame[c])
    return out


# the C string encoder json.dumps(..., ensure_ascii=False) uses, without its per-call setup
_json_str = json.encoder.encode_basestring
# what that encoder escapes (json.encoder.ESCAPE), in RE2 syntax for Arrow
_JSON_ESCAPES = r'[\x00-\x1f"\\]'


def _arrow(col: pd.Series) -> pa.Array | None:
    """The column as one Arrow text array when it is Arrow text (what the CSV reader gives),
    else None (an object column of Python values: the other readers, a profile's constants)."""
    if not (isinstance(col.dtype, pd.StringDtype) and col.dtype.storage == "pyarrow"):
        return None
    arr = pa.array(col.array)
    return arr.combine_chunks() if isinstance(arr, pa.ChunkedArray) else arr


def _text_series(arr: pa.Array, index: pd.Index) -> pd.Series:
    return pd.Series(pd.array(arr, dtype="str"), index=index, copy=False)


def _join(parts: Sequence[Any], sep: str) -> pa.Array:
    """Row by row, the parts' texts joined by `sep`, a missing one as "" (never missing).

    Arrow's join skipping nulls (null_handling="skip") drops the rows where every part is
    null from its result (pyarrow 26), so nulls are replaced and the length is checked.
    """
    first = next(p for p in parts if isinstance(p, (pa.Array, pa.ChunkedArray)))
    n = len(first)
    scalars = [pa.scalar(p, pa.large_string()) if isinstance(p, str) else p for p in parts]
    out = pc.binary_join_element_wise(
        *scalars,
        pa.scalar(sep, pa.large_string()),
        null_handling="replace",
        null_replacement="",
    )
    if len(out) != n:  # pragma: no cover - a join that lost rows must never pass silently
        raise AssertionError(f"Arrow's join gave {len(out)} rows for {n}")
    return out


def _json_extra(frame: pd.DataFrame, cols: list[str]) -> pd.Series:
    """Per row, a JSON object (sorted keys) of the non-empty values of `cols`, or None.

    Built column by column over the non-empty cells only: vendor exports with hundreds of
    mostly empty custom properties would otherwise cost a dict per row and column.
    Same text as json.dumps(..., ensure_ascii=False, sort_keys=True). Arrow text columns are
    joined as Arrow arrays (only a cell that needs escaping goes through Python), so the CSV
    reader's cells never become Python strings; other columns go the Python way.
    """
    n = len(frame)
    keys = sorted(cols)
    arrays = [_arrow(frame[k]) for k in keys]
    if not keys or any(a is None for a in arrays):
        return pd.Series(_json_extra_py(frame, keys), index=frame.index, dtype=object)
    parts: list[Any] = []
    for k, arr in zip(keys, arrays, strict=True):
        assert arr is not None
        if arr.null_count == len(arr):
            continue
        escape = pc.fill_null(pc.match_substring_regex(arr, _JSON_ESCAPES), False)
        if pc.any(escape).as_py():
            fixed = [_json_str(v)[1:-1] for v in arr.filter(escape).to_pylist()]
            arr = pc.replace_with_mask(arr, escape, pa.array(fixed, arr.type))
        parts.append(
            pc.binary_join_element_wise(
                pa.scalar(", " + _json_str(k) + ': "', arr.type),
                arr,
                pa.scalar('"', arr.type),
                pa.scalar("", arr.type),
            )
        )
    if not parts:
        return pd.Series([None] * n, index=frame.index, dtype=object)
    joined = _join(parts, "")  # each part starts with ", "
    text = _join(["{", pc.utf8_slice_codeunits(joined, 2), "}"], "")
    text = pc.if_else(pc.equal(joined, ""), pa.scalar(None, text.type), text)
    return _text_series(text, frame.index)


def _json_extra_py(frame: pd.DataFrame, keys: list[str]) -> list[str | None]:
    """_json_extra over Python values (object columns), missing as None or NaN."""
    n = len(frame)
    if not keys:
        return [None] * n
    parts: list[list[str]] = [[] for _ in range(n)]
    for k in keys:
        col = frame[k]
        mask = col.notna().to_numpy()
        if not mask.any():
            continue
        key = _json_str(k) + ": "
        rows = np.flatnonzero(mask)
        for i, v in zip(rows.tolist(), col.to_numpy(dtype=object)[mask].tolist(), strict=True):
            parts[i].append(key + (_json_str(v) if type(v) is str else json.dumps(v)))
    return ["{" + ", ".join(p) + "}" if p else None for p in parts]


def _text_hits(col: pd.Series, pred: Callable[[str], bool]) -> np.ndarray:
    """Per row, whether the cell holds text for which `pred` is true (missing: False).

    An Arrow text column is asked once per distinct value, not once per row.
    """
    arr = _arrow(col)
    if arr is None:
        return np.array([isinstance(v, str) and pred(v) for v in col.tolist()], dtype=bool)
    enc = arr.dictionary_encode()
    hits = np.array([pred(v) for v in enc.dictionary.to_pylist()] + [False], dtype=bool)
    return hits[enc.indices.fill_null(-1).to_numpy(zero_copy_only=False)]


def _map_text(col: pd.Series, fn: Callable[[str], str]) -> pd.Series:
    """`fn` over each cell holding text (missing stays missing); once per distinct value of an
    Arrow text column, whose result stays Arrow text."""
    arr = _arrow(col)
    if arr is None:
        values = [fn(v) if isinstance(v, str) else v for v in col.astype(object).tolist()]
        return pd.Series(values, index=col.index, dtype=object)
    enc = arr.dictionary_encode()
    mapped = pa.array([fn(v) for v in enc.dictionary.to_pylist()], arr.type)
    return _text_series(mapped.take(enc.indices), col.index)


def _map(
    table: RawTable, src: SourceConfig, profile: Profile | str | None, where: str
) -> tuple[pd.DataFrame, str, Profile | None, dict[str, str], list[str]]:
    """(canonical frame with extra, entity, profile used, mapping, unmapped headers)."""
    frame = table.frame
    header = [str(c) for c in frame.columns]
    if table.canonical:
        entity = table.entity or "contacts"
        allowed = schema.mappable(entity)
        mapping = {h: h for h in header if h in allowed}
        unmapped = [h for h in header if h not in allowed and h != "extra"]
        out = frame[[h for h in header if h in allowed]].copy()
        extra = _json_extra(frame, unmapped)
        if "extra" in frame.columns:
            extra = extra.where(extra.notna(), frame["extra"])
        out["extra"] = extra
        return out, entity, None, mapping, unmapped
    if profile == "auto":
        prof, note = detect(header)
        if note:
            table.warnings.append(note)
    else:
        assert not isinstance(profile, str)
        prof = profile
    entity = prof.entity if prof is not None else (src.entity or guess_entity(header))
    if entity not in schema.ENTITIES:
        raise ConfigError(f"{where}.entity: {entity!r} is not one of {', '.join(schema.ENTITIES)}.")
    allowed = schema.mappable(entity)
    by_fold = {fold_header(h): h for h in reversed(header)}
    sources_of: dict[str, list[str]] = {}
    if prof is not None:
        for col, aliases in prof.columns.items():
            present = [by_fold[fold_header(a)] for a in aliases if fold_header(a) in by_fold]
            present = list(dict.fromkeys(present))
            if present:
                sources_of[col] = present
    else:
        for h, col in generic_mapping(header, entity).items():
            sources_of.setdefault(col, []).append(h)
    for h, col in (src.columns or {}).items():
        if col not in allowed:
            raise ConfigError(
                f"{where}.columns: {col!r} is not a column of {entity}; use one of "
                f"{', '.join(sorted(allowed))}."
            )
        real = by_fold.get(fold_header(h))
        if real is None:
            table.warnings.append(f"columns override {h!r} matches no header")
            continue
        for c in list(sources_of):
            sources_of[c] = [x for x in sources_of[c] if x != real]
            if not sources_of[c]:
                del sources_of[c]
        sources_of[col] = [real]
    out = pd.DataFrame(index=frame.index)
    mapping = {}
    spill: list[str] = []  # alias columns whose value was not the one used
    for col, hs in sources_of.items():
        out[col] = _coalesce(frame, hs) if len(hs) > 1 else frame[hs[0]]
        for h in hs:
            mapping[h] = col
        spill += hs[1:]
    unmapped = [h for h in header if h not in mapping]
    extra_frame = frame[unmapped].copy() if unmapped else pd.DataFrame(index=frame.index)
    for h in spill:
        # a second alias (e.g. Home email next to Work email) keeps its value when it was not used
        col = mapping[h]
        extra_frame[h] = frame[h].where(frame[h] != out[col], None)
    if prof is not None and prof.multi_value:
        _first_of_many(out, frame, extra_frame, sources_of, prof.multi_value, table.warnings)
    out["extra"] = _json_extra(extra_frame, list(extra_frame.columns))
    if prof is not None:
        for col in prof.strip_apostrophe:
            if col in out.columns:
                out[col] = _map_text(out[col], lambda v: _APOSTROPHE.sub("", v))
        for col, value in prof.set.items():
            out[col] = value
        for rule in prof.status:
            cols = [by_fold[fold_header(c)] for c in rule.column if fold_header(c) in by_fold]
            wanted = {v.casefold() for v in rule.values}

            def says(v: str, wanted: set[str] = wanted) -> bool:
                return v.strip().casefold() in wanted

            for c in cols:
                hit = _text_hits(frame[c], says)
                if "email_status" not in out.columns:
                    out["email_status"] = None
                current = out["email_status"]
                out["email_status"] = current.where(~hit | current.notna(), rule.set)
    if (prof is not None and prof.flags) or "email_bounce" in out.columns:
        bounce_from = [h for h, c in mapping.items() if c == "email_bounce"]
        out = apply_flags(
            out, frame, prof.flags if prof else [], bounce_from[0] if bounce_from else None
        )
    return out, entity, prof, mapping, unmapped


def _first_of_many(
    out: pd.DataFrame,
    frame: pd.DataFrame,
    extra: pd.DataFrame,
    sources_of: dict[str, list[str]],
    sep: str,
    warnings: list[str],
) -> None:
    """An export that joins several values in one cell (a contact's three mobiles) gives the
    canonical column the first, as the export's own first value; the whole cell stays in extra
    under its header so the others are not lost."""
    counts: dict[str, int] = {}
    for col, hs in sources_of.items():
        s = out[col]
        many = s.map(lambda v: isinstance(v, str) and sep in v).astype(bool)
        if not many.any():
            continue
        out[col] = s.where(~many, s[many].map(lambda v: v.split(sep)[0].strip() or None))
        for h in hs:
            if h not in extra.columns:
                extra[h] = frame[h].where(many, None)
        counts[col] = int(many.sum())
    if counts:
        shown = ", ".join(f"{c} ({n})" for c, n in counts.items())
        warnings.append(
            f"cells holding several values joined by {sep.strip()!r}: the first was used for "
            f"{shown}; the whole cell is kept in extra"
        )


def _issue_rows(table: RawTable, src_name: str, file: str, entity: str) -> list[dict[str, Any]]:
    out = []
    for r in table.rejected:
        where = f"line {r.line}" if r.line else f"row {r.row}"
        if table.sheet and r.line:
            where = f"sheet {table.sheet!r} row {r.line}"
        out.append(
            {
                "record_id": None,
                "entity": entity,
                "field": None,
                "rule_id": r.rule,
                "dimension": schema.Dimension.INTEGRITY.value,
                "severity": r.severity,
                "message": f"{file} {where}: {r.reason}; the row was not read",
                "value": r.value[:200] if r.value else None,
                "suggestion": None
                if r.rule == "source.row.footer"
                else "fix the row in the file (quote values that contain the delimiter) and re-run",
                "evidence": f"source={src_name}; data row {r.row}",
            }
        )
    return out


def _load_file(
    path: Path,
    spec: ReaderSpec,
    src: SourceConfig,
    profile: Profile | str | None,
    base_dir: Path,
    where: str,
    limits: Limits | None = None,
    pool: Executor | None = None,
) -> list[_Loaded]:
    try:
        regular = stat.S_ISREG(path.stat().st_mode)
    except OSError as e:
        raise InputError(f"{path}: cannot be opened ({e.strerror}).") from None
    if not regular:
        # a device, pipe or socket (/dev/zero, a FIFO) would be read until memory runs out
        raise InputError(f"{path}: is not a regular file (a device, pipe or socket); not read.")
    opts = ReaderOptions(
        encoding=src.encoding,
        delimiter=src.delimiter,
        sheet=src.sheet,
        header_row=src.header_row,
        where=where,
        limits=limits or Limits(),
        pool=pool,
    )
    tables = list(spec.fn(path, opts))
    for table in tables:
        table.reader = table.reader or spec.name
    return _load_tables(tables, src, profile, _rel(path, base_dir), where)


def _load_tables(
    tables: list[RawTable],
    src: SourceConfig,
    profile: Profile | str | None,
    rel: str,
    where: str,
) -> list[_Loaded]:
    """Map the tables read from one file (or handed over by a connector) onto records."""
    sheets = [t for t in tables if t.sheet]
    out = []
    for table in tables:
        derived: list[tuple[pd.DataFrame, list[surveys.ScoreColumn]]] = []
        file = f"{rel}!{table.member}" if table.member else rel
        if table.sheet and len(sheets) > 1:
            file = f"{file}#{table.sheet}"
        if len(table.frame.columns) == 0 and not table.rejected:
            entity = table.entity or (profile.entity if isinstance(profile, Profile) else None)
            entity = entity or src.entity or "contacts"
            mapping: dict[str, str] = {}
            unmapped: list[str] = []
            frame, prof = schema.empty(entity), None
            frame = frame.drop(columns=["record_id"])
            table.frame = pd.DataFrame()  # no header: nothing that could be a row was read
        else:
            questions = {} if table.canonical else surveys.prepare(table)
            frame, entity, prof, mapping, unmapped = _map(table, src, profile, where)
            n = len(frame)
            rows = table.source_row if table.source_row is not None else list(range(1, n + 1))
            idx = frame.index
            numbers = pa.array(np.asarray(rows, dtype=np.int64)).cast(pa.large_string())
            frame.insert(0, "source_row", _text_series(numbers, idx))
            # object Series: pandas 3 would infer its Arrow `str` dtype for plain arrays
            frame.insert(0, "source_file", pd.Series(file, index=idx, dtype=object))
            frame.insert(0, "source", pd.Series(src.name, index=idx, dtype=object))
            scores = [] if table.canonical else surveys.score_columns(table.frame, questions)
            if scores and entity == "contacts":
                answers = surveys.survey_frame(table.frame, frame, scores, frame.get("email"))
                header = [str(c) for c in table.frame.columns]
                if surveys.is_form_export(prof.name if prof else None, header):
                    frame = _drop_anonymous(frame, table)
                    table.warnings.append(
                        "survey export: respondents with an email, phone or name are contacts"
                    )
                derived.append((answers, scores))
        frame = frame.reset_index(drop=True)
        count = {
            "source": src.name,
            "source_file": file,
            "entity": entity,
            "rows_read": table.rows_read,
            "rows_ingested": len(frame),
            "rows_rejected": len(table.rejected),
        }
        info = {
            "source": src.name,
            "source_file": file,
            "reader": table.reader,
            "profile": prof.name if prof is not None else None,
            "profile_candidates": candidates(list(map(str, table.frame.columns)))
            if not table.canonical
            else [],
            "entity": entity,
            "encoding": table.encoding,
            "delimiter": table.delimiter,
            "sheet": table.sheet,
            "header_row": table.header_row,
            "rows_read": count["rows_read"],
            "rows_ingested": count["rows_ingested"],
            "rows_rejected": count["rows_rejected"],
            "mapping": mapping,
            "unmapped": unmapped,
            "warnings": list(table.warnings),
        }
        keys_from = "external_id" if "external_id" in frame.columns else None
        if entity == "email_events":
            keys_from = None
        out.append(
            _Loaded(
                entity,
                frame,
                keys_from,
                count,
                info,
                _issue_rows(table, src.name, file, entity),
                table.aggregate,
            )
        )
        if prof is not None and prof.events and "email" in frame.columns:
            out.append(_profile_events(table, frame, prof, info))
        for answers, scores in derived:
            out.append(_survey_loaded(answers, scores, info))
    return out


_IDENTITY = ("email", "phone", "mobile", "full_name", "first_name", "last_name")


def _drop_anonymous(frame: pd.DataFrame, table: RawTable) -> pd.DataFrame:
    """Survey responses with no email, phone or name are answers, not contacts.

    They are reported as info rows (source.row.anonymous_response) so that the contacts count
    still adds up: rows read = contacts + rejected, and every answer is in `surveys`.
    """
    cols = [c for c in _IDENTITY if c in frame.columns]
    anon = frame[cols].isna().all(axis=1).to_numpy() if cols else np.ones(len(frame), bool)
    if not anon.any():
        return frame
    for recno in frame.loc[anon, "source_row"].tolist():
        table.rejected.append(
            Rejected(
                int(recno),
                None,
                "source.row.anonymous_response",
                "survey response without an email, phone or name (its answers are in surveys)",
                "",
                "info",
            )
        )
    table.frame = table.frame[~anon]
    return frame[~anon]


def _survey_loaded(
    answers: pd.DataFrame, scores: list[surveys.ScoreColumn], info: dict[str, Any]
) -> _Loaded:
    if answers.empty:
        answers = schema.empty("surveys").drop(columns=["record_id"])
    count = {**{k: info[k] for k in ("source", "source_file")}, "entity": "surveys"}
    count |= {"rows_read": len(answers), "rows_ingested": len(answers), "rows_rejected": 0}
    found = "; ".join(
        f"{s.survey_type} {s.scale_min}-{s.scale_max}: {s.question[:60]!r}" for s in scores
    )
    s_info = {**info, **count, "profile": info["profile"], "mapping": {}, "unmapped": []}
    s_info["warnings"] = [f"survey answers read from the score questions ({found})"]
    return _Loaded("surveys", answers, "external_id", count, s_info, [], None)


def _profile_events(
    table: RawTable, frame: pd.DataFrame, prof: Profile, info: dict[str, Any]
) -> _Loaded:
    """email_events rows from a list export's dated columns (see profiles.EventRule)."""
    by_fold = {fold_header(str(h)): str(h) for h in reversed(list(table.frame.columns))}
    parts = []
    for rule in prof.events:
        cols = [by_fold[fold_header(a)] for a in rule.at if fold_header(a) in by_fold]
        if not cols:
            continue
        at = _coalesce(table.frame.reset_index(drop=True), list(dict.fromkeys(cols)))
        keep = (at.notna() & frame["email"].notna()).to_numpy()
        if not keep.any():
            continue
        part = frame.loc[keep, ["source", "source_file", "source_row"]].copy()
        part["address"] = frame.loc[keep, "email"]
        part["event"] = rule.event
        part["classification"] = rule.classification
        part["reason"] = rule.reason
        part["occurred_at"] = at[keep].to_numpy()
        part["extra"] = None
        parts.append(part)
    events = (
        pd.concat(parts, ignore_index=True)
        if parts
        else schema.empty("email_events").drop(columns=["record_id"])
    )
    count = {**{k: info[k] for k in ("source", "source_file")}, "entity": "email_events"}
    count |= {"rows_read": len(events), "rows_ingested": len(events), "rows_rejected": 0}
    ev_info = {**info, **count, "mapping": {}, "unmapped": [], "warnings": []}
    ev_info["warnings"] = [f"email events derived from {prof.name} dated columns"]
    return _Loaded("email_events", events, None, count, ev_info, [], None)


def _merge_mail_contacts(frames: list[pd.DataFrame]) -> pd.DataFrame:
    """Contacts met in several mail files of one source: one row per address, latest date."""
    df = pd.concat(frames, ignore_index=True)
    if df.empty:
        return df
    df["_d"] = df["last_activity_at"].fillna("")
    df = df.sort_values(["email", "_d", "source_file"], kind="stable")
    names = df.dropna(subset=["full_name"]).groupby("email")["full_name"].last()
    last = df.groupby("email").tail(1).set_index("email")
    first_file = df.groupby("email")[["source_file", "source_row"]].first()
    last["full_name"] = names.reindex(last.index)
    last["source_file"] = first_file["source_file"]
    last["source_row"] = first_file["source_row"]
    return last.reset_index().drop(columns=["_d"])


def _ids(source: str, entity: str, frame: pd.DataFrame, keys_from: str | None) -> Any:
    """Record ids (a list, or Arrow text when built from Arrow text columns)."""
    col = keys_from if keys_from in frame.columns else None
    if col is not None:
        keys = _arrow(frame[col])
        if keys is not None:
            if _usable_keys(keys):
                return _text_series(_join([source + ":", keys], ""), frame.index).array
        else:
            by_key = key_ids(source, frame[col].tolist())
            if by_key is not None:
                return by_key
    # the file name is left out: a re-downloaded export (new date in its name) keeps its ids
    skip = ("source", "source_file", "source_row", "record_id")
    cols = [c for c in frame.columns if c not in skip]
    arrays = [_arrow(frame[c]) for c in cols]
    if cols and all(a is not None for a in arrays):
        # the row's UTF-8 bytes straight from Arrow: no Python string per cell
        joined = _join(arrays, "\x1f").cast(pa.large_binary())
        return content_ids(source, joined.to_pylist())
    contents = list(map("\x1f".join, zip(*(_texts(frame[c]) for c in cols), strict=True)))
    return content_ids(source, contents)


def _usable_keys(keys: pa.Array) -> bool:
    """What provenance.key_ids asks of keys (each present, non-empty and unique), in Arrow."""
    if not len(keys) or keys.null_count:
        return False
    if pc.any(pc.equal(keys, "")).as_py():
        return False
    return bool(pc.count_distinct(keys).as_py() == len(keys))


def _texts(col: pd.Series) -> list[str]:
    """The column's values with "" for anything that is not text, as a list of str.

    Columns hold text or a missing value; those are filled in one vectorized step, and only a
    column holding something else (a number a profile sets) is looked at value by value.
    """
    arr = col.to_numpy(dtype=object)
    if pd.api.types.infer_dtype(arr, skipna=True) in ("string", "empty"):
        missing = pd.isna(arr)
        if missing.any():
            arr = arr.copy()
            arr[missing] = ""
        return arr.tolist()
    return [v if isinstance(v, str) else "" for v in arr.tolist()]


def _arrow_text(frame: pd.DataFrame) -> pd.DataFrame:
    """The file's text columns as Arrow text as soon as it is read: the reader's Python strings
    (a few for each value) are let go file by file, not after the last file, so the stage holds
    one file's strings at a time beside the Arrow text of the files before it. A column with a
    value that is not text (a number a profile sets) is left as it is: record ids read it as
    an empty text, where Arrow text would hold its digits."""
    out = {}
    for c in frame.columns:
        col = frame[c]
        if col.dtype == object and c not in SHARED_TEXT:
            values = col.to_numpy()
            if pd.api.types.infer_dtype(values, skipna=True) in ("string", "empty"):
                text = _arrow_or_none(values)
                if text is not None:
                    col = pd.Series(text, index=frame.index, copy=False)
        out[c] = col
    return pd.DataFrame(out, index=frame.index, copy=False)


# Provenance columns that stay object columns after `sources`: a handful of distinct values
# per entity, each row pointing at one shared string (8 bytes a row; Arrow text would copy the
# bytes into every row).
SHARED_TEXT = ("source", "source_file")


def _conformed(df: pd.DataFrame, entity: str, *, may_have_nan: bool) -> pd.DataFrame:
    """What schema.conform gives (canonical columns first), built without copying twice.

    The contract after `sources`: every column is text, missing where the source had nothing.
    Columns are Arrow-backed text (pandas `str`), apart from SHARED_TEXT (object, text or None).
    The records are the run's largest frames and the readers' Python strings cost about
    80 bytes a value where Arrow keeps the bytes alone; freed, a Python string's memory stays
    in the interpreter's arenas, where an Arrow column's buffer goes back to the system, so
    normalize can let each raw frame go as soon as it is typed.
    """
    n = len(df)
    canon = schema.columns(entity)
    order = canon + [c for c in df.columns if c not in canon]
    data: dict[str, pd.Series] = {}
    for c in order:
        if c not in df.columns:
            values = np.full(n, None, dtype=object)
        elif df[c].dtype == "str" and c not in SHARED_TEXT:
            data[c] = df[c].reset_index(drop=True)
            continue
        elif may_have_nan or df[c].dtype != object:
            values = df[c].to_numpy(dtype=object, na_value=None)
        else:  # built by this stage with None for empty: no scan needed
            values = df[c].to_numpy(dtype=object)
        text = None if c in SHARED_TEXT else _arrow_or_none(values)
        data[c] = pd.Series(
            values if text is None else text, dtype=object if text is None else None, copy=False
        )
    return pd.DataFrame(data, index=pd.RangeIndex(n), copy=False)


def _arrow_or_none(values: np.ndarray) -> Any:
    """The values as Arrow text, or None when Arrow cannot hold them: a lone surrogate (an
    undecodable byte kept by `surrogateescape`) is not UTF-8, and such a column stays an
    object column of Python strings, as every column was before."""
    try:
        return pd.array(values, dtype="str")
    except UnicodeEncodeError:
        return None


def _numbered(frame: pd.DataFrame) -> bool:
    """Whether the frame's index is already 0..n-1 (what concat with ignore_index gives)."""
    return frame.index.equals(pd.RangeIndex(len(frame)))


def _file_issue(src_name: str, file: str, rule: str, severity: str, message: str) -> dict:
    """A finding about a whole file (not read, or not readable): the run lists it."""
    return {
        "record_id": None,
        "entity": None,
        "field": None,
        "rule_id": rule,
        "dimension": schema.Dimension.INTEGRITY.value,
        "severity": severity,
        "message": message,
        "value": file,
        "suggestion": None,
        "evidence": f"source={src_name}",
    }


def _not_read_info(src_name: str, file: str, reason: str) -> dict[str, Any]:
    name = Path(file).name
    return {
        "source": src_name,
        "source_file": file,
        "reader": None,
        "warnings": [f"{name}: {reason}"],
    }


# Reads the sources a Spark session reads (see `session_source`): (source, base_dir, where) ->
# [(file label, table)], each table as a file reader gives it (header as written, text values).
# audit.spark.sources.SparkSources is the one there is; the pipeline hands it in.
Connector = Callable[[SourceConfig, Path, str], list[tuple[str, RawTable]]]
_URI = re.compile(r"^[A-Za-z][A-Za-z0-9+.\-]+:/")


def session_source(src: SourceConfig, base_dir: Path, *, engine: bool) -> bool:
    """Whether a Spark session reads this source rather than crm-audit's file readers.

    A table, Parquet and a URI (s3a://, hdfs://) always are; a folder with format: csv is when
    there is an engine to read it (without one, it is read file by file as before).
    """
    if src.table is not None or src.format == "parquet":
        return True
    assert src.path is not None
    if _URI.match(src.path):
        return True
    if not engine or src.format != "csv":
        return False
    raw = Path(src.path).expanduser()
    return src.path.endswith("/") or (raw if raw.is_absolute() else base_dir / raw).is_dir()


def _needs_engine(src: SourceConfig, where: str) -> ConfigError:
    what = f"table {src.table}" if src.table else f"{src.path} (format: {src.format})"
    return ConfigError(
        f"{where}: {what} is read by a Spark session; set engine: spark in the config (or run "
        "with --engine spark), or give an export file."
    )


def _files(
    src: SourceConfig, base_dir: Path, where: str
) -> tuple[list[Path], list[tuple[Path, str]], Profile | str | None, bool]:
    """(files to read, files not read with the reason, profile, whether in a folder)."""
    paths, skipped = _resolve(src, base_dir, where)
    profile = _profile_for(src, base_dir, where)
    in_folder = len(paths) > 1 or Path(base_dir / str(src.path)).is_dir()
    return paths, skipped, profile, in_folder


# A mailbox at least this large is read on a thread of its own (see _Ahead); below it, its
# messages are too few for the worker processes, and it is read in its turn.
AHEAD_MIN_BYTES = 1 << 20


class _Ahead:
    """Large mailboxes read on a thread of their own while the main thread reads the rest.

    A mailbox's messages are digested by worker processes (`mail`), with this process feeding
    them; the other files are parsed and mapped in this process. Run one after the other, the
    workers wait for the CSVs and the CSVs wait for the workers; side by side, both cores are
    busy for the whole stage. Each file's result is taken in its turn in the file order, so
    records, ids, issues and counts are exactly those of reading the files one by one.
    """

    def __init__(self) -> None:
        self.pool: Executor | None = None
        self.thread: ThreadPoolExecutor | None = None
        self.started: dict[tuple[int, Path], Future[list[_Loaded]]] = {}

    def start(
        self,
        sources: Sequence[SourceConfig],
        base_dir: Path,
        limits: Limits | None,
        connector: Connector | None,
    ) -> None:
        wanted = []
        for i, src in enumerate(sources):
            where = f"sources[{i}]"
            if src.path is None or session_source(src, base_dir, engine=connector is not None):
                continue
            try:
                paths, _, profile, in_folder = _files(src, base_dir, where)
                for path in paths:
                    spec = _choose_reader(path, src.format, in_folder=in_folder)
                    if spec is None or spec.name != "mbox":
                        continue
                    if path.stat().st_size >= AHEAD_MIN_BYTES:
                        wanted.append((i, path, spec, src, profile, where))
            except (AuditError, OSError):
                continue  # the reading in its turn meets the same problem and reports it
        if not wanted:
            return
        self.pool = mail.start_pool()  # forked now, before the thread starts
        if self.pool is None:
            return  # serial digesting (CRM_AUDIT_WORKERS=1): every file in its turn
        self.thread = ThreadPoolExecutor(max_workers=1, thread_name_prefix="crm-audit-mailbox")
        for i, path, spec, src, profile, where in wanted:
            self.started[(i, path)] = self.thread.submit(
                _load_file, path, spec, src, profile, base_dir, where, limits, self.pool
            )

    def close(self, *, failed: bool) -> None:
        """Let the workers and the thread go; after a failure, without reading on (the
        batches not started are cancelled, so the thread's wait for them ends at once)."""
        if self.pool is not None:
            self.pool.shutdown(wait=True, cancel_futures=failed)
        if self.thread is not None:
            self.thread.shutdown(wait=True, cancel_futures=True)


def read_sources(
    sources: Sequence[SourceConfig],
    *,
    base_dir: Path,
    limits: Limits | None = None,
    not_read: Sequence[tuple[str, str]] = (),
    connector: Connector | None = None,
) -> Ingest:
    """Read every source; see the module docstring for the contract.

    `connector` reads the sources a Spark session reads (`session_source`); without one such
    a source is a ConfigError, raised before any file is read. Its tables are mapped here,
    exactly as a file's, so a table and the same rows as a CSV give the same records.

    A file that cannot be read (corrupt, undecodable, not what its name says) becomes a
    `source.file.unreadable` finding and the other files are still read: one bad export in a
    folder of thirteen must not hide the twelve others. Only when no file at all could be read
    is that an InputError. Files not read on purpose (hidden, lock files, no reader; `not_read`
    adds those a command-line folder left out) are `source.file.skipped` findings.
    """
    issues: list[dict[str, Any]] = []
    files: list[dict[str, Any]] = []
    for file, reason in not_read:
        rel = _rel(Path(file), base_dir)
        issues.append(
            _file_issue("", rel, "source.file.skipped", "info", f"{rel}: {reason}; not read")
        )
        files.append(_not_read_info("", rel, reason))
    engine = connector is not None
    for i, src in enumerate(sources):
        if not engine and session_source(src, base_dir, engine=False):
            raise _needs_engine(src, f"sources[{i}]")
    ahead = _Ahead()
    ahead.start(sources, base_dir, limits, connector)
    try:
        ingest = _read_all(sources, base_dir, limits, connector, ahead, issues, files)
    except BaseException:
        ahead.close(failed=True)
        raise
    ahead.close(failed=False)
    return ingest


def _read_all(
    sources: Sequence[SourceConfig],
    base_dir: Path,
    limits: Limits | None,
    connector: Connector | None,
    ahead: _Ahead,
    issues: list[dict[str, Any]],
    files: list[dict[str, Any]],
) -> Ingest:
    """read_sources' reading, in file order; `issues` and `files` hold the folders' skips."""
    by_source_entity: dict[tuple[str, str], list[_Loaded]] = {}
    counts: list[dict[str, Any]] = []
    failures: list[InputError] = []
    n_read = 0

    def take(src: SourceConfig, loaded_file: list[_Loaded]) -> None:
        for loaded in loaded_file:
            if src.formula_guard:  # our own merge output: real values back
                from audit.safe import unneutralize_frame

                loaded.frame = unneutralize_frame(loaded.frame)
                loaded.own_ids = _own_ids(loaded.frame)
            if loaded.aggregate is None:  # mail contacts are merged by address first
                loaded.frame = _arrow_text(loaded.frame)
            by_source_entity.setdefault((src.name, loaded.entity), []).append(loaded)
            issues.extend(loaded.issues)
            counts.append(loaded.count)
            files.append(loaded.info)

    for i, src in enumerate(sources):
        where = f"sources[{i}]"
        if connector is not None and session_source(src, base_dir, engine=True):
            profile = _profile_for(src, base_dir, where)
            for label, table in connector(src, base_dir, where):
                take(src, _load_tables([table], src, profile, label, where))
                n_read += 1
            continue
        paths, skipped, profile, in_folder = _files(src, base_dir, where)
        for path, reason in skipped:
            rel = _rel(path, base_dir)
            issues.append(
                _file_issue(
                    src.name, rel, "source.file.skipped", "info", f"{rel}: {reason}; not read"
                )
            )
            files.append(_not_read_info(src.name, rel, reason))
        for path in paths:
            rel = _rel(path, base_dir)
            spec = _choose_reader(path, src.format, in_folder=in_folder)
            if spec is None:
                reason = "no reader for this kind of file"
                issues.append(
                    _file_issue(
                        src.name, rel, "source.file.skipped", "info", f"{rel}: {reason}; not read"
                    )
                )
                files.append(_not_read_info(src.name, rel, reason))
                continue
            try:
                early = ahead.started.pop((i, path), None)
                if early is not None and spec.name == "mbox":
                    loaded_file = early.result()
                else:
                    loaded_file = _load_file(path, spec, src, profile, base_dir, where, limits)
            except InputError as e:
                failures.append(e)
                issues.append(
                    _file_issue(
                        src.name,
                        rel,
                        "source.file.unreadable",
                        "error",
                        f"{e} The other files were read.",
                    )
                )
                files.append({**_not_read_info(src.name, rel, str(e)), "reader": spec.name})
                continue
            n_read += 1
            take(src, loaded_file)
    if failures and not n_read:
        first = failures[0]
        more = f" ({len(failures) - 1} other file(s) could not be read either)"
        raise InputError(str(first) + (more if len(failures) > 1 else ""), hint=first.hint)
    records: dict[str, list[pd.DataFrame]] = {}
    concatenated: set[str] = set()  # entities whose frames were concatenated (NaN possible)
    # each source's frames are let go once gathered, and each entity's once conformed: holding
    # every stage of the gathering at once cost about three copies of the records
    while by_source_entity:
        source, entity = key = next(iter(by_source_entity))
        parts = by_source_entity.pop(key)
        if len(parts) > 1:
            concatenated.add(entity)
        mail = [p.frame for p in parts if p.aggregate == "email"]
        rest = [p for p in parts if p.aggregate != "email"]
        frames = []
        if mail:
            merged = _merge_mail_contacts(mail)
            merged.insert(0, "record_id", _ids(source, entity, merged, "email"))
            frames.append(merged)
        if rest:
            # one file's frame already has a 0..n-1 index: no copy needed to number it
            only = rest[0].frame if len(rest) == 1 and _numbered(rest[0].frame) else None
            df = only if only is not None else pd.concat([p.frame for p in rest], ignore_index=True)
            keys_from = rest[0].keys_from if all(p.keys_from for p in rest) else None
            own = [i for p in rest for i in (p.own_ids or [None] * len(p.frame))]
            if all(own) and len(set(own)) == len(own):
                df.insert(0, "record_id", own)  # crm-audit's own output keeps its ids
            else:
                df.insert(0, "record_id", _ids(source, entity, df, keys_from))
            frames.append(df)
        records.setdefault(entity, []).extend(f for f in frames if len(f.columns))
        del parts, mail, rest, frames
    out: dict[str, pd.DataFrame] = {}
    for entity in list(records):
        frames = records.pop(entity)
        if len(frames) == 1 and _numbered(frames[0]):
            df = frames[0]
        else:
            df = pd.concat(frames, ignore_index=True) if frames else schema.empty(entity)
        out[entity] = _conformed(df, entity, may_have_nan=len(frames) > 1 or entity in concatenated)
        del frames, df
    issue_frame = schema.conform_issues(pd.DataFrame(issues)) if issues else schema.empty_issues()
    count_frame = pd.DataFrame(counts, columns=COUNT_COLUMNS)
    return Ingest(records=out, issues=issue_frame, counts=count_frame, files=pd.DataFrame(files))


def _plain(value: Any) -> Any:
    """JSON-friendly: a frame's NaN for a missing value becomes None, 3.0 becomes 3."""
    if isinstance(value, float):
        if value != value:
            return None
        if value.is_integer():
            return int(value)
    if isinstance(value, np.generic):
        return _plain(value.item())
    return value


_MAIL_GROUP = (".eml", ".emlx")


def sources_for_paths(paths: Sequence[Path]) -> tuple[list[dict[str, str]], list[tuple[str, str]]]:
    """One source per export file for files and folders given without a config.

    Returns (source entries {name, path}, [(file, reason)] for files of the folders not read).
    The same split as `crm-audit init` writes, so per-source scores and survivorship priority
    work the same either way. Loose .eml/.emlx messages of one folder are one source (a
    mailbox saved message by message), named after the folder. Raises InputError when a
    folder holds nothing to read.
    """
    used: set[str] = set()
    out: list[dict[str, str]] = []
    not_read: list[tuple[str, str]] = []
    seen: set[Path] = set()
    for p in paths:
        if not p.is_dir():
            if _no_loop(p) not in seen:
                seen.add(p.resolve())
                out.append({"name": source_name(p, used), "path": str(p.resolve())})
            continue
        files, skipped = folder_files(p)
        not_read += [(str(f.absolute()), why) for f, why in skipped]  # a link: its own name
        mail_dirs: dict[Path, None] = {}
        n_before = len(out)
        for f in files:
            if f.resolve() in seen:
                continue
            seen.add(f.resolve())
            if f.suffix.lower() in _MAIL_GROUP:
                mail_dirs.setdefault(f.parent.resolve(), None)
                continue
            if _choose_reader(f, "auto", in_folder=True) is None:
                not_read.append((str(f.resolve()), "no reader for this kind of file"))
                continue
            out.append({"name": source_name(f, used), "path": str(f.resolve())})
        for d in mail_dirs:
            pattern = str(Path(globmod.escape(str(d))) / "*.eml*")
            out.append({"name": source_name(Path(d.name or "mail"), used), "path": pattern})
        if len(out) == n_before:
            raise InputError(
                f"{p}: the folder holds no export to read (csv, tsv, txt, xlsx, xls, ods, "
                "mbox, eml, emlx, vcf, json, zip)."
            )
    return out, not_read


def inspect_paths(
    paths: Sequence[Path], *, encoding: str | None = None, profile: str = "auto"
) -> list[dict[str, Any]]:
    """Per file and table, what was read and how (keys: INSPECT_KEYS). Raises InputError."""
    out: list[dict[str, Any]] = []
    used: set[str] = set()
    for p in paths:
        name = source_name(p, used)
        src = SourceConfig(name=name, path=str(_no_loop(p)), encoding=encoding, profile=profile)
        try:
            ingest = read_sources([src], base_dir=p.resolve().parent)
        except InputError as e:
            # no config here: point at the command's own options instead of sources[0]
            msg = str(e).replace("set encoding in sources[0]", "pass --encoding")
            msg = msg.replace("set a different encoding in sources[0]", "pass another --encoding")
            raise InputError(msg.replace(" (sources[0].path = ", " (path ")) from None
        for rec in ingest.files.to_dict("records"):
            out.append({k: _plain(rec.get(k)) for k in INSPECT_KEYS})
    return out


@dataclass
class Table:
    """One file's table as written (header kept, values text or None), for commands that
    work on a plain file rather than on canonical records (`dedupe`)."""

    frame: pd.DataFrame
    rows_read: int
    rejected: list[str]  # one line per row not read: "line 7: 5 fields where the header has 4"
    encoding: str | None
    warnings: list[str]


def read_table(path: Path, *, encoding: str | None = None) -> Table:
    """A CSV/TSV/TXT or the first sheet of a workbook, read like any source file.

    The same encoding detection (cp949, cp932, ... never guessed as cp1250), delimiter
    sniffing, header detection and row accounting as `read_sources`: rows_read equals the
    frame's rows plus `rejected`. Raises InputError for anything else or an empty file.
    """
    spec = _choose_reader(path, "auto", in_folder=False)
    if spec is None or spec.name not in ("csv", "excel"):
        raise InputError(f"{path}: is not a CSV, TSV or spreadsheet; give one of those.")
    tables = [t for t in spec.fn(path, ReaderOptions(encoding=encoding)) if len(t.frame.columns)]
    if not tables:
        raise InputError(f"{path}: the file is empty (no header row); give a file with a header.")
    table = tables[0]
    warnings = list(table.warnings)
    if len(tables) > 1:
        warnings.append(f"read the first sheet ({table.sheet}) of {len(tables)}")
    rejected = []
    for r in table.rejected:
        where = f"line {r.line}" if r.line else f"row {r.row}"
        rejected.append(f"{where}: {r.reason}")
    frame = plain_text(table.frame).reset_index(drop=True)
    return Table(frame, table.rows_read, rejected, table.encoding, warnings)


def catalog_markdown() -> str:
    """README tables (for cog): readers, export profiles and the inspect JSON keys."""
    lines = ["| reader | file suffixes | what it reads |", "| --- | --- | --- |"]
    for name, spec in READERS.items():
        lines.append(f"| `{name}` | {' '.join(spec.suffixes)} | {spec.doc} |")
    lines += ["", "| profile | entity | export |", "| --- | --- | --- |"]
    for name, prof in PROFILES.items():
        lines.append(f"| `{name}` | {prof.entity} | {prof.doc} |")
    lines += ["", "| inspect JSON key | meaning |", "| --- | --- |"]
    for key, doc in INSPECT_KEYS.items():
        lines.append(f"| `{key}` | {doc} |")
    return "\n".join(lines) + "\n"
