"""`crm-audit dedupe` on a CRM-like CSV file, end to end, side by side with Splink 5.

    .venv/bin/python tests/benchmarks/bench_dedupe_csv.py               # 100k records
    .venv/bin/python tests/benchmarks/bench_dedupe_csv.py --n 1000000   # the 1M target
    .venv/bin/python tests/benchmarks/bench_dedupe_csv.py --quick       # 10k records

What a user runs, timed from outside: the CSV (crm_synth.py: households, colleagues on one
switchboard phone and company domain, shared role inboxes, Excel-mangled phones, typos) is
written once (cached in --cache), then `crm-audit dedupe FILE` runs as a subprocess (Python
start, reading, normalizing, blocking, training, scoring, clustering, writing pairs.csv and
clusters.csv), then Splink 5 in its own environment (splink_dedupe_csv.py: reading and
cleaning the same CSV in DuckDB, training, predicting at its default threshold p >= 0.5,
clustering, writing). Each is measured by wall time and peak RSS of its process (wait4), and
judged on the generator's truth (pairwise precision / recall / F1 over all true pairs).
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

import pandas as pd

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
sys.path.insert(0, str(HERE))

SPLINK_PY = Path(os.environ.get("SPLINK_PY", "/work/splinkvenv/bin/python"))


def data(n: int, seed: int, cache: Path) -> tuple[Path, pd.Series]:
    """The CSV a user would hand us, and the true person per record id (cached)."""
    csv, truth = cache / f"crm{n}s{seed}.csv", cache / f"crm{n}s{seed}.truth.parquet"
    if not (csv.exists() and truth.exists()):
        from crm_synth import generate

        t = time.perf_counter()
        raw, ent = generate(n, seed)
        cache.mkdir(parents=True, exist_ok=True)
        raw.to_csv(csv, index=False)
        pd.DataFrame({"record_id": raw["record_id"], "ent": ent}).to_parquet(truth)
        print(f"wrote {len(raw):,} records to {csv} in {time.perf_counter() - t:.0f} s")
    return csv, pd.read_parquet(truth).set_index("record_id")["ent"]


def timed(cmd: list[str], env: dict[str, str] | None = None) -> tuple[float, float, str, str]:
    """Wall seconds and peak RSS (MB) of one child process, with its stdout and stderr."""
    with tempfile.TemporaryFile("w+") as fo, tempfile.TemporaryFile("w+") as fe:
        t = time.perf_counter()
        proc = subprocess.Popen(cmd, stdout=fo, stderr=fe, text=True, env=env)
        _, status, usage = os.wait4(proc.pid, 0)  # the child's own peak RSS, not ours
        wall = time.perf_counter() - t
        proc.returncode = os.waitstatus_to_exitcode(status)
        fo.seek(0)
        fe.seek(0)
        out, err = fo.read(), fe.read()
    if proc.returncode:
        sys.exit(f"{cmd[0]} failed ({proc.returncode}):\n{err[-3000:]}")
    return wall, usage.ru_maxrss / 1024, out, err


def prf(pairs: pd.DataFrame, left: str, right: str, truth: pd.Series) -> tuple[float, ...]:
    same = truth.reindex(pairs[left]).to_numpy() == truth.reindex(pairs[right]).to_numpy()
    sizes = truth.value_counts().to_numpy()
    n_true = int((sizes * (sizes - 1) // 2).sum())
    tp = int(same.sum())
    p = tp / len(pairs) if len(pairs) else 1.0
    r = tp / n_true if n_true else 1.0
    return p, r, (2 * p * r / (p + r) if p + r else 0.0), len(pairs)


def steps(text: str) -> dict[str, float]:
    line = [x for x in text.splitlines() if x.startswith("timings: ")]
    return json.loads(line[-1][len("timings: ") :]) if line else {}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=100_000)
    ap.add_argument("--quick", action="store_true", help="10k records")
    ap.add_argument("--seed", type=int, default=42)
    ap.add_argument("--cache", type=Path, default=Path("/tmp/crm-audit-bench"))
    ap.add_argument("--no-splink", action="store_true")
    args = ap.parse_args()
    n = 10_000 if args.quick else args.n
    csv, truth = data(n, args.seed, args.cache)
    out = args.cache / f"out{n}"
    print(f"1-minute load average: {os.getloadavg()[0]:.2f} (2 cores shared with other jobs)")
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    ours_cmd = [sys.executable, "-m", "audit", "dedupe", str(csv), "--id-column", "record_id"]
    wall, rss, _, err = timed([*ours_cmd, "--out", str(out / "crm-audit"), "--timings"], env)
    res = {"crm-audit": (wall, rss, steps(err))}
    pairs = pd.read_csv(out / "crm-audit" / "pairs.csv", usecols=["id_l", "id_r", "band"])
    acc = {
        "crm-audit": prf(pairs, "id_l", "id_r", truth),
        "crm-audit auto": prf(pairs[pairs["band"] == "auto"], "id_l", "id_r", truth),
    }
    if not args.no_splink and SPLINK_PY.exists():
        cmd = [str(SPLINK_PY), str(HERE / "splink_dedupe_csv.py"), str(csv), str(out / "splink")]
        wall, rss, sout, _ = timed(cmd)
        res["splink"] = (wall, rss, steps(sout))
        sp = pd.read_csv(out / "splink" / "pairs.csv", usecols=["unique_id_l", "unique_id_r"])
        acc["splink"] = prf(sp, "unique_id_l", "unique_id_r", truth)
    print(f"{len(truth):,} records from {csv.name}:")
    for tool, (wall, rss, st) in res.items():
        print(f"  {tool:9s} wall {wall:6.1f} s  peak RSS {rss:6.0f} MB  steps {st}")
    for name, (p, r, f1, k) in acc.items():
        print(f"  {name:14s} precision {p:.4f} recall {r:.4f} F1 {f1:.4f} ({k:,} pairs)")
    if "splink" in res:
        ratio = res["crm-audit"][0] / res["splink"][0]
        print(f"  wall crm-audit / Splink: {ratio:.2f} ({'faster' if ratio < 1 else 'slower'})")


if __name__ == "__main__":
    main()
