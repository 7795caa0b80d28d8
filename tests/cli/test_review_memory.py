"""The weekly loop on a demo workspace: audit, review, re-audit, merge what was approved."""

from __future__ import annotations

import itertools
import json
from pathlib import Path

import pandas as pd
import pytest
from click.testing import CliRunner

from audit.cli import cli


def _runs(reports: Path) -> list[Path]:
    return sorted(p for p in reports.iterdir() if (p / "run.json").is_file())


def _members(run: Path) -> dict[str, list[str]]:
    c = pd.read_csv(run / "clusters.csv", dtype=str, encoding="utf-8-sig")
    return {k: sorted(g["record_id"]) for k, g in c.groupby("cluster_id")}


@pytest.fixture(scope="module")
def loop(tmp_path_factory: pytest.TempPathFactory) -> dict[str, object]:
    ws = tmp_path_factory.mktemp("weekly") / "ws"
    r = CliRunner()
    got = r.invoke(cli, ["demo", "--dir", str(ws), "--size", "150", "--generate-only"])
    assert got.exit_code == 0, got.output
    first = r.invoke(cli, ["audit", str(ws / "demo.yaml")])
    assert first.exit_code == 0, first.output
    reports = ws / "reports"
    (run1,) = _runs(reports)
    members = _members(run1)
    ids = sorted(members)
    assert len(ids) >= 20
    rejected, approved = ids[:6], ids[6:12]
    dec = ws / "decisions.csv"
    pd.DataFrame(
        [(c, "reject") for c in rejected] + [(c, "approve") for c in approved],
        columns=["cluster_id", "decision"],
    ).to_csv(dec, index=False)
    recorded = r.invoke(cli, ["review", "record", str(run1), str(dec)])
    status = r.invoke(cli, ["review", "status", str(reports)])
    second = r.invoke(cli, ["audit", str(ws / "demo.yaml")])
    assert second.exit_code == 0, second.output
    run2 = _runs(reports)[-1]
    return {
        "ws": ws,
        "run1": run1,
        "run2": run2,
        "members": members,
        "rejected": rejected,
        "approved": approved,
        "first": first.output,
        "recorded": recorded,
        "status": status,
        "second": second.output,
    }


def test_first_run_has_no_changes_and_says_what_to_review(loop) -> None:
    doc = json.loads((loop["run1"] / "run.json").read_text(encoding="utf-8"))
    assert doc["changes"] is None
    assert "since " not in loop["first"]
    assert "await a merge decision: open " in loop["first"]
    assert str(loop["run1"] / "merge_review.html") in loop["first"]


def test_reading_a_decisions_file_records_it(loop) -> None:
    rec = loop["recorded"]
    assert rec.exit_code == 0, rec.output
    assert "remembered 6 approved, 6 rejected" in rec.output
    st = loop["status"]
    assert st.exit_code == 0, st.output
    assert "6 clusters approved" in st.output and "6 rejected" in st.output


def test_rejected_pairs_are_not_proposed_again(loop) -> None:
    members = loop["members"]
    rejected_pairs = {p for c in loop["rejected"] for p in itertools.combinations(members[c], 2)}
    pairs = pd.read_csv(loop["run2"] / "duplicates.csv", dtype=str, encoding="utf-8-sig")
    proposed = set(zip(pairs["record_id_l"], pairs["record_id_r"], strict=True))
    assert rejected_pairs and not rejected_pairs & proposed
    now = _members(loop["run2"])
    clustered = {p for m in now.values() for p in itertools.combinations(m, 2)}
    assert not rejected_pairs & clustered


def test_approved_clusters_arrive_approved_with_the_same_id(loop) -> None:
    c = pd.read_csv(loop["run2"] / "clusters.csv", dtype=str, encoding="utf-8-sig")
    decision = c.groupby("cluster_id")["decision"].first().fillna("")
    now = _members(loop["run2"])
    for cid in loop["approved"]:
        assert now[cid] == loop["members"][cid]
        assert decision[cid] == "approve"
    assert set(decision[decision == "approve"].index) == set(loop["approved"])
    # every other unchanged cluster keeps its id as well
    for cid, m in loop["members"].items():
        if cid not in loop["rejected"] and m in now.values():
            assert now.get(cid) == m


def test_second_run_reports_what_changed(loop) -> None:
    doc = json.loads((loop["run2"] / "run.json").read_text(encoding="utf-8"))
    ch = doc["changes"]
    assert ch["previous_run_id"] == loop["run1"].name
    assert ch["clusters"]["before"] == len(loop["members"])
    assert ch["clusters"]["resolved"] >= 1
    assert set(ch["clusters"]["ids"]["resolved"]) <= set(loop["rejected"])
    dup = ch["findings"]["by_rule"]
    assert sum(v["resolved"] for k, v in dup.items() if k.startswith("match.duplicate")) > 0
    out = loop["second"]
    assert f"since {loop['run1'].name}:" in out
    assert "duplicate clusters: " in out
    assert "clusters arrive approved from earlier decisions" in out
    md = (loop["run2"] / "summary.md").read_text(encoding="utf-8")
    assert "## Changes since the previous run" in md
    html = (loop["run2"] / "summary.html").read_text(encoding="utf-8")
    assert 'id="changes"' in html


def test_merge_apply_from_the_store_merges_the_approved_clusters(loop, tmp_path: Path) -> None:
    r = CliRunner()
    out = tmp_path / "merged"
    got = r.invoke(
        cli, ["merge", "apply", str(loop["run2"]), "--decisions", "store", "--out", str(out)]
    )
    assert got.exit_code == 0, got.output
    log = json.loads((out / "merge_log.json").read_text(encoding="utf-8"))
    assert sorted(e["cluster_id"] for e in log["clusters"]) == sorted(loop["approved"])


def test_rerun_after_merge_keeps_record_ids_and_rejections(loop, tmp_path: Path) -> None:
    """The merged contacts re-read by the next run keep the ids they had: every record that was
    not merged away is found under its old id, and a rejected pair stays rejected."""
    r = CliRunner()
    out = tmp_path / "merged"
    got = r.invoke(
        cli, ["merge", "apply", str(loop["run2"]), "--decisions", "store", "--out", str(out)]
    )
    assert got.exit_code == 0, got.output
    before = pd.read_csv(loop["run2"] / "records" / "contacts.csv", dtype=str)["record_id"]
    log = json.loads((out / "merge_log.json").read_text(encoding="utf-8"))
    away = {rid for e in log["clusters"] for rid in e["record_ids"] if rid != e["survivor"]}
    rerun = r.invoke(
        cli, ["audit", str(out / "config.merged.yaml"), "--out", str(tmp_path / "reports")]
    )
    assert rerun.exit_code == 0, rerun.output
    (run3,) = _runs(tmp_path / "reports")
    after = set(pd.read_csv(run3 / "records" / "contacts.csv", dtype=str)["record_id"])
    kept = set(before) - away
    assert kept <= after, sorted(kept - after)[:5]
