"""`crm-audit demo`: a messy multi-source CRM workspace, generated from a seed, with ground truth.

    from audit.demo import generate_workspace
    ws = generate_workspace(Path("crm-audit-demo"), size=1000, seed=7)
    # ws.config -> demo.yaml, ws.truth_dir -> truth/ (entities.csv, problems.csv, README.md)

Deterministic and offline: the same seed and size give byte-identical files on every machine
(own name lists instead of Faker, seeded numpy streams, a workbook writer with fixed times).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from audit.demo import commerce, mail, sources
from audit.demo import workspace as ws_names
from audit.demo.people import build_people, rng_for
from audit.demo.problems import Planted
from audit.demo.truth import mailbox_key, stale_problems, write_truth

__all__ = ["Workspace", "generate_workspace"]


@dataclass(frozen=True)
class Workspace:
    root: Path
    config: Path  # demo.yaml
    data_dir: Path
    truth_dir: Path
    entities: Path  # truth/entities.csv
    problems: Path  # truth/problems.csv
    n_persons: int
    n_rows: dict[str, int]  # source name -> data rows written


def _entities(p: Planted, source: str, file: str, sheet: str | None = None) -> pd.DataFrame:
    r = p.rows
    return pd.DataFrame(
        {
            "source": source,
            "source_file": file,
            "sheet": sheet,
            "source_row": r["source_row"].to_numpy(),
            "person_id": r["person_id"].to_numpy(),
            "email": r["email"].to_numpy(),
            "header": None,
            "variant": r["variant"].to_numpy(),
        }
    )


def _problems(
    p: Planted, people: pd.DataFrame, source: str, file: str, sheet: str | None = None
) -> pd.DataFrame:
    row_of = dict(zip(p.rows["uid"], p.rows["source_row"], strict=True))
    planted = [
        {
            "source": source,
            "source_file": file,
            "sheet": sheet,
            "source_row": row_of[x["uid"]],
            "field": x["field"],
            "problem_kind": x["problem_kind"],
            "detail": x["detail"],
        }
        for x in p.problems
    ]
    planted += stale_problems(p.rows, people, source=source, source_file=file, sheet=sheet)
    return pd.DataFrame(planted)


def _mask(people: pd.DataFrame, rng: np.random.Generator) -> dict[str, np.ndarray]:
    """Which persons each contact source knows about."""
    n = len(people)
    r = rng.random((n, 8))
    loc = people["locale"].to_numpy()
    stale = people["stale_kind"].to_numpy()
    inactive = np.isin(stale, ["inactive", "near_inactive"])  # their activity is HubSpot's only
    clean = pd.isna(stale)
    cust = people["is_customer"].to_numpy()
    return {
        "hubspot": (r[:, 0] < 0.55) | inactive | ((stale == "cleaned") & (r[:, 1] < 0.7)),
        "tokyo": ((loc == "ja") & (r[:, 2] < 0.6)) | ((loc != "ja") & (r[:, 2] < 0.12)),
        "expo": ~cust & ~inactive & (r[:, 3] < 0.08),
        "seoul": ~inactive
        & (((loc == "ko") & (r[:, 4] < 0.65)) | ((loc == "en") & (r[:, 4] < 0.08))),
        "stripe": cust & ~inactive & (r[:, 5] < 0.9),
        "inbox": np.isin(stale, ["hard_bounce", "soft_bounce"]) | (clean & (r[:, 6] < 0.25)),
        "mailchimp": stale == "cleaned",
        "subscribed": ~np.isin(stale, ["cleaned", "inactive", "near_inactive"]) & (r[:, 7] < 0.3),
        "unsubscribed": ~np.isin(stale, ["cleaned", "inactive", "near_inactive"])
        & (r[:, 7] >= 0.3)
        & (r[:, 7] < 0.35),
    }


def generate_workspace(dir: Path, *, size: int = 1000, seed: int = 7) -> Workspace:
    """Write data/, truth/ and demo.yaml under `dir` for `size` persons; return their paths."""
    root = Path(dir)
    data = root / "data"
    truth_dir = root / "truth"
    for d in (data, truth_dir, data / ws_names.MAILCHIMP_DIR, (data / ws_names.MBOX).parent):
        d.mkdir(parents=True, exist_ok=True)
    people = build_people(size, seed)
    masks = _mask(people, rng_for(seed, "presence"))
    idx = {k: np.flatnonzero(v) for k, v in masks.items()}
    ents: list[pd.DataFrame] = []
    probs: list[pd.DataFrame] = []
    counts: dict[str, int] = {}

    def contact_source(
        key: str,
        name: str,
        file: str,
        region: str,
        dup: float,
        sheet: str | None = None,
        **kw: Any,
    ) -> Planted:
        planted = sources.build_contact_source(
            people, idx[key], rng_for(seed, name), source=name, region=region, dup_share=dup, **kw
        )
        ents.append(_entities(planted, name, Path(file).name, sheet))
        probs.append(_problems(planted, people, name, Path(file).name, sheet))
        counts[name] = len(planted.rows)
        return planted

    # --- contact sources
    hub = contact_source("hubspot", "hubspot", ws_names.HUBSPOT_CONTACTS, "US", 0.06)
    hub_ids = sources.write_hubspot_contacts(
        hub.rows, data / ws_names.HUBSPOT_CONTACTS, rng_for(seed, "hubspot.ids")
    )
    hub.rows["record_id"] = hub_ids.to_numpy()
    sheets = ws_names.WORKBOOK_SHEETS
    tokyo = contact_source("tokyo", "tokyo_customers", ws_names.WORKBOOK, "JP", 0.05, sheets[0])
    expo = contact_source(
        "expo", "expo_leads", ws_names.WORKBOOK, "JP", 0.03, sheets[1], phone_style="intl"
    )
    sources.write_workbook(tokyo.rows, expo.rows, data / ws_names.WORKBOOK, rng_for(seed, "xlsx"))
    seoul = contact_source("seoul", "seoul_contacts", ws_names.KOREAN_CSV, "KR", 0.06)
    sources.write_korean_csv(seoul.rows, data / ws_names.KOREAN_CSV, rng_for(seed, "seoul.w"))
    stripe = contact_source(
        "stripe", "stripe_customers", ws_names.STRIPE_CUSTOMERS, "US", 0.02, phone_style="e164",
        bad_fields=("email", "name"), bad_scale=0.5,
    )  # fmt: skip
    mailchimp = (
        ("subscribed", "mailchimp_subscribed", ws_names.MAILCHIMP_SUBSCRIBED, ("name",), 0.5),
        ("unsubscribed", "mailchimp_unsubscribed", ws_names.MAILCHIMP_UNSUBSCRIBED, ("name",), 0.5),
        ("mailchimp", "mailchimp_cleaned", ws_names.MAILCHIMP_CLEANED, ("name",), 0.0),
    )
    for key, name, file, fields, scale in mailchimp:
        rows = contact_source(key, name, file, "US", 0.0, bad_fields=fields, bad_scale=scale)
        status = file.rsplit("/", 1)[1].split("_", 1)[0]
        sources.write_mailchimp(rows.rows, data / file, rng_for(seed, name + ".w"), status)

    # --- what customers bought, asked and answered
    crng = rng_for(seed, "commerce")
    stripe_people = people[people["person_id"].isin(set(stripe.rows["person_id"]))]
    subs = commerce.build_subscriptions(stripe_people, crng)
    orders = commerce.build_orders(stripe_people, subs, crng)
    cus_ids = sources.write_stripe_customers(
        stripe.rows, subs, orders, data / ws_names.STRIPE_CUSTOMERS, rng_for(seed, "stripe.ids")
    )
    first = stripe.rows.assign(cus=cus_ids.to_numpy()).sort_values("source_row")
    first = first[first["variant"].isna()].drop_duplicates("person_id")
    cust_of = {
        p: (c, n, e)
        for p, c, n, e in zip(
            first["person_id"], first["cus"], first["full_name"], first["email"], strict=True
        )
    }
    sources.write_stripe_subscriptions(subs, cust_of, data / ws_names.STRIPE_SUBSCRIPTIONS)
    counts["stripe_subscriptions"] = len(subs)

    # --- the inbox
    texts, who, mail_truth = mail.build_mailbox(people, idx["inbox"], rng_for(seed, "inbox"))
    mail.write_mbox(texts, data / ws_names.MBOX)
    mbox_name = Path(ws_names.MBOX).name
    inbox_rows = who.rename(columns={"message_index": "source_row"})
    ents.append(inbox_rows.assign(source="inbox", source_file=mbox_name, sheet=None, variant=None))
    probs.append(
        pd.DataFrame(
            stale_problems(inbox_rows, people, source="inbox", source_file=mbox_name, sheet=None)
        )
    )
    counts["inbox"] = len(texts)

    # every address a contact row carries: tickets from anyone else point at no contact
    known = {
        k for frame in ents for e in frame["email"] if isinstance(e, str) and (k := mailbox_key(e))
    }
    business = _business_problems(seed, hub, orders, stripe_people, people, cust_of, data, known)
    probs.extend(business.pop("_problems"))
    counts.update(business)

    ent_path, prob_path = write_truth(truth_dir, ents, probs, people, mail_truth)
    cfg = root / "demo.yaml"
    cfg.write_text(ws_names.config_text(), encoding="utf-8")
    return Workspace(
        root=root,
        config=cfg,
        data_dir=data,
        truth_dir=truth_dir,
        entities=ent_path,
        problems=prob_path,
        n_persons=len(people),
        n_rows=counts,
    )


def _business_problems(
    seed: int,
    hub: Planted,
    orders: pd.DataFrame,
    customers: pd.DataFrame,
    people: pd.DataFrame,
    cust_of: dict[str, tuple[str, str, str]],
    data: Path,
    known: set[str],
) -> dict:
    """Deals, stage history, orders, tickets, surveys, spend, quotas; with their planted faults."""
    rng = rng_for(seed, "business")
    out: dict = {"_problems": []}

    def record(source: str, file: str, rows: list[int], field: str, kind: str, detail: str) -> None:
        out["_problems"].append(
            pd.DataFrame(
                {
                    "source": source,
                    "source_file": Path(file).name,
                    "sheet": None,
                    "source_row": [r + 1 for r in rows],
                    "field": field,
                    "problem_kind": kind,
                    "detail": detail,
                }
            )
        )

    deals, stages = commerce.build_deals(hub.rows, rng)
    n = len(deals)
    pick = rng.permutation(n)
    k = max(1, n // 70) if n >= 30 else 0
    closed = np.flatnonzero(deals["stage"].isin(["Closed Won", "Closed Lost"]).to_numpy())
    no_date = [int(i) for i in rng.permutation(closed)[:k]]
    deals.loc[no_date, "close_date"] = None
    record(
        "hubspot_deals",
        ws_names.HUBSPOT_DEALS,
        no_date,
        "closed_at",
        "deal_closed_no_close_date",
        "closed stage, empty Close Date",
    )
    neg = [int(i) for i in pick[:k] if i not in no_date]
    deals.loc[neg, "amount"] = -deals.loc[neg, "amount"]
    record(
        "hubspot_deals",
        ws_names.HUBSPOT_DEALS,
        neg,
        "amount",
        "deal_negative_amount",
        "amount below zero",
    )
    orphan = [int(i) for i in pick[k : 2 * k] if i not in no_date]
    deals.loc[orphan, "contact_record_id"] = [str(70_000_000 + 7 * i) for i in orphan]
    record(
        "hubspot_deals",
        ws_names.HUBSPOT_DEALS,
        orphan,
        "contact_id",
        "deal_orphan_contact",
        "no contact has this Record ID",
    )
    sources.write_hubspot_deals(deals, data / ws_names.HUBSPOT_DEALS)
    out["hubspot_deals"] = n
    st = stages[["deal_id", "stage", "entered_at", "exited_at"]]
    sources.write_canonical(
        st,
        data / ws_names.DEAL_STAGES,
        {"entered_at": "%Y-%m-%d %H:%M:%S", "exited_at": "%Y-%m-%d %H:%M:%S"},
    )
    out["deal_stages"] = len(st)

    orders = orders.copy()
    orders.insert(1, "customer_id", orders["person_id"].map(lambda p: cust_of.get(p, (None,))[0]))
    orders.insert(
        2,
        "customer_email",
        orders["person_id"].map(lambda p: cust_of.get(p, (None, None, None))[2]),
    )
    m = len(orders)
    neg_o = [int(i) for i in rng.permutation(m)[: max(1, m // 150) if m >= 50 else 0]]
    orders.loc[neg_o, "amount"] = -orders.loc[neg_o, "amount"]
    record("orders", ws_names.ORDERS, neg_o, "amount", "order_negative_amount", "amount below zero")
    sources.write_canonical(
        orders.drop(columns=["person_id"]),
        data / ws_names.ORDERS,
        {"ordered_at": "%Y-%m-%d %H:%M:%S"},
    )
    out["orders"] = m

    tickets = commerce.build_tickets(customers, rng)
    requester = {
        p: str(360_000_000_000 + 9973 * i) for i, p in enumerate(sorted(people["person_id"]))
    }
    tickets["requester_id"] = tickets["person_id"].map(requester)
    solved = np.flatnonzero(tickets["solved_at"].notna().to_numpy())
    bad_t = [
        int(i)
        for i in rng.permutation(solved)[: max(1, len(solved) // 100) if len(solved) >= 30 else 0]
    ]
    for i in bad_t:  # solved timestamp typed before the creation time
        tickets.at[i, "solved_at"] = tickets.at[i, "created_at"] - pd.Timedelta(
            hours=int(rng.integers(2, 72))
        )
        tickets.at[i, "first_solved_at"] = tickets.at[i, "solved_at"]
    record(
        "zendesk",
        ws_names.ZENDESK,
        bad_t,
        "solved_at",
        "ticket_solved_before_created",
        "Solved at is before Created at",
    )
    orphan_t = [i for i, e in enumerate(tickets["requester_email"]) if mailbox_key(e) not in known]
    record(
        "zendesk",
        ws_names.ZENDESK,
        orphan_t,
        "requester_email",
        "ticket_orphan_requester",
        "no contact row carries this address (it was mistyped or left out)",
    )
    sources.write_zendesk_tickets(tickets, data / ws_names.ZENDESK)
    out["zendesk"] = len(tickets)

    nps, sup = commerce.build_surveys(customers, tickets, rng)
    sources.write_typeform_nps(nps, data / ws_names.TYPEFORM, rng)
    sources.write_canonical(
        sup, data / ws_names.SUPPORT_SURVEY, {"answered_at": "%Y-%m-%d %H:%M:%S"}
    )
    out["nps_survey"], out["support_survey"] = len(nps), len(sup)
    spend = commerce.build_spend(len(people), rng)
    sources.write_canonical(spend, data / ws_names.SPEND, {"spent_on": "%Y-%m-%d"})
    quotas = commerce.build_quotas(len(people))
    sources.write_canonical(
        quotas, data / ws_names.QUOTAS, {"period_start": "%Y-%m-%d", "period_end": "%Y-%m-%d"}
    )
    out["spend"], out["quotas"] = len(spend), len(quotas)
    return out
