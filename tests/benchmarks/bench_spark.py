"""The whole run on the Spark engine (local[2]) beside pandas: wall, memory, same output.

    .venv/bin/python tests/benchmarks/bench_spark.py                    # demo of 50,000 persons
    .venv/bin/python tests/benchmarks/bench_spark.py --size 2000 --keep /tmp/bs
    .venv/bin/python tests/benchmarks/bench_spark.py --config /work/scale/ws100k/demo.yaml \
        --out /tmp/bs100k-runs                                       # a workspace as it is

This is the check that the two engines write the same run folder on a 100k-contact workspace
(`make bench-spark`, and `make bench` through run_all.py; CI runs it through
tests/test_spark_100k.py): about 3 minutes on 2 idle cores, 10-15 under load. `--size` counts
persons; the demo writes about two contacts per person (50,000 persons gave ~100k contacts).
Each engine runs `pipeline.run` (what `crm-audit run --engine ...` does) in its own process on
the same workspace; a sampler reads /proc every 0.2 s and sums the RSS of
the whole process tree (the driver, Spark's JVM and its Python workers: `/usr/bin/time` sees the
first only), its PSS per kind of process (a sum of RSS counts the pages forked workers share
with their parent once per worker) and the CPU seconds of every process of the tree. Printed
per engine: wall, CPU seconds, peak tree RSS and its JVM part, peak tree PSS per kind of
process, wall per stage and match step (run.json); then
whether every file of the two run folders is byte-identical (run.json and manifest.json
aside: they hold the engine and the timings). Exit 1 when a file differs.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from proctree import Sampler, kinds_text

# one run in a fresh process; a fixed run id, so that the two run folders can be compared
RUN = """
import sys
from pathlib import Path

from audit import load_config, pipeline

if __name__ == "__main__":  # worker processes import this file again
    cfg = load_config(sys.argv[1]).model_copy(update={"engine": sys.argv[2]})
    pipeline.run(cfg, out=Path(sys.argv[3]), run_id="bench")
"""


def run_engine(engine: str, config: Path, out: Path) -> dict[str, object]:
    script = out.parent / "bench_spark_run.py"
    script.write_text(RUN, encoding="utf-8")
    cmd = [sys.executable, str(script), str(config), engine, str(out)]
    env = {**os.environ, "PYTHONWARNINGS": "ignore"}
    t0 = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env)
    sampler = Sampler(proc.pid).start()
    _, err = proc.communicate()
    wall = time.perf_counter() - t0
    sampler.stop()
    if proc.returncode != 0:
        # Spark's own log lines come before the Python traceback: a JVM that died of its heap
        # says so far above the last lines, so the whole stream is kept beside the run folders
        log = out.parent / f"{engine}.stderr.log"
        log.write_bytes(err)
        raise SystemExit(
            f"{engine}: exit {proc.returncode} (all of stderr: {log})\n"
            f"{err.decode(errors='replace')[-2000:]}"
        )
    run_dir = next(p.parent for p in out.rglob("run.json"))
    timings = json.loads((run_dir / "run.json").read_text())["timings"]
    return {
        "wall": wall,
        "cpu": sum(sampler.cpu.values()),
        "peak": sampler.peak,
        "java": sampler.java,
        "pss": sampler.pss,
        "timings": timings,
        "dir": run_dir,
    }


def _parquet_name(rel: str) -> str | None:
    """The table a path belongs to when it is Parquet (`records/contacts.parquet` for the
    pandas engine's file and for each part file of the Spark engine's folder)."""
    parts = Path(rel).parts
    for k, part in enumerate(parts):
        if part.endswith(".parquet"):
            return str(Path(*parts[: k + 1]))
    return None


def _rows(path: Path) -> Any:
    """A Parquet table (a file or a dataset folder) with values in comparable types."""
    import pandas as pd

    frame = pd.read_parquet(path)
    out = {}
    for c in frame.columns:
        s = frame[c]
        if isinstance(s.dtype, pd.DatetimeTZDtype) or pd.api.types.is_datetime64_dtype(s):
            # Spark writes microseconds (the records hold no finer time)
            s = s.astype(
                "datetime64[us, UTC]" if isinstance(s.dtype, pd.DatetimeTZDtype) else "M8[us]"
            )
        out[c] = s.astype(object).where(s.notna(), None)
    return pd.DataFrame(out)


def same_files(a: Path, b: Path) -> tuple[int, list[str]]:
    """(files and Parquet tables compared, those that differ): every file byte for byte, but
    Parquet tables, which the Spark engine writes as dataset folders: those by their rows, in
    order (tests/test_spark_io.py checks their part files)."""
    skip = {"run.json", "manifest.json"}

    def listing(root: Path) -> tuple[set[str], set[str]]:
        files, tables = set(), set()
        for p in root.rglob("*"):
            if not p.is_file() or p.name in skip:
                continue
            rel = str(p.relative_to(root))
            table = _parquet_name(rel)
            (tables if table else files).add(table or rel)
        return files, tables

    (fa, ta), (fb, tb) = listing(a), listing(b)
    # the Spark engine also writes issues, duplicates and clusters as Parquet: tables its CSVs
    # (compared here byte for byte) hold too
    diff = sorted((fa ^ fb) | (ta - tb))
    diff += sorted(n for n in fa & fb if (a / n).read_bytes() != (b / n).read_bytes())
    diff += sorted(n for n in ta & tb if not _rows(a / n).equals(_rows(b / n)))
    return len(fa | fb) + len(ta), diff


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--size", type=int, default=50_000, help="demo persons (default 50000)")
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--quick", action="store_true", help="2,000 persons (run_all.py --quick)")
    ap.add_argument("--keep", type=Path, help="workspace folder to keep (default: a temp dir)")
    ap.add_argument("--config", type=Path, help="an existing workspace's config (no demo made)")
    ap.add_argument("--out", type=Path, help="where the run folders go (default: the workspace)")
    ap.add_argument("--engines", default="pandas,spark", help="pandas,spark (both compared)")
    args = ap.parse_args()
    if args.quick:
        args.size = 2_000
    from audit import spark

    reason = spark.missing()
    if reason:
        raise SystemExit(f"the Spark engine cannot run here: {reason}; {spark.INSTALL_HINT}")
    from audit.demo import generate_workspace

    if args.config is not None:
        config, root = args.config.resolve(), args.config.resolve().parent
    else:
        root = args.keep or Path(tempfile.mkdtemp(prefix=f"crm-audit-spark-{args.size}-"))
        config = root / "demo.yaml"
        if not config.exists():
            ws = generate_workspace(root, size=args.size, seed=args.seed)
            config = Path(ws.config)
    outs = args.out or root
    load = os.getloadavg()[0]
    print(f"workspace {config}; load average {load:.1f}", flush=True)
    results = {}
    for engine in args.engines.split(","):
        out = outs / f"runs-{engine}"
        if out.exists() and any(out.iterdir()):  # an earlier run would be its "previous run"
            raise SystemExit(f"{out} is not empty: remove it or give another --out")
        out.mkdir(parents=True, exist_ok=True)
        r = run_engine(engine, config, out)
        results[engine] = r
        t = r["timings"]
        stages = ", ".join(
            f"{k} {v:.1f}" for k, v in t.items() if isinstance(v, int | float) and "." not in k
        )
        inner = t.get("match.timings") or {}
        steps = ", ".join(f"{k} {v:.1f}" for k, v in inner.items())
        print(
            f"{engine:6}: wall {r['wall']:.1f} s, CPU {r['cpu']:.1f} s, "
            f"peak tree RSS {r['peak'] / 2**30:.2f} GB "
            f"(JVM {r['java'] / 2**30:.2f} GB); stages: {stages}; match steps: {steps}",
            flush=True,
        )
        p = r["pss"]
        print(
            f"{'':6}  peak tree PSS {p['peak'] / 2**30:.2f} GB: {kinds_text(p['at'])}; "
            f"at the RSS peak: {kinds_text(p['at_rss'])}; Python workers at once: {p['workers']}",
            flush=True,
        )
    if len(results) < 2:
        return 0
    n, diff = same_files(results["pandas"]["dir"], results["spark"]["dir"])
    print(f"run folders: {n} files, {len(diff)} differ{': ' + ', '.join(diff) if diff else ''}")
    return 1 if diff else 0


if __name__ == "__main__":
    raise SystemExit(main())
