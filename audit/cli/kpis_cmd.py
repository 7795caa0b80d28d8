"""`kpis`: compute and print the CRM KPIs of a config's data or of an existing run folder."""

from __future__ import annotations

import datetime as dt
import json
import math
from pathlib import Path
from typing import Any

import click

from audit.errors import EXIT_GATE_FAILED, ConfigError
from audit.kpis.catalogue import format_value


def _from_run_dir(
    run_dir: Path,
) -> tuple[Any, Any, dt.date, dict[str, str], list[str]]:
    from audit.config import KpiConfig
    from audit.kpis import clean_records
    from audit.model import Matches
    from audit.report.run_folder import load_run

    folder = load_run(run_dir)
    run = folder.run
    cfg = KpiConfig.model_validate((run.get("config") or {}).get("kpis") or {})
    verdict = run.get("verdict") or {}
    matches = Matches(pairs=folder.pairs, clusters=folder.clusters)
    clean, _ = clean_records(folder.records, folder.issues, matches)
    reasons = [] if verdict.get("passed", True) else list(verdict.get("reasons") or [])
    return (
        clean,
        cfg,
        dt.date.fromisoformat(run["as_of"]),
        dict(verdict.get("withheld_kpis") or {}),
        reasons,
    )


@click.command("kpis")
@click.argument("target", type=click.Path(exists=True, path_type=Path))
@click.option("--period", default=None, help="2026-Q1, 2026-03 or 2026 (default: the config's).")
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["text", "json"]),
    default="text",
    show_default=True,
    help="A table for people, or JSON for machines.",
)
def kpis(target: Path, period: str | None, fmt: str) -> None:
    """Compute the CRM KPIs of CONFIG (runs the audit first) or of a RUN_DIR.

    KPIs are computed on the cleaned view (trusted duplicates merged, invalid or stale emails
    left out). A KPI whose own inputs fail the quality thresholds is withheld; when the whole
    gate fails, every KPI is withheld and the exit code is 1.

    \b
    Examples:
        crm-audit kpis configs/example.yaml --period 2026-Q3
        crm-audit kpis reports/20261031T090512-1a2b3c --format json
    """
    import pandas as pd

    from audit.kpis import compute_kpis

    if target.is_dir():
        records, cfg, as_of, withheld, reasons = _from_run_dir(target)
    elif target.suffix.lower() in (".yaml", ".yml"):
        from audit import pipeline
        from audit.config import load_config
        from audit.kpis import clean_records

        full = load_config(target)
        result = pipeline.analyse(full)
        records, _ = clean_records(result.records, result.issues, result.matches)
        cfg, as_of = full.kpis, result.as_of
        withheld = dict(result.verdict.withheld_kpis)
        reasons = [] if result.verdict.passed else list(result.verdict.reasons)
    else:
        raise ConfigError(f"{target}: give a config (.yaml) or a run folder.")
    if period is not None:
        cfg = cfg.model_copy(update={"period": period})
    if reasons:
        from audit.kpis import selected

        why = f"quality gate failed: {reasons[0]}"
        withheld = {s.kpi_id: why for s in selected(cfg)}
    table = compute_kpis(records, cfg, as_of=as_of, withheld=withheld)
    if fmt == "json":
        rows = []
        for r in table.to_dict("records"):
            v = r["value"]
            rows.append(
                {
                    **{
                        k: r[k]
                        for k in ("kpi_id", "title", "period", "unit", "variant", "status", "note")
                    },
                    "value": None if v is None or (isinstance(v, float) and math.isnan(v)) else v,
                    "n": None if pd.isna(r["n"]) else int(r["n"]),
                }
            )
        doc = {"as_of": as_of.isoformat(), "gate_reasons": reasons, "kpis": rows}
        click.echo(json.dumps(doc, ensure_ascii=False, indent=2, sort_keys=True))
    else:
        label = table["period"].iloc[0] if len(table) else ""
        click.echo(f"KPIs for {label} (as of {as_of.isoformat()})")
        for r in table.to_dict("records"):
            shown = format_value(r["value"], r["unit"]) if r["status"] == "ok" else r["status"]
            extra = f"  [{r['variant']}]" if r["status"] == "ok" and r["variant"] else ""
            note = f"  ({r['note']})" if r["status"] != "ok" and r["note"] else ""
            click.echo(f"  {r['kpi_id']:<31} {shown:>14}{extra}{note}")
        for reason in reasons:
            click.echo(f"Gate failed: {reason}", err=True)
    if reasons:
        raise click.exceptions.Exit(EXIT_GATE_FAILED)


COMMANDS: list[click.Command] = [kpis]
