"""merge_proposals.parquet is written a part of the clusters at a time (one row group each), so
the table of every cluster is never held whole: the files must be those of the whole table."""

from __future__ import annotations

import filecmp
import json
import zipfile
from dataclasses import replace
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow.parquet as pq
import pytest

from audit.merge import review, write_review
from audit.report.xlsx_writer import freeze_xlsx
from tests.test_review_scale import big_result


def _hostile(n: int):
    """`n` clusters; a formula and an address in the last clusters (the last part's rows)."""
    result = big_result(n)
    contacts = result.records["contacts"]
    last = contacts.index[-3:]
    contacts.loc[last, "company"] = '=HYPERLINK("http://evil.example","click")'
    contacts.loc[last, "full_name"] = "@SUM(1+1) mira.kim@example.org"
    return result


@pytest.mark.parametrize("redact", [False, True])
def test_parts_write_the_files_of_the_whole_table(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, redact: bool
) -> None:
    monkeypatch.setattr(review, "PAGE_CLUSTERS", 40)
    whole, parts = tmp_path / "whole", tmp_path / "parts"
    monkeypatch.setattr(review, "BATCH_CLUSTERS", 10**9)
    write_review(_hostile(60), whole, redact=redact)
    monkeypatch.setattr(review, "BATCH_CLUSTERS", 7)
    write_review(_hostile(60), parts, redact=redact)

    # the page, the workbook and the CSV (the page's clusters) are the same bytes
    for name in ("merge_review.html", "merge_proposals.xlsx", "merge_proposals.csv"):
        assert filecmp.cmp(whole / name, parts / name, shallow=False), name
    a = pq.ParquetFile(whole / "merge_proposals.parquet")
    b = pq.ParquetFile(parts / "merge_proposals.parquet")
    assert a.metadata.num_row_groups == 1
    assert b.metadata.num_row_groups == 9  # 60 clusters, 7 a part
    assert b.schema_arrow.equals(a.schema_arrow, check_metadata=True)  # pandas metadata too
    everything = b.read()
    assert everything.equals(a.read())
    assert len(set(everything["cluster_id"].to_pylist())) == 60
    # the last part is neutralized (and redacted) like the first
    companies = set(everything["company"].to_pylist())
    assert '\'=HYPERLINK("http://evil.example","click")' in companies
    assert not any(str(c).startswith("=") for c in companies)
    names = " ".join(str(v) for v in everything["full_name"].to_pylist())
    assert "'@SUM(1+1)" in names
    assert ("mira.kim@example.org" in names) is not redact


def test_a_review_with_no_clusters_writes_an_empty_parquet(tmp_path: Path) -> None:
    result = big_result(3)
    none = replace(result.matches, clusters=result.matches.clusters.iloc[0:0])
    result = replace(result, matches=none)
    write_review(result, tmp_path, redact=False)
    table = pq.read_table(tmp_path / "merge_proposals.parquet")
    assert table.num_rows == 0 and "cluster_id" in table.column_names


def test_the_workbook_carries_the_run_date_as_freezing_it_would(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    result = big_result(5)
    as_of = result.as_of.isoformat()
    write_review(result, tmp_path / "dated", redact=False)
    dated = tmp_path / "dated" / "merge_proposals.xlsx"
    with zipfile.ZipFile(dated) as z:
        assert {i.date_time[:3] for i in z.infolist()} == {result.as_of.timetuple()[:3]}
        assert f"{as_of}T00:00:00Z</dcterms:modified>" in z.read("docProps/core.xml").decode()
    # the clock-free workbook, frozen afterwards (as the report did), is the same bytes
    monkeypatch.setattr(review, "_stamp", lambda result: None)
    write_review(result, tmp_path / "fixed", redact=False)
    fixed = tmp_path / "fixed" / "merge_proposals.xlsx"
    assert fixed.read_bytes() != dated.read_bytes()
    freeze_xlsx(fixed, as_of)
    assert fixed.read_bytes() == dated.read_bytes()
    # and freezing the dated one finds nothing to rewrite
    before = dated.stat().st_mtime_ns
    freeze_xlsx(dated, as_of)
    assert dated.stat().st_mtime_ns == before


def test_inside_rows_are_the_pairs_within_one_cluster_in_display_order() -> None:
    """`inside_rows` (Arrow text and integer ranks) against the rule spelled out pair by pair:
    both records in one cluster, clusters in id text order ("c10" before "c9"), best score
    first, ties in table order, a missing score last."""
    from audit.merge.review import inside_rows

    clusters = pd.DataFrame(
        {
            "cluster_id": pd.array(["c9", "c9", "c10", "c10", "c10", "c2", "c2"], dtype="str"),
            "record_id": pd.array(["a", "b", "x", "y", "z", "p", "q"], dtype="str"),
        }
    )
    pairs = pd.DataFrame(
        {
            "record_id_l": ["a", "x", "x", "a", "y", "p", "nobody", "x"],
            "record_id_r": ["b", "y", "z", "x", "z", "q", "q", "y"],
            "score": [0.5, 0.7, 0.9, 0.99, 0.7, np.nan, 0.8, 0.95],
        }
    )
    pos, cids = inside_rows(pairs, clusters)
    cluster_of = {}
    for c, r in zip(clusters["cluster_id"], clusters["record_id"], strict=True):
        cluster_of.setdefault(r, c)
    rows = [
        k
        for k, (lft, rgt) in enumerate(zip(pairs["record_id_l"], pairs["record_id_r"], strict=True))
        if lft in cluster_of and cluster_of[lft] == cluster_of.get(rgt)
    ]
    score = pairs["score"].tolist()
    want = sorted(
        rows,
        key=lambda k: (
            cluster_of[pairs["record_id_l"][k]],
            np.isnan(score[k]),
            -np.nan_to_num(score[k]),
            k,
        ),
    )
    assert pos.tolist() == want == [7, 2, 1, 4, 5, 0]
    assert cids.tolist() == ["c10", "c10", "c10", "c10", "c2", "c9"]


def test_members_are_each_clusters_survivor_then_its_records_by_id() -> None:
    """`_members` (Arrow text and integer positions) against the rule spelled out cluster by
    cluster: the survivor, then the cluster's other records found in the contacts, by id, each
    once; a record's row is the last contacts row of its id; clusters in rank order."""
    contacts = pd.Series(["r5", "r1", "r9", "r10", "r1", "r2", "r7"], dtype="str")  # r1 twice
    clusters = pd.DataFrame(
        {
            "cluster_id": ["B", "B", "B", "B", "A", "A", "A", "Z", "Z"],
            "record_id": ["r9", "r10", "r1", "r10", "r2", "ghost", "r5", "r7", "r2"],
        }
    )
    cids, survivors = ["A", "B"], ["r5", "r9"]  # Z has no golden row: not proposed
    g_rank = np.array([1, 0])  # B is shown first
    rows, ids, cl_ids, role, rank = review._members(contacts, clusters, cids, survivors, g_rank)
    last_row = {r: k for k, r in enumerate(contacts)}
    want = []
    for k in np.argsort(g_rank):
        c, surv = cids[k], survivors[k]
        mine = set(clusters.loc[clusters["cluster_id"] == c, "record_id"]) & set(contacts)
        for role_, rid in [(0, surv)] + [(1, r) for r in sorted(mine - {surv})]:
            want.append((last_row.get(rid, -1), rid, c, role_, g_rank[k]))
    cols = (rows, ids, cl_ids, role, rank)
    got = list(zip(*(c.tolist() for c in cols), strict=True))
    assert got == want
    assert [g[1] for g in got] == ["r9", "r1", "r10", "r5", "r2"]  # "r10" < "r9" as text
    assert got[1][0] == 4  # r1's last row


@pytest.mark.parametrize("redact", [False, True])
def test_the_page_written_in_batches_is_the_page_of_all_at_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, redact: bool
) -> None:
    """The page's clusters are built and written PAGE_BATCH at a time: the same bytes as one
    batch of them all (hostile values escaped in the last batch like in the first)."""
    monkeypatch.setattr(review, "PAGE_CLUSTERS", 60)  # the hostile clusters on it
    whole, batched = tmp_path / "whole", tmp_path / "batched"
    monkeypatch.setattr(review, "PAGE_BATCH", 10**9)
    write_review(_hostile(60), whole, redact=redact)
    monkeypatch.setattr(review, "PAGE_BATCH", 3)
    write_review(_hostile(60), batched, redact=redact)
    page = (batched / "merge_review.html").read_text(encoding="utf-8")
    assert filecmp.cmp(whole / "merge_review.html", batched / "merge_review.html", shallow=False)
    data = page.split('id="review-data">', 1)[1].split("</script>", 1)[0]
    assert "<" not in data  # every value escaped inside the script element
    assert len(json.loads(data)["clusters"]) == 60


def test_the_redacted_page_masks_an_address_quoted_in_a_reason(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A reason quotes the two names that were merely similar ('given nickname: A / B'); a
    name holding an address must be masked there too, as in the records and the tables."""
    monkeypatch.setattr(review, "PAGE_CLUSTERS", 60)
    write_review(_hostile(60), tmp_path / "plain", redact=False)
    write_review(_hostile(60), tmp_path / "masked", redact=True)
    plain = (tmp_path / "plain" / "merge_review.html").read_text(encoding="utf-8")
    masked = (tmp_path / "masked" / "merge_review.html").read_text(encoding="utf-8")
    assert '"reason":"same email; given nickname: ' in plain
    assert "/ @SUM(1+1) mira.kim@example.org" in plain  # quoted in the reason
    assert "mira.kim@example.org" not in masked
    assert "/ @SUM(1+1) m***@example.org" in masked
