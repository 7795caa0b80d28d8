"""Rule packs: YAML files of declarative rules, checked with pydantic before anything runs.

A rule's kind-specific parameters may be written next to the common keys (`pattern: ...`,
`days: 365`) or under `params:`; either way they are validated by the kind's own parameter
model, so a misspelt parameter is an error naming the file, line and rule id rather than a rule
that silently checks nothing. Config overrides (disable, severity, params) are applied here too.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from audit.config import RulesConfig
from audit.errors import ConfigError
from audit.packdata import find_rule_file
from audit.schema import Dimension, Severity

RULE_ID = re.compile(r"^[a-z][a-z0-9_]*\.[a-z][a-z0-9_]*\.[a-z][a-z0-9_]*$")
_COMMON = {"id", "kind", "field", "dimension", "severity", "message", "suggestion", "params"}


class RuleSpec(BaseModel):
    """One rule as written in a pack (parameters still untyped)."""

    model_config = ConfigDict(extra="forbid")

    id: str
    kind: str
    field: str | None = None
    dimension: Dimension
    severity: Severity = Severity.WARNING
    message: str | dict[str, str]  # English, or {en: ..., ko: ..., ja: ..., zh: ...}
    suggestion: str | dict[str, str] | None = None
    params: dict[str, Any] = Field(default_factory=dict)

    @field_validator("message", "suggestion")
    @classmethod
    def _message(cls, v: str | dict[str, str] | None) -> str | dict[str, str] | None:
        """Translations sit beside the rule; each keeps the English placeholders."""
        if v is None or isinstance(v, str):
            return v
        from audit.messages import LANGUAGES

        if "en" not in v:
            raise ValueError("a translated message needs its English text under 'en'")
        unknown = sorted(set(v) - set(LANGUAGES))
        if unknown:
            raise ValueError(f"unknown language(s) {unknown}; use {', '.join(LANGUAGES)}")
        want = set(re.findall(r"\{(\w+)", v["en"]))
        for lang, text in v.items():
            if set(re.findall(r"\{(\w+)", text)) != want:
                raise ValueError(f"the {lang} message must use the placeholders of 'en': {want}")
        return v

    @field_validator("id")
    @classmethod
    def _id(cls, v: str) -> str:
        if not RULE_ID.match(v):
            raise ValueError("rule ids look like '<entity>.<field>.<check>' (lower-case, dotted)")
        return v


class PackSpec(BaseModel):
    model_config = ConfigDict(extra="forbid")

    pack: str
    version: int = 1
    entity: str
    description: str = ""
    rules: list[RuleSpec]


@dataclass(frozen=True)
class Rule:
    """A rule ready to run: typed parameters, overrides applied."""

    id: str
    kind: str
    entity: str
    field: str | None
    dimension: str
    severity: str
    message: str
    suggestion: str | None
    params: Any  # the kind's pydantic params model instance
    pack: str
    source: str  # file the rule came from (for errors)
    translations: tuple[tuple[str, str], ...] = ()  # (language, message template) beside `en`
    suggestion_translations: tuple[tuple[str, str], ...] = ()  # (language, suggestion template)

    def param_dict(self) -> dict[str, Any]:
        return self.params.model_dump(mode="json", by_alias=True) if self.params is not None else {}


def _rule_lines(text: str) -> list[tuple[int, dict[str, int]]]:
    """For each item of `rules:`, its 1-based line and the lines of its keys (composed once)."""
    try:
        root = yaml.compose(text)
    except yaml.YAMLError:
        return []
    if not isinstance(root, yaml.MappingNode):
        return []
    for k, v in root.value:
        if k.value == "rules" and isinstance(v, yaml.SequenceNode):
            out = []
            for node in v.value:
                keys = {}
                if isinstance(node, yaml.MappingNode):
                    keys = {str(k2.value): k2.start_mark.line + 1 for k2, _ in node.value}
                out.append((node.start_mark.line + 1, keys))
            return out
    return []


def _line_of(lines: list[tuple[int, dict[str, int]]], i: int, key: str | None = None) -> int | None:
    if i >= len(lines):
        return None
    line, keys = lines[i]
    return keys.get(key, line) if key else line


def load_pack(path: Path, overrides: RulesConfig | None = None) -> list[Rule]:
    """Read, check and type one pack file."""
    from .kinds import KINDS

    try:
        text = path.read_text(encoding="utf-8-sig")
        data = yaml.safe_load(text)
    except (OSError, UnicodeDecodeError) as e:
        raise ConfigError(f"{path}: could not read the rule pack ({e}).") from None
    except yaml.YAMLError as e:
        mark = getattr(e, "problem_mark", None)
        line = f", line {mark.line + 1}" if mark else ""
        raise ConfigError(f"{path}{line}: not valid YAML ({getattr(e, 'problem', e)}).") from None
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: a rule pack is a mapping with pack, entity and rules.")
    raw_rules = data.get("rules")
    if isinstance(raw_rules, list):
        moved = []
        for r in raw_rules:
            if isinstance(r, dict):
                r = dict(r)
                extra = {k: r.pop(k) for k in list(r) if k not in _COMMON}
                r["params"] = {**extra, **(r.get("params") or {})}
            moved.append(r)
        data = {**data, "rules": moved}
    try:
        pack = PackSpec.model_validate(data)
    except ValidationError as e:
        err = e.errors()[0]
        loc = err["loc"]
        idx = loc[1] if len(loc) > 1 and loc[0] == "rules" and isinstance(loc[1], int) else None
        rid = ""
        line = ""
        if idx is not None:
            raw = raw_rules[idx] if isinstance(raw_rules, list) else {}
            rid = f" (rule {raw.get('id')})" if isinstance(raw, dict) and raw.get("id") else ""
            n = _line_of(_rule_lines(text), idx, str(loc[2]) if len(loc) > 2 else None)
            line = f", line {n}" if n else ""
        where = ".".join(str(p) for p in loc)
        raise ConfigError(f"{path}{line}{rid}: {where}: {err['msg']}.") from None
    rules: list[Rule] = []
    seen: set[str] = set()
    lines = _rule_lines(text)
    for i, spec in enumerate(pack.rules):
        n = _line_of(lines, i)
        where = f"{path}{f', line {n}' if n else ''} (rule {spec.id})"
        if spec.id in seen:
            raise ConfigError(f"{where}: rule id used twice in this pack.")
        seen.add(spec.id)
        if not spec.id.startswith(pack.entity + "."):
            raise ConfigError(f"{where}: rule ids in this pack start with '{pack.entity}.'.")
        if spec.kind not in KINDS:
            KINDS.get(spec.kind)  # raises a ConfigError with a suggestion
        kind = KINDS.get(spec.kind)
        params = dict(spec.params)
        severity: str = spec.severity.value
        if overrides is not None:
            params.update(overrides.params.get(spec.id, {}))
            if spec.id in overrides.severity:
                try:
                    severity = Severity(overrides.severity[spec.id]).value
                except ValueError:
                    raise ConfigError(
                        f"rules.severity.{spec.id}: use error, warning or info."
                    ) from None
        try:
            typed = kind.params.model_validate(params)
        except ValidationError as e:
            errs = e.errors()
            err = next((x for x in errs if x["type"] == "extra_forbidden"), errs[0])
            p = ".".join(str(x) for x in err["loc"]) or "params"
            msg = err["msg"]
            if err["type"] == "extra_forbidden":
                known = ", ".join(kind.params.model_fields) or "none"
                msg = f"unknown parameter for kind '{spec.kind}' (known: {known})"
            elif err["type"] == "missing":
                msg = f"kind '{spec.kind}' needs this parameter"
            raise ConfigError(f"{where}: {p}: {msg}.") from None
        if kind.needs_field and not spec.field:
            raise ConfigError(f"{where}: kind '{spec.kind}' needs a field.")
        rules.append(
            Rule(
                id=spec.id,
                kind=spec.kind,
                entity=pack.entity,
                field=spec.field,
                dimension=spec.dimension.value,
                severity=severity,
                message=_english(spec.message) or "",
                suggestion=_english(spec.suggestion),
                params=typed,
                pack=pack.pack,
                source=str(path),
                translations=_others(spec.message),
                suggestion_translations=_others(spec.suggestion),
            )
        )
    return rules


def _english(text: str | dict[str, str] | None) -> str | None:
    return text["en"] if isinstance(text, dict) else text


def _others(text: str | dict[str, str] | None) -> tuple[tuple[str, str], ...]:
    """The translations of a message or suggestion, by language."""
    return (
        tuple(sorted((k, v) for k, v in text.items() if k != "en"))
        if isinstance(text, dict)
        else ()
    )


def load_rules(cfg: RulesConfig, base_dir: Path | None = None) -> list[Rule]:
    """Every enabled rule of the configured packs, in pack order; ids must be unique overall."""
    out: list[Rule] = []
    seen: dict[str, str] = {}
    for name in cfg.packs:
        path = find_rule_file(name, base_dir=base_dir)
        for rule in load_pack(path, cfg):
            if rule.id in seen:
                raise ConfigError(
                    f"{path}: rule id {rule.id} is also defined in {seen[rule.id]}; ids are global."
                )
            seen[rule.id] = str(path)
            if rule.id not in cfg.disable:
                out.append(rule)
    unknown = sorted(set(cfg.disable) - set(seen))
    if unknown:
        raise ConfigError(f"rules.disable: unknown rule id(s) {', '.join(unknown)}.")
    unknown = sorted((set(cfg.severity) | set(cfg.params)) - set(seen))
    if unknown:
        raise ConfigError(f"rules.severity/params: unknown rule id(s) {', '.join(unknown)}.")
    return out
