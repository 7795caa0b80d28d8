"""`review status` and `review record`: the decisions store, seen from the terminal."""

from __future__ import annotations

import json
from pathlib import Path

import click


@click.group("review")
def review() -> None:
    """What reviewers decided, what waits for a decision, and what went stale.

    Decisions are kept in decisions.sqlite beside history.sqlite in the output folder, per
    record pair with a hash of what matched: a rejected pair is not proposed again until one
    of its records changes (then it is stale and proposed again); a cluster whose pairs were
    all approved arrives approved in the next run.

    \b
    Workflow:
        crm-audit audit configs/my.yaml                 # review reports/<run>/merge_review.html
        crm-audit review record reports/<run> merge_decisions.json
        crm-audit review status
    """


@review.command("status")
@click.argument(
    "where",
    required=False,
    default="reports",
    type=click.Path(path_type=Path),
)
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text")
def status_cmd(where: Path, fmt: str) -> None:
    """Pending, decided and stale decisions as of the latest run.

    WHERE is the output folder (default: reports), a run folder in it, or a decisions.sqlite.

    \b
    Example:
        crm-audit review status reports
    """
    from audit import review_store
    from audit.errors import ConfigError

    path = _store(where)
    if not path.is_file():
        raise ConfigError(
            f"{path}: no decisions store here; run an audit with history enabled first, "
            "or give the output folder that holds decisions.sqlite."
        )
    st = review_store.status(path)
    if fmt == "json":
        click.echo(json.dumps(st, indent=2, sort_keys=True))
        return
    click.echo(f"decisions store {st['store']}")
    dp, dc = st["decided_pairs"], st["decided_clusters"]
    click.echo(
        f"  decided:  {dc['approve']:,} clusters approved ({dp['approve']:,} pairs), "
        f"{dc['reject']:,} rejected ({dp['reject']:,} pairs)"
    )
    if st["latest_run"] is None:
        click.echo("  no run recorded yet")
        return
    click.echo(f"  latest run {st['latest_run']}:")
    click.echo(
        f"    pending:  {st['pending_records']:,} records in {st['pending_clusters']:,} "
        f"clusters await a decision: open {Path(st['run_dir']) / 'merge_review.html'}"
    )
    click.echo(f"    approved: {st['arrived_approved']:,} clusters arrived approved")
    click.echo(f"    held:     {st['rejected_pairs_held']:,} rejected pairs not proposed again")
    click.echo(
        f"    stale:    {st['stale_decisions']:,} decisions whose records changed (proposed again)"
    )


@review.command("record")
@click.argument("run_dir", metavar="RUN", type=click.Path(file_okay=False, path_type=Path))
@click.argument("decisions", type=click.Path(dir_okay=False, path_type=Path))
def record_cmd(run_dir: Path, decisions: Path) -> None:
    """Keep a reviewer's decisions on RUN in the store without merging anything.

    DECISIONS is the JSON or CSV downloaded from merge_review.html, or the edited
    merge_proposals.xlsx/.csv. (`merge apply --decisions FILE` records them too.)

    \b
    Example:
        crm-audit review record reports/20260131T090512-1a2b3c merge_decisions.json
    """
    from audit.errors import ConfigError, InputError
    from audit.merge.apply import remember_decisions
    from audit.merge.decisions import read_decisions, run_id_of
    from audit.merge.runfolder import read_run

    run = read_run(run_dir)
    made_for = run_id_of(decisions)
    if made_for and made_for != run.run_id:
        raise ConfigError(
            f"{decisions}: these decisions were made for run {made_for}, not {run.run_id}."
        )
    got = remember_decisions(run, read_decisions(decisions), source=decisions.name)
    if not got.stored:
        raise InputError(
            f"{decisions}: not remembered, the decisions store could not be used (see the "
            "warning above); fix or free it and record the decisions again."
        )
    if not got.known_run:
        raise ConfigError(
            f"{run_dir}: this run is not in its decisions store (was history disabled?); "
            "re-run the audit with history enabled."
        )
    click.echo(
        f"remembered {got.approved} approved, {got.rejected} rejected, {got.split} split "
        f"clusters ({got.pairs} pairs)"
        + (f"; {got.unknown_clusters} cluster ids not in this run" if got.unknown_clusters else "")
    )


def _store(where: Path) -> Path:
    from audit import review_store

    if where.suffix == ".sqlite":
        return where
    if (where / "run.json").is_file():
        return where.parent / review_store.FILE_NAME
    return where / review_store.FILE_NAME


COMMANDS: list[click.Command] = [review]
