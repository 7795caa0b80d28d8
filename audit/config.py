"""Pipeline configs: pydantic models, YAML loading, and errors that point at the YAML line.

Unknown keys are rejected (`extra="forbid"`) so that a typo is an error rather than a setting
silently ignored. Relative paths in a config are resolved against the config file's folder,
so a config can be moved together with its data.
"""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from audit.errors import ConfigError, InputError
from audit.schema import Dimension


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", validate_default=True)


class SourceConfig(_Model):
    """One source: a file, a glob or a folder of exports."""

    name: str = Field(description="short name used in record ids and reports (a-z, 0-9, _ -)")
    path: str = Field(description="file, glob (data/*.csv) or folder; relative to the config")
    format: str = Field(
        "auto",
        description="reader: auto (by suffix and content), csv, excel, mbox, eml, vcf, ...",
    )
    profile: str = Field(
        "auto", description="export profile (hubspot.contacts, ...), 'auto' or 'none'"
    )
    entity: str | None = Field(
        None,
        description="canonical entity when no profile applies (contacts, deals, ...)",
    )
    encoding: str | None = Field(None, description="text encoding override (cp949, cp932, ...)")
    delimiter: str | None = Field(None, description="CSV delimiter override")
    sheet: str | None = Field(None, description="spreadsheet sheet name (default: every sheet)")
    header_row: int | None = Field(None, description="1-based header row (default: detected)")
    phone_region: str | None = Field(
        None,
        description="default phone region (ISO alpha-2) for numbers without +country",
    )
    timezone: str | None = Field(None, description="timezone of naive timestamps (IANA name)")
    columns: dict[str, str] = Field(
        default_factory=dict, description="header -> canonical column overrides"
    )
    priority: int = Field(0, description="survivorship priority: higher wins when values conflict")
    formula_guard: bool = Field(
        False,
        description="the file was written by crm-audit (merge apply): a leading ' that guards "
        "a formula-like value is removed on read",
    )

    @field_validator("name")
    @classmethod
    def _name(cls, v: str) -> str:
        if not re.fullmatch(r"[A-Za-z0-9_\-]+", v):
            raise ValueError("use letters, digits, '_' or '-' only (it becomes part of ids)")
        return v


class NormalizeConfig(_Model):
    default_region: str = Field(
        "US",
        description="phone region for numbers with no country code and no source region",
    )
    timezone: str = Field("UTC", description="timezone of naive timestamps")


# the rule packs in rules/ that a config uses unless it names its own
SHIPPED_PACKS: tuple[str, ...] = (
    "contacts.core",
    "contacts.stale",
    "deals.core",
    "tickets.core",
    "subscriptions.core",
    "orders.core",
    "surveys.core",
)


class RulesConfig(_Model):
    packs: list[str] = Field(
        default_factory=lambda: list(SHIPPED_PACKS),
        description="rule pack names (rules/*.yaml) or paths to your own packs",
    )
    disable: list[str] = Field(default_factory=list, description="rule ids to switch off")
    severity: dict[str, str] = Field(
        default_factory=dict, description="rule id -> severity override"
    )
    params: dict[str, dict[str, Any]] = Field(
        default_factory=dict,
        description="rule id -> parameter overrides (e.g. days: 365)",
    )
    gx: bool = Field(
        True,
        description="also run the packs as a Great Expectations suite (dataset contract)",
    )
    gx_docs: str | None = Field(None, description="folder to write GX Data Docs into")


class MatchConfig(_Model):
    rules: str = Field("contacts.default", description="match rules name or path")
    auto_threshold: float = Field(
        0.95,
        ge=0,
        le=1,
        description="match probability at or above which a pair is 'auto'",
    )
    review_threshold: float = Field(
        0.6,
        ge=0,
        le=1,
        description="match probability at or above which a pair is 'review'",
    )
    apply_auto: bool = Field(
        False,
        description="let 'merge apply' merge auto-band clusters without a decision",
    )
    survivorship: str = Field(
        "survivorship/contacts.default",
        description="survivorship rules (golden-record values) name or path",
    )


class Thresholds(_Model):
    overall: float = Field(0.8, ge=0, le=1, description="minimum overall quality score")
    dimensions: dict[Dimension, float] = Field(
        default_factory=dict, description="minimum score per dimension"
    )
    rules: dict[str, float] = Field(
        default_factory=dict, description="rule id -> share of rows that must pass"
    )
    kpi_inputs: float = Field(
        0.9,
        ge=0,
        le=1,
        description="minimum completeness/validity of each KPI's input fields",
    )
    strict: bool = Field(False, description="warnings fail the gate too")
    weights: dict[Dimension, float] = Field(
        default_factory=dict,
        description="dimension -> weight in the overall score (default 1 for each measured one)",
    )


class Period(_Model):
    start: dt.date
    end: dt.date = Field(description="exclusive end")


class KpiConfig(_Model):
    period: str | Period | None = Field(
        None,
        description="2026-Q1, 2026-03, 2026, or {start, end}; default: the quarter before as_of",
    )
    include: list[str] | Literal["all"] = Field("all", description="KPI ids to compute")
    params: dict[str, dict[str, Any]] = Field(
        default_factory=dict,
        description="KPI id -> parameters (e.g. clv: {variant: ...})",
    )

    @field_validator("period", mode="before")
    @classmethod
    def _year_as_text(cls, v: Any) -> Any:
        return str(v) if isinstance(v, int) and not isinstance(v, bool) else v


class OutputConfig(_Model):
    dir: str = Field("reports", description="folder that receives run folders")
    formats: list[str] = Field(
        default_factory=lambda: ["html", "json", "csv", "md", "xlsx"],
        description="report formats",
    )
    redact: bool = Field(
        False, description="mask emails, phones, id numbers and secret columns in every output"
    )
    language: Literal["en", "ko", "ja", "zh"] = Field("en", description="label language")


class HistoryConfig(_Model):
    enabled: bool = True
    path: str | None = Field(
        None, description="SQLite file; default: history.sqlite in the output dir"
    )


class PipelineConfig(_Model):
    version: Literal[1] = 1
    as_of: dt.date | None = Field(
        None, description="reference date for freshness and KPIs; default: today"
    )
    sources: list[SourceConfig] = Field(min_length=1)
    normalize: NormalizeConfig = Field(default_factory=NormalizeConfig)
    rules: RulesConfig = Field(default_factory=RulesConfig)
    stale_after_days: int = Field(
        730, ge=1, description="no activity for this long makes an email stale"
    )
    match: MatchConfig = Field(default_factory=MatchConfig)
    thresholds: Thresholds = Field(default_factory=Thresholds)
    kpis: KpiConfig = Field(default_factory=KpiConfig)
    output: OutputConfig = Field(default_factory=OutputConfig)
    history: HistoryConfig = Field(default_factory=HistoryConfig)
    base_dir: str = Field(
        ".", description="folder relative paths resolve against (set by the loader)"
    )

    @field_validator("sources")
    @classmethod
    def _unique_names(cls, v: list[SourceConfig]) -> list[SourceConfig]:
        seen: set[str] = set()
        for s in v:
            if s.name in seen:
                raise ValueError(f"source name {s.name!r} is used twice; names must be unique")
            seen.add(s.name)
        return v

    def resolve(self, path: str) -> Path:
        """A path from this config, resolved against the config's folder."""
        p = Path(path).expanduser()
        return p if p.is_absolute() else Path(self.base_dir) / p


def _node_for(root: yaml.Node | None, loc: tuple[Any, ...]) -> yaml.Node | None:
    """The YAML node a pydantic error location points at (the key's node for mappings)."""
    node, mark = root, root
    for part in loc:
        if isinstance(node, yaml.MappingNode):
            hit = next(
                (
                    (k, v)
                    for k, v in node.value
                    if isinstance(k, yaml.ScalarNode) and k.value == str(part)
                ),
                None,
            )
            if hit is None:
                return mark
            mark, node = hit
        elif isinstance(node, yaml.SequenceNode) and isinstance(part, int):
            if part >= len(node.value):
                return mark
            mark = node = node.value[part]
        else:
            return mark
    return mark


def _loc_text(loc: tuple[Any, ...]) -> str:
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


def parse_config(
    data: Any,
    *,
    source: str = "<config>",
    text: str | None = None,
    base_dir: Path | None = None,
) -> PipelineConfig:
    """Validate a config mapping; errors name the file, YAML line and key."""
    if not isinstance(data, dict):
        raise ConfigError(f"{source}: the config must be a YAML mapping (key: value).")
    data = dict(data)
    data.setdefault("base_dir", str(base_dir or Path(".")))
    try:
        return PipelineConfig.model_validate(data)
    except ValidationError as e:
        err = e.errors()[0]
        loc = tuple(err["loc"])
        # pydantic adds the union member name to locs (e.g. 'str', 'Period'): drop those
        loc = tuple(p for p in loc if not (isinstance(p, str) and p[:1].isupper()))
        line = ""
        if text is not None:
            try:
                node = _node_for(yaml.compose(text), loc)
            except yaml.YAMLError:
                node = None
            if node is not None:
                line = f", line {node.start_mark.line + 1}"
        where = _loc_text(loc) or "(top level)"
        msg = err["msg"]
        if err["type"] == "extra_forbidden":
            msg = f"unknown key '{loc[-1]}'; check its spelling against configs/example.yaml"
        elif err["type"] == "missing":
            msg = "this key is required"
        more = f" (and {len(e.errors()) - 1} more)" if len(e.errors()) > 1 else ""
        raise ConfigError(f"{source}{line} ({where}): {msg}{more}.") from None


def load_config(path: str | Path) -> PipelineConfig:
    """Load and validate a pipeline config file.

    Example:
        cfg = load_config("configs/example.yaml")
    """
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise ConfigError(f"{p}: config file not found.") from None
    except (OSError, UnicodeDecodeError) as e:
        raise InputError(f"{p}: could not read the config ({e}). Save it as UTF-8.") from None
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as e:
        mark = getattr(e, "problem_mark", None)
        line = f", line {mark.line + 1}" if mark else ""
        problem = getattr(e, "problem", None) or str(e)
        raise ConfigError(f"{p}{line}: not valid YAML ({problem}).") from None
    if data is None:
        raise ConfigError(f"{p}: the config is empty; see configs/example.yaml.")
    return parse_config(data, source=str(p), text=text, base_dir=p.resolve().parent)


def config_for_paths(paths: list[Path], *, as_of: dt.date | None = None) -> PipelineConfig:
    """A default config for exports given directly on the command line (auto-detected)."""
    sources = []
    used: set[str] = set()
    for p in paths:
        name = re.sub(r"[^A-Za-z0-9_\-]+", "_", p.stem).strip("_").lower() or "source"
        base, i = name, 2
        while name in used:
            name, i = f"{base}_{i}", i + 1
        used.add(name)
        sources.append({"name": name, "path": str(p.resolve())})
    return parse_config(
        {"sources": sources, "as_of": as_of},
        source="<command line>",
        base_dir=Path.cwd(),
    )


def dump_config(cfg: PipelineConfig) -> dict[str, Any]:
    """The resolved config as plain JSON-able data, for run.json."""
    return cfg.model_dump(mode="json")
