"""The KPI registry: one `@kpi` declaration per metric, the single place KPIs are listed.

A declaration carries what the gate and the README need without running anything: the fields a
KPI must have filled (`needs`), the fields it reads when present (`uses`, only their validity is
gated), the other fields it reads (`reads`: not gated, but the only columns besides these the
KPIs' typed view holds, see `columns`), its unit and its formula in words.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from audit.kpis.inputs import Frames
from audit.kpis.period import KpiPeriod
from audit.registry import Registry

UNITS = ("ratio", "count", "currency", "days", "hours", "years", "score")


@dataclass(frozen=True)
class KpiValue:
    """What a KPI function returns; `value=None` means there was nothing to measure."""

    value: float | None
    n: int | None = None  # size of the denominator population
    note: str = ""
    variant: str = ""


KpiFn = Callable[[Frames, KpiPeriod, Mapping[str, Any]], KpiValue]

# What a KPI parameter may hold: a tuple of allowed words, or one of these value kinds.
NUMBER, WORDS, TIMEZONE, SHARE = "number", "list of words", "time zone", "share 0..1"
ParamSpec = tuple[str, ...] | str


@dataclass(frozen=True)
class KpiSpec:
    kpi_id: str
    title: str
    unit: str
    area: str
    definition: str
    needs: tuple[str, ...]
    uses: tuple[str, ...]
    fn: KpiFn = field(repr=False)
    needs_any: bool = False  # True: data in any one needed entity is enough (alternatives)
    params: Mapping[str, ParamSpec] = field(default_factory=dict)
    reads: tuple[str, ...] = ()  # read, never gated: a status, a customer key, a trial's end

    @property
    def columns(self) -> tuple[str, ...]:
        """Every 'entity.field' the KPI reads: needs, uses and reads (a contract test runs each
        KPI on a view holding only these)."""
        return tuple(dict.fromkeys((*self.needs, *self.uses, *self.reads)))

    @property
    def entities(self) -> tuple[str, ...]:
        """Entities whose absence makes the KPI `no_data` (from `needs`, first one first)."""
        out: list[str] = []
        for f in self.needs:
            e = f.split(".", 1)[0]
            if e not in out:
                out.append(e)
        return tuple(out)


KPIS: Registry[KpiSpec] = Registry("KPI")


def kpi(
    kpi_id: str,
    *,
    title: str,
    unit: str,
    definition: str,
    needs: tuple[str, ...],
    uses: tuple[str, ...] = (),
    needs_any: bool = False,
    params: Mapping[str, ParamSpec] | None = None,
    reads: tuple[str, ...] = (),
) -> Callable[[KpiFn], KpiFn]:
    """Register a KPI function under `kpi_id`.

    Example:
        @kpi("active_customers", title="Active customers", unit="count",
             definition="contacts with activity in the period", needs=("contacts.record_id",))
        def active_customers(frames, period, params) -> KpiValue: ...
    """
    if unit not in UNITS:
        raise ValueError(f"KPI {kpi_id}: unit {unit!r} is not one of {UNITS}")

    def deco(fn: KpiFn) -> KpiFn:
        area = fn.__module__.rsplit(".", 1)[-1]
        spec = KpiSpec(
            kpi_id,
            title,
            unit,
            area,
            definition,
            needs,
            uses,
            fn,
            needs_any,
            dict(params or {}),
            tuple(reads),
        )
        KPIS.add(kpi_id, spec)
        return fn

    return deco


def param_problems(spec: KpiSpec, given: Mapping[str, Any]) -> list[str]:
    """What is wrong with `kpis.params.<kpi>` for this KPI: unknown keys, values of the wrong kind.

    Checked before any work, because a misspelled key would otherwise be ignored and the KPI
    computed with its default, which looks like a right answer.
    """
    out: list[str] = []
    for key, value in given.items():
        allowed = spec.params.get(key)
        if allowed is None:
            known = ", ".join(sorted(spec.params)) or "none"
            out.append(f"unknown parameter {key!r} (this KPI takes: {known})")
        elif isinstance(allowed, tuple):
            if str(value) not in allowed:
                out.append(f"{key}: {value!r} is not one of {', '.join(allowed)}")
        elif allowed == NUMBER:
            if isinstance(value, bool) or not isinstance(value, int | float) or value <= 0:
                out.append(f"{key}: give a positive number, not {value!r}")
        elif allowed == SHARE:
            if isinstance(value, bool) or not isinstance(value, int | float) or not 0 < value <= 1:
                out.append(f"{key}: give a share between 0 and 1 (0.7 for 70%), not {value!r}")
        elif allowed == WORDS:
            if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
                out.append(f"{key}: give a list of words, e.g. [marketing, sales]")
        elif allowed == TIMEZONE:
            from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

            try:
                ZoneInfo(str(value))
            except (ZoneInfoNotFoundError, ValueError, OSError):
                out.append(f"{key}: unknown time zone {value!r} (an IANA name such as Asia/Seoul)")
    return out


def format_value(value: float | None, unit: str | None) -> str:
    """A KPI value as people read it, by unit; the one formatter for CLI text and causes."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "n/a"
    if unit == "ratio":
        return f"{value:.1%}"
    if unit == "count":
        return f"{value:,.0f}"
    if unit == "score":
        return f"{value:,.1f}"
    suffix = {"days": " days", "hours": " h", "years": " years"}.get(unit or "", "")
    return f"{value:,.2f}{suffix}"


# What each entity's rows count as, stated once for the catalogue (the rules live in
# audit.kpis.inputs and audit.kpis.money).
COUNTS = {
    "orders": "paid orders: failed, voided, pending, authorized-only and fully refunded left "
    "out; partial refunds netted",
    "subscriptions": "paying subscriptions: trialing and incomplete never; past_due until 30 "
    "days after the unpaid term; paused without MRR; cancellations at the prepaid term's end",
    "deals": "outcome from is_won/is_closed, else status (Won/Lost/Open), else the stage name",
    "tickets": "durations that end before they start, or lack an end, left out",
    "surveys": "latest answer per respondent; scale from the data (a 0 means 0-10)",
}


def catalogue_markdown() -> str:
    """The KPI catalogue for the README (cog): id, area, unit, definition, the time and money
    rules that apply, what its records count as, and its input fields."""
    lines = [
        "| KPI | area | unit | definition | time | money | counts | needs (filled) "
        "| reads if present |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for name, spec in KPIS.items():
        fields = (*spec.needs, *spec.uses)
        needs = ", ".join(f"`{f}`" for f in spec.needs)
        uses = ", ".join(f"`{f}`" for f in spec.uses)
        definition = spec.definition.replace("|", "\\|")
        time = "period in `kpis.timezone`"
        money = (
            "one currency per sum (`kpis.currency_rates` or withheld)"
            if any(f.endswith(".amount") for f in fields)
            else "—"
        )
        entities = sorted({f.split(".")[0] for f in fields} & COUNTS.keys())
        counts = "; ".join(f"{e}: {COUNTS[e]}" for e in entities) or "—"
        head = f"| `{name}` | {spec.area} | {spec.unit} | {spec.title}: {definition}"
        lines.append(f"{head} | {time} | {money} | {counts} | {needs} | {uses} |")
    return "\n".join(lines)
