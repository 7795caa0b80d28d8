"""Benchmark of the report stage: write a whole run folder (every format) for N contacts.

    .venv/bin/python tests/benchmarks/bench_report.py            # 100,000 contacts
    .venv/bin/python tests/benchmarks/bench_report.py --quick    # 5,000 contacts
    .venv/bin/python tests/benchmarks/bench_report.py --redact   # with redaction

Prints wall time per phase, peak RSS and throughput (records per second).
"""

from __future__ import annotations

import argparse
import resource
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from audit.report import WRITERS, context_for, render
from tests.factories import make_frame, make_run_result


def build(n: int) -> object:
    rng = np.random.default_rng(7)
    ids = np.arange(n)
    contacts = make_frame(
        "contacts",
        n,
        full_name=[f"Person {i}" if i % 50 else '=HYPERLINK("x")' for i in ids],
        email=[f"user{i}@example.com" for i in ids],
        phone=[f"+82 10-{i % 10000:04d}-{(i * 7) % 10000:04d}" for i in ids],
        company=[f"Company {i % 997}" for i in ids],
        owner=[f"rep_{i % 13}" for i in ids],
        extra=['{"note": "call 010-1234-5678"}' if i % 10 == 0 else None for i in ids],
    )
    contacts["created_at"] = pd.to_datetime("2025-01-01", utc=True) + pd.to_timedelta(
        rng.integers(0, 365, n), unit="D"
    )
    n_issues = n
    issues = pd.DataFrame(
        {
            "record_id": [f"t:{1 + i % n}" for i in range(n_issues)],
            "entity": "contacts",
            "field": "email",
            "rule_id": [f"contacts.email.r{i % 20}" for i in range(n_issues)],
            "dimension": "validity",
            "severity": "error",
            "message": [f"bad email user{i}@example.com" for i in range(n_issues)],
            "value": [f"user{i}@example.com" for i in range(n_issues)],
            "suggestion": None,
            "evidence": None,
        }
    )
    n_pairs = n // 2
    pairs = pd.DataFrame(
        {
            "record_id_l": [f"t:{i + 1}" for i in range(n_pairs)],
            "record_id_r": [f"t:{i + 2}" for i in range(n_pairs)],
            "score": rng.random(n_pairs),
            "band": "review",
            "rule_id": "match.duplicate.probable",
            "sim_full_name": rng.random(n_pairs),
        }
    )
    return make_run_result({"contacts": contacts}, issues=issues, pairs=pairs)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--redact", action="store_true")
    ap.add_argument("-n", type=int, default=None)
    args = ap.parse_args()
    n = args.n or (5_000 if args.quick else 100_000)
    t0 = time.perf_counter()
    result = build(n)
    t1 = time.perf_counter()
    ctx = context_for(result, redact=args.redact)
    t2 = time.perf_counter()
    print(f"contacts={n:,} issues={n:,} pairs={n // 2:,} redact={args.redact}")
    print(f"build inputs      {t1 - t0:7.2f} s")
    print(f"context (+redact) {t2 - t1:7.2f} s")
    with tempfile.TemporaryDirectory() as tmp:
        total = t2 - t1
        for name in ("json", "csv", "html", "md", "xlsx"):
            s = time.perf_counter()
            paths = render(ctx, Path(tmp), [name], core=False)
            dt = time.perf_counter() - s
            total += dt
            size = sum(p.stat().st_size for p in paths)
            print(f"{name:<5} writer       {dt:7.2f} s  {size / 1e6:8.1f} MB")
    assert set(WRITERS.names()) == {"json", "csv", "html", "md", "xlsx"}
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"total report      {total:7.2f} s  ({n / total:,.0f} contacts/s)")
    print(f"peak RSS          {rss:7.0f} MB")


if __name__ == "__main__":
    main()
