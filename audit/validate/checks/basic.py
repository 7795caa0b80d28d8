"""Single-column kinds: presence, format, allowed values, ranges, uniqueness, age, junk."""

from __future__ import annotations

import re
from typing import Any, Literal

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
from pydantic import ConfigDict, Field, field_validator

from audit.text import fold
from audit.valuelists import JUNK_TOKENS, REPEAT_ASCII, placeholder_lists

from ..kinds import Context, Outcome, Params, Scope, Skip, kind

# pd.factorize results of the columns read during one validate run: a dozen rules read the
# email column alone, and factorizing a million strings costs ~0.15 s each time. Keyed by the
# immutable Arrow data itself (kept alive here), so a hit is always the same values.
_DISTINCT: dict[int, tuple[Any, np.ndarray, pd.Index]] = {}


def distinct(s: pd.Series) -> tuple[np.ndarray, pd.Index]:
    """pd.factorize(s) (missing = -1), shared by the rules of a validate run. Read-only."""
    data = getattr(s.array, "_pa_array", None)
    if data is None:
        return pd.factorize(s, use_na_sentinel=True)
    hit = _DISTINCT.get(id(data))
    if hit is not None and hit[0] is data:
        return hit[1], hit[2]
    codes, uniques = pd.factorize(s, use_na_sentinel=True)
    codes.setflags(write=False)
    _DISTINCT[id(data)] = (data, codes, uniques)
    return codes, uniques


def forget_distinct() -> None:
    _DISTINCT.clear()


def on_distinct(s: pd.Series, fn: Any, dtype: Any = object) -> pd.Series:
    """fn over the distinct values (as a str Series), spread back over the rows."""
    codes, uniques = distinct(s)
    if isinstance(uniques.dtype, pd.StringDtype) and uniques.dtype.na_value is np.nan:
        u = pd.Series(uniques)  # already the text: iterating Arrow per value costs seconds
    else:
        u = pd.Series(pd.array([str(x) for x in uniques], dtype="str"))
    res = fn(u)
    arr = np.asarray(res, dtype=dtype)
    fill = np.zeros(1, dtype=arr.dtype) if dtype is bool else np.asarray([None], dtype=object)
    both = np.concatenate([arr, fill])
    return pd.Series(both[np.where(codes < 0, len(uniques), codes)], index=s.index)


def column(frame: pd.DataFrame, name: str | None) -> pd.Series:
    """The rule's column, or Skip when the data has no such column."""
    if name is None or name not in frame.columns:
        raise Skip(f"no column {name!r}")
    return frame[name]


def present(s: pd.Series) -> pd.Series:
    return s.notna()


def as_text(s: pd.Series) -> pd.Series:
    """Text view of a column for regex and set checks (datetimes as ISO)."""
    if str(s.dtype).startswith("datetime64"):
        return s.dt.strftime("%Y-%m-%dT%H:%M:%SZ").astype("str")
    if s.dtype == object or pd.api.types.is_bool_dtype(s) or pd.api.types.is_numeric_dtype(s):
        return s.astype(object).map(lambda v: None if v is None or v is pd.NA or v != v else str(v))
    return s


@kind("required", gx=lambda r: ("ExpectColumnValuesToNotBeNull", {"column": r.field}))
def required(frame: pd.DataFrame, rule: Any, ctx: Context) -> Outcome:
    """The field must have a value (every row is checked)."""
    s = column(frame, rule.field)
    return Outcome(failed=s.isna(), checked=pd.Series(True, index=frame.index))


class PatternParams(Params):
    pattern: str

    @field_validator("pattern")
    @classmethod
    def _compiles(cls, v: str) -> str:
        try:
            re.compile(v)
        except re.error as e:
            raise ValueError(f"not a valid regular expression ({e})") from None
        return v


@kind(
    "matches",
    params=PatternParams,
    gx=lambda r: ("ExpectColumnValuesToMatchRegex", {"column": r.field, "regex": r.params.pattern}),
)
def matches(frame: pd.DataFrame, rule: Any, ctx: Context) -> Outcome:
    """Present values must contain a match of `pattern` (anchor it with ^...$ for a whole match)."""
    s = column(frame, rule.field)
    ok = as_text(s).astype("str").str.contains(rule.params.pattern, regex=True)
    return Outcome(failed=present(s) & ~ok.fillna(False).astype(bool))


class ValuesParams(Params):
    values: list[Any]


@kind(
    "in_set",
    params=ValuesParams,
    gx=lambda r: ("ExpectColumnValuesToBeInSet", {"column": r.field, "value_set": r.params.values}),
)
def in_set(frame: pd.DataFrame, rule: Any, ctx: Context) -> Outcome:
    """Present values must be one of `values` (exact match)."""
    s = column(frame, rule.field)
    return Outcome(failed=present(s) & ~s.isin(rule.params.values))


class RangeParams(Params):
    min: float | None = None
    max: float | None = None


def _between(r: Any) -> tuple[str, dict[str, Any]]:
    return (
        "ExpectColumnValuesToBeBetween",
        {"column": r.field, "min_value": r.params.min, "max_value": r.params.max},
    )


@kind("range", params=RangeParams, gx=_between)
def value_range(frame: pd.DataFrame, rule: Any, ctx: Context) -> Outcome:
    """Present numbers must lie within [min, max] (either bound may be left open)."""
    s = pd.to_numeric(column(frame, rule.field), errors="coerce").astype("float64")
    bad = pd.Series(False, index=frame.index)
    if rule.params.min is not None:
        bad |= s < rule.params.min
    if rule.params.max is not None:
        bad |= s > rule.params.max
    return Outcome(failed=bad & s.notna(), checked=s.notna())


class UniqueParams(Params):
    within: str | None = None  # e.g. source: values must be unique inside each source only


def _unique_gx(r: Any) -> tuple[str, dict[str, Any]] | None:
    if r.params.within is not None:
        return None  # GX has no grouped uniqueness: the engine's flag column stands in
    return "ExpectColumnValuesToBeUnique", {"column": r.field}


@kind(
    "unique",
    params=UniqueParams,
    gx=_unique_gx,
    scope=lambda r: Scope(
        "key", (r.field,) if r.params.within is None else (r.params.within, r.field)
    ),
)
def unique(frame: pd.DataFrame, rule: Any, ctx: Context) -> Outcome:
    """Present values must not repeat (inside each `within` group, if given); every holder of a
    repeated value is reported."""
    s = column(frame, rule.field)
    p = present(s)
    keys = [rule.field] if rule.params.within is None else [rule.params.within, rule.field]
    for k in keys:
        column(frame, k)
    sub = frame.loc[p, keys]
    d = sub.duplicated(keep=False)
    dup = pd.Series(False, index=frame.index)
    dup.loc[d.index] = d.to_numpy()
    evidence = pd.Series(None, index=frame.index, dtype=object)
    if d.any():
        counts = sub[d].groupby(keys, sort=False, dropna=False)[rule.field].transform("size")
        evidence.loc[counts.index] = [f"{int(n)} records share this value" for n in counts]
    return Outcome(failed=dup, evidence=evidence)


class DaysParams(Params):
    days: int | None = None  # None: the pipeline's stale_after_days


@kind("max_age", params=DaysParams)
def max_age(frame: pd.DataFrame, rule: Any, ctx: Context) -> Outcome:
    """A present date must be within `days` days before as_of (default: stale_after_days)."""
    s = column(frame, rule.field)
    days = rule.params.days or ctx.stale_after_days
    cutoff = pd.Timestamp(ctx.as_of, tz="UTC") - pd.Timedelta(days=days)
    return Outcome(failed=(s < cutoff).fillna(False), extra={"days": _const(frame, days)})


@kind("not_future")
def not_future(frame: pd.DataFrame, rule: Any, ctx: Context) -> Outcome:
    """A present date must not be after the as_of day."""
    s = column(frame, rule.field)
    return Outcome(failed=(s >= ctx.as_of_ts).fillna(False))


def _const(frame: pd.DataFrame, v: Any) -> pd.Series:
    return pd.Series([v] * len(frame), index=frame.index, dtype=object)


_REPEAT = re.compile(r"^(.)\1{2,}$")
# a form's or CRM's own filler is often bracketed: [not provided], (none), <unknown>, 【なし】
_WRAPPED = re.compile(r"^\s*[\[(<{【「『（＜]\s*(.*?)\s*[\])>}】」』）＞]\s*$")
_NO_WORD = re.compile(r"^[\W_]+$")


class PlaceholderParams(Params):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    which: Literal["text", "email", "phone"] = Field("text", alias="list")
    values: list[str] = Field(default_factory=list)  # extra values for this rule
    tokens: bool = False  # also flag a junk word inside the value ('浩二 nolastname')


def is_placeholder(
    value: str, which: str, extra: frozenset[str] = frozenset(), tokens: bool = False
) -> bool:
    lists = placeholder_lists()
    v = value.casefold() if value.isascii() else fold(value).casefold()
    if v in extra:
        return True
    if tokens and any(t in JUNK_TOKENS for t in v.split()):
        return True
    if which == "phone":
        digits = re.sub(r"\D", "", v)
        if not digits:
            return False
        return (
            digits in lists["phone_digits"]
            or bool(_REPEAT.match(digits[-7:]) and len(digits) >= 7)
            or digits.lstrip("0").startswith("123456789")
        )
    if which == "email":
        if v in lists["email"]:
            return True
        local, _, domain = v.rpartition("@")
        return domain in lists["email_domains"] or (
            local in lists["text"] and local == domain.split(".")[0]
        )
    bare = _WRAPPED.sub(r"\1", v).strip()
    return (
        v in lists["text"]
        or bare in lists["text"]
        or bool(_REPEAT.match(v.replace(" ", "")))
        or bool(_NO_WORD.match(v))
    )


_REPEAT_DIGIT7 = "(?:" + "|".join(f"{d}{{7}}" for d in "0123456789") + ")"


def placeholder_flags(
    u: pd.Series, which: str, extra: frozenset[str] = frozenset(), tokens: bool = False
) -> np.ndarray:
    """is_placeholder over a column of distinct values: plain ASCII values in one vectorized
    pass (the same tests, in Arrow), the rest one by one."""
    lists = placeholder_lists()
    ascii_ = u.str.fullmatch(r"[\x00-\x7f]*").fillna(False).to_numpy(bool)
    out = np.zeros(len(u), dtype=bool)
    a = u[ascii_]
    if len(a):
        low = a.str.lower()
        hit = low.isin(extra)
        if which == "phone":
            # ASCII text: \D is [^0-9], which Arrow runs (pandas runs \D in Python)
            digits = _arrow_str(pc.replace_substring_regex(_arrow(low), "[^0-9]", ""), low)
            hit |= (digits.str.len() > 0) & (
                digits.isin(lists["phone_digits"])
                | ((digits.str.len() >= 7) & digits.str.slice(-7).str.fullmatch(_REPEAT_DIGIT7))
                | digits.str.lstrip("0").str.startswith("123456789")
            )
        elif which == "email":
            # the same regular expressions in Arrow (pandas extracts in Python): '.' stops at a
            # newline in both, and a greedy [^@]* takes a trailing one before '$' in both
            text = _arrow(low)
            local = _arrow_str(pc.struct_field(pc.extract_regex(text, r"^(?P<l>.*)@"), 0), low)
            domain = _arrow_str(pc.struct_field(pc.extract_regex(text, r"@(?P<d>[^@]*)$"), 0), low)
            domain = domain.fillna(low)
            first = _arrow_str(pc.replace_substring_regex(_arrow(domain), r"(?s)\..*", ""), low)
            hit |= low.isin(lists["email"]) | domain.isin(lists["email_domains"])
            hit |= local.isin(lists["text"]) & (local == first)
        else:
            hit |= low.isin(lists["text"])
            hit |= low.str.replace(_WRAPPED, r"\1", regex=True).str.strip().isin(lists["text"])
            hit |= low.str.replace(" ", "", regex=False).str.fullmatch(REPEAT_ASCII)
            hit |= low.str.fullmatch(r"[\W_]+")
        if tokens:
            words = "|".join(re.escape(t) for t in sorted(JUNK_TOKENS))
            hit |= low.str.contains(rf"(?:^|\s)(?:{words})(?:\s|$)", regex=True)
        out[ascii_] = hit.fillna(False).to_numpy(bool)
    rest = np.flatnonzero(~ascii_)
    for i in rest:
        out[i] = is_placeholder(str(u.iloc[i]), which, extra, tokens)
    return out


def _arrow(s: pd.Series) -> pa.Array:
    return pa.array(pd.array(s, dtype="str"))


def _arrow_str(arr: pa.Array, like: pd.Series) -> pd.Series:
    """Arrow text as a `str` Series on `like`'s index."""
    return pd.Series(pd.array(arr, dtype="str"), index=like.index)


@kind("placeholder", params=PlaceholderParams)
def placeholder(frame: pd.DataFrame, rule: Any, ctx: Context) -> Outcome:
    """Present values must not be junk typed to pass a required field (test, N/A, 010-0000-0000)."""
    s = column(frame, rule.field)
    extra = frozenset(fold(v).casefold() for v in rule.params.values)
    p = rule.params
    flags = on_distinct(s, lambda u: placeholder_flags(u, p.which, extra, p.tokens), dtype=bool)
    return Outcome(failed=flags.astype(bool))
