"""What the customers did: deals and their stage history, subscriptions, orders, tickets, surveys,
spend and quotas. Enough history around the KPI period for every KPI to have data.

All dates derive from the persons' creation dates and a seeded generator; nothing reads the clock.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from audit.demo import names as nm
from audit.demo.people import AS_OF, START, pick

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


def _id(rng: np.random.Generator, prefix: str, n: int, length: int = 14) -> list[str]:
    alphabet = np.array(list("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"))
    chars = alphabet[rng.integers(0, len(alphabet), size=(n, length))]
    out = [prefix + "".join(row) for row in chars]
    seen: set[str] = set()
    for i, v in enumerate(out):  # collisions are astronomically rare, but ids must be unique
        while v in seen:
            v = v[:-1] + "0"
        seen.add(v)
        out[i] = v
    return out


def _add_months(ts: pd.Timestamp, months: int) -> pd.Timestamp:
    return ts + pd.DateOffset(months=months)


def build_subscriptions(people: pd.DataFrame, rng: np.random.Generator) -> pd.DataFrame:
    """One Stripe subscription per customer; some churned, some upgraded (a second one)."""
    cust = people[people["is_customer"]].reset_index(drop=True)
    n = len(cust)
    plan_idx = rng.choice(len(PLANS), size=n, p=np.asarray(PLAN_WEIGHTS) / sum(PLAN_WEIGHTS))
    lag = rng.integers(5, 120, n)
    start = cust["created_at"] + pd.to_timedelta(lag, unit="D")
    start = start.where(start < AS_OF - pd.Timedelta(days=3), AS_OF - pd.Timedelta(days=3))
    churn = rng.random(n)
    churn_after = rng.integers(30, 900, n)
    upgrade = rng.random(n) < 0.12
    rows = []
    for i in range(n):
        _, _, interval, _, tier = PLANS[plan_idx[i]]
        s = start.iat[i].floor("s")
        canceled = None
        reason = None
        status = "active"
        if churn[i] < 0.22:
            c = s + pd.Timedelta(days=int(churn_after[i]))
            if c < AS_OF:
                canceled, status, reason = c, "canceled", "cancellation_requested"
                if churn[i] < 0.03:
                    reason = "payment_failed"
        elif churn[i] < 0.25:
            status = "past_due"
        end_of_life = canceled if canceled is not None else AS_OF
        step = 1 if interval == "month" else 12
        k = 0
        while _add_months(s, (k + 1) * step) <= end_of_life:
            k += 1
        cps = _add_months(s, k * step)
        cpe = _add_months(s, (k + 1) * step)
        change = None
        better = next((p for p in PLANS if p[2] == interval and p[4] == tier + 1), None)
        if upgrade[i] and canceled is None and better is not None:
            up_at = s + pd.Timedelta(days=int(30 + churn_after[i] % 400))
            if up_at < AS_OF - pd.Timedelta(days=2):
                canceled, status, reason, change = (
                    up_at,
                    "canceled",
                    "cancellation_requested",
                    "upgrade",
                )
                cps, cpe = max(s, up_at - pd.DateOffset(months=step)), up_at
                rows.append(_sub_row(cust, i, better, up_at, None, "active", None, "upgrade"))
        rows.append(
            _sub_row(cust, i, PLANS[plan_idx[i]], s, canceled, status, reason, change, cps, cpe)
        )
    subs = pd.DataFrame(rows)
    subs = subs.sort_values(["created", "person_id"], kind="stable").reset_index(drop=True)
    subs["id"] = _id(rng, "sub_", len(subs))
    return subs


def _sub_row(cust, i, plan, start, canceled, status, reason, change, cps=None, cpe=None) -> dict:
    name, product, interval, amount, tier = plan
    step = 1 if interval == "month" else 12
    if cps is None:
        cps = start
        k = 0
        while _add_months(start, (k + 1) * step) <= AS_OF:
            k += 1
        cps = _add_months(start, k * step)
        cpe = _add_months(start, (k + 1) * step)
    return {
        "person_id": cust["person_id"].iat[i],
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
    pids = first.index.to_numpy()
    n_orders = rng.poisson(1.4, len(pids))
    rows = []
    for pid, k, s in zip(pids, n_orders, first.to_numpy(), strict=True):
        s = pd.Timestamp(s)
        span = max((AS_OF - s).days, 2)
        for _ in range(int(k)):
            prod, cat, price = ADDONS[int(rng.integers(0, len(ADDONS)))]
            at = s + pd.Timedelta(
                days=int(rng.integers(0, span)), seconds=int(rng.integers(0, 80000))
            )
            rows.append(
                {
                    "person_id": pid,
                    "product": prod,
                    "category": cat,
                    "amount": price * int(rng.integers(1, 3)),
                    "currency": "usd",
                    "status": "paid" if rng.random() > 0.04 else "refunded",
                    "ordered_at": at.floor("s"),
                }
            )
    orders = pd.DataFrame(
        rows,
        columns=["person_id", "product", "category", "amount", "currency", "status", "ordered_at"],
    )
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
    deals, stages = [], []
    for i in range(len(hot)):
        c = hot.iloc[i]
        n_deals = 1 + int(c["lifecycle"] in ("Customer", "Evangelist") and rng.random() < 0.25)
        created = pd.Timestamp(c["created_at"]) + pd.Timedelta(days=int(rng.integers(1, 40)))
        for d in range(n_deals):
            if created >= AS_OF:
                created = AS_OF - pd.Timedelta(days=int(rng.integers(2, 20)))
            plan = PLANS[int(rng.integers(0, len(PLANS)))]
            annual = plan[3] * (12 if plan[2] == "month" else 1)
            amount = round(annual * float(rng.choice([1, 1, 2, 3, 5])), 2)
            cycle = int(rng.gamma(2.0, 22.0)) + 1
            if c["lifecycle"] in ("Customer", "Evangelist"):
                outcome = "won"
            elif c["lifecycle"] == "Opportunity":
                outcome = "lost" if rng.random() < 0.45 else "open"
            else:
                outcome = "lost" if rng.random() < 0.3 else "open"
            close = created + pd.Timedelta(days=cycle, hours=int(rng.integers(0, 9)))
            if outcome != "open" and close >= AS_OF:
                outcome = "open"
            if outcome == "won":
                reached, final = len(STAGES), "Closed Won"
            elif outcome == "lost":
                reached, final = int(rng.integers(1, len(STAGES) + 1)), "Closed Lost"
            else:
                reached, final = int(rng.integers(1, len(STAGES) + 1)), None
            # stage history: split the cycle across the stages reached
            cuts = np.sort(rng.random(reached - 1)) if reached > 1 else np.array([])
            end_open = close if final else min(AS_OF, created + pd.Timedelta(days=cycle))
            total = (end_open - created).total_seconds()
            bounds = [created] + [created + pd.Timedelta(seconds=float(x * total)) for x in cuts]
            bounds.append(end_open)
            for s_i in range(reached):
                stages.append(
                    {
                        "deal_key": (c["uid"], d),
                        "stage": STAGES[s_i][0],
                        "entered_at": bounds[s_i].floor("s"),
                        "exited_at": bounds[s_i + 1].floor("s")
                        if (final or s_i < reached - 1)
                        else None,
                    }
                )
            if final:
                stages.append(
                    {
                        "deal_key": (c["uid"], d),
                        "stage": final,
                        "entered_at": close.floor("s"),
                        "exited_at": None,
                    }
                )
            company = c["company"] if isinstance(c["company"], str) else c["full_name"]
            deals.append(
                {
                    "deal_key": (c["uid"], d),
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
                    "created_at": created.floor("min"),
                    "close_date": close.floor("min") if final else None,
                    "owner": c["owner"],
                    "company": c["company"],
                    "deal_type": "Existing Business" if d else "New Business",
                    "lost_reason": LOST_REASONS[int(rng.integers(0, len(LOST_REASONS)))]
                    if final == "Closed Lost"
                    else None,
                    "lead_source": c["lead_source"],
                }
            )
            created = close + pd.Timedelta(days=int(rng.integers(60, 300)))
    deals_df = pd.DataFrame(deals)
    stages_df = pd.DataFrame(stages, columns=["deal_key", "stage", "entered_at", "exited_at"])
    if len(deals_df):
        deals_df = deals_df.sort_values(
            ["created_at", "contact_record_id"], kind="stable"
        ).reset_index(drop=True)
        deals_df["record_id"] = [
            str(9_001_000_000 + 137 * i + int(rng.integers(0, 100))) for i in range(len(deals_df))
        ]
        key_to_id = dict(zip(deals_df["deal_key"], deals_df["record_id"], strict=True))
        stages_df["deal_id"] = stages_df["deal_key"].map(key_to_id)
        stages_df = stages_df.sort_values(["deal_id", "entered_at"], kind="stable").reset_index(
            drop=True
        )
    return deals_df, stages_df


def build_tickets(customers: pd.DataFrame, rng: np.random.Generator) -> pd.DataFrame:
    """Zendesk tickets from customers: first reply, solve time, SLA target by priority."""
    n_t = rng.poisson(1.2, len(customers))
    prio = ["low", "normal", "normal", "normal", "high", "urgent"]
    sla = {"low": 72.0, "normal": 48.0, "high": 24.0, "urgent": 4.0}
    subjects = [
        "Cannot log in", "Invoice question", "Export to CSV fails", "How do I add a user?",
        "Billing address change", "API rate limit", "Feature request: dark mode",
        "Data import error", "로그인이 안 됩니다", "請求書の再発行", "无法导出报表",
        "결제 수단 변경", "パスワードを忘れました",
    ]  # fmt: skip
    rows = []
    for i in range(len(customers)):
        c = customers.iloc[i]
        for _ in range(int(n_t[i])):
            created = AS_OF - pd.Timedelta(
                days=int(rng.integers(1, 500)), seconds=int(rng.integers(0, 86000))
            )
            p = prio[int(rng.integers(0, len(prio)))]
            first_reply = created + pd.Timedelta(minutes=int(rng.gamma(2.0, 60.0)) + 1)
            hours = float(rng.gamma(1.5, sla[p] / 2.0))
            solved = created + pd.Timedelta(hours=hours)
            reopened = rng.random() < 0.08
            status = "solved" if rng.random() < 0.7 else "closed"
            if solved > AS_OF or rng.random() < 0.08:
                status, solved = ("open" if rng.random() < 0.6 else "pending"), None
            rows.append(
                {
                    "person_id": c["person_id"],
                    "requester": c["full_name"],
                    "requester_email": c["email"],
                    "subject": subjects[int(rng.integers(0, len(subjects)))],
                    "status": status,
                    "priority": p,
                    "assignee": nm.AGENTS[int(rng.integers(0, len(nm.AGENTS)))][0],
                    "created_at": created.floor("s"),
                    "first_reply_at": first_reply.floor("s"),
                    "solved_at": None if solved is None else solved.floor("s"),
                    "first_solved_at": None
                    if solved is None
                    else (solved - pd.Timedelta(hours=hours / 2) if reopened else solved).floor(
                        "s"
                    ),
                    "sla_hours": sla[p],
                    "reopens": int(reopened),
                    "via": pick(rng, ["email", "web", "chat", "phone"], 1)[0],
                }
            )
    t = pd.DataFrame(rows)
    if len(t):
        t = t.sort_values(["created_at", "person_id"], kind="stable").reset_index(drop=True)
        t.insert(0, "external_id", [str(1001 + i) for i in range(len(t))])
    return t


def build_surveys(
    customers: pd.DataFrame, tickets: pd.DataFrame, rng: np.random.Generator
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """An NPS survey (0-10, Typeform) and post-ticket CSAT (1-5) and CES (1-7) answers."""
    k = len(customers)
    take = rng.random(k) < 0.35
    resp = customers[take].reset_index(drop=True)
    scores = np.clip(np.round(rng.normal(7.6, 2.2, len(resp))), 0, 10).astype(int)
    reasons = {
        "en": ["Great support", "Too expensive", "Easy to use", "Missing integrations", ""],
        "ko": ["지원이 빠릅니다", "가격이 비쌉니다", "사용하기 쉬워요", ""],
        "ja": ["サポートが丁寧", "価格が高い", "使いやすい", ""],
        "zh": ["客服很好", "价格太贵", "简单易用", ""],
    }
    submit = [
        AS_OF - pd.Timedelta(days=int(d), seconds=int(s))
        for d, s in zip(
            rng.integers(1, 400, len(resp)), rng.integers(0, 86000, len(resp)), strict=True
        )
    ]
    nps = pd.DataFrame(
        {
            "person_id": resp["person_id"],
            "email": resp["email"],
            "score": scores,
            "reason": [
                reasons[lc][int(x) % len(reasons[lc])]
                for lc, x in zip(resp["locale"], rng.integers(0, 10, len(resp)), strict=True)
            ],
            "submitted": [s.floor("s") for s in submit],
            "partial": rng.random(len(resp)) < 0.05,
        }
    )
    nps = nps.sort_values(["submitted", "person_id"], kind="stable").reset_index(drop=True)
    nps.insert(0, "token", [f"{x:032x}"[:32] for x in rng.integers(0, 2**62, len(nps))])
    rows = []
    solved = tickets[tickets["solved_at"].notna()] if len(tickets) else tickets
    for i in range(len(solved)):
        t = solved.iloc[i]
        if rng.random() < 0.45:
            at = (
                pd.Timestamp(t["solved_at"]) + pd.Timedelta(hours=int(rng.integers(1, 48)))
            ).floor("s")
            if at >= AS_OF:
                continue
            rows.append(("csat", int(np.clip(round(rng.normal(4.1, 1.0)), 1, 5)), 1, 5, t, at))
            if rng.random() < 0.5:
                rows.append(("ces", int(np.clip(round(rng.normal(5.4, 1.3)), 1, 7)), 1, 7, t, at))
    sup = pd.DataFrame(
        [
            {
                "respondent_email": t["requester_email"],
                "survey_type": kind,
                "score": float(score),
                "scale_min": float(lo),
                "scale_max": float(hi),
                "ticket_id": t["external_id"],
                "answered_at": at,
            }
            for kind, score, lo, hi, t, at in rows
        ],
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
