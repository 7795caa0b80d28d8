"""`audit` and `run`: the two jobs most users come for."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import click

from audit.cli.common import (
    StageProgress,
    echo_summary,
    output_options,
    resolve_targets,
    target_options,
)
from audit.errors import EXIT_GATE_FAILED


@click.command()
@target_options
@output_options
def audit(
    targets: tuple[Path, ...],
    as_of: dt.datetime | None,
    out: Path | None,
    fmt: str,
    show_progress: bool | None,
) -> None:
    """Audit a config's sources (or export files/folders) and write a run folder.

    Exits 0 whatever the quality: use `run` to gate on it.

    \b
    Examples:
        crm-audit audit configs/example.yaml
        crm-audit audit exports/hubspot.csv exports/stripe.csv --out /tmp/runs
    """
    from audit import pipeline

    cfg = resolve_targets(targets, as_of)
    with StageProgress(show_progress, fmt) as progress:
        result = pipeline.run(cfg, out=out, progress=progress)
    echo_summary(result, fmt)


@click.command("run")
@target_options
@output_options
@click.option("--strict", is_flag=True, help="Warnings fail the gate too.")
@click.option(
    "--engine",
    type=click.Choice(["pandas", "spark"]),
    default=None,
    help="Where the stages run (default: the config's engine, else pandas). spark needs "
    "the spark extra and Java; its session comes from the config's spark: block.",
)
def run_cmd(
    targets: tuple[Path, ...],
    as_of: dt.datetime | None,
    out: Path | None,
    fmt: str,
    show_progress: bool | None,
    strict: bool,
    engine: str | None,
) -> None:
    """Audit, gate on the quality thresholds, and compute KPIs when the gate passes.

    Exit code 0 when the gate passes, 1 when it fails: use it as the step before metrics
    in cron, Airflow, Dagster, GitHub Actions or a Makefile.

    The gate fails when the overall score is under thresholds.overall (default 0.8) or
    a measured dimension is under its floor (thresholds.dimensions) in any entity it checks.
    Default floors: completeness 0.8, validity 0.9, uniqueness 0.9, freshness 0.8,
    consistency 0.9, integrity 0.95; 0 or null switches one off. Scores are shares of rows
    with no failed check. A dimension no rule measured is n/a and not gated; with nothing
    measured at all the gate fails.

    \b
    Examples:
        crm-audit run configs/example.yaml && make publish-kpis
        crm-audit run configs/example.yaml --engine spark
    """
    from audit import pipeline

    cfg = resolve_targets(targets, as_of)
    if strict:
        cfg = cfg.model_copy(
            update={"thresholds": cfg.thresholds.model_copy(update={"strict": True})}
        )
    if engine is not None:
        cfg = cfg.model_copy(update={"engine": engine})
    with StageProgress(show_progress, fmt) as progress:
        result = pipeline.run(cfg, out=out, progress=progress)
    echo_summary(result, fmt)
    if not result.verdict.passed:
        raise click.exceptions.Exit(EXIT_GATE_FAILED)


COMMANDS = [audit, run_cmd]
