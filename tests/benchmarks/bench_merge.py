"""Benchmark golden-record proposal, merge apply and undo at scale.

Run: .venv/bin/python tests/benchmarks/bench_merge.py [--quick] [--n N]
Prints wall time, peak RSS and throughput for propose_golden (the cost the match stage pays on
every run), and for apply + undo over a run folder of N contacts.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import resource
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from audit import schema
from audit.config import dump_config, parse_config
from audit.manifest import write_manifest
from audit.match.survivorship import load_rules, propose_golden
from audit.merge import apply_merge, undo_merge, write_review
from audit.merge.apply import ORIGINALS_FILE
from audit.model import Ingest, Matches, RunResult, Scorecard, Verdict


def contacts(n: int, seed: int = 7) -> tuple[pd.DataFrame, pd.DataFrame]:
    """n contacts, ~30% of them in clusters of 2-4 (like a messy CRM)."""
    rng = np.random.default_rng(seed)
    ids = np.array([f"s{i % 3}:{i:08d}" for i in range(n)], dtype=object)
    n_in = int(n * 0.3)
    sizes = rng.integers(2, 5, size=n_in // 2)
    sizes = sizes[np.cumsum(sizes) <= n_in]
    labels = np.repeat(np.arange(len(sizes)), sizes)
    members = rng.permutation(n)[: len(labels)]
    clusters = pd.DataFrame(
        {"cluster_id": [f"c{x:09d}" for x in labels], "record_id": ids[members], "band": "review"}
    )
    first = np.array(["Minjun", "Hanako", "Wei", "Anna", "Ben", "Sara", "Tom", "Li"], dtype=object)
    last = np.array(["Kim", "Sato", "Wang", "Smith", "Lee", "Park", "Chen", "Brown"], dtype=object)
    f = first[rng.integers(0, 8, n)]
    la = last[rng.integers(0, 8, n)]
    blank = rng.random(n) < 0.2
    email = pd.Series(
        [
            f"{a}.{b}{i % 5000}@example.com".lower()
            for i, (a, b) in enumerate(zip(f, la, strict=True))
        ]
    )
    base = pd.Timestamp("2018-01-01", tz="UTC")
    frame = pd.DataFrame(
        {
            "record_id": ids,
            "source": [i.split(":")[0] for i in ids],
            "source_file": "x.csv",
            "source_row": np.arange(1, n + 1),
            "extra": "{}",
            "full_name": pd.Series(f + " " + la, dtype="str"),
            "first_name": pd.Series(f, dtype="str"),
            "last_name": pd.Series(la, dtype="str"),
            "email": email.where(~blank, None).astype("str"),
            "phone": pd.Series(
                [f"+1 555 {i % 10000:04d}" if i % 3 else None for i in range(n)], dtype="str"
            ),
            "company": pd.Series(np.where(rng.random(n) < 0.5, "Acme Inc", None), dtype="str"),
            "created_at": base + pd.to_timedelta(rng.integers(0, 2000, n), unit="D"),
            "updated_at": base + pd.to_timedelta(rng.integers(1000, 3000, n), unit="D"),
        }
    )
    frame["email_key"] = frame["email"]
    return schema.conform(frame, "contacts"), clusters


def _result(frame: pd.DataFrame, clusters: pd.DataFrame, tmp: Path) -> RunResult:
    pairs = clusters.merge(clusters, on="cluster_id")
    pairs = pairs[pairs["record_id_x"] < pairs["record_id_y"]]
    pairs = pd.DataFrame(
        {
            "record_id_l": pairs["record_id_x"].to_numpy(),
            "record_id_r": pairs["record_id_y"].to_numpy(),
            "score": 0.9,
            "band": "review",
            "rule_id": "match.fuzzy",
            "sim_name": 0.8,
        }
    )
    cfg = parse_config({"sources": [{"name": "s0", "path": "x.csv"}]}, base_dir=tmp)
    empty = pd.DataFrame()
    return RunResult(
        run_id="bench",
        as_of=dt.date(2026, 1, 31),
        config=cfg,
        ingest=Ingest(records={"contacts": frame}, issues=empty, counts=empty),
        records={"contacts": frame},
        issues=empty,
        matches=Matches(pairs=pairs, clusters=clusters),
        scorecard=Scorecard(1.0, empty, empty, empty, empty),
        verdict=Verdict(True, ()),
        kpis=None,
        timings={},
    )


def peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true", help="10k contacts")
    ap.add_argument("--n", type=int, default=1_000_000, help="contacts for propose_golden")
    ap.add_argument(
        "--apply-n", type=int, default=100_000, help="contacts in the run folder for apply/undo"
    )
    args = ap.parse_args()
    n = 10_000 if args.quick else args.n
    apply_n = min(n, args.apply_n)
    frame, clusters = contacts(n)
    rules = load_rules()
    print(
        f"contacts: {n:,}; in clusters: {len(clusters):,}; "
        f"clusters: {clusters.cluster_id.nunique():,}"
    )
    t = time.perf_counter()
    golden = propose_golden(frame, clusters, [], rules=rules)
    dt = time.perf_counter() - t
    print(
        f"propose_golden: {dt:.2f} s ({len(clusters) / dt:,.0f} member records/s), "
        f"{len(golden):,} golden records, peak RSS {peak_mb():,.0f} MB"
    )
    if apply_n != n:
        frame, clusters = contacts(apply_n)
    with tempfile.TemporaryDirectory() as tmp:
        t = time.perf_counter()
        paths = write_review(
            _result(frame, clusters, Path(tmp)), Path(tmp) / "review", redact=False
        )
        sizes = ", ".join(f"{p.name} {p.stat().st_size / 1e6:.1f} MB" for p in paths)
        print(f"write_review ({apply_n:,} contacts): {time.perf_counter() - t:.2f} s; {sizes}")
        run = Path(tmp) / "run"
        (run / "records").mkdir(parents=True)
        cfg = parse_config({"sources": [{"name": "s0", "path": "x.csv"}]}, base_dir=Path(tmp))
        (run / "run.json").write_text(json.dumps({"run_id": "bench", "config": dump_config(cfg)}))
        frame.to_csv(run / "records" / "contacts.csv", index=False)
        frame.to_parquet(run / "records" / "contacts.parquet", index=False)
        clusters.to_csv(run / "clusters.csv", index=False)
        write_manifest(run, "bench")  # a run folder is complete once listed
        dec = clusters.drop_duplicates("cluster_id")[["cluster_id"]].assign(
            decision="approve", split_off=""
        )
        dec.to_csv(Path(tmp) / "d.csv", index=False)
        t = time.perf_counter()
        res = apply_merge(run, Path(tmp) / "d.csv")
        t_apply = time.perf_counter() - t
        log_mb = res.log.stat().st_size / 1e6
        originals_mb = (res.out_dir / ORIGINALS_FILE).stat().st_size / 1e6  # undo removes it
        t = time.perf_counter()
        undone = undo_merge(res.log)
        t_undo = time.perf_counter() - t
        print(
            f"merge apply: {t_apply:.2f} s ({res.n_before:,} -> {res.n_after:,} contacts); "
            f"undo: {t_undo:.2f} s, byte-identical: {undone.identical}; "
            f"log {log_mb:,.1f} MB + originals {originals_mb:,.1f} MB; "
            f"peak RSS {peak_mb():,.0f} MB"
        )


if __name__ == "__main__":
    main()
