"""Score trend tables: this run's scores beside the previous runs' (rows from the run history).

Plain data in, frames out: the report stage builds its trend and series tables with these from
the rows the pipeline read out of the history, without touching the history database itself.
"""

from __future__ import annotations

from typing import Any

import pandas as pd


def current_scores(overall: float, by_dimension: pd.DataFrame) -> dict[str, float | None]:
    """{'overall': ..., '<dimension>': ...} for one run, from its scorecard frames."""
    out: dict[str, float | None] = {"overall": score_or_none(overall)}
    if not by_dimension.empty and {"dimension", "score"} <= set(by_dimension.columns):
        for d, s in zip(by_dimension["dimension"], by_dimension["score"], strict=True):
            out[str(d)] = score_or_none(s)
    return out


def score_or_none(v: Any) -> float | None:
    try:
        f = float(v)
    except (TypeError, ValueError):
        return None
    return None if f != f else f


def series(
    runs: list[dict[str, Any]],
    current: dict[str, float | None] | None = None,
    *,
    run_id: str = "",
    as_of: str = "",
) -> pd.DataFrame:
    """Long table run_id, as_of, dimension, score: the previous runs, then the current one.

    'overall' is a dimension here so that one chart and one table can show everything.
    """
    rows: list[tuple[str, str, str, float | None]] = []
    for r in runs:
        rows.append((str(r["run_id"]), str(r["as_of"]), "overall", score_or_none(r.get("overall"))))
        for d, s in sorted((r.get("dimensions") or {}).items()):
            rows.append((str(r["run_id"]), str(r["as_of"]), str(d), score_or_none(s)))
    if current is not None:
        for d, s in sorted(current.items(), key=lambda kv: (kv[0] != "overall", kv[0])):
            rows.append((run_id, as_of, d, s))
    return pd.DataFrame(rows, columns=["run_id", "as_of", "dimension", "score"])


def trend(runs: list[dict[str, Any]], current: dict[str, float | None]) -> pd.DataFrame:
    """Per dimension (and overall): current score, previous run's, the change, best and worst.

    Runs are the previous ones, oldest first (as `previous` returns them). A dimension that a
    previous run did not score has previous None and delta None, never a made-up 0.
    """
    cols = ["dimension", "current", "previous", "delta", "best", "worst", "n_previous"]
    last = runs[-1] if runs else None
    out = []
    for dim in sorted(current, key=lambda d: (d != "overall", d)):
        cur = current[dim]
        past = [
            score_or_none(
                r.get("overall") if dim == "overall" else (r.get("dimensions") or {}).get(dim)
            )
            for r in runs
        ]
        known = [p for p in past if p is not None]
        prev = None
        if last is not None:
            prev = score_or_none(
                last.get("overall") if dim == "overall" else (last.get("dimensions") or {}).get(dim)
            )
        delta = None if cur is None or prev is None else round(cur - prev, 10)
        every = [*known, *([cur] if cur is not None else [])]
        out.append(
            (
                dim,
                cur,
                prev,
                delta,
                max(every) if every else None,
                min(every) if every else None,
                len(known),
            )
        )
    return pd.DataFrame(out, columns=cols)
