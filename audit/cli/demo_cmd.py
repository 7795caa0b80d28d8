"""`demo`: generate the messy demo workspace and run the whole pipeline on it."""

from __future__ import annotations

from pathlib import Path

import click

from audit.cli.common import StageProgress, echo_summary, output_options


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
    workdir: Path,
    size: int,
    seed: int,
    generate_only: bool,
    out: Path | None,
    fmt: str,
    show_progress: bool | None,
) -> None:
    """Generate a realistic messy CRM workspace and audit it: `crm-audit run` on demo data.

    The workspace holds the exports people really have (a HubSpot export, a Stripe export, an
    Excel workbook, a Korean Excel CSV in cp949, a Mailchimp 'cleaned' export, a Gmail mbox with
    bounces, Zendesk tickets, survey answers, ...), with duplicates, bad values and dead e-mail
    addresses planted in them. The ground truth is written to truth/ beside the data, and
    demo.yaml lets you rerun the audit. Same seed and size give byte-identical files.

    Exit code 0 when the demo ran, whatever the quality gate says: the raw demo data fails the
    gate on purpose (its problems are planted), and the command says why and how to make it
    pass. `crm-audit run DIR/demo.yaml` gives the gate's own exit code (0 passed, 1 failed).

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
    with StageProgress(show_progress, fmt) as progress:
        result = pipeline.run(cfg, out=out, progress=progress)
    echo_summary(result, fmt)
    if not result.verdict.passed:
        explain_failed_gate(result.run_dir, ws.truth_dir)


def explain_failed_gate(run_dir: Path | None, truth_dir: Path) -> None:
    """Tell a newcomer that the red gate is the point of the demo, and how to turn it green."""
    run = run_dir if run_dir is not None else Path("reports/<run>")
    click.echo(
        "\ndemo: the quality gate FAILED, as it should: the demo data has problems planted on "
        f"purpose (duplicates across exports, dead addresses, bad values; the truth is in "
        f"{truth_dir}). The reasons above say what fails. To see the gate pass, review the "
        f"merges in {run / 'merge_review.html'} (or write 'approve' in the decision column of "
        f"{run / 'merge_proposals.csv'}), then run:\n"
        f"  crm-audit merge apply {run} --decisions DECISIONS_FILE\n"
        f"  crm-audit run {run / 'merged' / 'config.merged.yaml'}\n"
        "(the demo exits 0 because it ran as intended; `crm-audit run` exits 1 on a failed gate)",
        err=True,
    )


COMMANDS: list[click.Command] = [demo]
