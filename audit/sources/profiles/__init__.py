"""Vendor export profiles: one YAML per export, loaded into PROFILES (STYLE 2.6).

A profile says how to recognize an export by its header (`detect`: lists of headers that must
all be present, any list suffices; `none`: headers that must be absent) and how to map it to a
canonical entity (`columns`: canonical column -> header aliases, the first present non-empty
value wins), plus quirks: constant values (`set`), `email_status` derived from a status column
(`status`), the vendor's own bounce, opt-out and deleted fields (`flags`), `strip_apostrophe`
for Shopify-style text markers.

A user adds a profile without code by pointing a source's `profile:` at a YAML file of the same
shape; the built-ins live in this folder and are listed explicitly in BUILTIN.
"""

from __future__ import annotations

import builtins
from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from audit import schema
from audit.errors import ConfigError
from audit.registry import Registry
from audit.sources.decoding import fold_header

HERE = Path(__file__).parent
BUILTIN = (
    "hubspot.contacts",
    "hubspot.companies",
    "hubspot.deals",
    "salesforce.contacts",
    "salesforce.leads",
    "salesforce.opportunities",
    "pipedrive.persons",
    "pipedrive.deals",
    "zoho.contacts",
    "stripe.customers",
    "stripe.payments",
    "stripe.subscriptions",
    "shopify.customers",
    "mailchimp.subscribed",
    "mailchimp.unsubscribed",
    "mailchimp.cleaned",
    "zendesk.tickets",
    "intercom.users",
    "typeform.responses",
    "google_forms.responses",
    "surveymonkey.responses",
    "qualtrics.responses",
    "kintone.customers",
    "google.contacts",
    "outlook.contacts",
)


class StatusRule(BaseModel):
    model_config = ConfigDict(extra="forbid")
    column: list[str]
    values: list[str]
    set: str


class FlagRule(BaseModel):
    """A vendor's own bounce, opt-out or deleted field (see sources/flags.py).

    `when`: the values that set the flag (any case); without it any value that is not empty or
    a "no" (false, 0) does. `hard`: for email_bounce, what the field claims when its words say
    nothing more (a flag or a count); reason wording can still make it soft.
    """

    model_config = ConfigDict(extra="forbid")
    flag: Literal["email_bounce", "email_opt_out", "is_deleted"]
    column: list[str]
    when: list[str] | None = None
    hard: bool = True
    at: list[str] = Field(default_factory=list)  # email_bounce: when it bounced (evidence)


class EventRule(BaseModel):
    """A dated column of a list export that records an email event (opt-in, unsubscribe, ...).

    List tools export their history as columns (Mailchimp OPTIN_TIME, UNSUB_TIME, CLEAN_TIME);
    as `email_events` rows they feed list-growth KPIs and stale-email evidence.
    """

    model_config = ConfigDict(extra="forbid")
    event: str
    at: list[str]
    classification: str | None = None
    reason: str | None = None


class Profile(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str
    vendor: str = ""
    entity: str
    doc: str = ""
    detect: list[list[str]] = Field(min_length=1)
    none: list[str] = Field(default_factory=list)
    columns: dict[str, list[str]]
    set: dict[str, str] = Field(default_factory=dict)
    status: list[StatusRule] = Field(default_factory=list)
    flags: list[FlagRule] = Field(default_factory=list)
    strip_apostrophe: list[str] = Field(default_factory=list)
    # how the export joins several values in one cell (Google CSV: " ::: "): the first is used
    multi_value: str | None = None
    events: list[EventRule] = Field(default_factory=list)

    def matches(self, folded: builtins.set[str]) -> int:
        """Size of the best detect list fully present in the header (0 = no match)."""
        if any(fold_header(h) in folded for h in self.none):
            return 0
        best = 0
        for sig in self.detect:
            if all(fold_header(h) in folded for h in sig):
                best = max(best, len(sig))
        return best


def load_profile(path: Path) -> Profile:
    """Read and check one profile file; errors name the file and the key."""
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8-sig"))
    except OSError as e:
        raise ConfigError(f"{path}: profile cannot be read ({e.strerror}).") from None
    except yaml.YAMLError as e:
        raise ConfigError(f"{path}: profile is not valid YAML ({e}).") from None
    try:
        prof = Profile.model_validate(data)
    except ValidationError as e:
        err = e.errors()[0]
        where = ".".join(str(p) for p in err["loc"])
        raise ConfigError(f"{path}: profile key {where}: {err['msg']}.") from None
    if prof.entity not in schema.ENTITIES:
        raise ConfigError(
            f"{path}: entity {prof.entity!r} is not one of {', '.join(schema.ENTITIES)}."
        )
    allowed = schema.mappable(prof.entity)
    bad = [c for c in [*prof.columns, *prof.set, *prof.strip_apostrophe] if c not in allowed]
    if prof.status and "email_status" not in allowed:
        bad.append("email_status")
    bad += [f.flag for f in prof.flags if f.flag not in allowed]
    if bad:
        raise ConfigError(
            f"{path}: {', '.join(sorted(set(bad)))} is not a column of {prof.entity}; "
            f"use one of {', '.join(sorted(allowed))}."
        )
    return prof


PROFILES: Registry[Profile] = Registry("profile")
for _name in BUILTIN:
    PROFILES.add(_name, load_profile(HERE / f"{_name}.yaml"))
