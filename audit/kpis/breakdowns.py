"""Multi-row views behind the CRM reports: pipeline, forecast, performance, sources, losses.

Each view is one tidy frame, sorted by its key columns, so the report stage can render tables
and charts from them without knowing any KPI definition.
"""

from __future__ import annotations

import datetime as dt

import pandas as pd

from audit.config import KpiConfig
from audit.kpis.inputs import (
    CONTACT_KEYS,
    DEAL_CONTACT,
    DEAL_OUTCOME,
    ORDER_CUSTOMER,
    PAID_ORDERS,
    Frames,
    outcome,
)
from audit.kpis.marketing import converted_leads, lifecycle_stage, won_leads
from audit.kpis.money import paid_orders
from audit.kpis.period import KpiPeriod, parse_period
from audit.kpis.sales import quota_rows
from audit.model import Records

UNKNOWN = "(none)"


def _label(s: pd.Series) -> pd.Series:
    """Group labels: the typed text as it is, UNKNOWN for none (object dtype, as shown)."""
    return s.astype("object").where(s.notna(), UNKNOWN)


def _probability(d: pd.DataFrame) -> pd.Series:
    p = d["probability"]
    return p.where(p <= 1, p / 100)


def _days(a: pd.Series, b: pd.Series) -> pd.Series:
    """Days from a to b; missing or negative durations (reported by rules) are NaN."""
    d = (b - a).dt.total_seconds() / 86400
    return d.where(d >= 0)


def pipeline_by_stage(f: Frames, period: KpiPeriod) -> pd.DataFrame:
    d = f["deals"]
    won, lost = outcome(f)
    open_ = d[~(won | lost)].assign(stage=lambda x: _label(x["stage"]))
    open_ = open_.assign(weighted=open_["amount"] * _probability(open_))
    g = open_.groupby("stage", sort=True).agg(
        deals=("record_id", "size"),
        amount=("amount", "sum"),
        weighted_amount=("weighted", "sum"),
        missing_amount=("amount", lambda s: int(s.isna().sum())),
    )
    return g.reset_index()


def forecast(f: Frames, period: KpiPeriod) -> pd.DataFrame:
    d = f["deals"]
    won, lost = outcome(f)
    o = d[~(won | lost)].copy()
    month = o["closed_at"].dt.strftime("%Y-%m").astype("object")
    o["close_month"] = month.where(o["closed_at"].notna(), UNKNOWN)
    o["forecast_category"] = _label(o["forecast_category"])
    o["weighted"] = o["amount"] * _probability(o)
    g = o.groupby(["close_month", "forecast_category"], sort=True).agg(
        deals=("record_id", "size"),
        amount=("amount", "sum"),
        weighted_amount=("weighted", "sum"),
        missing_probability=("probability", lambda s: int(s.isna().sum())),
    )
    return g.reset_index()


def sales_performance(f: Frames, period: KpiPeriod) -> pd.DataFrame:
    d = f["deals"]
    won, lost = outcome(f)
    closed = period.mask(d["closed_at"])
    rows = d.assign(owner=_label(d["owner"]), _won=won & closed, _lost=lost & closed)
    rows = rows.assign(_won_amount=rows["amount"].where(rows["_won"], 0.0))
    g = rows.groupby("owner", sort=True).agg(
        won=("_won", "sum"), lost=("_lost", "sum"), won_amount=("_won_amount", "sum")
    )
    g["win_rate"] = g["won"] / (g["won"] + g["lost"]).where(lambda s: s > 0)
    goals = goal_progress(f, period).set_index("owner")
    g = g.join(goals[["quota", "attainment"]], how="outer")
    acts = f["activities"]
    acts = acts[period.mask(acts["occurred_at"])]
    g = g.join(
        acts.assign(owner=_label(acts["owner"])).groupby("owner").size().rename("activities")
    )
    return g.reset_index().rename(columns={"index": "owner"}).sort_values("owner", kind="stable")


def goal_progress(f: Frames, period: KpiPeriod) -> pd.DataFrame:
    q, deals = quota_rows(f, period)
    quota = q.groupby("_owner")["amount"].sum()
    names = q.groupby("_owner")["owner"].first().astype("object")
    actual = deals.groupby("_owner")["amount"].sum().reindex(quota.index).fillna(0.0)
    out = pd.DataFrame(
        {"owner": names, "quota": quota, "actual": actual, "attainment": actual / quota}
    )
    return out.reset_index(drop=True).sort_values("owner", kind="stable").reset_index(drop=True)


def conversion_by_lead_source(f: Frames, period: KpiPeriod) -> pd.DataFrame:
    c = f["contacts"]
    cohort = period.mask(c["created_at"])
    rows = pd.DataFrame(
        {
            "lead_source": _label(c["lead_source"]),
            "opportunity": converted_leads(f),
            "won": won_leads(f),
        }
    )[cohort]
    g = rows.groupby("lead_source", sort=True).agg(
        leads=("won", "size"), opportunities=("opportunity", "sum"), won=("won", "sum")
    )
    g["opportunity_rate"] = g["opportunities"] / g["leads"]
    g["conversion_rate"] = g["won"] / g["leads"]
    return g.reset_index()


def lead_source(f: Frames, period: KpiPeriod) -> pd.DataFrame:
    c = f["contacts"]
    rows = pd.DataFrame(
        {
            "lead_source": _label(c["lead_source"]),
            "new_in_period": period.mask(c["created_at"]),
            "customer": lifecycle_stage(f).eq("customer"),
        }
    )
    g = rows.groupby("lead_source", sort=True).agg(
        contacts=("customer", "size"),
        new_in_period=("new_in_period", "sum"),
        customers=("customer", "sum"),
    )
    g["share"] = g["contacts"] / max(len(c), 1)
    return g.reset_index()


def lost_deals_by_reason(f: Frames, period: KpiPeriod) -> pd.DataFrame:
    d = f["deals"]
    _, lost = outcome(f)
    rows = d[lost & period.mask(d["closed_at"])].assign(
        lost_reason=lambda x: _label(x["lost_reason"])
    )
    g = rows.groupby("lost_reason", sort=True).agg(
        deals=("record_id", "size"), amount=("amount", "sum")
    )
    return g.reset_index()


def activity_by_owner(f: Frames, period: KpiPeriod) -> pd.DataFrame:
    a = f["activities"]
    a = a[period.mask(a["occurred_at"])]
    rows = pd.DataFrame({"owner": _label(a["owner"]), "type": _label(a["type"])})
    return rows.groupby(["owner", "type"], sort=True).size().rename("activities").reset_index()


def profitability(f: Frames, period: KpiPeriod) -> pd.DataFrame:
    o = paid_orders(f)  # revenue net of refunds, failed payments left out
    o = o[period.mask(o["ordered_at"])]
    what = o["category"].where(o["category"].notna(), o["product"])
    rows = pd.DataFrame({"segment": _label(what), "revenue": o["amount"]})
    g = rows.groupby("segment", sort=True).agg(
        orders=("revenue", "size"), revenue=("revenue", "sum")
    )
    g["cost"] = float("nan")
    s = f["spend"]
    spent = float(s.loc[period.mask(s["spent_on"]), "amount"].sum())
    revenue = float(g["revenue"].sum())
    total = pd.DataFrame(
        {"orders": [int(g["orders"].sum())], "revenue": [revenue], "cost": [spent]},
        index=pd.Index(["(total)"], name="segment"),
    )
    out = pd.concat([g, total])
    out["profit"] = out["revenue"] - out["cost"]
    return out.reset_index()


TOP_CUSTOMERS = 100


def customer_profitability(f: Frames, period: KpiPeriod) -> pd.DataFrame:
    """Which customers bring the money (the seed's profitability report): paid orders net of
    refunds per customer in the period, with their revenue to date and their share; the top
    customers one by one, everyone else (and guest orders) in summary rows."""
    o = paid_orders(f)
    o = o[o["ordered_at"] < period.end]
    during = o[period.mask(o["ordered_at"])]
    total = float(during["amount"].sum())
    keyed = during[during["_key"].notna()]
    if keyed.empty:
        return pd.DataFrame(
            columns=["customer", "orders", "revenue", "revenue_to_date", "share", "cum_share"]
        )
    g = keyed.groupby("_key").agg(orders=("amount", "size"), revenue=("amount", "sum"))
    g["revenue_to_date"] = o[o["_key"].notna()].groupby("_key")["amount"].sum()
    g = g.reset_index().rename(columns={"_key": "customer"})
    g = g.sort_values(["revenue", "customer"], ascending=[False, True], kind="stable")
    g["share"] = g["revenue"] / total if total else float("nan")
    g["cum_share"] = g["share"].cumsum()
    top, rest = g.head(TOP_CUSTOMERS), g.iloc[TOP_CUSTOMERS:]
    tail = []
    if len(rest):
        tail.append(
            {
                "customer": f"(other {len(rest):,} customers)",
                "orders": int(rest["orders"].sum()),
                "revenue": float(rest["revenue"].sum()),
                "revenue_to_date": float(rest["revenue_to_date"].sum()),
                "share": float(rest["share"].sum()),
                "cum_share": float(g["cum_share"].iloc[-1]),
            }
        )
    guests = during[during["_key"].isna()]
    if len(guests):
        tail.append(
            {
                "customer": "(guest orders)",
                "orders": len(guests),
                "revenue": float(guests["amount"].sum()),
                "revenue_to_date": float("nan"),
                "share": float(guests["amount"].sum()) / total if total else float("nan"),
                "cum_share": 1.0,
            }
        )
    return pd.concat([top, pd.DataFrame(tail)], ignore_index=True) if tail else top


def sales_cycle(f: Frames, period: KpiPeriod) -> pd.DataFrame:
    """Won deals' cycle length by owner and by lead source (one row per value of each)."""
    d = f["deals"]
    won, _ = outcome(f)
    rows = d[won & period.mask(d["closed_at"])]
    days = _days(rows["created_at"], rows["closed_at"])
    parts = []
    for by, col in (("owner", "owner"), ("lead source", "lead_source")):
        g = (
            pd.DataFrame({"value": _label(rows[col]), "days": days})
            .dropna(subset=["days"])
            .groupby("value", sort=True)["days"]
            .agg(["size", "mean", "median"])
            .reset_index()
        )
        g.insert(0, "by", by)
        parts.append(g)
    out = pd.concat(parts, ignore_index=True)
    return out.rename(columns={"size": "deals", "mean": "mean_days", "median": "median_days"})


def stage_length(f: Frames, period: KpiPeriod) -> pd.DataFrame:
    st = f["deal_stages"]
    done = st[period.mask(st["exited_at"])]
    rows = pd.DataFrame(
        {"stage": _label(done["stage"]), "days": _days(done["entered_at"], done["exited_at"])}
    ).dropna(subset=["days"])
    g = rows.groupby("stage", sort=True)["days"].agg(["size", "mean", "median"])
    return g.rename(
        columns={"size": "visits", "mean": "mean_days", "median": "median_days"}
    ).reset_index()


def resolution_by_agent(f: Frames, period: KpiPeriod) -> pd.DataFrame:
    t = f["tickets"]
    first = t["first_solved_at"].where(t["first_solved_at"].notna(), t["solved_at"])
    rows = pd.DataFrame(
        {
            "assignee": _label(t["assignee"]),
            "first_hours": ((first - t["created_at"]).dt.total_seconds() / 3600).where(
                period.mask(first)
            ),
            "full_hours": ((t["solved_at"] - t["created_at"]).dt.total_seconds() / 3600).where(
                period.mask(t["solved_at"])
            ),
        }
    )
    rows = rows[rows["first_hours"].notna() | rows["full_hours"].notna()]
    g = rows.groupby("assignee", sort=True).agg(
        tickets=("full_hours", "size"),
        mean_first_hours=("first_hours", "mean"),
        median_first_hours=("first_hours", "median"),
        mean_full_hours=("full_hours", "mean"),
        median_full_hours=("full_hours", "median"),
    )
    return g.reset_index()


BREAKDOWNS = {
    "pipeline_by_stage": pipeline_by_stage,
    "forecast": forecast,
    "sales_performance": sales_performance,
    "goal_progress": goal_progress,
    "conversion_by_lead_source": conversion_by_lead_source,
    "lead_source": lead_source,
    "lost_deals_by_reason": lost_deals_by_reason,
    "activity_by_owner": activity_by_owner,
    "profitability": profitability,
    "customer_profitability": customer_profitability,
    "sales_cycle": sales_cycle,
    "stage_length": stage_length,
    "resolution_by_agent": resolution_by_agent,
}


# What the views above read (their own columns and the shared facts they call): with the KPIs'
# declarations, the columns the typed view holds (audit.kpis.kpi_columns).
BREAKDOWN_READS = (
    *CONTACT_KEYS,
    *DEAL_CONTACT,
    *DEAL_OUTCOME,
    *PAID_ORDERS,
    *ORDER_CUSTOMER,
    "activities.occurred_at",
    "activities.owner",
    "activities.type",
    "contacts.created_at",
    "contacts.lead_source",
    "contacts.lifecycle_stage",
    "deal_stages.entered_at",
    "deal_stages.exited_at",
    "deal_stages.stage",
    "deals.amount",
    "deals.closed_at",
    "deals.created_at",
    "deals.forecast_category",
    "deals.lead_source",
    "deals.lost_reason",
    "deals.owner",
    "deals.probability",
    "orders.category",
    "orders.ordered_at",
    "orders.product",
    "quotas.amount",
    "quotas.owner",
    "quotas.period_start",
    "spend.amount",
    "spend.spent_on",
    "tickets.assignee",
    "tickets.created_at",
    "tickets.first_solved_at",
    "tickets.solved_at",
)


def compute_breakdowns(
    records: Records, cfg: KpiConfig, *, as_of: dt.date, like: Frames | None = None
) -> dict[str, pd.DataFrame]:
    """Name -> tidy frame for the CRM reports (empty frames when the entity has no rows).

    Amounts stay in the currencies they were written in. `like`: the KPIs' typed view of the
    same records, whose typed frames and facts are reused instead of built again.
    """
    from audit.kpis import kpi_columns  # the package imports this module first

    period = parse_period(cfg.period, as_of=as_of, tz=cfg.timezone)
    frames = Frames(records, like=like, columns=kpi_columns(cfg))
    return {name: fn(frames, period).reset_index(drop=True) for name, fn in BREAKDOWNS.items()}
