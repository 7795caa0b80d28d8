"""Normalize stage: type every column by its schema kind and fill the derived matching columns.

Rows are never dropped and raw values are never lost: a value that cannot be read keeps its
text column as written (or becomes NaT/NaN in a typed column) and is reported as a
`normalize.<thing>.<what>` issue carrying the raw value. Every per-value function runs once per
distinct value, so a million rows with the usual repetition cost seconds.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np
import pandas as pd

from audit import schema
from audit.config import NormalizeConfig, SourceConfig
from audit.model import Issues, Records

from .amounts import currencies, parse_bools, parse_number, parse_numbers
from .columns import as_text, broadcast, map_unique, start_map
from .companies import company_key
from .countries import country_code, timezone_for_country
from .dates import parse_dates, parse_one
from .emails import clean_email, email_columns, email_key
from .names import clean_text, clean_text_column, name_case, name_columns, name_key
from .phones import PROBLEMS, parse_phone, parse_phone_checked, region_for_country

__all__ = [
    "clean_email",
    "clean_text",
    "company_key",
    "country_code",
    "email_key",
    "name_case",
    "name_key",
    "normalize",
    "parse_dates",
    "parse_number",
    "parse_one",
    "parse_phone",
]

# Columns that hold an email address in each entity (cleaned like contacts.email).
EMAIL_COLUMNS = {
    "contacts": ("email",),
    "deals": ("contact_email",),
    "subscriptions": ("customer_email",),
    "orders": ("customer_email",),
    "tickets": ("requester_email",),
    "surveys": ("respondent_email",),
    "activities": ("contact_email",),
    "email_events": ("address",),
}
_SKIP = {"record_id", "source", "source_file", "extra"}
# Text columns the phone parse reads (the record's country gives the default region).
_PHONE_INPUTS = ("country", "phone", "mobile")


def normalize(
    records: Records,
    cfg: NormalizeConfig,
    sources: Sequence[SourceConfig] = (),
    *,
    calendar_tz: str | None = None,
) -> tuple[Records, Issues]:
    """Typed, cleaned records plus the values that could not be normalized (as issues).

    `calendar_tz` is the business's zone (kpis.timezone): a date without a time ("2026-01-01")
    is a calendar day, placed at midnight there so that it never changes day in a report.
    """
    by_source = {s.name: s for s in sources}
    PROBLEMS.clear()
    out: Records = {}
    found: list[pd.DataFrame] = []
    for entity in sorted(records):
        frame, issues = _entity(entity, records[entity], cfg, by_source, calendar_tz)
        out[entity] = frame
        found.extend(issues)
    found = [f for f in found if len(f)]
    if not found:
        return out, schema.empty_issues()
    return out, schema.conform_issues(pd.concat(found, ignore_index=True))


def _per_source(frame: pd.DataFrame, by_source: dict[str, SourceConfig], attr: str) -> pd.Series:
    """The source config's `attr` for each row (None where the source does not set it)."""
    if "source" not in frame.columns or not by_source:
        return pd.Series([None] * len(frame), index=frame.index, dtype=object)
    values = {name: getattr(s, attr) for name, s in by_source.items()}
    return frame["source"].astype(object).map(values).astype(object)


def _entity(
    entity: str,
    frame: pd.DataFrame,
    cfg: NormalizeConfig,
    by_source: dict[str, SourceConfig],
    calendar_tz: str | None = None,
) -> tuple[pd.DataFrame, list[pd.DataFrame]]:
    kinds = schema.column_kinds(entity) if entity in schema.ENTITIES else {}
    derived = {c.name for c in schema.ENTITIES.get(entity, ()) if c.derived}
    out = schema.conform(frame, entity) if entity in schema.ENTITIES else frame.copy()
    issues: list[pd.DataFrame] = []
    emails = set(EMAIL_COLUMNS.get(entity, ()))
    text_cols = [
        col
        for col, kind in kinds.items()
        if col not in _SKIP and col not in derived and kind == schema.STR and col not in emails
    ]
    # what phone parsing needs comes first, so the workers start before the other columns
    early = [c for c in text_cols if c in _PHONE_INPUTS]
    for col in early:
        out[col] = clean_text_column(as_text(out[col]))
    if "country" in out.columns and "country_code" in out.columns:
        out["country_code"] = map_unique(out["country"], country_code)
        unknown = out["country"].notna() & out["country_code"].isna()
        issues.append(
            _issues(
                out,
                frame["country"],
                unknown,
                entity,
                "country",
                "normalize.country.unknown",
                "'{value}' is not a country name or ISO code we know.",
                "Use an ISO 3166 code (KR, JP, US) or the English name.",
            )
        )
    if entity == "contacts":
        # phone parsing runs in worker processes while the other columns are normalized here
        finish_phones = _phones(out, frame, cfg, by_source)
    for col in text_cols:
        if col not in early:
            out[col] = clean_text_column(as_text(out[col]))
    for col in sorted(emails):
        cols = email_columns(as_text(out[col]))
        out[col] = cols["email"]
        issues.append(
            _issues(
                out,
                frame[col],
                cols["multiple"],
                entity,
                col,
                "normalize.email.multiple",
                "The field held several addresses; the first one was kept.",
                "Put each address in its own contact or field.",
                severity="info",
            )
        )
        if entity == "contacts" and col == "email":
            out["email_key"], out["email_domain"] = cols["email_key"], cols["email_domain"]
    if entity == "contacts":
        out = name_columns(out)
        out["company_key"] = map_unique(out["company"], company_key)
    if entity == "companies":
        out["company_key"] = map_unique(out["name"], company_key)
    tz = _timezones(out, cfg, by_source)
    for col, kind in kinds.items():
        if col in derived:
            continue
        raw = frame[col] if col in frame.columns else out[col]
        if kind in _TYPED:
            rule_id, message, suggestion = _TYPED[kind]
            if kind == schema.DATETIME:
                out[col], failed = _dates(out[col], tz, calendar_tz)
            elif kind == schema.FLOAT:
                out[col], failed = parse_numbers(out[col])
            else:
                out[col], failed = parse_bools(out[col])
            issues.append(_issues(out, raw, failed, entity, col, rule_id, message, suggestion))
        elif kind == schema.INT:
            nums, _ = parse_numbers(out[col])
            out[col] = nums.round().astype("Int64")
    if "amount" in out.columns and "currency" in out.columns:
        raw_amount = frame["amount"] if "amount" in frame.columns else None
        out["currency"] = currencies(out["currency"], raw_amount)
    if entity == "contacts":
        issues.extend(finish_phones(out))
    for col in derived:
        if col in out.columns and out[col].dtype == object:
            out[col] = out[col].astype("str")
    return out, issues


# kind -> (rule id, message, suggestion) of a value normalize could not type
_TYPED: dict[str, tuple[str, str, str]] = {
    schema.DATETIME: (
        "normalize.date.unparseable",
        "'{value}' is not a date we can read.",
        "Write dates as YYYY-MM-DD (or YYYY-MM-DD HH:MM).",
    ),
    schema.FLOAT: (
        "normalize.number.unparseable",
        "'{value}' is not a number.",
        "Write numbers with digits only (1234.50).",
    ),
    schema.BOOL: (
        "normalize.bool.unparseable",
        "'{value}' is not a yes/no value.",
        "Use true/false or yes/no.",
    ),
}


def _timezones(
    frame: pd.DataFrame, cfg: NormalizeConfig, by_source: dict[str, SourceConfig]
) -> pd.Series:
    tz = _per_source(frame, by_source, "timezone")
    if "country_code" in frame.columns and tz.isna().any():
        from_country = map_unique(frame["country_code"], timezone_for_country, dtype=None)
        tz = tz.where(tz.notna(), from_country)
    return tz.where(tz.notna(), cfg.timezone).astype(object)


def _dates(
    series: pd.Series, tz: pd.Series, calendar_tz: str | None = None
) -> tuple[pd.Series, pd.Series]:
    zones = pd.unique(tz.to_numpy())
    if len(zones) == 1:
        return parse_dates(series, str(zones[0]), date_tz=calendar_tz)
    ns = np.full(len(series), np.iinfo(np.int64).min, dtype=np.int64)
    failed = np.zeros(len(series), dtype=bool)
    for zone in sorted(str(z) for z in zones):
        rows = (tz == zone).to_numpy()
        o, f = parse_dates(series[rows], zone, date_tz=calendar_tz)
        ns[rows] = o.array.asi8  # UTC nanoseconds: no per-row Timestamp objects
        failed[rows] = f.to_numpy()
    out = pd.Series(pd.DatetimeIndex(ns.view("M8[ns]")).tz_localize("UTC"), index=series.index)
    return out.astype("datetime64[ns, UTC]"), pd.Series(failed, index=series.index)


def _phones(
    out: pd.DataFrame,
    raw: pd.DataFrame,
    cfg: NormalizeConfig,
    by_source: dict[str, SourceConfig],
) -> Callable[[pd.DataFrame], list[pd.DataFrame]]:
    """phone_e164/phone_ext/phone_type from phone, else mobile; unreadable numbers as issues.

    Starts the parsing and returns the function that waits for it, fills the columns of the
    (same rows') frame it is given and returns the issues.
    """
    region = _per_source(out, by_source, "phone_region")
    from_country = map_unique(out["country_code"], region_for_country, dtype=None)
    region = region.where(region.notna(), from_country).where(
        lambda r: r.notna(), cfg.default_region
    )
    rcodes, rvalues = pd.factorize(region.astype(object))
    rnames = np.asarray([str(r) for r in rvalues], dtype=object)
    plans: dict[str, tuple[np.ndarray, np.ndarray, int, int]] = {}
    items: list[tuple[str, str]] = []
    for col in ("phone", "mobile"):
        values = out[col]
        present = values.notna().to_numpy()
        vcodes, vvalues = pd.factorize(values, use_na_sentinel=True)
        # one parse per distinct (value, region) pair, both columns in one batch
        pair = np.where(vcodes < 0, -1, vcodes.astype(np.int64) * len(rvalues) + rcodes)
        combos, codes = np.unique(pair, return_inverse=True)
        keep = combos >= 0
        picked = combos[keep]
        vtext = np.asarray(vvalues, dtype=object)[picked // len(rvalues)]
        codes = np.where(pair < 0, -1, codes.reshape(-1) - (0 if keep.all() else 1))
        plans[col] = (present, codes, len(items), len(picked))
        items.extend(zip(vtext.tolist(), rnames[picked % len(rvalues)].tolist(), strict=True))
    pending = start_map(parse_phone_checked, items, parallel=True)

    def finish(out: pd.DataFrame) -> list[pd.DataFrame]:
        parsed_all = pending()
        # the validate stage reads these instead of parsing every number again
        PROBLEMS.update({p[0]: p[3] for p in parsed_all if p[0] is not None})
        found: list[pd.DataFrame] = []
        results: dict[str, tuple[pd.Series, pd.Series, pd.Series]] = {}
        for col, (present, codes, start, n) in plans.items():
            parsed = parsed_all[start : start + n]
            e164 = broadcast(codes, [p[0] for p in parsed], out.index)
            ext = broadcast(codes, [p[1] for p in parsed], out.index)
            kind = broadcast(codes, [p[2] for p in parsed], out.index)
            results[col] = (e164, ext, kind)
            bad = pd.Series(present, index=out.index) & e164.isna()
            found.append(
                _issues(
                    out,
                    raw[col] if col in raw.columns else out[col],
                    bad,
                    "contacts",
                    col,
                    "normalize.phone.unparseable",
                    "'{value}' could not be read as a phone number.",
                    "Add the country code (+82 10 ...) or correct the digits.",
                    evidence="default region " + region.astype("str"),
                )
            )
        phone, mobile = results["phone"], results["mobile"]
        use_phone = phone[0].notna()
        out["phone_e164"] = phone[0].where(use_phone, mobile[0])
        out["phone_ext"] = phone[1].where(use_phone, mobile[1])
        out["phone_type"] = phone[2].where(use_phone, mobile[2])
        return found

    return finish


def _issues(
    frame: pd.DataFrame,
    raw: pd.Series,
    mask: pd.Series,
    entity: str,
    field: str,
    rule_id: str,
    message: str,
    suggestion: str | None,
    *,
    severity: str = "warning",
    dimension: str = "validity",
    evidence: pd.Series | None = None,
) -> pd.DataFrame:
    m = mask.fillna(False).to_numpy(dtype=bool)
    if not m.any():
        return schema.empty_issues()
    values = [None if v is None or v is pd.NA or v != v else str(v) for v in raw[m].astype(object)]
    return pd.DataFrame(
        {
            "record_id": frame.loc[m, "record_id"].astype(object).to_numpy(),
            "entity": entity,
            "field": field,
            "rule_id": rule_id,
            "dimension": dimension,
            "severity": severity,
            "message": [message.format(value=v) for v in values],
            "value": values,
            "suggestion": suggestion,
            "evidence": None if evidence is None else evidence[m].to_numpy(),
        }
    )
