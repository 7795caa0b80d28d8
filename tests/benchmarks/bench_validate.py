"""Benchmark: normalize + validate N contacts with realistic duplication of values.

Rows are drawn with replacement from a pool of distinct people (default 30% of N), the way a
multi-source CRM repeats the same person, company and country. A few percent of values are
broken (bad emails, placeholder phones, junk names). Prints wall time per stage, peak RSS and
throughput, then checks on a sample that email/phone validity equals calling email-validator and
phonenumbers on every row.

    .venv/bin/python tests/benchmarks/bench_validate.py            # 1M rows
    .venv/bin/python tests/benchmarks/bench_validate.py --quick    # 50k rows
    .venv/bin/python tests/benchmarks/bench_validate.py --gx       # also the GX contract
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import resource
import sys
import time

import numpy as np
import pandas as pd

from audit import schema
from audit.config import NormalizeConfig, RulesConfig, SourceConfig
from audit.normalize import normalize
from audit.phone_validity import PROBLEMS
from audit.validate import validate
from audit.validate.checks.contact import email_problem, phone_problem

FIRST = ["John", "MARY", "li", "Anne-Marie", "o'brien", "Kenji", "민수", "太郎", "Wei", "Sofia"]
LAST = ["Smith", "MCDONALD", "Kim", "tanaka", "O'Neil", "Wang", "김", "山田", "Garcia", "Müller"]
DOMAINS = [
    "gmail.com",
    "naver.com",
    "yahoo.co.jp",
    "qq.com",
    "outlook.com",
    "acme.co.kr",
]
COMPANIES = ["Acme Inc.", "㈜삼성", "ソニー株式会社", "华为技术有限公司", "Globex LLC", None]
COUNTRIES = ["KR", "대한민국", "Japan", "日本", "US", "USA"]  # pairs per phone region


def make_pool(n: int, rng: np.random.Generator) -> pd.DataFrame:
    i = np.arange(n)
    first = np.asarray(FIRST, dtype=object)[rng.integers(0, len(FIRST), n)]
    last = np.asarray(LAST, dtype=object)[rng.integers(0, len(LAST), n)]
    dom = np.asarray(DOMAINS, dtype=object)[rng.integers(0, len(DOMAINS), n)]
    local = np.char.add("user", i.astype(str)).astype(object)
    email = local + "@" + dom
    broken = rng.random(n)
    email = np.where(broken < 0.02, local + "@@" + dom, email)
    email = np.where((broken >= 0.02) & (broken < 0.03), local + " at " + dom, email)
    email = np.where((broken >= 0.03) & (broken < 0.035), "info@" + dom, email)
    email = np.where((broken >= 0.035) & (broken < 0.05), local + "@gmial.com", email)
    region = rng.integers(0, 3, n)
    d8 = rng.integers(10_000_000, 99_999_999, n).astype(str)
    kr = np.char.add(
        "010-", np.char.add(np.char.add([s[:4] for s in d8], "-"), [s[4:] for s in d8])
    )
    jp = np.char.add("+81 90 ", d8)
    us = np.char.add("(212) 55", d8)
    phone = np.where(region == 0, kr, np.where(region == 1, jp, us)).astype(object)
    phone = np.where(broken > 0.985, "010-0000-0000", phone)
    phone = np.where((broken > 0.96) & (broken <= 0.965), "12345", phone)
    base = pd.Timestamp("2022-01-01")
    secs = rng.integers(0, 4 * 365 * 86400, n)
    created = (base + pd.to_timedelta(secs, unit="s")).strftime("%Y-%m-%d %H:%M:%S")
    # most people were active in the last two years; about 5% were not
    ago = np.where(rng.random(n) < 0.05, rng.integers(731, 1500, n), rng.integers(0, 700, n))
    seen = pd.Timestamp("2026-01-31") - pd.to_timedelta(ago * 86400 + secs % 86400, unit="s")
    act = seen.strftime("%Y-%m-%dT%H:%M:%SZ")
    return pd.DataFrame(
        {
            "external_id": np.char.add("C", i.astype(str)),
            "first_name": np.where(broken > 0.99, "test", first),
            "last_name": last,
            "email": email,
            "phone": phone,
            "company": np.asarray(COMPANIES, dtype=object)[rng.integers(0, len(COMPANIES), n)],
            "country": np.asarray(COUNTRIES, dtype=object)[region * 2 + rng.integers(0, 2, n)],
            "created_at": np.asarray(created, dtype=object),
            "last_activity_at": np.asarray(act, dtype=object),
        }
    )


def make_contacts(n: int, distinct: float, seed: int = 7) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    pool = make_pool(max(1, int(n * distinct)), rng)
    rows = pool.iloc[rng.integers(0, len(pool), n)].reset_index(drop=True)
    rows = rows.astype({c: "str" for c in rows.columns})
    # a person exported again gets a new row id in the source (no spurious id duplicates)
    rows["external_id"] = [f"R{k}" for k in range(n)]
    rows["record_id"] = [f"bench:{k}" for k in range(1, n + 1)]
    rows["source"] = "bench"
    rows["source_file"] = "bench.csv"
    rows["source_row"] = np.arange(1, n + 1)
    return schema.conform(rows, "contacts")


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true", help="50k rows instead of 1M")
    ap.add_argument("-n", type=int, default=None)
    ap.add_argument("--distinct", type=float, default=0.3)
    ap.add_argument("--gx", action="store_true", help="also run the GX contract")
    ap.add_argument("--sample", type=int, default=20_000, help="rows re-checked per row")
    args = ap.parse_args(argv)
    n = args.n or (50_000 if args.quick else 1_000_000)
    t0 = time.perf_counter()
    contacts = make_contacts(n, args.distinct)
    t_gen = time.perf_counter() - t0
    print(f"rows {n:,}  distinct share {args.distinct}  generated in {t_gen:.1f} s")
    src = [SourceConfig(name="bench", path="bench.csv")]
    print(f"load average (1/5/15 min) {' / '.join(f'{x:.2f}' for x in os.getloadavg())}")
    t0 = time.perf_counter()
    records, norm_issues = normalize({"contacts": contacts}, NormalizeConfig(), src)
    t_norm = time.perf_counter() - t0
    cfg = RulesConfig(packs=["contacts.core", "contacts.stale"], gx=args.gx)
    t0 = time.perf_counter()
    v = validate(records, cfg, as_of=dt.date(2026, 1, 31), stale_after_days=730)
    t_val = time.perf_counter() - t0
    total = t_norm + t_val
    print(f"normalize  {t_norm:6.1f} s  ({len(norm_issues):,} issues)")
    print(f"validate   {t_val:6.1f} s  ({len(v.issues):,} issues, {len(v.checked)} rules)")
    print(f"total      {total:6.1f} s  {n / total:,.0f} rows/s   peak RSS {peak_rss_mb():,.0f} MB")
    me = resource.getrusage(resource.RUSAGE_SELF)
    kids = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = me.ru_utime + me.ru_stime + kids.ru_utime + kids.ru_stime
    print(f"CPU time (this process + workers, incl. data generation) {cpu:,.1f} s")
    if args.gx:
        print(f"GX contract agrees with engine: {v.contract.get('agrees_with_engine')}")

    print(f"load average (1/5/15 min) {' / '.join(f'{x:.2f}' for x in os.getloadavg())}")

    # validity must equal per-row calls of the libraries. Phone validity now comes from
    # normalize's own parse (PROBLEMS), so this also re-checks that reuse path row by row.
    c = records["contacts"]
    rng = np.random.default_rng(1)
    idx = rng.choice(len(c), size=min(args.sample, len(c)), replace=False)
    flagged = v.issues.groupby("rule_id")["record_id"].apply(set).to_dict()
    bad_email = flagged.get("contacts.email.valid", set())
    bad_phone = flagged.get("contacts.phone.valid", set())
    ids = c["record_id"].to_numpy(dtype=object)[idx]
    emails = c["email"].to_numpy(dtype=object)[idx]
    phones = c["phone_e164"].to_numpy(dtype=object)[idx]
    mismatches = reused = 0
    for rid, e, p in zip(ids, emails, phones, strict=True):
        exp_e = isinstance(e, str) and email_problem(e) is not None
        exp_p = isinstance(p, str) and phone_problem(p) is not None
        mismatches += (rid in bad_email) != exp_e
        mismatches += (rid in bad_phone) != exp_p
        if isinstance(p, str):
            known, problem = PROBLEMS.get(p)
            reused += known
            mismatches += known and ((problem is not None) != exp_p)
    print(
        f"per-row re-check of {len(idx):,} sampled rows: {mismatches} mismatches "
        f"({reused:,} phone verdicts taken from normalize's parse; {len(PROBLEMS):,} cached)"
    )
    return 1 if mismatches else 0


if __name__ == "__main__":
    sys.exit(main())
