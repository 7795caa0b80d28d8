"""The vocabulary every stage speaks: canonical entities, their columns, and the Issues table.

Readers map vendor headers onto these names; normalize types them; rules, matching, scoring and
KPIs refer to them. A column that is not here has no canonical home and travels in `extra`
(a JSON object per row), so nothing read is ever dropped.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum

import numpy as np
import pandas as pd


class Severity(StrEnum):
    ERROR = "error"  # counts against the gate
    WARNING = "warning"
    INFO = "info"


class Dimension(StrEnum):
    COMPLETENESS = "completeness"
    VALIDITY = "validity"
    UNIQUENESS = "uniqueness"
    FRESHNESS = "freshness"
    CONSISTENCY = "consistency"
    INTEGRITY = "integrity"


class Band(StrEnum):
    """Decision band of a candidate duplicate pair."""

    AUTO = "auto"
    REVIEW = "review"
    NO = "no"


# kinds of column value after normalize
STR, DATETIME, FLOAT, BOOL, INT = "str", "datetime", "float", "bool", "int"


@dataclass(frozen=True)
class Column:
    name: str
    kind: str = STR
    doc: str = ""
    derived: bool = False  # filled by normalize, never mapped from a source


PROVENANCE: tuple[Column, ...] = (
    Column("record_id", doc="stable id: '<source>:<row or key>'"),
    Column("source", doc="source name from the config"),
    Column("source_file", doc="file the row came from (relative to the config)"),
    Column("source_row", INT, "1-based data row, line or message number in that file"),
    Column("extra", doc="JSON object of the columns with no canonical home"),
)

ENTITIES: dict[str, tuple[Column, ...]] = {
    "contacts": (
        Column("external_id", doc="the id the source system gave the record"),
        Column("full_name", doc="display name as written (family name first for CJK)"),
        Column("first_name"),
        Column("last_name"),
        Column("email"),
        Column("email_status", doc="source's own status: subscribed, cleaned, bounced, ..."),
        Column("email_bounce", doc="source's own bounce record: hard or soft (from its reason)"),
        Column("email_bounce_reason", doc="the source's bounce field and its words, as evidence"),
        Column("email_opt_out", BOOL, "opted out, unsubscribed or complained: may not be mailed"),
        Column("is_deleted", BOOL, "deleted or archived in the source: not a customer any more"),
        Column("phone"),
        Column("mobile"),
        Column("company"),
        Column("job_title"),
        Column("address"),
        Column("city"),
        Column("region"),
        Column("postal_code"),
        Column("country"),
        Column("owner", doc="record owner / sales rep"),
        Column("lead_source"),
        Column("lifecycle_stage"),
        Column("created_at", DATETIME),
        Column("updated_at", DATETIME),
        Column("last_activity_at", DATETIME, "last contact of any kind"),
        Column(
            "email_key",
            doc="matching key: lower-case, Gmail dots/+tags folded",
            derived=True,
        ),
        Column("email_domain", derived=True),
        Column("phone_e164", doc="phone (or mobile) in E.164", derived=True),
        Column("phone_ext", doc="extension of that number, if any", derived=True),
        Column("phone_type", doc="mobile, fixed, fixed_or_mobile, toll_free, voip", derived=True),
        Column(
            "phone_region",
            doc="region a number without +country was read in (ISO alpha-2)",
            derived=True,
        ),
        Column(
            "phone_region_from",
            doc="why that region: sources[].phone_region, country, a vendor country column,"
            " source evidence, normalize.default_region, +country code",
            derived=True,
        ),
        Column("name_key", doc="folded name for matching", derived=True),
        Column(
            "name_latn",
            doc="romanized reading of a Hangul, kana or hanzi name, per language, family first",
            derived=True,
        ),
        Column("company_key", doc="company without legal form, folded", derived=True),
        Column("country_code", doc="ISO 3166-1 alpha-2", derived=True),
    ),
    "companies": (
        Column("external_id"),
        Column("name"),
        Column("domain"),
        Column("phone"),
        Column("country"),
        Column("city"),
        Column("industry"),
        Column("employees", FLOAT),
        Column("owner"),
        Column("created_at", DATETIME),
        Column("company_key", derived=True),
        Column("country_code", derived=True),
    ),
    "deals": (
        Column("external_id"),
        Column("name"),
        Column("contact_id", doc="external id of the contact the deal belongs to"),
        Column("contact_email"),
        Column("company"),
        Column("pipeline"),
        Column("stage"),
        Column("status", doc="outcome as the CRM states it: open, won or lost"),
        Column("amount", FLOAT),
        Column("currency"),
        Column("probability", FLOAT, "win probability 0..1"),
        Column("forecast_category"),
        Column("created_at", DATETIME),
        Column("closed_at", DATETIME),
        Column("is_closed", BOOL),
        Column("is_won", BOOL),
        Column("lost_reason"),
        Column("lead_source"),
        Column("owner"),
    ),
    "deal_stages": (
        Column("deal_id", doc="external id of the deal"),
        Column("stage"),
        Column("entered_at", DATETIME),
        Column("exited_at", DATETIME),
    ),
    "subscriptions": (
        Column("external_id"),
        Column("customer_id"),
        Column("customer_email"),
        Column("plan"),
        Column("status"),
        Column("amount", FLOAT, "price per interval"),
        Column("currency"),
        Column("interval", doc="month, year, ..."),
        Column("started_at", DATETIME),
        Column("trial_end", DATETIME, "end of the free trial (paid service starts here)"),
        Column("current_period_start", DATETIME),
        Column("current_period_end", DATETIME),
        Column("canceled_at", DATETIME),
        Column("ended_at", DATETIME),
        Column("renewed_at", DATETIME, "last renewal (else derived from current_period_start)"),
    ),
    "orders": (
        Column("external_id"),
        Column("customer_id"),
        Column("customer_email"),
        Column("product"),
        Column("category", doc="product category or tier, for upsell/cross-sell"),
        Column("amount", FLOAT),
        Column("amount_refunded", FLOAT, "part of the amount paid back (refunds)"),
        Column("currency"),
        Column("status", doc="payment status: paid, failed, refunded, pending, ..."),
        Column("captured", BOOL, "false: the payment was only authorized, never collected"),
        Column("ordered_at", DATETIME),
    ),
    "tickets": (
        Column("external_id"),
        Column("requester_id"),
        Column("requester_email"),
        Column("subject"),
        Column("status"),
        Column("priority"),
        Column("assignee"),
        Column("created_at", DATETIME),
        Column("first_reply_at", DATETIME),
        Column("solved_at", DATETIME),
        Column("first_solved_at", DATETIME),
        Column("sla_hours", FLOAT, "resolution target in hours"),
        Column("reopens", FLOAT),
    ),
    "surveys": (
        Column("external_id"),
        Column("respondent_id"),
        Column("respondent_email"),
        Column("survey_type", doc="nps, csat or ces"),
        Column("score", FLOAT),
        Column("scale_min", FLOAT),
        Column("scale_max", FLOAT),
        Column("ticket_id"),
        Column("answered_at", DATETIME),
    ),
    "spend": (
        Column("category", doc="sales, marketing, retention, ..."),
        Column("amount", FLOAT),
        Column("currency"),
        Column("spent_on", DATETIME),
    ),
    "quotas": (
        Column("owner"),
        Column("period_start", DATETIME),
        Column("period_end", DATETIME),
        Column("amount", FLOAT),
    ),
    "activities": (
        Column("external_id"),
        Column("contact_email"),
        Column("contact_id"),
        Column("deal_id"),
        Column("type", doc="email, call, meeting, task, ..."),
        Column("direction", doc="in or out"),
        Column("subject"),
        Column("owner"),
        Column("occurred_at", DATETIME),
    ),
    "email_events": (
        Column("address"),
        Column("event", doc="bounce, sent, received, subscribe, unsubscribe, complaint"),
        Column("classification", doc="hard or soft for bounces"),
        Column("status", doc="SMTP/DSN status code, e.g. 5.1.1"),
        Column("reason"),
        Column("message_index", INT),
        Column("occurred_at", DATETIME),
    ),
}

ISSUES: tuple[Column, ...] = (
    Column("record_id", doc="the record the finding is about (empty for dataset-level)"),
    Column("entity", doc="contacts, deals, ..."),
    Column("field", doc="canonical column, or empty for a whole-record finding"),
    Column(
        "rule_id",
        doc="stable id '<entity>.<field>.<check>' or '<stage>.<thing>.<what>'",
    ),
    Column(
        "dimension",
        doc="completeness, validity, uniqueness, freshness, consistency, integrity",
    ),
    Column("severity", doc="error, warning or info"),
    Column("message", doc="what is wrong, in one sentence (English; message_<language> beside it)"),
    Column("value", doc="the offending value as read"),
    Column(
        "suggestion", doc="the fix we propose, if any (English; suggestion_<language> beside it)"
    ),
    Column("evidence", doc="why we think so (bounce date and reason, matched record, ...)"),
)
ISSUE_COLUMNS: list[str] = [c.name for c in ISSUES]


def columns(entity: str) -> list[str]:
    """Canonical column names of an entity, provenance first."""
    return [c.name for c in PROVENANCE] + [c.name for c in ENTITIES[entity]]


def content_columns(entity: str) -> list[str]:
    """The columns that say what a record is (canonical, read from the source): two rows of
    one source equal on all of them are the same record exported twice. Provenance, `extra`
    and derived columns are left out.
    """
    return [c.name for c in ENTITIES[entity] if not c.derived]


def column_kinds(entity: str) -> dict[str, str]:
    return {c.name: c.kind for c in (*PROVENANCE, *ENTITIES[entity])}


def mappable(entity: str) -> set[str]:
    """Columns a source may map onto (not derived, not provenance)."""
    return {c.name for c in ENTITIES[entity] if not c.derived}


def empty(entity: str) -> pd.DataFrame:
    """An empty frame with every canonical column, as text (object) columns."""
    return pd.DataFrame({c: pd.Series(dtype="object") for c in columns(entity)})


# Provenance text held as Arrow-backed text (pandas `str`) from `sources` on, and stored in
# records/*.parquet as object columns of text or None, as they always were.
ARROW_PROVENANCE = ("record_id", "extra")


def stored_provenance(frame: pd.DataFrame) -> pd.DataFrame:
    """`frame` with ARROW_PROVENANCE as object columns (text or None), for records/*.parquet.

    In memory these columns are Arrow text: a Python string per id costs about 80 bytes where
    Arrow keeps the bytes and an offset. The files keep the column type and pandas metadata
    readers of earlier runs know (a few columns, one entity at a time, while it is written).
    """
    cols = [c for c in ARROW_PROVENANCE if c in frame.columns and frame[c].dtype != object]
    if not cols:
        return frame
    return frame.assign(
        **{
            c: pd.Series(
                frame[c].to_numpy(dtype=object, na_value=None), index=frame.index, dtype=object
            )
            for c in cols
        }
    )


def empty_issues() -> pd.DataFrame:
    return pd.DataFrame({c: pd.Series(dtype="object") for c in ISSUE_COLUMNS})


def conform(frame: pd.DataFrame, entity: str) -> pd.DataFrame:
    """Return `frame` with every canonical column present (missing ones empty), canonical first."""
    cols = columns(entity)
    out = frame.copy()
    for c in cols:
        if c not in out.columns:
            out[c] = pd.Series([None] * len(out), index=out.index, dtype="object")
    rest = [c for c in out.columns if c not in cols]
    return out[cols + rest]


ISSUE_ORDER: list[str] = ["record_id", "rule_id", "field", "message"]
# Issue columns whose values repeat from row to row (a rule's id, severity and wording): kept as
# one shared string per distinct value. record_id is left alone: it is nearly unique per row.
_REPEATING = frozenset(ISSUE_COLUMNS) - {"record_id"}


def conform_issues(frame: pd.DataFrame) -> pd.DataFrame:
    """Issues with exactly the canonical columns, as text, in a stable order.

    The Issues table is the run's largest frame after the records (a row per finding, about a
    million at 1M contacts), so it is built once in its final order rather than copied per step,
    and a value that repeats is one shared string rather than a string per row: each stage
    hands its findings over as its own strings (Arrow-backed text becomes a new Python string
    per cell), which at scale cost hundreds of MB for a few thousand distinct values. Columns stay
    object with None for a missing value, as every reader of the table expects.
    """
    cols = _issue_arrays(frame, share=True)
    keys = pd.DataFrame({k: pd.Series(cols[k], dtype=object, copy=False) for k in ISSUE_ORDER})
    order = keys.sort_values(ISSUE_ORDER, na_position="first", kind="stable").index.to_numpy()
    return pd.DataFrame(
        {c: pd.Series(a[order], dtype=object, copy=False) for c, a in cols.items()}, copy=False
    )


def issues_as_text(
    pieces: list[pd.DataFrame], columns: Sequence[str] = ISSUE_COLUMNS
) -> pd.DataFrame:
    """Findings with the canonical `columns` as text (object, None where missing), in the
    order the pieces give them: `conform_issues` without its sort and shared strings, for a
    reader of which records have which findings that does not need the table's order (and
    names the few columns it reads)."""
    arrays = [_issue_arrays(frame, share=False, columns=columns) for frame in pieces]
    return pd.DataFrame(
        {
            c: pd.Series(
                np.concatenate([a[c] for a in arrays]) if arrays else [], dtype=object, copy=False
            )
            for c in columns
        },
        copy=False,
    )


def _issue_arrays(
    frame: pd.DataFrame, *, share: bool, columns: Sequence[str] = ISSUE_COLUMNS
) -> dict[str, np.ndarray]:
    """Each of the issue `columns` of `frame` as text values (`_text_values`; with `share`,
    the repeating columns one string per distinct value), None-filled where the frame has
    none."""
    return {
        c: _text_values(frame[c], share=share and c in _REPEATING)
        if c in frame.columns
        else np.full(len(frame), None, dtype=object)
        for c in columns
    }


def _text_values(col: pd.Series, *, share: bool) -> np.ndarray:
    """A column's values as an object array, None where missing; with `share`, one string object
    per distinct value (only when every value is a string: factorizing mixed values would fold
    1, 1.0 and True into one)."""
    values = col.to_numpy(dtype=object, na_value=None)
    if share and len(values) and pd.api.types.infer_dtype(values, skipna=True) == "string":
        codes, uniques = pd.factorize(values, use_na_sentinel=True)
        shared = np.empty(len(uniques) + 1, dtype=object)  # code -1 (missing) takes the last
        shared[:-1] = uniques
        return shared[codes]
    return values
