"""The merge log at scale: undo needs the merged records' original rows, not a copy of the file.

Apply writes merge_log.json (what merged, and checksums) and merge_originals.parquet (the exact
text of the rows that merged, by position). These tests hold apply -> undo to byte identity on
real exports and on hostile text, and pin what happens past the log's size cap.
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

import audit.merge.apply as apply_mod
from audit import config_for_paths, run
from audit.cli import cli
from audit.merge import apply_merge, undo_merge
from audit.merge.apply import ORIGINALS_FILE
from tests.test_merge import demo_result, write_decisions, write_run_folder

REAL = Path(__file__).parent / "fixtures" / "real"


def approve_all(run_dir: Path, path: Path) -> Path:
    """merge_proposals.parquet with every cluster approved: a bulk decision from a program."""
    t = pq.read_table(run_dir / "merge_proposals.parquet")
    i = t.column_names.index("decision")
    t = t.set_column(i, "decision", pa.array(["approve"] * len(t), pa.string()))
    pq.write_table(t, path)
    return path


def files(folder: Path) -> dict[str, bytes]:
    return {
        p.relative_to(folder).as_posix(): p.read_bytes()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


@pytest.fixture(scope="module")
def real_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A run folder the pipeline wrote from real exports (several vendors, encodings, scripts)."""
    names = [
        "hubspot_contacts.csv",
        "salesforce_contacts.csv",
        "salesforce_leads.csv",
        "stripe_customers.csv",
        "google_contacts_legacy.csv",
        "ko_addressbook.csv",
        "ja_customers_sjis.csv",
        "zh_outlook_gbk.csv",
        "shopify_customers_pk.csv",
    ]
    cfg = config_for_paths([REAL / n for n in names], as_of=dt.date(2026, 1, 31))
    cfg = cfg.model_copy(update={"history": cfg.history.model_copy(update={"enabled": False})})
    out = tmp_path_factory.mktemp("real") / "reports"
    res = run(cfg, out=out)
    return out / res.run_id


def test_real_exports_apply_then_undo_is_byte_identical(real_run: Path, tmp_path: Path) -> None:
    records = real_run / "records" / "contacts.csv"
    original = records.read_bytes()
    run_before = files(real_run)
    dec = approve_all(real_run, tmp_path / "all.parquet")
    res = apply_merge(real_run, dec, out_dir=tmp_path / "merged")
    assert len(res.merged) >= 3, "the real exports hold duplicates to merge"
    assert res.n_after < res.n_before
    log = json.loads(res.log.read_text(encoding="utf-8"))
    assert log["version"] == 2
    merged_ids = [r for c in log["clusters"] for r in c["record_ids"]]
    assert log["originals"]["rows"] == len(merged_ids)
    # the log names records; the originals file holds their rows, exactly as the file has them
    originals = pd.read_parquet(res.out_dir / ORIGINALS_FILE)
    text = pd.read_csv(records, dtype=str, keep_default_na=False, encoding="utf-8-sig")
    at = originals["position"].tolist()
    assert (
        originals.drop(columns="position").to_numpy().tolist() == text.iloc[at].to_numpy().tolist()
    )
    assert sorted(text.iloc[at]["record_id"]) == sorted(merged_ids)

    undone = undo_merge(res.log)
    assert undone.identical and res.contacts.read_bytes() == original
    assert not (res.out_dir / ORIGINALS_FILE).exists()  # served its purpose
    assert files(real_run) == run_before  # the run folder was only read


def test_hostile_text_round_trips_through_the_originals_file(tmp_path: Path) -> None:
    """Quotes, commas, embedded CR/LF, tabs, a value's own guard quote, CJK, emoji, a long
    value and surrounding spaces: the restored file is the pre-merge file byte for byte."""
    result = demo_result(tmp_path)
    contacts = result.records["contacts"].copy()
    nasty = [
        'say "hi", then\r\nleave',
        "  padded  ",
        "'=SUM(A1)",
        "tab\there\nand a line",
        "北京市朝阳区 🚀 ㈜에이크미",
        "x" * 100_000,
        "",
        ",,,",
    ]
    contacts["job_title"] = nasty
    contacts["extra"] = [json.dumps({"note": v}, ensure_ascii=False) for v in nasty]
    result.records["contacts"] = contacts
    for minimal in (False, True):  # the report's dialect (BOM, CRLF) and pandas' defaults
        run_dir = write_run_folder(result, tmp_path / f"run{minimal}", minimal=minimal)
        original = (run_dir / "records" / "contacts.csv").read_bytes()
        dec = write_decisions(
            tmp_path / "d.csv",
            [("c1", "approve", ""), ("c2", "approve", ""), ("c3", "approve", "")],
        )
        res = apply_merge(run_dir, dec)
        assert res.n_after == 4  # 8 records, 7 of them in 3 clusters
        originals = pd.read_parquet(res.out_dir / ORIGINALS_FILE)
        assert len(originals) == 7
        assert undo_merge(res.log).identical
        assert res.contacts.read_bytes() == original


def test_a_records_file_in_another_dialect_is_kept_verbatim(tmp_path: Path) -> None:
    """Every field quoted: a dialect the writer would not reproduce, so the log keeps the file."""
    run_dir = write_run_folder(demo_result(tmp_path), tmp_path / "run", minimal=True)
    records = run_dir / "records" / "contacts.csv"
    frame = pd.read_csv(records, dtype=str, keep_default_na=False)
    frame.to_csv(records, index=False, quoting=1)  # csv.QUOTE_ALL
    from audit.manifest import write_manifest

    write_manifest(run_dir, json.loads((run_dir / "run.json").read_text())["run_id"])
    original = records.read_bytes()
    res = apply_merge(run_dir, write_decisions(tmp_path / "d.csv", [("c1", "approve", "")]))
    assert "verbatim" in json.loads(res.log.read_text())["input"]
    assert undo_merge(res.log).identical and res.contacts.read_bytes() == original


def test_apply_refuses_a_log_past_the_cap_and_writes_nothing(
    tmp_path: Path, runner, monkeypatch
) -> None:
    """A log undo would refuse to read is never written: the apply stops with one line, exit 3.
    (The cap is lowered so the test stays small; the log is the real one.)"""
    run_dir = write_run_folder(demo_result(tmp_path), tmp_path / "run")
    dec = write_decisions(tmp_path / "d.csv", [("c1", "approve", ""), ("c2", "approve", "")])
    monkeypatch.setattr(apply_mod, "MAX_LOG_BYTES", 1000)
    before = files(tmp_path)
    out = tmp_path / "merged"
    res = runner.invoke(
        cli, ["merge", "apply", str(run_dir), "--decisions", str(dec), "--out", str(out)]
    )
    assert res.exit_code == 3, res.output
    assert "merge_log.json: the merge log would be" in res.output
    assert "more than `merge undo` reads" in res.output and "nothing was written" in res.output
    assert "Traceback" not in res.output and len(res.output.strip().splitlines()) == 1
    assert not out.exists() or not any(out.iterdir())
    assert files(tmp_path) == before | {}  # nothing new beside the inputs
    monkeypatch.undo()
    ok = runner.invoke(
        cli, ["merge", "apply", str(run_dir), "--decisions", str(dec), "--out", str(out)]
    )
    assert ok.exit_code == 0, ok.output


def test_undo_refuses_a_log_past_the_cap(tmp_path: Path, runner, monkeypatch) -> None:
    run_dir = write_run_folder(demo_result(tmp_path), tmp_path / "run")
    original = (run_dir / "records" / "contacts.csv").read_bytes()
    res = apply_merge(run_dir, write_decisions(tmp_path / "d.csv", [("c1", "approve", "")]))
    size = res.log.stat().st_size
    monkeypatch.setattr(apply_mod, "MAX_LOG_BYTES", size - 1)
    before = files(res.out_dir)
    out = runner.invoke(cli, ["merge", "undo", str(res.log)])
    assert out.exit_code == 3, out.output
    assert "not a readable merge log (larger than" in out.output and "Traceback" not in out.output
    assert files(res.out_dir) == before
    monkeypatch.undo()
    assert undo_merge(res.log).identical and res.contacts.read_bytes() == original


def test_undo_without_the_originals_file_says_so(tmp_path: Path, runner) -> None:
    run_dir = write_run_folder(demo_result(tmp_path), tmp_path / "run")
    res = apply_merge(run_dir, write_decisions(tmp_path / "d.csv", [("c1", "approve", "")]))
    (res.out_dir / ORIGINALS_FILE).unlink()
    before = files(res.out_dir)
    out = runner.invoke(cli, ["merge", "undo", str(res.log)])
    assert out.exit_code == 3, out.output
    assert f"{ORIGINALS_FILE}: missing; it holds the merged records' original rows" in out.output
    assert files(res.out_dir) == before


def test_a_version_1_log_with_inline_originals_still_undoes(tmp_path: Path) -> None:
    """Merge outputs written before the originals file: their logs carry the rows inline."""
    run_dir = write_run_folder(demo_result(tmp_path), tmp_path / "run")
    original = (run_dir / "records" / "contacts.csv").read_bytes()
    res = apply_merge(run_dir, write_decisions(tmp_path / "d.csv", [("c1", "approve", "")]))
    log = json.loads(res.log.read_text(encoding="utf-8"))
    rows = pd.read_parquet(res.out_dir / ORIGINALS_FILE)
    cols = log["input"]["columns"]
    by_pos = {int(r[0]): dict(zip(cols, r[1:], strict=True)) for r in rows.itertuples(index=False)}
    rid_to_pos = {row["record_id"]: p for p, row in by_pos.items()}
    for c in log["clusters"]:
        c["originals"] = [
            {"position": rid_to_pos[r], "row": by_pos[rid_to_pos[r]]} for r in c["record_ids"]
        ]
    del log["originals"]
    log["version"] = 1
    (res.out_dir / ORIGINALS_FILE).unlink()
    del log["files"][ORIGINALS_FILE]
    res.log.write_text(json.dumps(log), encoding="utf-8")
    assert undo_merge(res.log).identical and res.contacts.read_bytes() == original


@pytest.mark.parametrize("bom", [True, False])
@pytest.mark.parametrize("newline", ["\n", "\r\n"])
def test_the_dialect_check_compares_in_batches_exactly(bom: bool, newline: str) -> None:
    """`writes` (batch by batch) says what comparing the whole `to_bytes()` would say."""
    from audit.merge.runfolder import TextTable

    rows = [[str(i), 'q"uote,\nline' if i % 3 else ""] for i in range(25)]
    t = TextTable(["a", "b"], rows, newline, bom)
    data = t.to_bytes()
    assert t.writes(data, batch=7) and t.writes(data, batch=1) and t.writes(data)
    assert not t.writes(data + b"\n", batch=7)  # one byte more
    assert not t.writes(data[:-1], batch=7)  # one byte less
    assert not t.writes(data.replace(b"line", b"lime", 1), batch=7)  # inside a later batch
    assert not t.writes(data.replace(b'"q""uote', b'"q""uotes', 1), batch=7)
