"""Options, progress and summaries shared by the commands."""

from __future__ import annotations

import datetime as dt
import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import click

from audit.config import PipelineConfig, config_for_paths, load_config
from audit.errors import ConfigError
from audit.model import Progress, RunResult

F = TypeVar("F", bound=Callable[..., Any])

STAGES = ("sources", "normalize", "validate", "match", "score", "kpis", "report")


def output_options(f: F) -> F:
    """--out DIR and --format text|json."""
    f = click.option(
        "--format",
        "fmt",
        type=click.Choice(["text", "json"]),
        default="text",
        show_default=True,
        help="Summary on stdout as text, or as JSON for machines.",
    )(f)
    f = click.option(
        "--out",
        type=click.Path(file_okay=False, path_type=Path),
        default=None,
        help="Folder for run folders (default: output.dir of the config, or ./reports).",
    )(f)
    return f


def target_options(f: F) -> F:
    """TARGETS... (a config, or export files/folders) and --as-of."""
    f = click.option(
        "--as-of",
        type=click.DateTime(formats=["%Y-%m-%d"]),
        default=None,
        help="Reference date for freshness and KPIs (default: as_of of the config, or today).",
    )(f)
    f = click.argument(
        "targets",
        nargs=-1,
        required=True,
        type=click.Path(exists=True, path_type=Path),
    )(f)
    return f


def resolve_targets(targets: tuple[Path, ...], as_of: dt.datetime | None) -> PipelineConfig:
    """One YAML config, or export files and folders to audit with the defaults."""
    configs = [t for t in targets if t.suffix.lower() in (".yaml", ".yml")]
    if configs:
        if len(targets) > 1:
            raise ConfigError("give either one config file or export files/folders, not both.")
        cfg = load_config(configs[0])
        if as_of is not None:
            cfg = cfg.model_copy(update={"as_of": as_of.date()})
        return cfg
    return config_for_paths(list(targets), as_of=as_of.date() if as_of else None)


class StageProgress:
    """A progress bar over the pipeline stages, on stderr, only when stderr is a terminal."""

    def __init__(self) -> None:
        self.enabled = sys.stderr.isatty()
        self._bar: Any = None
        self._done = 0

    def __enter__(self) -> Progress:
        if self.enabled:
            self._bar = click.progressbar(
                length=len(STAGES),
                label="crm-audit",
                file=sys.stderr,
                item_show_func=lambda s: s or "",
                show_eta=False,
            )
            self._bar.__enter__()
        return self.update

    def update(self, stage: str) -> None:
        if self._bar is not None:
            if self._done:
                self._bar.update(1, stage)
            else:
                self._bar.update(0, stage)
            self._done += 1

    def __exit__(self, *exc: object) -> None:
        if self._bar is not None:
            self._bar.update(len(STAGES) - self._bar.pos)
            self._bar.__exit__(*exc)


def summary_data(result: RunResult) -> dict[str, Any]:
    """The machine-readable summary printed by --format json (keys documented in the README)."""
    sc = result.scorecard
    dims: dict[str, Any] = {}
    if not sc.by_dimension.empty and "dimension" in sc.by_dimension:
        for row in sc.by_dimension.to_dict("records"):
            dims[str(row["dimension"])] = {
                "score": _num(row.get("score")),
                "n_failed": int(row.get("n_failed", 0) or 0),
            }
    by_dim_issues = (
        result.issues.groupby("dimension", dropna=False).size().sort_index().to_dict()
        if len(result.issues)
        else {}
    )
    pairs = result.matches.pairs
    bands = pairs["band"].value_counts().sort_index().to_dict() if "band" in pairs else {}
    kpis = []
    if result.kpis is not None and len(result.kpis):
        kpis = [
            {
                "kpi_id": r["kpi_id"],
                "value": _num(r.get("value")),
                "unit": r.get("unit"),
                "status": r.get("status") or "ok",
            }
            for r in result.kpis.to_dict("records")
        ]
    n_records = {e: len(f) for e, f in sorted(result.records.items())}
    iss = result.issues
    not_read = []
    if len(iss):
        files = iss[iss["rule_id"].isin(["source.file.unreadable", "source.file.skipped"])]
        for r in files.sort_values(["rule_id", "value"]).to_dict("records"):
            kind = "unreadable" if r["rule_id"] == "source.file.unreadable" else "skipped"
            not_read.append({"file": r["value"], "kind": kind, "message": r["message"]})
    return {
        "run_id": result.run_id,
        "run_dir": str(result.run_dir) if result.run_dir else None,
        "as_of": result.as_of.isoformat(),
        "records": n_records,
        "score": _num(sc.overall),
        "dimensions": dims,
        "issues": {
            "total": len(result.issues),
            "by_dimension": {str(k): int(v) for k, v in by_dim_issues.items()},
        },
        "duplicates": {
            "pairs": {str(k): int(v) for k, v in bands.items()},
            "clusters": int(result.matches.clusters["cluster_id"].nunique())
            if "cluster_id" in result.matches.clusters
            else 0,
        },
        "gate": {
            "passed": result.verdict.passed,
            "reasons": list(result.verdict.reasons),
            "warnings": list(result.verdict.warnings),
            "withheld_kpis": dict(result.verdict.withheld_kpis),
            "quick_wins": list(result.verdict.quick_wins),
        },
        "kpis": kpis,
        "not_read": not_read,
    }


def _num(v: Any) -> float | None:
    try:
        f = float(v)
    except (TypeError, ValueError):
        return None
    return None if f != f else round(f, 4)


def echo_summary(result: RunResult, fmt: str) -> None:
    from audit.kpis.catalogue import format_value

    data = summary_data(result)
    if fmt == "json":
        click.echo(json.dumps(data, ensure_ascii=False, indent=2, sort_keys=True))
        return
    recs = ", ".join(f"{n} {e}" for e, n in data["records"].items()) or "no records"
    click.echo(f"crm-audit run {data['run_id']} (as of {data['as_of']})")
    click.echo(f"  records:     {recs}")
    # a file that could not be read must not go unnoticed behind exit 0
    for f in data["not_read"]:
        if f["kind"] == "unreadable":
            click.echo(f"  NOT READ:    {f['message']}")
    skipped = [f["file"] for f in data["not_read"] if f["kind"] == "skipped"]
    if skipped:
        shown = ", ".join(skipped[:5]) + (" ..." if len(skipped) > 5 else "")
        click.echo(f"  skipped:     {len(skipped)} file(s): {shown}")
    score = data["score"]
    click.echo(f"  quality:     {score:.1%}" if score is not None else "  quality:     n/a")
    for dim, d in data["dimensions"].items():
        s = f"{d['score']:.1%}" if d["score"] is not None else "n/a"
        click.echo(f"    {dim:<13} {s:>7}  ({d['n_failed']} failed checks)")
    click.echo(
        f"  issues:      {data['issues']['total']}"
        + "".join(f"  {k}={v}" for k, v in data["issues"]["by_dimension"].items())
    )
    dup = data["duplicates"]
    bands = ", ".join(f"{k}={v}" for k, v in dup["pairs"].items()) or "none"
    click.echo(f"  duplicates:  {dup['clusters']} clusters; pairs {bands}")
    gate = data["gate"]
    click.echo(f"  gate:        {'PASSED' if gate['passed'] else 'FAILED'}")
    for r in gate["reasons"]:
        click.echo(f"    - {r}")
    for k, why in gate["withheld_kpis"].items():
        click.echo(f"    withheld {k}: {why}")
    if not gate["passed"] and gate["quick_wins"]:
        click.echo("  quick wins:")
        for w in gate["quick_wins"]:
            click.echo(f"    - {w}")
    shown_kpis = [k for k in data["kpis"] if k["value"] is not None]
    if shown_kpis:
        click.echo("  kpis:")
        for k in shown_kpis:
            click.echo(f"    {k['kpi_id']:<30} {format_value(k['value'], k['unit'])}")
    missing = [k["kpi_id"] for k in data["kpis"] if k["value"] is None]
    if missing:
        click.echo(f"  no value:    {len(missing)} KPIs ({', '.join(missing)})")
    if data["run_dir"]:
        click.echo(f"  report:      {Path(data['run_dir']) / 'summary.html'}")
