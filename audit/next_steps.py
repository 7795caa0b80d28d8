"""What the user should do next, in a few sentences, from a run's result.

A run's numbers do not say what to do. The terminal ends with the work waiting for a person:
duplicates awaiting a merge decision (and the file to open), clusters already approved in an
earlier review (and the command that merges them), the quickest score gains, and the KPIs held
back (their reasons are printed with the gate).
"""

from __future__ import annotations

from pathlib import Path

from audit.messages import localize, msg
from audit.model import RunResult

REVIEW_FILE = "merge_review.html"


def next_steps(result: RunResult, *, top: int = 3, language: str = "en") -> list[str]:
    """Plain sentences in `language`, most useful first; empty when nothing waits for a person."""
    out: list[str] = []
    c = result.matches.clusters
    run = Path(result.run_dir) if result.run_dir else Path("reports") / result.run_id
    if len(c) and "cluster_id" in c.columns:
        decided = c["decision"].astype(str) if "decision" in c.columns else None
        pending = c if decided is None else c[decided.eq("")]
        if len(pending):
            n_rec, n_cl = len(pending), pending["cluster_id"].nunique()
            out.append(
                msg("next.pending", language, n=n_rec, clusters=n_cl, file=run / REVIEW_FILE)
            )
        if decided is not None and decided.eq("approve").any():
            n_ok = c.loc[decided.eq("approve"), "cluster_id"].nunique()
            command = f"crm-audit merge apply {run} --decisions store"
            out.append(msg("next.approved", language, n=int(n_ok), command=command))
    for w in list(result.verdict.quick_wins)[:top]:
        out.append(msg("next.quick_win", language, win=localize(w, language)))
    withheld = sorted(result.verdict.withheld_kpis)
    if withheld:
        out.append(msg("next.withheld", language, n=len(withheld), kpis=", ".join(withheld)))
    return out
