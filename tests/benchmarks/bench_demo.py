"""Demo benchmark: generate the messy workspace, run the whole pipeline on it, score detection.

    .venv/bin/python tests/benchmarks/bench_demo.py               # 1k, 10k and 100k persons
    .venv/bin/python tests/benchmarks/bench_demo.py --quick       # 1k persons
    .venv/bin/python tests/benchmarks/bench_demo.py --sizes 10000 --keep /tmp/demo10k

Each size runs in its own process so that peak RSS is per size. Printed per size: generation
time and rows written, pipeline wall time per stage, peak RSS, and the detection table
(precision / recall per planted problem kind and pairwise for duplicates) against the truth.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def one(size: int, seed: int, keep: Path | None, pipeline_too: bool) -> int:
    from audit.demo import generate_workspace
    from audit.demo.evaluate import evaluate, format_table, unmapped_rules

    root = keep or Path(tempfile.mkdtemp(prefix=f"crm-audit-demo-{size}-"))
    t0 = time.perf_counter()
    ws = generate_workspace(root, size=size, seed=seed)
    t_gen = time.perf_counter() - t0
    rows = sum(ws.n_rows.values())
    print(
        f"size {size}: generated {rows:,} rows in {len(ws.n_rows)} sources in {t_gen:.1f} s "
        f"({rows / t_gen:,.0f} rows/s), peak RSS {rss_mb():.0f} MB",
        flush=True,
    )
    if not pipeline_too:
        return 0
    from audit import pipeline
    from audit.config import load_config

    cfg = load_config(ws.config)
    t1 = time.perf_counter()
    result = pipeline.run(cfg)
    t_run = time.perf_counter() - t1
    stages = ", ".join(f"{k} {v:.1f}" for k, v in result.timings.items())
    print(
        f"size {size}: pipeline {t_run:.1f} s ({stages}); generation + pipeline "
        f"{t_gen + t_run:.1f} s; peak RSS {rss_mb():.0f} MB; gate "
        f"{'PASSED' if result.verdict.passed else 'FAILED'}, score {result.scorecard.overall:.3f}",
        flush=True,
    )
    table = evaluate(result, ws.truth_dir)
    print(format_table(table), flush=True)
    other = unmapped_rules(result)
    print("findings not scored (no planted kind):", ", ".join(f"{r} {n}" for r, n in other.values))
    print(
        "json:",
        json.dumps(
            {
                "size": size,
                "rows": rows,
                "generate_s": round(t_gen, 2),
                "pipeline_s": round(t_run, 2),
                "peak_rss_mb": round(rss_mb()),
            }
        ),
    )
    print(f"workspace: {root}", flush=True)
    return 0


def main(argv: list[str]) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="1k persons only")
    ap.add_argument("--sizes", default="1000,10000,100000")
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--keep", type=Path, default=None, help="workspace folder (one size only)")
    ap.add_argument("--generate-only", action="store_true", help="time generation only")
    ap.add_argument("--one", type=int, default=None, help=argparse.SUPPRESS)
    a = ap.parse_args(argv)
    if a.one is not None:
        return one(a.one, a.seed, a.keep, not a.generate_only)
    sizes = [1000] if a.quick else [int(s) for s in a.sizes.split(",")]
    rc = 0
    for size in sizes:
        cmd = [sys.executable, __file__, "--one", str(size), "--seed", str(a.seed)]
        if a.keep is not None:
            cmd += ["--keep", str(a.keep)]
        if a.generate_only:
            cmd.append("--generate-only")
        rc |= subprocess.call(cmd)
    return rc


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
