"""Support KPIs: resolution time, survey scores (NPS, CSAT, CES), same-day closes, SLA.

Survey scales are read from the data (scale_min/scale_max, else inferred from the scores) and
always reported: a 1-5 "likelihood to recommend" survey is not NPS, so it gets its own clearly
labelled NPS-like KPI instead of a number that looks comparable and is not.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pandas as pd

from audit.kpis.catalogue import TIMEZONE, KpiValue, kpi
from audit.kpis.inputs import SURVEY_RESPONDENT, Frames, customer_key, elapsed, folded, ratio
from audit.kpis.period import KpiPeriod


def _clock(period: KpiPeriod) -> str:
    return "business hours, kpis.business_hours" if period.hours else "calendar hours"


def _first_solved(t: pd.DataFrame) -> pd.Series:
    return t["first_solved_at"].where(t["first_solved_at"].notna(), t["solved_at"])


def _resolution(frames: Frames, period: KpiPeriod, *, first: bool) -> tuple[pd.Series, str]:
    t = frames["tickets"]
    solved = _first_solved(t) if first else t["solved_at"]
    rows = period.mask(solved)
    return elapsed(t.loc[rows, "created_at"], solved[rows], unit="hours", period=period)


def _resolution_kpi(frames: Frames, period: KpiPeriod, *, first: bool, median: bool) -> KpiValue:
    hours, left_out = _resolution(frames, period, first=first)
    which = "first resolution (first solve)" if first else "full resolution (last solve)"
    if hours.empty:
        note = "; ".join(p for p in ("no ticket solved in the period", left_out) if p)
        return KpiValue(None, n=0, note=note, variant=which)
    mean, med = float(hours.mean()), float(hours.median())
    note = (
        f"mean {mean:,.1f} h, median {med:,.1f} h, P90 {hours.quantile(0.9):,.1f} h "
        f"({_clock(period)})"
    )
    return KpiValue(
        med if median else mean,
        n=len(hours),
        note="; ".join(p for p in (note, left_out) if p),
        variant=f"{'median' if median else 'mean'}, {which}",
    )


_RES = ("tickets.created_at",)


@kpi(
    "resolution_time_first",
    title="Average first resolution time",
    unit="hours",
    definition="mean(first solved − created) over tickets first solved in the period",
    needs=_RES,
    uses=("tickets.solved_at", "tickets.first_solved_at"),
)
def resolution_time_first(frames: Frames, period: KpiPeriod, params: Mapping[str, Any]) -> KpiValue:
    return _resolution_kpi(frames, period, first=True, median=False)


@kpi(
    "resolution_time_full",
    title="Average full resolution time",
    unit="hours",
    definition="mean(last solved − created) over tickets solved in the period",
    needs=_RES,
    uses=("tickets.solved_at",),
)
def resolution_time_full(frames: Frames, period: KpiPeriod, params: Mapping[str, Any]) -> KpiValue:
    return _resolution_kpi(frames, period, first=False, median=False)


@kpi(
    "resolution_time_first_median",
    title="Median first resolution time",
    unit="hours",
    definition="median(first solved − created) over tickets first solved in the period",
    needs=_RES,
    uses=("tickets.solved_at", "tickets.first_solved_at"),
)
def resolution_time_first_median(
    frames: Frames, period: KpiPeriod, params: Mapping[str, Any]
) -> KpiValue:
    return _resolution_kpi(frames, period, first=True, median=True)


@kpi(
    "resolution_time_full_median",
    title="Median full resolution time",
    unit="hours",
    definition="median(last solved − created) over tickets solved in the period",
    needs=_RES,
    uses=("tickets.solved_at",),
)
def resolution_time_full_median(
    frames: Frames, period: KpiPeriod, params: Mapping[str, Any]
) -> KpiValue:
    return _resolution_kpi(frames, period, first=False, median=True)


@kpi(
    "first_reply_time",
    title="Average first reply time",
    unit="hours",
    definition="mean(first reply − created) over tickets created in the period that got a reply",
    needs=("tickets.created_at", "tickets.first_reply_at"),
)
def first_reply_time(frames: Frames, period: KpiPeriod, params: Mapping[str, Any]) -> KpiValue:
    t = frames["tickets"]
    rows = t[period.mask(t["created_at"]) & t["first_reply_at"].notna()]
    hours, left_out = elapsed(
        rows["created_at"], rows["first_reply_at"], unit="hours", period=period
    )
    if hours.empty:
        note = "; ".join(p for p in ("no ticket of the period got a reply", left_out) if p)
        return KpiValue(None, n=0, note=note)
    note = f"median {hours.median():,.1f} h ({_clock(period)})"
    return KpiValue(
        float(hours.mean()),
        n=len(hours),
        note="; ".join(p for p in (note, left_out) if p),
        variant="mean, tickets created in the period",
    )


def responses(frames: Frames, period: KpiPeriod, kind: str) -> pd.DataFrame:
    """Survey answers of one type in the period, with the scale filled in (given or inferred)."""
    s = frames["surveys"]
    typ = frames.memo("surveys.type", lambda: folded(s["survey_type"]))
    rows = s[typ.eq(kind) & period.mask(s["answered_at"]) & s["score"].notna()].copy()
    top = rows["score"].max() if len(rows) else 0
    # a 0 exists only on a 0-10 scale: an NPS survey of unhappy answers (all 0-5) is still 0-10
    zero = bool(len(rows)) and rows["score"].min() == 0
    default_max = {
        "nps": 10.0 if top > 5 or zero else 5.0,
        "csat": 5.0 if top <= 5 else 10.0,
    }.get(kind, 7.0 if top > 5 else 5.0)
    default_min = 0.0 if kind == "nps" and default_max == 10 else 1.0
    rows["_max"] = rows["scale_max"].fillna(default_max)
    rows["_min"] = rows["scale_min"].fillna(default_min)
    return rows


def latest_per_respondent(rows: pd.DataFrame) -> tuple[pd.DataFrame, int]:
    """Keep each respondent's latest answer (NPS counts people, not forms); rows without an id
    or email are kept as they are. Returns (rows, answers dropped)."""
    key = customer_key(rows, "respondent_id", "respondent_email")
    known = rows[key.notna()].assign(_k=key[key.notna()])
    known = known.sort_values(["_k", "answered_at"], kind="stable").drop_duplicates(
        "_k", keep="last"
    )
    out = pd.concat([known.drop(columns="_k"), rows[key.isna()]]).sort_index()
    return out, len(rows) - len(out)


@kpi(
    "nps",
    title="Net Promoter Score",
    unit="score",
    definition="% promoters (9-10) − % detractors (0-6) on the 0-10 scale; −100..100",
    needs=("surveys.survey_type", "surveys.score", "surveys.answered_at"),
    uses=("surveys.scale_max",),
    reads=(*SURVEY_RESPONDENT, "surveys.scale_min"),
)
def nps(frames: Frames, period: KpiPeriod, params: Mapping[str, Any]) -> KpiValue:
    rows, dropped = latest_per_respondent(responses(frames, period, "nps"))
    std = rows[rows["_max"].eq(10) & rows["_min"].eq(0)]
    other = len(rows) - len(std)
    note = f"{other} answers on another scale left out (see nps_like)" if other else ""
    if dropped:
        note = "; ".join(
            x for x in (note, f"{dropped} repeat answers of a respondent left out") if x
        )
    if std.empty:
        return KpiValue(
            None, n=0, note=note or "no 0-10 NPS answers in the period", variant="standard 0-10"
        )
    prom = (std["score"] >= 9).mean()
    det = (std["score"] <= 6).mean()
    return KpiValue(100 * (prom - det), n=len(std), note=note, variant="standard 0-10")


@kpi(
    "nps_like",
    title="NPS-like score (1-5 survey, not comparable with NPS)",
    unit="score",
    definition="% answering 4-5 − % answering 1-2 on a 1-5 likelihood-to-recommend survey "
    "(the seed article's mapping); not NPS",
    needs=("surveys.survey_type", "surveys.score", "surveys.answered_at"),
    uses=("surveys.scale_max",),
    reads=(*SURVEY_RESPONDENT, "surveys.scale_min"),
)
def nps_like(frames: Frames, period: KpiPeriod, params: Mapping[str, Any]) -> KpiValue:
    rows, _ = latest_per_respondent(responses(frames, period, "nps"))
    five = rows[rows["_max"].eq(5)]
    label = "NPS-like on 1-5: promoters 4-5, detractors 1-2 (not comparable with NPS)"
    if five.empty:
        return KpiValue(None, n=0, note="no 1-5 recommend answers in the period", variant=label)
    prom = (five["score"] >= 4).mean()
    det = (five["score"] <= 2).mean()
    return KpiValue(100 * (prom - det), n=len(five), variant=label)


@kpi(
    "csat",
    title="Customer satisfaction (CSAT)",
    unit="ratio",
    definition="answers in the top two points of the scale (4-5 of 5) ÷ all answers",
    needs=("surveys.survey_type", "surveys.score", "surveys.answered_at"),
    uses=("surveys.scale_max",),
    reads=("surveys.scale_min",),
)
def csat(frames: Frames, period: KpiPeriod, params: Mapping[str, Any]) -> KpiValue:
    rows = responses(frames, period, "csat")
    if rows.empty:
        return KpiValue(None, n=0, note="no CSAT answers in the period")
    happy = rows["score"] >= rows["_max"] - 1
    scales = sorted({f"{a:g}-{b:g}" for a, b in zip(rows["_min"], rows["_max"], strict=True)})
    return KpiValue(
        float(happy.mean()),
        n=len(rows),
        variant=f"top-2-box on {', '.join(scales)}; neutral not counted",
    )


@kpi(
    "ces",
    title="Customer effort score (CES)",
    unit="score",
    definition="mean answer; scale and direction recorded (CES 2.0 1-7: higher is easier; "
    "legacy 1-5: lower is easier)",
    needs=("surveys.survey_type", "surveys.score", "surveys.answered_at"),
    uses=("surveys.scale_max",),
    params={
        "direction": ("higher is easier", "lower is easier", "higher_is_easier", "lower_is_easier")
    },
    reads=("surveys.scale_min",),
)
def ces(frames: Frames, period: KpiPeriod, params: Mapping[str, Any]) -> KpiValue:
    rows = responses(frames, period, "ces")
    if rows.empty:
        return KpiValue(None, n=0, note="no CES answers in the period")
    scale = rows["_max"].mode().iloc[0]
    use = rows[rows["_max"].eq(scale)]
    lo = use["_min"].mode().iloc[0]
    default_dir = "higher is easier" if scale >= 7 else "lower is easier"
    direction = str(params.get("direction", default_dir)).replace("_", " ")
    other = len(rows) - len(use)
    return KpiValue(
        float(use["score"].mean()),
        n=len(use),
        note=f"{other} answers on another scale left out" if other else "",
        variant=f"mean on {lo:g}-{scale:g}, {direction}",
    )


@kpi(
    "same_day_closed_cases",
    title="Same-day closed cases",
    unit="ratio",
    definition="tickets created in the period and first solved on the same calendar day "
    "(kpis.params timezone, default kpis.timezone) ÷ tickets created in the period",
    needs=("tickets.created_at",),
    uses=("tickets.solved_at", "tickets.first_solved_at"),
    params={"timezone": TIMEZONE},
)
def same_day_closed_cases(frames: Frames, period: KpiPeriod, params: Mapping[str, Any]) -> KpiValue:
    t = frames["tickets"]
    tz = str(params.get("timezone", period.tz))
    created = t[period.mask(t["created_at"])]
    solved = _first_solved(created)
    same = created["created_at"].dt.tz_convert(tz).dt.date == solved.dt.tz_convert(tz).dt.date
    same = same & solved.notna()
    return KpiValue(
        ratio(same.sum(), len(created)),
        n=len(created),
        variant=f"first solve, same day in {tz}, ÷ created",
    )


@kpi(
    "sla_compliance",
    title="SLA compliance (resolution)",
    unit="ratio",
    definition="tickets solved in the period within their sla_hours ÷ solved tickets that "
    "have an SLA target (calendar hours)",
    needs=("tickets.created_at",),
    uses=("tickets.solved_at", "tickets.sla_hours"),
)
def sla_compliance(frames: Frames, period: KpiPeriod, params: Mapping[str, Any]) -> KpiValue:
    t = frames["tickets"]
    rows = t[period.mask(t["solved_at"]) & t["sla_hours"].notna()]
    hours, left_out = elapsed(rows["created_at"], rows["solved_at"], unit="hours", period=period)
    met = hours <= rows.loc[hours.index, "sla_hours"]
    note = f"{int(met.sum())} of {len(hours)} within target ({_clock(period)}); no pause states"
    return KpiValue(
        ratio(met.sum(), len(hours)),
        n=len(hours),
        note="; ".join(p for p in (note, left_out) if p),
        variant=f"resolution target, {_clock(period)}",
    )
