"""Money for KPIs: one currency per sum, refunds netted, failed payments left out.

Three ways real exports broke revenue figures: amounts typed with a symbol ('$100', '₩130,000')
were summed as one unit; two currencies were added with status ok; a refunded or failed payment
counted as revenue and its customer as acquired. Every KPI that sums money reads amounts through
this module, so the rules live in one place:

- an entity's amounts are summed only in one currency: a single currency (amounts with no
  currency are taken to be in it, with a note), or several converted with the user's
  `kpis.currency_rates` into `kpis.currency`; otherwise the KPI is withheld with the reason;
- an order is a purchase when it was paid: not failed, voided, canceled or only authorized,
  and not refunded in full; its revenue is the amount less the refunded part.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

import pandas as pd

from audit.kpis.inputs import Frames, customer_key, folded

# payment states that collected no money (Stripe, Shopify financial status, generic exports)
UNPAID_STATUS = frozenset(
    {
        "failed",
        "canceled",
        "cancelled",
        "void",
        "voided",
        "refunded",
        "declined",
        "expired",
        "pending",
        "authorized",
        "uncaptured",
        "requires_payment_method",
        "incomplete",
    }
)


@dataclass(frozen=True)
class MoneyRules:
    """kpis.currency and kpis.currency_rates: 1 unit of a code = rate units of `base`."""

    base: str | None = None
    rates: Mapping[str, float] = field(default_factory=dict)


@dataclass(frozen=True)
class Mix:
    """What one entity's amounts are in, and whether they can be summed."""

    codes: tuple[str, ...]  # explicit currencies, sorted
    missing: int  # amounts with no currency
    convertible: bool

    def problem(self, entity: str, rules: MoneyRules) -> str:
        """Why the amounts cannot be summed, or '' when they can."""
        if len(self.codes) <= 1 or self.convertible:
            return ""
        lacking = [c for c in self.codes if c != rules.base and c not in rules.rates]
        how = (
            f"add {', '.join(lacking)} to kpis.currency_rates"
            if rules.base
            else "set kpis.currency and kpis.currency_rates to convert them"
        )
        return (
            f"{entity} amounts are in {len(self.codes)} currencies ({', '.join(self.codes)}): {how}"
        )

    def note(self, entity: str, rules: MoneyRules) -> str:
        if len(self.codes) > 1 and self.convertible:
            return f"{entity} amounts converted to {rules.base} with kpis.currency_rates"
        if len(self.codes) == 1 and self.missing:
            return f"{self.missing} {entity} amounts without a currency taken as {self.codes[0]}"
        return ""


def mix(frame: pd.DataFrame, rules: MoneyRules) -> Mix:
    if "amount" not in frame or "currency" not in frame:
        return Mix((), 0, True)
    has_amount = frame["amount"].notna()
    cur = frame.loc[has_amount, "currency"]
    # each distinct code once: a currency column holds a handful of values however long it is
    codes = tuple(sorted({str(c).strip().upper() for c in cur.dropna().unique() if str(c).strip()}))
    missing = int(cur.isna().sum())
    convertible = bool(rules.base) and all(c == rules.base or c in rules.rates for c in codes)
    if len(codes) > 1 and missing:
        convertible = False  # an amount with no currency among several cannot be placed
    return Mix(codes, missing, convertible)


def in_base(frame: pd.DataFrame, rules: MoneyRules) -> pd.DataFrame:
    """The frame with `amount` (and `amount_refunded`) converted to the base currency."""
    if not rules.base or "currency" not in frame or "amount" not in frame:
        return frame
    per_code = {**rules.rates, rules.base: 1.0}
    code = frame["currency"].map(
        {c: str(c).strip().upper() for c in frame["currency"].dropna().unique()}
    )
    rate = code.map(per_code).where(code.notna(), rules.rates.get("", 1.0))
    rate = rate.fillna(1.0).astype("float64")  # a code without a rate stays as written
    out = frame.assign(amount=frame["amount"] * rate)
    if "amount_refunded" in frame:
        out["amount_refunded"] = frame["amount_refunded"] * rate
    return out


def paid_orders(frames: Frames) -> pd.DataFrame:
    """Orders that collected money, with `amount` net of refunds and a customer `_key`.

    Guest orders (no customer id or email) are kept: they are revenue and purchases, only not
    attributable to a customer (`_key` is None). Orders whose amount is unreadable are kept
    with a missing amount: they are purchases, only not revenue. Built once per Frames and
    shared by every KPI and breakdown that sums orders: do not modify it in place.
    """
    return frames.memo("orders.paid", lambda: _paid_orders(frames))


def _paid_orders(frames: Frames) -> pd.DataFrame:
    o = frames["orders"]
    o = o.assign(_key=customer_key(o, "customer_id", "customer_email"))
    status = folded(o["status"]).str.replace(" ", "_", regex=False)
    refunded = o["amount_refunded"].fillna(0.0) if "amount_refunded" in o else 0.0
    net = (o["amount"] - refunded).clip(lower=0.0)
    uncaptured = o["captured"].eq(False).fillna(False) if "captured" in o else False
    fully_refunded = o["amount"].gt(0) & net.le(0)
    # an unreadable amount does not undo the purchase (frequency counts it; sums skip it)
    keep = ~status.isin(UNPAID_STATUS) & ~uncaptured & ~fully_refunded.fillna(False)
    keep = keep.astype(bool)
    return o[keep].assign(amount=net[keep])
