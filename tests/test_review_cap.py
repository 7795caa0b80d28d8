"""The review page past what a browser holds: it keeps what a person must see and says where the
rest are (at 1M contacts a page of every cluster was 728 MB). The workbook and the CSV a person
edits hold the page's clusters (at 1M contacts the tables of every cluster were 487 MB of CSV
and 176 MB of workbook); merge_proposals.parquet holds every cluster and is a decisions file."""

from __future__ import annotations

import json
import re
from pathlib import Path

import openpyxl
import pandas as pd
import pytest

from audit.errors import ConfigError, InputError
from audit.merge import review, write_review
from audit.merge.decisions import read_decisions
from tests.test_review_scale import big_result


def _intro(path: Path) -> str:
    m = re.search(r"<header><h1>.*?</h1><p>(.*?)</p>", path.read_text(encoding="utf-8"), re.S)
    assert m is not None
    return m.group(1)


def _page_data(path: Path) -> dict:
    html = path.read_text(encoding="utf-8")
    m = re.search(r'<script type="application/json" id="review-data">(.*?)</script>', html, re.S)
    assert m is not None
    return json.loads(m.group(1))


def test_a_page_over_the_cap_keeps_every_review_cluster_then_the_lowest_auto(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(review, "PAGE_CLUSTERS", 40)
    write_review(big_result(60), tmp_path, redact=False)  # 30 review-band, 30 auto-band clusters
    data = _page_data(tmp_path / "merge_review.html")
    shown = data["clusters"]
    assert len(shown) == 40
    bands = [c["band"] for c in shown]
    assert bands.count("review") == 30  # every cluster that needs a person is on the page
    auto_kept = sorted(c["smin"] for c in shown if c["band"] == "auto")
    all_auto = sorted(
        c["score_min"]
        for c in review.build_proposals(big_result(60)).clusters
        if c["band"] == "auto"
    )
    assert auto_kept == all_auto[:10]  # the auto band's lowest scores
    intro = _intro(tmp_path / "merge_review.html")
    assert "holds 40 of the 60 proposed merges" in intro and "merge_proposals.parquet" in intro
    # the files a person edits hold the page's clusters; the Parquet holds every one
    on_page = {c["id"] for c in shown}
    proposals = pd.read_csv(tmp_path / "merge_proposals.csv", dtype=str, encoding="utf-8-sig")
    assert set(proposals["cluster_id"]) == on_page
    wb = openpyxl.load_workbook(tmp_path / "merge_proposals.xlsx", read_only=True)
    sheet = list(wb["proposals"].iter_rows(values_only=True))
    how = " ".join(str(r[0]) for r in wb["how to"].iter_rows(values_only=True) if r and r[0])
    wb.close()
    assert {r[0] for r in sheet[1:]} == on_page
    assert "The other 20 (auto band) are in merge_proposals.parquet" in how
    everything = pd.read_parquet(tmp_path / "merge_proposals.parquet")
    assert everything["cluster_id"].nunique() == 60
    # the page's clusters have the same rows in the Parquet as in the CSV
    same = everything[everything["cluster_id"].isin(on_page)].reset_index(drop=True)
    pd.testing.assert_frame_equal(same.fillna(""), proposals.fillna(""), check_dtype=False)


def test_decisions_made_in_the_parquet_are_read_for_clusters_not_on_the_page(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(review, "PAGE_CLUSTERS", 40)
    write_review(big_result(60), tmp_path, redact=False)
    table = pd.read_parquet(tmp_path / "merge_proposals.parquet")
    on_page = set(pd.read_csv(tmp_path / "merge_proposals.csv", dtype=str)["cluster_id"])
    off = sorted(set(table["cluster_id"]) - on_page)
    assert len(off) == 20
    # a program approves the auto band's rest and rejects one; a split names a record row
    table.loc[table["cluster_id"].isin(off[1:]) & table["role"].eq("golden"), "decision"] = (
        "approve"
    )
    table.loc[table["cluster_id"].eq(off[0]) & table["role"].eq("golden"), "decision"] = "reject"
    decided = tmp_path / "decided.parquet"
    table.to_parquet(decided, index=False)
    got = read_decisions(decided)
    assert sorted(got) == off
    assert got[off[0]].decision == "reject"
    assert {got[c].decision for c in off[1:]} == {"approve"}
    assert (
        got[off[1]].where
        == f"{decided} row {int(table.index[table['cluster_id'].eq(off[1])][0]) + 1}"
    )


def test_a_parquet_without_a_decision_column_or_with_an_empty_cluster_id_is_refused(
    tmp_path: Path,
) -> None:
    bad = tmp_path / "bad.parquet"
    pd.DataFrame({"cluster_id": ["c1"], "note": ["x"]}).to_parquet(bad)
    with pytest.raises(ConfigError, match="has no decision column"):
        read_decisions(bad)
    pd.DataFrame({"cluster_id": ["c1", " "], "decision": ["approve", ""]}).to_parquet(bad)
    with pytest.raises(ConfigError, match=r"bad.parquet row 2: cluster_id is empty"):
        read_decisions(bad)
    bad.write_bytes(b"PAR1 not really")
    with pytest.raises(InputError, match="could not be read as a Parquet table"):
        read_decisions(bad)


def test_a_page_under_the_cap_is_whole_and_says_nothing_more(tmp_path: Path) -> None:
    write_review(big_result(30), tmp_path, redact=False)
    assert len(_page_data(tmp_path / "merge_review.html")["clusters"]) == 30
    assert "merge_proposals.parquet" not in _intro(tmp_path / "merge_review.html")
    # under the cap the files a person edits hold every cluster
    proposals = pd.read_csv(tmp_path / "merge_proposals.csv", dtype=str, encoding="utf-8-sig")
    assert proposals["cluster_id"].nunique() == 30
