"""The KPI stage run in a forked child beside score and gate: the same KPIs, breakdowns and
impact table as the stage run after the gate, for a gate that passes, fails or withholds; the
same run folder; a failure in the child reaches the user as it would in one process."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pandas as pd
import pytest

import audit.beside as beside
import audit.pipeline as pipeline
from audit.beside import Beside
from audit.config import load_config
from audit.errors import InputError
from audit.kpis import kpi_stage
from audit.model import Verdict


@pytest.fixture(scope="module")
def result(small_demo: Path):
    return pipeline.analyse(load_config(small_demo / "demo.yaml"), run_id="20260101T000000-k")


def _same(a: tuple, b: tuple) -> None:
    (ta, xa), (tb, xb) = a, b
    if ta is None or tb is None:
        assert ta is None and tb is None
    else:
        pd.testing.assert_frame_equal(ta, tb)
    assert xa.keys() == xb.keys()
    for key in xa:
        if isinstance(xa[key], pd.DataFrame):
            pd.testing.assert_frame_equal(xa[key], xb[key])
        else:
            assert repr(xa[key]) == repr(xb[key]), key


@pytest.mark.parametrize(
    "verdict",
    [
        Verdict(passed=True, reasons=()),
        Verdict(passed=False, reasons=("completeness 32% < floor 90%",)),
        Verdict(passed=True, reasons=(), withheld_kpis={"churn_rate": "dates unreadable: 40%"}),
    ],
    ids=["passed", "failed", "withheld"],
)
def test_the_kpis_computed_before_the_verdict_are_the_stages_after_it(result, verdict) -> None:
    r = result
    args = (r.records, r.issues, r.matches, r.config.kpis)
    expected = kpi_stage(
        *args,
        as_of=r.as_of,
        passed=verdict.passed,
        withheld=verdict.withheld_kpis,
    )
    # the child is handed the stages' findings as they come, before conform_issues: in
    # another order, in parts, with Arrow text and columns a stage does not fill
    shuffled = r.issues.sample(frac=1, random_state=7)
    third = len(shuffled) // 3
    pieces = [
        shuffled.iloc[:third],
        shuffled.iloc[third : 2 * third].astype("string[pyarrow]"),
        shuffled.iloc[2 * third :].drop(columns=["message", "value"]),
    ]
    got = pipeline.kpis_given(
        pipeline.kpis_beside(r.records, pieces, r.matches, r.config.kpis, r.as_of), verdict
    )
    _same(got, expected)
    table, extras = got
    assert ("breakdowns" in extras) == verdict.passed
    if verdict.withheld_kpis:
        row = table.set_index("kpi_id").loc["churn_rate"]
        assert row["status"] == "withheld" and row["note"] == "dates unreadable: 40%"


def _folder(run_dir: Path) -> dict[str, bytes]:
    out = {}
    for p in sorted(run_dir.rglob("*")):
        if not p.is_file() or p.name == "manifest.json":  # the manifest sums run.json's timings
            continue
        data = p.read_bytes()
        if p.name == "run.json":
            doc = json.loads(data)
            doc.pop("timings")
            data = json.dumps(doc, sort_keys=True).encode()
        out[p.relative_to(run_dir).as_posix()] = data
    return out


def test_a_run_with_the_kpis_beside_score_writes_the_same_folder(
    small_demo: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    beside_forks: list[bool],
) -> None:
    forked = beside_forks
    monkeypatch.setenv("CRM_AUDIT_WORKERS", "2")
    cfg = load_config(small_demo / "demo.yaml")
    monkeypatch.setattr(beside, "FORK_MIN_ROWS", 10**9)
    one = pipeline.run(cfg, out=tmp_path / "one", run_id="r1")
    monkeypatch.setattr(beside, "FORK_MIN_ROWS", 0)
    two = pipeline.run(cfg, out=tmp_path / "two", run_id="r1")
    # the first run forks nothing (its KPIs, computed in process with the verdict, ask no
    # child); the second forks its KPIs beside score and its merge review beside the writers
    assert forked == [False, True, True]
    assert one.verdict == two.verdict
    a, b = _folder(tmp_path / "one" / "r1"), _folder(tmp_path / "two" / "r1")
    assert "kpis.csv" in a and "run.json" in a
    assert a.keys() == b.keys()
    assert [k for k in a if a[k] != b[k]] == []


def test_a_failing_kpi_in_the_child_reaches_the_user(
    small_demo: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CRM_AUDIT_WORKERS", "2")
    monkeypatch.setattr(beside, "FORK_MIN_ROWS", 0)
    parent = os.getpid()

    def failing(*args, **kwargs):  # type: ignore[no-untyped-def]
        assert os.getpid() != parent  # it ran in the child
        raise InputError("deals.csv row 4: amount 'ten' is not a number; fix it and run again.")

    monkeypatch.setattr(pipeline, "kpi_stage", failing)
    with pytest.raises(InputError, match=r"^deals.csv row 4: amount 'ten'"):
        pipeline.run(load_config(small_demo / "demo.yaml"), out=tmp_path / "runs", run_id="r1")
    assert not (tmp_path / "runs" / "r1").exists()


def test_a_failing_score_stops_the_kpis_child(
    small_demo: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CRM_AUDIT_WORKERS", "2")
    monkeypatch.setattr(beside, "FORK_MIN_ROWS", 0)
    children: list[tuple[Beside, bool]] = []
    real_init = Beside.__init__

    def keep(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        real_init(self, *args, **kwargs)
        children.append((self, self.forked))

    def broken(*args, **kwargs):  # type: ignore[no-untyped-def]
        raise RuntimeError("score failed")

    monkeypatch.setattr(Beside, "__init__", keep)
    monkeypatch.setattr(pipeline, "score", broken)
    with pytest.raises(RuntimeError, match="score failed"):
        pipeline.analyse(load_config(small_demo / "demo.yaml"), run_id="r1")
    (child, forked), *_ = children
    assert forked and not child.forked  # it was started, then stopped: no child left behind
