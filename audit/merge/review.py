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
from pathlib import Path
from typing import Any

import pandas as pd

from audit import schema
from audit.match.survivorship import DEFAULT_RULES, load_rules, propose_golden
from audit.merge.cells import as_text, neutralize
from audit.merge.runfolder import two_people
from audit.model import RunResult
from audit.normalize.emails import email_key
from audit.report import safe

HTML_FILE = "merge_review.html"
XLSX_FILE = "merge_proposals.xlsx"
CSV_FILE = "merge_proposals.csv"
MAX_HTML_CLUSTERS = 2000  # the page stays usable in a browser; the XLSX/CSV hold them all

FIELDS = [c.name for c in schema.ENTITIES["contacts"] if not c.derived]
BAND_ORDER = {"review": 0, "auto": 1}


def write_review(result: RunResult, run_dir: Path, *, redact: bool) -> list[Path]:
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
        _write_html(result.run_id, props, run_dir / HTML_FILE),
        _write_xlsx(props, run_dir / XLSX_FILE),
        _write_csv(props, run_dir / CSV_FILE),
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
                    f: [safe.redact_id(str(v[0])), *v[1:]] for f, v in c["golden_from"].items()
                },
                "records": [
                    {k: safe.redact_cell(v, k) for k, v in r.items()} for r in c["records"]
                ],
                "pairs": [safe.redact_obj(p) for p in c["pairs"]],
            }
        )
    return Proposals(out, props.fields, props.alternates)


class Proposals:
    """Clusters to review, in display order, with members, golden values and pairs."""

    def __init__(
        self,
        clusters: list[dict[str, Any]],
        fields: list[str],
        alternates: list[str],
    ) -> None:
        self.clusters = clusters
        self.fields = fields
        self.alternates = alternates


def build_proposals(result: RunResult) -> Proposals:
    contacts = result.records.get("contacts")
    m = result.matches
    clusters = m.clusters
    if contacts is None or clusters is None or clusters.empty or "cluster_id" not in clusters:
        return Proposals([], FIELDS, [])
    golden = m.golden
    rules = getattr(result.config.match, "survivorship", None) or DEFAULT_RULES
    if golden is None or golden.empty or "golden_from" not in golden or rules != DEFAULT_RULES:
        # the match stage proposes with the shipped rules; a config may name its own
        golden = propose_golden(
            contacts,
            clusters,
            result.config.sources,
            rules=load_rules(rules, base_dir=Path(result.config.base_dir)),
        )
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
    out = []
    for g, gt in zip(heads, gold_texts, strict=True):
        cid = str(g["cluster_id"])
        ids = [r for r in dict.fromkeys(members.get(cid, [])) if r in by_id]
        survivor = str(g["survivor_id"])
        ids = [survivor, *sorted(r for r in ids if r != survivor)]
        cp = pair_by_cluster.get(cid, [])
        scores = [float(p["score"]) for p in cp if _isnum(p.get("score"))]
        emails = {r: [by_id[r].get("email", "")] for r in ids if by_id[r].get("email")}
        people = two_people({r: [k] for r, v in emails.items() if (k := email_key(v[0]))}, ids)
        out.append(
            {
                "cluster_id": cid,
                "check": (
                    f"{len(people)} different personal emails: two people? "
                    "merge apply leaves it unless you approve it"
                    if people
                    else ""
                ),
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
            }
        )
    out.sort(key=lambda c: (BAND_ORDER.get(c["band"], 2), c["cluster_id"]))
    return Proposals(out, FIELDS, alternates)


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


# ---------------------------------------------------------------- CSV and XLSX


PROPOSAL_HEAD = ["cluster_id", "band", "score", "role", "record_id", "decision", "source"]


def proposal_rows(props: Proposals) -> tuple[list[str], list[list[str]]]:
    """One golden row then one row per record, per cluster (the layout `merge apply` reads)."""
    header = [*PROPOSAL_HEAD, *props.fields, *props.alternates, "matched_because", "check"]
    rows: list[list[str]] = []
    for c in props.clusters:
        score = "" if c["score_min"] is None else f"{c['score_min']:.3f}"
        gold = c["golden"]
        prov = ", ".join(f"{f} from {v[0]} ({v[1]})" for f, v in c["golden_from"].items())
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
                f"survivor {c['survivor']} ({c['survivor_rule']}); {prov}",
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


def _write_csv(props: Proposals, path: Path) -> Path:
    header, rows = proposal_rows(props)
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(header)
    w.writerows([[neutralize(v) for v in row] for row in rows])
    path.write_text(buf.getvalue(), encoding="utf-8-sig")  # BOM: Excel opens UTF-8 correctly
    return path


def _write_xlsx(props: Proposals, path: Path) -> Path:
    from audit.xlsx import Bold, Dropdown, Sheet, write_xlsx

    header, rows = proposal_rows(props)
    role_i = header.index("role")
    widths = {"cluster_id": 14, "record_id": 18, "decision": 11, "matched_because": 60}
    proposals = Sheet(
        "proposals",
        [[neutralize(v) or None for v in row] for row in rows],  # empty cells, not ""
        header=header,
        fills=[r[role_i] == "golden" for r in rows],
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


def _e(v: Any) -> str:
    return html.escape(as_text(v), quote=True)


def _write_html(run_id: str, props: Proposals, path: Path) -> Path:
    shown = props.clusters[:MAX_HTML_CLUSTERS]
    n_auto = sum(c["band"] == "auto" for c in props.clusters)
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        '<meta http-equiv="Content-Security-Policy" content="default-src \'none\'; '
        "style-src 'unsafe-inline'; script-src 'unsafe-inline'; img-src data:\">",
        f"<title>Merge review · {_e(run_id)}</title>",
        f"<style>{_CSS}</style></head>",
        f'<body data-run-id="{_e(run_id)}">',
        "<header><h1>Merge review</h1>",
        f"<p>Run <code>{_e(run_id)}</code>: {len(props.clusters)} proposed merges "
        f"({len(props.clusters) - n_auto} to review, {n_auto} auto-band). "
        "Approve, reject or split each one, then download the decisions and run "
        "<code>crm-audit merge apply RUN --decisions FILE</code>. Nothing changes until then; "
        "<code>crm-audit merge undo</code> reverses a merge exactly.</p>",
    ]
    if len(shown) < len(props.clusters):
        parts.append(
            f'<p class="warn">Showing the first {len(shown)} of {len(props.clusters)} '
            f"proposals; all of them are in {XLSX_FILE} and {CSV_FILE}.</p>"
        )
    parts.append(
        '<div class="toolbar"><span id="counts"></span> '
        '<button type="button" id="approve-auto">Approve all undecided auto-band</button> '
        '<button type="button" id="download-json">Download decisions (JSON)</button> '
        '<button type="button" id="download-csv">Download decisions (CSV)</button> '
        '<label><input type="checkbox" id="hide-decided"> hide decided</label></div>'
        "</header><main>"
    )
    for c in shown:
        parts.append(_cluster_html(c, props))
    if not shown:
        parts.append('<p class="empty">No duplicate clusters were proposed in this run.</p>')
    parts.append(f"</main><script>{_JS}</script></body></html>")
    path.write_text("\n".join(parts) + "\n", encoding="utf-8")
    return path


def _cluster_html(c: dict[str, Any], props: Proposals) -> str:
    cid = c["cluster_id"]
    recs = c["records"]
    score = (
        ""
        if c["score_min"] is None
        else f" · score {c['score_min']:.3f}"
        + (f"–{c['score_max']:.3f}" if c["score_max"] != c["score_min"] else "")
    )
    out = [
        f'<section class="cluster band-{_e(c["band"])}" data-cluster-id="{_e(cid)}" '
        f'data-band="{_e(c["band"])}">',
        f'<h2>Cluster <code>{_e(cid)}</code> <span class="band">{_e(c["band"])}</span>'
        f'<span class="meta">{len(recs)} records{_e(score)}</span></h2>',
    ]
    if c.get("check"):
        out.append(f'<p class="check"><b>Check:</b> {_e(c["check"])}</p>')
    out += ['<div class="decide" role="radiogroup">']
    for value, label in (("approve", "Approve merge"), ("reject", "Reject"), ("split", "Split")):
        out.append(
            f'<label><input type="radio" class="decision" name="d-{_e(cid)}" '
            f'value="{value}"> {label}</label>'
        )
    out.append('<small class="hint">Split: tick the records to keep out of this merge.</small>')
    out.append("</div>")
    out.append(
        '<table class="side"><thead><tr><th>field</th><th class="golden">proposed golden</th>'
    )
    for r in recs:
        who = "survivor" if r["record_id"] == c["survivor"] else "record"
        out.append(
            f'<th class="{who}"><label class="splitbox" title="split this record off">'
            f'<input type="checkbox" class="split-off" value="{_e(r["record_id"])}" disabled> '
            f"split off</label><code>{_e(r['record_id'])}</code>"
            f"<small>{_e(r['source'])} · {_e(r['source_file'])} row {_e(r['source_row'])}"
            f"{' · survivor' if who == 'survivor' else ''}</small></th>"
        )
    out.append("</tr></thead><tbody>")
    gold, prov = c["golden"], c["golden_from"]
    for f in props.fields:
        vals = [r.get(f, "") for r in recs]
        if not any(vals) and not gold.get(f):
            continue
        distinct = {v.strip().casefold() for v in vals if v.strip()}
        cls = ' class="diff"' if len(distinct) > 1 else ""
        src = prov.get(f)
        note = ""
        if src:
            who = src[0] if isinstance(src[0], str) else "; ".join(src[0])
            note = f'<small class="from">from {_e(who)} · {_e(src[1])}</small>'

        out.append(f'<tr{cls}><th>{_e(f)}</th><td class="golden">{_e(gold.get(f, ""))}{note}</td>')
        for r, v in zip(recs, vals, strict=True):
            won = ' class="won"' if src is not None and src[0] == r["record_id"] else ""
            out.append(f"<td{won}>{_e(v)}</td>")
        out.append("</tr>")
    for a in props.alternates:
        if gold.get(a):
            out.append(
                f'<tr class="alt"><th>{_e(a)}</th><td class="golden">'
                f'{_e(gold[a])}<small class="from">losing values kept</small>'
                f'</td><td colspan="{len(recs)}"></td></tr>'
            )
    out.append("</tbody></table>")
    out.append(
        f'<p class="master">Survivor <code>{_e(c["survivor"])}</code> chosen by '
        f"<b>{_e(c['survivor_rule'])}</b>.</p>"
    )
    out.append(_pairs_html(c["pairs"], c["pair_cols"]))
    out.append("</section>")
    return "".join(out)


def _pairs_html(rows: list[dict[str, Any]], cols: list[str]) -> str:
    if not rows:
        return '<p class="why">No pair details were recorded for this cluster.</p>'
    head = "".join(f"<th>{_e(c[4:] if str(c).startswith('sim_') else c)}</th>" for c in cols)
    body = []
    for row in rows:
        cells = []
        for c in cols:
            v = row.get(c)
            if str(c).startswith("sim_") or c == "score":
                if _isnum(v):
                    x = float(v)
                    lvl = "hi" if x >= 0.9 else ("mid" if x >= 0.6 else "lo")
                    cells.append(f'<td class="num {lvl}">{x:.2f}</td>')
                else:
                    cells.append('<td class="num null">–</td>')
            else:
                cells.append(f"<td>{_e(v)}</td>")
        body.append("<tr>" + "".join(cells) + "</tr>")
    return (
        '<details class="why" open><summary>Why they matched</summary>'
        f'<table class="pairs"><thead><tr>{head}</tr></thead><tbody>{"".join(body)}'
        "</tbody></table></details>"
    )


_CSS = """
body{font:14px/1.4 system-ui,-apple-system,"Segoe UI","Noto Sans CJK KR","Noto Sans CJK JP",
"Noto Sans CJK SC",sans-serif;margin:0;color:#1d1d1f;background:#f6f7f9}
header{position:sticky;top:0;background:#fff;border-bottom:1px solid #ddd;padding:8px 16px;
z-index:2}
h1{font-size:20px;margin:4px 0}main{padding:8px 16px}
.toolbar button{margin-left:6px}.warn{color:#8a5300}
section.cluster{background:#fff;border:1px solid #ddd;border-left:6px solid #bbb;border-radius:6px;
margin:12px 0;padding:8px 12px;overflow-x:auto}
section.decided-approve{border-left-color:#2e7d32}section.decided-reject{border-left-color:#c62828}
section.decided-split{border-left-color:#ef6c00}
body.hide-decided section[class*=decided-]{display:none}
h2{font-size:15px;margin:4px 0}
h2 .band{font-size:12px;background:#eee;border-radius:3px;padding:1px 6px;margin-left:6px}
.band-auto h2 .band{background:#dcedc8}.band-review h2 .band{background:#ffe0b2}
h2 .meta{font-weight:normal;color:#666;margin-left:8px;font-size:12px}
.decide label{margin-right:14px;cursor:pointer}.decide .hint{color:#888}
table{border-collapse:collapse;margin:6px 0}th,td{border:1px solid #e3e3e3;padding:3px 6px;
text-align:left;vertical-align:top;max-width:280px;word-break:break-word}
thead th{background:#fafafa}
th small,td small{display:block;color:#777;font-size:11px;font-weight:normal}
td.golden,th.golden{background:#fffbe6}tr.diff th{color:#b00020}tr.diff td{background:#fff1f0}
tr.diff td.golden{background:#fff4cc}td.won{outline:2px solid #ffd54f;outline-offset:-2px}
.splitbox{float:right;font-weight:normal;font-size:11px;color:#a65}
table.pairs th{white-space:nowrap}
td.num{text-align:right;font-variant-numeric:tabular-nums}td.hi{background:#e8f5e9}
td.mid{background:#fffde7}td.lo{background:#ffebee}td.null{color:#999}
.master{color:#555;margin:2px 0}
.check{background:#fff3cd;border-left:4px solid #c77c00;padding:4px 8px;margin:4px 0}
"""

_JS = r"""
(function () {
  "use strict";
  var runId = document.body.getAttribute("data-run-id") || "";
  var key = "crm-audit-merge-review:" + runId;
  var sections = Array.prototype.slice.call(document.querySelectorAll("section.cluster"));

  function decisionOf(sec) {
    var chosen = sec.querySelector("input.decision:checked");
    if (!chosen) { return null; }
    var split = Array.prototype.slice.call(sec.querySelectorAll("input.split-off:checked"))
      .map(function (x) { return x.value; });
    if (chosen.value === "split" && split.length === 0) { return null; }
    return {
      cluster_id: sec.getAttribute("data-cluster-id"),
      decision: chosen.value,
      split_off: chosen.value === "split" ? split : []
    };
  }
  function all() {
    var out = [];
    sections.forEach(function (sec) { var d = decisionOf(sec); if (d) { out.push(d); } });
    return out;
  }
  function refresh(sec) {
    var chosen = sec.querySelector("input.decision:checked");
    var value = chosen ? chosen.value : "";
    sec.classList.remove("decided-approve", "decided-reject", "decided-split");
    if (decisionOf(sec)) { sec.classList.add("decided-" + value); }
    sec.querySelectorAll("input.split-off").forEach(function (box) {
      box.disabled = value !== "split";
    });
  }
  function count() {
    var d = all(), n = { approve: 0, reject: 0, split: 0 };
    d.forEach(function (x) { n[x.decision] += 1; });
    document.getElementById("counts").textContent =
      d.length + " of " + sections.length + " decided (" + n.approve + " approved, " +
      n.reject + " rejected, " + n.split + " split)";
  }
  function save() {
    try { localStorage.setItem(key, JSON.stringify(all())); } catch (e) { /* private mode */ }
  }
  function restore() {
    var saved;
    try { saved = JSON.parse(localStorage.getItem(key) || "[]"); } catch (e) { saved = []; }
    var byId = {};
    saved.forEach(function (d) { byId[d.cluster_id] = d; });
    sections.forEach(function (sec) {
      var d = byId[sec.getAttribute("data-cluster-id")];
      if (!d) { return; }
      sec.querySelectorAll("input.decision").forEach(function (r) {
        r.checked = r.value === d.decision;
      });
      sec.querySelectorAll("input.split-off").forEach(function (b) {
        b.checked = (d.split_off || []).indexOf(b.value) >= 0;
      });
      refresh(sec);
    });
  }
  function download(name, text, type) {
    var blob = new Blob([text], { type: type });
    var a = document.createElement("a");
    a.href = URL.createObjectURL(blob);
    a.download = name;
    document.body.appendChild(a);
    a.click();
    setTimeout(function () { URL.revokeObjectURL(a.href); a.remove(); }, 2000);
  }
  function csvCell(s) {
    s = String(s);
    return /[",\r\n]/.test(s) ? '"' + s.replace(/"/g, '""') + '"' : s;
  }
  sections.forEach(function (sec) {
    sec.addEventListener("change", function () { refresh(sec); count(); save(); });
  });
  document.getElementById("approve-auto").addEventListener("click", function () {
    sections.forEach(function (sec) {
      var undecided = !sec.querySelector("input.decision:checked");
      if (sec.getAttribute("data-band") === "auto" && undecided) {
        sec.querySelector('input.decision[value="approve"]').checked = true;
        refresh(sec);
      }
    });
    count(); save();
  });
  document.getElementById("hide-decided").addEventListener("change", function (ev) {
    document.body.classList.toggle("hide-decided", ev.target.checked);
  });
  document.getElementById("download-json").addEventListener("click", function () {
    var doc = { format: "crm-audit.merge-decisions", version: 1, run_id: runId, decisions: all() };
    download("merge_decisions.json", JSON.stringify(doc, null, 1) + "\n", "application/json");
  });
  document.getElementById("download-csv").addEventListener("click", function () {
    var lines = ["cluster_id,decision,split_off"];
    all().forEach(function (d) {
      lines.push([d.cluster_id, d.decision, d.split_off.join("; ")].map(csvCell).join(","));
    });
    download("merge_decisions.csv", lines.join("\n") + "\n", "text/csv");
  });
  restore();
  count();
})();
"""
