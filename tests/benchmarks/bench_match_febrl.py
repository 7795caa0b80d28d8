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
    found = set(zip(res.pairs["id_l"], res.pairs["id_r"], strict=True))
    out["febrl3"] = prf(found, true_pairs_dedupe(d3))
    _show("FEBRL3 dedupe", out["febrl3"], wall, res)
    a, b = read_febrl(data / "dataset4a.csv"), read_febrl(data / "dataset4b.csv")
    t = time.perf_counter()
    res = dedupe_frames(
        [a, b], "rec_id", rules, review=cfg.review_threshold, auto=cfg.auto_threshold
    )
    wall = time.perf_counter() - t
    found = set(zip(res.pairs["id_l"], res.pairs["id_r"], strict=True))
    out["febrl4"] = prf(found, true_pairs_link(a, b))
    _show("FEBRL4 link", out["febrl4"], wall, res)
    return out


def _show(name, prf_, wall, res) -> None:
    p, r, f1 = prf_
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(
        f"{name}: precision {p:.4f} recall {r:.4f} F1 {f1:.4f} | pairs found {len(res.pairs)}, "
        f"candidates {res.stats['candidate_pairs']}, wall {wall:.2f} s, peak RSS {rss:.0f} MB"
    )


if __name__ == "__main__":
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", type=Path, default=DATA)
    run(ap.parse_args().data)
