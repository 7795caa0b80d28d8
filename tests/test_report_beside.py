"""The merge review written in a forked process beside the run folder's other writers: the same
folder, byte for byte, as in one process; its errors reach the user as they would in one."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

import audit.beside as beside
import audit.report as report
from audit.beside import Beside
from audit.config import load_config
from audit.errors import InputError
from audit.merge.review import write_review
from audit.pipeline import analyse


@pytest.fixture(scope="module")
def result(small_demo: Path):
    return analyse(load_config(small_demo / "demo.yaml"), run_id="20260101T000000-aaaaaa-bbbbbb")


def _files(folder: Path) -> dict[str, bytes]:
    return {
        p.relative_to(folder).as_posix(): p.read_bytes()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


@pytest.mark.parametrize("redact", [False, True])
def test_the_review_beside_writes_the_same_folder(
    result,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    redact: bool,
    beside_forks: list[bool],
) -> None:
    forked = beside_forks
    monkeypatch.setattr(beside, "FORK_MIN_ROWS", 10**9)
    one = tmp_path / "one"
    report.write_report(result, one, ["html", "md", "xlsx"], redact=redact, review=write_review)
    monkeypatch.setattr(beside, "FORK_MIN_ROWS", 0)
    monkeypatch.setenv("CRM_AUDIT_WORKERS", "2")
    two = tmp_path / "two"
    report.write_report(result, two, ["html", "md", "xlsx"], redact=redact, review=write_review)
    assert forked == [False, True]
    a, b = _files(one), _files(two)
    assert "merge_review.html" in a and "merge_proposals.parquet" in a
    assert a.keys() == b.keys()
    assert [k for k in a if a[k] != b[k]] == []  # manifest.json included


def test_an_error_in_the_second_process_reaches_the_user(
    result, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(beside, "FORK_MIN_ROWS", 0)
    monkeypatch.setenv("CRM_AUDIT_WORKERS", "2")
    parent = os.getpid()

    def failing(result, out_dir, *, redact, language):  # type: ignore[no-untyped-def]
        assert os.getpid() != parent  # it ran in the child
        raise InputError("contacts.csv row 7: no such cluster; run the audit again.")

    out = tmp_path / "run"
    with pytest.raises(InputError, match=r"^contacts.csv row 7: no such cluster"):
        report.write_report(result, out, ["html"], review=failing)
    assert not out.exists() or not any(out.iterdir())  # no folder that looks complete
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []


def test_a_failing_writer_here_stops_the_second_process(
    result, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(beside, "FORK_MIN_ROWS", 0)
    monkeypatch.setenv("CRM_AUDIT_WORKERS", "2")
    marker = tmp_path / "child-finished"

    def slow(result, out_dir, *, redact, language):  # type: ignore[no-untyped-def]
        time.sleep(30)
        marker.write_text("written after the folder was removed")
        return []

    def broken(ctx, out_dir, formats):  # type: ignore[no-untyped-def]
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(report, "render", broken)
    started = time.monotonic()
    with pytest.raises(InputError, match="the disk is full"):
        report.write_report(result, tmp_path / "run", ["md"], review=slow)
    assert time.monotonic() - started < 20  # stopped, not waited for
    assert not marker.exists()
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []


def _dies_in_child(parent: int) -> str:
    if os.getpid() != parent:
        os._exit(9)  # killed (out of memory, say) before it could answer
    return "done here"


def test_a_child_that_dies_without_an_answer_has_its_work_done_here(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("CRM_AUDIT_WORKERS", "2")
    side = Beside(_dies_in_child, os.getpid())
    assert side.forked
    assert side.result() == "done here"


def test_one_worker_runs_it_here(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CRM_AUDIT_WORKERS", "1")
    side = Beside(os.getpid)
    assert not side.forked
    assert side.result() == os.getpid()


class _Unpicklable(Exception):
    def __init__(self, message: str, *, code: int) -> None:
        super().__init__(message)
        self.code = code


def _raises_unpicklable() -> None:
    raise _Unpicklable("x.csv: broken", code=3)


def test_an_error_that_cannot_travel_comes_back_as_its_text(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("CRM_AUDIT_WORKERS", "2")
    side = Beside(_raises_unpicklable)
    assert side.forked
    with pytest.raises(RuntimeError, match=r"^_Unpicklable: x.csv: broken$"):
        side.result()


def _starts_its_own_worker() -> int:
    import multiprocessing

    proc = multiprocessing.get_context("fork").Process(target=os.getpid)
    proc.start()
    proc.join()
    return int(proc.exitcode or 0)


def test_the_second_process_may_start_workers_of_its_own(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CRM_AUDIT_WORKERS", "2")
    side = Beside(_starts_its_own_worker)
    assert side.forked
    assert side.result() == 0


def test_without_the_memory_to_spare_the_review_runs_here(
    result,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    beside_forks: list[bool],
) -> None:
    """MemAvailable under this process's resident size: no child, the same folder."""
    import audit.beside as beside

    meminfo = Path("/proc/meminfo")
    if not meminfo.is_file():
        pytest.skip("no /proc/meminfo here")
    assert beside.memory_to_spare() in (True, False)  # the real files read without error
    lines = meminfo.read_text().splitlines()

    def meminfo_with(kib: int) -> Path:  # the machine's own file, MemAvailable set to `kib`
        path = tmp_path / f"meminfo-{kib}"
        path.write_text(
            "\n".join(
                f"MemAvailable:    {kib} kB" if ln.startswith("MemAvailable:") else ln
                for ln in lines
            )
        )
        return path

    forked = beside_forks
    monkeypatch.setattr(beside, "FORK_MIN_ROWS", 0)
    monkeypatch.setenv("CRM_AUDIT_WORKERS", "2")
    monkeypatch.setattr(beside, "MEMINFO", meminfo_with(10**12))
    assert beside.memory_to_spare() is True
    two = tmp_path / "two"
    report.write_report(result, two, ["html"], review=write_review)
    monkeypatch.setattr(beside, "MEMINFO", meminfo_with(1024))
    assert beside.memory_to_spare() is False
    one = tmp_path / "one"
    report.write_report(result, one, ["html"], review=write_review)
    assert forked == [True, False]
    a, b = _files(one), _files(two)
    assert "merge_review.html" in a
    assert [k for k in a if a[k] != b.get(k)] == []
