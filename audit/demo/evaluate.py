"""Detection figures against the demo's ground truth: precision and recall per problem kind, and
pairwise precision and recall of the duplicates.

    from audit.demo.evaluate import evaluate
    table = evaluate(result_or_run_dir, "crm-audit-demo/truth")

Records are joined to the truth on (source, source_row). Mail sources are the exception: an
inbox reader gives one contact per address, so their records join on (source, mailbox key).
"""

from __future__ import annotations

from collections import Counter
from fnmatch import fnmatchcase
from pathlib import Path
from typing import Any

import pandas as pd

from audit.demo.truth import mailbox_key

# rule id (fnmatch pattern) -> planted problem kind it is meant to find (truth/README.md)
RULE_KINDS: dict[str, str] = {
    "contacts.email.valid": "email_syntax",
    "contacts.email.syntax": "email_syntax",
    "contacts.phone.valid": "phone_invalid",
    "normalize.phone.unparseable": "phone_invalid",
    "normalize.phone.invalid": "phone_invalid",
    "contacts.*.placeholder": "placeholder",
    "contacts.*.wrong_field": "wrong_field",
    "contacts.email.required": "missing_email",
    "contacts.name.required": "missing_name",
    "contacts.full_name.required": "missing_name",
    "contacts.email.bounced": "email_bounced",
    "contacts.email.soft_bounced": "email_repeated_soft_bounce",  # none planted: all are wrong
    "contacts.email.cleaned": "email_cleaned",
    "contacts.email.inactive": "email_inactive",
    "contacts.email.disposable": "email_disposable",
    "contacts.email.role": "email_role",
    "contacts.email.typo_domain": "email_typo_domain",
    "deals.closed_at.required_if_closed": "deal_closed_no_close_date",
    "deals.amount.non_negative": "deal_negative_amount",
    "deals.contact_id.exists": "deal_orphan_contact",
    "orders.amount.non_negative": "order_negative_amount",
    "tickets.solved_at.after_created": "ticket_solved_before_created",
    "tickets.requester_email.exists": "ticket_orphan_requester",
}
# planted kinds that no detector should flag as stale (one soft bounce is not a dead address)
NOT_FLAGGED = ("email_soft_bounce", "email_near_inactive")
STALE_KINDS = ("email_bounced", "email_cleaned", "email_inactive", "email_repeated_soft_bounce")
RESULT_COLUMNS = ["check", "n_truth", "n_flagged", "tp", "precision", "recall", "rules"]


def kind_of(rule_id: str) -> str | None:
    for pattern, kind in RULE_KINDS.items():
        if fnmatchcase(rule_id, pattern):
            return kind
    return None


def _read(run_dir: Path, name: str) -> pd.DataFrame:
    p = run_dir / name
    if not p.exists():
        return pd.DataFrame()
    return pd.read_csv(p, dtype=str, keep_default_na=False, encoding="utf-8-sig").replace(
        {"": None}
    )


def _load(run: Any) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """(records of every entity: record_id/source/source_row/email, issues, pairs, clusters)."""
    cols = ["record_id", "source", "source_row", "email", "entity"]
    if isinstance(run, str | Path):
        run_dir = Path(run)
        frames = []
        for f in sorted((run_dir / "records").glob("*.csv")):
            df = _read(run_dir / "records", f.name)
            if len(df):
                frames.append(df.assign(entity=f.stem).reindex(columns=cols))
        records = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=cols)
        issues = _read(run_dir, "issues.csv")
        pairs = _read(run_dir, "duplicates.csv")
        clusters = _read(run_dir, "clusters.csv")
    else:
        frames = [f.assign(entity=e).reindex(columns=cols) for e, f in run.records.items()]
        records = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=cols)
        issues, pairs, clusters = run.issues, run.matches.pairs, run.matches.clusters
    records["source_row"] = pd.to_numeric(records["source_row"], errors="coerce")
    return records, issues, pairs, clusters


def _units(records: pd.DataFrame, mail_sources: set[str]) -> pd.Series:
    """The truth unit of each record: 'source#row', or 'source@mailbox' for mail sources."""
    is_mail = records["source"].isin(mail_sources)
    by_row = records["source"].astype(str) + "#" + records["source_row"].astype("Int64").astype(str)
    by_mail = records["source"].astype(str) + "@" + records["email"].map(mailbox_key).astype(str)
    return by_mail.where(is_mail, by_row)


def misses(run: Any, truth_dir: str | Path, kind: str) -> pd.DataFrame:
    """What one kind got wrong: truth never flagged (fn), flagged but not planted (fp)."""
    table = _kind_sets(_load(run), truth_dir)
    truth, flagged, values = table[0].get(kind, set()), table[1].get(kind, set()), table[2]
    rows = [{"unit": u, "error": "fn", "value": values.get(u)} for u in sorted(truth - flagged)]
    rows += [{"unit": u, "error": "fp", "value": values.get(u)} for u in sorted(flagged - truth)]
    return pd.DataFrame(rows, columns=["unit", "error", "value"])


def _kind_sets(
    loaded: tuple[pd.DataFrame, ...], truth_dir: str | Path
) -> tuple[dict[str, set[str]], dict[str, set[str]], dict[str, str], dict[str, set[str]]]:
    """(truth units per kind, flagged units per kind, an issue value per unit, rules per kind)."""
    truth = Path(truth_dir)
    ent = pd.read_csv(truth / "entities.csv", dtype=str, keep_default_na=False).replace({"": None})
    prob = pd.read_csv(truth / "problems.csv", dtype=str, keep_default_na=False).replace({"": None})
    mail_sources = set(ent.loc[ent["header"].notna(), "source"])
    records, issues = loaded[0].copy(), loaded[1]
    records["unit"] = _units(records, mail_sources)
    unit_of = dict(zip(records["record_id"], records["unit"], strict=False))
    is_mail = prob["source"].isin(mail_sources)
    prob["unit"] = (prob["source"] + "#" + prob["source_row"]).where(
        ~is_mail, prob["source"] + "@" + prob["detail"].map(mailbox_key).astype(str)
    )
    truth_sets = {k: set(g["unit"]) for k, g in prob.groupby("problem_kind")}
    flagged: dict[str, set[str]] = {}
    rules_of: dict[str, set[str]] = {}
    values: dict[str, str] = {}
    if len(issues):
        vals = issues["value"] if "value" in issues else [None] * len(issues)
        for rule_id, rid, v in zip(issues["rule_id"], issues["record_id"], vals, strict=True):
            kind = kind_of(str(rule_id))
            if kind is None or rid not in unit_of:
                continue
            flagged.setdefault(kind, set()).add(unit_of[rid])
            rules_of.setdefault(kind, set()).add(str(rule_id))
            values.setdefault(unit_of[rid], v)
    return truth_sets, flagged, values, rules_of


def evaluate(run: Any, truth_dir: str | Path) -> pd.DataFrame:
    """Precision/recall per planted problem kind, then pairwise duplicate figures.

    `run` is a RunResult or a run folder (reports/<run-id>/). Kinds no rule maps to show
    n_flagged 0; a kind with nothing planted shows n_truth 0 (its precision still counts).
    """
    loaded = _load(run)
    truth_sets, flagged, _, rules_of = _kind_sets(loaded, truth_dir)
    rows = []
    for kind in dict.fromkeys([*sorted(truth_sets), *sorted(flagged)]):
        if kind in NOT_FLAGGED:
            continue
        t, f = truth_sets.get(kind, set()), flagged.get(kind, set())
        tp = len(t & f)
        rows.append(_row(kind, len(t), len(f), tp, ", ".join(sorted(rules_of.get(kind, ())))))
    truth = Path(truth_dir)
    ent = pd.read_csv(truth / "entities.csv", dtype=str, keep_default_na=False).replace({"": None})
    mail_sources = set(ent.loc[ent["header"].notna(), "source"])
    records, _, pairs, clusters = loaded
    records["unit"] = _units(records, mail_sources)
    for kind in NOT_FLAGGED:
        # planted to be left alone: 'flagged' counts false alarms, 'tp' the rows left alone
        t = truth_sets.get(kind, set())
        wrong = t & set().union(*(flagged.get(k, set()) for k in STALE_KINDS))
        rows.append(
            {
                "check": f"{kind}.not_stale",
                "n_truth": len(t),
                "n_flagged": len(wrong),
                "tp": len(t) - len(wrong),
                "precision": float("nan"),
                "recall": (len(t) - len(wrong)) / len(t) if t else float("nan"),
                "rules": "stale rules must not fire",
            }
        )
    rows += _duplicates(records, ent, pairs, clusters, mail_sources, truth)
    return pd.DataFrame(rows, columns=RESULT_COLUMNS)


def _row(check: str, n_truth: int, n_flagged: int, tp: int, rules: str) -> dict[str, Any]:
    return {
        "check": check,
        "n_truth": n_truth,
        "n_flagged": n_flagged,
        "tp": tp,
        "precision": tp / n_flagged if n_flagged else float("nan"),
        "recall": tp / n_truth if n_truth else float("nan"),
        "rules": rules,
    }


def _duplicates(
    records: pd.DataFrame,
    ent: pd.DataFrame,
    pairs: pd.DataFrame,
    clusters: pd.DataFrame,
    mail_sources: set[str],
    truth_dir: Path,
) -> list[dict[str, Any]]:
    contacts = records[records["entity"] == "contacts"]
    is_mail = ent["source"].isin(mail_sources)
    ent_unit = (ent["source"] + "#" + ent["source_row"]).where(
        ~is_mail, ent["source"] + "@" + ent["email"].map(mailbox_key).astype(str)
    )
    person_of_unit = dict(zip(ent_unit, ent["person_id"], strict=True))
    unit_person = {
        rid: person_of_unit.get(u)
        for rid, u in zip(contacts["record_id"], contacts["unit"], strict=True)
    }
    person: dict[str, str] = {r: p for r, p in unit_person.items() if p is not None}
    sizes = pd.Series(list(person.values())).value_counts()
    n_truth = int((sizes * (sizes - 1) // 2).sum())
    out = []
    for label, bands in (
        ("duplicates.pairs", ("auto", "review")),
        ("duplicates.pairs.auto", ("auto",)),
    ):
        if len(pairs) and "band" in pairs:
            sel = pairs[pairs["band"].isin(bands)]
            pl = sel["record_id_l"].map(person)
            pr = sel["record_id_r"].map(person)
            known = pl.notna() & pr.notna()
            tp = int((pl[known] == pr[known]).sum())
            out.append(_row(label, n_truth, int(known.sum()), tp, ", ".join(bands)))
        else:
            out.append(_row(label, n_truth, 0, 0, ", ".join(bands)))
    # pairs implied by the proposed clusters (what a merge would do)
    n_pred = tp = 0
    if len(clusters) and "cluster_id" in clusters:
        cl = clusters.assign(person=clusters["record_id"].map(person)).dropna(subset=["person"])
        k = cl.groupby("cluster_id").size()
        c = cl.groupby(["cluster_id", "person"]).size()
        n_pred, tp = int((k * (k - 1) // 2).sum()), int((c * (c - 1) // 2).sum())
    out.append(_row("duplicates.clusters", n_truth, n_pred, tp, "clusters"))
    out += _variants(ent, ent_unit, contacts, person, pairs)
    out += _traps(person, pairs, truth_dir)
    return out


def _variants(
    ent: pd.DataFrame,
    ent_unit: pd.Series,
    contacts: pd.DataFrame,
    person: dict[str, str],
    pairs: pd.DataFrame,
) -> list[dict[str, Any]]:
    """Per way of re-typing (nickname, name_order, ...): of the re-typed rows, the share linked
    (auto or review) to another row of the same person. 'n_flagged' is n/a here."""
    if "variant" not in ent:
        return []
    variant_of_unit = dict(zip(ent_unit, ent["variant"].fillna(""), strict=True))
    rid_variant = {
        rid: variant_of_unit.get(u, "")
        for rid, u in zip(contacts["record_id"], contacts["unit"], strict=True)
    }
    linked: set[str] = set()
    if len(pairs) and "band" in pairs:
        sel = pairs[pairs["band"].isin(("auto", "review"))]
        for a, b in zip(sel["record_id_l"], sel["record_id_r"], strict=True):
            if person.get(a) is not None and person.get(a) == person.get(b):
                linked |= {a, b}
    sizes = Counter(person.values())
    by_kind: dict[str, list[str]] = {}
    for rid, v in rid_variant.items():
        if v and sizes.get(person.get(rid, ""), 0) > 1:
            for kind in v.split("+"):
                by_kind.setdefault(kind, []).append(rid)
    out = []
    for kind in sorted(by_kind):
        rids = by_kind[kind]
        tp = sum(r in linked for r in rids)
        row = _row(f"duplicates.variant.{kind}", len(rids), 0, tp, "re-typed rows linked")
        row["n_flagged"], row["precision"] = tp, float("nan")
        out.append(row)
    return out


def _traps(person: dict[str, str], pairs: pd.DataFrame, truth_dir: Path) -> list[dict[str, Any]]:
    """Households and namesakes: record pairs of different persons that look alike.

    'n_truth' counts such record pairs, 'n_flagged' those put in the auto-merge band (wrong),
    'recall' the share kept out of it.
    """
    persons = pd.read_csv(truth_dir / "persons.csv", dtype=str, keep_default_na=False)
    n_rec = pd.Series(list(person.values())).value_counts()
    auto = pairs[pairs["band"] == "auto"] if len(pairs) and "band" in pairs else pairs
    merged: Counter[tuple[str, str]] = Counter()
    if len(auto):
        pl, pr = auto["record_id_l"].map(person), auto["record_id_r"].map(person)
        for a, b in zip(pl, pr, strict=True):
            if isinstance(a, str) and isinstance(b, str) and a != b:
                merged[(min(a, b), max(a, b))] += 1
    out = []
    for col, label in (("household_of", "household"), ("namesake_of", "namesake")):
        links = persons.loc[persons[col] != "", ["person_id", col]].itertuples(index=False)
        total = wrong = 0
        for a, b in links:
            total += int(n_rec.get(a, 0) * n_rec.get(b, 0))
            wrong += merged.get((min(a, b), max(a, b)), 0)
        out.append(
            {
                "check": f"duplicates.not_merged.{label}",
                "n_truth": total,
                "n_flagged": wrong,
                "tp": total - wrong,
                "precision": float("nan"),
                "recall": (total - wrong) / total if total else float("nan"),
                "rules": "auto band must not hold them",
            }
        )
    return out


def unmapped_rules(run: Any) -> pd.DataFrame:
    """Rules that fired but map to no planted kind (their findings are not scored here)."""
    _, issues, _, _ = _load(run)
    if not len(issues):
        return pd.DataFrame(columns=["rule_id", "n"])
    ids = issues["rule_id"].astype(str)
    ids = ids[ids.map(kind_of).isna()]
    counts = ids.value_counts().sort_index()
    return pd.DataFrame({"rule_id": counts.index, "n": counts.to_numpy()})


def format_table(table: pd.DataFrame) -> str:
    """The evaluation as an aligned text table (for benchmarks and closing notes)."""
    lines = [f"{'check':<36} {'truth':>7} {'flagged':>8} {'tp':>7} {'precision':>9} {'recall':>7}"]
    for r in table.to_dict("records"):
        p = "n/a" if r["precision"] != r["precision"] else f"{r['precision']:.3f}"
        q = "n/a" if r["recall"] != r["recall"] else f"{r['recall']:.3f}"
        lines.append(
            f"{r['check']:<36} {r['n_truth']:>7} {r['n_flagged']:>8} {r['tp']:>7} {p:>9} {q:>7}"
        )
    return "\n".join(lines)
