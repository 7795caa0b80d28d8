"""Pipeline configs: pydantic models, YAML loading, and errors that point at the YAML line.

Unknown keys are rejected (`extra="forbid"`) so that a typo is an error rather than a setting
silently ignored. Relative paths in a config are resolved against the config file's folder,
so a config can be moved together with its data.
"""

from __future__ import annotations

import codecs
import datetime as dt
import re
import stat
from pathlib import Path
from typing import Annotated, Any, Literal

import yaml
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    PrivateAttr,
    ValidationError,
    field_validator,
    model_validator,
)

from audit.errors import ConfigError, InputError
from audit.schema import Dimension


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", validate_default=True)


def _check_timezone(v: str | None) -> str | None:
    """An IANA zone name, checked now: a typo would otherwise shift every timestamp silently."""
    if v is None:
        return v
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    try:
        ZoneInfo(v)
    except (ZoneInfoNotFoundError, ValueError, OSError):
        raise ValueError(
            f"unknown time zone {v!r}; use an IANA name such as Asia/Seoul, Europe/Berlin or UTC"
        ) from None
    return v


def _check_region(v: str | None) -> str | None:
    """An ISO 3166-1 alpha-2 region that phonenumbers knows (upper-cased)."""
    if v is None:
        return v
    import phonenumbers

    up = v.strip().upper()
    if up not in phonenumbers.SUPPORTED_REGIONS:
        raise ValueError(
            f"unknown phone region {v!r}; use a two-letter country code such as KR, JP, US or DE"
        )
    return up


# a share of rows, a score or a threshold: always 0..1
Share = Annotated[float, Field(ge=0, le=1)]


class SourceConfig(_Model):
    """One source: a file, a glob or a folder of exports, or a Spark table."""

    name: str = Field(
        description="short name used in record ids and reports (letters of any script, 0-9, _ -)"
    )
    path: str | None = Field(
        None,
        description="file, folder or glob (data/*.csv, only when no file has that exact name); "
        "relative to the config. engine: spark also reads URIs (s3a://, hdfs://, dbfs:/, ...)",
    )
    table: str | None = Field(
        None,
        description="a Spark table or view (db.contacts) to read instead of a path; needs "
        "engine: spark",
    )
    format: str = Field(
        "auto",
        description="reader: auto (by suffix and content), csv, excel, mbox, eml, vcf, ...; "
        "parquet, and csv for a folder with engine: spark, are read by the Spark session",
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
        description="phone region (ISO alpha-2) for numbers without +country; wins over the"
        " record's country and over the region inferred from the source",
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
        # \w: letters of any script, so a file named 顧客管理_2026.xlsx keeps a readable name
        if not re.fullmatch(r"[\w\-]+", v):
            raise ValueError("use letters, digits, '_' or '-' only (it becomes part of ids)")
        return v

    @field_validator("path")
    @classmethod
    def _path(cls, v: str | None) -> str | None:
        if v is not None and not v.strip():  # '' would silently mean "the config's own folder"
            raise ValueError("give a file, folder or glob; an empty path names nothing")
        return v

    @field_validator("table")
    @classmethod
    def _table(cls, v: str | None) -> str | None:
        # a name, never SQL: it is handed to spark.table(), not spliced into a query
        if v is not None and not re.fullmatch(
            r"[\w\-]+(\.[\w\-]+){0,2}|`[^`]+`(\.`[^`]+`){0,2}", v
        ):
            raise ValueError(
                f"{v!r} is not a table name; give [catalog.][database.]table, e.g. crm.contacts"
            )
        return v

    @model_validator(mode="after")
    def _path_or_table(self) -> SourceConfig:
        if self.path is None and self.table is None:
            raise ValueError(
                "give path (a file, folder or glob), or table (a Spark table, with engine: spark)"
            )
        if self.path is not None and self.table is not None:
            raise ValueError("give path or table, not both")
        if self.table is not None and self.format != "auto":
            raise ValueError(f"format {self.format!r} applies to files; leave it out for table")
        return self

    @field_validator("encoding")
    @classmethod
    def _encoding(cls, v: str | None) -> str | None:
        if v is None:
            return v
        try:
            codecs.lookup(v)
        except LookupError:
            raise ValueError(
                f"unknown encoding {v!r}; use e.g. utf-8, cp949, cp932, gb18030, big5 or cp1252"
            ) from None
        return v

    @field_validator("timezone")
    @classmethod
    def _timezone(cls, v: str | None) -> str | None:
        return _check_timezone(v)

    @field_validator("phone_region")
    @classmethod
    def _region(cls, v: str | None) -> str | None:
        return _check_region(v)

    @field_validator("delimiter")
    @classmethod
    def _delimiter(cls, v: str | None) -> str | None:
        if v is None:
            return v
        if v.lower() in ("tab", "\\t"):
            v = "\t"
        if len(v) != 1:
            raise ValueError(f"a delimiter is one character (',', ';', '|' or tab), not {v!r}")
        return v

    @field_validator("header_row")
    @classmethod
    def _header_row(cls, v: int | None) -> int | None:
        if v is not None and v < 1:
            raise ValueError("header_row counts from 1 (the first line or row of the file)")
        return v


class NormalizeConfig(_Model):
    default_region: str = Field(
        "US",
        description="phone region when neither sources[].phone_region, the record's country"
        " nor the source's evidence gives one",
    )
    timezone: str = Field("UTC", description="timezone of naive timestamps")

    @field_validator("timezone")
    @classmethod
    def _timezone(cls, v: str) -> str:
        return _check_timezone(v) or v

    @field_validator("default_region")
    @classmethod
    def _region(cls, v: str) -> str:
        return _check_region(v) or v


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


# The default floor of each dimension: a dimension under its floor fails the gate whatever the
# overall score, so one red dimension cannot hide behind five green ones. Why each value is
# defensible is written in the README ("Quality gate"); a config lowers one or switches it off.
DEFAULT_FLOORS: dict[Dimension, float] = {
    Dimension.COMPLETENESS: 0.80,
    Dimension.VALIDITY: 0.90,
    Dimension.UNIQUENESS: 0.90,
    Dimension.FRESHNESS: 0.80,
    Dimension.CONSISTENCY: 0.90,
    Dimension.INTEGRITY: 0.95,
}


# why each default floor is where it is (printed in the README by cog)
FLOOR_REASONS: dict[Dimension, str] = {
    Dimension.COMPLETENESS: (
        "more than one row in five without a required value (an email, a name, a deal amount) "
        "leaves every count and segment built on that field short by over 20%"
    ),
    Dimension.VALIDITY: (
        "one row in ten with an invalid value is one unreachable customer or wrong amount in "
        "ten; invalid values are fixable entry errors, so the bar is high"
    ),
    Dimension.UNIQUENESS: (
        "more than one extra copy per ten records inflates customer counts, reach and "
        "per-customer averages by over 10%: merge first, then report"
    ),
    Dimension.FRESHNESS: (
        "lower than validity because contact data decays on its own (people change jobs, "
        "mailboxes close); past one dead or stale address in five, reach KPIs mislead"
    ),
    Dimension.CONSISTENCY: (
        "contradictions (closed deals without a close date, a phone from another country) "
        "are entry errors; more than one in ten means a broken process, not noise"
    ),
    Dimension.INTEGRITY: (
        "a reference is either right or wrong, and every orphan (a deal whose contact does not "
        "exist) drops out of per-customer revenue: the strictest floor"
    ),
}


class Thresholds(_Model):
    overall: float = Field(0.8, ge=0, le=1, description="minimum overall quality score")
    dimensions: dict[Dimension, Share | None] = Field(
        default_factory=lambda: dict[Dimension, float | None](DEFAULT_FLOORS),
        description=(
            "minimum score (share of checked rows with no failed check) per dimension; keys "
            "you set replace their default, 0 or null switches a floor off; default: "
            + ", ".join(f"{d.value} {v:g}" for d, v in DEFAULT_FLOORS.items())
        ),
    )
    rules: dict[str, Share] = Field(
        default_factory=dict, description="rule id -> share of rows that must pass"
    )
    kpi_inputs: float = Field(
        0.9,
        ge=0,
        le=1,
        description="minimum completeness/validity of each KPI's input fields",
    )
    strict: bool = Field(False, description="warnings fail the gate too")
    weights: dict[Dimension, Annotated[float, Field(ge=0, le=1000)]] = Field(
        default_factory=dict,
        description="dimension -> weight in the overall score (default 1 for each measured one)",
    )

    @field_validator("dimensions", mode="after")
    @classmethod
    def _floors_over_defaults(
        cls, v: dict[Dimension, float | None]
    ) -> dict[Dimension, float | None]:
        for dim, floor in v.items():
            if floor is not None and not 0 <= floor <= 1:
                raise ValueError(f"{dim.value}: a floor is a share between 0 and 1, got {floor}")
        return {**DEFAULT_FLOORS, **v}

    def floors(self) -> dict[str, float]:
        """The floors in force: defaults merged with the config, switched-off ones dropped."""
        return {str(d): float(f) for d, f in sorted(self.dimensions.items()) if f}


class Period(_Model):
    start: dt.date
    end: dt.date = Field(description="exclusive end")


_WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


class BusinessHours(_Model):
    """Opening hours for support durations (in kpis.timezone)."""

    start: str = Field("09:00", description="opening time HH:MM")
    end: str = Field("18:00", description="closing time HH:MM")
    days: list[str] = Field(
        default_factory=lambda: ["mon", "tue", "wed", "thu", "fri"],
        description="working days (mon ... sun)",
    )

    @field_validator("start", "end")
    @classmethod
    def _hhmm(cls, v: str) -> str:
        m = re.fullmatch(r"(\d{1,2}):(\d{2})", str(v).strip())
        if not m or int(m[1]) > 24 or int(m[2]) > 59:
            raise ValueError(f"{v!r} is not a time of day; write it as HH:MM (09:00)")
        return f"{int(m[1]):02d}:{m[2]}"

    @field_validator("days")
    @classmethod
    def _days(cls, v: list[str]) -> list[str]:
        out = [str(d).strip().lower()[:3] for d in v]
        bad = [d for d in out if d not in _WEEKDAYS]
        if bad or not out:
            raise ValueError(f"days are mon, tue, wed, thu, fri, sat, sun (got {v!r})")
        return out

    @model_validator(mode="after")
    def _order(self) -> BusinessHours:
        if self.end <= self.start:
            raise ValueError(f"end {self.end} must be after start {self.start}")
        return self


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
    currency: str | None = Field(
        None, description="currency to report money in; amounts in others need currency_rates"
    )
    currency_rates: dict[str, Annotated[float, Field(gt=0)]] = Field(
        default_factory=dict,
        description="currency code -> value of 1 unit in kpis.currency (e.g. KRW: 0.00072)",
    )
    business_hours: BusinessHours | None = Field(
        None,
        description="measure support durations (resolution, first reply, SLA) in these "
        "opening hours instead of calendar hours",
    )
    timezone: str | None = Field(
        None,
        description="the business's time zone: period bounds, calendar days and date-only "
        "values; default: the sources' zone when they all name the same one, else "
        "normalize.timezone",
    )

    @field_validator("timezone")
    @classmethod
    def _timezone(cls, v: str | None) -> str | None:
        return _check_timezone(v)

    @field_validator("currency")
    @classmethod
    def _currency(cls, v: str | None) -> str | None:
        if v is not None and not re.fullmatch(r"[A-Za-z]{3}", v.strip()):
            raise ValueError(f"{v!r} is not a three-letter currency code such as USD or KRW")
        return v.strip().upper() if v else v

    @field_validator("currency_rates")
    @classmethod
    def _rates(cls, v: dict[str, float]) -> dict[str, float]:
        bad = [k for k in v if not re.fullmatch(r"[A-Za-z]{3}", k.strip())]
        if bad:
            raise ValueError(f"{', '.join(bad)}: use three-letter currency codes as keys")
        return {k.strip().upper(): r for k, r in v.items()}

    @model_validator(mode="after")
    def _rates_need_base(self) -> KpiConfig:
        if self.currency_rates and not self.currency:
            raise ValueError("currency_rates needs kpis.currency (the currency they convert to)")
        return self

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
    language: Literal["en", "ko", "ja", "zh"] = Field(
        "en", description="language of the reports and terminal summary"
    )


class LimitsConfig(_Model):
    """Resource bounds for reading files (a small hostile file must not take the machine)."""

    max_sheet_cells: int = Field(
        50_000_000, ge=1, description="largest used area (rows x columns) of one sheet"
    )
    max_unpacked_mb: int = Field(
        2048, ge=1, description="largest inflated size of one zip archive or workbook (MiB)"
    )
    max_members: int = Field(10_000, ge=1, description="most files inside one zip archive")
    max_nesting: int = Field(
        200, ge=1, le=900, description="deepest JSON nesting; deeper records are rejected"
    )


class SparkConfig(_Model):
    """Where and how the Spark engine runs (used only with engine: spark)."""

    master: str = Field(
        "local[2]", description="Spark master: local[N], yarn, spark://host:port, k8s://..."
    )
    conf: dict[str, str | int | float | bool] = Field(
        default_factory=dict, description="Spark settings for the session (spark.* keys)"
    )
    partitions: int | None = Field(
        None,
        ge=1,
        le=100_000,
        description="most partitions or hash buckets a stage cuts a table into (one per 50,000 "
        "rows); default: twice the session's cores",
    )
    driver_edges: int = Field(
        5_000_000,
        ge=0,
        description="edges up to which clusters are connected on the driver; above, in Spark",
    )

    @field_validator("conf")
    @classmethod
    def _spark_keys(cls, v: dict[str, Any]) -> dict[str, Any]:
        for key in v:
            if not str(key).startswith("spark."):
                raise ValueError(
                    f"{key!r} is not a Spark setting; Spark settings start with spark."
                )
        return v


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
    limits: LimitsConfig = Field(default_factory=LimitsConfig)
    engine: Literal["pandas", "spark"] = Field(
        "pandas", description="where the stages run: pandas (one machine) or spark"
    )
    spark: SparkConfig = Field(default_factory=SparkConfig)
    base_dir: str = Field(
        ".", description="folder relative paths resolve against (set by the loader)"
    )
    # files met in folders given on the command line that are not read, with the reason
    _not_read: list[tuple[str, str]] = PrivateAttr(default_factory=list)

    @property
    def not_read(self) -> list[tuple[str, str]]:
        """(file, reason) for every file of a command-line folder that is not read.

        Kept out of the config's keys: a folder given on the command line becomes one source
        per file, and the files left out (hidden, lock files, no reader) must still be listed.
        """
        return self._not_read

    @field_validator("as_of")
    @classmethod
    def _as_of(cls, v: dt.date | None) -> dt.date | None:
        if v is not None and not dt.date(1900, 1, 1) <= v <= dt.date(2199, 12, 31):
            raise ValueError(f"as_of {v} is out of range; give a date between 1900 and 2199")
        return v

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


# A config is a small hand-written file: nothing in it needs anchors/aliases or deep nesting,
# and both are how a few hundred bytes of YAML expand to millions of items or blow the stack.
MAX_YAML_DEPTH = 50


class _ConfigLoader(yaml.SafeLoader):
    """SafeLoader that refuses aliases and nesting deeper than MAX_YAML_DEPTH."""

    _depth = 0

    def compose_node(self, parent: yaml.Node | None, index: object) -> yaml.Node | None:
        if self.check_event(yaml.AliasEvent):
            mark = self.peek_event().start_mark
            raise yaml.MarkedYAMLError(
                problem="YAML aliases (*name) are not allowed in a config; write the values out",
                problem_mark=mark,
            )
        self._depth += 1
        try:
            if self._depth > MAX_YAML_DEPTH:
                raise yaml.MarkedYAMLError(
                    problem=f"nested deeper than {MAX_YAML_DEPTH} levels",
                    problem_mark=self.peek_event().start_mark,
                )
            return super().compose_node(parent, index)
        finally:
            self._depth -= 1


def safe_yaml(text: str) -> Any:
    """Parse a config-like YAML text without aliases or deep nesting (raises yaml.YAMLError)."""
    return yaml.load(text, Loader=_ConfigLoader)


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
                node = _node_for(yaml.compose(text, Loader=_ConfigLoader), loc)
            except yaml.YAMLError:
                node = None
            if node is not None:
                line = f", line {node.start_mark.line + 1}"
        where = _loc_text(loc) or "(top level)"
        msg = err["msg"].removeprefix("Value error, ")
        if err["type"] == "extra_forbidden":
            msg = f"unknown key '{loc[-1]}'; check its spelling against configs/example.yaml"
        elif err["type"] == "missing":
            msg = "this key is required"
        more = f" (and {len(e.errors()) - 1} more)" if len(e.errors()) > 1 else ""
        raise ConfigError(f"{source}{line} ({where}): {msg}{more}.") from None


MAX_CONFIG_BYTES = 4 << 20  # configs are a few KB; a bigger one is not a config


def load_config(path: str | Path) -> PipelineConfig:
    """Load and validate a pipeline config file.

    Example:
        cfg = load_config("configs/example.yaml")
    """
    p = Path(path)
    try:
        st = p.stat()
        if not stat.S_ISREG(st.st_mode):  # a pipe or a device would be read forever
            kind = "a folder" if stat.S_ISDIR(st.st_mode) else "a device, pipe or socket"
            raise ConfigError(f"{p}: is {kind}, not a config file; give the path of a .yaml file.")
        if st.st_size > MAX_CONFIG_BYTES:
            raise ConfigError(
                f"{p}: {st.st_size // 2**20} MB is more than a config can be "
                f"({MAX_CONFIG_BYTES // 2**20} MB); is this the config you meant?"
            )
        text = p.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise ConfigError(f"{p}: config file not found.") from None
    except (OSError, UnicodeDecodeError) as e:
        raise InputError(f"{p}: could not read the config ({e}). Save it as UTF-8.") from None
    try:
        data = safe_yaml(text)
    except yaml.YAMLError as e:
        mark = getattr(e, "problem_mark", None)
        line = f", line {mark.line + 1}" if mark else ""
        problem = getattr(e, "problem", None) or str(e)
        raise ConfigError(f"{p}{line}: not valid YAML ({problem}).") from None
    if data is None:
        raise ConfigError(f"{p}: the config is empty; see configs/example.yaml.")
    return parse_config(data, source=str(p), text=text, base_dir=p.resolve().parent)


def business_timezone(cfg: PipelineConfig) -> tuple[str, str]:
    """(IANA zone, why) for periods, calendar days and date-only values.

    A quarter is the business's quarter: a deal closed at 00:30 on April 1 in Seoul belongs to
    Q2 for a Seoul business, whatever UTC says. Without kpis.timezone, the sources' own zone
    is used when every source that names one names the same one.
    """
    if cfg.kpis.timezone:
        return cfg.kpis.timezone, "kpis.timezone"
    named = sorted({s.timezone for s in cfg.sources if s.timezone})
    if len(named) == 1:
        return named[0], "the time zone every source names"
    why = "normalize.timezone"
    if len(named) > 1:
        why += f" (the sources name {len(named)} zones: {', '.join(named)}; set kpis.timezone)"
    return cfg.normalize.timezone, why


def with_business_timezone(cfg: PipelineConfig) -> PipelineConfig:
    """The config with kpis.timezone resolved, so every stage and run.json see one zone."""
    if cfg.kpis.timezone:
        return cfg
    zone, _ = business_timezone(cfg)
    return cfg.model_copy(update={"kpis": cfg.kpis.model_copy(update={"timezone": zone})})


def dump_config(cfg: PipelineConfig) -> dict[str, Any]:
    """The resolved config as plain JSON-able data, for run.json."""
    return cfg.model_dump(mode="json")
