"""The decisions store (decisions.sqlite) under a hostile environment (issue #14).

It is shared by every run of a config and by reviewers, so: a corrupt or misplaced store never
fails an audit or a merge (moved aside with a warning, a new one starts), writers queue behind
a busy timeout instead of failing, and each write lands whole or not at all.
"""

from __future__ import annotations

import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from audit import review_store
from audit.cli import cli
from audit.merge.decisions import Decision

REPO = Path(__file__).resolve().parent.parent
SOURCES = REPO / "tests" / "fixtures" / "sources"
INPUTS = [
    str(SOURCES / "hubspot.contacts" / "hubspot_contacts.csv"),
    str(SOURCES / "google.contacts" / "google_contacts.csv"),
]


def _audit(runner, out: Path):
    return runner.invoke(cli, ["audit", *INPUTS, "--out", str(out), "--as-of", "2026-01-31"])


def _runs_in(store: Path) -> list[str]:
    con = sqlite3.connect(store)
    try:
        return [r[0] for r in con.execute("SELECT run_id FROM store_runs ORDER BY run_id")]
    finally:
        con.close()


@pytest.mark.parametrize("what", ["garbage", "truncated", "folder"])
def test_a_broken_decisions_store_never_fails_the_audit(tmp_path: Path, runner, what) -> None:
    out = tmp_path / "reports"
    store = out / review_store.FILE_NAME
    first = _audit(runner, out)
    assert first.exit_code == 0, first.output
    assert len(_runs_in(store)) == 1
    if what == "garbage":
        store.write_bytes(b"not a database at all\n" * 200)
    elif what == "truncated":
        store.write_bytes(store.read_bytes()[:2048] + b"\0garbage" * 300)
    else:
        store.unlink()
        store.mkdir()
    res = _audit(runner, out)
    assert res.exit_code == 0, res.output
    assert "Traceback" not in res.output
    warned = [ln for ln in res.output.splitlines() if "decisions store" in ln]
    assert warned and warned[0].startswith("Warning:"), res.output
    if what == "folder":
        assert "not used" in warned[0] and store.is_dir()
        return
    # the broken file is kept for a look, the warning says what is lost, and a new one starts
    assert "moved aside" in warned[0] and "remembered review decisions" in warned[0]
    assert len(list(out.glob("decisions.sqlite.corrupt-*"))) == 1
    runs = sorted(p.name for p in out.iterdir() if (p / "run.json").is_file())
    assert _runs_in(store) == runs[-1:]


def test_review_status_of_a_garbage_store_warns_and_shows_nothing_decided(
    tmp_path: Path, runner
) -> None:
    store = tmp_path / review_store.FILE_NAME
    store.write_bytes(b"\x00\x01garbage" * 500)
    res = runner.invoke(cli, ["review", "status", str(store)])
    assert res.exit_code == 0, res.output
    assert "Traceback" not in res.output
    assert "moved aside" in res.output and "0 clusters approved" in res.output


_WRITER = """
import sys, warnings
from pathlib import Path
from audit import review_store
from audit.merge.decisions import Decision
warnings.simplefilter("error")  # a writer that gave up would warn: make it fail loudly
store, who, n = Path(sys.argv[1]), sys.argv[2], int(sys.argv[3])
for k in range(n):
    run_id = f"2026{who}{k:04d}"
    clusters = [(f"c{j}", f"{who}:{k}:{j}:{m}", "") for j in range(20) for m in range(2)]
    hashes = [f"h{r}" for _, r, _ in clusters]
    review_store.record_run(store, run_id, store.parent, clusters, hashes, {})
    decided = {f"c{j}": Decision(f"c{j}", "reject" if j % 2 else "approve") for j in range(20)}
    got = review_store.record_decisions(store, run_id, decided, source=who)
    assert got.stored and got.known_run and got.pairs == 20, got
print("ok")
"""


def test_concurrent_writers_queue_and_lose_nothing(tmp_path: Path) -> None:
    """Four writers at once, while a reviewer's tool holds the write lock for longer than
    SQLite's default 5 s timeout: every write waits its turn and lands."""
    store = tmp_path / review_store.FILE_NAME
    review_store.record_run(store, "2026init", tmp_path, [], [], {})
    holder = sqlite3.connect(store, isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")
    env = {"PYTHONPATH": str(REPO), "PATH": "/usr/bin:/bin"}
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", _WRITER, str(store), f"w{i}", "6"],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for i in range(4)
    ]
    time.sleep(6.0)
    holder.execute("COMMIT")
    holder.close()
    outs = [p.communicate(timeout=240) for p in procs]
    assert [p.returncode for p in procs] == [0] * 4, [e[-1500:] for _, e in outs]
    con = sqlite3.connect(store)
    try:
        assert con.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        assert con.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert con.execute("SELECT COUNT(*) FROM store_runs").fetchone()[0] == 1 + 4 * 6
        assert con.execute("SELECT COUNT(*) FROM pair_decisions").fetchone()[0] == 4 * 6 * 20
    finally:
        con.close()


def test_a_decision_write_is_all_or_nothing(tmp_path: Path) -> None:
    """A write that fails half-way (an I/O error; a trigger stands in for it on the second
    cluster) leaves no partial rows, and says so with a warning instead of failing the merge
    that asked for it."""
    store = tmp_path / review_store.FILE_NAME
    clusters = [("c1", "a", ""), ("c1", "b", ""), ("c2", "x", ""), ("c2", "y", "")]
    review_store.record_run(store, "r1", tmp_path, clusters, [""] * len(clusters), {})
    con = sqlite3.connect(store)
    con.execute(
        "CREATE TRIGGER fail BEFORE INSERT ON pair_decisions WHEN NEW.cluster_id = 'c2' "
        "BEGIN SELECT RAISE(ABORT, 'disk I/O error'); END"
    )
    con.commit()
    con.close()
    good, bad = Decision("c1", "approve"), Decision("c2", "reject")
    with pytest.warns(review_store.DecisionsWarning, match="not written"):
        got = review_store.record_decisions(store, "r1", {"c1": good, "c2": bad}, source="t")
    assert not got.stored
    con = sqlite3.connect(store)
    try:
        assert con.execute("SELECT COUNT(*) FROM pair_decisions").fetchone()[0] == 0
    finally:
        con.close()


def test_an_unwritable_store_folder_warns_and_the_merge_still_applies(
    tmp_path: Path, runner
) -> None:
    out = tmp_path / "reports"
    assert _audit(runner, out).exit_code == 0
    (run,) = [p for p in out.iterdir() if (p / "run.json").is_file()]
    clusters = (run / "clusters.csv").read_text(encoding="utf-8-sig").splitlines()[1:]
    if not clusters:
        pytest.skip("no cluster to decide on in this input")
    cid = clusters[0].split(",")[0]
    dec = tmp_path / "d.csv"
    dec.write_text(f"cluster_id,decision\n{cid},approve\n", encoding="utf-8")
    store = out / review_store.FILE_NAME
    store.unlink()
    store.mkdir()  # a folder where the store should be
    res = runner.invoke(cli, ["merge", "apply", str(run), "--decisions", str(dec)])
    assert res.exit_code == 0, res.output
    assert "Traceback" not in res.output
    assert "decisions store" in res.output and "not remembered" in res.output
    assert (run / "merged" / "merge_log.json").is_file()


def test_a_store_from_before_without_rowid_still_remembers(tmp_path: Path) -> None:
    """Stores made before run_clusters was WITHOUT ROWID keep their table: a run recorded in
    one is remembered by the next run, and older runs are still trimmed."""
    store = tmp_path / review_store.FILE_NAME
    con = sqlite3.connect(store)
    con.executescript(
        """
        CREATE TABLE run_clusters (
            run_id TEXT NOT NULL, cluster_id TEXT NOT NULL, record_id TEXT NOT NULL,
            content_hash TEXT NOT NULL, decision TEXT NOT NULL,
            PRIMARY KEY (run_id, record_id)
        );
        CREATE TABLE store_runs (
            run_id TEXT PRIMARY KEY, run_dir TEXT NOT NULL, memory TEXT NOT NULL,
            pending INTEGER NOT NULL
        );
        INSERT INTO store_runs VALUES ('r0', '/runs/r0', '{}', 0);
        INSERT INTO run_clusters VALUES ('r0', 'c0', 'crm:9', 'h9', '');
        """
    )
    con.close()
    clusters = [("c1", "crm:2", ""), ("c1", "crm:1", ""), ("c2", "crm:3", "approve")]
    hashes = ["h2", "h1", "h3"]
    for n in range(review_store.KEEP_RUNS + 1):
        review_store.record_run(
            store, f"r{n + 1:02d}", tmp_path / f"r{n + 1}", clusters, hashes, {}
        )
    memory = review_store.load_memory(store, before="r99")
    assert memory.previous_clusters == {"c1": ["crm:1", "crm:2"], "c2": ["crm:3"]}
    con = sqlite3.connect(store)
    try:
        kept = [r[0] for r in con.execute("SELECT DISTINCT run_id FROM run_clusters")]
        plain = con.execute("SELECT sql FROM sqlite_master WHERE name = 'run_clusters'").fetchone()[
            0
        ]
    finally:
        con.close()
    assert "r0" not in kept and len(kept) == review_store.KEEP_RUNS
    assert "WITHOUT ROWID" not in plain  # the old table, used as it was
