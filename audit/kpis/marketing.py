"""Marketing KPIs: acquisition cost, lead conversion, list growth and email reachability."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

import pandas as pd

from audit.columnwise import isin
from audit.kpis.catalogue import WORDS, KpiValue, kpi
from audit.kpis.inputs import (
    CONTACT_KEYS,
    DEAL_CONTACT,
    DEAL_OUTCOME,
    NEVER_PAID,
    ORDER_CUSTOMER,
    PAID_ORDERS,
    SUBSCRIPTION_CUSTOMER,
    SUBSCRIPTION_STATE,
    Frames,
    customer_key,
    fold,
    folded,
    outcome,
    paid_start,
    ratio,
    sub_status,
    text_per_distinct,
)
from audit.kpis.money import paid_orders
from audit.kpis.period import KpiPeriod

ACQUISITION_SPEND = ("sales", "marketing", "advertising", "ads")
CONVERTED_STAGES = {"opportunity", "customer", "evangelist", "won", "closedwon", "closed won"}
CUSTOMER_STAGES = {"customer", "evangelist", "won", "closedwon", "closed won"}
UNREACHABLE_STATUS = {"bounced", "cleaned", "invalid", "complained", "spam", "hard_bounce"}
EMAIL_SHAPE = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


def first_seen(frames: Frames) -> pd.Series:
    """Customer key -> first order or subscription start (the acquisition date)."""
    parts = []
    if frames.has("orders"):
        o = paid_orders(frames)  # a customer whose only payment failed was not acquired
        parts.append(pd.DataFrame({"k": o["_key"], "t": o["ordered_at"]}))
    if frames.has("subscriptions"):
        s = frames["subscriptions"]
        paying = ~sub_status(s).isin(NEVER_PAID)  # a trial is not an acquired customer
        parts.append(
            pd.DataFrame(
                {"k": customer_key(s, "customer_id", "customer_email"), "t": paid_start(s)}
            )[paying.to_numpy()]
        )
    if not parts:
        return pd.Series(dtype="datetime64[ns, UTC]")
    both = pd.concat(parts, ignore_index=True).dropna()
    return both.groupby("k")["t"].min()


def _casefolded(s: pd.Series) -> pd.Series:
    """str(v).casefold() of each value, '' for missing (typed text is already stripped)."""
    return text_per_distinct(s, lambda t: t.str.casefold())


def _linked(frames: Frames, deals: pd.DataFrame) -> pd.Series:
    """Per contact: a deal of `deals` points at it (by the contact's id or email)."""
    c = frames["contacts"]
    emails = _casefolded(deals["contact_email"].dropna()).unique()
    ids = deals["contact_id"].dropna().unique()
    email = frames.memo("contacts.email_casefolded", lambda: _casefolded(c["email"]))
    by_email = isin(email, emails) & c["email"].notna().to_numpy()
    return pd.Series(by_email | isin(c["external_id"], ids), index=c.index)


def lifecycle_stage(frames: Frames) -> pd.Series:
    """The contacts' lifecycle stage, case-folded ('' for none), once per Frames."""
    return frames.memo(
        "contacts.lifecycle_stage", lambda: _casefolded(frames["contacts"]["lifecycle_stage"])
    )


def converted_leads(frames: Frames) -> pd.Series:
    """Per contact: True when it became an opportunity: lifecycle past lead or any deal."""

    def build() -> pd.Series:
        converted = lifecycle_stage(frames).isin(CONVERTED_STAGES)
        if frames.has("deals"):
            converted = converted | _linked(frames, frames["deals"])
        return converted.astype(bool)

    return frames.memo("contacts.converted", build)


def won_leads(frames: Frames) -> pd.Series:
    """Per contact: True when it became a customer: a won deal points at it, or its lifecycle
    stage says customer (the seed's definition of a converted lead)."""

    def build() -> pd.Series:
        won = lifecycle_stage(frames).isin(CUSTOMER_STAGES)
        if frames.has("deals"):
            is_won, _ = outcome(frames)
            won = won | _linked(frames, frames["deals"][is_won])
        return won.astype(bool)

    return frames.memo("contacts.won", build)


@kpi(
    "cac",
    title="Customer acquisition cost",
    unit="currency",
    definition="sales and marketing spend in the period ÷ customers whose first order or "
    "subscription falls in the period",
    needs=("spend.amount", "spend.spent_on"),
    uses=("spend.category", "orders.ordered_at", "subscriptions.started_at"),
    params={"categories": WORDS},
    reads=(*PAID_ORDERS, *ORDER_CUSTOMER, *SUBSCRIPTION_STATE, *SUBSCRIPTION_CUSTOMER),
)
def cac(frames: Frames, period: KpiPeriod, params: Mapping[str, Any]) -> KpiValue:
    spend = frames["spend"]
    if spend["category"].notna().sum() == 0:
        return KpiValue(
            None,
            note="the spend has no category, so acquisition spend cannot be told from the rest: "
            "add a category column (sales, marketing, ...) to the spend file",
        )
    cats = {str(c).casefold() for c in params.get("categories", ACQUISITION_SPEND)}
    in_cat = _casefolded(spend["category"]).isin(cats) & spend["category"].notna()
    cost = float(spend.loc[in_cat & period.mask(spend["spent_on"]), "amount"].sum())
    first = first_seen(frames)
    new = int(period.mask(first).sum()) if len(first) else 0
    return KpiValue(
        ratio(cost, new),
        n=new,
        note=f"spend {cost:,.2f} ({', '.join(sorted(cats))}) over {new} new customers",
        variant="same-period spend ÷ new customers",
    )


@kpi(
    "conversion_rate_by_lead_source",
    title="Sales conversion rate (all sources; per source in the breakdown)",
    unit="ratio",
    definition="leads created in the period that became customers (a won deal, or lifecycle "
    "stage customer) ÷ leads created in the period",
    needs=("contacts.created_at", "contacts.lead_source"),
    uses=("contacts.lifecycle_stage", "deals.is_won", "deals.stage"),
    reads=(*CONTACT_KEYS, *DEAL_CONTACT, *DEAL_OUTCOME),
)
def conversion_rate(frames: Frames, period: KpiPeriod, params: Mapping[str, Any]) -> KpiValue:
    c = frames["contacts"]
    cohort = period.mask(c["created_at"])
    won = won_leads(frames) & cohort
    return KpiValue(
        ratio(won.sum(), cohort.sum()),
        n=int(cohort.sum()),
        note=f"{int(won.sum())} of {int(cohort.sum())} leads became customers",
        variant="created-in-period cohort, lead -> won",
    )


@kpi(
    "lead_to_opportunity_rate",
    title="Lead-to-opportunity rate",
    unit="ratio",
    definition="leads created in the period that became opportunities (any deal, or lifecycle "
    "stage opportunity or later) ÷ leads created in the period",
    needs=("contacts.created_at",),
    uses=("contacts.lifecycle_stage", "deals.contact_id", "deals.contact_email"),
    reads=(*CONTACT_KEYS, *DEAL_CONTACT),
)
def lead_to_opportunity_rate(
    frames: Frames, period: KpiPeriod, params: Mapping[str, Any]
) -> KpiValue:
    c = frames["contacts"]
    cohort = period.mask(c["created_at"])
    opp = converted_leads(frames) & cohort
    return KpiValue(
        ratio(opp.sum(), cohort.sum()),
        n=int(cohort.sum()),
        variant="created-in-period cohort, lead -> opportunity",
    )


@kpi(
    "email_list_growth_rate",
    title="Email list growth rate",
    unit="ratio",
    definition="(new subscribers − unsubscribes − hard bounces or cleaned − complaints) in the "
    "period ÷ list size at period start",
    needs=("email_events.address", "email_events.event", "email_events.occurred_at"),
    uses=("email_events.classification",),
)
def email_list_growth_rate(
    frames: Frames, period: KpiPeriod, params: Mapping[str, Any]
) -> KpiValue:
    ev = frames["email_events"].copy()
    ev["_addr"] = fold(ev["address"])
    kind = folded(ev["event"])
    cls = ev["classification"]
    hard = kind.eq("bounce") & (cls.isna() | _casefolded(cls).eq("hard"))
    ev["_delta"] = 0
    ev.loc[kind.isin(["subscribe", "subscribed"]), "_delta"] = 1
    dropped = kind.isin(["unsubscribe", "unsubscribed", "complaint", "spam", "cleaned"])
    ev.loc[dropped | hard, "_delta"] = -1
    ev = ev[ev["_addr"].notna() & ev["_delta"].ne(0) & ev["occurred_at"].notna()]
    ev = ev.sort_values(["_addr", "occurred_at"], kind="stable")
    before = ev[ev["occurred_at"] < period.start]
    last_state = before.groupby("_addr")["_delta"].last()
    list_start = int((last_state == 1).sum())
    during = ev[period.mask(ev["occurred_at"])]
    adds = int(during.loc[during["_delta"] == 1, "_addr"].nunique())
    drops = int(during.loc[during["_delta"] == -1, "_addr"].nunique())
    return KpiValue(
        ratio(adds - drops, list_start),
        n=list_start,
        note=f"list {list_start} at start; +{adds} subscribed, −{drops} unsubscribed, "
        "bounced or complained (distinct addresses)",
        variant="net of unsubscribes, hard bounces and complaints",
    )


@kpi(
    "email_reachability",
    title="Email reachability",
    unit="ratio",
    definition="contacts with a deliverable-looking email (present, well-formed, not bounced, "
    "cleaned or complained; opted-out addresses count as reachable) ÷ all contacts",
    needs=("contacts.email",),
    uses=("contacts.email_status", "contacts.email_bounce", "contacts.email_opt_out"),
    reads=("email_events.address", "email_events.classification", "email_events.event"),
)
def email_reachability(frames: Frames, period: KpiPeriod, params: Mapping[str, Any]) -> KpiValue:
    c = frames["contacts"]
    email = fold(c["email"])
    # Python's re over the object column (Arrow's RE2 reads \s as ASCII space only)
    shaped = email.str.match(EMAIL_SHAPE, na=False).astype(bool)
    status = folded(c["email_status"])
    ok = shaped & ~status.isin(UNREACHABLE_STATUS)
    # the source app's own hard bounce (Salesforce EmailBouncedReason, HubSpot, Intercom, ...)
    ok = ok & ~_casefolded(c["email_bounce"]).eq("hard")
    if frames.has("email_events"):
        ev = frames["email_events"]
        kind = _casefolded(ev["event"])
        cls = _casefolded(ev["classification"]).where(ev["classification"].notna(), "hard")
        dead = ev.loc[(kind.eq("bounce") & cls.eq("hard")) | kind.eq("complaint"), "address"]
        dead_set = {str(a).strip().casefold() for a in dead.dropna()}
        ok = ok & ~isin(email, dead_set)
    # opted out is not unreachable: the address works, it just may not get marketing mail
    opted = int((ok & c["email_opt_out"].fillna(False).astype(bool)).sum())
    note = f"{int(ok.sum())} of {len(c)} contacts reachable by email"
    return KpiValue(
        ratio(ok.sum(), len(c)),
        n=len(c),
        note=note + (f" ({opted} of them opted out of marketing mail)" if opted else ""),
        variant="all contacts",
    )
