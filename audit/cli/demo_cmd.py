"""`demo`: generate the messy demo workspace and run the whole pipeline on it."""

from __future__ import annotations

from pathlib import Path

import click

from audit.cli.common import StageProgress, echo_summary, output_options
from audit.errors import EXIT_GATE_FAILED


@click.command()
@click.option(
    "--dir",
    "workdir",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path("crm-audit-demo"),
    show_default=True,
    help="Folder for the workspace (data/, truth/, demo.yaml; runs in reports/).",
)
@click.option(
    "--size",
    type=click.IntRange(min=20),
    default=1000,
    show_default=True,
    help="Number of persons behind the exports (rows across files are a few times more).",
)
@click.option("--seed", type=int, default=7, show_default=True, help="Random seed.")
@click.option(
    "--generate-only", is_flag=True, help="Write the workspace and its ground truth, do not run."
)
@output_options
def demo(
    workdir: Path, size: int, seed: int, generate_only: bool, out: Path | None, fmt: str
) -> None:
    """Generate a realistic messy CRM workspace and audit it: `crm-audit run` on demo data.

    The workspace holds the exports people really have (a HubSpot export, a Stripe export, an
    Excel workbook, a Korean Excel CSV in cp949, a Mailchimp 'cleaned' export, a Gmail mbox with
    bounces, Zendesk tickets, survey answers, ...), with duplicates, bad values and dead e-mail
    addresses planted in them. The ground truth is written to truth/ beside the data, and
    demo.yaml lets you rerun the audit. Same seed and size give byte-identical files.

    Exit code 0 when the quality gate passes, 1 when it fails (the raw demo data is messy).

    \b
    Examples:
        crm-audit demo
        crm-audit demo --dir /tmp/demo --size 10000 --seed 1
        crm-audit run crm-audit-demo/demo.yaml
    """
    from audit import pipeline
    from audit.config import load_config
    from audit.demo import generate_workspace

    ws = generate_workspace(workdir, size=size, seed=seed)
    n_rows = sum(ws.n_rows.values())
    click.echo(
        f"demo workspace: {ws.root} ({ws.n_persons} persons, {n_rows} rows in "
        f"{len(ws.n_rows)} sources; ground truth in {ws.truth_dir}); "
        f"rerun with: crm-audit run {ws.config}",
        err=True,
    )
    if generate_only:
        click.echo(str(ws.config))
        return
    cfg = load_config(ws.config)
    with StageProgress() as progress:
        result = pipeline.run(cfg, out=out, progress=progress)
    echo_summary(result, fmt)
    if not result.verdict.passed:
        raise click.exceptions.Exit(EXIT_GATE_FAILED)


COMMANDS: list[click.Command] = [demo]
