"""Which country a phone written without '+country' belongs to: per record, then per source.

A national number (090-1234-5678) means nothing without a region, and reading it in the wrong
one either fails (a Japanese file read as US: every number invalid) or, worse, succeeds with a
different number (9012345678 is a valid Memphis number). So the region is taken from the
strongest evidence available, in this order:

1. `sources[].phone_region`: the user's own word for the source;
2. the record's own country: the canonical `country` column, else a vendor's country column
   kept in `extra` (HubSpot "IP Country Code", Shopify "Default Address Country Code", ...);
3. the source's dominant country, inferred from the whole source: record countries, numbers
   written with '+country', ccTLDs of email domains, the script of names and addresses
   (kana, hangul, Indic scripts), the file's legacy encoding (cp932, cp949, ...), and which
   region makes most of the source's national numbers valid;
4. `normalize.default_region`, only when there is no evidence at all.

A number that is not valid in the first region is tried in the next of 1-3 (a US customer in
a file marked KR); the configured default is never a fallback once evidence exists.

The inference reads whole sources, so on a distributed engine it is a first pass whose
result (source -> region) is handed to the per-partition parse.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol, TypeVar

import pandas as pd

from .countries import country_code
from .phones import REGIONS, SPREADSHEET, read_phone

# vendor columns (kept in `extra` when no profile maps them) that hold a record's country,
# strongest first; values may be ISO codes ("mn"), names ("Mongolia") or locales ("ja-JP")
COUNTRY_FIELDS: tuple[str, ...] = (
    "Country/Region",
    "Country",
    "Country Code",
    "Default Address Country Code",
    "MailingCountry",
    "Mailing Country",
    "Billing Country",
    "Shipping Country",
    "Address Country",
    "Business Country/Region",
    "Home Country/Region",
    "IP Country Code",
    "IP Country",
    "Locale",
)
_LOCALE = re.compile(r"[A-Za-z]{2,3}[-_]([A-Za-z]{2})")

# file encodings that only one country's Windows writes
ENCODING_REGION = {
    "cp932": "JP",
    "shift_jis": "JP",
    "euc_jp": "JP",
    "iso2022_jp": "JP",
    "cp949": "KR",
    "euc_kr": "KR",
    "gb18030": "CN",
    "gbk": "CN",
    "cp936": "CN",
    "gb2312": "CN",
    "big5": "TW",
    "cp950": "TW",
    "cp874": "TH",
    "tis_620": "TH",
}
# ccTLDs sold as generic names (.io, .co, .me, ...) say nothing about a customer's country
_VANITY_TLDS = frozenset(
    [
        "io",
        "co",
        "me",
        "tv",
        "ai",
        "ly",
        "fm",
        "to",
        "cc",
        "ws",
        "gg",
        "so",
        "sh",
        "ac",
        "nu",
        "am",
        "la",
        "md",
        "vc",
        "im",
        "is",
        "ms",
        "gl",
        "st",
        "cx",
        "tk",
        "ml",
        "ga",
        "cf",
        "gq",
        "app",
        "dev",
    ]
)
_SCRIPTS: tuple[tuple[str, re.Pattern[str], str], ...] = (
    ("kana", re.compile(r"[\u3040-\u30ff\uff66-\uff9f]"), "JP"),
    ("hangul", re.compile(r"[\uac00-\ud7af\u1100-\u11ff\u3130-\u318f]"), "KR"),
    ("Indic script", re.compile(r"[\u0900-\u0d7f]"), "IN"),
    ("Thai script", re.compile(r"[\u0e00-\u0e7f]"), "TH"),
)
_SCRIPT_LABEL = {region: label for label, _, region in _SCRIPTS}
_SCRIPT_COLUMNS = ("full_name", "last_name", "first_name", "address", "city", "region", "company")
# regions tried when a source's national numbers fail in the default and nothing else hints
COMMON_REGIONS: tuple[str, ...] = (
    "US", "IN", "JP", "KR", "CN", "GB", "DE", "FR", "BR", "MX", "ID", "PH", "VN", "TH", "MY",
    "SG", "AU", "CA", "RU", "TR", "IT", "ES", "NL", "PK", "BD", "NG", "EG", "ZA", "MN", "TW",
    "HK", "AE", "SA",
)  # fmt: skip
SAMPLE = 200  # distinct national numbers per source tried in candidate regions


def record_countries(frame: pd.DataFrame) -> tuple[pd.Series, pd.Series]:
    """(region, which field said so) per row, from the record's own country fields."""
    region = pd.Series([None] * len(frame), index=frame.index, dtype=object)
    why = pd.Series([None] * len(frame), index=frame.index, dtype=object)
    if "country_code" in frame.columns:
        cc = frame["country_code"].astype(object)
        ok = cc.isin(REGIONS)
        region = region.where(~ok, cc)
        why = why.where(~ok, "country")
    if "extra" not in frame.columns:
        return region, why
    extra = frame["extra"].astype(object)
    todo = region.isna() & extra.notna()
    if todo.any():  # one pass over all rows, then the few that name a country field
        todo &= extra.astype(str).str.contains("Country|Locale", regex=True)
    for name in COUNTRY_FIELDS:
        todo &= region.isna()
        if not todo.any():
            break
        key = json.dumps(name, ensure_ascii=False) + ": "
        text = extra[todo].astype(str)
        has = text.str.contains(key, regex=False)
        if not has.any():
            continue
        pattern = re.escape(key) + r'"((?:[^"\\]|\\.)*)"'
        values = text[has].str.extract(pattern, expand=False).dropna()
        codes = values.map(_country_of, na_action="ignore").dropna()
        if len(codes):
            region.loc[codes.index] = codes
            why.loc[codes.index] = name
    return region, why


def _country_of(value: str) -> str | None:
    value = value.strip()
    code = country_code(value)
    if code is None:
        m = _LOCALE.fullmatch(value)
        code = m.group(1).upper() if m else None
    return code if code in REGIONS else None


@dataclass(frozen=True)
class Inferred:
    """A source's dominant phone region and the evidence for it (for the finding's text)."""

    region: str
    why: str


@dataclass
class Evidence:
    """One source's evidence of its country, from some of its rows.

    Counts that add up and the smallest distinct national numbers: the evidence of a source's
    slices merges into the whole source's (`merge`), so an engine that cuts a source by rows
    decides its region as the pandas engine does on the whole source.
    """

    records: Counter[str] = field(default_factory=Counter)  # records' own countries
    calling: Counter[str] = field(default_factory=Counter)  # numbers written with +country
    tlds: Counter[str] = field(default_factory=Counter)  # email domains under a ccTLD
    scripts: Counter[str] = field(default_factory=Counter)  # rows with a script, by region
    national: list[str] = field(default_factory=list)  # the SAMPLE smallest national numbers
    lacking: bool = False  # a record without a country of its own (only then a guess helps)

    def merge(self, other: Evidence) -> Evidence:
        return Evidence(
            self.records + other.records,
            self.calling + other.calling,
            self.tlds + other.tlds,
            self.scripts + other.scripts,
            sorted(set(self.national) | set(other.national))[:SAMPLE],
            self.lacking or other.lacking,
        )


def infer_source_regions(
    frame: pd.DataFrame,
    record_region: pd.Series,
    *,
    default: str,
    skip: Iterable[str] = (),
    encodings: Mapping[str, Iterable[str | None]] | None = None,
) -> dict[str, Inferred]:
    """source -> Inferred, for each source (not in `skip`, with a record lacking a country)
    with evidence of its country."""
    evidence = source_evidence(frame, record_region, skip=skip)
    return decide_regions(evidence, default=default, encodings=encodings)


def source_evidence(
    frame: pd.DataFrame, record_region: pd.Series, *, skip: Iterable[str] = ()
) -> dict[str, Evidence]:
    """source -> its rows' evidence, for each source of the frame not in `skip`."""
    if "source" not in frame.columns or not len(frame):
        return {}
    out: dict[str, Evidence] = {}
    skipped = set(skip)
    groups = frame.groupby(frame["source"].astype(object), sort=True).indices
    for name, positions in groups.items():
        if str(name) in skipped:
            continue
        out[str(name)] = _evidence(frame.iloc[positions], record_region.iloc[positions])
    return out


class _Parts(Protocol):
    def merge(self, other: Any, /) -> Any: ...


P = TypeVar("P", bound=_Parts)


def merge_by_source(parts: Iterable[Mapping[str, P]]) -> dict[str, P]:
    """Each source's whole from its slices' parts (`Evidence`, `PhoneTally`: anything whose
    slices add up with `merge`), for an engine that cut the source by rows."""
    out: dict[str, P] = {}
    for part in parts:
        for name, one in part.items():
            out[name] = out[name].merge(one) if name in out else one
    return out


def decide_regions(
    evidence: Mapping[str, Evidence],
    *,
    default: str,
    encodings: Mapping[str, Iterable[str | None]] | None = None,
) -> dict[str, Inferred]:
    """source -> Inferred, for each source with a record lacking a country and evidence of
    its country (a source whose every record has one needs no guess)."""
    out: dict[str, Inferred] = {}
    for name in sorted(evidence):
        ev = evidence[name]
        if not ev.lacking:
            continue
        found = _choose(ev.national, _votes(ev, (encodings or {}).get(name, ())), default)
        if found is not None:
            out[name] = found
    return out


def _evidence(part: pd.DataFrame, record_region: pd.Series) -> Evidence:
    """One source's rows' evidence (counts over distinct values, weighted by how often they
    occur)."""
    ev = Evidence(
        records=Counter(record_region.dropna().astype(str)),
        national=national_sample(part),
        lacking=bool(record_region.isna().any()),
    )
    for col in ("phone", "mobile"):
        if col in part.columns:
            for v, n in part[col].dropna().astype(str).value_counts().items():
                r = _calling_region(str(v))
                if r:
                    ev.calling[r] += int(n)
    if "email" in part.columns:
        domains = part["email"].dropna().astype(str).str.rsplit(".", n=1).str[-1]
        for tld, n in domains.str.strip(" >").str.casefold().value_counts().items():
            tld = str(tld)
            if len(tld) == 2 and tld not in _VANITY_TLDS:
                code = "GB" if tld == "uk" else tld.upper()
                if code in REGIONS:
                    ev.tlds[code] += int(n)
    cols = [c for c in _SCRIPT_COLUMNS if c in part.columns]
    for _, pattern, region in _SCRIPTS:
        rows = pd.Series(False, index=part.index)
        for col in cols:
            values = part[col].dropna().astype(str)
            if not len(values):
                continue
            counts = values.value_counts()
            hit = counts.index[counts.index.astype(str).str.contains(pattern)]
            if len(hit):
                rows |= part[col].isin(hit)
        n = int(rows.sum())
        if n:
            ev.scripts[region] += n
    return ev


def _votes(ev: Evidence, encodings: Iterable[str | None]) -> list[tuple[str, str, int]]:
    """(region, description, weight) of each kind of evidence whose votes agree enough."""
    found: list[tuple[str, str, int]] = []

    def dominant(counts: Counter[str], label: str, minimum: int = 2) -> None:
        total = sum(counts.values())
        if not total:
            return
        region, n = sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))[0]
        if n >= minimum and n / total >= 0.6:
            found.append((region, f"{n} {label}", n))

    dominant(ev.records, "records with that country")
    dominant(ev.calling, "numbers written with its country code")
    dominant(ev.tlds, "email domains under its ccTLD")
    if ev.scripts:
        region, n = sorted(ev.scripts.items(), key=lambda kv: (-kv[1], kv[0]))[0]
        if n >= 2 and n / sum(ev.scripts.values()) >= 0.6:
            found.append((region, f"{n} names/addresses in {_SCRIPT_LABEL[region]}", n))
    encodings = list(encodings)
    enc = sorted({ENCODING_REGION[e] for e in encodings if e and e in ENCODING_REGION})
    if len(enc) == 1:
        found.append((enc[0], f"file encoding {', '.join(sorted(set(map(str, encodings))))}", 1))
    return found


def _calling_region(value: str) -> str | None:
    import phonenumbers

    s = value.strip().lstrip("(")
    if s.startswith("00") and not s.startswith("000"):
        s = "+" + s[2:]
    if not s.startswith("+"):
        return None
    digits = "".join(ch for ch in s[1:5] if ch.isdigit())
    for k in (1, 2, 3):
        cc = int(digits[:k]) if len(digits) >= k else -1
        if cc in phonenumbers.COUNTRY_CODE_TO_REGION_CODE:
            return phonenumbers.region_code_for_country_code(cc)
    return None


def national_sample(part: pd.DataFrame, n: int = SAMPLE) -> list[str]:
    """Up to n distinct phone values of the frame written without '+country' (sorted)."""
    values: set[str] = set()
    for col in ("phone", "mobile"):
        if col in part.columns:
            values.update(part[col].dropna().astype(str))
    national = sorted(v for v in values if any(ch.isdigit() for ch in v) and not _intl(v))
    return national[:n]


def _intl(v: str) -> bool:
    s = v.strip().lstrip("(")
    return s.startswith("+") or (s.startswith("00") and not s.startswith("000"))


def valid_counts(sample: list[str], regions: Iterable[str]) -> dict[str, int]:
    """region -> how many of the sample are numbers of that region."""
    out: dict[str, int] = {}
    for region in regions:
        out[region] = sum(_fits(read_phone((v, region)), region) for v in sample)
    return out


def _fits(read: tuple, region: str) -> bool:
    """Valid there, or valid there but for a trunk 0 a spreadsheet dropped (still its country)."""
    return read[4] is None or (read[4] == SPREADSHEET and read[3] == region)


def _choose(sample: list[str], votes: list[tuple[str, str, int]], default: str) -> Inferred | None:
    """The evidence's region that makes most national numbers valid (default included)."""
    by_region: dict[str, list[str]] = {}
    weight: Counter[str] = Counter()
    for region, text, n in votes:
        by_region.setdefault(region, []).append(text)
        weight[region] += n
    ranked = sorted(by_region, key=lambda r: (-len(by_region[r]), -weight[r], r))
    if ranked:
        if not sample:
            top = ranked[0]
            return Inferred(top, "; ".join(by_region[top]))
        counts = valid_counts(sample, [*ranked, default])
        order = [*ranked, default]
        best = max(order, key=lambda r: (counts[r], -order.index(r)))
        if best == default and counts[default] > 0 and default not in by_region:
            return None
        if counts[best] == 0:
            top = ranked[0]
            return Inferred(top, "; ".join(by_region[top]))
        why = by_region.get(best, [])
        return Inferred(best, "; ".join([*why, _valid_text(counts, best, default, len(sample))]))
    if not sample:
        return None
    base = valid_counts(sample, [default])[default]
    if base * 2 >= len(sample):
        return None
    counts = valid_counts(sample, [r for r in COMMON_REGIONS if r != default])
    best = max(counts, key=lambda r: (counts[r], -COMMON_REGIONS.index(r)))
    if counts[best] >= 0.8 * len(sample) and counts[best] >= 2 * max(base, 1):
        counts[default] = base
        return Inferred(best, _valid_text(counts, best, default, len(sample)))
    return None


def _valid_text(counts: Mapping[str, int], best: str, default: str, n: int) -> str:
    text = f"{counts[best]} of {n} national numbers valid as {best}"
    if best != default and default in counts:
        text += f" ({counts[default]} as {default})"
    return text


def guess_region(values: list[str], hint: Iterable[str] = ()) -> tuple[str | None, int]:
    """The region (and how many values) where most of `values` are valid numbers, if any."""
    sample = sorted(set(values))[:SAMPLE]
    if not sample:
        return None, 0
    order = list(dict.fromkeys([*hint, *COMMON_REGIONS]))
    counts = valid_counts(sample, order)
    best = max(order, key=lambda r: (counts[r], -order.index(r)))
    if counts[best] * 2 <= len(sample):
        return None, 0
    return best, counts[best]
