# ruff: noqa: E501  (vocabulary, message templates and YAML text read best unwrapped)
"""Ground truth beside the workspace: who every row is, and every problem planted in it.

Tests and benchmarks join these files with pipeline records on (source, source_row): record ids
are key or content based (see audit/sources/provenance.py), row numbers are not.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from audit.demo.people import mailbox_key
from audit.demo.problems import PROBLEM_KINDS, STALE_KIND_TO_PROBLEM

__all__ = ["mailbox_key", "stale_problems", "write_truth"]

ENTITY_COLUMNS = [
    "source", "source_file", "sheet", "source_row", "person_id", "email", "header", "variant",
]  # fmt: skip
PROBLEM_COLUMNS = [
    "source",
    "source_file",
    "sheet",
    "source_row",
    "field",
    "problem_kind",
    "detail",
]


def stale_problems(
    rows: pd.DataFrame, people: pd.DataFrame, *, source: str, source_file: str, sheet: str | None
) -> list[dict]:
    """A row is stale when it carries (a spelling of) the dead address of its person."""
    stale = people[people["stale_kind"].notna()]
    key_kind = {
        mailbox_key(e): (k, e) for e, k in zip(stale["email"], stale["stale_kind"], strict=True)
    }
    out = []
    for row, email in zip(rows["source_row"], rows["email"], strict=True):
        hit = key_kind.get(mailbox_key(email))
        if hit is None:
            continue
        kind, true_email = hit
        out.append(
            {
                "source": source,
                "source_file": source_file,
                "sheet": sheet,
                "source_row": int(row),
                "field": "email",
                "problem_kind": STALE_KIND_TO_PROBLEM[kind],
                "detail": true_email,
            }
        )
    return out


def write_truth(
    truth_dir: Path,
    entities: list[pd.DataFrame],
    problems: list[pd.DataFrame],
    people: pd.DataFrame,
    mail: pd.DataFrame,
) -> tuple[Path, Path]:
    truth_dir.mkdir(parents=True, exist_ok=True)
    ent = pd.concat(entities, ignore_index=True).reindex(columns=ENTITY_COLUMNS)
    ent = ent.sort_values(["source", "sheet", "source_row", "header", "email"], kind="stable")
    ent["source_row"] = ent["source_row"].astype(int)
    ent_path = truth_dir / "entities.csv"
    ent.to_csv(ent_path, index=False, lineterminator="\n")
    prob = pd.concat(problems, ignore_index=True).reindex(columns=PROBLEM_COLUMNS)
    prob["source_row"] = prob["source_row"].astype(int)
    prob = prob.drop_duplicates().sort_values(
        ["source", "sheet", "source_row", "problem_kind", "field"], kind="stable"
    )
    prob_path = truth_dir / "problems.csv"
    prob.to_csv(prob_path, index=False, lineterminator="\n")
    persons = people[
        [
            "person_id", "locale", "full_name", "email", "phone", "company", "household_of",
            "namesake_of", "stale_kind", "is_customer",
        ]
    ]  # fmt: skip
    persons.to_csv(truth_dir / "persons.csv", index=False, lineterminator="\n")
    mail.to_csv(truth_dir / "mail.csv", index=False, lineterminator="\n")
    (truth_dir / "README.md").write_text(readme(), encoding="utf-8")
    return ent_path, prob_path


def readme() -> str:
    kinds = "\n".join(f"| `{k}` | {v} |" for k, v in PROBLEM_KINDS.items())
    return f"""# Ground truth of the crm-audit demo workspace

Written by `crm-audit demo` next to `data/`. Same seed and size give byte-identical files.
Join with pipeline records on `(source, source_row)`: `source` is the source name in
`demo.yaml`, `source_row` the 1-based data row of the file or sheet (header and title rows not
counted) or, for the mbox, the 1-based message number.

## entities.csv: who every contact row is

| column | meaning |
|---|---|
| source | source name in demo.yaml |
| source_file | file name (no folder) |
| sheet | sheet name for the workbook, empty otherwise |
| source_row | 1-based data row; message number for the mbox |
| person_id | the real person (P000123); our own staff are `rep:<name>`, bounce senders `system:mailer-daemon` |
| email | the address as written in that row (mbox: the address in that header) |
| header | mbox only: From, To or Cc |
| variant | empty for a person's first row in a source; otherwise how the re-typed duplicate differs (name_typo, nickname, name_order, fullwidth_digits, phone_format, company_suffix, email_case, gmail_variant, other_email) |

Two contact rows are duplicates exactly when they share a `person_id`. Households (same surname,
address and home phone, different first names) and namesakes (same full name, nothing else in
common) are different persons: see `household_of` and `namesake_of` in persons.csv. A matcher
that puts them in the auto-merge band is wrong.

## problems.csv: every planted problem

One row per (row, field, kind); a row may carry several (an e-mail address typed into the phone
column is both `wrong_field` and `phone_invalid`). Stale-address kinds are written on every
contact row, in any source, that carries a spelling of the dead address (Gmail dots and +tags
folded), because an address is stale wherever it is used.

| problem_kind | meaning |
|---|---|
{kinds}

`email_soft_bounce` is recorded so that a detector that calls it stale is counted as wrong:
one soft bounce does not make an address stale. `audit.demo.evaluate` reports it as
`email_soft_bounce.not_stale` (rows left alone / rows planted), and maps the rule for repeated
soft bounces to `email_repeated_soft_bounce`, of which none are planted. `email_near_inactive`
(last activity 700 days back, inside the 730-day window) is scored the same way, as
`email_near_inactive.not_stale`; `email_inactive` is planted from 760 days back.

Held out: the disposable domains, role mailboxes, mistyped domains and nicknames planted here
come from public lists the detectors do not ship (audit/demo/data/heldout_*.txt, each citing
its source and commit), and placeholders are generated shapes no detector table lists. Their
figures measure the detectors on values they were not built from, and are expected to be below
1.000 where a detector only knows its own list.

## Measuring a run

    from audit.demo.evaluate import evaluate, format_table, misses
    print(format_table(evaluate("reports/<run-id>", "truth")))
    misses("reports/<run-id>", "truth", "email_syntax")  # the rows a detector got wrong

Rule ids map to problem kinds in `audit.demo.evaluate.RULE_KINDS`. Duplicates are scored
pairwise: `duplicates.pairs` (auto + review band), `duplicates.pairs.auto`, and
`duplicates.clusters` (every pair inside a proposed cluster), against all pairs of contact
records that share a person_id; `duplicates.variant.<how>` gives, per way of re-typing, the
share of re-typed rows linked to another row of their person. `duplicates.not_merged.household` and `.namesake` count the
record pairs of look-alike different persons and how many of them the auto-merge band kept
out (recall = share kept out).

## persons.csv, mail.csv

`persons.csv` is the true population (one row per person, with `stale_kind`). `mail.csv` lists
every mbox message: kind mail, bounce_hard, bounce_soft or autoreply (an autoreply is not a
bounce), with the bounced recipient, DSN status and hard/soft classification.
"""
