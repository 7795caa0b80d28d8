"""Run history in SQLite, so a run can show its scores against earlier ones.

One row per run plus one row per (run, dimension). SQLite is in the standard library and a
single file sits happily beside the run folders it describes.

Several runs may share one history (cron and a person at once): each run is written in one
transaction, in WAL mode, with a busy timeout, so concurrent runs queue instead of failing or
losing rows. The history is a convenience, never a reason for an audit to fail: a file that is
not a SQLite database, a corrupt one or a folder in its place is moved aside (or skipped) with a
warning, and the run goes on without it.
"""

from __future__ import annotations

import json
import sqlite3
import warnings
from pathlib import Path
from typing import Any

from audit.model import RunResult
from audit.scoretrend import score_or_none
from audit.sqlitedb import HistoryWarning, open_checked, transaction

_SCHEMA = """
CREATE TABLE IF NOT EXISTS runs (
    run_id TEXT PRIMARY KEY,
    as_of TEXT NOT NULL,
    overall REAL,
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


def _connect(path: Path) -> sqlite3.Connection | None:
    """An open, checked history, or None (with a warning) when it cannot be used."""
    return open_checked(
        path,
        _SCHEMA,
        what="history",
        lost="earlier runs' scores are in the moved file, not in the trend",
        warning=HistoryWarning,
        migrate=_allow_null_overall,
        stacklevel=3,
    )


def _allow_null_overall(con: sqlite3.Connection) -> None:
    """Histories written before 'n/a' required an overall score; a run may now have none."""
    cols = {r[1]: r[3] for r in con.execute("PRAGMA table_info(runs)")}
    if not cols.get("overall"):
        return
    table = _SCHEMA.split(";")[0].replace("runs (", "runs_new (", 1)
    with con:
        con.execute(table)
        con.execute("INSERT INTO runs_new SELECT * FROM runs")
        con.execute("DROP TABLE runs")
        con.execute("ALTER TABLE runs_new RENAME TO runs")


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
    con = _connect(path)
    if con is None:
        return
    try:
        with transaction(con):  # one transaction per run: all its rows, or none
            con.execute(
                "INSERT OR REPLACE INTO runs VALUES (?,?,?,?,?,?,?,?)",
                (
                    result.run_id,
                    result.as_of.isoformat(),
                    score_or_none(result.scorecard.overall),
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
    except sqlite3.Error as e:
        warnings.warn(
            f"{path}: run not recorded in the history ({e}).", HistoryWarning, stacklevel=2
        )
    finally:
        con.close()


def previous(path: Path, *, limit: int = 10, before: str | None = None) -> list[dict[str, Any]]:
    """The latest runs, oldest first, each with its per-dimension scores.

    `before` keeps only runs whose id sorts before it (run ids are time-ordered), so re-rendering
    an old run shows the history as it was then, and a run never compares with itself.
    """
    if not path.exists():
        return []
    con = _connect(path)
    if con is None:
        return []
    try:
        rows = con.execute(
            "SELECT run_id, as_of, overall, passed, n_records, n_issues, n_duplicate_pairs "
            "FROM runs WHERE (? IS NULL OR run_id < ?) ORDER BY run_id DESC LIMIT ?",
            (before, before, limit),
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
    except sqlite3.Error as e:
        warnings.warn(f"{path}: history not read ({e}).", HistoryWarning, stacklevel=2)
        return []
    finally:
        con.close()
