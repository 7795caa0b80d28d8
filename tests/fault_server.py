"""Fault injection for the tests: fork `run` or `merge apply`, kill -9 it at a seeded random
moment, then check what a user would: nothing incomplete accepted, undo restores the records.

Run as a subprocess by tests/test_faults.py: `python -m tests.fault_server MODE ARGS_JSON`.
The library is imported once, then every trial is a forked child (a real process killed with
SIGKILL), so dozens of trials fit in seconds. Prints one JSON line per trial.
"""

from __future__ import annotations

import hashlib
import json
import os
import random
import shutil
import signal
import sys
import time
from pathlib import Path
from typing import Any


def _fork(fn: Any, *args: Any) -> int:
    pid = os.fork()
    if pid == 0:  # the child: do the work, never return into the parent's code
        code = 0
        try:
            fn(*args)
        except BaseException:
            code = 1
        finally:
            os._exit(code)
    return pid


def _wait(pid: int) -> int:
    return os.waitpid(pid, 0)[1]


LAST_FINISH: list[float] = []  # how long the last child that finished took (the machine's pace)


def _killed_after(pid: int, delay: float) -> bool:
    """SIGKILL the child after `delay` seconds unless it finished; whether it was killed."""
    start = time.monotonic()
    end = start + delay
    while time.monotonic() < end:
        done, _ = os.waitpid(pid, os.WNOHANG)
        if done:
            LAST_FINISH[:] = [time.monotonic() - start]
            return False
        time.sleep(0.002)
    os.kill(pid, signal.SIGKILL)
    _wait(pid)
    return True


def _timed(fn: Any, *args: Any) -> float:
    t = time.monotonic()
    status = _wait(_fork(fn, *args))
    if status != 0:
        raise SystemExit(f"calibration run failed with status {status}")
    return time.monotonic() - t


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _check_child(fn: Any, *args: Any) -> dict[str, Any]:
    """Run a check in a child too (the parent stays free of threads, so forking stays safe)."""
    r, w = os.pipe()
    pid = os.fork()
    if pid == 0:
        os.close(r)
        try:
            out = fn(*args)
        except BaseException as e:
            out = {"ok": False, "error": f"{type(e).__name__}: {e}"}
        os.write(w, json.dumps(out).encode())
        os._exit(0)
    os.close(w)
    data = b""
    while chunk := os.read(r, 65536):
        data += chunk
    os.close(r)
    _wait(pid)
    return json.loads(data or b'{"ok": false, "error": "no answer"}')


# --- run -----------------------------------------------------------------------------------


def _run(cfg_path: str, out: str) -> None:
    from audit import load_config
    from audit.pipeline import run

    run(load_config(cfg_path), out=Path(out))


def runs(args: dict[str, Any]) -> None:
    import audit.pipeline  # noqa: F401  (imported once, before forking)

    rng = random.Random(args["seed"])
    duration = _timed(_run, args["config"], args["out"])
    for trial in range(args["trials"]):
        delay = rng.uniform(duration * 0.4, duration * 1.05)  # most kills in the write phase
        killed = _killed_after(_fork(_run, args["config"], args["out"]), delay)
        if not killed:  # the machine got faster (less load): aim at the new pace
            duration = min(duration, *LAST_FINISH)
        print(json.dumps({"trial": trial, "delay": round(delay, 3), "killed": killed}), flush=True)
    print(json.dumps({"calibration": round(duration, 3)}), flush=True)


def concurrent(args: dict[str, Any]) -> None:
    import audit.pipeline  # noqa: F401

    pids = [_fork(_run, args["config"], args["out"]) for _ in range(args["n"])]
    print(json.dumps({"status": [_wait(p) for p in pids]}), flush=True)


# --- merge apply ---------------------------------------------------------------------------


def _apply(run_dir: str, decisions: str | None) -> None:
    from audit.merge import apply_merge

    apply_merge(Path(run_dir), Path(decisions) if decisions else None)


def _after_kill(run_dir: str, records_sha: str, had_merge: bool) -> dict[str, Any]:
    from audit.errors import AuditError
    from audit.manifest import check_run_folder
    from audit.merge import undo_merge

    run = Path(run_dir)
    check_run_folder(run)  # the run folder is untouched and complete
    merged = run / "merged"
    try:
        res = undo_merge(merged / "merge_log.json")
    except AuditError as e:
        nothing = "nothing to undo" in str(e) or "merge log not found" in str(e)
        ok = nothing and not had_merge and not (merged / "contacts.csv").exists()
        return {"ok": ok, "undo": str(e)}
    ok = res.identical and _sha(merged / "contacts.csv") == records_sha
    leftovers = [p.name for p in run.iterdir() if p.name.startswith(".merged.")]
    return {"ok": ok and not leftovers, "undo": "identical" if ok else "differs", "left": leftovers}


def applies(args: dict[str, Any]) -> None:
    import audit.merge  # noqa: F401

    run_dir, decisions = args["run_dir"], args.get("decisions")
    records_sha = _sha(Path(run_dir) / "records" / "contacts.csv")
    rng = random.Random(args["seed"])
    shutil.rmtree(Path(run_dir) / "merged", ignore_errors=True)
    duration = _timed(_apply, run_dir, None)
    for trial in range(args["trials"]):
        second = trial % 2 == 1  # odd trials: a second apply over a complete earlier one
        shutil.rmtree(Path(run_dir) / "merged", ignore_errors=True)
        if second:
            _timed(_apply, run_dir, None)
        delay = rng.uniform(0, duration * 1.2)
        killed = _killed_after(_fork(_apply, run_dir, decisions if second else None), delay)
        if not killed:
            duration = min(duration, *LAST_FINISH)
        check = _check_child(_after_kill, run_dir, records_sha, second)
        print(
            json.dumps(
                {
                    "trial": trial,
                    "second": second,
                    "delay": round(delay, 4),
                    "killed": killed,
                    **check,
                }
            ),
            flush=True,
        )
    print(json.dumps({"calibration": round(duration, 4)}), flush=True)


def _undo(run_dir: str) -> None:
    from audit.merge import undo_merge

    undo_merge(Path(run_dir) / "merged" / "merge_log.json")


def _after_undo_kill(run_dir: str, records_sha: str) -> dict[str, Any]:
    from audit.merge import undo_merge

    merged = Path(run_dir) / "merged"
    res = undo_merge(merged / "merge_log.json")  # again, after the kill: must finish the job
    config = (merged / "config.merged.yaml").read_text(encoding="utf-8")
    ok = res.identical and _sha(merged / "contacts.csv") == records_sha and "contacts/" in config
    return {"ok": ok, "already": res.already}


def undos(args: dict[str, Any]) -> None:
    import audit.merge  # noqa: F401

    run_dir = args["run_dir"]
    records_sha = _sha(Path(run_dir) / "records" / "contacts.csv")
    rng = random.Random(args["seed"])
    shutil.rmtree(Path(run_dir) / "merged", ignore_errors=True)
    _timed(_apply, run_dir, None)
    duration = _timed(_undo, run_dir)
    for trial in range(args["trials"]):
        shutil.rmtree(Path(run_dir) / "merged", ignore_errors=True)
        _timed(_apply, run_dir, None)
        delay = rng.uniform(0, duration * 1.2)
        killed = _killed_after(_fork(_undo, run_dir), delay)
        if not killed:
            duration = min(duration, *LAST_FINISH)
        check = _check_child(_after_undo_kill, run_dir, records_sha)
        print(json.dumps({"trial": trial, "killed": killed, **check}), flush=True)


if __name__ == "__main__":
    mode, raw = sys.argv[1], json.loads(sys.argv[2])
    {"runs": runs, "concurrent": concurrent, "applies": applies, "undos": undos}[mode](raw)
