"""Sales KPIs: win rate, funnel close rate, stage and cycle length, net new revenue, quota.

Close rate is won ÷ (won + lost), never the inverted "leads ÷ won" that one seed article
states (its own example, 30 won of 100 leads = 30%, contradicts its formula).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pandas as pd

from audit.columnwise import isin
from audit.kpis.catalogue import KpiValue, kpi
from audit.kpis.inputs import (
    CONTACT_KEYS,
    DEAL_CONTACT,
    DEAL_OUTCOME,
    ORDER_CUSTOMER,
    PAID_ORDERS,
    SUBSCRIPTION_STATE,
    Frames,
    active_mask,
    elapsed,
    fold,
    monthly_amount,
    outcome,
    ratio,
)
from audit.kpis.money import paid_orders
from audit.kpis.period import KpiPeriod


def _mean_median(start: pd.Series, end: pd.Series) -> tuple[float | None, int, str]:
    """(mean days, n, note) over the durations that exist (see inputs.elapsed)."""
    days, left_out = elapsed(start, end, unit="days")
    if days.empty:
        return None, 0, "; ".join(p for p in ("nothing measured", left_out) if p)
    note = f"median {days.median():,.1f} days over {len(days)}"
    return float(days.mean()), len(days), "; ".join(p for p in (note, left_out) if p)


@kpi(
    "close_rate",
    title="Close rate (win rate)",
    unit="ratio",
    definition="won ÷ (won + lost) over deals closed in the period",
    needs=("deals.stage",),
    uses=("deals.closed_at", "deals.is_won", "deals.is_closed"),
    reads=DEAL_OUTCOME,
)
def close_rate(frames: Frames, period: KpiPeriod, params: Mapping[str, Any]) -> KpiValue:
    d = frames["deals"]
    won, lost = outcome(frames)
    closed_now = period.mask(d["closed_at"])
    w, lo = int((won & closed_now).sum()), int((lost & closed_now).sum())
    undated = int(((won | lost) & d["closed_at"].isna()).sum())
    return KpiValue(
        ratio(w, w + lo),
        n=w + lo,
        note=f"{w} won, {lo} lost"
        + (f"; {undated} closed deals without closed_at left out" if undated else ""),
        variant="closed-date cohort: won ÷ (won + lost)",
    )


@kpi(
    "funnel_close_rate",
    title="Funnel close rate",
    unit="ratio",
    definition="deals created in the period that were won ÷ deals created in the period "
    "(kpis.params base: leads divides by contacts created in the period)",
    needs=("deals.created_at", "deals.stage"),
    uses=("deals.is_won", "contacts.created_at"),
    params={"base": ("deals", "leads")},
    reads=(*DEAL_OUTCOME, *DEAL_CONTACT, *CONTACT_KEYS),
)
def funnel_close_rate(frames: Frames, period: KpiPeriod, params: Mapping[str, Any]) -> KpiValue:
    d = frames["deals"]
    won, _ = outcome(frames)
    cohort = period.mask(d["created_at"])
    w = int((won & cohort).sum())
    if str(params.get("base", "deals")) == "leads":
        # leads of the cohort that became a won deal: a lead with two won deals is one lead,
        # so the rate never exceeds 100%
        c = frames["contacts"]
        cohort_leads = c[period.mask(c["created_at"])]
        won_deals = d[won]
        ids = set(won_deals["contact_id"].dropna().unique().tolist())
        emails = set(fold(won_deals["contact_email"]).dropna().unique().tolist())
        if not ids and not emails:
            # deals that name no contact cannot be traced to leads: the seed's count
            leads = len(cohort_leads)
            return KpiValue(
                ratio(w, leads),
                n=leads,
                note=f"{w} won deals created in the period of {leads} leads; the deals name "
                "no contact, so a lead with two deals counts twice",
                variant="created cohort: won deals ÷ leads created",
            )
        converted = isin(cohort_leads["external_id"], ids) | isin(
            fold(cohort_leads["email"]), emails
        )
        leads, conv = len(cohort_leads), int(converted.sum())
        return KpiValue(
            ratio(conv, leads),
            n=leads,
            note=f"{conv} of {leads} leads created in the period became a won deal",
            variant="created cohort: leads with a won deal ÷ leads created",
        )
    return KpiValue(
        ratio(w, cohort.sum()),
        n=int(cohort.sum()),
        note=f"{w} won of {int(cohort.sum())} deals created",
        variant="created cohort: won ÷ deals created",
    )


@kpi(
    "pipeline_stage_length",
    title="Pipeline stage length (all stages; per stage in the breakdown)",
    unit="days",
    definition="mean(exited_at − entered_at) over stage visits that ended in the period",
    needs=("deal_stages.entered_at", "deal_stages.stage"),
    uses=("deal_stages.exited_at",),
)
def pipeline_stage_length(frames: Frames, period: KpiPeriod, params: Mapping[str, Any]) -> KpiValue:
    st = frames["deal_stages"]
    done = st[period.mask(st["exited_at"])]
    value, n, note = _mean_median(done["entered_at"], done["exited_at"])
    return KpiValue(value, n=n, note=note, variant="completed stage visits")


@kpi(
    "sales_cycle_length",
    title="Sales cycle length",
    unit="days",
    definition="mean(closed_at − created_at) over won deals closed in the period "
    "(kpis.params population: closed includes lost deals)",
    needs=("deals.created_at",),
    uses=("deals.closed_at", "deals.is_won", "deals.stage"),
    params={"population": ("won", "closed")},
    reads=DEAL_OUTCOME,
)
def sales_cycle_length(frames: Frames, period: KpiPeriod, params: Mapping[str, Any]) -> KpiValue:
    d = frames["deals"]
    won, lost = outcome(frames)
    population = str(params.get("population", "won"))
    pick = (won | lost) if population == "closed" else won
    rows = d[pick & period.mask(d["closed_at"])]
    value, n, note = _mean_median(rows["created_at"], rows["closed_at"])
    return KpiValue(
        value,
        n=n,
        note=note,
        variant="all closed deals" if population == "closed" else "won deals only",
    )


@kpi(
    "net_new_revenue",
    title="Net new revenue",
    unit="currency",
    definition="subscriptions: MRR at period end − MRR at period start (new + expansion + "
    "reactivation − contraction − churn); orders only: revenue from first-time customers",
    needs=(
        "subscriptions.started_at",
        "subscriptions.amount",
        "orders.amount",
        "orders.ordered_at",
    ),
    needs_any=True,
    reads=(*SUBSCRIPTION_STATE, "subscriptions.interval", *PAID_ORDERS, *ORDER_CUSTOMER),
)
def net_new_revenue(frames: Frames, period: KpiPeriod, params: Mapping[str, Any]) -> KpiValue:
    if frames.has("subscriptions"):
        subs = frames["subscriptions"]
        mrr = monthly_amount(subs)
        start = float(mrr[active_mask(subs, period.start)].sum())
        end = float(mrr[active_mask(subs, period.end)].sum())
        return KpiValue(
            end - start,
            n=len(subs),
            note=f"MRR {start:,.2f} -> {end:,.2f}",
            variant="net new MRR",
        )
    o = paid_orders(frames)
    o = o[o["_key"].notna()]
    first = o.groupby("_key")["ordered_at"].transform("min")
    new_rows = o[period.mask(first) & period.mask(o["ordered_at"])]
    return KpiValue(
        float(new_rows["amount"].sum()),
        n=int(new_rows["_key"].nunique()),
        variant="revenue (net of refunds) from customers whose first paid order is in the period",
    )


def quota_rows(frames: Frames, period: KpiPeriod) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(quotas starting in the period, won deals closed in it), both with a folded owner."""
    q = frames["quotas"]
    q = q[period.mask(q["period_start"])].copy()
    q["_owner"] = fold(q["owner"])
    d = frames["deals"]
    won, _ = outcome(frames)
    deals = d[won & period.mask(d["closed_at"])].copy()
    deals["_owner"] = fold(deals["owner"])
    return q, deals


@kpi(
    "quota_attainment",
    title="Quota attainment",
    unit="ratio",
    definition="Σ won amount closed in the period by owners with a quota ÷ Σ their quotas "
    "starting in the period (not the average of per-owner percentages)",
    needs=("quotas.owner", "quotas.amount", "quotas.period_start", "deals.owner"),
    uses=("deals.amount", "deals.closed_at"),
    reads=DEAL_OUTCOME,
)
def quota_attainment(frames: Frames, period: KpiPeriod, params: Mapping[str, Any]) -> KpiValue:
    q, deals = quota_rows(frames, period)
    owners = set(q["_owner"].dropna())
    actual = float(deals.loc[deals["_owner"].isin(owners), "amount"].sum())
    target = float(q["amount"].sum())
    return KpiValue(
        ratio(actual, target),
        n=len(owners),
        note=f"won {actual:,.2f} against quota {target:,.2f}",
        variant="Σ actual ÷ Σ quota",
    )
