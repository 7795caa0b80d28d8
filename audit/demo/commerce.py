# ruff: noqa: E501  (row builders read best with one key per line)
"""What the customers did: deals and their stage history, subscriptions, orders, tickets, surveys,
spend and quotas. Enough history around the KPI period for every KPI to have data.

All dates derive from the persons' creation dates and a seeded generator; nothing reads the clock.
"""

from __future__ import annotations

import calendar
import datetime as dt
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from audit.demo import names as nm
from audit.demo.people import AS_OF, START

PLANS = [
    # name, product, interval, amount, tier
    ("Starter Monthly", "Aster Starter", "month", 49.0, 1),
    ("Pro Monthly", "Aster Pro", "month", 149.0, 2),
    ("Enterprise Monthly", "Aster Enterprise", "month", 990.0, 3),
    ("Starter Annual", "Aster Starter", "year", 490.0, 1),
    ("Pro Annual", "Aster Pro", "year", 1490.0, 2),
]
PLAN_WEIGHTS = [0.3, 0.3, 0.08, 0.14, 0.18]
ADDONS = [
    ("Onboarding package", "services", 900.0),
    ("Analytics add-on", "analytics", 290.0),
    ("Extra seats (5)", "seats", 245.0),
    ("Training day", "services", 1200.0),
    ("Premium support", "support", 600.0),
]
STAGES = [
    ("Appointment Scheduled", 0.2),
    ("Qualified To Buy", 0.4),
    ("Presentation Scheduled", 0.6),
    ("Decision Maker Bought-In", 0.8),
    ("Contract Sent", 0.9),
]
LOST_REASONS = ["Price", "Competitor", "No decision", "Timing", "Budget", "Missing feature"]


@dataclass
class Commerce:
    customers: pd.DataFrame  # person_id, stripe_id(s)
    subscriptions: pd.DataFrame
    orders: pd.DataFrame
    deals: pd.DataFrame
    stages: pd.DataFrame
    tickets: pd.DataFrame
    nps: pd.DataFrame
    support_survey: pd.DataFrame
    spend: pd.DataFrame
    quotas: pd.DataFrame


def _id(
    rng: np.random.Generator, prefix: str, n: int, length: int = 14, *, lower: bool = False
) -> list[str]:
    upper = "" if lower else "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
    alphabet = np.array(list(upper + "abcdefghijklmnopqrstuvwxyz0123456789"))
    chars = alphabet[rng.integers(0, len(alphabet), size=(n, length))]
    out = [prefix + "".join(row) for row in chars]
    seen: set[str] = set()
    for i, v in enumerate(out):  # collisions are astronomically rare, but ids must be unique
        while v in seen:
            v = v[:-1] + "0"
        seen.add(v)
        out[i] = v
    return out


TODAY = AS_OF.to_pydatetime()
DAY = dt.timedelta(days=1)


def add_months(d: dt.datetime, months: int) -> dt.datetime:
    """Calendar months later, day clamped to the month's end (how billing dates move)."""
    y, m = divmod(d.month - 1 + months, 12)
    y += d.year
    day = min(d.day, calendar.monthrange(y, m + 1)[1])
    return d.replace(year=y, month=m + 1, day=day)


def periods_before(start: dt.datetime, end: dt.datetime, step: int) -> int:
    """How many whole billing periods of `step` months start at or before `end`, minus one."""
    k = max(((end.year - start.year) * 12 + end.month - start.month) // step, 0)
    while k > 0 and add_months(start, k * step) > end:
        k -= 1
    while add_months(start, (k + 1) * step) <= end:
        k += 1
    return k


def _dts(s: pd.Series) -> list[dt.datetime]:
    return [x.replace(microsecond=0) for x in pd.to_datetime(s).dt.to_pydatetime()]


def build_subscriptions(people: pd.DataFrame, rng: np.random.Generator) -> pd.DataFrame:
    """One Stripe subscription per customer; some churned, some upgraded (a second one)."""
    cust = people[people["is_customer"]].reset_index(drop=True)
    n = len(cust)
    plan_idx = rng.choice(len(PLANS), size=n, p=np.asarray(PLAN_WEIGHTS) / sum(PLAN_WEIGHTS))
    lag = rng.integers(5, 120, n)
    churn = rng.random(n)
    churn_after = rng.integers(30, 900, n)
    upgrade = rng.random(n) < 0.12
    created = _dts(cust["created_at"])
    pids = cust["person_id"].tolist()
    latest = TODAY - 3 * DAY
    rows = []
    for i in range(n):
        _, _, interval, _, tier = PLANS[plan_idx[i]]
        s = min(created[i] + int(lag[i]) * DAY, latest)
        canceled = reason = change = None
        status = "active"
        if churn[i] < 0.22:
            c = s + int(churn_after[i]) * DAY
            if c < TODAY:
                canceled, status, reason = c, "canceled", "cancellation_requested"
                if churn[i] < 0.03:
                    reason = "payment_failed"
        elif churn[i] < 0.25:
            status = "past_due"
        step = 1 if interval == "month" else 12
        better = next((p for p in PLANS if p[2] == interval and p[4] == tier + 1), None)
        cps = cpe = None
        if upgrade[i] and canceled is None and better is not None:
            up_at = s + int(30 + churn_after[i] % 400) * DAY
            if up_at < TODAY - 2 * DAY:
                canceled, status, reason, change = (
                    up_at,
                    "canceled",
                    "cancellation_requested",
                    "upgrade",
                )
                cps, cpe = max(s, add_months(up_at, -step)), up_at
                rows.append(_sub_row(pids[i], better, up_at, None, "active", None, "upgrade"))
        rows.append(
            _sub_row(pids[i], PLANS[plan_idx[i]], s, canceled, status, reason, change, cps, cpe)
        )
    subs = pd.DataFrame(rows)
    subs = subs.sort_values(["created", "person_id"], kind="stable").reset_index(drop=True)
    subs["id"] = _id(rng, "sub_", len(subs))
    return subs


def _sub_row(
    pid: str,
    plan: tuple[str, str, str, float, int],
    start: dt.datetime,
    canceled: dt.datetime | None,
    status: str,
    reason: str | None,
    change: str | None,
    cps: dt.datetime | None = None,
    cpe: dt.datetime | None = None,
) -> dict[str, Any]:
    name, product, interval, amount, tier = plan
    step = 1 if interval == "month" else 12
    if cps is None:
        k = periods_before(start, canceled or TODAY, step)
        cps, cpe = add_months(start, k * step), add_months(start, (k + 1) * step)
    return {
        "person_id": pid,
        "plan": name,
        "product": product,
        "interval": interval,
        "amount": amount,
        "tier": tier,
        "created": start,
        "start": start,
        "current_period_start": cps,
        "current_period_end": cpe,
        "canceled_at": canceled,
        "ended_at": canceled,
        "status": status,
        "reason": reason,
        "change": change,
    }


def build_orders(
    people: pd.DataFrame, subs: pd.DataFrame, rng: np.random.Generator
) -> pd.DataFrame:
    """One-off purchases (add-ons, services): cross-sell, and the purchases CLV counts."""
    first = subs.groupby("person_id")["start"].min()
    pids = first.index.tolist()
    starts = _dts(pd.Series(first.to_numpy()))
    n_orders = rng.poisson(1.4, len(pids))
    total = int(n_orders.sum())
    r = rng.random((total, 5))
    rows = []
    j = 0
    for pid, k, s in zip(pids, n_orders, starts, strict=True):
        span = max((TODAY - s).days, 2)
        for _ in range(int(k)):
            prod, cat, price = ADDONS[int(r[j, 0] * len(ADDONS))]
            at = s + dt.timedelta(days=int(r[j, 1] * span), seconds=int(r[j, 2] * 80000))
            rows.append(
                {
                    "person_id": pid,
                    "product": prod,
                    "category": cat,
                    "amount": price * (1 + int(r[j, 3] * 2)),
                    "currency": "usd",
                    "status": "paid" if r[j, 4] > 0.04 else "refunded",
                    "ordered_at": at,
                }
            )
            j += 1
    cols = ["person_id", "product", "category", "amount", "currency", "status", "ordered_at"]
    orders = pd.DataFrame(rows, columns=cols)
    orders = orders.sort_values(["ordered_at", "person_id"], kind="stable").reset_index(drop=True)
    orders.insert(0, "external_id", [f"ORD-{100001 + i}" for i in range(len(orders))])
    return orders


def build_deals(
    contacts: pd.DataFrame, rng: np.random.Generator
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """HubSpot deals for the contacts that reached sales, with each deal's stage history."""
    hot = contacts[
        contacts["lifecycle"].isin(
            ["Sales Qualified Lead", "Opportunity", "Customer", "Evangelist"]
        )
    ].reset_index(drop=True)
    n = len(hot)
    recs = hot[
        [
            "uid",
            "record_id",
            "person_id",
            "lifecycle",
            "company",
            "full_name",
            "owner",
            "lead_source",
        ]
    ].to_dict("records")
    created0 = _dts(hot["created_at"])
    R = rng.random((n, 2, 12))
    cuts_all = np.sort(rng.random((n, 2, len(STAGES))), axis=2)
    deals, stages = [], []
    for i, c in enumerate(recs):
        won_life = c["lifecycle"] in ("Customer", "Evangelist")
        n_deals = 1 + int(won_life and R[i, 0, 0] < 0.25)
        created = created0[i] + int(1 + R[i, 0, 1] * 39) * DAY
        company = c["company"] if isinstance(c["company"], str) else c["full_name"]
        for d in range(n_deals):
            r = R[i, d]
            if created >= TODAY:
                created = TODAY - int(2 + r[2] * 18) * DAY
            plan = PLANS[int(r[3] * len(PLANS))]
            annual = plan[3] * (12 if plan[2] == "month" else 1)
            amount = round(annual * (1, 1, 2, 3, 5)[int(r[4] * 5)], 2)
            cycle = int(-22.0 * np.log((1 - r[5]) * (1 - r[6]))) + 1  # gamma(2, 22) days
            if won_life:
                outcome = "won"
            elif c["lifecycle"] == "Opportunity":
                outcome = "lost" if r[7] < 0.45 else "open"
            else:
                outcome = "lost" if r[7] < 0.3 else "open"
            close = created + dt.timedelta(days=cycle, hours=int(r[8] * 9))
            if outcome != "open" and close >= TODAY:
                outcome = "open"
            final: str | None
            if outcome == "won":
                reached, final = len(STAGES), "Closed Won"
            else:
                reached = 1 + int(r[9] * len(STAGES))
                final = "Closed Lost" if outcome == "lost" else None
            end_open = close if final else min(TODAY, created + cycle * DAY)
            total = (end_open - created).total_seconds()
            cuts = cuts_all[i, d, : reached - 1]
            bounds = [created] + [created + dt.timedelta(seconds=int(x * total)) for x in cuts]
            bounds.append(end_open)
            key = (c["uid"], d)
            for s_i in range(reached):
                stages.append(
                    (key, STAGES[s_i][0], bounds[s_i].replace(microsecond=0),
                     bounds[s_i + 1].replace(microsecond=0) if (final or s_i < reached - 1) else None)
                )  # fmt: skip
            if final:
                stages.append((key, final, close.replace(microsecond=0), None))
            deals.append(
                {
                    "deal_key": key,
                    "contact_record_id": c["record_id"],
                    "person_id": c["person_id"],
                    "deal_name": f"{company} - {plan[1]}" + (" expansion" if d else ""),
                    "stage": final or STAGES[reached - 1][0],
                    "probability": 1.0
                    if final == "Closed Won"
                    else (0.0 if final else STAGES[reached - 1][1]),
                    "pipeline": "Sales Pipeline",
                    "amount": amount,
                    "currency": "USD",
                    "created_at": created.replace(second=0, microsecond=0),
                    "close_date": close.replace(second=0, microsecond=0) if final else None,
                    "owner": c["owner"],
                    "company": c["company"],
                    "deal_type": "Existing Business" if d else "New Business",
                    "lost_reason": LOST_REASONS[int(r[10] * len(LOST_REASONS))]
                    if final == "Closed Lost"
                    else None,
                    "lead_source": c["lead_source"],
                }
            )
            created = close + int(60 + r[11] * 240) * DAY
    deals_df = pd.DataFrame(deals)
    stages_df = pd.DataFrame(stages, columns=["deal_key", "stage", "entered_at", "exited_at"])
    if len(deals_df):
        deals_df = deals_df.sort_values(
            ["created_at", "contact_record_id"], kind="stable"
        ).reset_index(drop=True)
        jitter = rng.integers(0, 100, len(deals_df))
        deals_df["record_id"] = [
            str(9_001_000_000 + 137 * i + int(j)) for i, j in enumerate(jitter)
        ]
        key_to_id = dict(zip(deals_df["deal_key"], deals_df["record_id"], strict=True))
        stages_df["deal_id"] = stages_df["deal_key"].map(key_to_id)
        stages_df = stages_df.sort_values(["deal_id", "entered_at"], kind="stable").reset_index(
            drop=True
        )
    return deals_df, stages_df


TICKET_SUBJECTS = [
    "Cannot log in", "Invoice question", "Export to CSV fails", "How do I add a user?",
    "Billing address change", "API rate limit", "Feature request: dark mode", "Data import error",
    "로그인이 안 됩니다", "請求書の再発行", "无法导出报表", "결제 수단 변경", "パスワードを忘れました",
]  # fmt: skip
PRIORITIES = ["low", "normal", "normal", "normal", "high", "urgent"]
SLA_HOURS = {"low": 72.0, "normal": 48.0, "high": 24.0, "urgent": 4.0}
VIA = ["email", "web", "chat", "phone"]


def build_tickets(customers: pd.DataFrame, rng: np.random.Generator) -> pd.DataFrame:
    """Zendesk tickets from customers: first reply, solve time, SLA target by priority."""
    n_t = rng.poisson(1.2, len(customers))
    total = int(n_t.sum())
    r = rng.random((total, 10))
    g1 = rng.gamma(2.0, 60.0, total)
    g2 = rng.gamma(1.5, 1.0, total)
    recs = customers[["person_id", "full_name", "email"]].to_dict("records")
    rows = []
    j = 0
    for c, k in zip(recs, n_t, strict=True):
        for _ in range(int(k)):
            created = TODAY - dt.timedelta(
                days=int(1 + r[j, 0] * 499), seconds=int(r[j, 1] * 86000)
            )
            p = PRIORITIES[int(r[j, 2] * len(PRIORITIES))]
            first_reply = created + dt.timedelta(minutes=int(g1[j]) + 1)
            hours = float(g2[j] * SLA_HOURS[p] / 2.0)
            solved: dt.datetime | None = created + dt.timedelta(hours=hours)
            reopened = r[j, 3] < 0.08
            status = "solved" if r[j, 4] < 0.7 else "closed"
            if solved > TODAY or r[j, 5] < 0.08:
                status, solved = ("open" if r[j, 6] < 0.6 else "pending"), None
            first_solved = None
            if solved is not None:
                first_solved = solved - dt.timedelta(hours=hours / 2) if reopened else solved
            rows.append(
                {
                    "person_id": c["person_id"],
                    "requester": c["full_name"],
                    "requester_email": c["email"],
                    "subject": TICKET_SUBJECTS[int(r[j, 7] * len(TICKET_SUBJECTS))],
                    "status": status,
                    "priority": p,
                    "assignee": nm.AGENTS[int(r[j, 8] * len(nm.AGENTS))][0],
                    "created_at": created.replace(microsecond=0),
                    "first_reply_at": first_reply.replace(microsecond=0),
                    "solved_at": None if solved is None else solved.replace(microsecond=0),
                    "first_solved_at": None
                    if first_solved is None
                    else first_solved.replace(microsecond=0),
                    "sla_hours": SLA_HOURS[p],
                    "reopens": int(reopened),
                    "via": VIA[int(r[j, 9] * len(VIA))],
                }
            )
            j += 1
    t = pd.DataFrame(rows)
    if len(t):
        t = t.sort_values(["created_at", "person_id"], kind="stable").reset_index(drop=True)
        t.insert(0, "external_id", [str(1001 + i) for i in range(len(t))])
    return t


NPS_REASONS = {
    "en": ["Great support", "Too expensive", "Easy to use", "Missing integrations", ""],
    "ko": ["지원이 빠릅니다", "가격이 비쌉니다", "사용하기 쉬워요", ""],
    "ja": ["サポートが丁寧", "価格が高い", "使いやすい", ""],
    "zh": ["客服很好", "价格太贵", "简单易用", ""],
}


def build_surveys(
    customers: pd.DataFrame, tickets: pd.DataFrame, rng: np.random.Generator
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """An NPS survey (0-10, Typeform) and post-ticket CSAT (1-5) and CES (1-7) answers."""
    take = rng.random(len(customers)) < 0.35
    resp = customers[take].reset_index(drop=True)
    m = len(resp)
    scores = np.clip(np.round(rng.normal(7.6, 2.2, m)), 0, 10).astype(int)
    days, secs, pick_r = rng.integers(1, 400, m), rng.integers(0, 86000, m), rng.integers(0, 10, m)
    nps = pd.DataFrame(
        {
            "person_id": resp["person_id"],
            "email": resp["email"],
            "score": scores,
            "reason": [
                NPS_REASONS[lc][int(x) % len(NPS_REASONS[lc])]
                for lc, x in zip(resp["locale"], pick_r, strict=True)
            ],
            "submitted": [
                TODAY - dt.timedelta(days=int(d), seconds=int(s))
                for d, s in zip(days, secs, strict=True)
            ],
            "partial": rng.random(m) < 0.05,
        }
    )
    nps = nps.sort_values(["submitted", "person_id"], kind="stable").reset_index(drop=True)
    nps.insert(0, "token", _id(rng, "", len(nps), 32, lower=True))
    rows = []
    solved = tickets[tickets["solved_at"].notna()] if len(tickets) else tickets
    if len(solved):
        recs = solved[["external_id", "requester_email", "solved_at"]].to_dict("records")
        at_list = _dts(solved["solved_at"])
        r = rng.random((len(recs), 4))
        csat = np.clip(np.round(rng.normal(4.1, 1.0, len(recs))), 1, 5)
        ces = np.clip(np.round(rng.normal(5.4, 1.3, len(recs))), 1, 7)
        for t, at0, rr, cs, ce in zip(recs, at_list, r, csat, ces, strict=True):
            if rr[0] >= 0.45:
                continue
            at = at0 + dt.timedelta(hours=int(1 + rr[1] * 47))
            if at >= TODAY:
                continue
            rows.append((t["requester_email"], "csat", float(cs), 1.0, 5.0, t["external_id"], at))
            if rr[2] < 0.5:
                rows.append(
                    (t["requester_email"], "ces", float(ce), 1.0, 7.0, t["external_id"], at)
                )
            if rr[3] < 0.3:  # a 1-5 "would you recommend us" question: an NPS-like score only
                rec = float(round((ce - 1) / 6 * 4 + 1))  # tracks effort, spread over 1-5
                rows.append((t["requester_email"], "nps", rec, 1.0, 5.0, t["external_id"], at))
    sup = pd.DataFrame(
        rows,
        columns=[
            "respondent_email",
            "survey_type",
            "score",
            "scale_min",
            "scale_max",
            "ticket_id",
            "answered_at",
        ],
    )
    sup.insert(0, "external_id", [f"S-{50001 + i}" for i in range(len(sup))])
    return nps, sup


def build_spend(n_people: int, rng: np.random.Generator) -> pd.DataFrame:
    """Monthly marketing, sales and retention spend, scaled to the size of the business."""
    months = pd.date_range(START.normalize().replace(day=1), AS_OF, freq="MS")
    scale = max(n_people, 50) / 1000.0
    channels = [
        ("marketing", "Paid Search", 9000.0), ("marketing", "Paid Social", 6000.0),
        ("marketing", "Events", 4000.0), ("marketing", "Content", 2500.0),
        ("sales", "Sales salaries", 30000.0), ("sales", "Sales tools", 1800.0),
        ("retention", "Customer success", 7000.0),
    ]  # fmt: skip
    rows = []
    for m in months:
        for cat, ch, base in channels:
            amt = round(base * scale * float(rng.uniform(0.8, 1.2)), 2)
            rows.append(
                {"category": cat, "channel": ch, "amount": amt, "currency": "USD", "spent_on": m}
            )
    return pd.DataFrame(rows)


def build_quotas(n_people: int) -> pd.DataFrame:
    """Quarterly quota per sales rep from 2025 on."""
    scale = max(n_people, 50) / 1000.0
    rows = []
    for q in pd.period_range("2025Q1", "2026Q4", freq="Q"):
        for j, (rep, _) in enumerate(nm.REPS):
            rows.append(
                {
                    "owner": rep,
                    "period_start": q.start_time.normalize(),
                    "period_end": (q.end_time + pd.Timedelta(seconds=1)).normalize(),
                    "amount": round(40000.0 * scale * (1 + 0.1 * (j % 3)), 2),
                }
            )
    return pd.DataFrame(rows)
