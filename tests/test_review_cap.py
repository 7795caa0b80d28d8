"""The review page past what a browser holds: it keeps what a person must see and says where the
rest are (at 1M contacts a page of every cluster was 728 MB); the proposals tables keep all."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pandas as pd
import pytest

from audit.merge import review, write_review
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
    proposals = pd.read_csv(tmp_path / "merge_proposals.csv", dtype=str)
    assert proposals["cluster_id"].nunique() == 60  # the tables keep every cluster
    all_auto = sorted(
        c["score_min"]
        for c in review.build_proposals(big_result(60)).clusters
        if c["band"] == "auto"
    )
    assert auto_kept == all_auto[:10]  # the auto band's lowest scores
    intro = _intro(tmp_path / "merge_review.html")
    assert "holds 40 of the 60 proposed merges" in intro and "merge_proposals.csv" in intro


def test_a_page_under_the_cap_is_whole_and_says_nothing_more(tmp_path: Path) -> None:
    write_review(big_result(30), tmp_path, redact=False)
    assert len(_page_data(tmp_path / "merge_review.html")["clusters"]) == 30
    assert "merge_proposals.csv" not in _intro(tmp_path / "merge_review.html")
