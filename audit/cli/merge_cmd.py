"""`merge apply` and `merge undo`: turn a reviewed merge report into golden records, reversibly."""

from __future__ import annotations

from pathlib import Path

import click


@click.group("merge")
def merge() -> None:
    """Apply the merges a reviewer approved, or undo them from the merge log.

    \b
    Workflow:
        crm-audit audit configs/my.yaml            # writes reports/<run>/merge_review.html
        (review it in a browser or in merge_proposals.xlsx, save the decisions)
        crm-audit merge apply reports/<run> --decisions decisions.json
        crm-audit run reports/<run>/merged/config.merged.yaml
        crm-audit merge undo reports/<run>/merged/merge_log.json
    """


@merge.command("apply")
@click.argument("run_dir", metavar="RUN", type=click.Path(file_okay=False, path_type=Path))
@click.option(
    "--decisions",
    "decisions",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Decisions: the JSON or CSV downloaded from merge_review.html, the edited "
    "merge_proposals.xlsx/.csv, or merge_proposals.parquet with its decision column filled "
    "(they are also kept in the decisions store for later runs); "
    "or 'store': the clusters that arrived approved from earlier decisions. Without it, only "
    "auto-band clusters merge, and only when match.apply_auto is true, and never a cluster "
    "holding two different personal emails.",
)
@click.option(
    "--out",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Output folder (default: RUN/merged).",
)
@click.option(
    "--rules",
    default=None,
    help="Survivorship rules name or YAML path (default: the run's, or "
    "survivorship/contacts.default).",
)
def apply_cmd(run_dir: Path, decisions: Path | None, out: Path | None, rules: str | None) -> None:
    """Write golden records for the approved clusters of RUN, and a merge log.

    The run folder is only read. The output folder gets contacts.csv (golden records in place
    of each merged cluster, all other records unchanged), merge_log.json and
    merge_originals.parquet (what `merge undo` needs: what merged, and the merged records'
    original rows) and config.merged.yaml (re-run the pipeline on the merged contacts).

    \b
    Example:
        crm-audit merge apply reports/20260131T090512-1a2b3c --decisions decisions.json
    """
    from audit.merge import apply_merge

    res = apply_merge(run_dir, decisions, out_dir=out, rules=rules)
    if res.recovered:
        click.echo(
            f"note: an earlier merge apply into {res.out_dir} was interrupted; {res.recovered}"
        )
    click.echo(
        f"merged {len(res.merged)} clusters: {res.n_before} -> {res.n_after} contacts "
        f"({len(res.skipped)} clusters not merged)"
    )
    reasons: dict[str, int] = {}
    for why in res.skipped.values():
        reasons[why] = reasons.get(why, 0) + 1
    for why, n in sorted(reasons.items()):
        click.echo(f"  not merged: {n} ({why})")
    rem = res.remembered
    if rem is not None and not rem.stored:
        click.echo("  not remembered: the decisions store could not be used (see the warning)")
    elif rem is not None and rem.known_run:
        click.echo(
            f"  remembered: {rem.approved} approved, {rem.rejected} rejected, {rem.split} split "
            f"clusters ({rem.pairs} pairs) for the next run"
        )
    elif rem is not None:
        click.echo("  not remembered: this run is not in the decisions store (history disabled)")
    click.echo(f"  contacts: {res.contacts}")
    click.echo(f"  log:      {res.log}")
    click.echo(f"  config:   {res.config}")


@merge.command("undo")
@click.argument("log", type=click.Path(dir_okay=False, path_type=Path))
@click.option(
    "--out",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Write the restored records here (default: over the merged contacts file).",
)
@click.option("--force", is_flag=True, help="Undo even if the merged file changed since.")
def undo_cmd(log: Path, out: Path | None, force: bool) -> None:
    """Restore the records exactly as they were before `merge apply`, from its merge log.

    \b
    Example:
        crm-audit merge undo reports/20260131T090512-1a2b3c/merged/merge_log.json
    """
    from audit.merge import undo_merge

    res = undo_merge(log, out=out, force=force)
    if res.already:
        click.echo(f"already undone: {res.restored} holds the pre-merge records")
        return
    state = "byte-identical to" if res.identical else "restored, but NOT identical to"
    click.echo(f"restored {res.n_rows} records to {res.restored} ({state} the pre-merge file)")


COMMANDS: list[click.Command] = [merge]
