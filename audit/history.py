"""Run history in SQLite, so a run can show its scores against earlier ones.

One row per run plus one row per (run, dimension). SQLite is in the standard library and a
single file sits happily beside the run folders it describes.
"""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path
from typing import Any

from audit.model import RunResult

_SCHEMA = """
CREATE TABLE IF NOT EXISTS runs (
    run_id TEXT PRIMARY KEY,
    as_of TEXT NOT NULL,
    overall REAL NOT NULL,
    passed INTEGER NOT NULL,
    n_records INTEGER NOT NULL,
    n_issues INTEGER NOT NULL,
    n_duplicate_pairs INTEGER NOT NULL,
    sources TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS run_dimensions (
    run_id TEXT NOT NULL REFERENCES runs(run_id),
    dimension TEXT NOT NULL,
    score REAL,
    PRIMARY KEY (run_id, dimension)
);
"""


def _connect(path: Path) -> sqlite3.Connection:
    path.parent.mkdir(parents=True, exist_ok=True)
    con = sqlite3.connect(path)
    con.executescript(_SCHEMA)
    return con


def record(path: Path, result: RunResult) -> None:
    """Append one run (idempotent per run id)."""
    n_records = sum(len(f) for f in result.records.values())
    by_dim = result.scorecard.by_dimension
    dims: list[tuple[str, float | None]] = []
    if not by_dim.empty and {"dimension", "score"} <= set(by_dim.columns):
        dims = [
            (str(d), None if s != s else float(s))
            for d, s in zip(by_dim["dimension"], by_dim["score"], strict=True)
        ]
    sources = sorted(s.name for s in result.config.sources)
    with _connect(path) as con:
        con.execute(
            "INSERT OR REPLACE INTO runs VALUES (?,?,?,?,?,?,?,?)",
            (
                result.run_id,
                result.as_of.isoformat(),
                float(result.scorecard.overall),
                int(result.verdict.passed),
                n_records,
                len(result.issues),
                len(result.matches.pairs),
                json.dumps(sources),
            ),
        )
        con.executemany(
            "INSERT OR REPLACE INTO run_dimensions VALUES (?,?,?)",
            [(result.run_id, d, s) for d, s in dims],
        )
    con.close()


def previous(path: Path, *, limit: int = 10) -> list[dict[str, Any]]:
    """The latest runs, oldest first, each with its per-dimension scores."""
    if not path.exists():
        return []
    con = _connect(path)
    try:
        rows = con.execute(
            "SELECT run_id, as_of, overall, passed, n_records, n_issues, n_duplicate_pairs "
            "FROM runs ORDER BY run_id DESC LIMIT ?",
            (limit,),
        ).fetchall()
        out = []
        for r in reversed(rows):
            dims = dict(
                con.execute(
                    "SELECT dimension, score FROM run_dimensions WHERE run_id = ? "
                    "ORDER BY dimension",
                    (r[0],),
                ).fetchall()
            )
            out.append(
                {
                    "run_id": r[0],
                    "as_of": r[1],
                    "overall": r[2],
                    "passed": bool(r[3]),
                    "n_records": r[4],
                    "n_issues": r[5],
                    "n_duplicate_pairs": r[6],
                    "dimensions": dims,
                }
            )
        return out
    finally:
        con.close()
