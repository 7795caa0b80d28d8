"""Accuracy of the match stage on the `crm-audit demo` workspace, against its ground truth.

    .venv/bin/python tests/benchmarks/bench_match_demo.py --size 20000

Generates the demo workspace (the project's own messy CRM exports: households, namesakes,
re-typed duplicates in several sources and languages), runs the pipeline up to the match stage,
and scores the contact pairs pairwise against truth/entities.csv (same person_id = duplicate).
"""

from __future__ import annotations

import argparse
import resource
import sys
import tempfile
import time
from pathlib import Path

import pandas as pd


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--size", type=int, default=2000, help="persons behind the demo exports")
    ap.add_argument("--seed", type=int, default=7)
    args = ap.parse_args()
    from audit.config import load_config
    from audit.demo import generate_workspace
    from audit.pipeline import analyse

    with tempfile.TemporaryDirectory() as tmp:
        ws = Path(tmp) / "ws"
        t = time.perf_counter()
        generate_workspace(ws, size=args.size, seed=args.seed)
        print(f"demo workspace for {args.size:,} persons in {time.perf_counter() - t:.1f} s")
        cfg = load_config(ws / "demo.yaml")
        t = time.perf_counter()
        result = analyse(cfg)
        print(f"pipeline in {time.perf_counter() - t:.1f} s; match {result.timings['match']:.2f} s")
        truth = pd.read_csv(ws / "truth" / "entities.csv", dtype=str)
    contacts = result.records["contacts"]
    key = contacts[["record_id", "source", "source_row"]].astype(str)
    truth = truth.astype({"source_row": str})
    merged = key.merge(truth[["source", "source_row", "person_id"]], on=["source", "source_row"])
    person = merged.drop_duplicates("record_id").set_index("record_id")["person_id"]
    person = person[person.str.startswith("P")]
    sizes = person.value_counts().to_numpy()
    n_true = int((sizes * (sizes - 1) // 2).sum())
    pairs = result.matches.pairs
    for label, bands in (("review+", ("review", "auto")), ("auto", ("auto",))):
        sel = pairs[pairs["band"].isin(bands)]
        lt = person.reindex(sel["record_id_l"]).to_numpy()
        rt = person.reindex(sel["record_id_r"]).to_numpy()
        known = pd.notna(lt) & pd.notna(rt)
        tp = int((lt[known] == rt[known]).sum())
        p = tp / max(int(known.sum()), 1)
        r = tp / max(n_true, 1)
        print(
            f"  {label:8s} precision {p:.4f} recall {r:.4f} ({tp:,} of {int(known.sum()):,} "
            f"pairs true; {n_true:,} true pairs among {len(person):,} contact rows)"
        )
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"  peak RSS {rss:.0f} MB")


if __name__ == "__main__":
    sys.exit(main())
