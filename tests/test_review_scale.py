"""merge_review.html at 10,000 clusters in Debian's headless chromium: load, search, filter, keys.

The clusters are built here as the match stage hands them over (contacts, pairs with the
matcher's `why` text and a guard column, clusters), so only the review page is exercised; the
numbers printed are the ones the report quotes (run with -s to see them).
"""

from __future__ import annotations

import json
import re
import time
from pathlib import Path

import pandas as pd
import pytest

from audit import schema
from audit.merge import apply_merge, undo_merge, write_review
from tests.factories import make_contacts, make_run_result
from tests.test_merge import RUN_ID, demo_result, write_run_folder
from tests.test_review_browser import CHROMIUM, page  # noqa: F401  (the fixture)

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not CHROMIUM.exists(), reason="/usr/bin/chromium is not installed"),
]

N = 10_000
GIVEN = ["Jon", "Anna", "Minjun", "Hanako", "Wei", "Lucia", "Omar", "Priya", "Sven", "Ines"]
FAMILY = ["Smith", "Kim", "Sato", "Li", "Garcia", "Haddad", "Rao", "Berg", "Costa", "Novak"]


def big_result(n: int = N, *, language: str = "en"):
    """`n` clusters of 2 to 4 records; every 7th has a guard, every 10th a phone in two formats."""
    rows, pairs, clusters = [], [], []
    for k in range(n):
        size = 2 + k % 3
        given, family = GIVEN[k % 10], FAMILY[(k // 10) % 10]
        ids = [f"crm:{k}-{m}" for m in range(size)]
        for m, rid in enumerate(ids):
            two_formats = k % 10 == 0
            rows.append(
                {
                    "record_id": rid,
                    "source": ("crm", "shop", "inbox")[m % 3],
                    "full_name": f"{given} {family} {k}" if m else f"{given}athan {family} {k}",
                    "email": f"{given}.{family}.{k}@example.com".lower(),
                    "email_key": f"{given}.{family}.{k}@example.com".lower(),
                    "phone": ("+86 135 6857 7348" if m % 2 else "+8613568577348")
                    if two_formats
                    else f"+1 415 555 {k % 10000:04d}",
                    "phone_e164": "+8613568577348" if two_formats else f"+1415555{k % 10000:04d}",
                    "company": f"Company {k // 3}",
                }
            )
            clusters.append({"cluster_id": f"c{k:05d}", "record_id": rid})
        for m in range(1, size):
            guard = k % 7 == 0
            pairs.append(
                {
                    "record_id_l": ids[0],
                    "record_id_r": ids[m],
                    "score": round(0.6 + (k % 40) / 100, 3),
                    "band": "auto" if k % 2 else "review",
                    "rule_id": "match.fuzzy",
                    "sim_given": 0.8,
                    "sim_email": 1.0,
                    "w_given": 3.1,
                    "w_email": 13.6,
                    "guard_personal_email": guard,
                    "why": "email exact (+13.6), given nickname (+3.1)"
                    + (", phone far (-2.0)" if guard else ""),
                }
            )
    frame = pd.DataFrame(rows)
    frame["source_file"] = frame["source"] + ".csv"
    frame["source_row"] = range(1, len(frame) + 1)
    contacts = schema.conform(frame, "contacts")
    cl = pd.DataFrame(clusters)
    p = pd.DataFrame(pairs)
    cl["band"] = cl["cluster_id"].map(
        {f"c{k:05d}": ("auto" if k % 2 else "review") for k in range(n)}
    )
    return make_run_result(
        {"contacts": contacts}, pairs=p, clusters=cl, output={"language": language}
    )


@pytest.fixture(scope="module")
def big_page(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("big")
    t = time.perf_counter()
    write_review(big_result(), out, redact=False)
    print(f"\n[review] write_review at {N} clusters: {time.perf_counter() - t:.1f} s")
    path = out / "merge_review.html"
    print(f"[review] merge_review.html: {path.stat().st_size / 1e6:.1f} MB")
    return path


def _open(pg, path: Path) -> float:
    t = time.perf_counter()
    pg.goto(path.as_uri())
    pg.wait_for_selector("body[data-ready]")
    return time.perf_counter() - t


def _timed(pg, action, expect: str) -> float:
    """Seconds from `action` until the filter count reads `expect`."""
    pg.evaluate("document.getElementById('shown-count').textContent = ''")
    t = time.perf_counter()
    action()
    pg.wait_for_function(
        "e => document.getElementById('shown-count').textContent.startsWith(e)", arg=expect
    )
    return time.perf_counter() - t


def _type(pg, selector: str, text: str) -> None:
    pg.fill(selector, text)
    pg.press(selector, "Tab")  # a number field reports its change on leaving it


def _active(pg) -> str:
    return pg.evaluate("document.activeElement.getAttribute('data-cluster-id')")


def _shown(pg) -> int:
    return int(pg.locator("#shown-count").inner_text().split()[0])


def test_ten_thousand_clusters_load_fast_and_small(page, big_page: Path) -> None:  # noqa: F811
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    load = _open(page, big_page)
    nodes = page.evaluate("document.getElementsByTagName('*').length")
    print(f"[review] load {load:.2f} s, DOM {nodes} elements")
    assert load < 4.0
    assert nodes < 20_000
    assert page.locator("section.cluster").count() == 50
    assert page.locator("#shown-count").inner_text() == f"{N} of {N} clusters shown"
    assert page.locator(".pager").first.inner_text().count("page 1 of 200") == 1
    # no cut-off: the last page holds the last clusters
    for _ in range(3):
        page.locator(".next-page").first.click()
    assert "page 4 of 200" in page.locator(".pager").first.inner_text()
    assert errors == []
    assert all(u.startswith(("file:", "blob:", "data:")) for u in page.requests)


def test_reason_first_weights_on_demand_and_normalized_conflicts(page, big_page: Path) -> None:  # noqa: F811
    _open(page, big_page)
    first = page.locator("section.cluster").first
    assert first.locator("p.reason").inner_text() == (
        "same email; given nickname: Jonathan Smith 0 / Jon Smith 0; differs: phone (different)"
    )
    why = first.locator("details.why")
    assert why.get_attribute("open") is None and why.locator("table").count() == 0
    why.locator("summary").click()
    assert why.locator("table.pairs th").nth(3).inner_text() == "why"  # explanation before weights
    # c00000's phones are one number written two ways: not a conflict; the names differ
    assert first.get_attribute("data-cluster-id") == "c00000"
    diff = first.locator("tr.diff th").all_inner_texts()
    assert "full_name" in diff and "phone" not in diff


def test_search_filter_sort_respond_fast(page, big_page: Path) -> None:  # noqa: F811
    _open(page, big_page)
    times = {
        "search name": _timed(page, lambda: page.fill("#search", "hanako sato 9923"), "1 of"),
        "search email": _timed(
            page, lambda: page.fill("#search", "lucia.berg.1775@example.com"), "1 of"
        ),
        "search record id": _timed(page, lambda: page.fill("#search", "crm:9999-1"), "1 of"),
        # terms are ANDed anywhere: Company 1234 (3 clusters) and cluster 1234 (its phone, email)
        "search company": _timed(page, lambda: page.fill("#search", "company 1234"), "4 of"),
        "clear search": _timed(page, lambda: page.fill("#search", ""), f"{N} of"),
        "band": _timed(page, lambda: page.select_option("#f-band", "auto"), "5000 of"),
        "guard": _timed(page, lambda: page.select_option("#f-guard", "personal_email"), "714 of"),
        "score range": _timed(page, lambda: _type(page, "#f-smin", "0.99"), "36 of"),
        "sort size": _timed(page, lambda: page.select_option("#f-sort", "size"), "36 of"),
    }
    for k, v in times.items():
        print(f"[review] {k}: {v * 1000:.0f} ms")
    assert max(times.values()) < 2.0
    # 36 = odd multiples of 7 below 10,000 whose score is 0.99 (k % 40 == 39)
    sizes = [
        s.locator("table.side thead th").count() - 2 for s in page.locator("section.cluster").all()
    ]
    assert sizes == sorted(sizes, reverse=True) and sizes[0] == 4
    assert page.locator("section.cluster .guard").first.inner_text() == "personal_email"
    assert set(
        page.locator("section.cluster").evaluate_all(
            "xs => xs.map(x => x.getAttribute('data-band'))"
        )
    ) == {"auto"}


def test_keyboard_review_with_visible_focus_and_undo(page, big_page: Path) -> None:  # noqa: F811
    _open(page, big_page)
    ids = page.locator("section.cluster").evaluate_all(
        "xs => xs.map(x => x.getAttribute('data-cluster-id'))"
    )
    assert ids[:3] == ["c00000", "c00002", "c00004"]  # review band first
    page.keyboard.press("j")
    assert _active(page) == ids[1]
    assert page.evaluate("getComputedStyle(document.activeElement).outlineStyle") == "solid"
    page.keyboard.press("a")  # approves ids[1] and moves on
    page.keyboard.press("r")  # rejects ids[2]
    page.keyboard.press("k")
    page.keyboard.press("k")
    assert _active(page) == ids[1]
    page.keyboard.press("s")
    page.keyboard.press("2")  # split off the second record of ids[1]
    counts = page.locator("#counts")
    assert counts.inner_text().startswith("2 of 10000 decided (0 approved, 1 rejected, 1 split)")
    sec = page.locator(f'section.cluster[data-cluster-id="{ids[1]}"]')
    assert sec.locator("input.split-off").nth(1).is_checked()
    assert "decided-split" in (sec.get_attribute("class") or "")
    page.keyboard.press("u")  # undo the tick: a split with no record does not count
    assert counts.inner_text().startswith("1 of 10000 decided")
    for _ in range(49):  # paging by keys: the 51st cluster is on page 2
        page.keyboard.press("j")
    assert page.evaluate("document.activeElement.getAttribute('data-pos')") == "50"
    assert "page 2 of 200" in page.locator(".pager").first.inner_text()
    page.evaluate("localStorage.clear()")


def test_bulk_on_filtered_set_states_the_count_and_survives_reload(page, big_page: Path) -> None:  # noqa: F811
    _open(page, big_page)
    page.select_option("#f-guard", "personal_email")
    asked: list[str] = []

    def answer(d) -> None:
        asked.append(d.message)
        d.dismiss() if len(asked) == 1 else d.accept()

    page.on("dialog", answer)
    page.click("#bulk-reject")  # dismissed: nothing changes
    assert page.locator("#counts").inner_text().startswith("0 of")
    t = time.perf_counter()
    page.click("#bulk-reject")
    page.wait_for_function("document.getElementById('counts').textContent.startsWith('1429 of')")
    print(f"[review] bulk reject 1429: {(time.perf_counter() - t) * 1000:.0f} ms")
    assert asked == ["Reject 1429 clusters?", "Reject 1429 clusters?"]
    page.reload()
    page.wait_for_selector("body[data-ready]")
    assert (
        page.locator("#counts")
        .inner_text()
        .startswith("1429 of 10000 decided (0 approved, 1429 rejected")
    )
    page.select_option("#f-state", "undecided")
    assert _shown(page) == N - 1429
    page.evaluate("localStorage.clear()")


def test_keyboard_round_trip_download_apply_undo(page, tmp_path: Path) -> None:  # noqa: F811
    run_dir = write_run_folder(demo_result(tmp_path), tmp_path / "reports" / RUN_ID)
    original = (run_dir / "records" / "contacts.csv").read_bytes()
    _open(page, run_dir / "merge_review.html")
    page.keyboard.press("a")  # c1 approve (focus starts on the first cluster)
    page.keyboard.press("r")  # c2 reject
    page.keyboard.press("s")  # c3 split ...
    page.keyboard.press("2")  # ... off its second record
    second = page.locator('section.cluster[data-cluster-id="c3"] input.split-off').nth(1)
    off = second.get_attribute("value")
    assert second.is_checked() and off in ("t:6", "t:7")
    with page.expect_download() as dl:
        page.click("#download-csv")
    path = tmp_path / "merge_decisions.csv"
    dl.value.save_as(path)
    assert path.read_text() == (
        f"cluster_id,decision,split_off\nc1,approve,\nc2,reject,\nc3,split,{off}\n"
    )
    page.keyboard.press("u")  # the reviewer changes their mind about c3
    with page.expect_download() as dl:
        page.click("#download-json")
    jpath = tmp_path / "merge_decisions.json"
    dl.value.save_as(jpath)
    assert [d["cluster_id"] for d in json.loads(jpath.read_text())["decisions"]] == ["c1", "c2"]

    res = apply_merge(run_dir, path)
    assert res.merged == ["c1"]  # c3 split down to one record merges nothing
    merged = pd.read_csv(res.contacts, dtype=str, keep_default_na=False).set_index("record_id")
    assert merged.loc["t:1", "merged_record_ids"] == "t:1; t:2; t:3"
    assert {"t:4", "t:5", "t:6", "t:7"} <= set(merged.index)
    assert undo_merge(res.log).identical
    assert res.contacts.read_bytes() == original


def test_hostile_values_stay_text(page, tmp_path: Path) -> None:  # noqa: F811
    evil = "</script><script>alert(1)</script><!--<script>"
    contacts = make_contacts(full_name=[evil, "x" + evil], email=["a@x.io", "a@x.io"])
    contacts["record_id"] = ["t:1", "t:2"]
    result = make_run_result(
        {"contacts": contacts},
        pairs=pd.DataFrame(
            {"record_id_l": ["t:1"], "record_id_r": ["t:2"], "score": [0.9], "why": [evil]}
        ),
        clusters=pd.DataFrame({"cluster_id": ["c<1>"] * 2, "record_id": ["t:1", "t:2"]}),
    )
    write_review(result, tmp_path, redact=False)
    dialogs: list[str] = []
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    _open(page, tmp_path / "merge_review.html")
    sec = page.locator("section.cluster")
    assert sec.get_attribute("data-cluster-id") == "c<1>"
    assert evil in sec.locator("table.side").inner_text()
    page.fill("#search", "alert(1)")
    page.wait_for_function("document.getElementById('shown-count').textContent.startsWith('1 of')")
    assert dialogs == [] and errors == []


def test_korean_page_down_to_the_confirmation(page, tmp_path: Path) -> None:  # noqa: F811
    from audit.labels import labels

    write_review(demo_result(tmp_path), tmp_path, redact=False, language="ko")
    _open(page, tmp_path / "merge_review.html")
    asked: list[str] = []
    page.on("dialog", lambda d: (asked.append(d.message), d.dismiss()))
    page.click("#bulk-approve")
    assert asked == ["클러스터 3개를 승인할까요?"]
    assert page.locator("#shown-count").inner_text() == "클러스터 3개 중 3개 표시"
    shown = page.locator("body").inner_text()
    en = labels("en")
    # no English label is left on the page (data values and column names stay as they are)
    left = [
        en[k]
        for k in en
        if k.startswith(("rv_", "lvl_"))
        and k not in ("rv_similar", "rv_and")
        and re.search(rf"(?<![A-Za-z]){re.escape(en[k])}(?![A-Za-z])", shown)
    ]
    assert left == []
    assert "병합 승인" in shown and "일치 근거" in shown
