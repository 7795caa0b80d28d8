"""Match-stage benchmark on seeded CRM-like contacts: accuracy, wall time, pairs, peak memory.

    .venv/bin/python tests/benchmarks/bench_match.py             # 100k records
    .venv/bin/python tests/benchmarks/bench_match.py --n 1000000 # the 1M speed target
    .venv/bin/python tests/benchmarks/bench_match.py --quick     # 10k records

The data (crm_synth.py) holds households, same-name strangers, switchboard phones and noisy
duplicates. Contacts are normalized first (not timed unless --time-normalize), then `match()`
runs end to end: features, blocking, training, scoring, clustering, explanations, issues.
Precision / recall are pairwise over all true pairs (a pair lost in blocking is a miss).
"""

from __future__ import annotations

import argparse
import os
import resource
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent))

from crm_synth import generate

from audit import schema
from audit.config import MatchConfig, NormalizeConfig
from audit.match import match


def rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def normalized(n: int, seed: int, b2b: bool = True) -> tuple[pd.DataFrame, pd.Series, float, float]:
    t = time.perf_counter()
    raw, ent = generate(n, seed, b2b=b2b)
    t_gen = time.perf_counter() - t
    frame = schema.conform(
        raw.assign(source_file="synth.csv", source_row=1, extra="{}"), "contacts"
    )
    t = time.perf_counter()
    from audit.normalize import normalize

    records, _ = normalize({"contacts": frame}, NormalizeConfig())
    t_norm = time.perf_counter() - t
    truth = pd.Series(ent, index=raw["record_id"].to_numpy())
    return records["contacts"], truth, t_gen, t_norm


def evaluate(pairs: pd.DataFrame, truth: pd.Series, min_band: tuple[str, ...]) -> dict:
    sel = pairs[pairs["band"].isin(min_band)]
    same = (
        truth.reindex(sel["record_id_l"]).to_numpy() == truth.reindex(sel["record_id_r"]).to_numpy()
    )
    sizes = truth.value_counts().to_numpy()
    n_true = int((sizes * (sizes - 1) // 2).sum())
    tp = int(same.sum())
    p = tp / len(sel) if len(sel) else 1.0
    r = tp / n_true if n_true else 1.0
    return {"pairs": len(sel), "tp": tp, "true_pairs": n_true, "precision": p, "recall": r}


def false_positive_kinds(pairs: pd.DataFrame, truth: pd.Series, contacts: pd.DataFrame) -> dict:
    sel = pairs[pairs["band"] != "no"]
    lt = truth.reindex(sel["record_id_l"]).to_numpy()
    rt = truth.reindex(sel["record_id_r"]).to_numpy()
    fp = sel[lt != rt]
    c = contacts.set_index("record_id")
    last_l = c["last_name"].reindex(fp["record_id_l"]).to_numpy()
    last_r = c["last_name"].reindex(fp["record_id_r"]).to_numpy()
    addr_l = c["address"].reindex(fp["record_id_l"]).to_numpy()
    addr_r = c["address"].reindex(fp["record_id_r"]).to_numpy()
    name_l = c["name_key"].reindex(fp["record_id_l"]).to_numpy()
    name_r = c["name_key"].reindex(fp["record_id_r"]).to_numpy()
    household = (last_l == last_r) & (addr_l == addr_r)
    same_name = (name_l == name_r) & ~household
    return {
        "false_positives": len(fp),
        "household": int(household.sum()),
        "same_name": int(same_name.sum()),
        "in_auto": int((fp["band"] == "auto").sum()),
    }


ROLE = ("info", "office", "sales", "contact")


def safety(pairs: pd.DataFrame, contacts: pd.DataFrame) -> dict:
    """What a shop would lose by approving every auto pair: auto pairs joining two different
    personal mailboxes, and pairs that agree on an Excel-mangled phone (3.60E+11)."""
    c = contacts.set_index("record_id")
    # the normalized key (Gmail dots and +tags folded): john.smith@ and johnsmith+news@ are one
    mail = c["email_key" if "email_key" in c.columns else "email"].astype("string").str.strip()
    mail = mail.str.lower()
    local = mail.str.extract(r"^([^@+]+)", expand=False)
    personal = mail.where(~local.isin(ROLE)).fillna("")
    auto = pairs[pairs["band"] == "auto"]
    a = personal.reindex(auto["record_id_l"]).fillna("").to_numpy(dtype=object)
    b = personal.reindex(auto["record_id_r"]).fillna("").to_numpy(dtype=object)
    two = (a != "") & (b != "") & (a != b)
    sci = c["phone"].astype("string").str.fullmatch(r"\d\.\d+E\+\d+").fillna(False)
    sl = sci.reindex(pairs["record_id_l"]).to_numpy(bool)
    sr = sci.reindex(pairs["record_id_r"]).to_numpy(bool)
    pl = c["phone"].astype(object).fillna("").reindex(pairs["record_id_l"]).to_numpy(dtype=object)
    pr = c["phone"].astype(object).fillna("").reindex(pairs["record_id_r"]).to_numpy(dtype=object)
    on_sci = sl & sr & (pl == pr) & pairs["sim_phone"].notna().to_numpy()
    return {
        "auto_pairs_two_personal_emails": int(two.sum()),
        "pairs_agreeing_on_excel_mangled_phone": int(on_sci.sum()),
        "records_with_excel_mangled_phone": int(sci.sum()),
    }


def calibration(contacts: pd.DataFrame, truth: pd.Series) -> None:
    """Is the score a probability? Share of true pairs per score bin (pairs kept down to 0.01)."""
    m = match(contacts, MatchConfig(review_threshold=0.01))
    p = m.pairs
    same = truth.reindex(p["record_id_l"]).to_numpy() == truth.reindex(p["record_id_r"]).to_numpy()
    bins = [0.01, 0.1, 0.3, 0.5, 0.6, 0.8, 0.95, 0.99, 0.999, 1.0001]
    cut = pd.cut(p["score"], bins, right=False)
    table = pd.DataFrame(
        {
            "pairs": p.groupby(cut, observed=False).size(),
            "mean_score": p["score"].groupby(cut, observed=False).mean().round(3),
            "share_true": pd.Series(same).groupby(cut.to_numpy(), observed=False).mean().round(3),
        }
    )
    print("  calibration (score bin, pairs, mean score, share of true pairs):")
    print(table.to_string())


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=100_000)
    ap.add_argument("--quick", action="store_true", help="10k records")
    ap.add_argument("--seed", type=int, default=42)
    ap.add_argument("--time-normalize", action="store_true", help="count normalize in the wall")
    ap.add_argument(
        "--no-b2b", action="store_true", help="the data set without role inboxes / Excel phones"
    )
    ap.add_argument("--no-accuracy", action="store_true")
    ap.add_argument(
        "--calibration", action="store_true", help="also print score bins vs share of true pairs"
    )
    ap.add_argument(
        "--cache", type=Path, default=None, help="folder to keep/reuse the generated data"
    )
    args = ap.parse_args()
    n = 10_000 if args.quick else args.n
    tag = f"{n}{'' if args.no_b2b else 'b2b'}"
    cache = args.cache / f"c{tag}.parquet" if args.cache else None
    if cache is not None and cache.exists():
        contacts = pd.read_parquet(cache)
        truth = pd.read_parquet(args.cache / f"t{tag}.parquet")["ent"]
        print(f"loaded {len(contacts):,} generated, normalized contacts from {cache}")
        t_norm = 0.0
    else:
        contacts, truth, t_gen, t_norm = normalized(n, args.seed, not args.no_b2b)
        print(f"generated {len(contacts):,} contacts in {t_gen:.1f} s; normalize {t_norm:.1f} s")
        if cache is not None:
            contacts.to_parquet(cache)
            truth.rename("ent").to_frame().to_parquet(args.cache / f"t{tag}.parquet")
    load = os.getloadavg()[0]
    print(f"1-minute load average before the run: {load:.2f} (2 cores shared with other jobs)")
    print(f"peak RSS before match: {rss_mb():.0f} MB")
    t = time.perf_counter()
    m = match(contacts, MatchConfig())
    wall = time.perf_counter() - t
    total = wall + (t_norm if args.time_normalize else 0.0)
    st = m.stats
    print(
        f"match: {len(contacts):,} records in {total:.2f} s"
        + (" (incl. normalize)" if args.time_normalize else "")
        + f" = {len(contacts) / total:,.0f} records/s; candidate pairs {st['candidate_pairs']:,}, "
        f"comparisons {st['comparisons']:,}, pairs review+ {len(m.pairs):,}, "
        f"clusters {st['clusters']:,}; peak RSS {rss_mb():.0f} MB"
    )
    t = st["timings"]
    engine = sum(v for k, v in t.items() if k != "golden")
    print(f"  timings: {t}")
    print(
        f"  duplicate finding (everything but golden proposals): {engine:.2f} s; "
        f"golden proposals (survivorship): {t.get('golden', 0.0):.2f} s; "
        f"pairs pruned before string comparison: {st.get('pruned_before_strings', 0):,}"
    )
    skipped = {k: v["skipped_keys"] for k, v in st["candidate_pairs_by_rule"].items()}
    print("  pairs by rule:", {k: v["pairs"] for k, v in st["candidate_pairs_by_rule"].items()})
    print("  skipped over-frequent keys:", skipped)
    if args.no_accuracy:
        return
    for label, bands in (("review+", ("review", "auto")), ("auto", ("auto",))):
        e = evaluate(m.pairs, truth, bands)
        f1 = 2 * e["precision"] * e["recall"] / (e["precision"] + e["recall"] or 1)
        print(
            f"  {label:8s} precision {e['precision']:.4f} recall {e['recall']:.4f} F1 {f1:.4f} "
            f"({e['tp']:,} of {e['pairs']:,} pairs true; {e['true_pairs']:,} true pairs)"
        )
    print("  false positives:", false_positive_kinds(m.pairs, truth, contacts))
    print("  safety:", safety(m.pairs, contacts))
    if args.calibration:
        calibration(contacts, truth)
    lab = truth.reindex(m.clusters["record_id"]).to_numpy()
    pure = pd.Series(lab).groupby(m.clusters["cluster_id"].to_numpy()).nunique()
    print(f"  clusters holding more than one person: {int((pure > 1).sum())} of {len(pure)}")
    _ = np


if __name__ == "__main__":
    main()
