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
import html
import io
import json
import re
from pathlib import Path
from typing import Any

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
    props = build_proposals(result)
    if redact:
        props = redact_proposals(props)
    return [
        _write_html(
            result.run_id,
            props,
            run_dir / HTML_FILE,
            language or result.config.output.language,
        ),
        *_write_tables(props, run_dir / XLSX_FILE, run_dir / CSV_FILE),
    ]


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


def build_proposals(result: RunResult) -> Proposals:
    contacts = result.records.get("contacts")
    m = result.matches
    clusters = m.clusters
    if contacts is None or clusters is None or clusters.empty or "cluster_id" not in clusters:
        return Proposals([], FIELDS, [])
    golden = m.golden
    rules = getattr(result.config.match, "survivorship", None) or DEFAULT_RULES
    rs = load_rules(rules, base_dir=Path(result.config.base_dir))
    if golden is None or golden.empty or "golden_from" not in golden or rules != DEFAULT_RULES:
        # the match stage proposes with the shipped rules; a config may name its own
        golden = propose_golden(contacts, clusters, result.config.sources, rules=rs)
    if golden.empty:
        return Proposals([], FIELDS, [])
    alternates = [c for c in golden.columns if c.startswith("alternate_")]
    cl = clusters.astype({"cluster_id": str, "record_id": str})
    band_of = _bands(cl)
    members: dict[str, list[str]] = {}
    for cid, rid in zip(cl["cluster_id"], cl["record_id"], strict=True):
        members.setdefault(cid, []).append(rid)
    rids = contacts["record_id"].astype(str)
    wanted = rids.isin(set(cl["record_id"])).to_numpy()
    sub = contacts.loc[wanted]
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
    pairs = m.pairs if m.pairs is not None else pd.DataFrame()
    pair_cols, pair_by_cluster = _pairs_by_cluster(pairs, cl)
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
    return Proposals(out, FIELDS, alternates, field_rules(rs))


def _texts(frame: pd.DataFrame, cols: list[str]) -> list[dict[str, str]]:
    """Display text of `cols` (missing ones empty) per row, computed column by column."""
    out = {}
    for c in cols:
        if c not in frame.columns:
            out[c] = [""] * len(frame)
            continue
        s = frame[c]
        if isinstance(s.dtype, pd.DatetimeTZDtype) or pd.api.types.is_datetime64_dtype(s):
            utc = s.dt.tz_convert("UTC") if isinstance(s.dtype, pd.DatetimeTZDtype) else s
            midnight = utc.dt.normalize() == utc
            text = utc.dt.strftime("%Y-%m-%d").where(
                midnight, utc.dt.strftime("%Y-%m-%d %H:%M:%S UTC")
            )
            out[c] = text.astype(object).where(s.notna(), "").tolist()
        elif s.dtype != object and pd.api.types.is_string_dtype(s):
            out[c] = s.fillna("").tolist()  # Arrow-backed text: no per-value conversion
        else:
            out[c] = [_text(v) for v in s.tolist()]
    names = list(out)
    return [dict(zip(names, vals, strict=True)) for vals in zip(*out.values(), strict=True)]


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
    pairs: pd.DataFrame, cl: pd.DataFrame
) -> tuple[list[str], dict[str, list[dict[str, Any]]]]:
    """The columns to show and, per cluster, its pairs (best score first) as plain rows."""
    if pairs.empty or "record_id_l" not in pairs:
        return [], {}
    cid = cl.drop_duplicates("record_id").set_index("record_id")["cluster_id"]
    left = pairs["record_id_l"].astype(str).map(cid)
    right = pairs["record_id_r"].astype(str).map(cid)
    inside = (left.notna() & left.eq(right)).to_numpy()
    p = pairs.loc[inside].assign(_c=left[inside].to_numpy())
    if "score" in p:
        p = p.sort_values(["_c", "score"], ascending=[True, False], kind="stable")
    base = ["record_id_l", "record_id_r", "score", "band", "rule_id"]
    sims = sorted(c for c in p.columns if str(c).startswith("sim_"))
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
    has_cols = any(str(k).startswith("guard_") or k == "guards" for p in pairs for k in p)
    for p in pairs:
        for k, v in p.items():
            if str(k).startswith("guard_") and v is not None and _truthy(v):
                out[str(k)[6:]] = None
            elif k == "guards" and v:
                out.update((g.strip(), None) for g in re.split(r"[;,|]", str(v)) if g.strip())
        if not has_cols:
            for m in (_WHY_ITEM.match(x) for x in str(p.get("why") or "").split(",")):
                if m and float(m.group(3)) < 0:
                    out[f"{m.group(1)} {m.group(2)}"] = None
    return sorted(out)


def _truthy(v: Any) -> bool:
    if isinstance(v, str):
        return v.strip().lower() in ("true", "1", "yes", "y")
    try:
        return bool(v) and v == v
    except (TypeError, ValueError):
        return False


# ---------------------------------------------------------------- CSV and XLSX


PROPOSAL_HEAD = ["cluster_id", "band", "score", "role", "record_id", "decision", "source"]


def proposal_rows(props: Proposals) -> tuple[list[str], list[list[str]]]:
    """One golden row then one row per record, per cluster (the layout `merge apply` reads)."""
    header = [*PROPOSAL_HEAD, *props.fields, *props.alternates, "matched_because", "check"]
    rows: list[list[str]] = []
    for c in props.clusters:
        score = "" if c["score_min"] is None else f"{c['score_min']:.3f}"
        gold = c["golden"]
        prov = ", ".join(
            f"{f} from {'; '.join(v) if isinstance(v, list) else v} ({props.rules.get(f, '')})"
            for f, v in c["golden_from"].items()
        )
        rows.append(
            [
                c["cluster_id"],
                c["band"],
                score,
                "golden",
                "",
                "",
                "",
                *[gold.get(f, "") for f in props.fields],
                *[gold.get(f, "") for f in props.alternates],
                f"survivor {c['survivor']} ({c['survivor_rule']})" + (f"; {prov}" if prov else ""),
                c.get("check", ""),
            ]
        )
        why = _why_by_record(c)
        for r in c["records"]:
            rows.append(
                [
                    c["cluster_id"],
                    c["band"],
                    score,
                    "survivor" if r["record_id"] == c["survivor"] else "member",
                    r["record_id"],
                    "",
                    r["source"],
                    *[r.get(f, "") for f in props.fields],
                    *["" for _ in props.alternates],
                    why.get(r["record_id"], ""),
                    "",
                ]
            )
    return header, rows


def _why_by_record(c: dict[str, Any]) -> dict[str, str]:
    """For each record, its best pair in the cluster: partner, score and top similarities."""
    rows: list[dict[str, Any]] = c["pairs"]
    out: dict[str, str] = {}
    sims = [s for s in c["pair_cols"] if str(s).startswith("sim_")]
    for row in rows:
        parts = [f"{k[4:]} {float(row[k]):.2f}" for k in sims if _isnum(row.get(k))]
        text = f"with {{other}} score {as_text(row.get('score'))}" + (
            f": {', '.join(parts)}" if parts else ""
        )
        if row.get("rule_id"):
            text += f" [{row['rule_id']}]"
        for a, b in (("record_id_l", "record_id_r"), ("record_id_r", "record_id_l")):
            rid = str(row[a])
            out.setdefault(rid, text.replace("{other}", str(row[b])))
    return out


def _isnum(v: Any) -> bool:
    try:
        return float(v) == float(v)
    except (TypeError, ValueError):
        return False


def _write_tables(props: Proposals, xlsx_path: Path, csv_path: Path) -> list[Path]:
    """The proposals as XLSX and CSV, from one frame neutralized column-wise (no per-cell
    Python: at 100k contacts the per-cell path took most of the report stage)."""
    header, rows = proposal_rows(props)
    frame = pd.DataFrame(rows, columns=pd.Index(header, dtype=object), dtype=object)
    frame = safe.neutralize_frame(frame)
    frame.columns = pd.Index(header, dtype=object)  # names are ours, never formula-like
    return [_write_xlsx(frame, xlsx_path), _write_csv(frame, csv_path)]


def _write_csv(frame: pd.DataFrame, path: Path) -> Path:
    buf = io.StringIO()
    frame.to_csv(buf, index=False, lineterminator="\n", quoting=csv.QUOTE_MINIMAL)
    path.write_text(buf.getvalue(), encoding="utf-8-sig")  # BOM: Excel opens UTF-8 correctly
    return path


def _write_xlsx(frame: pd.DataFrame, path: Path) -> Path:
    from audit.xlsx import Bold, Dropdown, Sheet, write_xlsx

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
        ],
        widths=[100],
    )
    return write_xlsx(path, [proposals, how])


# ---------------------------------------------------------------- HTML


PAGE_SIZE = 50  # clusters rendered at once; the rest wait in the embedded data
# Clusters embedded in the page. A browser holds 10,000 (tested: load under 2 s); at 1M contacts
# a page of every cluster was 728 MB. Past this the page keeps what a person must look at (the
# review band, then the auto band's lowest scores) and says where the rest are: the proposals
# tables hold every cluster and are decisions files too.
PAGE_CLUSTERS = 10_000
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


def _page_clusters(clusters: list[dict[str, Any]], cap: int) -> list[dict[str, Any]]:
    """At most `cap` clusters, in their order: all review-band ones first, then the auto band's
    lowest-scoring (the ones a person most needs to see)."""
    if len(clusters) <= cap:
        return clusters
    order = sorted(
        range(len(clusters)),
        key=lambda k: (clusters[k]["band"] == "auto", clusters[k]["score_min"] or 0.0, k),
    )
    keep = set(order[:cap])
    return [c for k, c in enumerate(clusters) if k in keep]


def _write_html(run_id: str, props: Proposals, path: Path, language: str = "en") -> Path:
    from audit.labels import labels

    lab = labels(language)
    page_labels = {k: v for k, v in lab.items() if k.startswith(REVIEW_PREFIXES)}
    record_cols = ["record_id", "source", "source_file", "source_row", *props.fields]
    golden_cols = [*props.fields, *props.alternates]
    files: dict[str, int] = {}
    cols: list[str] = []
    shown = _page_clusters(props.clusters, PAGE_CLUSTERS)
    for c in shown:
        cols.extend(k for k in c["pair_cols"] if k not in cols)
    data = {
        "run_id": run_id,
        "page_size": PAGE_SIZE,
        "fields": props.fields,
        "rules": props.rules,
        "record_cols": record_cols,
        "golden_cols": golden_cols,
        "alternates": props.alternates,
        "pair_cols": cols,
        "labels": page_labels,
        "clusters": [_compact(c, cols, lab, record_cols, golden_cols, files) for c in shown],
    }
    data["files"] = list(files)
    n_auto = sum(c["band"] == "auto" for c in props.clusters)
    intro = lab["rv_intro"].format(
        run=run_id, n=len(props.clusters), review=len(props.clusters) - n_auto, auto=n_auto
    )
    if len(shown) < len(props.clusters):
        intro += " " + lab["rv_capped"].format(shown=len(shown), n=len(props.clusters))
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
        '<script type="application/json" id="review-data">' + script_json(data) + "</script>",
        f"<script>{_JS}</script></body></html>",
    ]
    with path.open("w", encoding="utf-8", newline="") as f:  # part by part: no joined copy
        for part in parts:
            f.write(part)
            f.write("\n")
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
