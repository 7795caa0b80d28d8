"""`crm-audit sources inspect PATH...`: what each export looks like to the reader."""

from __future__ import annotations

import json
from pathlib import Path

import click

from audit.sources import inspect_paths


@click.group("sources")
def sources_group() -> None:
    """Look at export files before auditing them."""


@sources_group.command("inspect")
@click.argument("paths", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["text", "json"]),
    default="text",
    show_default=True,
    help="Human-readable text, or a JSON list (keys: see the README).",
)
@click.option("--encoding", default=None, help="Force a text encoding (cp949, cp932, ...).")
@click.option("--profile", default="auto", show_default=True, help="Export profile or 'none'.")
def inspect_cmd(paths: tuple[Path, ...], fmt: str, encoding: str | None, profile: str) -> None:
    """Show reader, detected profile and entity, encoding, delimiter, sheet, header row,
    rows read, column mapping, unmapped columns and warnings for each file.

    \b
    Example:
        crm-audit sources inspect exports/hubspot.csv exports/customers.xlsx
    """
    records = inspect_paths(list(paths), encoding=encoding, profile=profile)
    if fmt == "json":
        click.echo(json.dumps(records, ensure_ascii=False, indent=2, default=str))
        return
    for rec in records:
        mapping = rec.get("mapping") or {}
        built = bool(mapping) and all(k == v for k, v in mapping.items())
        by_reader = built and rec["reader"] in ("mbox", "eml", "emlx", "vcf")
        profile = rec["profile"] or (
            "(columns built by the reader)" if by_reader else "(generic mapping)"
        )
        click.echo(f"{rec['source_file']}")
        click.echo(f"  reader:     {rec['reader']}")
        click.echo(f"  profile:    {profile}  entity: {rec['entity']}")
        if rec.get("encoding") or rec.get("delimiter"):
            click.echo(f"  encoding:   {rec['encoding']}  delimiter: {rec['delimiter']!r}")
        if rec.get("sheet"):
            click.echo(f"  sheet:      {rec['sheet']}")
        if rec.get("header_row"):
            click.echo(f"  header row: {rec['header_row']}")
        click.echo(
            f"  rows read:  {rec['rows_read']} (ingested {rec['rows_ingested']}, "
            f"rejected {rec['rows_rejected']})"
        )
        if built:
            click.echo(f"  columns:    {', '.join(mapping)}")
        elif mapping:
            click.echo("  mapping:")
            for k, v in mapping.items():
                click.echo(f"    {k} -> {v}")
        if rec.get("unmapped"):
            click.echo(f"  unmapped (kept in extra): {', '.join(rec['unmapped'])}")
        for w in rec.get("warnings") or []:
            click.echo(f"  warning: {w}")


COMMANDS: list[click.Command] = [sources_group]
