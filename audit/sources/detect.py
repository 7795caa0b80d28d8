"""Header signature -> export profile, and header -> canonical column for everything else."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from functools import cache
from pathlib import Path

import yaml

from audit import schema
from audit.sources.decoding import fold_header
from audit.sources.profiles import PROFILES, Profile


def detect_profile(header: Sequence[str]) -> Profile | None:
    """The profile whose detect list matches the header best; None when none matches.

    Longer matched signatures win, so a specific export (Mailchimp cleaned, with CLEAN_TIME)
    beats a general one it shares columns with.
    """
    folded = {fold_header(h) for h in header}
    best: tuple[int, str] | None = None
    for name, prof in PROFILES.items():
        score = prof.matches(folded)
        if score and (best is None or score > best[0]):
            best = (score, name)
    return PROFILES.get(best[1]) if best else None


def detect(header: Sequence[str]) -> tuple[Profile | None, str | None]:
    """(profile to map by, note for the user): a full signature match, else a near miss.

    Real exports drop a column now and then (a Salesforce contact export without AccountId,
    a report with one column hidden): a signature of three or more columns with exactly one
    missing still names the export when no other profile comes as close, and the note says
    so ("looks like salesforce.contacts: 3 of 4 signature columns; AccountId missing"). When
    two profiles come equally close the note names both and nothing is mapped by profile.
    """
    full = detect_profile(header)
    if full is not None:
        return full, None
    folded = {fold_header(h) for h in header}
    near: list[tuple[int, int, str, list[str], int]] = []
    for name, prof in PROFILES.items():
        if any(fold_header(h) in folded for h in prof.none):
            continue
        aliases = {fold_header(a) for names in prof.columns.values() for a in names}
        support = len(aliases & folded)
        for sig in prof.detect:
            missing = [h for h in sig if fold_header(h) not in folded]
            if len(sig) >= 3 and len(missing) == 1:
                near.append((len(sig) - 1, support, name, missing, len(sig)))
    if not near:
        return None, None
    near.sort(key=lambda t: (-t[0], -t[1], t[2]))
    best = near[0]
    rivals = sorted({n[2] for n in near if n[:2] == best[:2] and n[2] != best[2]})
    if rivals:
        names = " or ".join([best[2], *rivals])
        return None, (
            f"looks like {names} (one signature column missing each); set profile: to choose"
        )
    prof = PROFILES.get(best[2])
    seen = (
        f"looks like {best[2]}: {best[0]} of {best[4]} signature columns; "
        f"{', '.join(best[3])} missing"
    )
    # a near miss only earns the profile's mapping when it maps more of the file than the
    # generic header names do (a plain "Deal Name,Stage,Amount" sheet is not an opportunity
    # report that lost a column)
    if best[1] <= len(generic_mapping(header, prof.entity)):
        return None, f"{seen}; mapped by header names (set profile: {best[2]} to use it)"
    return prof, f"{seen}; mapped by {best[2]}"


def candidates(header: Sequence[str]) -> list[str]:
    """Every profile whose signature matches (for the contract test and for inspect)."""
    folded = {fold_header(h) for h in header}
    return [name for name, prof in PROFILES.items() if prof.matches(folded)]


@cache
def _data() -> dict:
    return yaml.safe_load((Path(__file__).parent / "synonyms.yaml").read_text(encoding="utf-8"))


@cache
def _synonyms() -> dict[str, dict[str, str]]:
    data = _data()
    out: dict[str, dict[str, str]] = {}
    for entity in schema.ENTITIES:
        table: dict[str, str] = {}
        for col in sorted(schema.mappable(entity)):
            table[fold_header(col)] = col
        for col, names in (data.get(entity) or {}).items():
            for n in names:
                table.setdefault(fold_header(str(n)), col)
        out[entity] = table
    return out


# required/optional markers of hand-made import templates: 取引先名(必須), Email*, 성명（필수）
_MARKER = re.compile(
    r"\s*(?:[(\[【<]\s*(?:必須|任意|필수|선택|必填|选填|required|optional|req|opt)\.?\s*[)\]】>]"
    r"|^[*※]+|[*※]+$)\s*",
    re.IGNORECASE,
)
_CAMEL = re.compile(r"(?<=[a-z0-9])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])")
_SPLIT = re.compile(r"[\s_\-./:|()#]+")


def header_keys(header: str) -> list[str]:
    """Lookup keys to try for a header that is not a synonym as written, best first.

    `取引先名(必須)` -> `取引先名`; `MailingCity` -> `mailing city`, then `city`;
    `Cntct_Fst` -> `contact first`, then `first name`; `NAME_JA` -> `name`. Only whole words
    are expanded or dropped (synonyms.yaml: _abbreviations, _language_tags, _prefixes), so
    `Company Phone` never becomes `company`.
    """
    data = _data()
    abbreviations: dict[str, str] = data.get("_abbreviations") or {}
    prefixes = {fold_header(str(p)) for p in data.get("_prefixes") or []}
    keys: list[str] = []
    header = unicodedata.normalize("NFKC", header)
    bare = _MARKER.sub("", header).strip()
    if bare and bare != header:
        keys.append(fold_header(bare))
    words = [w for w in _SPLIT.split(fold_header(_CAMEL.sub(" ", bare or header))) if w]
    words = " ".join(abbreviations.get(w, w) for w in words).split()
    tags = {fold_header(str(t)) for t in data.get("_language_tags") or []}
    if len(words) > 1 and words[-1] in tags:  # NAME_JA, Name (EN): the name, in one script
        words = words[:-1]
    while words:
        key = " ".join(words)
        keys.append(key)
        if words[-1] in ("first", "last"):  # Cntct_Fst: the name word is implied
            keys.append(key + " name")
        if words[0] not in prefixes or len(words) == 1:
            break
        words = words[1:]
    return list(dict.fromkeys(k for k in keys if k))


def generic_mapping(header: Sequence[str], entity: str) -> dict[str, str]:
    """header -> canonical column for a file with no profile (canonical names or synonyms).

    Three passes, each only for columns not yet taken: canonical names, synonyms as written,
    then synonyms after `header_keys` (markers, abbreviations, prefixes).
    """
    table = _synonyms()[entity]
    mapping: dict[str, str] = {}
    used: set[str] = set()
    # a header that IS a canonical name wins over a synonym of it elsewhere in the header
    # (a file written by crm-audit has both `record_id` (synonym "record id") and `external_id`)
    exact = {fold_header(c): c for c in schema.mappable(entity)}
    for h in header:
        col = exact.get(fold_header(h))
        if col and col not in used:
            mapping[h] = col
            used.add(col)
    for h in header:
        col = table.get(fold_header(h))
        if h not in mapping and col and col not in used:
            mapping[h] = col
            used.add(col)
    for h in header:
        if h in mapping:
            continue
        for key in header_keys(h):
            col = table.get(key)
            if col and col not in used:
                mapping[h] = col
                used.add(col)
                break
    return {h: mapping[h] for h in header if h in mapping}


# columns that only a list of people has
_PERSON = frozenset({"full_name", "first_name", "last_name", "email", "mobile"})
# columns that only a list of companies has (a "company,CSAT" sheet is still customers)
_FIRM = frozenset({"domain", "industry", "employees"})


def guess_entity(header: Sequence[str]) -> str:
    """The entity whose canonical columns and synonyms cover most of a profile-less header.

    A folder of exports audited without a config holds orders, spend or deal-stage tables next
    to contact lists; naming each file's entity by hand should not be needed when its headers
    already say what it is. Contacts win ties: it is the entity most files without a profile hold.
    A list whose main name column names a company (取引先名, Company Name), that has no person in
    it (no name, first/last name, email or mobile column) and that describes the company (its
    website, industry or head count) is an account list: companies.
    """
    people = set(generic_mapping(header, "contacts").values())
    best, best_n = "contacts", len(people)
    firms = set(generic_mapping(header, "companies").values())
    if not people & _PERSON and "name" in firms and firms & _FIRM:
        best, best_n = "companies", len(firms)
    for entity in schema.ENTITIES:
        if entity == "contacts" and best == "companies":
            continue
        n = len(generic_mapping(header, entity))
        if n > best_n:
            best, best_n = entity, n
    return best
