"""Customer KPIs: base size, churn, renewal, retention, lifetime value, upsell and cross-sell.

Customers are counted by key (source customer id, else folded email), so duplicate customer
records inflate bases and numerators exactly as they would in a CRM report: the impact view
shows that by computing these again after duplicates are merged.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import pandas as pd

from audit.columnwise import isin
from audit.kpis.catalogue import NUMBER, SHARE, WORDS, KpiValue, kpi
from audit.kpis.inputs import (
    ORDER_CUSTOMER,
    PAID_ORDERS,
    SUBSCRIPTION_CUSTOMER,
    SUBSCRIPTION_STATE,
    Frames,
    active_mask,
    customer_key,
    folded,
    monthly_amount,
    ratio,
    renewals,
    subscription_stop,
)
from audit.kpis.money import paid_orders
from audit.kpis.period import KpiPeriod

RETENTION_SPEND = ("retention", "customer success", "customer_success", "success")


def _subs(frames: Frames) -> pd.DataFrame:
    """Subscriptions of known customers, with their key `_key` (built once per Frames)."""

    def build() -> pd.DataFrame:
        subs = frames["subscriptions"]
        key = customer_key(subs, "customer_id", "customer_email")
        return subs.assign(_key=key)[key.notna()]

    return frames.memo("subscriptions.keyed", build)


def _active(frames: Frames, at: pd.Timestamp) -> pd.Series:
    """active_mask over `_subs` at an instant: every KPI asks about the same few instants."""
    return frames.memo(("subscriptions.active", at), lambda: active_mask(_subs(frames), at))


def _active_keys(frames: Frames, at: pd.Timestamp) -> set[str]:
    return frames.memo(
        ("subscriptions.active_keys", at),
        lambda: set(_subs(frames).loc[_active(frames, at), "_key"].unique().tolist()),
    )


def _mrr(frames: Frames) -> pd.Series:
    """monthly_amount over `_subs`, computed once per Frames."""
    return frames.memo("subscriptions.mrr", lambda: monthly_amount(_subs(frames)))


def _orders(frames: Frames) -> pd.DataFrame:
    """Paid orders of known customers (refunds netted; see audit.kpis.money)."""
    orders = paid_orders(frames)
    return orders[orders["_key"].notna()]


@kpi(
    "active_customers",
    title="Active customers",
    unit="count",
    definition="contacts with any activity (last_activity_at) inside the period",
    needs=("contacts.last_activity_at",),
)
def active_customers(frames: Frames, period: KpiPeriod, params: Mapping[str, Any]) -> KpiValue:
    c = frames["contacts"]
    active = period.mask(c["last_activity_at"])
    return KpiValue(float(active.sum()), n=len(c), variant="activity in period")


@kpi(
    "churn_rate",
    title="Customer churn rate",
    unit="ratio",
    definition="customers active at period start with no active subscription at period end "
    "÷ customers active at period start",
    needs=("subscriptions.started_at",),
    uses=(
        "subscriptions.customer_id",
        "subscriptions.customer_email",
        "subscriptions.canceled_at",
        "subscriptions.ended_at",
    ),
    reads=SUBSCRIPTION_STATE,
)
def churn_rate(frames: Frames, period: KpiPeriod, params: Mapping[str, Any]) -> KpiValue:
    start = _active_keys(frames, period.start)
    end = _active_keys(frames, period.end)
    lost = start - end
    value = ratio(len(lost), len(start))
    note = f"{len(lost)} of {len(start)} customers lost; sign-ups inside the period are excluded"
    if value is None:
        note = "no customer was active at the period start"
    return KpiValue(value, n=len(start), note=note, variant="logo churn, start-of-period base")


@kpi(
    "revenue_churn",
    title="Revenue churn (gross MRR)",
    unit="ratio",
    definition="MRR of subscriptions active at start that stopped by period end "
    "÷ MRR at period start (annual plans ÷ 12)",
    needs=("subscriptions.started_at", "subscriptions.amount"),
    uses=("subscriptions.interval", "subscriptions.canceled_at", "subscriptions.ended_at"),
    reads=(*SUBSCRIPTION_STATE, *SUBSCRIPTION_CUSTOMER),
)
def revenue_churn(frames: Frames, period: KpiPeriod, params: Mapping[str, Any]) -> KpiValue:
    mrr = _mrr(frames)
    at_start = _active(frames, period.start)
    at_end = _active(frames, period.end)
    base = float(mrr[at_start].sum())
    churned = float(mrr[at_start & ~at_end].sum())
    return KpiValue(
        ratio(churned, base),
        n=int(at_start.sum()),
        note=f"churned MRR {churned:,.2f} of {base:,.2f}; contraction not visible without "
        "line-item history",
        variant="gross, cancellations only",
    )


def _mrr_by_customer(frames: Frames, at: pd.Timestamp) -> pd.Series:
    """Customer key -> MRR of their paying subscriptions just before `at`."""

    def build() -> pd.Series:
        active = _active(frames, at)
        return _mrr(frames)[active].groupby(_subs(frames).loc[active, "_key"]).sum()

    return frames.memo(("subscriptions.mrr_by_customer", at), build)


def _revenue_retention(frames: Frames, period: KpiPeriod, *, net: bool) -> KpiValue:
    start = _mrr_by_customer(frames, period.start)
    end = _mrr_by_customer(frames, period.end).reindex(start.index).fillna(0.0)
    base = float(start.sum())
    kept = end if net else end.clip(upper=start)
    lost = start[end == 0].sum()
    down = (start - end).clip(lower=0).sum() - lost
    up = (end - start).clip(lower=0).sum()
    note = (
        f"MRR at start {base:,.2f} from {len(start)} customers; churned {lost:,.2f}, "
        f"contraction {down:,.2f}, expansion {up:,.2f}"
    )
    return KpiValue(
        ratio(float(kept.sum()), base),
        n=len(start),
        note=note,
        variant="net: with expansion" if net else "gross: expansion capped per customer",
    )


_MRR_USES = (
    "subscriptions.interval",
    "subscriptions.customer_id",
    "subscriptions.customer_email",
    "subscriptions.canceled_at",
    "subscriptions.ended_at",
    "subscriptions.status",
)


@kpi(
    "gross_revenue_retention",
    title="Gross revenue retention (GRR)",
    unit="ratio",
    definition="MRR at period end of the customers active at start, each capped at their "
    "starting MRR (churn and contraction count, expansion does not) ÷ their MRR at start",
    needs=("subscriptions.started_at", "subscriptions.amount"),
    uses=_MRR_USES,
    reads=SUBSCRIPTION_STATE,
)
def gross_revenue_retention(
    frames: Frames, period: KpiPeriod, params: Mapping[str, Any]
) -> KpiValue:
    return _revenue_retention(frames, period, net=False)


@kpi(
    "net_revenue_retention",
    title="Net revenue retention (NRR)",
    unit="ratio",
    definition="MRR at period end of the customers active at start (expansion, contraction "
    "and churn all count; new customers do not) ÷ their MRR at start",
    needs=("subscriptions.started_at", "subscriptions.amount"),
    uses=_MRR_USES,
    reads=SUBSCRIPTION_STATE,
)
def net_revenue_retention(frames: Frames, period: KpiPeriod, params: Mapping[str, Any]) -> KpiValue:
    return _revenue_retention(frames, period, net=True)


@kpi(
    "renewal_rate",
    title="Renewal rate",
    unit="ratio",
    definition="subscriptions renewed in the period ÷ subscriptions up for renewal "
    "(renewed or lapsed in the period)",
    needs=("subscriptions.started_at",),
    uses=(
        "subscriptions.renewed_at",
        "subscriptions.current_period_start",
        "subscriptions.ended_at",
        "subscriptions.canceled_at",
    ),
    params={"variant": ("logo", "dollar")},
    reads=(*SUBSCRIPTION_STATE, "subscriptions.amount"),
)
def renewal_rate(frames: Frames, period: KpiPeriod, params: Mapping[str, Any]) -> KpiValue:
    subs = frames["subscriptions"]
    renewed = period.mask(renewals(subs))
    lapsed = period.mask(subscription_stop(subs)) & ~renewed
    due = renewed | lapsed
    if str(params.get("variant", "logo")) == "dollar":
        amount = subs["amount"].fillna(0.0)
        return KpiValue(
            ratio(amount[renewed].sum(), amount[due].sum()),
            n=int(due.sum()),
            variant="dollar: renewed value ÷ value up for renewal",
        )
    return KpiValue(
        ratio(renewed.sum(), due.sum()),
        n=int(due.sum()),
        note=f"{int(renewed.sum())} renewed of {int(due.sum())} up for renewal",
        variant="logo: renewed ÷ up for renewal",
    )


@kpi(
    "retention_rate",
    title="Customer retention rate",
    unit="ratio",
    definition="customers active at start still active at end ÷ customers active at start "
    "(= 1 − churn rate on the same population); kpis.params variant: formula gives (E − N) ÷ S, "
    "which also counts customers who left before the period and came back",
    needs=("subscriptions.started_at",),
    uses=(
        "subscriptions.customer_id",
        "subscriptions.customer_email",
        "subscriptions.canceled_at",
        "subscriptions.ended_at",
    ),
    params={"variant": ("cohort", "formula")},
    reads=(*SUBSCRIPTION_STATE, *SUBSCRIPTION_CUSTOMER),
)
def retention_rate(frames: Frames, period: KpiPeriod, params: Mapping[str, Any]) -> KpiValue:
    subs = _subs(frames)
    s = _active_keys(frames, period.start)
    e = _active_keys(frames, period.end)
    first = subs.groupby("_key")["started_at"].min()
    new = set(first.index[period.mask(first)])
    n_new = len(e & new)
    back = len(e - s - new)  # left before the period, active again at its end
    if str(params.get("variant", "cohort")) == "formula":
        return KpiValue(
            ratio(len(e) - n_new, len(s)),
            n=len(s),
            note=f"S={len(s)}, E={len(e)}, N={n_new}; {back} reactivated customers count in E",
            variant="(E − N) ÷ S",
        )
    kept = len(s & e)
    return KpiValue(
        ratio(kept, len(s)),
        n=len(s),
        note=f"{kept} of {len(s)} customers kept; {n_new} new and {back} reactivated are "
        "outside this population",
        variant="start cohort kept (1 − churn rate)",
    )


@kpi(
    "customer_retention_cost",
    title="Customer retention cost",
    unit="currency",
    definition="retention spend in the period ÷ customers retained (active at start and end)",
    needs=("spend.amount", "spend.spent_on", "subscriptions.started_at"),
    uses=("spend.category",),
    params={"categories": WORDS},
    reads=(*SUBSCRIPTION_STATE, *SUBSCRIPTION_CUSTOMER),
)
def customer_retention_cost(
    frames: Frames, period: KpiPeriod, params: Mapping[str, Any]
) -> KpiValue:
    spend = frames["spend"]
    cats = {str(c).casefold() for c in params.get("categories", RETENTION_SPEND)}
    in_cat = folded(spend["category"]).isin(cats)
    cost = float(spend.loc[in_cat & period.mask(spend["spent_on"]), "amount"].sum())
    retained = _active_keys(frames, period.start) & _active_keys(frames, period.end)
    return KpiValue(
        ratio(cost, len(retained)),
        n=len(retained),
        note=f"spend {cost:,.2f} in categories {', '.join(sorted(cats))}",
        variant="retention spend ÷ retained customers",
    )


@dataclass(frozen=True)
class _Year:
    """Paid orders over the 12 months ending at the period end."""

    revenue: float  # net of refunds, guests included
    priced: int  # purchases with a readable amount (the APV denominator)
    keyed: int  # purchases of known customers (the frequency numerator)
    customers: int

    @property
    def apv(self) -> float | None:
        return ratio(self.revenue, self.priced)

    @property
    def frequency(self) -> float | None:
        return ratio(self.keyed, self.customers)


def _annual(frames: Frames, period: KpiPeriod) -> _Year:
    orders = paid_orders(frames)
    in_year = orders[period.year_before_end().mask(orders["ordered_at"])]
    keyed = in_year["_key"].notna()
    return _Year(
        revenue=float(in_year["amount"].sum()),
        priced=int(in_year["amount"].notna().sum()),
        keyed=int(keyed.sum()),
        customers=int(in_year.loc[keyed, "_key"].nunique()),
    )


@kpi(
    "avg_purchase_value",
    title="Average purchase value",
    unit="currency",
    definition="revenue ÷ purchases over the 12 months ending at period end",
    needs=("orders.amount", "orders.ordered_at"),
    reads=(*PAID_ORDERS, *ORDER_CUSTOMER),
)
def avg_purchase_value(frames: Frames, period: KpiPeriod, params: Mapping[str, Any]) -> KpiValue:
    y = _annual(frames, period)
    return KpiValue(y.apv, n=y.priced, variant="annual, net of refunds, guest orders included")


@kpi(
    "purchase_frequency",
    title="Purchase frequency",
    unit="count",
    definition="purchases ÷ distinct customers over the 12 months ending at period end",
    needs=("orders.ordered_at",),
    uses=("orders.customer_id", "orders.customer_email"),
    reads=(*PAID_ORDERS, *ORDER_CUSTOMER),
)
def purchase_frequency(frames: Frames, period: KpiPeriod, params: Mapping[str, Any]) -> KpiValue:
    y = _annual(frames, period)
    return KpiValue(y.frequency, n=y.customers, variant="purchases per year")


@kpi(
    "customer_value",
    title="Average customer value",
    unit="currency",
    definition="average purchase value × purchase frequency (revenue per customer per year)",
    needs=("orders.amount", "orders.ordered_at"),
    uses=("orders.customer_id", "orders.customer_email"),
    reads=(*PAID_ORDERS, *ORDER_CUSTOMER),
)
def customer_value(frames: Frames, period: KpiPeriod, params: Mapping[str, Any]) -> KpiValue:
    y = _annual(frames, period)
    apv, freq = y.apv, y.frequency
    value = None if apv is None or freq is None else apv * freq
    return KpiValue(value, n=y.customers, variant="per year")


def _lifespan(frames: Frames, period: KpiPeriod, params: Mapping[str, Any]) -> KpiValue:
    given = params.get("lifespan_years")
    if given is not None:
        return KpiValue(float(given), variant=f"given: {float(given):g} years (kpis.params)")
    if frames.has("subscriptions"):
        year = period.year_before_end()
        start = _active_keys(frames, year.start)
        lost = start - _active_keys(frames, year.end)
        churn = ratio(len(lost), len(start))
        if churn is None:
            return KpiValue(None, n=0, note="no customer was active a year before period end")
        if churn == 0:
            return KpiValue(
                None, n=len(start), note="annual churn is 0: lifespan (1 ÷ churn) is undefined"
            )
        return KpiValue(1 / churn, n=len(start), variant="1 ÷ annual customer churn")
    orders = _orders(frames)
    orders = orders[orders["ordered_at"] < period.end]
    span = orders.groupby("_key")["ordered_at"].agg(["min", "max"])
    if span.empty:
        return KpiValue(None, n=0, note="no orders before the period end")
    years = (span["max"] - span["min"]).dt.total_seconds() / (365.25 * 86400)
    if not (years > 0).any():
        return KpiValue(
            None,
            n=len(span),
            note="every customer has bought once: an observed span of 0 says nothing about "
            "lifespan; set kpis.params lifespan_years",
        )
    return KpiValue(
        float(years.mean()),
        n=len(span),
        note="observed first-to-last order span; customers still buying make it an underestimate",
        variant="observed span",
    )


@kpi(
    "customer_lifespan",
    title="Average customer lifespan",
    unit="years",
    definition="kpis.params lifespan_years, else 1 ÷ annual churn, else observed order span",
    needs=("orders.ordered_at", "subscriptions.started_at"),
    uses=("subscriptions.canceled_at", "subscriptions.ended_at"),
    needs_any=True,
    params={"lifespan_years": NUMBER},
    reads=(*SUBSCRIPTION_STATE, *SUBSCRIPTION_CUSTOMER, *PAID_ORDERS, *ORDER_CUSTOMER),
)
def customer_lifespan(frames: Frames, period: KpiPeriod, params: Mapping[str, Any]) -> KpiValue:
    return _lifespan(frames, period, params)


@kpi(
    "clv",
    title="Customer lifetime value",
    unit="currency",
    definition="purchase-frequency variant: average purchase value × purchase frequency × "
    "lifespan; historical variant: revenue to date ÷ customers",
    needs=("orders.amount", "orders.ordered_at"),
    uses=("orders.customer_id", "orders.customer_email"),
    params={"variant": ("purchase_frequency", "historical"), "lifespan_years": NUMBER},
    reads=(*PAID_ORDERS, *ORDER_CUSTOMER, *SUBSCRIPTION_STATE, *SUBSCRIPTION_CUSTOMER),
)
def clv(frames: Frames, period: KpiPeriod, params: Mapping[str, Any]) -> KpiValue:
    if str(params.get("variant", "purchase_frequency")) == "historical":
        orders = _orders(frames)
        orders = orders[orders["ordered_at"] < period.end]
        customers = int(orders["_key"].nunique())
        return KpiValue(
            ratio(orders["amount"].sum(), customers),
            n=customers,
            variant="historical: revenue to date ÷ customers",
        )
    y = _annual(frames, period)
    apv, freq, customers = y.apv, y.frequency, y.customers
    life = _lifespan(frames, period, params)
    variant = f"purchase frequency: value × frequency × lifespan ({life.variant or 'n/a'})"
    if apv is None or freq is None or life.value is None:
        return KpiValue(
            None, n=customers, note=life.note or "no orders in the year", variant=variant
        )
    return KpiValue(
        apv * freq * life.value,
        n=customers,
        note=f"purchase value {apv:,.2f} × frequency {freq:,.2f}/year × lifespan "
        f"{life.value:,.2f} years",
        variant=variant,
    )


@kpi(
    "clv_saas",
    title="Customer lifetime value (subscriptions, gross margin)",
    unit="currency",
    definition="ARPA × gross margin ÷ monthly customer churn: ARPA = MRR at period end ÷ "
    "paying customers at period end; monthly churn from the period's logo churn; "
    "kpis.params gross_margin (0..1) is required",
    needs=("subscriptions.started_at", "subscriptions.amount"),
    uses=_MRR_USES,
    params={"gross_margin": SHARE},
    reads=SUBSCRIPTION_STATE,
)
def clv_saas(frames: Frames, period: KpiPeriod, params: Mapping[str, Any]) -> KpiValue:
    margin = params.get("gross_margin")
    if margin is None:
        return KpiValue(
            None, note="set kpis.params.clv_saas.gross_margin (e.g. 0.8): revenue is not profit"
        )
    end = _mrr_by_customer(frames, period.end)
    start = _active_keys(frames, period.start)
    lost = start - _active_keys(frames, period.end)
    arpa = ratio(float(end.sum()), len(end))
    churn = ratio(len(lost), len(start))
    months = period.days / (365.25 / 12)
    if arpa is None or churn is None:
        return KpiValue(None, n=len(end), note="no paying customers at the start or the end")
    if churn == 0:
        return KpiValue(
            None, n=len(start), note="no customer churned: lifetime (1 ÷ churn) is undefined"
        )
    monthly = 1 - (1 - churn) ** (1 / months)
    return KpiValue(
        arpa * float(margin) / monthly,
        n=len(end),
        note=f"ARPA {arpa:,.2f}/month × margin {float(margin):.0%} ÷ monthly churn "
        f"{monthly:.2%} ({churn:.1%} over {months:.1f} months)",
        variant="SaaS: ARPA × gross margin ÷ churn",
    )


@kpi(
    "upsell_rate",
    title="Upsell rate",
    unit="ratio",
    definition="customers active at start who started a higher-MRR subscription in the period "
    "÷ customers active at start",
    needs=("subscriptions.started_at", "subscriptions.amount"),
    uses=("subscriptions.interval", "subscriptions.customer_id", "subscriptions.customer_email"),
    reads=SUBSCRIPTION_STATE,
)
def upsell_rate(frames: Frames, period: KpiPeriod, params: Mapping[str, Any]) -> KpiValue:
    subs = _subs(frames).assign(_mrr=_mrr(frames))
    at_start = _active(frames, period.start)
    base = subs[at_start].groupby("_key")["_mrr"].max()
    new = subs[period.mask(subs["started_at"]) & isin(subs["_key"], base.index)]
    best_new = new.groupby("_key")["_mrr"].max()
    upsold = (best_new > base.reindex(best_new.index)).sum()
    return KpiValue(
        ratio(upsold, len(base)),
        n=len(base),
        note=f"{int(upsold)} of {len(base)} customers moved to a higher plan",
        variant="÷ all customers active at start",
    )


@kpi(
    "cross_sell_rate",
    title="Cross-sell rate",
    unit="ratio",
    definition="existing customers who bought a category (or product) new to them in the period "
    "÷ customers with an order before the period",
    needs=("orders.ordered_at",),
    uses=("orders.category", "orders.product", "orders.customer_id", "orders.customer_email"),
    reads=(*PAID_ORDERS, *ORDER_CUSTOMER),
)
def cross_sell_rate(frames: Frames, period: KpiPeriod, params: Mapping[str, Any]) -> KpiValue:
    orders = _orders(frames)
    orders = orders.assign(
        _what=orders["category"].where(orders["category"].notna(), orders["product"])
    )
    before = orders[orders["ordered_at"] < period.start]
    during = orders[period.mask(orders["ordered_at"])]
    existing = set(before["_key"].unique().tolist())
    during = during[isin(during["_key"], existing) & during["_what"].notna().to_numpy()]
    # (customer, what) pairs of the period not bought before: one index lookup, not a row loop
    pair = ["_key", "_what"]
    seen = pd.MultiIndex.from_frame(before[pair]).unique()
    fresh = during.loc[~pd.MultiIndex.from_frame(during[pair]).isin(seen), "_key"]
    crossed = int(fresh.nunique())
    return KpiValue(
        ratio(crossed, len(existing)),
        n=len(existing),
        note=f"{crossed} of {len(existing)} existing customers bought something new to them",
        variant="÷ all existing customers",
    )
