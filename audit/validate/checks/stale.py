"""Stale and doubtful email addresses, each with its evidence.

Signals, strongest first: a hard bounce in an inbox export (date, status and reason from the
bounce table), the source app's own status (Mailchimp cleaned, Salesforce IsEmailBounced,
HubSpot hard bounce, Pipedrive Bounced), repeated soft bounces over a period (one soft bounce is
a full mailbox, not a dead one), no activity for longer than the staleness window, and the
address itself: disposable domain, role mailbox, or a domain that is a typo of a common one.
"""

from __future__ import annotations

import re
from functools import cache
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
from pydantic import ConfigDict, Field

from audit.emailkey import email_key
from audit.valuelists import domain_list, typo_map

from ..kinds import Context, Outcome, Params, Scope, Skip, kind
from .basic import column, distinct, on_distinct

# staleness and bounces look at every record, event and activity sharing the email key
_EMAIL_KEY = Scope("email_key", (), ("email_events", "activities"))


def _keys(s: pd.Series) -> pd.Series:
    codes, uniques = distinct(s)
    keys = [email_key(str(u)) for u in np.asarray(uniques, dtype=object)] + [None]
    return pd.Series(
        np.asarray(keys, dtype=object)[np.where(codes < 0, len(uniques), codes)], index=s.index
    )


def _rule_keys(frame: pd.DataFrame, rule: Any, ctx: Context) -> pd.Series:
    """Email keys of the rule's column, computed once per run (several stale rules need them)."""
    tag = ("email_key", rule.entity, rule.field)
    if tag not in ctx.cache:
        ctx.cache[tag] = _keys(frame[rule.field])
    return ctx.cache[tag]


def _column_keys(ctx: Context, entity: str, field: str) -> pd.Series:
    """Email keys of another entity's column (events, activities), once per run."""
    tag = ("email_key", entity, field)
    if tag not in ctx.cache:
        ctx.cache[tag] = _keys(ctx.records[entity][field])
    return ctx.cache[tag]


def _domains(s: pd.Series) -> pd.Series:
    return on_distinct(s, lambda u: _extract(u, r"@(?P<d>[^@]+)$").str.lower())


def _extract(u: pd.Series, pattern: str) -> pd.Series:
    """`u.str.extract(pattern)` (one group) in Arrow, where pandas extracts in Python; for
    these patterns RE2 and Python agree ('$' at the very end after a greedy [^@]+)."""
    got = pc.struct_field(pc.extract_regex(pa.array(pd.array(u, dtype="str")), pattern), 0)
    return pd.Series(pd.array(got, dtype="str"), index=u.index)


def _rule_domains(frame: pd.DataFrame, rule: Any, ctx: Context) -> pd.Series:
    """Domains of the rule's column, computed once per run (disposable and typo rules)."""
    tag = ("domain", rule.entity, rule.field)
    if tag not in ctx.cache:
        ctx.cache[tag] = _domains(frame[rule.field])
    return ctx.cache[tag]


def _fmt_date(ts: Any) -> str:
    return "unknown date" if ts is None or ts is pd.NaT or ts != ts else f"{ts:%Y-%m-%d}"


def _events(ctx: Context) -> pd.DataFrame:
    """Bounce events with an email key and a hard/soft class, cached per run."""
    if "bounces" in ctx.cache:
        return ctx.cache["bounces"]
    ev = ctx.records.get("email_events")
    if ev is None or len(ev) == 0:
        raise Skip("no email_events (bounce) records")
    event = ev["event"].astype("str").str.lower().fillna("")
    cls = ev["classification"].astype("str").str.lower().fillna("")
    status = ev["status"].astype("str").fillna("")
    is_bounce = event.str.contains("bounce") | cls.isin(["hard", "soft"])
    hard = is_bounce & (
        cls.str.startswith("hard") | event.str.contains("hard") | status.str.startswith("5.")
    )
    soft = is_bounce & ~hard
    out = pd.DataFrame(
        {
            "key": _column_keys(ctx, "email_events", "address"),
            "hard": hard.to_numpy(bool),
            "soft": soft.to_numpy(bool),
            "at": ev["occurred_at"],
            "status": ev["status"].astype(object),
            "reason": ev["reason"].astype(object),
        }
    )
    out = out[out["key"].notna() & (out["hard"] | out["soft"])]
    ctx.cache["bounces"] = out
    return out


def _vendor_hard(frame: pd.DataFrame, rule: Any, ctx: Context) -> pd.Series:
    """Per email key, the source apps' own hard-bounce evidence ("<source>: <field>: <words>").

    The class was decided at ingest from the vendor's reason text (sources/flags.py), so a
    "hard bounce reason" that names a full mailbox is soft there and not counted here.
    """
    if "email_bounce" not in frame.columns:
        return pd.Series(dtype=object)
    hard = frame["email_bounce"].astype("str").str.lower().eq("hard").fillna(False).astype(bool)
    if not hard.any():
        return pd.Series(dtype=object)
    src = (
        frame["source"].astype("str")
        if "source" in frame.columns
        else pd.Series("?", index=frame.index, dtype="str")
    )
    reason = frame.get("email_bounce_reason", pd.Series(None, index=frame.index))
    label = src + ": " + reason.astype(object).where(reason.notna(), "hard bounce").astype("str")
    keys = _rule_keys(frame, rule, ctx)
    return (
        pd.DataFrame({"key": keys[hard], "label": label[hard]})
        .dropna()
        .sort_values(["key", "label"], kind="stable")
        .groupby("key")["label"]
        .agg(lambda x: "; ".join(dict.fromkeys(x)))
    )


@kind(
    "hard_bounce",
    columns=lambda r: ("email_bounce", "email_bounce_reason"),
    scope=lambda r: _EMAIL_KEY,
)
def hard_bounce(frame: pd.DataFrame, rule: Any, ctx: Context) -> Outcome:
    """The address hard-bounced: in an inbox export (evidence: date, status, reason) or by the
    source app's own bounce field (evidence: the vendor's reason). Every record with the
    address (email key) is flagged, not only the row that carries the bounce."""
    s = column(frame, rule.field)
    try:
        ev = _events(ctx)
    except Skip:
        if "email_bounce" not in frame.columns or frame["email_bounce"].isna().all():
            raise Skip("no email_events (bounce) records and no source bounce field") from None
        ev = None
    keys = _rule_keys(frame, rule, ctx)
    texts: dict[str, list[str]] = {}
    if ev is not None:
        hard = ev[ev["hard"]].sort_values(["key", "at"], na_position="first", kind="stable")
        last = hard.groupby("key", sort=True).tail(1)
        for k, at, st, rs in zip(
            last["key"], last["at"], last["status"], last["reason"], strict=True
        ):
            texts.setdefault(k, []).append(
                f"hard bounce {_fmt_date(at)}"
                + (f" ({st})" if isinstance(st, str) and st else "")
                + (f": {rs}" if isinstance(rs, str) and rs else "")
            )
    for k, label in _vendor_hard(frame, rule, ctx).items():
        texts.setdefault(k, []).append(f"marked hard-bounced by {label}")
    bad = keys.isin(list(texts)) & s.notna()
    evidence = pd.Series(None, index=frame.index, dtype=object)
    if bad.any():
        evidence[bad] = ["; ".join(texts[k]) for k in keys[bad]]
    return Outcome(failed=bad, evidence=evidence)


class SoftParams(Params):
    min_count: int = 3
    min_days: int = 7


@kind("soft_bounces", params=SoftParams, scope=lambda r: _EMAIL_KEY)
def soft_bounces(frame: pd.DataFrame, rule: Any, ctx: Context) -> Outcome:
    """At least `min_count` soft bounces spread over `min_days` days (one alone is not stale)."""
    s = column(frame, rule.field)
    ev = _events(ctx)
    soft = ev[ev["soft"]]
    g = soft.groupby("key")["at"].agg(["count", "min", "max"])
    span = (g["max"] - g["min"]).dt.days.fillna(0)
    repeated = g[(g["count"] >= rule.params.min_count) & (span >= rule.params.min_days)]
    keys = _rule_keys(frame, rule, ctx)
    bad = keys.isin(repeated.index) & s.notna()
    evidence = pd.Series(None, index=frame.index, dtype=object)
    if bad.any():
        rows = repeated.loc[keys[bad]]
        evidence[bad] = [
            f"{int(n)} soft bounces {_fmt_date(a)}..{_fmt_date(b)}"
            for n, a, b in zip(rows["count"], rows["min"], rows["max"], strict=True)
        ]
    return Outcome(failed=bad, evidence=evidence)


class StatusParams(Params):
    status_field: str = "email_status"
    values: list[str] = Field(
        default_factory=lambda: [
            "cleaned",
            "bounced",
            "bounce",
            "hard bounce",
            "hard_bounce",
            "hardbounce",
            "hard bounced",
            "undeliverable",
            "invalid",
            "true",
        ]
    )


@kind(
    "status_flag",
    params=StatusParams,
    columns=lambda r: (r.params.status_field,),
    scope=lambda r: _EMAIL_KEY,
)
def status_flag(frame: pd.DataFrame, rule: Any, ctx: Context) -> Outcome:
    """A source app marks the address undeliverable (cleaned, bounced, ...): every record that
    carries the address (email key) is flagged, not only the row with the status."""
    s = column(frame, rule.field)
    st = column(frame, rule.params.status_field)
    wanted = {v.casefold() for v in rule.params.values}
    folded = st.astype("str").str.strip().str.lower()
    marked = folded.isin(wanted).fillna(False).astype(bool) & s.notna()
    keys = _rule_keys(frame, rule, ctx)
    where = (frame.get("source", pd.Series("?", index=frame.index)).astype("str") + ": ").where(
        marked, None
    )
    label = (where + st.astype("str")).where(marked, None)
    by_key = (
        pd.DataFrame({"key": keys[marked], "label": label[marked]})
        .dropna()
        .sort_values(["key", "label"], kind="stable")
        .groupby("key")["label"]
        .agg(lambda x: ", ".join(dict.fromkeys(x)))
    )
    bad = (keys.isin(by_key.index) | marked) & s.notna()
    evidence = pd.Series(None, index=frame.index, dtype=object)
    if bad.any():
        evidence[bad] = ["status " + str(by_key.get(k, "")) for k in keys[bad]]
    return Outcome(failed=bad, evidence=evidence)


class MarkedParams(Params):
    flag: str = "email_opt_out"


_YES = {"true", "yes", "1"}


@kind("marked", params=MarkedParams, columns=lambda r: (r.params.flag,))
def marked(frame: pd.DataFrame, rule: Any, ctx: Context) -> Outcome:
    """The source app itself set a yes/no mark on the record (opted out, deleted): reported
    with the source's name, skipped when no source carries the mark at all."""
    column(frame, rule.field)  # Skip when the column is absent
    flag = column(frame, rule.params.flag)
    if flag.isna().all():
        raise Skip(f"no source has a {rule.params.flag} field")
    # one test per distinct mark (a column holds a handful: True, False, 'yes', ...)
    codes, uniques = pd.factorize(flag, use_na_sentinel=True)
    said = [
        bool(v) if isinstance(v, bool | np.bool_) else str(v).strip().lower() in _YES
        for v in np.asarray(uniques, dtype=object)
    ]
    yes = pd.Series(np.asarray([*said, False], dtype=bool)[codes], index=frame.index)
    src = (
        frame["source"].astype("str")
        if "source" in frame.columns
        else pd.Series("?", index=frame.index, dtype="str")
    )
    evidence = (src + f": {rule.params.flag} = true").where(yes, None).astype(object)
    return Outcome(failed=yes, checked=flag.notna(), evidence=evidence)


class InactiveParams(Params):
    days: int | None = Field(None, ge=1)  # default: the pipeline's stale_after_days
    date_fields: list[str] = Field(default_factory=lambda: ["last_activity_at"])
    # later dates here count as a sign of life but never condemn an address on their own:
    # list tools bump 'updated_at' on every import or sync
    alive_fields: list[str] = Field(default_factory=lambda: ["updated_at"])


_NAT = np.iinfo(np.int64).min


def _ns(values: pd.Series) -> np.ndarray:
    """UTC nanoseconds of a datetime column (NaT as int64 min), without Python objects."""
    return pd.to_datetime(values, utc=True).astype("datetime64[ns, UTC]").array.asi8


def _last_seen(
    frame: pd.DataFrame, ctx: Context, codes: np.ndarray, index: pd.Index, fields: list[str]
) -> np.ndarray:
    """Latest date (UTC ns) per email key (codes into `index`) over every record with the
    address (`fields`), the activities logged against it and the mail received from it."""
    best = np.full(len(index), _NAT, dtype=np.int64)

    def fold_in(key_codes: np.ndarray, at: np.ndarray) -> None:
        ok = (key_codes >= 0) & (at != _NAT)
        np.maximum.at(best, key_codes[ok], at[ok])

    for f in fields:
        if f in frame.columns:
            fold_in(codes, _ns(frame[f]))
    acts = ctx.records.get("activities")
    if acts is not None and len(acts) and "contact_email" in acts.columns:
        keys = _column_keys(ctx, "activities", "contact_email")
        fold_in(index.get_indexer(keys), _ns(acts["occurred_at"]))
    ev = ctx.records.get("email_events")
    if ev is not None and len(ev):
        alive = ev["event"].astype("str").str.lower().isin(["received", "reply", "replied"])
        rows = alive.to_numpy(bool)
        keys = _column_keys(ctx, "email_events", "address")[rows]
        fold_in(index.get_indexer(keys), _ns(ev["occurred_at"][rows]))
    return best


@kind(
    "inactive",
    params=InactiveParams,
    scope=lambda r: _EMAIL_KEY,
    columns=lambda r: (*r.params.date_fields, *r.params.alive_fields),
)
def inactive(frame: pd.DataFrame, rule: Any, ctx: Context) -> Outcome:
    """No activity for the address within `days` days before as_of: the latest of `date_fields`
    (and `alive_fields`) over every record with that address, its activities and mail from it."""
    s = column(frame, rule.field)
    if not any(f in frame.columns for f in rule.params.date_fields):
        raise Skip(f"none of {', '.join(rule.params.date_fields)}")
    keys = _rule_keys(frame, rule, ctx)
    codes, uniques = pd.factorize(keys, use_na_sentinel=True)
    index = pd.Index(uniques, dtype=object)
    activity = _last_seen(frame, ctx, codes, index, rule.params.date_fields)
    anything = _last_seen(
        frame, ctx, codes, index, [*rule.params.date_fields, *rule.params.alive_fields]
    )
    per_key = np.where(activity != _NAT, anything, _NAT)
    picked = np.append(per_key, _NAT)[np.where(codes < 0, len(per_key), codes)]
    last = pd.Series(pd.DatetimeIndex(picked.view("M8[ns]")).tz_localize("UTC"), index=frame.index)
    days = rule.params.days or ctx.stale_after_days
    cutoff = pd.Timestamp(ctx.as_of, tz="UTC") - pd.Timedelta(days=days)
    checked = s.notna() & last.notna()
    bad = (checked & (last < cutoff)).fillna(False).astype(bool)
    evidence = pd.Series(None, index=frame.index, dtype=object)
    if bad.any():
        evidence[bad] = [f"last activity {_fmt_date(t)}" for t in last[bad]]
    return Outcome(
        failed=bad,
        checked=checked,
        evidence=evidence,
        extra={"days": pd.Series(days, index=frame.index)},
    )


class ListParams(Params):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    list_name: str = Field("disposable_domains", alias="list")


@kind("domain_in_list", params=ListParams)
def domain_in_list(frame: pd.DataFrame, rule: Any, ctx: Context) -> Outcome:
    """The address's domain is on a shipped list (e.g. disposable mail providers)."""
    column(frame, rule.field)  # Skip when the column is absent
    listed = domain_list(rule.params.list_name)
    dom = _rule_domains(frame, rule, ctx)
    bad = dom.isin(listed).fillna(False).astype(bool)
    evidence = pd.Series(None, index=frame.index, dtype=object)
    if bad.any():
        evidence[bad] = ("domain " + dom[bad].astype(object)).to_numpy(dtype=object)
    return Outcome(failed=bad, evidence=evidence)


@kind("role_account")
def role_account(frame: pd.DataFrame, rule: Any, ctx: Context) -> Outcome:
    """The mailbox is a shared role (info@, sales@, admin@) where a person is expected."""
    s = column(frame, rule.field)
    roles = domain_list("role_locals")
    local = on_distinct(s, lambda u: _extract(u, r"^(?P<l>[^@+]+)").str.lower())
    bad = local.isin(roles).fillna(False).astype(bool) & s.notna()
    return Outcome(failed=bad, evidence=("role mailbox " + local + "@").where(bad, None))


_DOMAIN = re.compile(r"[a-z0-9](?:[a-z0-9.-]*[a-z0-9])?\.[a-z0-9-]+")
# QWERTY neighbours: a mistyped letter is nearly always a key next to the right one
_ROWS = ("1234567890", "qwertyuiop", "asdfghjkl", "zxcvbnm")
_POS = {ch: (r, c + 0.5 * r) for r, row in enumerate(_ROWS) for c, ch in enumerate(row)}


def _near_keys(a: str, b: str) -> bool:
    pa, pb = _POS.get(a), _POS.get(b)
    return pa is not None and pb is not None and abs(pa[0] - pb[0]) <= 1 and abs(pa[1] - pb[1]) <= 1


_VOWELS = set("aeiouy")


def _first_letter_ok(tag: str, at: int, typed: str) -> bool:
    """A letter left out or added: never the first one left out, and one added before it
    only when doubled or a neighbouring key (ggmail)."""
    if at > 0:
        return True
    if tag == "delete":
        return False
    return typed[0] == typed[1:2] or _near_keys(typed[0], typed[1:2] or " ")


def _typing_slip(typed: str, meant: str) -> bool:
    """Whether every edit from `meant` to `typed` looks like a slip: two letters swapped, a
    letter added or left out, a key next to the right one or a vowel for a vowel (gmeil). The
    first letter is where distinct names differ (hive/live, cloud/icloud, mlive/live), so an
    edit there counts only as a neighbouring key or a doubled letter (uahoo, ggmail)."""
    from rapidfuzz.distance import Levenshtein

    if len(typed) == len(meant):
        diff = [i for i, (a, b) in enumerate(zip(typed, meant, strict=True)) if a != b]
        if len(diff) == 2 and diff[1] == diff[0] + 1 and typed[diff[0]] == meant[diff[1]]:
            return typed[diff[1]] == meant[diff[0]]  # two letters swapped (gmial)
    for op in Levenshtein.editops(meant, typed):
        if op.tag == "replace":
            a, b = meant[op.src_pos], typed[op.dest_pos]
            if not (_near_keys(a, b) or (op.src_pos and a in _VOWELS and b in _VOWELS)):
                return False
        elif op.tag in ("delete", "insert") and not _first_letter_ok(op.tag, op.dest_pos, typed):
            return False
    return True


@cache
def _real_domains() -> frozenset[str]:
    return domain_list("common_domains") | domain_list("real_domains")


class TypoParams(Params):
    max_distance: int = 1


def typo_fix(domain: str, max_distance: int = 1) -> str | None:
    """The common mail domain `domain` is probably a typo of, or None.

    A curated typo (typo_domains.txt) is always one. Otherwise a domain that is itself a real
    mail domain (real_domains.txt, common_domains.txt) is not, and one within `max_distance`
    edits of a common provider is only when the edits look like slips of the fingers. A name of
    2-3 letters before the dot is only ever a typo in its ending (qq.co, aol.con): one letter
    away from 'aol' or 'gmx' is far more often another company (aon.com, gm.com) than a slip.
    """
    from rapidfuzz import process
    from rapidfuzz.distance import OSA

    if not domain or not _DOMAIN.fullmatch(domain):
        return None  # 'gmail,com' is a syntax error (contacts.email.valid), not a typo domain
    known = typo_map().get(domain)
    if known:
        return known
    if domain in _real_domains():
        return None
    label = domain.split(".", 1)[0]
    best, best_d = None, max_distance + 1
    limit = max_distance + (1 if len(domain) >= 10 else 0)
    common = _common_sorted()
    # the few providers within `limit` edits, found in one C call, in the list's order
    near = process.extract(domain, common, scorer=OSA.distance, score_cutoff=limit, limit=None)
    for c, d, _ in sorted(near, key=lambda hit: hit[2]):
        if len(label) <= 3 and c.split(".", 1)[0] != label:
            continue
        if d <= limit and d < best_d and _typing_slip(domain, c):
            best, best_d = c, d
    return best


@cache
def _common_sorted() -> list[str]:
    return sorted(domain_list("common_domains"))


def sibling_typos(domains: pd.Series, sources: pd.Series | None) -> pd.Series:
    """Per row, the domain of the same source that the row's domain is a slip of, or None.

    A company's own domain is typed by many of its people in a directory or CRM export; one row
    one slip away from it (mythwarre.net beside a directory's mythware.net)
    is that domain mistyped. The row's domain must be used by that row alone and the other by
    three rows or more (two domains used once each cannot tell which is the slip: iiitb.ac.in
    and iitb.ac.in are two institutes); neither may be a known mail or real domain, a hyphen is
    no slip (companies register both spellings), and the name before the dot must be five
    letters or more: short names one letter apart are mostly different companies.
    """
    from rapidfuzz import process
    from rapidfuzz.distance import OSA

    out = pd.Series(None, index=domains.index, dtype=object)
    present = domains.notna()
    if not present.any():
        return out
    groups = sources[present] if sources is not None else pd.Series(0, index=domains[present].index)
    real = _real_domains()
    for _, dom in domains[present].groupby(groups, sort=False):
        counts = dom.value_counts()
        if len(counts) < 2:
            continue
        names = [d for d in counts.index if _DOMAIN.fullmatch(d) and d not in real]
        common = [d for d in names if counts[d] >= 3 and len(d.split(".", 1)[0]) >= 5]
        if not common:
            continue
        for typed in names:
            if counts[typed] > 1 or len(typed.split(".", 1)[0]) < 5:
                continue
            best = None
            near = process.extract(typed, common, scorer=OSA.distance, score_cutoff=1, limit=None)
            for meant, _, _ in near:
                if typed.split(".", 1)[1] != meant.split(".", 1)[1]:
                    continue
                if typed.replace("-", "") == meant.replace("-", ""):
                    continue  # appraisal-nation.com and appraisalnation.com: both registered
                if _typing_slip(typed, meant) and (best is None or counts[meant] > counts[best]):
                    best = meant
            if best is not None:
                out[dom.index[dom == typed]] = best
    return out


# a company domain's slips are found among the domains of its source (`sibling_typos`)
@kind("typo_domain", params=TypoParams, scope=lambda r: Scope("key", ("source",)))
def typo_domain(frame: pd.DataFrame, rule: Any, ctx: Context) -> Outcome:
    """The domain looks like a typo of a common mailbox provider (gmial.com -> gmail.com), or of
    a company domain many rows of the same source use (mythwarre.net beside mythware.net)."""
    s = column(frame, rule.field)
    dom = _rule_domains(frame, rule, ctx)
    codes, uniques = pd.factorize(dom, use_na_sentinel=True)
    fixes = [typo_fix(str(u), rule.params.max_distance) for u in uniques] + [None]
    fix = pd.Series(
        np.asarray(fixes, dtype=object)[np.where(codes < 0, len(uniques), codes)],
        index=frame.index,
    )
    sibling = sibling_typos(dom, frame["source"] if "source" in frame.columns else None)
    fix = fix.where(fix.notna(), sibling)
    bad = fix.notna()
    suggestion = pd.Series(None, index=frame.index, dtype=object)
    if bad.any():
        # a guess for a person to confirm, never a value to write back
        suggestion[bad] = [
            f"did you mean {str(e).rpartition('@')[0]}@{f}? (a guess: confirm with the contact)"
            for e, f in zip(s[bad], fix[bad], strict=True)
        ]
    return Outcome(
        failed=bad,
        suggestion=suggestion,
        evidence=("domain " + dom.astype("str") + " is one slip away from " + fix.astype("str"))
        .where(bad, None)
        .astype(object),
        extra={"fix": fix},
    )
