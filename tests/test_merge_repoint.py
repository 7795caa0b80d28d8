"""Merge apply re-points deals and tickets from merged-away contacts to the golden row."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import pandas as pd
import pytest

from audit.config import load_config, parse_config
from audit.merge import apply_merge, undo_merge
from tests.factories import make_frame
from tests.test_merge import RUN_ID, demo_result, write_decisions, write_run_folder


def frame_with_ids(entity: str, source: str, **columns: list[str]) -> pd.DataFrame:
    """Record ids as the sources stage makes them from external ids, so a re-run keeps them."""
    f = make_frame(entity, source=source, **columns)
    f["record_id"] = [f"{source}:{x}" for x in columns["external_id"]]
    return f


@pytest.fixture
def run_dir(tmp_path: Path) -> Path:
    """The merge demo run (c1 = t:1, t:2, t:3) plus deals and tickets naming its contacts."""
    result = demo_result(tmp_path)
    contacts = result.records["contacts"].copy()
    contacts["external_id"] = [f"k{i}" for i in range(1, 9)]
    deals = frame_with_ids(
        "deals",
        "crm",
        external_id=["D1", "D2", "D3"],
        name=["by a merged-away id", "untouched", "two merged ids"],
        contact_id=["k3", "k8", "k2;k3"],
    )
    tickets = frame_with_ids(
        "tickets",
        "desk",
        external_id=["T1", "T2"],
        subject=["by a merged-away email", "untouched"],
        requester_email=["MJ@Personal.kr", "x@example.com"],  # t:3's email, in other case
    )
    cfg = parse_config(
        {
            "sources": [
                {"name": "t", "path": "t.csv", "phone_region": "KR"},
                {"name": "crm", "path": "deals.csv", "entity": "deals", "timezone": "Asia/Seoul"},
                {"name": "desk", "path": "tickets.csv", "entity": "tickets", "priority": 3},
            ],
            "as_of": "2026-01-31",
            "match": {"apply_auto": False},
            "rules": {"gx": False},
            "history": {"enabled": False},
        },
        base_dir=tmp_path,
    )
    records = {"contacts": contacts, "deals": deals, "tickets": tickets}
    result = dataclasses.replace(
        result,
        config=cfg,
        records=records,
        ingest=dataclasses.replace(result.ingest, records=records),
    )
    return write_run_folder(result, tmp_path / "reports" / RUN_ID)


def read(path: Path) -> pd.DataFrame:
    return pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8-sig")


def snapshot(run_dir: Path) -> dict[str, bytes]:
    return {
        str(p.relative_to(run_dir)): p.read_bytes()
        for p in sorted(run_dir.rglob("*"))
        if p.is_file() and "merged" not in p.parts
    }


def test_deals_and_tickets_follow_the_survivor(run_dir: Path, tmp_path: Path) -> None:
    before = snapshot(run_dir)
    original = (run_dir / "records" / "contacts.csv").read_bytes()
    res = apply_merge(run_dir, write_decisions(tmp_path / "d.csv", [("c1", "approve", "")]))
    golden = read(res.contacts).set_index("record_id").loc["t:1"]
    gid, gmail = golden["external_id"], golden["email"]
    assert (gid, gmail) == ("k1", "minjun.kim@example.kr")

    deals = read(res.out_dir / "deals" / "crm.csv").set_index("record_id")
    assert deals["contact_id"].to_dict() == {"crm:D1": gid, "crm:D2": "k8", "crm:D3": gid}
    tickets = read(res.out_dir / "tickets" / "desk.csv").set_index("record_id")
    assert tickets["requester_email"].to_dict() == {"desk:T1": gmail, "desk:T2": "x@example.com"}
    assert res.repointed == {"deals": {"contact_id": 3}, "tickets": {"requester_email": 1}}
    assert json.loads(res.log.read_text())["repointed"] == res.repointed
    assert snapshot(run_dir) == before  # the run folder and its records are untouched

    cfg = load_config(res.config)
    by_name = {s.name: s for s in cfg.sources}
    crm, desk = by_name["crm"], by_name["desk"]
    assert (crm.entity, crm.profile, crm.timezone) == ("deals", "none", "Asia/Seoul")
    assert (desk.entity, desk.profile, desk.priority) == ("tickets", "none", 3)
    assert cfg.resolve(crm.path) == res.out_dir / "deals" / "crm.csv"

    from audit.pipeline import analyse

    again = analyse(cfg, run_id="after-merge")
    assert sorted(again.records["deals"]["record_id"]) == ["crm:D1", "crm:D2", "crm:D3"]
    assert sorted(again.records["tickets"]["record_id"]) == ["desk:T1", "desk:T2"]
    integrity = again.issues[again.issues["entity"].isin(["deals", "tickets"])]
    integrity = integrity[integrity["dimension"] == "integrity"]
    assert integrity.empty, integrity[["record_id", "rule_id", "evidence"]].to_string()
    by_rule = again.scorecard.by_rule
    ran = set(by_rule.loc[by_rule["n_checked"] > 0, "rule_id"])  # the checks did run
    assert {"deals.contact_id.exists", "tickets.requester_email.exists"} <= ran

    # undo: contacts byte-identical, and the re-run tables name the original contacts again
    assert undo_merge(res.log).identical
    assert res.contacts.read_bytes() == original
    deals = read(res.out_dir / "deals" / "crm.csv").set_index("record_id")
    assert deals["contact_id"].to_dict() == {"crm:D1": "k3", "crm:D2": "k8", "crm:D3": "k2;k3"}
    tickets = read(res.out_dir / "tickets" / "desk.csv").set_index("record_id")
    assert tickets.loc["desk:T1", "requester_email"] == "MJ@Personal.kr"
    assert snapshot(run_dir) == before


def test_nothing_merged_nothing_repointed(run_dir: Path, tmp_path: Path) -> None:
    res = apply_merge(run_dir, write_decisions(tmp_path / "d.csv", [("c1", "reject", "")]))
    assert res.repointed == {}
    deals = read(res.out_dir / "deals" / "crm.csv")
    assert list(deals["contact_id"]) == ["k3", "k8", "k2;k3"]


def test_undo_without_the_run_folder_removes_the_repointed_tables(
    run_dir: Path, tmp_path: Path
) -> None:
    out = tmp_path / "out"
    res = apply_merge(
        run_dir, write_decisions(tmp_path / "d.csv", [("c1", "approve", "")]), out_dir=out
    )
    assert (out / "deals" / "crm.csv").is_file() and (out / "tickets" / "desk.csv").is_file()
    (out / "deals" / "mine.csv").write_text("kept\n", encoding="utf-8")  # not ours: stays
    (run_dir / "run.json").unlink()  # the run folder is gone: the tables would be stale
    assert undo_merge(res.log).identical
    assert not (out / "deals" / "crm.csv").exists() and not (out / "tickets" / "desk.csv").exists()
    assert not res.config.exists() and (out / "deals" / "mine.csv").is_file()


def test_a_value_that_begins_with_the_guard_quote_survives_the_merged_slices(
    run_dir: Path, tmp_path: Path
) -> None:
    """A deal named "'=SUM(A1)" (the quote is the name's own) is written "''=SUM(A1)" in the run
    folder; the merged slice must give the pipeline that very name back, quote included."""
    from audit.pipeline import analyse
    from audit.safe import neutralize

    deals_csv = run_dir / "records" / "deals.csv"
    text = deals_csv.read_text(encoding="utf-8-sig")
    assert "by a merged-away id" in text
    name = "'=SUM(A1)"
    deals_csv.write_text(
        text.replace("by a merged-away id", neutralize(name)), encoding="utf-8-sig"
    )
    _refresh_manifest(run_dir)
    res = apply_merge(run_dir, write_decisions(tmp_path / "d.csv", [("c1", "approve", "")]))
    again = analyse(load_config(res.config), run_id="after-merge")
    names = again.records["deals"].set_index("record_id")["name"].to_dict()
    assert names["crm:D1"] == name
    assert names["crm:D2"] == "untouched"


def _refresh_manifest(run_dir: Path) -> None:
    from audit.manifest import write_manifest

    write_manifest(run_dir, RUN_ID)
