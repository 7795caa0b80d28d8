"""Matching for anyone's plain tables: map columns to match fields, dedupe one or link two.

Used by `crm-audit dedupe` and the FEBRL accuracy check. Columns are recognised by common
names (given_name, surname, first_name, e-mail, zip, date_of_birth, soc_sec_id, ...) and the
caller may override any mapping.
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from audit.errors import ConfigError, InputError
from audit.match.blocking import Codes
from audit.match.engine import Owned, link
from audit.match.facts import value_facts
from audit.match.prepare import features
from audit.match.rules import MatchRules

# input column of `prepare.features` -> recognised header names (compared without case/punct)
FIELD_NAMES: dict[str, tuple[str, ...]] = {
    "first_name": ("first_name", "given_name", "firstname", "forename", "given", "first"),
    "last_name": ("last_name", "surname", "lastname", "family_name", "family", "last"),
    "full_name": ("full_name", "name", "contact_name", "customer_name", "display_name"),
    "email": ("email", "e_mail", "email_address", "mail"),
    "phone": ("phone", "telephone", "phone_number", "tel", "mobile", "cell", "phone_1"),
    "company": ("company", "organisation", "organization", "company_name", "account"),
    "address": ("address", "address_1", "address1", "street", "street_address", "address_line_1"),
    "street_number": ("street_number", "house_number", "street_no"),
    "city": ("city", "suburb", "town", "locality"),
    "postal_code": ("postal_code", "postcode", "zip", "zip_code", "zipcode", "post_code"),
    "region": ("region", "state", "province", "county", "prefecture"),
    "dob": ("date_of_birth", "dob", "birth_date", "birthdate", "birthday"),
    "ident": ("soc_sec_id", "ssn", "national_id", "social_security_number", "tax_id"),
    "external_id": ("external_id",),
}


def _norm(name: str) -> str:
    return re.sub(r"[^a-z0-9]+", "_", name.strip().casefold()).strip("_")


def map_columns(columns: list[str], overrides: dict[str, str], id_column: str) -> dict[str, str]:
    """field -> column, from common names, then the caller's overrides."""
    by_norm = {_norm(c): c for c in columns if c != id_column}
    out: dict[str, str] = {}
    taken: set[str] = set()
    for fld, names in FIELD_NAMES.items():
        for nm in names:
            col = by_norm.get(nm)
            if col is not None and col not in taken:
                out[fld] = col
                taken.add(col)
                break
    for fld, col in overrides.items():
        if fld not in FIELD_NAMES:
            raise ConfigError(
                f"unknown field {fld!r} in --field; use one of {', '.join(FIELD_NAMES)}."
            )
        if col not in columns:
            raise ConfigError(f"--field {fld}={col}: no column {col!r} in the input.")
        out[fld] = col
    return out


@dataclass
class PlainResult:
    pairs: pd.DataFrame  # id_l, id_r, score, band, rule_id, sim_<field>..., w_<field>..., why
    clusters: pd.DataFrame  # cluster_id, id
    stats: dict[str, Any]
    mapping: dict[str, str]


def dedupe_frames(
    frames: list[pd.DataFrame],
    id_column: str,
    rules: MatchRules,
    *,
    overrides: dict[str, str] | None = None,
    review: float = 0.6,
    auto: float = 0.95,
    names: tuple[str, ...] = ("input", "input2"),
    release: bool = False,
) -> PlainResult:
    """One frame: find duplicates in it. Two frames: link records across them.

    With `release`, the `frames` list is emptied once its rows are taken and the raw text is
    dropped once the features are built, so that a million-row file is not held in memory
    while pairs are scored (the caller must hold no other reference to the frames).
    """
    if not 1 <= len(frames) <= 2:
        raise ConfigError("give one file to deduplicate or two files to link.")
    cols = list(frames[0].columns)
    for name, fr in zip(names, frames, strict=False):
        if id_column not in fr.columns:
            known = ", ".join(map(str, fr.columns))
            raise InputError(f"{name}: no id column {id_column!r}; columns are {known}.")
        dup = fr[id_column].duplicated()
        if dup.any():
            bad = fr[id_column][dup].iloc[0]
            raise InputError(f"{name}: id {bad!r} appears more than once in {id_column!r}.")
    mapping = map_columns(cols, overrides or {}, id_column)
    if not mapping:
        raise ConfigError(
            "no column could be mapped to a match field; name them with --field, "
            "e.g. --field first_name=Vorname."
        )
    parts = []
    for side, fr in enumerate(frames):
        part = pd.DataFrame({fld: fr.get(col) for fld, col in mapping.items()})
        part["_id"] = fr[id_column].astype(str).to_numpy()
        part["_side"] = side
        part["source"] = names[side]
        parts.append(part)
    n_frames = len(frames)
    if release:
        del fr
        frames.clear()
    data = pd.concat(parts, ignore_index=True)
    del parts, part
    # a stable order independent of the input row order (determinism on shuffled input)
    data = data.sort_values(["_side", "_id"], kind="stable").reset_index(drop=True)
    t = time.perf_counter()
    feats = features(data)
    t_features = time.perf_counter() - t
    sides = data["_side"].to_numpy() if n_frames == 2 else None
    if release:
        data = data[["_id"]]
    t = time.perf_counter()
    codes = Codes(feats)  # begun by value_facts, finished by the comparer: encoded once
    facts = value_facts(feats, nicknames=rules.nicknames, codes=codes)
    t_facts = time.perf_counter() - t
    handed = Owned(feats, codes)
    del feats, codes  # `link` frees the features once it has encoded them
    linked = link(handed, rules, review=review, auto=auto, side=sides, facts=facts)
    t = time.perf_counter()
    ids = data["_id"].to_numpy(dtype=object)
    p = linked.pairs
    a, b = ids[p["i"].to_numpy()], ids[p["j"].to_numpy()]
    if sides is not None:  # id_l from the first file, id_r from the second
        left_first = sides[p["i"].to_numpy()] == 0
        id_l, id_r = np.where(left_first, a, b), np.where(left_first, b, a)
    else:
        id_l, id_r = np.where(a <= b, a, b), np.where(a <= b, b, a)
    pairs = p.drop(columns=["i", "j"])
    pairs.insert(0, "id_r", id_r)
    pairs.insert(0, "id_l", id_l)
    pairs = pairs.sort_values(["id_l", "id_r"], kind="stable").reset_index(drop=True)
    clusters = cluster_table(ids, linked.labels)
    linked.stats["timings"] = {
        "features": round(t_features, 4),
        "value_facts": round(t_facts, 4),
        **linked.stats["timings"],
        "tables": round(time.perf_counter() - t, 4),
    }
    return PlainResult(pairs=pairs, clusters=clusters, stats=linked.stats, mapping=mapping)


def cluster_table(ids: np.ndarray, labels: np.ndarray) -> pd.DataFrame:
    """cluster_id (sorted index of the cluster's smallest id, 'c000001'...), id; sorted."""
    has = labels >= 0
    df = pd.DataFrame({"label": labels[has], "id": ids[has].astype(str)})
    if df.empty:
        return pd.DataFrame({"cluster_id": pd.Series(dtype=object), "id": pd.Series(dtype=object)})
    first = df.groupby("label")["id"].min().sort_values(kind="stable")
    width = max(6, len(str(len(first))))
    number = {lab: f"c{k + 1:0{width}d}" for k, lab in enumerate(first.index)}
    df["cluster_id"] = df["label"].map(number)
    return (
        df[["cluster_id", "id"]]
        .sort_values(["cluster_id", "id"], kind="stable")
        .reset_index(drop=True)
    )
