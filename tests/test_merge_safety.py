"""Merge safety net: an auto-band cluster holding two people's own mailboxes is not merged unseen.

The match stage keeps such pairs out of the auto band; this guards run folders made by older
versions or custom match rules, where c1 (minjun.kim@example.kr and mj@personal.kr) is auto.
"""

from __future__ import annotations

import csv
import json
from pathlib import Path

from audit.merge import apply_merge
from tests.test_merge import RUN_ID, demo_result, write_decisions, write_run_folder


def _auto_run(tmp_path: Path) -> Path:
    result = demo_result(tmp_path, apply_auto=True)
    cl = result.matches.clusters
    cl.loc[cl.cluster_id == "c1", "band"] = "auto"
    return write_run_folder(result, tmp_path / "reports" / RUN_ID)


def test_auto_cluster_with_two_personal_emails_waits_for_a_person(tmp_path: Path) -> None:
    run_dir = _auto_run(tmp_path)
    res = apply_merge(run_dir, None)
    assert res.merged == ["c3"]  # one mailbox (hanako@) twice: merged unattended
    assert res.skipped["c1"].startswith("auto band, but its records carry 2 different personal")
    approved = write_decisions(tmp_path / "d.csv", [("c1", "approve", "")])
    res = apply_merge(run_dir, approved, out_dir=tmp_path / "merged2")
    assert res.merged == ["c1", "c3"]


def test_review_files_mark_clusters_that_hold_two_people(tmp_path: Path) -> None:
    run_dir = _auto_run(tmp_path)
    with (run_dir / "merge_proposals.csv").open(encoding="utf-8-sig", newline="") as fh:
        rows = list(csv.DictReader(fh))
    check = {r["cluster_id"]: r["check"] for r in rows if r["role"] == "golden"}
    assert check["c1"].startswith("2 different personal emails: two people?")
    assert check["c3"] == "" and check["c2"] == ""  # smiths@ is one mailbox for both
    # the page draws its clusters from its embedded data: c1 carries the two-people mark
    page = (run_dir / "merge_review.html").read_text(encoding="utf-8")
    data = json.loads(page.split('id="review-data">', 1)[1].split("</script>", 1)[0])
    people = {c["id"]: c.get("people", 0) for c in data["clusters"]}
    assert people == {"c1": 2, "c2": 0, "c3": 0}
    assert "different personal emails" in data["labels"]["rv_check_people"]
