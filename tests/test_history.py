"""Run history in a real SQLite file: previous runs, and the trend per dimension."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pandas as pd
import pytest

from audit import history, scoretrend
from tests.factories import make_run_result


def _run(run_id: str, overall: float, **dims: float) -> object:
    frame = pd.DataFrame({"dimension": list(dims), "score": list(dims.values())})
    result = make_run_result(run_id=run_id, by_dimension=frame)
    from dataclasses import replace

    return replace(result, scorecard=replace(result.scorecard, overall=overall))


@pytest.fixture
def db(tmp_path: Path) -> Path:
    path = tmp_path / "hist" / "history.sqlite"
    history.record(path, _run("20260101T000000-a", 0.60, completeness=0.7, validity=0.5))
    history.record(path, _run("20260201T000000-b", 0.70, completeness=0.8, validity=0.6))
    history.record(path, _run("20260301T000000-c", 0.75, completeness=0.9))
    return path


def test_previous_runs_oldest_first_with_dimensions(db: Path) -> None:
    runs = history.previous(db, limit=2)
    assert [r["run_id"] for r in runs] == ["20260201T000000-b", "20260301T000000-c"]
    assert runs[0]["dimensions"] == {"completeness": 0.8, "validity": 0.6}
    assert runs[0]["overall"] == 0.7 and runs[0]["passed"] is True


def test_previous_before_a_run_excludes_it_and_later_ones(db: Path) -> None:
    runs = history.previous(db, before="20260301T000000-c")
    assert [r["run_id"] for r in runs] == ["20260101T000000-a", "20260201T000000-b"]
    assert history.previous(db, before="20260101T000000-a") == []


def test_recording_a_run_twice_keeps_one_row(db: Path) -> None:
    history.record(db, _run("20260301T000000-c", 0.75, completeness=0.9))
    with sqlite3.connect(db) as con:
        assert con.execute("SELECT COUNT(*) FROM runs").fetchone() == (3,)
    con.close()


def test_a_run_with_nothing_measured_is_recorded_in_an_old_history(tmp_path: Path) -> None:
    path = tmp_path / "history.sqlite"
    with sqlite3.connect(path) as con:  # the schema before n/a: overall REAL NOT NULL
        con.executescript(
            "CREATE TABLE runs (run_id TEXT PRIMARY KEY, as_of TEXT NOT NULL, "
            "overall REAL NOT NULL, passed INTEGER NOT NULL, n_records INTEGER NOT NULL, "
            "n_issues INTEGER NOT NULL, n_duplicate_pairs INTEGER NOT NULL, sources TEXT NOT NULL);"
            "INSERT INTO runs VALUES ('20260101T000000-a', '2026-01-01', 0.9, 1, 5, 0, 0, '[]');"
        )
    con.close()
    history.record(path, _run("20260201T000000-b", float("nan")))
    runs = history.previous(path)
    assert [(r["run_id"], r["overall"]) for r in runs] == [
        ("20260101T000000-a", 0.9),
        ("20260201T000000-b", None),
    ]


def test_missing_history_file_means_no_runs(tmp_path: Path) -> None:
    assert history.previous(tmp_path / "none.sqlite") == []
    assert not (tmp_path / "none.sqlite").exists()


def test_trend_per_dimension(db: Path) -> None:
    runs = history.previous(db)
    current = scoretrend.current_scores(
        0.8, pd.DataFrame({"dimension": ["completeness", "validity"], "score": [0.85, 0.7]})
    )
    t = scoretrend.trend(runs, current).set_index("dimension")
    assert list(t.index) == ["overall", "completeness", "validity"]
    assert t.loc["overall", "previous"] == 0.75
    assert t.loc["overall", "delta"] == pytest.approx(0.05)
    assert t.loc["completeness", "delta"] == pytest.approx(-0.05)
    assert t.loc["completeness", "best"] == 0.9 and t.loc["completeness", "worst"] == 0.7
    # the last run did not score validity: no previous value, no made-up delta
    assert pd.isna(t.loc["validity", "previous"]) and pd.isna(t.loc["validity", "delta"])
    assert t.loc["validity", "n_previous"] == 2
    assert t.loc["validity", "worst"] == 0.5


def test_trend_without_history() -> None:
    t = scoretrend.trend([], {"overall": 0.9, "validity": None})
    assert t["previous"].isna().all() and t["delta"].isna().all()
    assert t.set_index("dimension").loc["overall", "best"] == 0.9
    assert (t["n_previous"] == 0).all()


def test_series_lists_previous_runs_then_the_current_one(db: Path) -> None:
    runs = history.previous(db)
    s = scoretrend.series(runs, {"overall": 0.8}, run_id="now", as_of="2026-04-01")
    overall = s[s["dimension"] == "overall"]
    assert overall["run_id"].tolist() == [
        "20260101T000000-a",
        "20260201T000000-b",
        "20260301T000000-c",
        "now",
    ]
    assert overall["score"].tolist() == [0.6, 0.7, 0.75, 0.8]
    assert list(s.columns) == ["run_id", "as_of", "dimension", "score"]
