"""FEBRL accuracy: pairwise precision / recall / F1 at the default review threshold.

    .venv/bin/python tests/benchmarks/bench_match_febrl.py [--data ../shared/data/febrl]

FEBRL3 (dedupe, 5,000 records, 6,538 true pairs) and FEBRL4 (link 5,000 + 5,000, 5,000 links);
the entity is the number in rec_id. Splink 5 reaches F1 0.993 / 0.999 here.
"""

from __future__ import annotations

import argparse
import resource
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from febrl import prf, read_febrl, true_pairs_dedupe, true_pairs_link

from audit.config import MatchConfig
from audit.match.plain import dedupe_frames
from audit.match.rules import load_rules

DATA = Path(__file__).resolve().parents[3] / "shared" / "data" / "febrl"


def run(data: Path) -> dict[str, tuple[float, float, float]]:
    cfg = MatchConfig()
    rules = load_rules(cfg.rules)
    out = {}
    d3 = read_febrl(data / "dataset3.csv")
    t = time.perf_counter()
    res = dedupe_frames([d3], "rec_id", rules, review=cfg.review_threshold, auto=cfg.auto_threshold)
    wall = time.perf_counter() - t
    out["febrl3"] = _show("FEBRL3 dedupe", res, true_pairs_dedupe(d3), wall)
    a, b = read_febrl(data / "dataset4a.csv"), read_febrl(data / "dataset4b.csv")
    t = time.perf_counter()
    res = dedupe_frames(
        [a, b], "rec_id", rules, review=cfg.review_threshold, auto=cfg.auto_threshold
    )
    wall = time.perf_counter() - t
    out["febrl4"] = _show("FEBRL4 link", res, true_pairs_link(a, b), wall)
    return out


def _show(name, res, truth, wall) -> tuple[float, float, float]:
    """Print precision / recall / F1 of the auto band and of auto + review; return the latter."""
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    out = (0.0, 0.0, 0.0)
    for label, bands in (("auto+review", ("auto", "review")), ("auto", ("auto",))):
        sel = res.pairs[res.pairs["band"].isin(bands)]
        p, r, f1 = prf(set(zip(sel["id_l"], sel["id_r"], strict=True)), truth)
        out = (p, r, f1) if label == "auto+review" else out
        print(
            f"{name} {label:11s}: precision {p:.4f} recall {r:.4f} F1 {f1:.4f} ({len(sel)} pairs)"
        )
    print(f"  candidates {res.stats['candidate_pairs']}, wall {wall:.2f} s, peak RSS {rss:.0f} MB")
    return out


if __name__ == "__main__":
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", type=Path, default=DATA)
    run(ap.parse_args().data)
