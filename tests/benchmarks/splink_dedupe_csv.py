"""Splink 5 deduplicating a raw CRM-like CSV file end to end, as a user of Splink would.

Not a crm-audit dependency: run it with Splink's own environment (bench_dedupe_csv.py does),

    /work/splinkvenv/bin/python tests/benchmarks/splink_dedupe_csv.py IN.csv OUT_DIR

Reads the CSV in DuckDB, cleans it in SQL (lower/trim, the name from full_name where the
first/last columns are empty, phone digits with Excel's 3.60E+11 and fragments under 7 digits
dropped, street-suffix abbreviations), then the model of
splink_crm.py (the reference benchmark's scale test without birth dates): blocking on
first+last name | email | phone | last name+postcode; NameComparison (TF) on first and last
name, EmailComparison, exact phone, Jaro-Winkler address (0.9), exact postcode (TF); prior from
email | first+last+postcode at recall 0.7; u from 2e6 random pairs; EM blocked on email, then
on last name+postcode; predict at Splink's default threshold (p >= 0.5), connected components
at 0.5; writes OUT_DIR/pairs.csv (unique_id_l, unique_id_r, match_probability) and
OUT_DIR/clusters.csv (cluster_id, unique_id). Prints one JSON line of step timings.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

t_start = time.perf_counter()
import duckdb  # noqa: E402
from splink import Linker  # noqa: E402
from splink.backends.duckdb import DuckDBAPI  # noqa: E402
from splink_crm import model, train  # noqa: E402  (the same model as the reference benchmark)

CLEAN = r"""
CREATE TABLE people AS
WITH raw AS (SELECT * FROM read_csv('{path}', all_varchar = true, header = true)),
n AS (
  SELECT record_id,
    nullif(lower(trim(first_name)), '') AS f,
    nullif(lower(trim(last_name)), '') AS l,
    nullif(lower(trim(full_name)), '') AS fn,
    nullif(lower(trim(email)), '') AS email,
    -- a careful user's phone cleaning: Excel's 3.60E+11 and fragments are not numbers
    CASE WHEN regexp_matches(phone, '^\s*[0-9.,]+[eE][+]?[0-9]+\s*$') THEN NULL
         WHEN length(regexp_replace(phone, '[^0-9]', '', 'g')) < 7 THEN NULL
         ELSE regexp_replace(phone, '[^0-9]', '', 'g') END AS phone,
    nullif(lower(trim(address)), '') AS address,
    nullif(lower(trim(postal_code)), '') AS postcode
  FROM raw
)
SELECT record_id AS unique_id,
  coalesce(f, CASE WHEN fn LIKE '% %' THEN regexp_extract(fn, '^(.*) [^ ]+$', 1)
                   ELSE fn END) AS first_name,
  coalesce(l, CASE WHEN fn LIKE '% %' THEN regexp_extract(fn, ' ([^ ]+)$', 1) END)
    AS last_name,
  email, phone,
  regexp_replace(regexp_replace(regexp_replace(regexp_replace(address,
    ' street$', ' st'), ' road$', ' rd'), ' avenue$', ' ave'), ' drive$', ' dr') AS address,
  postcode
FROM n
"""


def main(path: Path, out: Path) -> None:
    steps: dict[str, float] = {"import": time.perf_counter() - t_start}
    t = time.perf_counter()
    con = duckdb.connect()
    con.execute("SET threads=2")
    con.execute(CLEAN.format(path=str(path).replace("'", "''")))
    steps["read_clean"] = time.perf_counter() - t
    t = time.perf_counter()
    settings = model()
    db = DuckDBAPI(connection=con)
    linker = Linker(db.register("people"), settings)
    train(linker)
    steps["train"] = time.perf_counter() - t
    t = time.perf_counter()
    pred = linker.inference.predict(threshold_match_probability=0.5)
    steps["predict"] = time.perf_counter() - t
    t = time.perf_counter()
    clusters = linker.clustering.cluster_pairwise_predictions_at_threshold(pred, 0.5)
    steps["cluster"] = time.perf_counter() - t
    t = time.perf_counter()
    out.mkdir(parents=True, exist_ok=True)
    for table, cols, name in (
        (pred, "unique_id_l, unique_id_r, match_probability", "pairs.csv"),
        (clusters, "cluster_id, unique_id", "clusters.csv"),
    ):
        target = str(out / name).replace("'", "''")
        con.execute(
            f"COPY (SELECT {cols} FROM {table.physical_name} ORDER BY ALL) TO '{target}' "
            "(HEADER, DELIMITER ',')"
        )
    steps["write"] = time.perf_counter() - t
    print("timings: " + json.dumps({k: round(v, 2) for k, v in steps.items()}), flush=True)


if __name__ == "__main__":
    main(Path(sys.argv[1]), Path(sys.argv[2]))
