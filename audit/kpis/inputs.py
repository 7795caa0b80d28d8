"""Typed views of the records for KPI functions, and the few shared definitions they rely on.

KPIs run on normalized records, but the impact comparison also feeds them less-cleaned frames,
and a user may call `compute_kpis` on frames straight from a reader. Coercing here, once per
entity, keeps every KPI function short and tolerant of text columns.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Hashable, Mapping
from typing import Any, TypeVar

import numpy as np
import pandas as pd

from audit import schema

T = TypeVar("T")

DELINQUENT = {"past_due", "unpaid", "delinquent"}
# Subscription states that never paid (Stripe): a trial is not a customer and adds no MRR
# (ChartMogul and Stripe's own MRR both start at the first paid period); incomplete means the
# first payment never succeeded.
NEVER_PAID = {"trialing", "trial", "incomplete", "incomplete_expired"}
# Paused collection (Stripe pause_collection, ChartMogul "paused"): still a customer, no MRR.
PAUSED = {"paused"}
TRUE_TEXT = {"true", "t", "yes", "y", "1", "won", "closed"}
FALSE_TEXT = {"false", "f", "no", "n", "0", "lost", "open"}

# months per billing interval, to normalise amounts to MRR
MONTHS_PER_INTERVAL = {
    "day": 12 / 365,
    "daily": 12 / 365,
    "week": 12 / 52,
    "weekly": 12 / 52,
    "month": 1.0,
    "monthly": 1.0,
    "quarter": 3.0,
    "quarterly": 3.0,
    "year": 12.0,
    "yearly": 12.0,
    "annual": 12.0,
    "annually": 12.0,
}


def as_datetime(s: pd.Series) -> pd.Series:
    if isinstance(s.dtype, pd.DatetimeTZDtype):
        return s.dt.tz_convert("UTC")
    if pd.api.types.is_datetime64_any_dtype(s):
        return s.dt.tz_localize("UTC")
    return pd.to_datetime(s, utc=True, errors="coerce", format="mixed")


def as_float(s: pd.Series) -> pd.Series:
    if pd.api.types.is_float_dtype(s) or pd.api.types.is_integer_dtype(s):
        return s.astype("float64")
    # text such as '1,200.50': thousands separators dropped, the rest parsed as the object
    # path always did (to_numeric on Python strings), unreadable values NaN
    text = s.astype("string").str.replace(",", "", regex=False)
    values = pd.to_numeric(text.to_numpy(dtype=object, na_value=None), errors="coerce")
    return pd.Series(values, index=s.index, name=s.name).astype("float64")


def as_bool(s: pd.Series) -> pd.Series:
    if pd.api.types.is_bool_dtype(s):
        return s.astype("boolean")
    # str() of a bool is 'True'/'False', so booleans and their text forms fold alike
    t = s.astype("string").str.strip().str.casefold()
    out = pd.Series(pd.NA, index=s.index, name=s.name, dtype="boolean")
    out[t.isin(TRUE_TEXT).to_numpy(dtype=bool, na_value=False)] = True
    out[t.isin(FALSE_TEXT).to_numpy(dtype=bool, na_value=False)] = False
    return out


def _text_objects(text: pd.Series, blank: pd.Series, name: object) -> pd.Series:
    """`text` as Python strings (object dtype) with None where `blank`: one conversion out of
    Arrow, instead of object -> where() copies."""
    values = text.to_numpy(dtype=object, na_value=None)
    values[blank.to_numpy(dtype=bool, na_value=True)] = None
    return pd.Series(values, index=text.index, name=name, dtype="object")


def as_text(s: pd.Series) -> pd.Series:
    """Stripped text as pandas' Arrow-backed `str` dtype, missing (NaN) for empty.

    Text stays in Arrow: turning every text column into Python objects cost more than all the
    KPIs together at 1M contacts, and most columns are never read. Test with isna()/notna(),
    compare with eq()/isin(); fold() gives case-folded Python strings where a KPI needs them.
    """
    given = s.astype("str")
    text = given.str.strip()
    blank = text.eq("")
    if blank.any():
        return text.mask(blank)
    # Normalized text is already stripped and never empty: the column as given is the typed
    # one, so both KPI views share the records' own buffers instead of a copy of each column
    # (the contacts alone were about 150 MB per view at 300k contacts).
    if (text.eq(given) | given.isna()).all():
        return given
    return text


def fold(s: pd.Series, prefix: str = "") -> pd.Series:
    """Stripped, case-folded text (object dtype, None for missing): keys and comparisons."""
    # the same steps on each distinct text once, spread back over the rows (keys repeat:
    # an email per order, a status per subscription)
    codes, uniq = pd.factorize(s.astype("string"), use_na_sentinel=True)
    text = pd.Series(uniq).str.strip().str.casefold()
    blank = text.isna() | text.eq("")
    values = _text_objects(prefix + text if prefix else text, blank, s.name).to_numpy()
    out = np.empty(len(values) + 1, dtype=object)
    out[: len(values)] = values
    out[len(values)] = None
    return pd.Series(out[codes], index=s.index, name=s.name, dtype="object")


def folded(s: pd.Series) -> pd.Series:
    """Stripped, case-folded text with '' for missing (Arrow strings): for comparisons with
    isin/eq/startswith, where a Python object per row would only be thrown away."""
    return text_per_distinct(s, lambda t: t.str.strip().str.casefold())


def text_per_distinct(s: pd.Series, steps: Callable[[pd.Series], pd.Series]) -> pd.Series:
    """`steps` (string methods over `s.astype("string")`) run on each distinct text once and
    spread back over the rows as Arrow text, '' for missing: what the steps over every row,
    `.fillna("").astype("str")`, give. Arrow has no casefold, so pandas ran it in Python per
    row; emails, statuses and events repeat (at 300k contacts casefold was a sixth of the KPI
    stage's time)."""
    codes, uniq = pd.factorize(s.astype("string"), use_na_sentinel=True)
    done = steps(pd.Series(uniq, dtype="string")).fillna("").astype("str")
    typed = pd.array([*done.tolist(), ""], dtype="str")
    picks = np.where(codes < 0, len(done), codes)
    return pd.Series(typed.take(picks), index=s.index, name=s.name)


# What the shared facts below read, for the KPIs' `reads` declarations (audit.kpis.catalogue):
# a KPI that calls one of them declares its columns, and the typed view holds nothing else.
SUBSCRIPTION_STATE = (  # active_mask, subscription_stop, paid_start, sub_status
    "subscriptions.status",
    "subscriptions.started_at",
    "subscriptions.trial_end",
    "subscriptions.current_period_end",
    "subscriptions.canceled_at",
    "subscriptions.ended_at",
)
SUBSCRIPTION_CUSTOMER = ("subscriptions.customer_id", "subscriptions.customer_email")
ORDER_CUSTOMER = ("orders.customer_id", "orders.customer_email")
PAID_ORDERS = ("orders.amount", "orders.status", "orders.amount_refunded", "orders.captured")
DEAL_OUTCOME = ("deals.stage", "deals.status", "deals.is_won", "deals.is_closed")
DEAL_CONTACT = ("deals.contact_email", "deals.contact_id")
CONTACT_KEYS = ("contacts.email", "contacts.external_id")
SURVEY_RESPONDENT = ("surveys.respondent_id", "surveys.respondent_email")
# Read with any amount: its currency (audit.kpis.money's mix and conversion) and refunds
# (converted with the amount).
MONEY_COLUMNS = ("currency", "amount_refunded")
# Always in the typed view: what rows are counted by and come from.
PROVENANCE = ("record_id", "source")

# Columns passed through as read: `extra` (a mapping), and the provenance ids, which KPIs only
# count rows by (converting three id columns of every entity to Arrow text cost seconds at 1M).
AS_READ = frozenset({"extra", "record_id", "source", "source_file"})


class Frames:
    """Records with every canonical column typed by its schema kind (AS_READ columns as read),
    built once per entity.

    With money rules (kpis.currency and currency_rates), amounts of an entity whose currencies
    can all be converted arrive converted to the base currency (audit.kpis.money).

    A run computes every KPI on two views of the same data (as read, and cleaned), and the
    breakdowns on the cleaned one. `like` is another Frames whose work is reused: the typed
    frame of an entity whose records are the very same frame object (the cleaned view keeps
    the frames it did not change), and, over the same records and money rules, every fact in
    `memo`. Typed frames and facts are shared, so callers must never modify them in place.

    `columns` (entity -> column names; see `kpi_columns`) limits each typed frame to the
    columns the KPIs declare they read (and PROVENANCE): typing and cleaning every column of
    every entity twice, for the raw and the cleaned view, cost more than most KPIs. A KPI
    that reads an undeclared column then fails (KeyError), which the contract test catches.
    """

    def __init__(
        self,
        records: Mapping[str, pd.DataFrame],
        money: Any = None,
        like: Frames | None = None,
        columns: Mapping[str, Collection[str]] | None = None,
    ) -> None:
        self._records = records
        self._columns = columns
        self._cache: dict[str, pd.DataFrame] = {}
        self._typed: dict[str, pd.DataFrame] = {}
        self._mix: dict[str, Any] = {}
        self._memo: dict[Hashable, Any] = {}
        self.money = money
        if like is not None and like._columns != columns:
            like = None  # a view holding other columns lends nothing
        self._like = like
        same_amounts = like is not None and (
            like.money == money or _base(like.money) is _base(money) is None
        )
        if like is not None and like._records is records and same_amounts:
            self._memo = like._memo  # same records, same amounts: every fact is the same

    def sharing(self, records: Mapping[str, pd.DataFrame]) -> Frames:
        """A Frames over only the entities whose records are the very same frame objects in
        `records`, with the typed frames (and currency mixes) already built for them: what a
        view of `records` may borrow (as `like`) once this view itself is let go."""
        same = {e: f for e, f in self._records.items() if records.get(e) is f}
        out = Frames(same, money=self.money, columns=self._columns)
        out._typed = {e: t for e, t in self._typed.items() if e in same}
        out._cache = {e: t for e, t in self._cache.items() if e in same}
        out._mix = {e: m for e, m in self._mix.items() if e in same}
        return out

    @property
    def entities(self) -> tuple[str, ...]:
        """The entities this view holds records of (after `sharing`: those both views hold as
        the same frame objects)."""
        return tuple(self._records)

    def has(self, entity: str) -> bool:
        f = self._records.get(entity)
        return f is not None and len(f) > 0

    def _shared(self, entity: str) -> Frames | None:
        """`like`, when it holds this entity's records as the same frame object."""
        like, raw = self._like, self._records.get(entity)
        if like is None or raw is None or like._records.get(entity) is not raw:
            return None
        return like

    def typed(self, entity: str) -> pd.DataFrame:
        """The entity with every column typed, amounts in the currencies they were written in."""
        if entity not in self._typed:
            shared = self._shared(entity)
            self._typed[entity] = shared.typed(entity) if shared is not None else self._type(entity)
        return self._typed[entity]

    def _type(self, entity: str) -> pd.DataFrame:
        raw = self._records.get(entity)
        if raw is None:
            raw = schema.empty(entity) if entity in schema.ENTITIES else pd.DataFrame()
        known = entity in schema.ENTITIES
        # canonical columns first (missing ones empty), then the rest: schema.conform's order,
        # without copying the frame first
        canonical = schema.columns(entity) if known else []
        names = [*canonical, *(c for c in raw.columns if c not in set(canonical))]
        if self._columns is not None:
            wanted = {*self._columns.get(entity, ()), *PROVENANCE}
            names = [c for c in names if c in wanted]
        kinds = schema.column_kinds(entity) if known else {}
        index = pd.RangeIndex(len(raw))
        out = {}
        for col in names:
            if col in raw.columns:
                values = raw[col].reset_index(drop=True)
            else:
                values = pd.Series([None] * len(raw), index=index, dtype="object")
            kind = kinds.get(col)
            if kind == schema.DATETIME:
                out[col] = as_datetime(values)
            elif kind in (schema.FLOAT, schema.INT):
                out[col] = as_float(values)
            elif kind == schema.BOOL:
                out[col] = as_bool(values)
            elif col in AS_READ:
                out[col] = values
            else:
                out[col] = as_text(values)
        return pd.DataFrame(out, index=index)

    def mix(self, entity: str) -> Any:
        """The currencies of the entity's amounts (audit.kpis.money.Mix), computed once."""
        if entity not in self._mix:
            from audit.kpis.money import MoneyRules, mix

            shared = self._shared(entity)
            if shared is not None and shared.money == self.money:
                self._mix[entity] = shared.mix(entity)
            else:
                self._mix[entity] = mix(self.typed(entity), self.money or MoneyRules())
        return self._mix[entity]

    def __getitem__(self, entity: str) -> pd.DataFrame:
        """The typed entity, amounts converted to kpis.currency where the rates allow it."""
        if entity not in self._cache:
            shared = self._shared(entity)
            if shared is not None and shared.money == self.money:
                self._cache[entity] = shared[entity]
                return self._cache[entity]
            typed = self.typed(entity)
            if self.money is not None and self.money.base and self.mix(entity).convertible:
                from audit.kpis.money import in_base

                typed = in_base(typed, self.money)
            self._cache[entity] = typed
        return self._cache[entity]

    def memo(self, key: Hashable, build: Callable[[], T]) -> T:
        """A fact derived from the typed frames (paid orders, deal outcomes, active
        subscriptions at an instant), built once and shared by every KPI that needs it."""
        if key not in self._memo:
            self._memo[key] = build()
        return self._memo[key]


def _base(money: Any) -> str | None:
    """The currency amounts are converted to (None: amounts as written)."""
    return getattr(money, "base", None) or None


def customer_key(frame: pd.DataFrame, id_col: str, email_col: str) -> pd.Series:
    """One key per customer: the source's customer id, else the folded email."""
    ids = frame[id_col] if id_col in frame else pd.Series([None] * len(frame), index=frame.index)
    emails = (
        frame[email_col]
        if email_col in frame
        else pd.Series([None] * len(frame), index=frame.index)
    )
    by_email = fold(emails, "email:")
    return ids.where(ids.notna(), by_email)


def sub_status(subs: pd.DataFrame) -> pd.Series:
    """The subscription status, folded ('' where missing or the export has no status column)."""
    if "status" not in subs:
        return pd.Series("", index=subs.index, dtype="str")
    return folded(subs["status"])


def subscription_stop(subs: pd.DataFrame) -> pd.Series:
    """When a subscription stopped counting as active.

    Prepaid churn is recognised at the end of the paid term (ChartMogul): a cancellation with a
    later current_period_end stops at that end, not on the day the customer clicked cancel.
    A subscription left unpaid (past_due, unpaid) stops 30 days after its unpaid term ended.
    """
    ended = subs["ended_at"]
    canceled = subs["canceled_at"]
    term_end = subs["current_period_end"]
    after_cancel = term_end.where(term_end > canceled, canceled)
    stop = ended.where(ended.notna(), after_cancel.where(canceled.notna()))
    # delinquent more than 30 days counts as cancelled (Baremetrics), from the unpaid term's end
    status = sub_status(subs)
    delinquent = status.isin(DELINQUENT) & stop.isna() & term_end.notna()
    return stop.where(~delinquent, term_end + pd.Timedelta(days=30))


def paid_start(subs: pd.DataFrame) -> pd.Series:
    """When paid service began: the start, or the end of a free trial when there was one."""
    start = subs["started_at"]
    if "trial_end" not in subs:
        return start
    trial = subs["trial_end"]
    return start.where(trial.isna() | (trial <= start), trial)


def renewals(subs: pd.DataFrame) -> pd.Series:
    """When each subscription last renewed: renewed_at when given, else the current period's
    start when it is a later period than the first paid one (Stripe exports only the current
    period; its start is the subscription's first day for a new subscription, not a renewal).
    """
    given = subs["renewed_at"]
    if "current_period_start" not in subs:
        return given
    cps = subs["current_period_start"]
    later = cps > paid_start(subs) + pd.Timedelta(days=1)
    status = sub_status(subs)
    derived = cps.where(later.fillna(False) & ~status.isin(NEVER_PAID))
    return given.where(given.notna(), derived)


def active_mask(subs: pd.DataFrame, at: pd.Timestamp) -> pd.Series:
    """Paying subscriptions just before `at`: paid service began before it, not stopped yet.

    Trials and subscriptions whose first payment never succeeded are never active.
    """
    stop = subscription_stop(subs)
    status = sub_status(subs)
    started = ((paid_start(subs) < at) & ~status.isin(NEVER_PAID)).fillna(False)
    running = (stop.isna() | (stop >= at)).fillna(False)
    return (started & running).astype(bool)


def monthly_amount(subs: pd.DataFrame) -> pd.Series:
    """Subscription amount per month (annual plans / 12); unknown intervals count as monthly."""
    factor = folded(subs["interval"]).map(MONTHS_PER_INTERVAL).fillna(1.0)
    status = sub_status(subs)
    amount = subs["amount"].fillna(0.0).where(~status.isin(PAUSED | NEVER_PAID), 0.0)
    return amount / factor.astype("float64")


WON_STATUS = {"won", "closedwon", "closed_won"}
LOST_STATUS = {"lost", "closedlost", "closed_lost"}
OPEN_STATUS = {"open"}


def deal_outcome(deals: pd.DataFrame) -> tuple[pd.Series, pd.Series]:
    """(won, lost) masks: is_won/is_closed when given, else the CRM's status (Pipedrive's
    Won/Lost/Open), else the stage name (HubSpot's closedwon/closedlost)."""
    stage = folded(deals["stage"]).str.replace(" ", "", regex=False)
    stage_won = stage.str.contains("won", regex=False) | stage.isin(["closedwon", "won"])
    stage_lost = stage.str.contains("lost", regex=False)
    if "status" in deals:
        status = folded(deals["status"]).str.replace(" ", "", regex=False)
        known = status.isin(WON_STATUS | LOST_STATUS | OPEN_STATUS)
        stage_won = status.isin(WON_STATUS) | (~known & stage_won)
        stage_lost = status.isin(LOST_STATUS) | (~known & stage_lost)
    is_won = deals["is_won"]
    is_closed = deals["is_closed"]
    won = is_won.fillna(stage_won).astype(bool)
    closed = is_closed.fillna(stage_won | stage_lost | won).astype(bool) | won
    lost = closed & ~won
    return won, lost


def outcome(frames: Frames) -> tuple[pd.Series, pd.Series]:
    """deal_outcome of the typed deals, computed once per Frames (shared: do not modify)."""
    return frames.memo("deals.outcome", lambda: deal_outcome(frames["deals"]))


def business_seconds(
    start: pd.Series, end: pd.Series, tz: str, hours: tuple[int, int, str]
) -> pd.Series:
    """Seconds of opening hours between two instants (local days in `tz`), vectorized.

    First day from the later of start and opening to closing, last day from opening to the
    earlier of end and closing, whole working days between (numpy's business-day count).
    """
    open_s, close_s, weekmask = hours
    ok = start.notna() & end.notna()
    out = pd.Series(float("nan"), index=start.index)
    if not ok.any():
        return out
    s = start[ok].dt.tz_convert(tz).dt.tz_localize(None)
    e = end[ok].dt.tz_convert(tz).dt.tz_localize(None)
    s_day, e_day = s.dt.normalize(), e.dt.normalize()
    s_sec = (s - s_day).dt.total_seconds().to_numpy()
    e_sec = (e - e_day).dt.total_seconds().to_numpy()
    sd = s_day.to_numpy().astype("datetime64[D]")
    ed = e_day.to_numpy().astype("datetime64[D]")
    s_work = np.is_busday(sd, weekmask=weekmask)
    e_work = np.is_busday(ed, weekmask=weekmask)
    same = sd == ed
    first = np.where(s_work, np.clip(close_s - np.maximum(s_sec, open_s), 0, None), 0.0)
    last = np.where(e_work, np.clip(np.minimum(e_sec, close_s) - open_s, 0, None), 0.0)
    between = np.busday_count(sd + 1, ed, weekmask=weekmask).clip(min=0) * (close_s - open_s)
    within = np.where(
        s_work,
        np.clip(np.minimum(e_sec, close_s) - np.maximum(s_sec, open_s), 0, None),
        0.0,
    )
    total = np.where(same, within, first + last + between)
    backwards = (e < s).to_numpy()
    out[ok] = np.where(backwards, -1.0, total)  # negative: left out by elapsed()
    return out


def elapsed(
    start: pd.Series,
    end: pd.Series,
    *,
    unit: str,
    period: Any = None,
) -> tuple[pd.Series, str]:
    """(durations end − start in `unit` (hours or days), note on the rows left out).

    A duration with a missing end point, or one that ends before it starts (a rule such as
    tickets.solved_at.after_created already reports it), is not a duration: averaging it in
    pulls the mean toward nonsense. Both are left out and counted in the note; n is what is left.
    With a period that carries business hours (kpis.business_hours), hours are opening hours.
    """
    per = {"hours": 3600.0, "days": 86400.0}[unit]
    if period is not None and period.hours is not None and unit == "hours":
        d = business_seconds(start, end, period.tz, period.hours) / per
    else:
        d = (end - start).dt.total_seconds() / per
    missing, negative = int(d.isna().sum()), int((d < 0).sum())
    notes = []
    if missing:
        notes.append(f"{missing} without a start or end time left out")
    if negative:
        notes.append(f"{negative} that end before they start left out")
    return d[d >= 0], "; ".join(notes)


def ratio(num: float, den: float) -> float | None:
    return None if den == 0 else float(num) / float(den)
