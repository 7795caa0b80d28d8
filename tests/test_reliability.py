"""Issue #14: hostile merge logs and decisions, formula-safe merge outputs, atomic run folders.

Every case here is one a hostile review found: a crafted file, a file edited or truncated after
the fact, a folder left by a killed process. Each asserts what a user would check: the exit
code and one line naming the file, no file written or removed outside the output folder, and
the records restored byte for byte.
"""

from __future__ import annotations

import hashlib
import json
import zipfile
from pathlib import Path

import pytest

from audit.cli import cli
from audit.errors import ConfigError, InputError
from audit.merge import apply_merge, read_decisions, undo_merge
from audit.merge.apply import LOG_FORMAT
from audit.report import load_run
from tests.test_merge import RUN_ID, demo_result, write_decisions, write_run_folder


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def snapshot(root: Path) -> dict[str, str]:
    return {
        p.relative_to(root).as_posix(): sha(p.read_bytes())
        for p in sorted(root.rglob("*"))
        if p.is_file()
    }


@pytest.fixture
def run_dir(tmp_path: Path) -> Path:
    return write_run_folder(demo_result(tmp_path), tmp_path / "reports" / RUN_ID)


@pytest.fixture
def applied(run_dir: Path, tmp_path: Path):
    dec = write_decisions(tmp_path / "d.csv", [("c1", "approve", ""), ("c2", "approve", "")])
    return apply_merge(run_dir, dec)


# --- 1. merge logs and decisions files are untrusted -------------------------------------------


def _crafted_log(folder: Path, **over: object) -> Path:
    payload = "pwned\n"
    log = {
        "format": LOG_FORMAT,
        "version": 1,
        "run_id": "x",
        "run_dir": "/nonexistent",
        "input": {
            "sha256": sha(payload.encode()),
            "rows": 0,
            "columns": ["record_id"],
            "newline": "\n",
            "bom": False,
            "verbatim": payload,
        },
        "output": {"file": "../target.txt", "sha256": "0" * 64, "rows": 0},
        "clusters": [],
        "skipped": [],
    }
    log.update(over)
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "merge_log.json").write_text(json.dumps(log), encoding="utf-8")
    return folder / "merge_log.json"


def test_crafted_log_cannot_write_outside_or_delete_files(tmp_path: Path, runner) -> None:
    evil = tmp_path / "evil"
    (evil / "contacts").mkdir(parents=True)
    (evil / "contacts" / "important.csv").write_text("keep me\n", encoding="utf-8")
    log = _crafted_log(evil)
    before = snapshot(tmp_path)
    res = runner.invoke(cli, ["merge", "undo", str(log)])
    assert res.exit_code == 3, res.output
    assert "merge_log.json: not a valid merge log (output.file must be contacts.csv)" in res.output
    assert len(res.output.strip().splitlines()) == 1
    assert snapshot(tmp_path) == before and not (tmp_path / "target.txt").exists()


def test_crafted_log_naming_contacts_csv_still_changes_nothing(tmp_path: Path, runner) -> None:
    # the log names our own file name, but the folder's contacts.csv is not what it merged
    evil = tmp_path / "evil"
    (evil / "contacts").mkdir(parents=True)
    (evil / "contacts" / "important.csv").write_text("keep me\n", encoding="utf-8")
    (evil / "contacts.csv").write_text("a user's file\n", encoding="utf-8")
    digest = sha(b"keep me\n")
    log = _crafted_log(
        evil,
        output={"file": "contacts.csv", "sha256": "0" * 64, "rows": 0},
        files={"contacts/important.csv": "1" * 64, "../outside.csv": digest},
    )
    before = snapshot(tmp_path)
    res = runner.invoke(cli, ["merge", "undo", str(log)])
    assert res.exit_code == 3 and "path '../outside.csv'" in res.output
    (evil / "merge_log.json").unlink()
    log = _crafted_log(
        evil,
        output={"file": "contacts.csv", "sha256": "0" * 64, "rows": 0},
        files={"contacts/important.csv": "1" * 64},
    )
    before = snapshot(tmp_path)
    res = runner.invoke(cli, ["merge", "undo", str(log)])
    assert res.exit_code == 3 and "changed since the merge" in res.output
    res = runner.invoke(cli, ["merge", "undo", str(log), "--force"])
    # --force restores the log's records over contacts.csv, but removes only files whose
    # checksum the log knows: important.csv (checksum not matching) stays
    assert res.exit_code == 0, res.output
    assert (evil / "contacts" / "important.csv").read_text(encoding="utf-8") == "keep me\n"
    assert set(snapshot(tmp_path)) == set(before)


@pytest.mark.parametrize(
    ("edit", "why"),
    [
        (lambda log: log["originals"].update(rows=10**9), "originals.rows"),
        (lambda log: log["originals"].update(file="../x.parquet"), "originals.file"),
        (lambda log: log["clusters"][0].update(record_ids="x"), "record_ids"),
        (lambda log: log["clusters"][0].update(originals="x"), "not a valid merge log"),
        (lambda log: log["input"].update(sha256="nope"), "input.sha256"),
        (lambda log: log.update(files={"/etc/passwd": "0" * 64}), "path '/etc/passwd'"),
        (lambda log: log.update(state="pending"), "state is not committed"),
        (lambda log: log.update(clusters={"a": 1}), "clusters"),
    ],
)
def test_edited_log_is_refused_before_anything_is_written(applied, edit, why, runner) -> None:
    log = json.loads(applied.log.read_text(encoding="utf-8"))
    edit(log)
    applied.log.write_text(json.dumps(log), encoding="utf-8")
    before = snapshot(applied.out_dir)
    res = runner.invoke(cli, ["merge", "undo", str(applied.log)])
    assert res.exit_code == 3, res.output
    assert why in res.output and "Traceback" not in res.output
    assert snapshot(applied.out_dir) == before


def test_log_whose_originals_were_swapped_does_not_pass_the_checksum(applied, run_dir) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    from audit.merge.apply import ORIGINALS_FILE

    path = applied.out_dir / ORIGINALS_FILE
    table = pq.read_table(path)
    email = 1 + (json.loads(applied.log.read_text())["input"]["columns"]).index("email")
    values = table.column(email).to_pylist()
    values[1] = "attacker@example.com"
    table = table.set_column(email, table.field(email), pa.array(values, pa.string()))
    pq.write_table(table, path)
    before = snapshot(applied.out_dir)
    # edited alone: its checksum in the log no longer matches
    with pytest.raises(InputError, match=r"merge_originals\.parquet: changed since the merge"):
        undo_merge(applied.log)
    assert snapshot(applied.out_dir) == before
    # edited with the log's checksum for it: the restored records do not match the input's
    log = json.loads(applied.log.read_text(encoding="utf-8"))
    log["originals"]["sha256"] = hashlib.sha256(path.read_bytes()).hexdigest()
    applied.log.write_text(json.dumps(log), encoding="utf-8")
    before = snapshot(applied.out_dir)
    with pytest.raises(InputError, match="would not match the checksum"):
        undo_merge(applied.log)
    assert snapshot(applied.out_dir) == before


def test_oversized_decisions_are_refused(run_dir: Path, tmp_path: Path, monkeypatch) -> None:
    import audit.merge.decisions as decisions
    from audit.xlsx import Sheet, write_xlsx

    # limits lowered so the test stays small; the shapes are the real ones
    monkeypatch.setattr(decisions, "MAX_ROWS", 50)
    monkeypatch.setattr(decisions, "MAX_XLSX_INFLATED", 32 * 2**20)
    path = tmp_path / "d.xlsx"
    write_xlsx(path, [Sheet("proposals", [["cluster_id", "decision"]] + [["c1", "approve"]] * 60)])
    with pytest.raises(InputError, match="51 rows, more than a decisions sheet can have"):
        read_decisions(path)
    wide = tmp_path / "wide.xlsx"
    write_xlsx(wide, [Sheet("proposals", [["cluster_id", "decision", *["x"] * 300]])])
    with pytest.raises(InputError, match="302 columns in row 1"):
        read_decisions(wide)
    # a zip bomb: a small file that unzips to more than any decisions workbook
    bomb = tmp_path / "bomb.xlsx"
    with zipfile.ZipFile(bomb, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("xl/worksheets/sheet1.xml", b"<" + b"a" * (40 * 2**20))
    assert bomb.stat().st_size < 2**20
    with pytest.raises(InputError, match="unzips to 40 MB"):
        read_decisions(bomb)
    huge = tmp_path / "huge.csv"
    with open(huge, "wb") as f:
        f.truncate(decisions.MAX_BYTES + 1)
    with pytest.raises(InputError, match="more than a decisions file can be"):
        read_decisions(huge)


# --- 2. merge outputs are formula-safe; undo is still exact -----------------------------------


FORMULAS = ('=HYPERLINK("http://evil","x")', "@SUM(A1)", "-2+3+cmd|' /C calc'!A0", "=1+2")


def test_every_merge_output_neutralizes_formulas(run_dir: Path, tmp_path: Path) -> None:
    import csv

    applied = apply_merge(run_dir, write_decisions(tmp_path / "d.csv", [("c1", "approve", "")]))
    original = (run_dir / "records" / "contacts.csv").read_bytes()
    seen: set[str] = set()
    for p in sorted(applied.out_dir.rglob("*.csv")):
        with open(p, encoding="utf-8-sig", newline="") as f:
            cells = {c for row in csv.reader(f) for c in row}
        assert not cells & set(FORMULAS), p  # no raw formula in any file we wrote
        seen |= cells
    assert {"'" + f for f in FORMULAS} <= seen  # ... they are there, guarded
    assert "+82 10-1234-5678" in seen  # a phone number is not a formula: left as it is
    assert undo_merge(applied.log).identical
    assert applied.contacts.read_bytes() == original


# --- 3. a run folder is complete only with its manifest ---------------------------------------


def test_run_folder_has_a_manifest_of_every_file(run_dir: Path) -> None:
    manifest = json.loads((run_dir / "manifest.json").read_text(encoding="utf-8"))
    files = {
        p.relative_to(run_dir).as_posix()
        for p in run_dir.rglob("*")
        if p.is_file() and p.name != "manifest.json"
    }
    assert set(manifest["files"]) == files
    assert "merge_review.html" in files and "records/contacts.csv" in files
    for rel, digest in manifest["files"].items():
        assert sha((run_dir / rel).read_bytes()) == digest


@pytest.mark.parametrize(
    ("damage", "message"),
    [
        (lambda d: (d / "manifest.json").unlink(), "incomplete run folder (no manifest.json"),
        (lambda d: (d / "clusters.csv").write_bytes(b"cluster_id\n"), "clusters.csv: changed"),
        (lambda d: (d / "records" / "contacts.csv").unlink(), "contacts.csv: missing, but"),
        (
            lambda d: (d / "manifest.json").write_text(
                json.dumps({"format": "crm-audit.run-manifest", "files": {"../x": "0"}})
            ),
            "outside the run folder",
        ),
    ],
)
def test_incomplete_or_changed_run_folder_is_refused_everywhere(
    run_dir: Path, tmp_path: Path, runner, damage, message
) -> None:
    damage(run_dir)
    dec = write_decisions(tmp_path / "d.csv", [("c1", "approve", "")])
    for args in (
        ["report", str(run_dir)],
        ["merge", "apply", str(run_dir), "--decisions", str(dec)],
        ["kpis", str(run_dir)],
    ):
        res = runner.invoke(cli, args)
        assert res.exit_code == 3, (args, res.output)
        assert message in res.output and len(res.output.strip().splitlines()) == 1, res.output
    assert not (run_dir / "merged").exists()


def test_report_in_place_keeps_the_folder_complete(run_dir: Path, runner) -> None:
    data = (run_dir / "records" / "contacts.csv").read_bytes()
    res = runner.invoke(cli, ["report", str(run_dir), "--format", "md"])
    assert res.exit_code == 0, res.output
    assert (run_dir / "summary.md").is_file()
    assert load_run(run_dir).run["run_id"] == RUN_ID  # manifest updated, folder accepted
    assert (run_dir / "records" / "contacts.csv").read_bytes() == data
    assert not list(run_dir.parent.glob(".*"))  # no staging folder left behind


def test_report_out_refuses_to_replace_a_foreign_folder(run_dir: Path, tmp_path: Path) -> None:
    mine = tmp_path / "Documents"
    mine.mkdir()
    (mine / "thesis.docx").write_bytes(b"precious")
    from click.testing import CliRunner

    res = CliRunner().invoke(cli, ["report", str(run_dir), "--out", str(mine)])
    assert res.exit_code == 2 and "is not a run folder" in res.output
    assert (mine / "thesis.docx").read_bytes() == b"precious"


def test_merge_out_refuses_to_replace_a_foreign_folder(run_dir: Path, tmp_path: Path) -> None:
    mine = tmp_path / "data"
    mine.mkdir()
    (mine / "export.csv").write_bytes(b"precious")
    dec = write_decisions(tmp_path / "d.csv", [("c1", "approve", "")])
    with pytest.raises(ConfigError, match="is not a merge output"):
        apply_merge(run_dir, dec, out_dir=mine)
    assert (mine / "export.csv").read_bytes() == b"precious"
    with pytest.raises(ConfigError, match="is not a merge output"):
        apply_merge(run_dir, dec, out_dir=run_dir)  # never over the run folder itself


# --- 4. merge apply as a journal: every state an interrupted apply leaves can be undone -----


def _records(run_dir: Path) -> bytes:
    return (run_dir / "records" / "contacts.csv").read_bytes()


def test_every_interrupted_apply_state_is_undone_or_rolled_back(
    run_dir: Path, tmp_path: Path, runner
) -> None:
    import shutil

    first = write_decisions(tmp_path / "a.csv", [("c1", "approve", "")])
    second = write_decisions(tmp_path / "b.csv", [("c2", "approve", ""), ("c3", "approve", "")])
    merged = run_dir / "merged"
    staged, old = run_dir / ".merged.new", run_dir / ".merged.old"

    def fresh_pair() -> None:
        """merged/ from the first apply, and a complete second apply staged beside it."""
        shutil.rmtree(merged, ignore_errors=True)
        apply_merge(run_dir, second)
        shutil.move(merged, tmp_path / "second")
        apply_merge(run_dir, first)
        shutil.move(tmp_path / "second", staged)

    # killed before the second apply's log was written: the staged folder has no log
    fresh_pair()
    (staged / "merge_log.json").unlink()
    res = runner.invoke(cli, ["merge", "undo", str(merged / "merge_log.json")])
    assert res.exit_code == 0 and "byte-identical" in res.output, res.output
    assert (merged / "contacts.csv").read_bytes() == _records(run_dir)
    assert not staged.exists() and not old.exists()
    # killed between the two renames: old aside, the complete new one not yet in place
    fresh_pair()
    merged.rename(old)
    assert undo_merge(merged / "merge_log.json").identical  # finished, then undone
    assert (merged / "contacts.csv").read_bytes() == _records(run_dir)
    log = json.loads((merged / "merge_log.json").read_text(encoding="utf-8"))
    assert {c["cluster_id"] for c in log["clusters"]} == {"c2", "c3"}  # the second apply's
    # the same, but the staged one incomplete: rolled back to the first apply, then undone
    fresh_pair()
    (staged / "merge_log.json").unlink()
    merged.rename(old)
    assert undo_merge(merged / "merge_log.json").identical
    assert (merged / "contacts.csv").read_bytes() == _records(run_dir)
    # the very first apply killed before it finished: nothing to undo, said in one line
    shutil.rmtree(merged)
    apply_merge(run_dir, first)
    shutil.move(merged, staged)
    (staged / "merge_log.json").unlink()
    res = runner.invoke(cli, ["merge", "undo", str(merged / "merge_log.json")])
    assert res.exit_code == 3 and "nothing to undo" in res.output, res.output
    assert not merged.exists() and not staged.exists()
    # and the next apply says it cleaned up after the interrupted one
    apply_merge(run_dir, first)
    shutil.move(merged, staged)
    (staged / "merge_log.json").unlink()
    res = runner.invoke(cli, ["merge", "apply", str(run_dir), "--decisions", str(first)])
    assert res.exit_code == 0 and "was interrupted; removed an unfinished write" in res.output, (
        res.output
    )


def test_deeply_nested_log_or_decisions_is_one_line(applied, run_dir, tmp_path, runner) -> None:
    deep = "[" * 200_000 + "]" * 200_000
    dec = tmp_path / "d.json"
    dec.write_text(deep, encoding="utf-8")
    res = runner.invoke(cli, ["merge", "apply", str(run_dir), "--decisions", str(dec)])
    assert res.exit_code == 2 and "not a readable JSON decisions file" in res.output
    before = snapshot(applied.out_dir)
    applied.log.write_text(deep, encoding="utf-8")
    res = runner.invoke(cli, ["merge", "undo", str(applied.log)])
    assert res.exit_code == 3 and "not a readable merge log" in res.output, res.output
    assert {k for k in snapshot(applied.out_dir)} == set(before)


def test_undo_never_writes_through_a_symlinked_folder(applied, tmp_path: Path) -> None:
    import shutil

    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (elsewhere / "t.csv").write_text("a user's file\n", encoding="utf-8")
    slices = applied.out_dir / "contacts"
    shutil.rmtree(slices)
    slices.symlink_to(elsewhere, target_is_directory=True)
    with pytest.raises(InputError, match=r"'contacts/t\.csv' leads outside merged/"):
        undo_merge(applied.log)
    assert (elsewhere / "t.csv").read_text(encoding="utf-8") == "a user's file\n"
