"""The merge review a business user works through: an HTML page, an XLSX and a CSV.

None of the open-source linkers hands a person a merge they can review; they stop at pairs.
So every run writes its proposals three ways: a self-contained HTML page (no network, every
value escaped) that shows each cluster side by side with the differing fields highlighted, the
proposed golden values and why the records matched, where the reviewer approves, rejects or
splits and downloads a decisions file; the same proposals as XLSX with a decision dropdown for
people who live in Excel; and as CSV. `merge apply` reads any of the three back.
"""

from __future__ import annotations

import csv
import datetime as dt
import html
import io
import itertools
import json
import re
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from audit import safe, schema
from audit.emailkey import email_key
from audit.match.facts import personal_emails
from audit.match.survivorship import DEFAULT_RULES, field_rules, load_rules, propose_golden
from audit.merge.cells import as_text
from audit.model import RunResult

HTML_FILE = "merge_review.html"
XLSX_FILE = "merge_proposals.xlsx"
CSV_FILE = "merge_proposals.csv"
PARQUET_FILE = "merge_proposals.parquet"

FIELDS = [c.name for c in schema.ENTITIES["contacts"] if not c.derived]
BAND_ORDER = {"review": 0, "auto": 1}
# a shown field -> the normalized column the matcher compares (two spellings of one value agree)
KEY_OF = {
    "email": "email_key",
    "phone": "phone_e164",
    "full_name": "name_key",
    "company": "company_key",
}
_PHONES = ("phone", "mobile")
# matcher field (in `why`) -> the record column whose two values the reason quotes; only
# names and companies, never emails or phones, so a reason is safe to show redacted
_QUOTE = {
    "given": ("first_name", "full_name"),
    "family": ("last_name", "full_name"),
    "name": ("full_name",),
    "full_name": ("full_name",),
    "company": ("company",),
}
_WHY_ITEM = re.compile(r"^\s*(\S+) (\S+) \(([+-]?\d+(?:\.\d+)?)\)\s*$")


def write_review(
    result: RunResult, run_dir: Path, *, redact: bool, language: str | None = None
) -> list[Path]:
    """Write merge_review.html, merge_proposals.xlsx and merge_proposals.csv into `run_dir`.

    Example:
        paths = write_review(result, Path("reports") / result.run_id, redact=False)
    """
    run_dir = Path(run_dir)
    run_dir.mkdir(parents=True, exist_ok=True)
    golden_rules = _golden(result) if _has_clusters(result) else None
    # the pairs inside the clusters, found once for the tables and the page
    m = result.matches
    inside = (
        inside_rows(m.pairs, m.clusters)
        if golden_rules is not None and m.pairs is not None and m.clusters is not None
        else None
    )
    summary, parts = proposal_parts(result, golden_rules, redact=redact, inside=inside)
    shown = _page_choice(summary, PAGE_CLUSTERS)
    n_all = int(summary["cluster_id"].nunique())
    # the tables first: what their parts need is released before the page's dicts are built
    tables = _write_tables(parts, set(shown), run_dir, n_all=n_all, stamp=_stamp(result))
    del parts
    page_input = _page_input(result, set(shown), golden_rules, inside)
    del inside

    def batches() -> Iterator[Proposals]:
        """The page's clusters PAGE_BATCH at a time, in display order (`shown` is)."""
        step = max(1, int(PAGE_BATCH))
        for lo in range(0, len(shown), step):
            props = _proposals(page_input, set(shown[lo : lo + step]))
            yield redact_proposals(props) if redact else props

    n_auto = int(summary["band"].eq("auto").sum())
    page = _write_html(
        result.run_id,
        _proposals(page_input, set()),  # no clusters: the page's fields, alternates and rules
        run_dir / HTML_FILE,
        language or result.config.output.language,
        total=len(summary),
        n_auto=n_auto,
        batches=batches(),
        n_shown=len(shown),
    )
    return [page, *tables]


def _stamp(result: Any) -> dt.datetime | None:
    """The run's as_of as the workbook's zip and document time (no clock: the run folder is
    byte-identical; the report's `freeze_xlsx` then finds nothing to rewrite)."""
    as_of = getattr(result, "as_of", None)
    if not isinstance(as_of, dt.date):
        return None
    return dt.datetime(as_of.year, as_of.month, as_of.day)


def redact_proposals(props: Proposals) -> Proposals:
    """Mask emails and phones everywhere, ids included, the way the run folder masks them.

    Ids keep a digest (`inbox:k***@example.com~1a2b3c4d`), equal to the ids in a redacted run
    folder's records, so decisions made on a redacted review still apply to that folder.
    """
    out = []
    for c in props.clusters:
        out.append(
            {
                **c,
                "survivor": safe.redact_id(c["survivor"]),
                "golden": {k: safe.redact_cell(v, k) for k, v in c["golden"].items()},
                "golden_from": {
                    f: [safe.redact_id(str(r)) for r in v]
                    if isinstance(v, list)
                    else safe.redact_id(str(v))
                    for f, v in c["golden_from"].items()
                },
                "records": [
                    {k: safe.redact_cell(v, k) for k, v in r.items()} for r in c["records"]
                ],
                "pairs": [safe.redact_obj(p) for p in c["pairs"]],
                # the reason quotes two names or companies, which may hold an address
                "evidence": safe.redact_obj(c.get("evidence")),
            }
        )
    return Proposals(out, props.fields, props.alternates, props.rules)


class Proposals:
    """Clusters to review, in display order, with members, golden values and pairs.

    A cluster's `golden_from` names only the values not taken from its survivor ({field:
    record_id}, the run folder's compact form); `rules` gives each field's rule once.
    """

    def __init__(
        self,
        clusters: list[dict[str, Any]],
        fields: list[str],
        alternates: list[str],
        rules: dict[str, str] | None = None,
    ) -> None:
        self.clusters = clusters
        self.fields = fields
        self.alternates = alternates
        self.rules = rules if rules is not None else field_rules()


def _golden(result: RunResult) -> tuple[pd.DataFrame, dict[str, str]]:
    """The golden records to propose and each field's rule (the match stage's, unless the
    config names other survivorship rules: then they are proposed again here)."""
    contacts = result.records.get("contacts")
    m = result.matches
    golden = m.golden
    rules = getattr(result.config.match, "survivorship", None) or DEFAULT_RULES
    rs = load_rules(rules, base_dir=Path(result.config.base_dir))
    if golden is None or golden.empty or "golden_from" not in golden or rules != DEFAULT_RULES:
        # the match stage proposes with the shipped rules; a config may name its own
        golden = propose_golden(contacts, m.clusters, result.config.sources, rules=rs)
    return golden, field_rules(rs)


def _has_clusters(result: RunResult) -> bool:
    clusters = result.matches.clusters
    return (
        result.records.get("contacts") is not None
        and clusters is not None
        and not clusters.empty
        and "cluster_id" in clusters
    )


def build_proposals(
    result: RunResult,
    only: set[str] | None = None,
    golden_rules: tuple[pd.DataFrame, dict[str, str]] | None = None,
    inside: Inside | None = None,
) -> Proposals:
    """The clusters as dicts for the review page (`only`: just these cluster ids).

    Per-cluster Python: the page holds at most PAGE_CLUSTERS clusters, so it never runs over
    every cluster of a large run (the proposals tables are built column-wise, `proposal_parts`).
    """
    return _proposals(_page_input(result, only, golden_rules, inside), only)


class _PageInput:
    """The rows the page's clusters are made of, narrowed once from the whole run in Arrow:
    their golden rows, cluster rows, contacts and inside pairs. Only these become Python text
    (the whole run's record and cluster ids as Python text were the review's largest state
    at 1M contacts, held under the page's dicts)."""

    def __init__(
        self,
        golden: pd.DataFrame,
        rules_of: dict[str, str],
        alternates: list[str],
        cl: pd.DataFrame,
        sub: pd.DataFrame,
        pairs: pd.DataFrame,
        inside: Inside | None,
    ) -> None:
        self.golden, self.rules_of, self.alternates = golden, rules_of, alternates
        self.cl, self.sub, self.pairs, self.inside = cl, sub, pairs, inside


def _page_input(
    result: RunResult,
    only: set[str] | None,
    golden_rules: tuple[pd.DataFrame, dict[str, str]] | None = None,
    inside: Inside | None = None,
) -> _PageInput | None:
    """The run's rows for the clusters `only` (all when None); None when there are none."""
    import pyarrow as pa
    import pyarrow.compute as pc

    contacts = result.records.get("contacts")
    m = result.matches
    clusters = m.clusters
    if not _has_clusters(result) or contacts is None or clusters is None:
        return None
    golden, rules_of = golden_rules if golden_rules is not None else _golden(result)
    if golden.empty:
        return None
    alternates = [c for c in golden.columns if c.startswith("alternate_")]
    if only is not None:
        wanted = pa.array(sorted(only), type=pa.large_string())

        def among(ids: pd.Series) -> np.ndarray:
            found = pc.is_in(_arrow_ids(ids), value_set=wanted)
            return np.asarray(pc.fill_null(found, False).to_numpy(zero_copy_only=False))

        golden = golden.loc[among(golden["cluster_id"])]
        clusters = clusters.loc[among(clusters["cluster_id"])]
    cl = _id_frame(clusters)
    member_ids = pa.array(cl["record_id"].tolist(), type=pa.large_string())
    found = pc.is_in(_arrow_ids(contacts["record_id"]), value_set=member_ids)
    sub = contacts.loc[np.asarray(pc.fill_null(found, False).to_numpy(zero_copy_only=False))]
    pairs = m.pairs if m.pairs is not None else pd.DataFrame()
    if inside is not None and only is not None:  # the pairs of the page's clusters
        keep = pd.Series(inside[1], dtype=object).isin(only).to_numpy()
        inside = (inside[0][keep], inside[1][keep])
    return _PageInput(golden, rules_of, alternates, cl, sub, pairs, inside)


def _proposals(page: _PageInput | None, only: set[str] | None) -> Proposals:
    """The clusters `only` (all when None) of `page` as dicts, in display order."""
    if page is None:
        return Proposals([], FIELDS, [])
    golden, cl, sub, inside = page.golden, page.cl, page.sub, page.inside
    alternates, rules_of = page.alternates, page.rules_of
    band_of = _bands(cl)
    if only is not None:
        golden = golden.loc[golden["cluster_id"].astype(str).isin(only).to_numpy()]
        cl = cl.loc[cl["cluster_id"].isin(only).to_numpy()]
        if inside is not None:
            keep = pd.Series(inside[1], dtype=object).isin(only).to_numpy()
            inside = (inside[0][keep], inside[1][keep])
    members: dict[str, list[str]] = {}
    for cid, rid in zip(cl["cluster_id"], cl["record_id"], strict=True):
        members.setdefault(cid, []).append(rid)
    rids = _ids(sub["record_id"])
    wanted = rids.isin(set(cl["record_id"])).to_numpy()
    sub = sub.loc[wanted]
    rec_cols = ["source", "source_file", "source_row", *FIELDS]
    texts = _texts(sub, rec_cols)
    by_id = {
        rid: {"record_id": rid, **row}
        for rid, row in zip(rids[wanted].tolist(), texts, strict=True)
    }
    key_cols = sorted({k for k in KEY_OF.values() if k in sub.columns})
    keys_by_id = dict(zip(rids[wanted].tolist(), _texts(sub, key_cols), strict=True))
    gold_texts = _texts(golden, [*FIELDS, *alternates])
    heads = [
        dict(zip(("cluster_id", "survivor_id", "survivor_rule", "golden_from"), vals, strict=True))
        for vals in zip(
            *(
                golden[c].astype(object).where(golden[c].notna(), None).tolist()
                for c in ("cluster_id", "survivor_id", "survivor_rule", "golden_from")
            ),
            strict=True,
        )
    ]
    pair_cols, pair_by_cluster = _pairs_by_cluster(page.pairs, cl, inside)
    # the two-people check of merge apply (`two_people`), with the personal-address test run
    # once over every member's address instead of once per cluster
    mailbox: dict[str, str] = {}
    for rid, row in by_id.items():
        key = email_key(row["email"]) if row.get("email") else None
        if key and str(key).strip():
            mailbox[rid] = str(key).strip().lower()
    personal = personal_emails(set(mailbox.values()))
    out = []
    for g, gt in zip(heads, gold_texts, strict=True):
        cid = str(g["cluster_id"])
        ids = [r for r in dict.fromkeys(members.get(cid, [])) if r in by_id]
        survivor = str(g["survivor_id"])
        ids = [survivor, *sorted(r for r in ids if r != survivor)]
        cp = pair_by_cluster.get(cid, [])
        scores = [float(p["score"]) for p in cp if _isnum(p.get("score"))]
        mine = {mailbox[r] for r in ids if r in mailbox} & personal
        people = sorted(mine) if len(mine) >= 2 else []
        out.append(
            {
                "cluster_id": cid,
                "check": (
                    f"{len(people)} different personal emails: two people? "
                    "merge apply leaves it unless you approve it"
                    if people
                    else ""
                ),
                "people": len(people),
                "band": band_of.get(cid, "review"),
                "score_min": min(scores) if scores else None,
                "score_max": max(scores) if scores else None,
                "survivor": survivor,
                "survivor_rule": as_text(g.get("survivor_rule")),
                "golden": gt,
                "golden_from": json.loads(g.get("golden_from") or "{}"),
                "records": [by_id[rid] for rid in ids],
                "pairs": cp,
                "pair_cols": pair_cols,
                # computed before any redaction: they compare the unmasked, normalized values
                "diff": conflicts([by_id[rid] for rid in ids], [keys_by_id[r] for r in ids]),
                "evidence": evidence(cp[0] if cp else {}, by_id),
                "guards": guards_of(cp),
            }
        )
    out.sort(key=lambda c: (BAND_ORDER.get(c["band"], 2), c["cluster_id"]))
    return Proposals(out, FIELDS, alternates, rules_of)


def _texts(frame: pd.DataFrame, cols: list[str]) -> list[dict[str, str]]:
    """Display text of `cols` (missing ones empty) per row, computed column by column."""
    out = _text_columns(frame, cols)
    names = list(out)
    return [dict(zip(names, vals, strict=True)) for vals in zip(*out.values(), strict=True)]


def _text_columns(frame: pd.DataFrame, cols: list[str]) -> dict[str, list[str]]:
    """Display text of `cols` (missing ones empty), column by column."""
    out = {}
    for c in cols:
        if c not in frame.columns:
            out[c] = [""] * len(frame)
            continue
        s = frame[c]
        if isinstance(s.dtype, pd.DatetimeTZDtype) or pd.api.types.is_datetime64_dtype(s):
            out[c] = _time_text(s)
        elif s.dtype != object and pd.api.types.is_string_dtype(s):
            out[c] = s.fillna("").tolist()  # Arrow-backed text: no per-value conversion
        elif isinstance(s.dtype, pd.BooleanDtype):
            flag = s.to_numpy(dtype=bool, na_value=False)
            text = np.where(flag, "True", "False").astype(object)
            text[s.isna().to_numpy()] = ""
            out[c] = text.tolist()
        elif s.dtype == object and pd.api.types.infer_dtype(s, skipna=False) == "string":
            out[c] = s.tolist()  # Python text already, none missing: `_text` keeps it as is
        else:
            out[c] = [_text(v) for v in s.tolist()]
    return out


def _time_text(s: pd.Series) -> list[str]:
    """`_text` of a datetime column in numpy: pandas' `strftime` formats value by value, and
    it was most of `_text_columns` at 1M contacts. numpy floors to the day and second like
    `normalize` and `%H:%M:%S` do (times before 1970 included)."""
    utc = s.dt.tz_convert("UTC") if isinstance(s.dtype, pd.DatetimeTZDtype) else s
    vals = (
        utc.dt.tz_localize(None).to_numpy()
        if isinstance(s.dtype, pd.DatetimeTZDtype)
        else utc.to_numpy()
    )
    unit, count = np.datetime_data(vals.dtype)
    per_s = {"s": 1, "ms": 10**3, "us": 10**6, "ns": 10**9}[unit] * count
    # integer floor division: numpy's own cast overflows at the edge of pandas' range (1677)
    ticks = vals.view("i8")
    day = np.floor_divide(ticks, per_s * 86400).astype("datetime64[D]")
    text = np.datetime_as_string(day).astype(object)
    clock = (utc.dt.normalize() != utc).to_numpy() & ~np.isnat(vals)
    if clock.any():
        sec = np.floor_divide(ticks[clock], per_s).astype("datetime64[s]")
        full = np.datetime_as_string(sec).astype(object)
        text[clock] = np.char.replace(full.astype(str), "T", " ").astype(object) + " UTC"
    text[np.isnat(vals)] = ""
    return text.tolist()


def _text(value: Any) -> str:
    """Display text: timestamps as a date (or date and UTC time), the rest as written."""
    if isinstance(value, pd.Timestamp) and value is not pd.NaT:
        ts = value.tz_convert("UTC") if value.tzinfo is not None else value
        if (ts.hour, ts.minute, ts.second, ts.microsecond, ts.nanosecond) == (0, 0, 0, 0, 0):
            return ts.strftime("%Y-%m-%d")
        return ts.strftime("%Y-%m-%d %H:%M:%S UTC")
    return as_text(value)


def _bands(cl: pd.DataFrame) -> dict[str, str]:
    if "band" not in cl:
        return {}
    auto = cl["band"].astype(str).str.lower().eq("auto")
    return {c: ("auto" if a else "review") for c, a in auto.groupby(cl["cluster_id"]).all().items()}


def _pairs_by_cluster(
    pairs: pd.DataFrame, cl: pd.DataFrame, inside: Inside | None = None
) -> tuple[list[str], dict[str, list[dict[str, Any]]]]:
    """The columns to show and, per cluster, its pairs (best score first) as plain rows."""
    if pairs.empty or "record_id_l" not in pairs:
        return [], {}
    p, sims = _inside_pairs(pairs, cl, inside)
    base = ["record_id_l", "record_id_r", "score", "band", "rule_id"]
    expl = [
        c
        for c in p.columns
        if c not in base
        and c not in sims
        and c != "_c"
        and not str(c).startswith("_")
        and not str(c).endswith(("_l", "_r"))
    ]
    cols = [c for c in base if c in p.columns] + sims + expl
    out: dict[str, list[dict[str, Any]]] = {}
    columns = [p[c].astype(object).where(p[c].notna(), None).tolist() for c in cols]
    for c, vals in zip(p["_c"].tolist(), zip(*columns, strict=True), strict=True):
        out.setdefault(c, []).append(dict(zip(cols, vals, strict=True)))
    return cols, out


def _fold(field: str, value: str) -> str:
    v = value.strip().casefold()
    if field in _PHONES:
        return ("+" if v.startswith("+") else "") + re.sub(r"\D", "", v)
    return " ".join(v.split())


def conflicts(records: list[dict[str, str]], keys: list[dict[str, str]]) -> list[str]:
    """Fields whose values differ once normalized, i.e. the ones worth a reviewer's eye.

    `+86 135 6857 7348` and `+8613568577348` are one number: where the record has the
    matcher's normalized column (phone_e164, email_key, ...) that decides, else a fold of case,
    spaces and (for phones) punctuation.
    """
    out = []
    for f in FIELDS:
        seen = set()
        for r, k in zip(records, keys, strict=True):
            v = r.get(f, "")
            if not v.strip():
                continue
            key = k.get(KEY_OF.get(f, ""), "")
            seen.add(key.strip().casefold() if key and key.strip() else _fold(f, v))
        if len(seen) > 1:
            out.append(f)
    return out


def evidence(pair: dict[str, Any], by_id: dict[str, dict[str, str]]) -> dict[str, list[Any]]:
    """What agreed, what was merely similar and what spoke against, from the best pair.

    Reads the matcher's `why` ("email exact (+13.6), given nickname (+3.1), phone far (-2.0)")
    and falls back to the sim_ columns when a pair has no parsable `why`.
    """
    same: list[str] = []
    similar: list[list[str]] = []
    against: list[list[str]] = []
    items = [_WHY_ITEM.match(x) for x in str(pair.get("why") or "").split(",")]
    if items and all(items):
        parsed = [(m.group(1), m.group(2), float(m.group(3))) for m in items if m]
    else:
        parsed = []
        for k, v in pair.items():
            if str(k).startswith("sim_") and _isnum(v):
                x = float(v)
                lvl = "exact" if x >= 0.999 else ("close" if x >= 0.6 else "far")
                parsed.append((str(k)[4:], lvl, x - 0.6))
    recs = [by_id.get(str(pair.get(s)), {}) for s in ("record_id_l", "record_id_r")]
    for f, lvl, w in parsed:
        if w < 0:
            against.append([f, lvl])
        elif lvl == "exact":
            same.append(f)
        elif w > 0:
            col = next((c for c in _QUOTE.get(f, ()) if all(r.get(c) for r in recs)), "")
            a, b = (r.get(col, "") for r in recs) if col else ("", "")
            similar.append([f, lvl, a, b] if a and b and a != b else [f, lvl])
    return {"same": same, "similar": similar, "against": against}


def guards_of(pairs: list[dict[str, Any]]) -> list[str]:
    """The guards that fired on a cluster's pairs: true `guard_*` columns, a `guards` text
    column, or, when the matcher records neither, the evidence against (`phone far`)."""
    out: dict[str, None] = {}
    # the guard columns once (a cluster's pairs share their columns), not every key of every
    # pair: this was a third of the page's clusters' CPU
    cols = [k for k in set().union(*pairs) if _is_guard_column(k)]
    has_cols = bool(cols)
    for p in pairs:
        for k in cols:
            v = p.get(k)
            if k == "guards":
                if v:
                    out.update((g.strip(), None) for g in re.split(r"[;,|]", str(v)) if g.strip())
            elif v is not None and _truthy(v):
                out[str(k)[6:]] = None
        if not has_cols:
            for m in (_WHY_ITEM.match(x) for x in str(p.get("why") or "").split(",")):
                if m and float(m.group(3)) < 0:
                    out[f"{m.group(1)} {m.group(2)}"] = None
    return sorted(out)


def _is_guard_column(k: Any) -> bool:
    return k == "guards" or str(k).startswith("guard_")


def _truthy(v: Any) -> bool:
    if isinstance(v, str):
        return v.strip().lower() in ("true", "1", "yes", "y")
    try:
        return bool(v) and v == v
    except (TypeError, ValueError):
        return False


# ---------------------------------------------------------------- CSV and XLSX


PROPOSAL_HEAD = ["cluster_id", "band", "score", "role", "record_id", "decision", "source"]


# Clusters per part of the proposals table. The table of every cluster held as Python text was
# the report stage's peak (+1.1 GB at 300k contacts); a part at a time, it is one row group of
# merge_proposals.parquet and is dropped once written.
BATCH_CLUSTERS = 16_384


def proposal_parts(
    result: RunResult,
    golden_rules: tuple[pd.DataFrame, dict[str, str]] | None = None,
    *,
    redact: bool = False,
    batch: int | None = None,
    inside: Inside | None = None,
) -> tuple[pd.DataFrame, Iterator[Any]]:
    """One row per cluster (cluster_id, band, score_min) in display order, from which the
    page and the workbook pick theirs; then every cluster's rows in the layout `merge apply`
    reads (a golden row, then the survivor, then the other members by record id), in parts
    of `batch` (default BATCH_CLUSTERS) whole clusters in display order, each built when it
    is asked for: an Arrow table of text, with the schema and pandas metadata
    `pa.Table.from_pandas` gives the same rows as an object frame (an empty object frame
    when there are no clusters).

    Built column-wise (vectorised, in Arrow, or one Python call per distinct value), never
    per cluster: per-cluster Python was most of the report stage at 1M contacts. Text only,
    not yet neutralized; `redact` masks emails and phones the way `redact_proposals` does.
    """
    import pyarrow as pa

    summary = pd.DataFrame(
        {"cluster_id": pd.Series(dtype=object), "band": pd.Series(dtype=object), "score_min": []}
    )
    if not _has_clusters(result):
        return summary, iter([_empty_table([])])
    golden, rules_of = golden_rules if golden_rules is not None else _golden(result)
    if golden.empty:
        return summary, iter([_empty_table([])])
    alternates = [c for c in golden.columns if c.startswith("alternate_")]
    contacts = result.records["contacts"]
    cids = [str(v) for v in _objects(golden["cluster_id"])]
    survivors = [str(v) for v in _objects(golden["survivor_id"])]
    bands = _golden_bands(result.matches.clusters, cids)
    order = sorted(range(len(cids)), key=lambda k: (BAND_ORDER.get(bands[k], 2), cids[k]))
    g_rank = _ranks(cids, order)

    # the pairs inside each cluster, best score first: the score and the `why` of a record
    pairs = result.matches.pairs if result.matches.pairs is not None else pd.DataFrame()
    used = ("record_id_l", "record_id_r", "score", "rule_id")
    pairs = pairs[[c for c in pairs.columns if c in used or str(c).startswith("sim_")]]
    p, sims = _inside_pairs(pairs, result.matches.clusters, inside)
    score_min: dict[str, float] = {}
    if "score" in p:
        sc = pd.to_numeric(p["score"].astype(object), errors="coerce").astype("float64")
        score_min = sc.groupby(p["_c"].to_numpy()).min().dropna().to_dict()
    summary = pd.DataFrame(
        {
            "cluster_id": [cids[k] for k in order],
            "band": [bands[k] for k in order],
            "score_min": [score_min.get(cids[k], np.nan) for k in order],
        }
    )
    # a cluster's band and score text by its rank (a member row knows its cluster's rank)
    band_at = summary["band"].to_numpy(dtype=object)
    score_at = np.array([f"{v:.3f}" if v == v else "" for v in summary["score_min"]], dtype=object)
    del score_min

    # members: the survivor first, then the cluster's other records known to the contacts
    m_row, m_ids, m_cids, m_first, m_rank = _members(
        contacts["record_id"], result.matches.clusters, cids, survivors, g_rank
    )
    m_why = _first_in_pairs(m_ids, p)
    g_order = np.argsort(g_rank, kind="stable")
    g_sorted = g_rank[g_order]
    header = [*PROPOSAL_HEAD, *FIELDS, *alternates, "matched_because", "check"]
    # the schema (and pandas metadata) `pa.Table.from_pandas` gives a part's object frame
    probe = pd.DataFrame(
        {h: np.array(["x"], dtype=object) for h in header}, columns=header, dtype=object
    )
    schema = pa.Table.from_pandas(probe.astype(object), preserve_index=False).schema

    def part(lo_rank: int, hi_rank: int) -> Any:
        """The rows of the clusters ranked lo_rank <= rank < hi_rank, in display order."""
        g_lo, g_hi = np.searchsorted(g_sorted, [lo_rank, hi_rank])
        m_lo, m_hi = np.searchsorted(m_rank, [lo_rank, hi_rank])
        g_pos = g_order[g_lo:g_hi]
        rows = m_row[m_lo:m_hi]
        n_g, n_m = len(g_pos), len(rows)
        rec = _arrow_texts(contacts, rows, ["source", *FIELDS])
        mcid = m_cids[m_lo:m_hi]

        # the two-people check of merge apply (`two_people`), on the unmasked addresses
        emails = pd.Series(rec["email"].to_numpy(zero_copy_only=False), dtype=object)
        keys = {e: email_key(e) for e in set(emails) if e}
        box = {e: str(k).strip().lower() for e, k in keys.items() if k and str(k).strip()}
        found_box = emails.map(box)  # per distinct address, not per member: 5 s at 1M
        mailbox = pd.Series(found_box.where(found_box.notna(), None).to_numpy(), dtype=object)
        personal = personal_emails(set(mailbox.dropna()))
        mine = mailbox.isin(personal).to_numpy()
        boxes = pd.DataFrame({"c": mcid[mine], "b": mailbox.to_numpy()[mine]}).drop_duplicates()
        n_people = boxes.groupby("c").size()
        n_people = {str(c): int(n) for c, n in n_people[n_people >= 2].items()}

        why = _why_texts(p, sims, m_why[m_lo:m_hi], redact=redact)
        if redact:
            rec = {c: _arrow_map_unique(v, _redactor(c)) for c, v in rec.items()}
            ids = _map_unique(pd.Series(m_ids[m_lo:m_hi], dtype=object), safe.redact_id)
        else:
            ids = m_ids[m_lo:m_hi]

        # golden rows
        g_cids = [cids[k] for k in g_pos]
        gold = _arrow_texts(golden, g_pos, [*FIELDS, *alternates])
        g_surv = [survivors[k] for k in g_pos]
        if redact:
            gold = {c: _arrow_map_unique(v, _redactor(c)) for c, v in gold.items()}
            g_surv = [safe.redact_id(v) for v in g_surv]
        # the survivor's rule and the other values' sources, as text for this part only
        rule_text = [as_text(v) for v in _objects(golden["survivor_rule"].iloc[g_pos])]
        golden_from = _objects(golden["golden_from"].iloc[g_pos])
        because = []
        for sv, rule, made in zip(g_surv, rule_text, golden_from, strict=True):
            prov = ", ".join(
                f"{f} from {'; '.join(_ids_of(v, redact))} ({rules_of.get(f, '')})"
                for f, v in json.loads(made or "{}").items()
            )
            because.append(f"survivor {sv} ({rule})" + (f"; {prov}" if prov else ""))
        checks = {
            c: f"{n} different personal emails: two people? merge apply leaves it unless you "
            "approve it"
            for c, n in n_people.items()
        }
        g_frame = {
            "cluster_id": g_cids,
            "band": [bands[k] for k in g_pos],
            "score": score_at[g_rank[g_pos]],
            "role": ["golden"] * n_g,
            "record_id": [""] * n_g,
            "decision": [""] * n_g,
            "source": [""] * n_g,
            **{f: gold[f] for f in FIELDS},
            **{a: gold[a] for a in alternates},
            "matched_because": because,
            "check": [checks.get(c, "") for c in g_cids],
        }
        m_frame = {
            "cluster_id": mcid,
            "band": band_at[m_rank[m_lo:m_hi]],
            "score": score_at[m_rank[m_lo:m_hi]],
            "role": np.where(m_first[m_lo:m_hi] == 0, "survivor", "member").astype(object),
            "record_id": ids,
            "decision": np.full(n_m, "", dtype=object),
            "source": rec["source"],
            **{f: rec[f] for f in FIELDS},
            **{a: np.full(n_m, "", dtype=object) for a in alternates},
            "matched_because": why,
            "check": np.full(n_m, "", dtype=object),
        }
        key_g = g_rank[g_pos]
        key_m = m_rank[m_lo:m_hi]
        sub = np.concatenate([np.zeros(n_g, np.int64), np.arange(1, n_m + 1, dtype=np.int64)])
        perm = np.lexsort((sub, np.concatenate([key_g, key_m])))
        # one column at a time, in display order: the contacts' and golden rows' text stays
        # Arrow (taken, not made Python text per cell); only the part's own columns are Python
        order_of = pa.array(perm)
        arrays = []
        for c in header:
            halves = [_as_arrow(g_frame.pop(c)), _as_arrow(m_frame.pop(c))]
            arrays.append(pa.concat_arrays(halves).take(order_of))
        return pa.Table.from_arrays(arrays, schema=schema)

    n = len(order)
    step = max(1, int(batch or BATCH_CLUSTERS))
    return summary, (part(lo, min(lo + step, n)) for lo in range(0, n, step))


def _arrow_texts(frame: pd.DataFrame, at: np.ndarray, cols: list[str]) -> dict[str, Any]:
    """`_text_columns` of `frame`'s rows at positions `at` (-1: no row, empty text) as Arrow
    text. An Arrow-backed text column is taken in Arrow, never made Python text per cell (it
    was most of the proposals tables' memory and time); other columns go through
    `_text_columns` on the rows found."""
    import pyarrow as pa
    import pyarrow.compute as pc

    at = np.asarray(at, dtype=np.int64)
    found = at >= 0
    where = pa.array(at, mask=~found)
    out: dict[str, Any] = {}
    others = []
    for c in cols:
        s = frame[c] if c in frame.columns else None
        if s is not None and s.dtype != object and pd.api.types.is_string_dtype(s):
            out[c] = _as_arrow(pc.fill_null(pa.array(s.array).take(where), ""))
        elif s is not None:
            others.append(c)
    # the rows of the other columns only (the frame's every column taken was most of it)
    texts = _text_columns(frame[others].iloc[at[found]], others) if others else {}
    for c in cols:
        if c not in out:
            col = np.full(len(at), "", dtype=object)
            if c in texts:
                col[found] = texts[c]
            out[c] = pa.array(col, type=pa.string())
    return {c: out[c] for c in cols}


def _as_arrow(values: Any) -> Any:
    """Text values (an Arrow array, a list or an object array of str) as Arrow text."""
    import pyarrow as pa

    if isinstance(values, pa.ChunkedArray):
        values = values.combine_chunks()
    if isinstance(values, pa.Array):
        return values.cast(pa.string())
    return pa.array(values, type=pa.string())


def _arrow_map_unique(arr: Any, fn: Any) -> Any:
    """`_map_unique` on Arrow text: `fn` called once per distinct value."""
    import pyarrow as pa

    enc = arr.dictionary_encode()
    mapped = pa.array([fn(v) for v in enc.dictionary.to_pylist()], type=pa.string())
    return mapped.take(enc.indices)


def _golden_bands(clusters: pd.DataFrame, cids: list[str]) -> list[str]:
    """Each golden row's band (`_bands` of its cluster id: auto when every row of the cluster
    says auto; review for a cluster with no rows), counted on integer positions: the cluster
    and record ids of every clustered record as Python text were the largest part of the
    proposals' shared state."""
    import pyarrow as pa
    import pyarrow.compute as pc

    if "band" not in clusters or not cids:
        return ["review"] * len(cids)
    ids = pa.array(cids, type=pa.large_string())
    first = np.asarray(pc.index_in(ids, value_set=ids).to_numpy(), dtype=np.int64)
    at = pc.fill_null(pc.index_in(_arrow_ids(clusters["cluster_id"]), value_set=ids), -1)
    at = np.asarray(at.to_numpy(), dtype=np.int64)
    auto = clusters["band"].astype(str).str.lower().eq("auto").to_numpy(dtype=bool)
    rows = np.bincount(at[at >= 0], minlength=len(cids))
    not_auto = np.bincount(at[(at >= 0) & ~auto], minlength=len(cids))
    is_auto = (rows > 0) & (not_auto == 0)
    return ["auto" if is_auto[first[k]] else "review" for k in range(len(cids))]


def _ranks(cids: list[str], order: list[int]) -> np.ndarray:
    """Golden row k's rank in display order (`order`); a repeated cluster id takes the rank of
    its last place, as a dict of id -> rank would give it."""
    rank = np.empty(len(cids), dtype=np.int64)
    rank[np.asarray(order, dtype=np.int64)] = np.arange(len(order), dtype=np.int64)
    if len(set(cids)) != len(cids):
        last = dict(zip((cids[k] for k in order), range(len(order)), strict=True))
        rank = np.array([last[c] for c in cids], dtype=np.int64)
    return rank


def _members(
    record_ids: pd.Series,
    clusters: pd.DataFrame,
    cids: list[str],
    survivors: list[str],
    g_rank: np.ndarray,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Every proposals row of a record, in display order: per cluster (by `g_rank`, the rank
    of golden row k) its survivor, then its other records found in the contacts, by record id
    (each once). Returns each row's contacts row (the last one of a repeated id; -1: none),
    record id and cluster id (Python text), 0 for the survivor and 1 for the others, and the
    cluster's rank.

    Found on Arrow text and integer positions: Python text sets, a merge and a sort of text
    ids, and a text index of every contact, were most of the review's setup (superlinear: 14.7
    CPU-s at 1M contacts for all of it, under load)."""
    import pyarrow as pa
    import pyarrow.compute as pc

    rid = _arrow_ids(record_ids)
    n = len(rid)

    def first_in(values: Any, value_set: Any) -> np.ndarray:
        found = pc.index_in(values, value_set=value_set)
        return np.asarray(pc.fill_null(found, -1).to_numpy(), dtype=np.int64)

    def last_row(first: np.ndarray, values: Any) -> np.ndarray:
        if pc.count_distinct(rid, mode="all").as_py() == n:  # no repeated id: first is last
            return first
        backwards = first_in(values, rid.take(pa.array(np.arange(n - 1, -1, -1))))
        return np.where(backwards >= 0, n - 1 - backwards, -1)

    g_ids = pa.array(cids, type=pa.large_string())
    s_ids = pa.array(survivors, type=pa.large_string())
    s_first = first_in(s_ids, rid)  # the survivor's first row in the contacts
    golden_of = first_in(_arrow_ids(clusters["cluster_id"]), g_ids)
    first = first_in(_arrow_ids(clusters["record_id"]), rid)
    keep = (golden_of >= 0) & (first >= 0)
    golden_of, first = golden_of[keep], first[keep]
    others = first != s_first[golden_of]
    golden_of, first = golden_of[others], first[others]
    # a record id's rank in text order (a repeated id: the rank of its first row)
    text_rank = np.empty(n, dtype=np.int64)
    text_rank[pc.sort_indices(rid).to_numpy()] = np.arange(n)
    k = len(cids)
    row_rank = np.concatenate([g_rank, g_rank[golden_of]])
    role = np.concatenate([np.zeros(k, dtype=np.int64), np.ones(len(first), dtype=np.int64)])
    by_text = np.concatenate([np.zeros(k, dtype=np.int64), text_rank[first]])
    order = np.lexsort((by_text, role, row_rank))
    golden_all = np.concatenate([np.arange(k), golden_of])[order]
    first_all = np.concatenate([np.full(k, -1, dtype=np.int64), first])[order]
    role, row_rank = role[order], row_rank[order]
    # a record listed twice in its cluster: once
    again = np.zeros(len(order), dtype=bool)
    again[1:] = (
        (role[1:] == 1) & (golden_all[1:] == golden_all[:-1]) & (first_all[1:] == first_all[:-1])
    )
    golden_all, first_all = golden_all[~again], first_all[~again]
    role, row_rank = role[~again], row_rank[~again]
    surv = role == 0
    ids = np.empty(len(role), dtype=object)
    ids[surv] = np.asarray(survivors, dtype=object)[golden_all[surv]]
    ids[~surv] = rid.take(pa.array(first_all[~surv])).to_numpy(zero_copy_only=False)
    rows = np.empty(len(role), dtype=np.int64)
    rows[surv] = last_row(s_first, s_ids)[golden_all[surv]]
    member_first = first_all[~surv]
    rows[~surv] = last_row(member_first, rid.take(pa.array(member_first)))
    cl_ids = np.asarray(cids, dtype=object)[golden_all]
    return rows, ids, cl_ids, role, row_rank


def _first_in_pairs(ids: np.ndarray, p: pd.DataFrame) -> np.ndarray:
    """For each record, where its best pair in the cluster is (`p` is best first): 2 * pair
    row, + 1 when the record is the pair's right one (its first appearance, pair by pair, left
    before right), -1 for none. Looked up in Arrow: a dict of every paired record id as Python
    text was half a CPU-second at 300k contacts."""
    import pyarrow as pa
    import pyarrow.compute as pc

    if p.empty or "record_id_l" not in p or not len(ids):
        return np.full(len(ids), -1, dtype=np.int64)
    left, right = _arrow_ids(p["record_id_l"]), _arrow_ids(p["record_id_r"])
    n = len(left)
    both = pa.concat_arrays([left, right])
    interleaved = both.take(pa.array(np.arange(2 * n).reshape(2, n).T.reshape(-1)))
    found = pc.index_in(pa.array(ids, type=pa.large_string()), value_set=interleaved)
    return np.asarray(pc.fill_null(found, -1).to_numpy(), dtype=np.int64)


def _ids(s: pd.Series) -> pd.Series:
    """Ids as Python text (object dtype): `isin` and `map` on Arrow strings convert every
    value one by one, which at 100k contacts cost seconds."""
    return pd.Series(s.astype(str).to_numpy(dtype=object), index=s.index, dtype=object)


def _id_frame(clusters: pd.DataFrame) -> pd.DataFrame:
    return clusters.assign(
        cluster_id=_ids(clusters["cluster_id"]), record_id=_ids(clusters["record_id"])
    )


def _empty_table(alternates: list[str]) -> pd.DataFrame:
    header = [*PROPOSAL_HEAD, *FIELDS, *alternates, "matched_because", "check"]
    return pd.DataFrame({h: pd.Series(dtype=object) for h in header})


def _objects(s: pd.Series) -> list[Any]:
    """A column as Python values, missing ones None (as the per-cluster path saw them)."""
    return s.astype(object).where(s.notna(), None).tolist()


def _ids_of(v: Any, redact: bool) -> list[str]:
    vals = [str(r) for r in v] if isinstance(v, list) else [str(v)]
    return [safe.redact_id(x) for x in vals] if redact else vals


def _redactor(column: str) -> Any:
    return lambda v: safe.redact_cell(v, column)


def _map_unique(s: pd.Series, fn: Any) -> np.ndarray:
    """`fn` over a column, called once per distinct value (missing values as None)."""
    codes, uniques = pd.factorize(s.astype(object), use_na_sentinel=True)
    na = [fn(None)] if (codes < 0).any() else [None]
    out = np.array([fn(v) for v in list(uniques)] + na, dtype=object)
    return out[codes]


# the pairs inside one cluster: their row positions in the pairs table, in display order (by
# cluster id, best score first), and each one's cluster id as Python text
Inside = tuple[np.ndarray, np.ndarray]


def inside_rows(pairs: pd.DataFrame, clusters: pd.DataFrame) -> Inside:
    """The pairs whose two records are in one cluster (a record's first cluster row decides),
    best score first within the cluster, clusters in id order: their positions in `pairs` and
    their cluster ids.

    Found once for the proposals tables and the page (`write_review`), on Arrow text and
    integer ranks: mapping and sorting the ids as Python text cost about 0.9 CPU-s at 300k
    contacts, and was done twice."""
    import pyarrow.compute as pc

    none = (np.empty(0, dtype=np.intp), np.empty(0, dtype=object))
    if pairs.empty or "record_id_l" not in pairs or clusters.empty or "record_id" not in clusters:
        return none
    rid = _arrow_ids(clusters["record_id"])
    enc = _arrow_ids(clusters["cluster_id"]).dictionary_encode()
    # each record's cluster (as a code), -1 for a record in no cluster
    code = np.append(enc.indices.to_numpy(zero_copy_only=False).astype(np.int64), -1)
    left, right = (
        code[pc.fill_null(pc.index_in(_arrow_ids(pairs[s]), value_set=rid), -1).to_numpy()]
        for s in ("record_id_l", "record_id_r")
    )
    pos = np.flatnonzero((left >= 0) & (left == right))
    c = left[pos]
    if "score" in pairs:  # by cluster id (its rank in text order), then best score first
        rank = np.empty(len(enc.dictionary), dtype=np.int64)
        rank[pc.sort_indices(enc.dictionary).to_numpy()] = np.arange(len(rank))
        key = pd.DataFrame({"c": rank[c], "s": pairs["score"].iloc[pos].reset_index(drop=True)})
        by = key.sort_values(["c", "s"], ascending=[True, False], kind="stable").index
        order = np.asarray(by, dtype=np.intp)
        pos, c = pos[order], c[order]
    # each cluster id made Python text once, shared by its pairs (not a string per pair)
    names = np.asarray(enc.dictionary.to_numpy(zero_copy_only=False), dtype=object)
    return pos, names[c]


def _arrow_ids(s: pd.Series) -> Any:
    """Ids as Arrow text, as `_ids` spells them (`astype(str)`)."""
    import pyarrow as pa

    arr = pa.array(s.astype(str).array)
    if isinstance(arr, pa.ChunkedArray):
        arr = arr.combine_chunks()
    return arr.cast(pa.large_string())


def _inside_pairs(
    pairs: pd.DataFrame, cl: pd.DataFrame, inside: Inside | None = None
) -> tuple[pd.DataFrame, list[str]]:
    """The pairs whose records are in one cluster (`_c`), best score first within it, and the
    similarity columns (as `_pairs_by_cluster` orders them). `inside`: `inside_rows` found
    already (else found here from `cl`)."""
    if pairs.empty or "record_id_l" not in pairs:
        return pd.DataFrame({"_c": pd.Series(dtype=object)}), []
    pos, cids = inside if inside is not None else inside_rows(pairs, cl)
    p = pairs.iloc[pos].assign(_c=cids)
    sims = sorted(c for c in p.columns if str(c).startswith("sim_"))
    return p.reset_index(drop=True), sims


def _why_texts(p: pd.DataFrame, sims: list[str], at: np.ndarray, *, redact: bool) -> np.ndarray:
    """The `why` of records from their best pairs (`at`, from `_first_in_pairs`; -1: none, ''):
    partner, score and top similarities ('with crm:7 score 0.93: email 1.00, given 0.88
    [email]'). Made for the records of one part only: the text of every record at once was
    a transient of a few hundred MB at 300k contacts."""
    out = np.full(len(at), "", dtype=object)
    have = np.flatnonzero(at >= 0)
    if not len(have):
        return out
    sel = at[have]
    q = p.iloc[sel // 2]
    n = len(q)
    score = _map_unique(q["score"], as_text) if "score" in q else np.full(n, "", dtype=object)
    tail = np.full(n, "", dtype=object)
    for k in sims:
        part = _map_unique(q[k], lambda v, k=k: f"{k[4:]} {float(v):.2f}" if _isnum(v) else "")
        sep = np.where(tail == "", "", ", ").astype(object)
        tail = np.where(part == "", tail, tail + sep + part)
    tail = np.where(tail == "", "", ": " + tail).astype(object)
    if "rule_id" in q:
        fix = safe.redact_id if redact else str
        tail = tail + _map_unique(q["rule_id"], lambda v: f" [{fix(str(v))}]" if v else "")
    # the partner: the right record for a record that is the left one, and the other way
    right = (sel % 2).astype(bool)
    partner = np.where(
        right,
        q["record_id_l"].astype(str).to_numpy(dtype=object),
        q["record_id_r"].astype(str).to_numpy(dtype=object),
    ).astype(object)
    if redact:
        partner = _map_unique(pd.Series(partner, dtype=object), safe.redact_id)
    out[have] = "with " + partner + (" score " + score + tail)
    return out


def _isnum(v: Any) -> bool:
    try:
        return float(v) == float(v)
    except (TypeError, ValueError):
        return False


def _write_tables(
    parts: Iterable[pd.DataFrame],
    shown: set[str],
    run_dir: Path,
    *,
    n_all: int,
    stamp: dt.datetime | None = None,
) -> list[Path]:
    """The proposals a person reviews as XLSX and CSV (the clusters on the page, `shown`), and
    every cluster (`n_all`) as Parquet, from the table's parts neutralized column-wise.

    At 1M contacts the tables of every cluster were 487 MB of CSV and 176 MB of workbook:
    more than anyone reviews, and more than a decisions file may be. The Parquet is for
    programs (and is a decisions file too); its cells are neutralized like the CSV's, so a
    script that turns it into a spreadsheet carries no formula. It is written a part at a
    time, one row group each, so only the page's rows are kept.
    """
    import pyarrow as pa
    import pyarrow.compute as pc
    import pyarrow.parquet as pq

    partial = len(shown) < n_all
    shown_ids = pa.array(sorted(shown), type=pa.string())
    kept: list[pd.DataFrame] = []
    writer: Any = None
    try:
        for table in parts:
            # the table pandas' to_parquet writes (same schema and pandas metadata), its text
            # neutralized in Arrow: the part's Python text is converted once, not twice
            if isinstance(table, pd.DataFrame):  # the empty table of a run with no clusters
                table = pa.Table.from_pandas(table.astype(object), preserve_index=False)
            arrow = _neutralized(table)
            del table
            if writer is None:
                writer = pq.ParquetWriter(
                    run_dir / PARQUET_FILE, arrow.schema, compression="snappy"
                )
            writer.write_table(arrow)
            if partial:
                wanted = pc.is_in(arrow.column("cluster_id"), value_set=shown_ids)
                arrow = arrow.filter(pc.fill_null(wanted, False))
            kept.append(_text_frame(arrow))
            del arrow
    finally:
        if writer is not None:
            writer.close()
    part = kept[0] if len(kept) == 1 else pd.concat(kept, ignore_index=True)
    if partial:
        part = part.reset_index(drop=True)
    return [
        _write_xlsx(
            part, run_dir / XLSX_FILE, rest=n_all - len(shown) if partial else 0, stamp=stamp
        ),
        _write_csv(part, run_dir / CSV_FILE),
        run_dir / PARQUET_FILE,
    ]


def _neutralized(table: Any) -> Any:
    """`safe.neutralize_frame` on an Arrow table of text columns (the header is ours, never
    formula-like): the same cells change, found in Arrow."""
    import pyarrow as pa

    for i in range(table.num_columns):
        col = table.column(i)
        if not pa.types.is_string(col.type) and not pa.types.is_large_string(col.type):
            continue
        arr = col.combine_chunks()
        fixed = safe.neutralize_arrow(arr)
        if fixed is not arr:
            table = table.set_column(i, table.field(i), fixed)
    return table


def _text_frame(table: Any) -> pd.DataFrame:
    """An Arrow table of text as the frame the workbook and the CSV are written from, its
    columns still Arrow (pandas' `str`): the page's rows as Python text were a string per cell
    (10,000 clusters, about 1.6M cells at 1M contacts), made in a forked child where each one
    lands on a page it shares with the run, and so copies it."""
    cols = {name: pd.array(table.column(name), dtype="str") for name in table.column_names}
    return pd.DataFrame(cols, columns=table.column_names, copy=False)


def _write_csv(frame: pd.DataFrame, path: Path) -> Path:
    buf = io.StringIO()
    frame.to_csv(buf, index=False, lineterminator="\n", quoting=csv.QUOTE_MINIMAL)
    path.write_text(buf.getvalue(), encoding="utf-8-sig")  # BOM: Excel opens UTF-8 correctly
    return path


def _write_xlsx(
    frame: pd.DataFrame, path: Path, *, rest: int = 0, stamp: dt.datetime | None = None
) -> Path:
    from audit.xlsx import FIXED_STAMP, Bold, Dropdown, Sheet, write_xlsx

    header = list(frame.columns)
    widths = {"cluster_id": 14, "record_id": 18, "decision": 11, "matched_because": 60}
    proposals = Sheet(
        "proposals",
        frame.where(frame.ne(""), None),  # empty cells, not ""
        header=header,
        fills=frame["role"].eq("golden").to_numpy(),
        widths=[widths.get(h, 16) for h in header],
        freeze_cols=header.index("decision"),  # the cluster and record stay in view
        autofilter=True,
        dropdown=Dropdown(
            "decision",
            ("approve", "reject", "split"),
            title="Decision",
            prompt="approve or reject the cluster on any of its rows; split on a record row "
            "keeps that record out of the merge.",
            error="Choose approve, reject or split (or leave it empty).",
        ),
    )
    how = Sheet(
        "how to",
        [
            [Bold("How to review these merge proposals")],
            [],
            ["Each cluster has a golden row (the proposed merged record) and one row per record."],
            ["In the decision column write approve or reject on any row of the cluster."],
            ["To keep a record out of an otherwise good merge, write split on that record's row."],
            ["A reject anywhere in a cluster wins. Empty = no decision (not merged)."],
            ["Then run: crm-audit merge apply RUN --decisions merge_proposals.xlsx"],
            ["Values that began with = + - @ were prefixed with ' so they cannot run as formulas."],
            *(
                [
                    [],
                    [
                        f"This workbook holds the clusters of merge_review.html: every one to "
                        f"review, then the auto band's lowest scores. The other {rest} (auto band) "
                        f"are in {PARQUET_FILE}, which holds every cluster and is a decisions "
                        "file too."
                    ],
                    [
                        "Clusters without a decision are not merged, except the auto band when "
                        "the config sets match.apply_auto: true."
                    ],
                ]
                if rest
                else []
            ),
        ],
        widths=[100],
    )
    return write_xlsx(path, [proposals, how], stamp=stamp or FIXED_STAMP)


# ---------------------------------------------------------------- HTML


PAGE_SIZE = 50  # clusters rendered at once; the rest wait in the embedded data
# Clusters embedded in the page. A browser holds 10,000 (tested: load under 2 s); at 1M contacts
# a page of every cluster was 728 MB. Past this the page keeps what a person must look at (the
# review band, then the auto band's lowest scores) and says where the rest are: the proposals
# tables hold every cluster and are decisions files too.
PAGE_CLUSTERS = 10_000
# Clusters of the page built and written at once (as dicts, then their JSON): the page's
# 10,000 clusters as dicts at once, with their JSON text, were the review's peak at 300k.
PAGE_BATCH = 1_000
# the page's labels: every key of audit/labels.py that starts with these
# (tests/test_review_i18n.py checks that each key review.js uses is there, in every language)
REVIEW_PREFIXES = ("rv_", "lvl_")


def _e(v: Any) -> str:
    return html.escape(as_text(v), quote=True)


def script_json(doc: Any) -> str:
    """JSON that is safe inside <script type="application/json">.

    `</script>` or `<!--` in a value would end or confuse the script element; escaping `<`, `>`
    and `&` (and the two JavaScript line separators) keeps the text valid JSON that no value
    can break out of.
    """
    text = json.dumps(doc, ensure_ascii=False, separators=(",", ":"), default=str)
    for ch, esc in (
        ("<", "\\u003c"),
        (">", "\\u003e"),
        ("&", "\\u0026"),
        ("\u2028", "\\u2028"),
        ("\u2029", "\\u2029"),
    ):
        text = text.replace(ch, esc)
    return text


def reason(ev: dict[str, list[Any]], lab: dict[str, str]) -> str:
    """The sentence a reviewer reads first: 'same email and phone; given nickname: Jon / Jon'."""

    def level(x: str) -> str:
        return lab.get(f"lvl_{x}", x)

    def join(xs: list[str]) -> str:
        if len(xs) < 2:
            return "".join(xs)
        return ", ".join(xs[:-1]) + lab["rv_and"] + xs[-1]

    parts = []
    if ev["same"]:
        parts.append(lab["rv_same"].format(fields=join(ev["same"])))
    for s in ev["similar"]:
        text = lab["rv_similar"].format(field=s[0], level=level(s[1]))
        parts.append(text + (f": {s[2]} / {s[3]}" if len(s) == 4 else ""))
    if ev["against"]:
        parts.append(
            lab["rv_against"].format(fields=join([f"{f} ({level(x)})" for f, x in ev["against"]]))
        )
    return "; ".join(parts)


def _row(values: list[Any]) -> list[Any]:
    """Values in column order, empty ones as null and trailing empty ones dropped."""
    out = [v if v not in ("", None) else None for v in values]
    while out and out[-1] is None:
        out.pop()
    return out


def _compact(
    c: dict[str, Any],
    cols: list[str],
    lab: dict[str, str],
    record_cols: list[str],
    golden_cols: list[str],
    files: dict[str, int],
) -> dict[str, Any]:
    """A cluster as the page needs it: records, golden values and pairs as rows of the
    columns named once in the page data (source files by number), empty values left out.

    Column names repeated in every record made up most of the page at 10k+ clusters;
    review.js turns the rows back into objects once, on load.
    """
    recs = []
    for r in c["records"]:
        vals = [r.get(k) for k in record_cols]
        vals[2] = files.setdefault(str(vals[2] or ""), len(files))  # source_file
        recs.append(_row(vals))
    return {
        "id": c["cluster_id"],
        "band": c["band"],
        "smin": c["score_min"],
        "smax": c["score_max"],
        "survivor": c["survivor"],
        "rule": c["survivor_rule"],
        "golden": _row([c["golden"].get(k) for k in golden_cols]),
        "from": c["golden_from"],
        "records": recs,
        "pairs": [[p.get(k) for k in cols] for p in c["pairs"]],
        "diff": c.get("diff", []),
        "reason": reason(c["evidence"], lab) if c.get("evidence") else "",
        "guards": c.get("guards", []),
        "people": c.get("people", 0),
    }


def _page_choice(summary: pd.DataFrame, cap: int) -> list[str]:
    """At most `cap` cluster ids, in display order: all review-band ones first, then the auto
    band's lowest-scoring (the ones a person most needs to see)."""
    ids = summary["cluster_id"].tolist()
    if len(ids) <= cap:
        return ids
    auto = summary["band"].eq("auto").to_numpy()
    score = summary["score_min"].astype("float64").fillna(0.0).to_numpy()
    keep = np.lexsort((np.arange(len(ids)), score, auto))[:cap]
    return [ids[k] for k in sorted(keep)]


def _write_html(
    run_id: str,
    props: Proposals,
    path: Path,
    language: str = "en",
    *,
    total: int | None = None,
    n_auto: int | None = None,
    batches: Iterable[Proposals] | None = None,
    n_shown: int | None = None,
) -> Path:
    """The page of `props.clusters` (the ones chosen for it) out of `total` proposals; or of
    the clusters of `batches` (`n_shown` of them, in display order), `props` then giving the
    fields, alternates and rules.

    The page's data is written a cluster at a time: its clusters as dicts, their compact rows
    and the JSON text of all of them at once (and its escaped copies) were the review's peak
    at 300k contacts. The bytes are those of `script_json` over the whole document."""
    from audit.labels import labels

    lab = labels(language)
    page_labels = {k: v for k, v in lab.items() if k.startswith(REVIEW_PREFIXES)}
    record_cols = ["record_id", "source", "source_file", "source_row", *props.fields]
    golden_cols = [*props.fields, *props.alternates]
    files: dict[str, int] = {}
    if batches is None:
        batches, n_shown = [props], len(props.clusters)
        if n_auto is None:
            n_auto = sum(c["band"] == "auto" for c in props.clusters)
    shown = int(n_shown or 0)
    total = shown if total is None else total
    n_auto = 0 if n_auto is None else n_auto
    groups = iter(batches)
    first = next(groups, None)
    cols: list[str] = []
    # every cluster has the same pair columns (the pairs table's): the first one's are all
    for c in first.clusters if first is not None else []:
        cols.extend(k for k in c["pair_cols"] if k not in cols)
    head = {
        "run_id": run_id,
        "page_size": PAGE_SIZE,
        "fields": props.fields,
        "rules": props.rules,
        "record_cols": record_cols,
        "golden_cols": golden_cols,
        "alternates": props.alternates,
        "pair_cols": cols,
        "labels": page_labels,
    }
    intro = lab["rv_intro"].format(run=run_id, n=total, review=total - n_auto, auto=n_auto)
    if shown < total:
        intro += " " + lab["rv_capped"].format(shown=shown, n=total)
    lang = language if language in ("en", "ko", "ja", "zh") else "en"
    parts = [
        "<!DOCTYPE html>",
        f'<html lang="{lang}"><head><meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        '<meta http-equiv="Content-Security-Policy" content="default-src \'none\'; '
        "style-src 'unsafe-inline'; script-src 'unsafe-inline'; img-src data:\">",
        f"<title>{_e(lab['rv_title'])} · {_e(run_id)}</title>",
        f"<style>{_CSS}</style></head>",
        f'<body data-run-id="{_e(run_id)}">',
        f"<header><h1>{_e(lab['rv_title'])}</h1><p>{_e(intro)}</p>",
        '<div class="toolbar" id="toolbar"></div></header>',
        '<main id="clusters"></main>',
    ]
    with path.open("w", encoding="utf-8", newline="") as f:  # part by part: no joined copy
        for part in parts:
            f.write(part)
            f.write("\n")
        # the document {..., "labels": ..., "clusters": [...], "files": [...]} in pieces: the
        # escapes of `script_json` are per character, so escaping each piece is the same
        f.write('<script type="application/json" id="review-data">')
        f.write(script_json(head)[:-1] + ',"clusters":[')
        sep = ""
        for group in itertools.chain([first] if first is not None else [], groups):
            for c in group.clusters:
                f.write(sep + script_json(_compact(c, cols, lab, record_cols, golden_cols, files)))
                sep = ","
        f.write('],"files":' + script_json(list(files)) + "}")
        f.write("</script>\n")
        f.write(f"<script>{_JS}</script></body></html>\n")
    return path


_CSS = """
body{font:14px/1.4 system-ui,-apple-system,"Segoe UI","Noto Sans CJK KR","Noto Sans CJK JP",
"Noto Sans CJK SC",sans-serif;margin:0;color:#1d1d1f;background:#f6f7f9}
header{position:sticky;top:0;background:#fff;border-bottom:1px solid #ddd;padding:6px 16px;
z-index:2}
h1{font-size:20px;margin:4px 0}main{padding:8px 16px}header p{margin:2px 0}
.toolbar{display:flex;flex-wrap:wrap;gap:6px 10px;align-items:center;font-size:13px}
.toolbar input[type=search]{width:22em}.toolbar input[type=number]{width:5em}
.keys{color:#666;font-size:12px}
section.cluster{background:#fff;border:1px solid #ddd;border-left:6px solid #bbb;border-radius:6px;
margin:10px 0;padding:6px 12px;overflow-x:auto}
section.cluster:focus,section.cluster.focused{outline:3px solid #1565c0;outline-offset:2px}
section.decided-approve{border-left-color:#2e7d32}section.decided-reject{border-left-color:#c62828}
section.decided-split{border-left-color:#ef6c00}
h2{font-size:15px;margin:4px 0}
h2 .band{font-size:12px;background:#eee;border-radius:3px;padding:1px 6px;margin-left:6px}
.band-auto h2 .band{background:#dcedc8}.band-review h2 .band{background:#ffe0b2}
h2 .meta{font-weight:normal;color:#666;margin-left:8px;font-size:12px}
.guard{font-size:11px;background:#fde0dc;color:#8e1b10;border-radius:3px;padding:1px 5px;
margin-left:4px;font-weight:normal}
p.reason{margin:2px 0 4px;font-weight:600}
.decide label{margin-right:14px;cursor:pointer}.decide .hint{color:#888}
table{border-collapse:collapse;margin:6px 0}th,td{border:1px solid #e3e3e3;padding:3px 6px;
text-align:left;vertical-align:top;max-width:280px;word-break:break-word}
thead th{background:#fafafa}
th small,td small{display:block;color:#777;font-size:11px;font-weight:normal}
td.golden,th.golden{background:#fffbe6}tr.diff th{color:#b00020}tr.diff td{background:#fff1f0}
tr.diff td.golden{background:#fff4cc}td.won{outline:2px solid #ffd54f;outline-offset:-2px}
.splitbox{float:right;font-weight:normal;font-size:11px;color:#a65}
table.pairs td.why{min-width:320px;max-width:520px}
td.num{text-align:right;font-variant-numeric:tabular-nums}td.hi{background:#e8f5e9}
td.mid{background:#fffde7}td.lo{background:#ffebee}td.null{color:#999}
.master{color:#555;margin:2px 0}.pager{margin:8px 0}
.check{background:#fff3cd;border-left:4px solid #c77c00;padding:4px 8px;margin:4px 0}
"""

_JS = (Path(__file__).with_name("review.js")).read_text(encoding="utf-8")
