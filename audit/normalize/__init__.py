"""Normalize stage: type every column by its schema kind and fill the derived matching columns.

Rows are never dropped and raw values are never lost: a value that cannot be read keeps its
text column as written (or becomes NaT/NaN in a typed column) and is reported as a
`normalize.<thing>.<what>` issue carrying the raw value. Every per-value function runs once per
distinct value, so a million rows with the usual repetition cost seconds.
"""

from __future__ import annotations

import functools
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from audit import schema
from audit.columnwise import as_text, broadcast, map_unique, start_map
from audit.config import NormalizeConfig, SourceConfig
from audit.messages import msg
from audit.model import Issues, Records
from audit.phone_validity import PROBLEMS

from .amounts import currencies, parse_bools, parse_number, parse_numbers
from .companies import company_domain, company_key
from .countries import country_code, region_name, timezone_for_country
from .dates import parse_dates, parse_one
from .emails import clean_email, email_columns, email_key
from .names import clean_text, clean_text_column, name_case, name_columns, name_key
from .phones import (
    NOT_VALID,
    SPREADSHEET,
    UNPARSEABLE,
    example_number,
    parse_phone,
    read_phone,
)
from .regions import (
    SAMPLE,
    Evidence,
    Inferred,
    decide_regions,
    guess_region,
    infer_source_regions,
    merge_by_source,
    record_countries,
    source_evidence,
)

__all__ = [
    "PhoneTally",
    "SourceFacts",
    "clean_email",
    "clean_text",
    "company_key",
    "contact_evidence",
    "contact_regions",
    "country_code",
    "email_key",
    "merge_by_source",
    "name_case",
    "name_key",
    "normalize",
    "parse_dates",
    "parse_number",
    "parse_one",
    "parse_phone",
    "phone_summaries",
]

# (entity, column, zone, the texts whose order is inferred) -> day first?
DateOrder = Callable[[str, str, str, list[str]], bool]

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
# The contact columns a source's evidence of its country is read from (`contact_evidence`).
EVIDENCE_COLUMNS = (
    "source",
    "country",
    "phone",
    "mobile",
    "email",
    "extra",
    "full_name",
    "last_name",
    "first_name",
    "address",
    "city",
    "region",
    "company",
)


@dataclass(frozen=True)
class SourceFacts:
    """What normalize decides for a contact source from all of its rows, handed to a call
    that sees only some of them (an engine cutting contacts by rows; DESIGN.md, "Engines").

    `regions`: each source's inferred phone region (`contact_evidence` of every slice, merged,
    then `contact_regions`). `failing`: the sources whose national numbers mostly fail, whose
    row findings of an invalid number give way to one finding for the source
    (`phone_summaries` of every slice's `PhoneTally`, merged). A call given the facts writes
    no source-level finding: the engine writes them once, from the merged tallies.
    """

    regions: Mapping[str, Inferred]
    failing: frozenset[str] = frozenset()


@dataclass
class PhoneTally:
    """One source's numbers read in a source-wide region (phone_region, inferred, default,
    not the record's own country), from some of its rows: what its source-level findings
    read, in a form whose slices add up (`merge`)."""

    total: int = 0  # national numbers read in a source-wide region
    failed: int = 0  # of which not valid there
    values: list[str] = field(default_factory=list)  # the SAMPLE smallest failing ones
    regions: Counter[str] = field(default_factory=Counter)  # where the failing ones were read
    inferred: bool = False  # a number was read in the source's inferred region

    def merge(self, other: PhoneTally) -> PhoneTally:
        return PhoneTally(
            self.total + other.total,
            self.failed + other.failed,
            sorted(set(self.values) | set(other.values))[:SAMPLE],
            self.regions + other.regions,
            self.inferred or other.inferred,
        )


def normalize(
    records: Records,
    cfg: NormalizeConfig,
    sources: Sequence[SourceConfig] = (),
    files: pd.DataFrame | None = None,
    *,
    calendar_tz: str | None = None,
    date_order: DateOrder | None = None,
    facts: SourceFacts | None = None,
    tallies: dict[str, PhoneTally] | None = None,
    release: bool = False,
) -> tuple[Records, Issues]:
    """Typed, cleaned records plus the values that could not be normalized (as issues).

    `files` is the sources stage's per-file table (source, encoding, ...): a file's legacy
    encoding is evidence of its country for phones written without '+country'.
    `calendar_tz` is the business's zone (kpis.timezone): a date without a time ("2026-01-01")
    is a calendar day, placed at midnight there so that it never changes day in a report.
    `date_order(entity, column, zone, texts)` decides a date column's day/month order where
    it is inferred from the column's values (default: from these records' values, which is
    a fact of the whole column: an engine running this per partition decides it there).
    `facts`: the contact sources' facts from all their rows (default: from these records,
    which then hold whole sources); `tallies`, when given, receives these contacts' per-source
    phone tallies, which an engine merges into `SourceFacts.failing` and the findings.
    `release` takes each raw frame out of `records` as soon as its typed frame is built (the
    caller hands the frames over): at 1M contacts the raw text is gigabytes, and held to the
    end it sits under every entity's typing.
    """
    by_source = {s.name: s for s in sources}
    encodings = _encodings(files)
    PROBLEMS.clear()
    out: Records = {}
    found: list[pd.DataFrame] = []
    for entity in sorted(records):
        frame, issues = _entity(
            entity,
            records.pop(entity) if release else records[entity],
            cfg,
            by_source,
            encodings,
            calendar_tz,
            date_order,
            facts=facts,
            tallies=tallies,
        )
        out[entity] = frame
        found.extend(issues)
    found = [f for f in found if len(f)]
    if not found:
        return out, schema.empty_issues()
    return out, schema.conform_issues(pd.concat(found, ignore_index=True))


def _encodings(files: pd.DataFrame | None) -> dict[str, list[str | None]]:
    """source -> its files' encodings (a legacy encoding is evidence of a country)."""
    encodings: dict[str, list[str | None]] = {}
    if files is not None and {"source", "encoding"} <= set(files.columns):
        for src, enc in zip(files["source"], files["encoding"], strict=True):
            encodings.setdefault(str(src), []).append(enc if isinstance(enc, str) else None)
    return encodings


def contact_evidence(
    contacts: pd.DataFrame, sources: Sequence[SourceConfig] = ()
) -> dict[str, Evidence]:
    """An engine's first pass over a slice of the contacts (`EVIDENCE_COLUMNS` suffice):
    each source's evidence of its country in these rows, read as `normalize` reads it. Merge
    the slices' with `merge_by_source`, then decide with `contact_regions`."""
    out = schema.conform(contacts, "contacts")
    _clean_phone_inputs(out, _text_columns("contacts"))
    extra = contacts["extra"] if "extra" in contacts.columns else None
    record, _ = record_countries(out.assign(extra=extra) if extra is not None else out)
    configured = {s.name for s in sources if s.phone_region}
    return source_evidence(out, record, skip=configured)


def contact_regions(
    evidence: Mapping[str, Evidence], cfg: NormalizeConfig, files: pd.DataFrame | None = None
) -> dict[str, Inferred]:
    """Each contact source's inferred phone region from its whole evidence."""
    return decide_regions(evidence, default=cfg.default_region, encodings=_encodings(files))


def _text_columns(entity: str) -> list[str]:
    """The entity's text columns that normalize cleans as text (not emails, not derived)."""
    kinds = schema.column_kinds(entity) if entity in schema.ENTITIES else {}
    derived = {c.name for c in schema.ENTITIES.get(entity, ()) if c.derived}
    emails = set(EMAIL_COLUMNS.get(entity, ()))
    return [
        col
        for col, kind in kinds.items()
        if col not in _SKIP and col not in derived and kind == schema.STR and col not in emails
    ]


def _clean_phone_inputs(out: pd.DataFrame, text_cols: list[str]) -> list[str]:
    """Cleans what phone parsing reads (country, phone, mobile) and fills country_code, in
    place; returns the columns cleaned."""
    early = [c for c in text_cols if c in _PHONE_INPUTS]
    for col in early:
        out[col] = clean_text_column(as_text(out[col]))
    if "country" in out.columns and "country_code" in out.columns:
        out["country_code"] = map_unique(out["country"], country_code)
    return early


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
    encodings: dict[str, list[str | None]],
    calendar_tz: str | None = None,
    date_order: DateOrder | None = None,
    *,
    facts: SourceFacts | None = None,
    tallies: dict[str, PhoneTally] | None = None,
) -> tuple[pd.DataFrame, list[pd.DataFrame]]:
    kinds = schema.column_kinds(entity) if entity in schema.ENTITIES else {}
    derived = {c.name for c in schema.ENTITIES.get(entity, ()) if c.derived}
    out = schema.conform(frame, entity) if entity in schema.ENTITIES else frame.copy()
    issues: list[pd.DataFrame] = []
    emails = set(EMAIL_COLUMNS.get(entity, ()))
    text_cols = _text_columns(entity)
    # what phone parsing needs comes first, so the workers start before the other columns
    early = _clean_phone_inputs(out, text_cols)
    if "country" in out.columns and "country_code" in out.columns:
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
        finish_phones = _phones(out, frame, cfg, by_source, encodings, facts, tallies)
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
        out["domain"] = map_unique(out["domain"], company_domain)
    tz = _timezones(out, cfg, by_source)
    for col, kind in kinds.items():
        if col in derived:
            continue
        raw = frame[col] if col in frame.columns else out[col]
        if kind in _TYPED:
            rule_id, message, suggestion = _TYPED[kind]
            if kind == schema.DATETIME:
                order = None
                if date_order is not None:
                    order = functools.partial(date_order, entity, col)
                out[col], failed = _dates(out[col], tz, calendar_tz, order)
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
    series: pd.Series,
    tz: pd.Series,
    calendar_tz: str | None = None,
    order: Callable[[str, list[str]], bool] | None = None,
) -> tuple[pd.Series, pd.Series]:
    def dayfirst(zone: str) -> Callable[[list[str]], bool] | None:
        return None if order is None else functools.partial(order, zone)

    zones = pd.unique(tz.to_numpy())
    if len(zones) == 1:
        zone = str(zones[0])
        return parse_dates(series, zone, date_tz=calendar_tz, dayfirst=dayfirst(zone))
    ns = np.full(len(series), np.iinfo(np.int64).min, dtype=np.int64)
    failed = np.zeros(len(series), dtype=bool)
    for zone in sorted(str(z) for z in zones):
        rows = (tz == zone).to_numpy()
        o, f = parse_dates(series[rows], zone, date_tz=calendar_tz, dayfirst=dayfirst(zone))
        ns[rows] = o.array.asi8  # UTC nanoseconds: no per-row Timestamp objects
        failed[rows] = f.to_numpy()
    out = pd.Series(pd.DatetimeIndex(ns.view("M8[ns]")).tz_localize("UTC"), index=series.index)
    return out.astype("datetime64[ns, UTC]"), pd.Series(failed, index=series.index)


def _phones(
    out: pd.DataFrame,
    raw: pd.DataFrame,
    cfg: NormalizeConfig,
    by_source: dict[str, SourceConfig],
    encodings: dict[str, list[str | None]],
    facts: SourceFacts | None = None,
    tallies: dict[str, PhoneTally] | None = None,
) -> Callable[[pd.DataFrame], list[pd.DataFrame]]:
    """phone_e164/phone_ext/phone_type/phone_region(_from) from phone, else mobile.

    Only a valid number gets an E.164 value; the others keep their raw text and become
    findings naming the region tried. Starts the parsing and returns the function that waits
    for it, fills the columns of the (same rows') frame it is given and returns the issues.
    """
    explicit = _per_source(out, by_source, "phone_region")
    record, record_why = record_countries(out.assign(extra=raw["extra"]) if "extra" in raw else out)
    if facts is not None:
        inferred = dict(facts.regions)
    else:  # these rows hold whole sources
        settled = {name for name, s in by_source.items() if s.phone_region}
        if "source" in out.columns:  # a source whose every record has a country needs no guess
            lacking = set(out.loc[record.isna(), "source"].astype(str))
            settled |= {str(s) for s in out["source"].dropna().unique()} - lacking
        inferred = infer_source_regions(
            out, record, default=cfg.default_region, skip=settled, encodings=encodings
        )
    sources = out["source"].astype(object) if "source" in out.columns else None
    guessed = (
        sources.map({k: v.region for k, v in inferred.items()}).astype(object)
        if sources is not None
        else pd.Series([None] * len(out), index=out.index, dtype=object)
    )
    chain = _chains(explicit, record, guessed, cfg.default_region)
    rcodes, rvalues = pd.factorize(chain.astype(object))
    rnames = np.asarray([str(r) for r in rvalues], dtype=object)
    plans: dict[str, tuple[np.ndarray, np.ndarray, int, int]] = {}
    items: list[tuple[str, str]] = []
    for col in ("phone", "mobile"):
        values = out[col]
        present = values.notna().to_numpy()
        vcodes, vvalues = pd.factorize(values, use_na_sentinel=True)
        # one parse per distinct (value, region chain) pair, both columns in one batch
        pair = np.where(vcodes < 0, -1, vcodes.astype(np.int64) * len(rvalues) + rcodes)
        combos, codes = np.unique(pair, return_inverse=True)
        keep = combos >= 0
        picked = combos[keep]
        vtext = np.asarray(vvalues, dtype=object)[picked // len(rvalues)]
        codes = np.where(pair < 0, -1, codes.reshape(-1) - (0 if keep.all() else 1))
        plans[col] = (present, codes, len(items), len(picked))
        items.extend(zip(vtext.tolist(), rnames[picked % len(rvalues)].tolist(), strict=True))
    pending = start_map(read_phone, items, parallel=True)

    def why_of(used: pd.Series) -> pd.Series:
        """Where the region each number was read in came from (rows of `used`)."""
        idx = used.index
        why = pd.Series([None] * len(used), index=idx, dtype=object)
        national = used.notna()
        for other, text in (
            (guessed, "source evidence"),
            (record, record_why[idx]),
            (explicit, "sources[].phone_region"),
        ):
            why = why.where(~(national & used.eq(other[idx]).fillna(False)), text)
        return why.where(why.notna() | ~national, "normalize.default_region")

    def finish(out: pd.DataFrame) -> list[pd.DataFrame]:
        read_all = pending()
        # the validate stage reads these instead of parsing every number again
        PROBLEMS.update({r[0]: None for r in read_all if r[0] is not None})
        cols: dict[str, dict[str, pd.Series]] = {}
        for col, (present, codes, start, n) in plans.items():
            reads = read_all[start : start + n]
            got = {
                name: broadcast(codes, [r[i] for r in reads], out.index, dtype=None)
                for i, name in enumerate(("e164", "ext", "type", "region", "verdict", "detail"))
            }
            got["present"] = pd.Series(present, index=out.index)
            # finding texts once per distinct (value, regions) read, spread like the rest
            texts = [
                _finding_text(v, r) for v, r in zip(items[start : start + n], reads, strict=True)
            ]
            for i, name in enumerate(("rule_id", "message", "suggestion")):
                got[name] = broadcast(codes, [t[i] for t in texts], out.index, dtype=None)
            cols[col] = got
        phone, mobile = cols["phone"], cols["mobile"]
        use_phone = phone["e164"].notna()
        for name, key in (("phone_e164", "e164"), ("phone_ext", "ext"), ("phone_type", "type")):
            out[name] = phone[key].where(use_phone, mobile[key])
        used = phone["region"].where(use_phone, mobile["region"]).where(out["phone_e164"].notna())
        out["phone_region"] = used
        out["phone_region_from"] = why_of(used).where(out["phone_e164"].notna())
        out.loc[out["phone_e164"].notna() & used.isna(), "phone_region_from"] = "+country code"
        own = record.notna()
        counted = _phone_tallies(out, cols, own)
        if tallies is not None:
            tallies.update(merge_by_source([tallies, counted]))
        if facts is None:
            summary, failing = phone_summaries(counted, inferred, cfg.default_region)
        else:
            summary, failing = [], facts.failing
        return summary + _phone_findings(out, raw, cols, why_of, failing, own)

    return finish


def _chains(explicit: pd.Series, record: pd.Series, guessed: pd.Series, default: str) -> pd.Series:
    """Per row, the regions to try in order: 'JP', 'KR,JP'; the default only with no evidence.

    The source's inferred region is a guess, so a record with its own country never falls
    back to it; the user's explicit phone_region does fall back to the record's country.
    """
    guessed = guessed.where(record.isna())
    parts = [s.astype(object).where(s.notna(), "").astype(str) for s in (explicit, record, guessed)]
    keys, combos = pd.factorize(parts[0] + "|" + parts[1] + "|" + parts[2])
    chains = []
    for combo in combos:
        seen = list(dict.fromkeys(r for r in str(combo).split("|") if r))
        chains.append(",".join(seen) if seen else default)
    return pd.Series(np.asarray(chains, dtype=object)[keys], index=explicit.index, dtype=object)


# per verdict: rule id, message, suggestion
_PHONE_RULES = {
    UNPARSEABLE: (
        "normalize.phone.unparseable",
        "'{value}' could not be read as a phone number.",
        "Add the country code ({example}) or correct the digits.",
    ),
    NOT_VALID: (
        "normalize.phone.invalid",
        "'{value}' is not a valid {where} number (wrong length or unassigned prefix).",
        "Correct the digits or write the number with its country code ({example}); if this"
        " source's numbers are from another country, set sources[].phone_region.",
    ),
    SPREADSHEET: (
        "normalize.phone.spreadsheet",
        "The spreadsheet turned this phone into a number ('{value}': {where}); it is not used.",
        "Re-export the column as text (format it as Text before saving) and re-run.",
    ),
}


def _finding_text(item: tuple[str, str], read: tuple) -> tuple[str | None, ...]:
    """(rule id, message, suggestion) for one read that is not a valid number (Nones if it is)."""
    verdict, region, detail = read[4], read[3], read[5]
    if verdict is None:
        return None, None, None
    rule_id, message, suggestion = _PHONE_RULES[verdict]
    if isinstance(region, str):
        lead = region
    elif verdict == NOT_VALID:  # written with +country: the country code is the number's own
        lead = detail[detail.find("(") + 1 : -1]
    else:
        lead = None
    where = detail.replace(",", " or ") if verdict == NOT_VALID and region else detail
    return (
        rule_id,
        message.format(value=item[0], where=where),
        suggestion.format(example=example_number(lead)),
    )


def _phone_findings(
    out: pd.DataFrame,
    raw: pd.DataFrame,
    cols: dict[str, dict[str, pd.Series]],
    why_of: Callable[[pd.Series], pd.Series],
    failing: frozenset[str],
    own: pd.Series,
) -> list[pd.DataFrame]:
    """Row findings per phone column, but for the numbers of a failing source (its
    source-level finding replaces them: hundreds of identical row findings help nobody)."""
    hushed = pd.Series(False, index=out.index)
    if failing and "source" in out.columns:
        in_failing = out["source"].astype(object).isin(failing)
        for bad in _failed(cols, own).values():
            hushed |= in_failing & bad
    found: list[pd.DataFrame] = []
    for col, got in cols.items():
        verdict, region = got["verdict"], got["region"]
        mask = got["present"] & verdict.notna() & ~(hushed & verdict.eq(NOT_VALID))
        if not mask.any():
            continue
        m = mask.to_numpy(dtype=bool)
        values = (raw[col] if col in raw.columns else out[col]).astype(object)[m]
        r = region[m]
        evidence = ("region " + r.astype(str) + " from " + why_of(r).astype(str)).where(
            r.notna(),
            verdict[m].map(
                lambda v: (
                    "country code written in the number"
                    if v == NOT_VALID
                    else "not a phone number whatever the region"
                )
            ),
        )
        found.append(
            pd.DataFrame(
                {
                    "record_id": out.loc[m, "record_id"].astype(object).to_numpy(),
                    "entity": "contacts",
                    "field": col,
                    "rule_id": got["rule_id"][m].to_numpy(),
                    "dimension": "validity",
                    "severity": "warning",
                    "message": got["message"][m].to_numpy(),
                    "value": [None if v is None or v != v else str(v) for v in values],
                    "suggestion": got["suggestion"][m].to_numpy(),
                    "evidence": evidence.to_numpy(),
                }
            )
        )
    return found


def _national(got: dict[str, pd.Series]) -> pd.Series:
    """Present values read in a region (not written with '+country', not a spreadsheet number)."""
    return got["present"] & got["region"].notna() & got["verdict"].ne(SPREADSHEET)


def _failed(cols: dict[str, dict[str, pd.Series]], own: pd.Series) -> dict[str, pd.Series]:
    """Per phone column, the rows whose number read in a source-wide region is not valid."""
    return {
        col: _national(got) & ~own & got["verdict"].eq(NOT_VALID).fillna(False)
        for col, got in cols.items()
    }


def _phone_tallies(
    out: pd.DataFrame, cols: dict[str, dict[str, pd.Series]], own: pd.Series
) -> dict[str, PhoneTally]:
    """Each source's `PhoneTally` in these rows.

    Only numbers read in a source-wide region (phone_region, inferred, default) count: a
    record read in its own country keeps its own finding, since no source setting fixes it.
    """
    if "source" not in out.columns:
        return {}
    sources = out["source"].astype(object)
    national = {col: _national(got) & ~own for col, got in cols.items()}
    bad = _failed(cols, own)
    totals = sum(national.values()).groupby(sources).sum()
    fails = sum(bad.values()).groupby(sources).sum()
    from_evidence = out["phone_region_from"].eq("source evidence").fillna(False)
    used = {str(s) for s in sources[from_evidence].unique()}
    tallies = {
        str(name): PhoneTally(int(totals[name]), int(fails[name]), inferred=str(name) in used)
        for name in totals.index
    }
    failing = [
        pd.DataFrame(
            {
                "source": sources[rows].astype(str),
                "value": out.loc[rows, col].astype(str),
                "region": cols[col]["region"][rows].astype(str),
            }
        )
        for col, rows in bad.items()
        if rows.any()
    ]
    if failing:
        for name, part in pd.concat(failing).groupby("source", sort=True):
            tally = tallies[str(name)]
            tally.values = sorted(set(part["value"]))[:SAMPLE]
            tally.regions = Counter(part["region"])
    return tallies


def phone_summaries(
    tallies: Mapping[str, PhoneTally], inferred: Mapping[str, Inferred], default: str
) -> tuple[list[pd.DataFrame], frozenset[str]]:
    """The contact sources' phone findings from their whole tallies, and the failing sources.

    One finding for a source whose national numbers mostly fail in the region used (with the
    region that would make them valid, if one does), and one (info) for a source whose region
    was inferred and used.
    """
    rows: list[dict[str, object]] = []
    failing = sorted(n for n, t in tallies.items() if t.failed >= 5 and t.failed * 2 > t.total)
    for name in failing:
        tally = tallies[name]
        # the region most of them were read in (ties: the first by name, on every engine)
        used = sorted(tally.regions.items(), key=lambda kv: (-kv[1], kv[0]))[0][0]
        hint = [inferred[name].region] if name in inferred else []
        guess, fits = guess_region(tally.values, [r for r in hint if r != used])
        said = {"n": tally.failed, "total": tally.total, "source": name, "region": used}
        if guess and guess != used:
            message = msg(
                "finding.normalize.phone.region", country=region_name(guess), guess=guess, **said
            )
            suggestion = msg("suggestion.normalize.phone.region", guess=guess, source=name)
            evidence = (
                f"{fits} of {len(tally.values)} distinct failing numbers are valid as {guess}"
            )
        else:
            message = msg("phone.region_unguessed", **said)
            suggestion = msg("phone.region_set_country", source=name)
            evidence = "no common region makes most of them valid"
        rows.append(
            {
                "record_id": None,
                "entity": "contacts",
                "field": "phone",
                "rule_id": "normalize.phone.region",
                "dimension": "validity",
                "severity": "warning",
                "message": message,
                "value": None,
                "suggestion": suggestion,
                "evidence": f"source={name}; region {used}; {evidence}",
            }
        )
    for name, inf in sorted(inferred.items()):
        if name not in tallies or not tallies[name].inferred:
            continue
        rows.append(
            {
                "record_id": None,
                "entity": "contacts",
                "field": "phone",
                "rule_id": "normalize.phone.region_inferred",
                "dimension": "validity",
                "severity": "info",
                "message": f"Phones without a country code in source '{name}' were read as"
                f" {inf.region} numbers (no phone_region set).",
                "value": None,
                "suggestion": f"Set phone_region for source '{name}' in sources[] to confirm or"
                " change it.",
                "evidence": f"source={name}; {inf.why}",
            }
        )
    return ([pd.DataFrame(rows)] if rows else []), frozenset(failing)


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
