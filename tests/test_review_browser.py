"""Drive the real merge_review.html in Debian's headless chromium: decide, download, apply."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

from audit.merge import apply_merge, undo_merge
from tests.test_merge import RUN_ID, demo_result, write_run_folder

CHROMIUM = Path("/usr/bin/chromium")

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not CHROMIUM.exists(), reason="/usr/bin/chromium is not installed"),
]


@pytest.fixture
def page():
    sync_api = pytest.importorskip("playwright.sync_api")
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=str(CHROMIUM),
            args=[
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--disable-background-networking",
                "--disable-component-update",
                "--no-first-run",
            ],
        )
        try:
            context = browser.new_context(accept_downloads=True)
            pg = context.new_page()
            requests: list[str] = []
            pg.on("request", lambda r: requests.append(r.url))
            pg.requests = requests  # type: ignore[attr-defined]
            yield pg
        finally:
            browser.close()


def _section(pg, cid: str):
    return pg.locator(f'section.cluster[data-cluster-id="{cid}"]')


def test_review_flow_in_headless_chromium(page, tmp_path: Path) -> None:
    run_dir = write_run_folder(demo_result(tmp_path), tmp_path / "reports" / RUN_ID)
    original = (run_dir / "records" / "contacts.csv").read_bytes()
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto((run_dir / "merge_review.html").as_uri())
    assert page.locator("section.cluster").count() == 3
    # escaped, not executed; differing fields are highlighted
    assert page.locator("text=<script>alert(1)</script>").count() == 0
    assert _section(page, "c1").locator("tr.diff").count() >= 2

    _section(page, "c1").locator('input.decision[value="approve"]').check()
    _section(page, "c2").locator('input.decision[value="reject"]').check()
    # split c3? no: leave it undecided; split needs a record ticked before it counts
    _section(page, "c3").locator('input.decision[value="split"]').check()
    assert page.locator("#counts").inner_text().startswith("2 of 3 decided")
    assert "decided-approve" in (_section(page, "c1").get_attribute("class") or "")

    with page.expect_download() as dl:
        page.click("#download-json")
    decisions = tmp_path / "merge_decisions.json"
    dl.value.save_as(decisions)
    with page.expect_download() as dl_csv:
        page.click("#download-csv")
    decisions_csv = tmp_path / "merge_decisions.csv"
    dl_csv.value.save_as(decisions_csv)
    assert errors == []
    assert all(u.startswith(("file:", "blob:", "data:")) for u in page.requests)

    doc = json.loads(decisions.read_text())
    assert doc["run_id"] == RUN_ID
    assert doc["decisions"] == [
        {"cluster_id": "c1", "decision": "approve", "split_off": []},
        {"cluster_id": "c2", "decision": "reject", "split_off": []},
    ]
    assert decisions_csv.read_text() == "cluster_id,decision,split_off\nc1,approve,\nc2,reject,\n"

    res = apply_merge(run_dir, decisions)
    assert res.merged == ["c1"] and sorted(res.skipped) == ["c2", "c3"]
    merged = pd.read_csv(res.contacts, dtype=str, keep_default_na=False).set_index("record_id")
    assert len(merged) == 6
    golden = merged.loc["t:1"]
    assert golden["merged_record_ids"] == "t:1; t:2; t:3"
    assert golden["email"] == "minjun.kim@example.kr"
    assert golden["alternate_emails"] == "mj@personal.kr"
    assert golden["phone"] == "+82 10-1234-5678"
    assert golden["created_at"] == "2020-03-01 00:00:00+00:00"
    assert {"t:4", "t:5", "t:6", "t:7"} <= set(merged.index)  # rejected / undecided untouched

    assert undo_merge(res.log).identical
    assert res.contacts.read_bytes() == original


def test_split_in_the_browser(page, tmp_path: Path) -> None:
    run_dir = write_run_folder(demo_result(tmp_path), tmp_path / "run")
    page.goto((run_dir / "merge_review.html").as_uri())
    c1 = _section(page, "c1")
    assert c1.locator('input.split-off[value="t:3"]').is_disabled()
    c1.locator('input.decision[value="split"]').check()
    c1.locator('input.split-off[value="t:3"]').check()
    with page.expect_download() as dl:
        page.click("#download-json")
    path = tmp_path / "d.json"
    dl.value.save_as(path)
    assert json.loads(path.read_text())["decisions"] == [
        {"cluster_id": "c1", "decision": "split", "split_off": ["t:3"]}
    ]
    res = apply_merge(run_dir, path)
    merged = pd.read_csv(res.contacts, dtype=str, keep_default_na=False).set_index("record_id")
    assert merged.loc["t:1", "merged_record_ids"] == "t:1; t:2"
    assert "t:3" in merged.index
