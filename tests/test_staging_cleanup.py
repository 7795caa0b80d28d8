"""Killed runs leave hidden staging folders and empty reserved run folders; a later run cleans
them up, but never those of a run that is still going (issue #14).

Liveness is the owner lock (`audit.fsio.owning`): a real second process holds it here, is
checked while alive, then killed with SIGKILL, as a crashed or killed run would be.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from audit.cli import cli
from audit.errors import InputError
from audit.report import load_run, sweep_stale_runs

REPO = Path(__file__).resolve().parent.parent
SOURCE = REPO / "tests" / "fixtures" / "sources" / "hubspot.contacts" / "hubspot_contacts.csv"
RUN_ID = "20260131T090512-1a2b3c-9f04e1"

# a run that reserved its folder, started its staging folder and is still writing
_OWNER = """
import sys, time
from pathlib import Path
from audit.fsio import owning, staging_path
target = Path(sys.argv[1])
with owning(target):
    target.mkdir()
    staging_path(target).mkdir()
    (staging_path(target) / "records").mkdir()
    (staging_path(target) / "records" / "contacts.csv").write_text("half,written")
    print("ready", flush=True)
    time.sleep(600)
"""


def _owner(target: Path) -> subprocess.Popen[str]:
    proc = subprocess.Popen(
        [sys.executable, "-c", _OWNER, str(target)],
        env={"PYTHONPATH": str(REPO), "PATH": "/usr/bin:/bin"},
        stdout=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout is not None and proc.stdout.readline().strip() == "ready"
    return proc


def _left(root: Path) -> list[str]:
    return sorted(p.name for p in root.iterdir())


def test_a_live_runs_staging_is_never_touched_and_a_killed_ones_is_removed(
    tmp_path: Path,
) -> None:
    root = tmp_path / "reports"
    root.mkdir()
    proc = _owner(root / RUN_ID)
    try:
        before = _left(root)
        assert before == [f".{RUN_ID}.lock", f".{RUN_ID}.new", RUN_ID]
        assert sweep_stale_runs(root) == []  # alive: left alone
        assert _left(root) == before
        assert (root / f".{RUN_ID}.new" / "records" / "contacts.csv").is_file()
    finally:
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
    done = sweep_stale_runs(root)
    assert len(done) == 1 and "removed" in done[0], done
    assert _left(root) == []  # staging, lock and the empty reservation are gone


def test_a_run_killed_after_its_manifest_is_finished_not_thrown_away(
    tmp_path: Path, runner
) -> None:
    out = tmp_path / "reports"
    res = runner.invoke(cli, ["audit", str(SOURCE), "--out", str(out), "--as-of", "2026-01-31"])
    assert res.exit_code == 0, res.output
    (done,) = [p for p in out.iterdir() if (p / "run.json").is_file()]
    # the state of a run killed between its last write (the manifest) and the rename into
    # place: the complete folder under its staging name, the reserved folder empty
    staged = out / f".{done.name}.new"
    done.rename(staged)
    done.mkdir()
    with pytest.raises(InputError):
        load_run(done)
    (msg,) = sweep_stale_runs(out)
    assert "finished the interrupted write" in msg
    assert load_run(done).run["run_id"] == done.name
    assert not staged.exists()


def test_a_later_run_cleans_up_and_says_so_in_one_line(tmp_path: Path, runner) -> None:
    out = tmp_path / "reports"
    out.mkdir()
    killed = out / RUN_ID
    proc = _owner(killed)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    (out / ".20260130T000000-aaaaaa-bbbbbb.render").mkdir()  # a killed `report` re-render
    (out / "my-notes").mkdir()  # a user's own empty folder is not a run's reservation
    res = runner.invoke(cli, ["audit", str(SOURCE), "--out", str(out), "--as-of", "2026-01-31"])
    assert res.exit_code == 0, res.output
    notes = [ln for ln in res.output.splitlines() if "cleaned up" in ln]
    assert len(notes) == 1 and notes[0].startswith("Warning:"), res.output
    assert "cleaned up after 2 interrupted run(s)" in notes[0]
    hidden = [n for n in _left(out) if n.startswith(".")]
    assert hidden == []
    assert not killed.exists() and (out / "my-notes").is_dir()
    (run,) = [p for p in out.iterdir() if (p / "run.json").is_file()]
    assert load_run(run).run["run_id"] == run.name


def test_two_sweepers_and_a_live_owner_race_without_harm(tmp_path: Path) -> None:
    """Sweepers running at once (two runs starting together) never remove a live owner's
    staging, and between them remove a dead one's exactly once."""
    root = tmp_path / "reports"
    root.mkdir()
    dead_id = "20260101T000000-000000-000000"
    dead = _owner(root / dead_id)
    os.kill(dead.pid, signal.SIGKILL)
    dead.wait()
    live = _owner(root / RUN_ID)
    try:
        code = (
            "import sys; from pathlib import Path; from audit.report import sweep_stale_runs; "
            "print(len(sweep_stale_runs(Path(sys.argv[1]))))"
        )
        env = {"PYTHONPATH": str(REPO), "PATH": "/usr/bin:/bin"}
        procs = [
            subprocess.Popen(
                [sys.executable, "-c", code, str(root)], env=env, stdout=subprocess.PIPE, text=True
            )
            for _ in range(3)
        ]
        counts = [int(p.communicate(timeout=120)[0].strip()) for p in procs]
        assert sum(counts) == 1, counts
        assert (root / f".{RUN_ID}.new" / "records" / "contacts.csv").is_file()
        assert not (root / dead_id).exists() and not (root / f".{dead_id}.new").exists()
    finally:
        os.kill(live.pid, signal.SIGKILL)
        live.wait()
    time.sleep(0.05)
    assert len(sweep_stale_runs(root)) == 1 and _left(root) == []
