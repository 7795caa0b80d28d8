"""What changed since the previous run: scores, findings, duplicate clusters, KPIs.

A weekly audit is read as a difference: did last week's clean-up work, what is new. The
previous run is the latest one recorded in the same decisions store (the output folder's
`decisions.sqlite`, beside `history.sqlite`), read back from its run folder. Findings are
compared by (rule, record id, field), so a record fixed in the CRM shows as resolved, and a
record added since shows as new. Clusters are compared by their stable ids
(`audit.match.memory`). The result is plain data for run.json (`changes`), the summary and the
terminal; `lines()` gives the same in sentences.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pandas as pd

from audit.messages import localize, msg
from audit.model import RunResult

MAX_IDS = 50  # record ids listed per rule and direction (counts are always complete)


def compute_changes(
    previous: Mapping[str, Any], prev_tables: Mapping[str, pd.DataFrame], result: RunResult
) -> dict[str, Any]:
    """The change report of `result` against a previous run (its run.json and tables)."""
    issues, clusters = result.issues, result.matches.clusters
    if previous.get("redacted"):  # its ids are masked: compare like with like
        issues = _masked(issues)
        clusters = _masked(clusters)
    return {
        "previous_run_id": str(previous.get("run_id") or ""),
        "previous_as_of": str(previous.get("as_of") or ""),
        "scores": _scores(previous, result),
        "findings": _findings(prev_tables.get("issues"), issues),
        "clusters": _clusters(prev_tables.get("clusters"), clusters),
        "kpis": _kpis(previous.get("kpis"), result.kpis),
    }


def _masked(frame: pd.DataFrame) -> pd.DataFrame:
    from audit.safe import redact_id

    if frame.empty or "record_id" not in frame.columns:
        return frame
    ids = frame["record_id"]
    return frame.assign(record_id=[v if v is None or v != v else redact_id(str(v)) for v in ids])


def _num(v: Any) -> float | None:
    try:
        f = float(v)
    except (TypeError, ValueError):
        return None
    return None if f != f else round(f, 6)


def _delta(a: float | None, b: float | None) -> float | None:
    return None if a is None or b is None else round(b - a, 6)


def _scores(previous: Mapping[str, Any], result: RunResult) -> list[dict[str, Any]]:
    scores = previous.get("scores") or {}
    before: dict[str, float | None] = {"overall": _num(scores.get("overall"))}
    for row in scores.get("by_dimension") or []:
        before[str(row.get("dimension"))] = _num(row.get("score"))
    after: dict[str, float | None] = {"overall": _num(result.scorecard.overall)}
    by_dim = result.scorecard.by_dimension
    if not by_dim.empty and {"dimension", "score"} <= set(by_dim.columns):
        for d, s in zip(by_dim["dimension"], by_dim["score"], strict=True):
            after[str(d)] = _num(s)
    dims = sorted(set(before) | set(after), key=lambda d: (d != "overall", d))
    return [
        {
            "dimension": d,
            "before": before.get(d),
            "after": after.get(d),
            "delta": _delta(before.get(d), after.get(d)),
        }
        for d in dims
    ]


def _keys(issues: pd.DataFrame | None) -> pd.DataFrame:
    cols = ["rule_id", "record_id", "field"]
    if issues is None or issues.empty or not set(cols) <= set(issues.columns):
        return pd.DataFrame({c: pd.Series(dtype=object) for c in cols})
    out = issues[cols].astype("object").where(issues[cols].notna(), "").astype(str)
    return out.drop_duplicates()


def _findings(prev: pd.DataFrame | None, cur: pd.DataFrame) -> dict[str, Any]:
    """Per rule: findings new in this run and resolved since the previous one, by record id."""
    a, b = _keys(prev), _keys(cur)
    both = a.merge(b, how="outer", on=["rule_id", "record_id", "field"], indicator=True)
    new = both[both["_merge"] == "right_only"]
    gone = both[both["_merge"] == "left_only"]
    by_rule: dict[str, dict[str, Any]] = {}
    for kind, frame in (("new", new), ("resolved", gone)):
        for rule, grp in frame.groupby("rule_id", sort=True):
            ids = sorted(set(grp["record_id"]) - {""})
            entry = by_rule.setdefault(
                str(rule), {"new": 0, "resolved": 0, "new_records": [], "resolved_records": []}
            )
            entry[kind] = len(grp)
            entry[f"{kind}_records"] = ids[:MAX_IDS]
    return {
        "new": len(new),
        "resolved": len(gone),
        "unchanged": int((both["_merge"] == "both").sum()),
        "by_rule": dict(sorted(by_rule.items())),
    }


def _members(clusters: pd.DataFrame | None) -> dict[str, frozenset[str]]:
    if clusters is None or clusters.empty or "cluster_id" not in clusters.columns:
        return {}
    out: dict[str, set[str]] = {}
    for cid, rid in zip(clusters["cluster_id"], clusters["record_id"], strict=True):
        out.setdefault(str(cid), set()).add(str(rid))
    return {k: frozenset(v) for k, v in out.items()}


def _clusters(prev: pd.DataFrame | None, cur: pd.DataFrame) -> dict[str, Any]:
    """New / grown / shrunk / split / resolved / unchanged duplicate clusters, by stable id.

    split: a previous cluster whose records now sit in two or more clusters. resolved: a
    previous cluster id gone, its records no longer clustered together (merged in the CRM,
    fixed, or rejected by a reviewer). new: a cluster id not seen before.
    """
    a, b = _members(prev), _members(cur)
    owner = {r: c for c, recs in b.items() for r in recs}
    kinds: dict[str, list[str]] = {
        k: [] for k in ("new", "grown", "shrunk", "changed", "unchanged", "split", "resolved")
    }
    for cid, recs in sorted(b.items()):
        old = a.get(cid)
        if old is None:
            kinds["new"].append(cid)
        elif old == recs:
            kinds["unchanged"].append(cid)
        elif old < recs:
            kinds["grown"].append(cid)
        elif recs < old:
            kinds["shrunk"].append(cid)
        else:
            kinds["changed"].append(cid)
    for cid, recs in sorted(a.items()):
        now = {owner[r] for r in recs if r in owner}
        if len(now) >= 2:
            kinds["split"].append(cid)
        elif cid not in b:
            kinds["resolved"].append(cid)
    return {
        "before": len(a),
        "after": len(b),
        **{k: len(v) for k, v in kinds.items()},
        "ids": {k: v[:MAX_IDS] for k, v in kinds.items() if k != "unchanged"},
    }


def _kpi_values(rows: Any) -> dict[str, tuple[float | None, str]]:
    if rows is None:
        return {}
    if isinstance(rows, pd.DataFrame):
        rows = rows.to_dict("records")
    return {
        str(r.get("kpi_id")): (_num(r.get("value")), str(r.get("unit") or ""))
        for r in rows
        if isinstance(r, Mapping) and r.get("kpi_id")
    }


def _kpis(prev: Any, cur: pd.DataFrame | None) -> list[dict[str, Any]]:
    a, b = _kpi_values(prev), _kpi_values(cur)
    out = []
    for k in sorted(set(a) | set(b)):
        before = a.get(k, (None, ""))[0]
        after, unit = b.get(k, (None, a.get(k, (None, ""))[1]))
        out.append(
            {
                "kpi_id": k,
                "unit": unit,
                "before": before,
                "after": after,
                "delta": _delta(before, after),
            }
        )
    return out


def _pct(v: float | None) -> str:
    return "n/a" if v is None else f"{v:.1%}"


def lines(changes: Mapping[str, Any], *, top: int = 5, language: str = "en") -> list[str]:
    """The change report in sentences, most telling first (terminal, summary.md and .html)."""
    if not changes:
        return []
    if changes.get("unavailable"):
        return [str(changes["unavailable"])]
    out = []

    def dim(name: str) -> str:
        return localize(name, language)

    moved = [s for s in changes.get("scores", []) if s["before"] != s["after"]]
    if moved:
        moves = "; ".join(
            msg(
                "changes.score_move",
                language,
                dim=dim(s["dimension"]),
                before=_pct(s["before"]),
                after=_pct(s["after"]),
            )
            if s["delta"] is None
            else msg(
                "changes.score_move_delta",
                language,
                dim=dim(s["dimension"]),
                before=_pct(s["before"]),
                after=_pct(s["after"]),
                delta=f"{s['delta'] * 100:+.1f}",
            )
            for s in moved
        )
        out.append(msg("changes.scores", language, moves=moves))
    else:
        out.append(msg("changes.unchanged", language))
    f = changes.get("findings") or {}
    out.append(
        msg("changes.findings", language, new=f.get("new", 0), resolved=f.get("resolved", 0))
    )
    ranked = sorted(
        (f.get("by_rule") or {}).items(),
        key=lambda kv: (-(kv[1]["new"] + kv[1]["resolved"]), kv[0]),
    )
    for rule, e in ranked[:top]:
        out.append(
            "  " + msg("changes.rule", language, rule=rule, new=e["new"], resolved=e["resolved"])
        )
    c = changes.get("clusters") or {}
    kinds = ("before", "after", "new", "grown", "shrunk", "changed", "split", "resolved")
    out.append(msg("changes.clusters", language, **{k: c.get(k, 0) for k in (*kinds, "unchanged")}))
    k_moved = [k for k in changes.get("kpis") or [] if k["before"] != k["after"]]
    for k in k_moved[:top]:
        out.append(
            "  "
            + msg(
                "changes.kpi",
                language,
                kpi=k["kpi_id"],
                before=_fmt(k["before"]),
                after=_fmt(k["after"]),
            )
        )
    if len(k_moved) > top:
        out.append("  " + msg("changes.more_kpis", language, n=len(k_moved) - top))
    return out


def _fmt(v: float | None) -> str:
    if v is None:
        return "n/a"
    return f"{v:,.4g}" if abs(v) < 1000 else f"{v:,.0f}"
