"""Merge apply / undo: golden rows from reviewed decisions, and an exact undo from the log."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

from audit.cli import cli
from audit.config import dump_config, load_config, parse_config
from audit.errors import ConfigError
from audit.manifest import write_manifest
from audit.match.survivorship import propose_golden
from audit.merge import apply_merge, read_decisions, undo_merge, write_review
from audit.model import Ingest, Matches, RunResult, Scorecard, Verdict
from audit.sources import read_sources
from tests.factories import make_contacts

RUN_ID = "20260131T090000-abc123"


def _ts(*values: str | None) -> pd.Series:
    return pd.to_datetime(pd.Series(list(values), dtype="object"), utc=True)


def demo_contacts() -> pd.DataFrame:
    """Eight contacts: c1 = one person three times (KR), c2 = a household (review),
    c3 = the same person twice (auto band), plus two singletons; with hostile values."""
    c = make_contacts(
        full_name=[
            "Kim Minjun",
            "김민준",
            "Minjun Kim",
            "Anna Smith",
            "Ben Smith",
            "Sato Hanako",
            "佐藤 花子",
            "<script>alert(1)</script>",
        ],
        email=[
            "minjun.kim@example.kr",
            "MINJUN.KIM@example.kr",
            "mj@personal.kr",
            "smiths@example.com",
            "smiths@example.com",
            "hanako@example.jp",
            "hanako@example.jp",
            "x@example.com",
        ],
        phone=[
            "+82 10-1234-5678",
            "010-1234-5678",
            None,
            "+1 555 0100",
            "+1 555 0100",
            "+81 90-1234-5678",
            None,
            "=1+2",
        ],
        company=[
            "Acme Korea",
            "㈜에이크미",
            None,
            '=HYPERLINK("http://evil","x")',
            "@SUM(A1)",
            "トヨタ",
            "トヨタ自動車株式会社",
            "Smith & Co",
        ],
        job_title=[None, None, None, None, None, None, "=1+2", "-2+3+cmd|' /C calc'!A0"],
        created_at=_ts(
            "2021-01-05",
            "2020-03-01",
            "2023-06-01",
            "2022-01-01",
            "2022-02-01",
            "2019-01-01",
            "2024-01-01",
            None,
        ),
        updated_at=_ts(
            "2025-05-01",
            "2024-01-01",
            "2025-09-01",
            "2024-01-01",
            "2024-02-01",
            "2023-01-01",
            "2025-01-01",
            None,
        ),
    )
    c["email_key"] = c["email"].str.lower()
    c["extra"] = [json.dumps({"note": f"n{i}"}) for i in range(len(c))]
    return c


def demo_matches(contacts: pd.DataFrame) -> Matches:
    pairs = pd.DataFrame(
        {
            "record_id_l": ["t:1", "t:1", "t:2", "t:4", "t:6"],
            "record_id_r": ["t:2", "t:3", "t:3", "t:5", "t:7"],
            "score": [0.97, 0.81, 0.78, 0.71, 0.99],
            "band": ["auto", "review", "review", "review", "auto"],
            "rule_id": ["match.exact.phone", "match.fuzzy", "match.fuzzy", "match.fuzzy", "email"],
            "sim_email": [1.0, 0.4, 0.4, 1.0, 1.0],
            "sim_name": [0.92, 1.0, 0.9, 0.35, 0.95],
            "why": ["same phone", "name", "name", "same email <b>", "same email"],
        }
    )
    clusters = pd.DataFrame(
        {
            "cluster_id": ["c1", "c1", "c1", "c2", "c2", "c3", "c3"],
            "record_id": ["t:1", "t:2", "t:3", "t:4", "t:5", "t:6", "t:7"],
            "band": ["review", "review", "review", "review", "review", "auto", "auto"],
            "is_survivor": [False] * 7,
        }
    )
    golden = propose_golden(contacts, clusters, [])
    return Matches(pairs=pairs, clusters=clusters, golden=golden)


def demo_result(tmp: Path, *, apply_auto: bool = False, **match: str) -> RunResult:
    cfg = parse_config(
        {
            "sources": [{"name": "t", "path": "t.csv", "phone_region": "KR"}],
            "as_of": "2026-01-31",
            "match": {"apply_auto": apply_auto, **match},
            "rules": {"gx": False},
            "history": {"enabled": False},
        },
        base_dir=tmp,
    )
    contacts = demo_contacts()
    empty = pd.DataFrame()
    return RunResult(
        run_id=RUN_ID,
        as_of=cfg.as_of,
        config=cfg,
        ingest=Ingest(records={"contacts": contacts}, issues=empty, counts=empty),
        records={"contacts": contacts},
        issues=empty,
        matches=demo_matches(contacts),
        scorecard=Scorecard(1.0, empty, empty, empty, empty),
        verdict=Verdict(True, ()),
        kpis=None,
        timings={},
    )


def write_run_folder(result: RunResult, run_dir: Path, *, minimal: bool = False) -> Path:
    """The run folder as the report stage writes it (UTF-8 with BOM, CRLF, neutralized cells).

    `minimal` writes only the parts merging reads, with pandas' defaults (LF, no BOM), to show
    that apply/undo do not depend on one CSV dialect.
    """
    if not minimal:
        from audit.report import write_report

        write_report(result, run_dir, ["csv"], review=write_review)
        return run_dir
    (run_dir / "records").mkdir(parents=True, exist_ok=True)
    (run_dir / "run.json").write_text(
        json.dumps({"run_id": result.run_id, "config": dump_config(result.config)}, indent=2)
    )
    contacts = result.records["contacts"]
    contacts.to_csv(run_dir / "records" / "contacts.csv", index=False)
    contacts.to_parquet(run_dir / "records" / "contacts.parquet", index=False)
    result.matches.clusters.to_csv(run_dir / "clusters.csv", index=False)
    result.matches.pairs.to_csv(run_dir / "duplicates.csv", index=False)
    write_review(result, run_dir, redact=False)
    write_manifest(run_dir, result.run_id)  # a folder made by hand is complete once listed
    return run_dir


@pytest.fixture
def run_dir(tmp_path: Path) -> Path:
    return write_run_folder(demo_result(tmp_path), tmp_path / "reports" / RUN_ID)


def write_decisions(path: Path, rows: list[tuple[str, str, str]]) -> Path:
    lines = ["cluster_id,decision,split_off", *(",".join(r) for r in rows)]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def merged_frame(path: Path) -> pd.DataFrame:
    return pd.read_csv(path, dtype=str, keep_default_na=False).set_index("record_id")


def test_apply_merges_approved_clusters_into_golden_rows(run_dir: Path, tmp_path: Path) -> None:
    before = (run_dir / "records" / "contacts.csv").read_bytes()
    dec = write_decisions(tmp_path / "d.csv", [("c1", "approve", ""), ("c2", "reject", "")])
    res = apply_merge(run_dir, dec)
    assert (run_dir / "records" / "contacts.csv").read_bytes() == before  # input untouched
    assert (res.n_before, res.n_after) == (8, 6)
    assert res.merged == ["c1"]
    assert res.skipped == {"c2": "rejected", "c3": "auto band, but match.apply_auto is false"}
    out = merged_frame(res.contacts)
    assert list(out.index) == ["t:1", "t:4", "t:5", "t:6", "t:7", "t:8"]  # survivor keeps place
    g = out.loc["t:1"]
    # survivor t:1: most complete (t:3 lacks phone and company), then most recent activity
    assert g["merged_record_ids"] == "t:1; t:2; t:3"
    assert g["full_name"] == "Kim Minjun"  # longest (ties: the master)
    assert g["email"] == "minjun.kim@example.kr"  # master's email
    assert g["alternate_emails"] == "mj@personal.kr"  # case variant folded, other kept
    assert g["phone"] == "+82 10-1234-5678"  # most recent non-empty
    assert g["alternate_phones"] == "010-1234-5678"
    assert g["created_at"] == "2020-03-01 00:00:00+00:00"  # earliest create date survives
    assert g["updated_at"] == "2025-09-01 00:00:00+00:00"
    assert g["company"] == "Acme Korea"
    # untouched rows are copied as they were
    assert out.loc["t:4", "company"] == '\'=HYPERLINK("http://evil","x")'
    log = json.loads(res.log.read_text())
    (entry,) = log["clusters"]
    assert entry["survivor"] == "t:1" and entry["decision"] == "approve"
    assert entry["record_ids"] == ["t:1", "t:2", "t:3"]
    # the original rows undo puts back: exact text, by position in the records file
    originals = pd.read_parquet(res.out_dir / log["originals"]["file"])
    assert originals["position"].tolist() == [0, 1, 2]
    rid = 1 + log["input"]["columns"].index("record_id")  # columns by number, after position
    assert originals.iloc[:, rid].tolist() == ["t:1", "t:2", "t:3"]
    assert "originals" not in entry and "golden" not in entry  # not a copy of the records
    # compact, as golden.csv has it: values not taken from the survivor, each field's rule once
    assert entry["golden_from"]["created_at"] == "t:2"
    assert "full_name" not in entry["golden_from"]  # the survivor's own
    assert log["field_rules"]["created_at"] == "earliest"
    assert log["input"]["sha256"] and log["output"]["sha256"]


def test_undo_restores_byte_identical_records(run_dir: Path, tmp_path: Path) -> None:
    original = (run_dir / "records" / "contacts.csv").read_bytes()
    dec = write_decisions(
        tmp_path / "d.csv", [("c1", "split", "t:3"), ("c2", "approve", ""), ("c3", "approve", "")]
    )
    res = apply_merge(run_dir, dec)
    assert res.n_after == 5
    assert res.contacts.read_bytes() != original
    undone = undo_merge(res.log)
    assert undone.identical and not undone.already
    assert res.contacts.read_bytes() == original
    # the re-run config follows: its slice holds the pre-merge records again, formula cells
    # guarded like every file we write (issue #14), and the pipeline reads the real values back
    piece = merged_frame(res.out_dir / "contacts" / "t.csv")
    assert list(piece.index) == [f"t:{i}" for i in range(1, 9)]
    assert piece.loc["t:4", "company"] == '\'=HYPERLINK("http://evil","x")'
    assert piece.loc["t:1", "phone"] == "+82 10-1234-5678"  # a phone is not a formula
    cfg = load_config(res.config)
    ingest = read_sources(cfg.sources, base_dir=Path(cfg.base_dir))
    companies = set(ingest.records["contacts"]["company"].dropna())
    assert '=HYPERLINK("http://evil","x")' in companies and "@SUM(A1)" in companies
    assert not any(c.startswith("'") for c in companies)
    assert b"'=HYPERLINK" in original
    again = undo_merge(res.log)  # a second undo is a no-op, not a corruption
    assert again.already and res.contacts.read_bytes() == original


def test_undo_is_exact_for_a_plain_pandas_csv_too(tmp_path: Path) -> None:
    run_dir = write_run_folder(demo_result(tmp_path), tmp_path / "run", minimal=True)
    original = (run_dir / "records" / "contacts.csv").read_bytes()
    assert b"\r\n" not in original and not original.startswith(b"\xef\xbb\xbf")
    dec = write_decisions(tmp_path / "d.csv", [("c1", "approve", ""), ("c3", "approve", "")])
    res = apply_merge(run_dir, dec)
    assert res.n_after == 5
    assert undo_merge(res.log).identical
    assert res.contacts.read_bytes() == original


def test_split_keeps_the_split_off_record_separate(run_dir: Path, tmp_path: Path) -> None:
    dec = write_decisions(tmp_path / "d.csv", [("c1", "split", "t:3")])
    out = merged_frame(apply_merge(run_dir, dec).contacts)
    assert out.loc["t:1", "merged_record_ids"] == "t:1; t:2"
    assert "t:3" in out.index and out.loc["t:3", "merged_record_ids"] == ""
    assert "mj@personal.kr" not in out.loc["t:1", "alternate_emails"]


def test_auto_band_applies_only_when_config_says(tmp_path: Path) -> None:
    off = write_run_folder(demo_result(tmp_path), tmp_path / "off")
    on = write_run_folder(demo_result(tmp_path, apply_auto=True), tmp_path / "on")
    assert apply_merge(off, None).merged == []
    assert apply_merge(on, None).merged == ["c3"]
    # a decision overrides the band
    dec = write_decisions(tmp_path / "d.csv", [("c3", "reject", "")])
    assert apply_merge(on, dec).merged == []


@pytest.mark.parametrize(
    "rows, fragment",
    [
        ([("c1", "approve", ""), ("c9", "approve", "")], "d.csv row 3: unknown cluster 'c9'"),
        ([("c1", "split", "t:7")], "d.csv row 2: record 't:7' is not in cluster c1"),
        ([("c1", "maybe", "")], "d.csv row 2: decision 'maybe' is not one of"),
        ([("c1", "split", "")], "d.csv row 2: split needs the record ids"),
    ],
)
def test_bad_decisions_name_file_and_row(
    run_dir: Path, tmp_path: Path, rows: list[tuple[str, str, str]], fragment: str
) -> None:
    dec = write_decisions(tmp_path / "d.csv", rows)
    with pytest.raises(ConfigError) as e:
        apply_merge(run_dir, dec)
    assert fragment in str(e.value)
    assert not (run_dir / "merged").exists()


def test_decisions_from_the_proposals_xlsx(run_dir: Path, tmp_path: Path) -> None:
    import openpyxl

    wb = openpyxl.load_workbook(run_dir / "merge_proposals.xlsx")
    ws = wb["proposals"]
    head = [c.value for c in ws[1]]
    col = {h: i + 1 for i, h in enumerate(head)}
    assert ws.data_validations.dataValidation[0].formula1 == '"approve,reject,split"'
    for r in range(2, ws.max_row + 1):
        cid = ws.cell(r, col["cluster_id"]).value
        role = ws.cell(r, col["role"]).value
        rid = ws.cell(r, col["record_id"]).value
        if cid == "c1" and role == "golden":
            ws.cell(r, col["decision"]).value = "approve"
        if cid == "c1" and rid == "t:3":
            ws.cell(r, col["decision"]).value = "split"
        if cid == "c2" and role == "member":
            ws.cell(r, col["decision"]).value = "Reject"
    wb.save(tmp_path / "edited.xlsx")
    d = read_decisions(tmp_path / "edited.xlsx")
    assert {k: (v.decision, v.split_off) for k, v in d.items()} == {
        "c1": ("split", ["t:3"]),
        "c2": ("reject", []),
    }
    res = apply_merge(run_dir, tmp_path / "edited.xlsx")
    assert res.merged == ["c1"]


def test_decisions_from_the_proposals_csv(run_dir: Path, tmp_path: Path) -> None:
    frame = pd.read_csv(
        run_dir / "merge_proposals.csv", dtype=str, keep_default_na=False, encoding="utf-8-sig"
    )
    frame.loc[(frame.cluster_id == "c2") & (frame.role == "golden"), "decision"] = "approve"
    frame.to_csv(tmp_path / "p.csv", index=False)
    assert apply_merge(run_dir, tmp_path / "p.csv").merged == ["c2"]


def test_proposals_neutralize_formulas_but_keep_phone_numbers(run_dir: Path) -> None:
    import openpyxl

    text = (run_dir / "merge_proposals.csv").read_text(encoding="utf-8-sig")
    assert "'=HYPERLINK(" in text and "'@SUM(A1)" in text and "'=1+2" in text
    assert "=HYPERLINK" not in text.replace("'=HYPERLINK", "")
    assert ",+82 10-1234-5678," in text  # a real phone number reads as written
    ws = openpyxl.load_workbook(run_dir / "merge_proposals.xlsx")["proposals"]
    values = [c.value for row in ws.iter_rows() for c in row if isinstance(c.value, str)]
    assert "+82 10-1234-5678" in values and "'@SUM(A1)" in values
    assert not any(v.startswith(("=", "@")) for v in values)
    assert all(c.data_type != "f" for row in ws.iter_rows() for c in row)


def test_review_html_escapes_and_needs_no_network(run_dir: Path) -> None:
    page = (run_dir / "merge_review.html").read_text(encoding="utf-8")
    assert "<script>alert(1)" not in page
    # the data sits once in one JSON script element; no value can open or close a tag in it
    start = page.index('<script type="application/json" id="review-data">')
    blob = page[start:].split(">", 1)[1].split("</script>", 1)[0]
    assert "<" not in blob and ">" not in blob
    data = json.loads(blob)
    assert "same email \\u003cb\\u003e" in blob
    why = data["pair_cols"].index("why")
    assert [p[why] for c in data["clusters"] for p in c["pairs"]].count("same email <b>") == 1
    assert "http://" not in page.replace("http://evil", "") and "https://" not in page
    assert [c["id"] for c in data["clusters"]] == ["c1", "c2", "c3"]
    assert "full_name" in data["clusters"][0]["diff"]  # differing fields highlighted
    assert "김민준" in page and "佐藤 花子" in page


def test_redacted_review_masks_emails_and_phones(tmp_path: Path) -> None:
    result = demo_result(tmp_path)
    write_review(result, tmp_path, redact=True)
    for name in ("merge_review.html", "merge_proposals.csv"):
        text = (tmp_path / name).read_text(encoding="utf-8-sig")
        assert "minjun.kim@example.kr" not in text and "m***@example.kr" in text
        assert "1234-5678" not in text and "****-5678" in text  # the report's mask style


def test_merged_config_points_at_merged_contacts(run_dir: Path, tmp_path: Path) -> None:
    from audit.config import load_config

    dec = write_decisions(tmp_path / "d.csv", [("c1", "approve", "")])
    res = apply_merge(run_dir, dec)
    cfg = load_config(res.config)
    (src,) = cfg.sources
    assert (src.entity, src.profile, src.phone_region) == ("contacts", "none", "KR")
    assert cfg.resolve(src.path) == res.out_dir / "contacts" / "t.csv"  # one slice per source
    piece = merged_frame(cfg.resolve(src.path))
    assert list(piece.index) == list(merged_frame(res.contacts).index)  # the only source here
    assert cfg.as_of is not None and cfg.as_of.isoformat() == "2026-01-31"
    # the pipeline re-runs on the merged contacts: 8 records became 6
    from audit.pipeline import analyse

    again = analyse(cfg, run_id="after-merge")
    contacts = again.records["contacts"]
    assert len(contacts) == 6
    golden = contacts[contacts["full_name"] == "Kim Minjun"].iloc[0]
    assert golden["email"] == "minjun.kim@example.kr"
    assert json.loads(golden["extra"])["merged_record_ids"] == "t:1; t:2; t:3"


def test_cli_apply_and_undo(run_dir: Path, tmp_path: Path, runner) -> None:
    original = (run_dir / "records" / "contacts.csv").read_bytes()
    dec = write_decisions(tmp_path / "d.csv", [("c1", "approve", "")])
    out = tmp_path / "out"
    r = runner.invoke(
        cli, ["merge", "apply", str(run_dir), "--decisions", str(dec), "--out", str(out)]
    )
    assert r.exit_code == 0, r.output
    assert "merged 1 clusters: 8 -> 6 contacts" in r.stdout
    r = runner.invoke(cli, ["merge", "undo", str(out / "merge_log.json")])
    assert r.exit_code == 0, r.output
    assert "byte-identical" in r.stdout
    assert (out / "contacts.csv").read_bytes() == original


def test_cli_errors_are_one_line(run_dir: Path, tmp_path: Path, runner) -> None:
    dec = write_decisions(tmp_path / "d.csv", [("nope", "approve", "")])
    r = runner.invoke(cli, ["merge", "apply", str(run_dir), "--decisions", str(dec)])
    assert r.exit_code == 2
    assert "unknown cluster 'nope'" in r.stderr and "Traceback" not in r.output
    r = runner.invoke(cli, ["merge", "apply", str(tmp_path / "missing")])
    assert r.exit_code == 3 and "not a run folder" in r.stderr
    r = runner.invoke(cli, ["merge", "undo", str(tmp_path / "nolog.json")])
    assert r.exit_code == 2 and "merge log not found" in r.stderr


def test_undo_refuses_when_merged_file_was_edited(run_dir: Path, tmp_path: Path) -> None:
    from audit.errors import InputError

    res = apply_merge(run_dir, write_decisions(tmp_path / "d.csv", [("c1", "approve", "")]))
    res.contacts.write_bytes(res.contacts.read_bytes().replace(b"Ben Smith", b"Benjamin Smith"))
    with pytest.raises(InputError, match="changed since the merge"):
        undo_merge(res.log)


def test_config_survivorship_rules_drive_review_and_apply(tmp_path: Path) -> None:
    rules = tmp_path / "my_rules.yaml"
    rules.write_text("fields:\n  email: most_recent\n", encoding="utf-8")
    result = demo_result(tmp_path, survivorship="my_rules.yaml")
    run_dir = write_run_folder(result, tmp_path / "run")
    proposals = pd.read_csv(
        run_dir / "merge_proposals.csv", dtype=str, keep_default_na=False, encoding="utf-8-sig"
    )
    gold = proposals[(proposals.cluster_id == "c1") & (proposals.role == "golden")].iloc[0]
    assert gold["email"] == "mj@personal.kr"  # t:3 is the most recently updated
    res = apply_merge(run_dir, write_decisions(tmp_path / "d.csv", [("c1", "approve", "")]))
    assert merged_frame(res.contacts).loc["t:1", "email"] == "mj@personal.kr"


def test_golden_phone_from_another_region_is_written_in_e164(tmp_path: Path) -> None:
    from tests.factories import make_frame

    us = make_frame(
        "contacts", source="us", full_name=["Kim Minjun"], email=["mj@x.com"], company=["Acme"]
    )
    kr = make_frame(
        "contacts",
        source="kr",
        full_name=["Kim Minjun"],
        phone=["010-1234-5678"],
        phone_e164=["+821012345678"],
    )
    contacts = pd.concat([us, kr], ignore_index=True)
    cfg = parse_config(
        {
            "sources": [
                {"name": "us", "path": "us.csv", "phone_region": "US"},
                {"name": "kr", "path": "kr.csv", "phone_region": "KR"},
            ]
        },
        base_dir=tmp_path,
    )
    clusters = pd.DataFrame({"cluster_id": ["k", "k"], "record_id": ["us:1", "kr:1"]})
    empty = pd.DataFrame()
    result = RunResult(
        run_id="r",
        as_of=pd.Timestamp("2026-01-31").date(),
        config=cfg,
        ingest=Ingest(records={"contacts": contacts}, issues=empty, counts=empty),
        records={"contacts": contacts},
        issues=empty,
        matches=Matches(pairs=empty, clusters=clusters),
        scorecard=Scorecard(1.0, empty, empty, empty, empty),
        verdict=Verdict(True, ()),
        kpis=None,
        timings={},
    )
    run_dir = write_run_folder(result, tmp_path / "run", minimal=True)
    res = apply_merge(run_dir, write_decisions(tmp_path / "d.csv", [("k", "approve", "")]))
    golden = merged_frame(res.contacts).loc["us:1"]  # the US record is the more complete
    assert golden["phone"] == "+821012345678"  # '010-...' would not parse as a US number
    assert (res.out_dir / "contacts" / "us.csv").is_file()
    assert not (res.out_dir / "contacts" / "kr.csv").exists()  # its only record merged away
    from audit.config import load_config

    assert [s.name for s in load_config(res.config).sources] == ["us"]  # kr is not re-read


def test_json_decisions_for_another_run_are_refused(run_dir: Path, tmp_path: Path) -> None:
    path = tmp_path / "d.json"
    path.write_text(
        json.dumps(
            {
                "run_id": "20250101T000000-ffffff",
                "decisions": [{"cluster_id": "c1", "decision": "approve"}],
            }
        )
    )
    with pytest.raises(ConfigError, match="made for run 20250101T000000-ffffff"):
        apply_merge(run_dir, path)
    path.write_text(json.dumps({"run_id": RUN_ID, "decisions": [{"decision": "approve"}]}))
    with pytest.raises(ConfigError, match=r"decisions\[0\]: each decision needs a cluster_id"):
        apply_merge(run_dir, path)


def test_decisions_csv_saved_by_korean_excel(run_dir: Path, tmp_path: Path) -> None:
    frame = pd.read_csv(
        run_dir / "merge_proposals.csv", dtype=str, keep_default_na=False, encoding="utf-8-sig"
    )
    frame.loc[(frame.cluster_id == "c1") & (frame.role == "golden"), "decision"] = "approve"
    path = tmp_path / "p.csv"
    frame.to_csv(path, index=False, encoding="cp949", errors="replace")
    assert "김민준".encode("cp949") in path.read_bytes()
    assert apply_merge(run_dir, path).merged == ["c1"]


def test_review_without_duplicates_still_writes_its_files(tmp_path: Path) -> None:
    from dataclasses import replace

    result = replace(
        demo_result(tmp_path), matches=Matches(pairs=pd.DataFrame(), clusters=pd.DataFrame())
    )
    paths = write_review(result, tmp_path / "r", redact=False)
    assert sorted(p.name for p in paths) == [
        "merge_proposals.csv",
        "merge_proposals.parquet",
        "merge_proposals.xlsx",
        "merge_review.html",
    ]
    assert (
        "No duplicate clusters were proposed" in (tmp_path / "r" / "merge_review.html").read_text()
    )
    header = (tmp_path / "r" / "merge_proposals.csv").read_text(encoding="utf-8-sig").splitlines()
    assert len(header) == 1 and header[0].startswith(
        "cluster_id,band,score,role,record_id,decision"
    )


def test_a_decisions_csv_saved_by_korean_excel_keeps_its_record_ids(tmp_path: Path) -> None:
    # plain "CSV" from Excel on Korean Windows is cp949; record ids carry Korean source names
    dec = tmp_path / "decisions.csv"
    dec.write_bytes(
        "cluster_id,decision,split_off\nc1,split,고객명단:h3f2a9c\nc2,approve,\n".encode("cp949")
    )
    got = read_decisions(dec)
    assert got["c1"].split_off == ["고객명단:h3f2a9c"]
    assert got["c2"].decision == "approve"
