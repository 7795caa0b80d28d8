"""Header signature -> export profile, and header -> canonical column for everything else."""

from __future__ import annotations

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


def candidates(header: Sequence[str]) -> list[str]:
    """Every profile whose signature matches (for the contract test and for inspect)."""
    folded = {fold_header(h) for h in header}
    return [name for name, prof in PROFILES.items() if prof.matches(folded)]


@cache
def _synonyms() -> dict[str, dict[str, str]]:
    data = yaml.safe_load((Path(__file__).parent / "synonyms.yaml").read_text(encoding="utf-8"))
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


def generic_mapping(header: Sequence[str], entity: str) -> dict[str, str]:
    """header -> canonical column for a file with no profile (canonical names or synonyms)."""
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
    return {h: mapping[h] for h in header if h in mapping}


def guess_entity(header: Sequence[str]) -> str:
    """The entity whose canonical columns and synonyms cover most of a profile-less header.

    A folder of exports audited without a config holds orders, spend or deal-stage tables next
    to contact lists; naming each file's entity by hand should not be needed when its headers
    already say what it is. Contacts win ties: it is the entity most files without a profile hold.
    """
    best, best_n = "contacts", len(generic_mapping(header, "contacts"))
    for entity in schema.ENTITIES:
        n = len(generic_mapping(header, entity))
        if n > best_n:
            best, best_n = entity, n
    return best
