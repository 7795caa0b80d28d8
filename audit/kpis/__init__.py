"""KPIs stage: CRM metrics for one period, computed on records that passed the quality gate.

Every KPI is one `@kpi` function in an area module (customers, marketing, sales, support),
registered in `KPIS`. The built-in areas are imported below in an explicit list; the README
catalogue and the contract test iterate the same registry.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Mapping

import pandas as pd

from audit.config import KpiConfig
from audit.kpis import customers, marketing, sales, support  # noqa: F401  (registers KPIs)
from audit.kpis.breakdowns import BREAKDOWN_READS, compute_breakdowns
from audit.kpis.catalogue import KPIS, KpiSpec, KpiValue, catalogue_markdown, kpi
from audit.kpis.impact import ISSUE_READS, clean_records, impact_table, kpi_impact
from audit.kpis.inputs import MONEY_COLUMNS, Frames
from audit.kpis.money import MoneyRules
from audit.kpis.period import KpiPeriod, midnight, parse_period, with_hours
from audit.model import Issues, Matches, Records

KPI_COLUMNS = [
    "kpi_id",
    "title",
    "area",
    "period",
    "value",
    "unit",
    "n",
    "variant",
    "definition",
    "status",
    "note",
]

__all__ = [
    "ISSUE_READS",
    "KPIS",
    "KPI_COLUMNS",
    "KpiPeriod",
    "KpiSpec",
    "KpiValue",
    "catalogue_markdown",
    "clean_records",
    "compute_breakdowns",
    "compute_kpis",
    "kpi",
    "kpi_columns",
    "kpi_impact",
    "kpi_needs",
    "kpi_stage",
    "parse_period",
    "selected",
]


def selected(cfg: KpiConfig) -> list[KpiSpec]:
    """The KPIs the config asks for (unknown ids are a ConfigError with a suggestion)."""
    names = KPIS.names() if cfg.include == "all" else list(dict.fromkeys(cfg.include))
    return [KPIS.get(n) for n in names]


def kpi_needs(cfg: KpiConfig) -> dict[str, list[str]]:
    """KPI id -> input fields: 'entity.field' must be filled, 'entity.field?' is read if present.

    The gate withholds a KPI whose inputs fail thresholds.kpi_inputs: completeness and validity
    for required fields, validity only for optional ones (a canceled_at that is empty for every
    active subscription is not missing data).
    """
    return {s.kpi_id: [*s.needs, *(f"{u}?" for u in s.uses)] for s in selected(cfg)}


def kpi_columns(cfg: KpiConfig) -> dict[str, frozenset[str]]:
    """Entity -> the columns the selected KPIs and the breakdowns read (their declared needs,
    uses and reads; with an amount, its currency and refunds): all that the KPIs' typed views
    hold, and all that the cleaned contacts keep."""
    fields = [f.rstrip("?") for s in selected(cfg) for f in s.columns]
    out: dict[str, set[str]] = {}
    for f in (*fields, *BREAKDOWN_READS):
        entity, _, col = f.partition(".")
        out.setdefault(entity, set()).add(col)
    for cols in out.values():
        if "amount" in cols:
            cols.update(MONEY_COLUMNS)
    return {e: frozenset(c) for e, c in out.items()}


def _missing(spec: KpiSpec, frames: Frames) -> str | None:
    empty = [e for e in spec.entities if not frames.has(e)]
    if not empty or (spec.needs_any and len(empty) < len(spec.entities)):
        return None
    return f"no {', '.join(empty)} records"


def _join(*parts: str) -> str:
    return "; ".join(p for p in parts if p)


def _money(spec: KpiSpec, frames: Frames, rules: MoneyRules) -> tuple[str, str]:
    """(why the KPI's amounts cannot be summed, note on how they were): one currency per sum."""
    problems, notes = [], []
    for entity in sorted(
        {f.split(".")[0] for f in (*spec.needs, *spec.uses) if f.endswith(".amount")}
    ):
        if not frames.has(entity):
            continue
        m = frames.mix(entity)
        problems.append(m.problem(entity, rules))
        notes.append(m.note(entity, rules))
    return _join(*problems), _join(*notes)


def kpi_stage(
    records: Records,
    issues: Issues,
    matches: Matches,
    cfg: KpiConfig,
    *,
    as_of: dt.date,
    passed: bool,
    withheld: Mapping[str, str] | None = None,
) -> tuple[pd.DataFrame | None, dict[str, object]]:
    """The KPI stage of a run: (KPIs when the gate passed, extras: impact, clean_stats and,
    when it passed, breakdowns).

    KPIs run on the cleaned view (trusted duplicates merged, bad emails left out); the impact
    table compares it with the records as read, whether or not the gate passed. Each view is
    typed once and each KPI computed once on it: the cleaned table serves both the impact
    table and the run's KPIs, the breakdowns reuse its typed frames, and the raw view borrows
    the frames cleaning left as they were. The cleaned view is let go before the raw one is
    built (only the typed frames the two share are kept), so the two are never held together.
    """
    clean, stats = clean_records(records, issues, matches, columns=kpi_columns(cfg))
    n_clean = len(clean.get("contacts", pd.DataFrame()))
    clean_frames = kpi_frames(clean, cfg)
    clean_rows = _kpi_rows(clean_frames, cfg, as_of=as_of)
    clean_table = _frame(clean_rows)
    breakdowns = compute_breakdowns(clean, cfg, as_of=as_of, like=clean_frames) if passed else None
    shared = clean_frames.sharing(records)
    del clean, clean_frames
    # a KPI that reads only entities cleaning left as they were (the same frame objects, by
    # its declared columns) has the same row on both views: computed once
    same = set(shared.entities)
    known = {
        spec.kpi_id: row
        for spec, row in zip(selected(cfg), clean_rows, strict=True)
        if {f.split(".", 1)[0] for f in spec.columns} <= same
    }
    raw_rows = _kpi_rows(kpi_frames(records, cfg, like=shared), cfg, as_of=as_of, known=known)
    raw_table = _frame(raw_rows)
    del shared
    extras: dict[str, object] = {
        "impact": impact_table(
            raw_table,
            clean_table,
            cfg,
            n_raw=len(records.get("contacts", pd.DataFrame())),
            n_clean=n_clean,
            stats=stats,
        ),
        "clean_stats": stats,
    }
    if breakdowns is None:
        return None, extras
    extras["breakdowns"] = breakdowns
    return withhold(clean_table, withheld or {}), extras


def compute_kpis(
    records: Records,
    cfg: KpiConfig,
    *,
    as_of: dt.date,
    withheld: Mapping[str, str] | None = None,
) -> pd.DataFrame:
    """One row per selected KPI: value with its unit, denominator size, variant and status.

    Status is `ok`, `withheld` (the gate found its inputs unfit; the note says why),
    `no_data` (nothing to measure: no records, or an empty denominator) or `error` (the KPI
    function failed: a bug, reported in the note instead of stopping the other KPIs).

    Example:
        kpis = compute_kpis(records, cfg.kpis, as_of=dt.date(2026, 4, 2))
    """
    return withhold(kpi_table(kpi_frames(records, cfg), cfg, as_of=as_of), withheld or {})


def kpi_frames(records: Records, cfg: KpiConfig, *, like: Frames | None = None) -> Frames:
    """The typed view of `records` that KPIs read (the columns they declare), with the config's
    money rules; `like` lends the typed frames of entities the two views share (see Frames)."""
    money = MoneyRules(cfg.currency, dict(cfg.currency_rates))
    return Frames(records, money=money, like=like, columns=kpi_columns(cfg))


def kpi_table(frames: Frames, cfg: KpiConfig, *, as_of: dt.date) -> pd.DataFrame:
    """compute_kpis on a typed view, every selected KPI computed (nothing withheld)."""
    return _frame(_kpi_rows(frames, cfg, as_of=as_of))


def _kpi_rows(
    frames: Frames,
    cfg: KpiConfig,
    *,
    as_of: dt.date,
    known: Mapping[str, dict[str, object]] | None = None,
) -> list[dict[str, object]]:
    """kpi_table's rows, in the selected order; `known`: rows already computed (by KPI id) on
    another view that provably gives the same."""
    period = with_hours(parse_period(cfg.period, as_of=as_of, tz=cfg.timezone), cfg.business_hours)
    rules = frames.money or MoneyRules()
    partial = (
        f"the period is not over on {as_of.isoformat()}: partial"
        if period.end > midnight(as_of + dt.timedelta(days=1), period.tz)
        else ""
    )
    rows: list[dict[str, object]] = []
    for spec in selected(cfg):
        if known and spec.kpi_id in known:
            rows.append(dict(known[spec.kpi_id]))
            continue
        row = _blank(spec, period)
        missing = _missing(spec, frames)
        money_problem, money_note = ("", "") if missing else _money(spec, frames, rules)
        if missing:
            row.update(status="no_data", note=missing)
        elif money_problem:
            row.update(status="withheld", note=money_problem)
        else:
            try:
                got = spec.fn(frames, period, cfg.params.get(spec.kpi_id, {}))
            except Exception as e:  # one broken KPI must not hide the others (a bug: report it)
                row.update(status="error", note=f"KPI failed: {type(e).__name__}: {e}")
                rows.append(row)
                continue
            row.update(variant=got.variant, note=_join(got.note, money_note))
            if got.n is not None:
                row["n"] = int(got.n)
            if got.value is None or not math.isfinite(got.value):
                row["status"] = "no_data"
                row["note"] = got.note or "empty denominator"
            else:
                row["value"] = float(got.value)
        if partial and row["status"] == "ok":
            row["note"] = _join(str(row["note"] or ""), partial)
        rows.append(row)
    return rows


def withhold(table: pd.DataFrame, withheld: Mapping[str, str]) -> pd.DataFrame:
    """The KPI table with the KPIs the gate withheld blanked: status `withheld`, the gate's
    reason as the note. A KPI is computed once and withheld afterwards, so the impact table
    and the run's KPIs share one computation."""
    hit = table["kpi_id"].isin(list(withheld))
    if not hit.any():
        return table
    out = table.copy()
    out.loc[hit, "value"] = math.nan
    out.loc[hit, "n"] = pd.NA
    out.loc[hit, "variant"] = ""
    out.loc[hit, "status"] = "withheld"
    out.loc[hit, "note"] = out.loc[hit, "kpi_id"].map(dict(withheld))
    return out


def _blank(spec: KpiSpec, period: KpiPeriod) -> dict[str, object]:
    return {
        "kpi_id": spec.kpi_id,
        "title": spec.title,
        "area": spec.area,
        "period": period.label,
        "value": math.nan,
        "unit": spec.unit,
        "n": pd.NA,
        "variant": "",
        "definition": spec.definition,
        "status": "ok",
        "note": "",
    }


def _frame(rows: list[dict[str, object]]) -> pd.DataFrame:
    out = pd.DataFrame(rows, columns=KPI_COLUMNS)
    out["value"] = out["value"].astype("float64")
    out["n"] = out["n"].astype("Int64")
    return out
