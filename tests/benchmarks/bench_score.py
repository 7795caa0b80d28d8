"""Benchmark of score, gate and KPIs (with breakdowns and the raw-vs-clean impact).

    .venv/bin/python tests/benchmarks/bench_score.py            # 100,000 contacts
    .venv/bin/python tests/benchmarks/bench_score.py --quick    # 5,000 contacts

Synthetic typed records (as normalize hands them over): contacts with owners, sources and
unmapped columns, 20 checked rules with ~3% failures as Issues rows, 10% of contacts in
duplicate clusters, plus subscriptions, orders, deals, deal stages, tickets and surveys.
Prints wall time per phase, peak RSS and throughput.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import resource
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from audit import schema
from audit.config import KpiConfig, Thresholds
from audit.gate import gate
from audit.kpis import clean_records, compute_breakdowns, compute_kpis, kpi_impact, kpi_needs
from audit.model import Matches
from audit.score import score

AS_OF = dt.date(2026, 4, 2)
T0 = pd.Timestamp("2024-01-01", tz="UTC")


def _ts(rng: np.random.Generator, n: int, days: int = 820) -> pd.Series:
    return pd.Series(T0 + pd.to_timedelta(rng.integers(0, days * 24, n), unit="h"))


def frame(entity: str, prefix: str, n: int, **cols: object) -> pd.DataFrame:
    df = pd.DataFrame(cols)
    df.insert(0, "record_id", [f"{prefix}:{i}" for i in range(n)])
    df["source"] = np.where(np.arange(n) % 3 == 0, "stripe", "hubspot")
    df["source_file"] = "x.csv"
    df["source_row"] = np.arange(1, n + 1)
    return schema.conform(df, entity)


def build(n: int) -> tuple[dict[str, pd.DataFrame], pd.DataFrame, pd.DataFrame, Matches]:
    rng = np.random.default_rng(7)
    ids = np.arange(n)
    contacts = frame(
        "contacts",
        "c",
        n,
        external_id=[f"e{i}" for i in ids],
        email=[f"user{i}@example.com" if i % 20 else None for i in ids],
        owner=[f"rep_{i % 13}" for i in ids],
        lead_source=[["web", "event", "ads", None][i % 4] for i in ids],
        lifecycle_stage=[["lead", "customer", "opportunity"][i % 3] for i in ids],
        created_at=_ts(rng, n),
        updated_at=_ts(rng, n),
        last_activity_at=_ts(rng, n),
        extra=[json.dumps({"Fav colour": "red"}) if i % 10 == 0 else None for i in ids],
    )
    m = n // 2
    subs = frame(
        "subscriptions",
        "s",
        m,
        customer_email=[f"user{i}@example.com" for i in range(m)],
        amount=rng.integers(10, 500, m).astype(float),
        interval=np.where(rng.random(m) < 0.2, "year", "month"),
        started_at=_ts(rng, m, 500),
        ended_at=_ts(rng, m).where(rng.random(m) < 0.2),
        renewed_at=_ts(rng, m).where(rng.random(m) < 0.3),
    )
    k = 2 * n
    orders = frame(
        "orders",
        "o",
        k,
        customer_email=[f"user{i % n}@example.com" for i in range(k)],
        amount=rng.integers(5, 300, k).astype(float),
        category=rng.choice(["a", "b", "c"], k),
        ordered_at=_ts(rng, k),
    )
    d = n // 5
    won = rng.random(d) < 0.3
    closed = won | (rng.random(d) < 0.4)
    deals = frame(
        "deals",
        "d",
        d,
        external_id=[f"d{i}" for i in range(d)],
        stage=np.where(won, "closedwon", np.where(closed, "closedlost", "proposal")),
        is_won=pd.array(won, dtype="boolean"),
        is_closed=pd.array(closed, dtype="boolean"),
        amount=rng.integers(100, 9000, d).astype(float),
        probability=rng.random(d),
        owner=[f"rep_{i % 13}" for i in range(d)],
        created_at=_ts(rng, d),
        closed_at=_ts(rng, d).where(closed),
    )
    stages = frame(
        "deal_stages",
        "ds",
        2 * d,
        deal_id=[f"d{i % d}" for i in range(2 * d)],
        stage=np.where(np.arange(2 * d) < d, "qualified", "proposal"),
        entered_at=_ts(rng, 2 * d),
    )
    stages["exited_at"] = stages["entered_at"] + pd.to_timedelta(rng.integers(1, 900, 2 * d), "h")
    t = n // 5
    tickets = frame(
        "tickets",
        "t",
        t,
        assignee=[f"agent_{i % 7}" for i in range(t)],
        created_at=_ts(rng, t),
        sla_hours=np.full(t, 24.0),
    )
    tickets["solved_at"] = tickets["created_at"] + pd.to_timedelta(rng.integers(1, 90, t), "h")
    s = n // 10
    surveys = frame(
        "surveys",
        "v",
        s,
        survey_type=rng.choice(["nps", "csat"], s),
        score=rng.integers(1, 6, s).astype(float),
        answered_at=_ts(rng, s),
    )
    records = {
        "contacts": contacts,
        "subscriptions": subs,
        "orders": orders,
        "deals": deals,
        "deal_stages": stages,
        "tickets": tickets,
        "surveys": surveys,
    }
    rules, issue_frames = [], []
    for j in range(20):
        entity = ["contacts", "orders", "deals", "tickets"][j % 4]
        f = records[entity]
        fail = rng.random(len(f)) < 0.03
        dim = ["validity", "completeness", "freshness", "consistency"][j % 4]
        rid = f"{entity}.f{j}.check"
        rules.append((rid, entity, f"f{j}", dim, "error", len(f), int(fail.sum())))
        issue_frames.append(
            pd.DataFrame(
                {
                    "record_id": f.loc[fail, "record_id"].to_numpy(),
                    "entity": entity,
                    "field": "email" if j == 0 else f"f{j}",
                    "rule_id": rid,
                    "dimension": dim,
                    "severity": "error",
                    "message": "bad",
                }
            )
        )
    checked = pd.DataFrame(
        rules,
        columns=["rule_id", "entity", "field", "dimension", "severity", "n_checked", "n_failed"],
    ).assign(status="ok")
    issues = schema.conform_issues(pd.concat(issue_frames, ignore_index=True))
    dup = ids[: n // 10]
    clusters = pd.DataFrame(
        {
            "cluster_id": [f"k{i // 2}" for i in dup],
            "record_id": [f"c:{i}" for i in dup],
            "band": "auto",
            "is_survivor": dup % 2 == 0,
        }
    )
    pairs = pd.DataFrame(
        {
            "record_id_l": [f"c:{i}" for i in dup[::2]],
            "record_id_r": [f"c:{i + 1}" for i in dup[::2]],
            "score": 0.97,
            "band": "auto",
        }
    )
    return records, checked, issues, Matches(pairs=pairs, clusters=clusters)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("-n", type=int, default=None)
    args = ap.parse_args()
    n = args.n or (5_000 if args.quick else 100_000)
    t = time.perf_counter()
    records, checked, issues, matches = build(n)
    total = sum(len(f) for f in records.values())
    print(f"build: {time.perf_counter() - t:.1f}s; {total:,} records, {len(issues):,} issues")
    cfg = KpiConfig(period="2026-Q1")
    needs = kpi_needs(cfg)
    phases: dict[str, float] = {}
    cpu: dict[str, float] = {}

    def timed(name: str, fn, *a, **kw):  # type: ignore[no-untyped-def]
        t0, c0 = time.perf_counter(), time.process_time()
        out = fn(*a, **kw)
        phases[name] = time.perf_counter() - t0
        cpu[name] = time.process_time() - c0
        return out

    sc = timed(
        "score", score, records, issues, matches, Thresholds(), checked=checked, kpi_needs=needs
    )
    verdict = timed("gate", gate, sc, Thresholds(), needs)
    clean, stats = timed("clean", clean_records, records, issues, matches)
    kpis = timed("kpis", compute_kpis, clean, cfg, as_of=AS_OF, withheld=verdict.withheld_kpis)
    timed("breakdowns", compute_breakdowns, clean, cfg, as_of=AS_OF)
    timed("impact", kpi_impact, records, clean, cfg, AS_OF, stats=stats)
    print("phase          wall     cpu   records/s (wall)")
    for name, secs in phases.items():
        rate = total / max(secs, 1e-9)
        print(f"{name:<11} {secs:7.2f}s {cpu[name]:6.2f}s  {rate:12,.0f}")
    print(f"total       {sum(phases.values()):7.2f}s {sum(cpu.values()):6.2f}s")
    print(
        f"overall score {sc.overall:.3f}; gate passed {verdict.passed}; "
        f"kpis ok {int((kpis['status'] == 'ok').sum())} of {len(kpis)}"
    )
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"peak RSS    {rss:,.0f} MB")


if __name__ == "__main__":
    main()
