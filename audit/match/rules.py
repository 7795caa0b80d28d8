"""Match rules as data: blocking keys, comparisons and training settings, read from rules/match/.

The engine executes whatever these files declare, so a user tunes matching by copying
`rules/match/contacts.default.yaml`, not by editing code (STYLE 2.0, habit 3).
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from audit.errors import ConfigError
from audit.packdata import find_rule_file

FEATURES = (
    "given",
    "family",
    "family_initial",
    "name",
    "email",
    "email_local",
    "email_domain",
    "phone",
    "phone_tail",
    "company",
    "address",
    "street_number",
    "postcode",
    "city",
    "region",
    "dob",
    "ident",
    "external_id",
    # romanized whole names per language (audit/match/xscript.py), for cross-script blocking:
    # xa_* reads a Latin name's last word first, xb_* reads it as written
    "xa_ko",
    "xb_ko",
    "xa_ja",
    "xb_ja",
    "xa_zh",
    "xb_zh",
    "xf_ko",  # romanized family name per language
    "xf_ja",
    "xf_zh",
    "xfb_ja",  # ... and a Latin name's first word read as a Japanese family name
)

Kind = Literal["exact", "name", "given_name", "text", "identifier", "date", "email", "phone"]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid")


class BlockingRule(_Model):
    id: str
    keys: list[str] = Field(min_length=1)
    max_block: int = Field(100, ge=2, description="skip key values shared by more records")
    exact_rule: str | None = Field(None, description="rule id when the pair agrees on this key")

    @model_validator(mode="after")
    def _known(self) -> BlockingRule:
        bad = [k for k in self.keys if k not in FEATURES]
        if bad:
            raise ValueError(f"unknown feature {bad[0]!r}; use one of {', '.join(FEATURES)}")
        return self


class Comparison(_Model):
    field: str
    kind: Kind
    group: str = "person"
    tf: bool = False
    close: float = Field(0.9, gt=0, le=1)
    mid: float = Field(0.8, gt=0, le=1)
    shared_at: int = Field(5, ge=2, description="phone: value shared by this many records")
    shared_persons: int | None = Field(
        None, ge=2, description="exact agreement on a value this many people hold is weak"
    )

    @model_validator(mode="after")
    def _known(self) -> Comparison:
        if self.field not in FEATURES:
            raise ValueError(f"unknown feature {self.field!r}; use one of {', '.join(FEATURES)}")
        return self


class Guard(_Model):
    """Evidence that is never enough alone: without agreement elsewhere the score is capped."""

    id: str
    fields: list[str] = Field(min_length=1)
    max_score: float = Field(0.5, ge=0, le=1)
    weak_levels: dict[str, list[str]] = Field(
        default_factory=dict, description="levels that do not count as agreement elsewhere"
    )


class Group(_Model):
    rest: float = Field(1.0, ge=0, le=1)
    same: dict[str, str] = Field(
        default_factory=dict,
        description="field -> lowest level: when all agree this well, `rest_same` applies",
    )
    rest_same: float = Field(1.0, ge=0, le=1, description="rest of agreements when `same` holds")

    @model_validator(mode="after")
    def _known(self) -> Group:
        bad = [f for f in self.same if f not in FEATURES]
        if bad:
            raise ValueError(f"unknown feature {bad[0]!r}; use one of {', '.join(FEATURES)}")
        return self


class Training(_Model):
    random_pairs: int = Field(200_000, ge=1000)
    sample_pairs: int = Field(400_000, ge=1000)
    iterations: int = Field(4, ge=1, le=20)
    confident: float = Field(0.99, gt=0.5, lt=1)
    seed: int = 42
    tf_max_bits: float = Field(6.0, ge=0)


class MatchRules(_Model):
    version: int = 1
    blocking: list[BlockingRule]
    comparisons: list[Comparison]
    groups: dict[str, Group] = Field(default_factory=dict)
    guards: list[Guard] = Field(default_factory=list)
    training: Training = Field(default_factory=Training)
    nicknames: dict[str, list[str]] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _groups(self) -> MatchRules:
        from audit.match.compare import LEVELS

        for c in self.comparisons:
            self.groups.setdefault(c.group, Group())
        kinds = {c.field: c.kind for c in self.comparisons}
        for g, grp in self.groups.items():
            for fld, least in grp.same.items():
                known = LEVELS[kinds[fld]] if fld in kinds else ()
                if least not in known:
                    raise ValueError(
                        f"groups.{g}.same: {fld!r} has no level {least!r}; "
                        f"compare {fld!r} and use one of {', '.join(known[1:]) or '(none)'}"
                    )
        return self


def load_rules(name: str, base_dir: Path | None = None) -> MatchRules:
    """Rules by name ('contacts.default' -> rules/match/contacts.default.yaml) or YAML path."""
    ref = name if name.endswith((".yaml", ".yml")) else f"match/{name}"
    path = find_rule_file(ref, base_dir=base_dir, what="match rules")
    return _load(str(path.resolve()))


@lru_cache(maxsize=8)
def _load(path: str) -> MatchRules:
    p = Path(path)
    try:
        data = yaml.safe_load(p.read_text(encoding="utf-8")) or {}
    except yaml.YAMLError as e:
        raise ConfigError(f"{p}: not valid YAML ({e}).") from None
    if "nicknames" not in data:
        nick = p.parent / "nicknames.yaml"
        if not nick.is_file():
            nick = find_rule_file("match/nicknames", what="nickname list")
        data["nicknames"] = yaml.safe_load(nick.read_text(encoding="utf-8")) or {}
    try:
        return MatchRules.model_validate(data)
    except ValidationError as e:
        err = e.errors()[0]
        loc = ".".join(str(x) for x in err["loc"])
        raise ConfigError(f"{p}: {loc}: {err['msg']}.") from None
