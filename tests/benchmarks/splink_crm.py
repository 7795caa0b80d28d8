"""Splink 5 at its default threshold on the CRM-like benchmark data (the peer to beat).

Splink is not a dependency of crm-audit: run this with a separate environment,

    python3 -m venv /work/splinkvenv && /work/splinkvenv/bin/pip install splink faker pandas pyarrow
    .venv/bin/python tests/benchmarks/bench_match.py --n 100000 --cache /tmp/bench   # writes data
    /work/splinkvenv/bin/python tests/benchmarks/splink_crm.py /tmp/bench/c100000b2b.parquet

It reads the contacts bench_match.py generated and normalized (and their truth file next to
them), so both tools see the same records. Configured as the reference benchmark in
research/entity_resolution.md (section 5.1, scale test), without the birth date the generator
does not make: blocking on first+last name | email | phone | last name+postcode; NameComparison
(TF) on first and last name, EmailComparison, exact phone, Jaro-Winkler address (0.9), exact
postcode (TF); prior from email | first+last+postcode at recall 0.7; u from 2e6 random pairs;
EM blocked on email, then on last name+postcode. Pairwise precision / recall / F1 at p >= 0.5
(Splink's default) over all true pairs; clusters by connected components at 0.5.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import pandas as pd
import splink.comparison_library as cl
from splink import Linker, SettingsCreator, block_on
from splink.backends.duckdb import DuckDBAPI


def clean(c: pd.DataFrame) -> pd.DataFrame:
    def low(s: pd.Series) -> pd.Series:
        return s.astype("string").str.strip().str.lower()

    phone = c["phone_e164"].astype("string").fillna(c["phone"].astype("string"))
    addr = low(c["address"])
    for long, short in (("street", "st"), ("road", "rd"), ("avenue", "ave"), ("drive", "dr")):
        addr = addr.str.replace(rf"\b{long}\b$", short, regex=True)
    return (
        pd.DataFrame(
            {
                "unique_id": c["record_id"].astype(str),
                "first_name": low(c["first_name"]),
                "last_name": low(c["last_name"]),
                "email": low(c["email_key"]),
                "phone": phone.str.replace(r"\D", "", regex=True).replace("", None),
                "address": addr,
                "postcode": low(c["postal_code"]),
            }
        )
        .astype(object)
        .where(lambda d: d.notna(), None)
    )


def model() -> SettingsCreator:
    """The reference benchmark's model; splink_dedupe_csv.py uses the same one."""
    return SettingsCreator(
        link_type="dedupe_only",
        blocking_rules_to_generate_predictions=[
            block_on("first_name", "last_name"),
            block_on("email"),
            block_on("phone"),
            block_on("last_name", "postcode"),
        ],
        comparisons=[
            cl.NameComparison("first_name").configure(term_frequency_adjustments=True),
            cl.NameComparison("last_name").configure(term_frequency_adjustments=True),
            cl.EmailComparison("email"),
            cl.ExactMatch("phone"),
            cl.JaroWinklerAtThresholds("address", [0.9]),
            cl.ExactMatch("postcode").configure(term_frequency_adjustments=True),
        ],
    )


def train(linker: Linker) -> None:
    """Prior, u by random sampling, then EM blocked on email and on last name + postcode."""
    linker.training.estimate_probability_two_random_records_match(
        [block_on("email"), block_on("first_name", "last_name", "postcode")], recall=0.7
    )
    linker.training.estimate_u_using_random_sampling(max_pairs=2e6, seed=2)
    linker.training.estimate_parameters_using_expectation_maximisation(block_on("email"))
    linker.training.estimate_parameters_using_expectation_maximisation(
        block_on("last_name", "postcode")
    )


def main(path: Path) -> None:
    contacts = pd.read_parquet(path)
    truth = pd.read_parquet(path.with_name(path.name.replace("c", "t", 1)))["ent"]
    df = clean(contacts)
    t0 = time.perf_counter()
    settings = model()
    db = DuckDBAPI()
    db._execute_sql_against_backend("SET threads=2")
    linker = Linker(db.register(df), settings)
    train(linker)
    pred = linker.inference.predict(threshold_match_probability=0.01)
    p = pred.as_pandas_dataframe()
    wall = time.perf_counter() - t0
    sizes = truth.value_counts().to_numpy()
    n_true = int((sizes * (sizes - 1) // 2).sum())
    same = truth.reindex(p["unique_id_l"]).to_numpy() == truth.reindex(p["unique_id_r"]).to_numpy()
    print(
        f"Splink 5 on {len(df):,} records from {path.name}: {wall:.1f} s, {len(p):,} pairs p>=0.01"
    )
    for cut in (0.5, 0.9, 0.99):
        sel = p["match_probability"].to_numpy() >= cut
        tp = int(same[sel].sum())
        prec = tp / max(int(sel.sum()), 1)
        rec = tp / n_true
        f1 = 2 * prec * rec / (prec + rec) if prec + rec else 0.0
        label = "default" if cut == 0.5 else "       "
        print(
            f"  p >= {cut:<4} {label}: precision {prec:.4f} recall {rec:.4f} F1 {f1:.4f} "
            f"({tp:,} of {int(sel.sum()):,} pairs true; {n_true:,} true pairs)"
        )


if __name__ == "__main__":
    main(Path(sys.argv[1]))
